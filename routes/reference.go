package routes

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/spec"
)

// Reference returns the Markdown reference of the configuration with the types and steps of cat:
// every section, transport, store, connector type and step, with each field's type, default and
// description. It is written from the same field descriptions as the schema and the checks.
func Reference(cat Catalog) string {
	var b strings.Builder
	b.WriteString(`# Configuration reference

<!-- Generated from the field descriptions in the code; do not edit by hand. -->

A configuration is one YAML file or a folder of them, read in name order. Connectors and routes
of all files are put together, and their names must be unique across files; ` + "`transport`, `store`" + `
and ` + "`ops`" + ` may each be set in one file only. An unknown key anywhere is an error, and every
problem is reported at once as ` + "`file:line:col: path.to.field: what is wrong`" + `.

Before the YAML is read, ` + "`${NAME}`" + ` is replaced by the value of the environment variable NAME (an
unset variable is an error) and ` + "`${NAME:-default}`" + ` by its value or, when it is unset or empty, by
default; ` + "`$$`" + ` stands for a literal ` + "`$`" + `. Lines that start with ` + "`#`" + ` are comments and are left as
they are. The JSON Schema that ` + "`aiskao schema`" + ` prints for editors accepts such a reference in place of
any number, boolean, duration, size or value from a list.

` + "`aiskao validate`" + ` checks a configuration as ` + "`aiskao serve`" + ` builds it, without starting anything: besides
the keys and values, the files that options name must exist and compile (JSON schemas, XSDs,
templates, certificates), and each connector must be able to be what the routes make it (a
source, a sink, called from a step).

Durations are written like ` + "`500ms`, `10s`, `5m`" + `; sizes as a number of bytes or with a unit, like
` + "`512KiB`, `10MiB`, `1GiB`" + `. Route and connector names use ` + nameRule + `.

## Top level

`)
	table(&b, reflect.TypeOf(fileShape{}))

	b.WriteString("\n## transport\n\n`type` names one of the transports below; the other keys are its options. Without a transport section the hub uses `{type: " + DefaultTransport + "}`.\n")
	typedSections(&b, cat.Transports, func(name string) (string, any, string) {
		f, _ := cat.Transports.Lookup(name)
		return f.Doc, f.Config, ""
	})

	b.WriteString("\n## store\n\n`type` names one of the stores below; the other keys are its options. Without a store section the hub uses `{type: " + DefaultStore + "}`.\n")
	typedSections(&b, cat.Stores, func(name string) (string, any, string) {
		f, _ := cat.Stores.Lookup(name)
		return f.Doc, f.Config, ""
	})

	b.WriteString("\n## ops\n\n")
	table(&b, reflect.TypeOf(Ops{}))

	b.WriteString("\n## web\n\n")
	table(&b, reflect.TypeOf(Web{}))

	b.WriteString("\n## connectors\n\nA mapping of connector names to connectors. `type` names one of the connector types below; the other keys are its options. A route reads from a connector that can be a source and delivers to connectors that can be sinks.\n")
	typedSections(&b, cat.Connectors, func(name string) (string, any, string) {
		f, _ := cat.Connectors.Lookup(name)
		var can []string
		if f.NewSource != nil {
			can = append(can, "a source")
		}
		if f.NewSink != nil {
			can = append(can, "a sink")
		}
		if f.NewCaller != nil {
			can = append(can, "called from a step (enrich)")
		}
		last := len(can) - 1
		text := can[last]
		if last > 0 {
			text = strings.Join(can[:last], ", ") + " and " + can[last]
		}
		return f.Doc, f.Config, "Can be " + text + "."
	})

	b.WriteString("\n## routes\n\nA list of routes. A message read from `from` goes through `steps` in order and is then delivered to every connector of `to`. A route without `to` must have a switch step whose cases deliver.\n\n")
	table(&b, reflect.TypeOf(routeShape{}))

	b.WriteString("\n## steps\n\nEach item of a route's `steps` is a mapping of one key, the step's name, to its options:\n\n```yaml\nsteps:\n  - xml_to_json: {}\n  - switch:\n      cases:\n        - when: { expr: \"meta.type == 'x'\" }\n          to: archive\n```\n")
	for _, name := range names(cat.Steps) {
		f, _ := cat.Steps.Lookup(name)
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", name, f.Doc)
		options(&b, f.Config)
	}
	fmt.Fprintf(&b, "\n### switch\n\n%s\n\n", switchDoc)
	table(&b, reflect.TypeOf(switchShape{}))
	return b.String()
}

// typedSections writes one subsection per registered type.
func typedSections[F any](b *strings.Builder, reg *registry.Registry[F], info func(name string) (doc string, zero any, note string)) {
	if len(names(reg)) == 0 {
		b.WriteString("\nNo type is registered.\n")
	}
	for _, name := range names(reg) {
		doc, zero, note := info(name)
		fmt.Fprintf(b, "\n### %s\n\n%s", name, doc)
		if note != "" {
			b.WriteString(" " + note)
		}
		b.WriteString("\n\n")
		options(b, zero)
	}
}

// options writes the table of a factory's options struct.
func options(b *strings.Builder, zero any) {
	if zero == nil || len(spec.Fields(reflect.TypeOf(zero))) == 0 {
		b.WriteString("No options.\n")
		return
	}
	table(b, reflect.TypeOf(zero))
}

// table writes the fields of struct type t as a Markdown table.
func table(b *strings.Builder, t reflect.Type) {
	b.WriteString("| Key | Type | Default | Description |\n|---|---|---|---|\n")
	for _, f := range spec.Fields(t) {
		desc := f.Doc
		var notes []string
		if f.Required {
			notes = append(notes, "Required.")
		}
		if len(f.Enum) > 0 {
			notes = append(notes, "One of: "+code(strings.Join(f.Enum, "`, `"))+".")
		}
		switch {
		case f.Min != "" && f.Max != "":
			notes = append(notes, fmt.Sprintf("From %s to %s.", f.Min, f.Max))
		case f.Min != "":
			notes = append(notes, fmt.Sprintf("At least %s.", f.Min))
		case f.Max != "":
			notes = append(notes, fmt.Sprintf("At most %s.", f.Max))
		}
		if f.Example != "" {
			notes = append(notes, "Example: "+code(f.Example)+".")
		}
		if len(notes) > 0 {
			desc += " " + strings.Join(notes, " ")
		}
		def := ""
		if f.Default != "" {
			def = code(f.Default)
		}
		typ := f.Type
		if l, ok := nodeTypes[lastKey(f.Key)]; ok && strings.HasSuffix(typ, "any") {
			typ = l // a section the loader keeps as YAML and decodes itself
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", f.Key, typ, cell(def), cell(desc))
	}
}

// nodeTypes names the types of the sections that the loader's structs keep as YAML nodes.
var nodeTypes = map[string]string{
	"transport":  "object",
	"store":      "object",
	"connectors": "map of connector",
	"routes":     "list of route",
	"steps":      "list of step",
	"to":         "string or list of string",
}

// lastKey returns the last key of a dotted key: "to" of "cases[].to".
func lastKey(key string) string {
	return key[strings.LastIndex(key, ".")+1:]
}

func code(s string) string { return "`" + s + "`" }

// cell escapes what would end a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
