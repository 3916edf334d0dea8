package routes_test

import (
	"flag"
	"os"
	"reflect"
	"testing"

	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the file, or rewrites the file with -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./routes -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date; run go test ./routes -update and review the difference", file)
	}
}

func TestReferenceGolden(t *testing.T) {
	golden(t, "testdata/reference.golden.md", routes.Reference(testCatalog()))
}

// TestFieldsHaveDocs fails when a field of the configuration, or of the options of a type or step
// in the catalog, lacks a doc tag: the reference and the schema would have a hole there.
func TestFieldsHaveDocs(t *testing.T) {
	checkDocs(t, testCatalog())
}

func checkDocs(t *testing.T, cat routes.Catalog) {
	t.Helper()
	check := func(what string, zero any) {
		if zero == nil {
			return
		}
		for _, key := range spec.MissingDocs(reflect.TypeOf(zero)) {
			t.Errorf("%s: field %s has no doc tag", what, key)
		}
	}
	check("configuration", routes.Ops{})
	check("configuration", routes.OnError{})
	check("configuration", routes.Condition{})
	for _, name := range cat.Connectors.Names() {
		f, _ := cat.Connectors.Lookup(name)
		check("connector type "+name, f.Config)
		if f.Doc == "" {
			t.Errorf("connector type %s has no Doc", name)
		}
	}
	for _, name := range cat.Steps.Names() {
		f, _ := cat.Steps.Lookup(name)
		check("step "+name, f.Config)
		if f.Doc == "" {
			t.Errorf("step %s has no Doc", name)
		}
	}
	for _, name := range cat.Transports.Names() {
		f, _ := cat.Transports.Lookup(name)
		check("transport type "+name, f.Config)
	}
	for _, name := range cat.Stores.Names() {
		f, _ := cat.Stores.Lookup(name)
		check("store type "+name, f.Config)
	}
}
