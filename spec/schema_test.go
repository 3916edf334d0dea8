package spec_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/spec"
)

func TestSchema(t *testing.T) {
	s := spec.Schema(reflect.TypeOf(config{}))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`"additionalProperties":false`,
		`"required":["listen"]`,
		`"mode":{"default":"a","description":"Mode.","enum":["a","b"],"type":"string"}`,
		`"ratio":{"default":0.5,"description":"Ratio.","maximum":1,"type":"number"}`,
		`"flag":{"default":true,"description":"Flag.","type":"boolean"}`,
		`"tags":{"description":"Tags.","items":{"type":"string"},"minItems":1,"type":"array"}`,
		`"labels":{"additionalProperties":{"type":"string"},"description":"Labels.","type":"object"}`,
		`"count":{"default":2,"description":"A count.","maximum":5,"minimum":1,"type":"integer"}`,
		`"raw":{"description":"Kept raw."}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("schema lacks %s\nin %s", want, got)
		}
	}
}

func TestSchemaHook(t *testing.T) {
	s := spec.SchemaWith(reflect.TypeOf(config{}), func(f reflect.StructField) map[string]any {
		if f.Name == "Raw" {
			return map[string]any{"$ref": "#/$defs/raw"}
		}
		return nil
	})
	raw := s["properties"].(map[string]any)["raw"].(map[string]any)
	if raw["$ref"] != "#/$defs/raw" || raw["description"] != "Kept raw." {
		t.Errorf("raw = %v, want the hook's schema with the field's description", raw)
	}
}

func TestFieldsAndMissingDocs(t *testing.T) {
	var keys []string
	for _, f := range spec.Fields(reflect.TypeOf(&config{})) {
		keys = append(keys, f.Key+":"+f.Type)
	}
	got := strings.Join(keys, " ")
	want := "listen:string mode:string on:boolean ratio:number small:integer wait:duration size:size " +
		"tags:list of string labels:map of string inner:object inner.name:string inner.count:integer " +
		"items:list of object items[].name:string items[].count:integer opt:object opt.name:string opt.count:integer " +
		"flag:boolean limit:integer free:any raw:any"
	if got != want {
		t.Errorf("Fields:\n got %s\nwant %s", got, want)
	}
	type undocumented struct {
		A string `yaml:"a" doc:"Documented."`
		B struct {
			C int `yaml:"c"`
		} `yaml:"b" doc:"Documented."`
		D []struct {
			E int `yaml:"e"`
		} `yaml:"d"`
	}
	if got := strings.Join(spec.MissingDocs(reflect.TypeOf(undocumented{})), " "); got != "b.c d d[].e" {
		t.Errorf("MissingDocs = %q", got)
	}
}
