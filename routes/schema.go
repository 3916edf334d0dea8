package routes

import (
	"encoding/json"
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/transport"
)

// Schema returns the JSON Schema (draft 2020-12) of a whole configuration with the types and
// steps of cat, indented. It is derived from the same field descriptions that Parse checks
// against, so an editor that knows it completes and checks what the loader accepts.
func Schema(cat Catalog) ([]byte, error) {
	root := schemaOf(cat)
	acceptEnvRefs(root, false)
	root["$defs"].(map[string]any)["env"] = map[string]any{
		"type":        "string",
		"pattern":     envRefPattern,
		"description": "A value given by the environment when the hub loads the file: ${NAME}, or ${NAME:-default} when NAME may be unset or empty.",
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("routes: schema: %w", err)
	}
	return append(b, '\n'), nil
}

var nodePtrType = reflect.TypeOf((*yaml.Node)(nil))

// schemaOf builds the schema as a value. Steps and "to" are shared definitions, since a switch
// holds steps of its own.
func schemaOf(cat Catalog) map[string]any {
	// hook gives the shape of the sections kept as nodes by the loader's own structs.
	var hook spec.SchemaHook
	hook = func(f reflect.StructField) map[string]any {
		switch {
		case f.Name == "Transport" && f.Type == nodePtrType:
			return oneOfTyped(cat.Transports, func(f transport.Factory) (string, any) { return f.Doc, f.Config })
		case f.Name == "Store" && f.Type == nodePtrType:
			return oneOfTyped(cat.Stores, func(f store.Factory) (string, any) { return f.Doc, f.Config })
		case f.Name == "Connectors" && f.Type == nodePtrType:
			return map[string]any{
				"type":                 "object",
				"propertyNames":        map[string]any{"pattern": namePattern.String()},
				"additionalProperties": oneOfTyped(cat.Connectors, func(f connectors.Factory) (string, any) { return f.Doc, f.Config }),
			}
		case f.Name == "Routes" && f.Type == reflect.TypeOf([]yaml.Node{}):
			route := spec.SchemaWith(reflect.TypeOf(routeShape{}), hook)
			props := route["properties"].(map[string]any)
			name := props["name"].(map[string]any)
			name["pattern"] = namePattern.String()
			return map[string]any{"type": "array", "items": route}
		case f.Name == "Steps" && f.Type == reflect.TypeOf([]yaml.Node{}):
			return map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/step"}}
		case f.Name == "To" && f.Type == nodePtrType:
			return map[string]any{"$ref": "#/$defs/to"}
		}
		return nil
	}
	var steps []any
	for _, name := range names(cat.Steps) {
		f, _ := cat.Steps.Lookup(name)
		opts := optionsSchema(f.Config)
		opts["description"] = f.Doc
		steps = append(steps, singleKey(name, map[string]any{"anyOf": []any{opts, map[string]any{"type": "null"}}}))
	}
	sw := spec.SchemaWith(reflect.TypeOf(switchShape{}), hook)
	sw["description"] = switchDoc
	steps = append(steps, singleKey("switch", sw))

	root := spec.SchemaWith(reflect.TypeOf(fileShape{}), hook)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "АИСКАО hub configuration"
	root["$defs"] = map[string]any{
		"step": map[string]any{"description": "One step: a mapping of the step's name to its options.", "oneOf": steps},
		"to": map[string]any{
			"description": "A connector name or a list of them.",
			"oneOf": []any{
				map[string]any{"type": "string"},
				map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			},
		},
	}
	return root
}

// envRefPattern matches a value holding ${NAME} or ${NAME:-default}, which the loader replaces
// before it reads the YAML (expandEnv), so that any value may come from the environment.
const envRefPattern = `\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`

// annotations are the keywords that describe a value rather than constrain it; they stay on the
// outside when a schema is wrapped.
var annotations = []string{"description", "default", "examples", "title"}

// acceptEnvRefs lets every scalar whose schema constrains it beyond a plain string (numbers,
// booleans, durations, sizes, enums, names) be written as a string with an environment
// reference instead, as the loader accepts it: s becomes {anyOf: [s, #/$defs/env]} when wrap is
// set. The alternatives of a oneOf and the definitions are not wrapped themselves (the value that
// holds or refers to them is), nor are type names (const), which select the options, nor the
// names of keys.
func acceptEnvRefs(s map[string]any, wrap bool) {
	for _, k := range []string{"additionalProperties", "items"} {
		if sub, ok := s[k].(map[string]any); ok {
			acceptEnvRefs(sub, true)
		}
	}
	for k, w := range map[string]bool{"properties": true, "$defs": false} {
		if m, ok := s[k].(map[string]any); ok {
			for _, v := range m {
				if sub, ok := v.(map[string]any); ok {
					acceptEnvRefs(sub, w)
				}
			}
		}
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if list, ok := s[k].([]any); ok {
			for _, v := range list {
				if sub, ok := v.(map[string]any); ok {
					acceptEnvRefs(sub, false)
				}
			}
		}
	}
	if _, isConst := s["const"]; isConst || !wrap || !constrained(s) {
		return
	}
	inner := make(map[string]any, len(s))
	for k, v := range s {
		inner[k] = v
		delete(s, k)
	}
	for _, k := range annotations {
		if v, ok := inner[k]; ok {
			s[k] = v
			delete(inner, k)
		}
	}
	s["anyOf"] = []any{inner, map[string]any{"$ref": "#/$defs/env"}}
}

// constrained reports whether s is the schema of a scalar that refuses some string holding an
// environment reference: a number, a boolean, a string with a pattern or an enum. Lists and
// mappings keep their shape, so that an editor's messages about them stay readable.
func constrained(s map[string]any) bool {
	switch t := s["type"].(type) {
	case string:
		switch t {
		case "integer", "number", "boolean":
			return true
		case "string":
			return s["pattern"] != nil || s["enum"] != nil
		}
	case []any: // a byte size: an integer or a string with a unit
		return true
	case nil:
		return s["enum"] != nil
	}
	return false
}

// switchDoc describes the switch step in the schema and the reference.
const switchDoc = "Sends the message down the first case whose condition holds, through the case's own steps to its own sinks; without a match the default branch does, and without a default the message goes on after the switch. A case without to goes on after the switch too."

func singleKey(name string, s map[string]any) map[string]any {
	return map[string]any{
		"type":                 "object",
		"properties":           map[string]any{name: s},
		"required":             []any{name},
		"additionalProperties": false,
	}
}

// optionsSchema is the schema of a factory's options struct; zero is a pointer to it or nil.
func optionsSchema(zero any) map[string]any {
	if zero == nil {
		return map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false}
	}
	return spec.Schema(reflect.TypeOf(zero))
}

// oneOfTyped is the schema of a {type: ..., options...} section: one alternative per registered
// type, each with its own options.
func oneOfTyped[F any](reg *registry.Registry[F], info func(F) (doc string, zero any)) map[string]any {
	var alts []any
	for _, name := range names(reg) {
		f, _ := reg.Lookup(name)
		doc, zero := info(f)
		s := optionsSchema(zero)
		props := map[string]any{}
		for k, v := range s["properties"].(map[string]any) {
			props[k] = v
		}
		props["type"] = map[string]any{"const": name, "description": doc}
		s["properties"] = props
		req := []any{"type"}
		if r, ok := s["required"].([]any); ok {
			req = append(req, r...)
		}
		s["required"] = req
		alts = append(alts, s)
	}
	if len(alts) == 0 {
		return map[string]any{"not": map[string]any{}, "description": "No type is registered."}
	}
	return map[string]any{"oneOf": alts}
}
