package all

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

// Every step is registered, documented, and describes each option with the tags the configuration
// schema and reference are made from.
func TestRegistered(t *testing.T) {
	want := []string{"enrich", "esoed_status", "filter", "json_schema", "json_to_xml", "log", "set", "split", "xml_template", "xml_to_json", "xpath"}
	names := transforms.Default.Names()
	for _, n := range want {
		if !slices.Contains(names, n) {
			t.Errorf("step %q is not registered", n)
		}
	}
	for _, n := range want {
		f, _ := transforms.Default.Lookup(n)
		if f.Doc == "" || f.New == nil {
			t.Errorf("%s: Doc or New missing", n)
		}
		typ := reflect.TypeOf(f.Config)
		if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
			t.Errorf("%s: Config is %v, want a pointer to a struct", n, typ)
			continue
		}
		for i := range typ.Elem().NumField() {
			fld := typ.Elem().Field(i)
			if fld.Tag.Get("yaml") == "" || fld.Tag.Get("doc") == "" {
				t.Errorf("%s: option %s lacks a yaml or doc tag", n, fld.Name)
			}
		}
	}
}

// Options decoded from YAML by the configuration loader, defaults applied, make working steps; bad
// options are reported at their field.
func TestDecodedOptions(t *testing.T) {
	tests := []struct {
		step, yaml string
		wantErr    string
	}{
		{step: "xpath", yaml: "namespaces: {m: urn:m}\nfields: {subject: //m:DocNumber}\nrequired: [subject]"},
		{step: "xpath", yaml: "fields: {subject: //m:DocNumber}", wantErr: `route.yaml:1:19: steps[0].xpath.fields.subject: invalid XPath "//m:DocNumber": prefix "m" is not declared in namespaces`},
		{step: "xpath", yaml: "fields: {a: /a}\ninto: xml", wantErr: `route.yaml:2:7: steps[0].xpath.into: must be one of metadata, json; got "xml"`},
		{step: "xml_to_json", yaml: "arrays: [Message.Body.Items.Item]"},
		{step: "json_to_xml", yaml: "root: Application"},
		{step: "xml_template", yaml: "template: '<a>{{.meta.subject}}</a>'"},
		{step: "split", yaml: "path: Message.Items.Item"},
		{step: "json_schema", yaml: "inline: {type: object, properties: {fee: {type: integer, maximum: 100}}}"},
		{step: "set", yaml: "metadata: {subject: body.number}\nfields: {seen: 'true'}"},
		{step: "filter", yaml: "expr: meta.type == 'esoed.X'"},
		{step: "log", yaml: "keys: [subject]"},
		{step: "enrich", yaml: "connector: registers\noperation: PersonDataSearch\nparameters: {EGN: body.egn}\ncontext: {law_reason: '\"чл. 13\"'}\ninto: person"},
		{step: "enrich", yaml: "connector: registers\noperation: X\nparameters: {EGN: body.}\ninto: a..b", wantErr: "route.yaml:3:19: steps[0].enrich.parameters.EGN: invalid expression"},
		{step: "esoed_status", yaml: "status: DS_REGISTERED\nnumber: 'ПД-{{.number}}'\nexpect_close_days: 14\ndelay: 2s"},
		{step: "esoed_status", yaml: "status: DS_DONE", wantErr: "route.yaml:1:9: steps[0].esoed_status.status: must be one of "},
		{step: "esoed_status", yaml: "status: DS_REJECTED", wantErr: "route.yaml:1:1: steps[0].esoed_status.rejection_reason: required with DS_REJECTED"},
		{step: "log", yaml: "level: loud", wantErr: "route.yaml:1:8: steps[0].log.level: "},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			f, _ := transforms.Default.Lookup(tt.step)
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
				t.Fatal(err)
			}
			opts := reflect.New(reflect.TypeOf(f.Config).Elem()).Interface()
			errs := spec.Decode("route.yaml", n.Content[0], "steps[0]."+tt.step, opts)
			if tt.wantErr != "" {
				if len(errs) == 0 || !strings.HasPrefix(errs.Error(), tt.wantErr) {
					t.Fatalf("errors = %v\nwant %s", errs, tt.wantErr)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if _, err := f.New(opts, transforms.Env{BaseDir: "."}); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestSchemaAndDocs(t *testing.T) {
	for _, n := range transforms.Default.Names() {
		f, _ := transforms.Default.Lookup(n)
		typ := reflect.TypeOf(f.Config)
		if missing := spec.MissingDocs(typ); len(missing) > 0 {
			t.Errorf("%s: options without doc: %v", n, missing)
		}
		if s := spec.Schema(typ); s["type"] != "object" {
			t.Errorf("%s: schema %v", n, s)
		}
	}
}
