package xsdstep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/xsd"
	"github.com/aiskao/aiskao/transforms"
)

func step(t *testing.T, o *Options) transforms.Step {
	t.Helper()
	s, err := New(o, transforms.Env{BaseDir: "testdata"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func apply(t *testing.T, s transforms.Step, payload []byte) error {
	t.Helper()
	m := transforms.NewMessage("m1", nil, payload)
	return s.Apply(context.Background(), m)
}

func TestBuiltinESOED(t *testing.T) {
	s := step(t, &Options{Builtin: "esoed"})
	for _, tc := range []struct {
		file string
		want []string // fragments of the error; none for a valid sample
	}{
		{"registration-request.xml", nil},
		{"status-request.xml", nil},
		{"status-response.xml", nil},
		{"error.xml", nil},
		{"schema-violation.xml", nil},
		{"no-guid.xml", []string{"xsd: /Message/Header (line ", "MessageGUID"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("../../testdata/esoed", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			err = apply(t, s, b)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("valid, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSchemaFileWithCatalog(t *testing.T) {
	s := step(t, &Options{Schema: "schemas/order.xsd", Catalog: map[string]string{"urn:example:party": "common/party.xsd"}})
	doc := func(num, party string) []byte {
		return fmt.Appendf(nil, "<Order xmlns=\"urn:example:order\" xmlns:p=\"urn:example:party\">\n<Number>%s</Number>\n<p:Party>%s</p:Party>\n</Order>", num, party)
	}
	for _, tc := range []struct {
		name, num, party, want string
	}{
		{"valid", "12", "000696327", ""},
		{"pattern", "12", "ABC", "xsd: /Order/Party (line 3): pattern: "},
		{"two problems", "-1", "ABC", "xsd: /Order/Number (line 2): "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := apply(t, s, doc(tc.num, tc.party))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q…", err, tc.want)
			}
		})
	}
	if err := apply(t, s, []byte("not XML")); err == nil || !strings.HasPrefix(err.Error(), "xsd: ") {
		t.Errorf("not XML: got %v", err)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"nothing", Options{}, "set schema (a file) or builtin"},
		{"both", Options{Schema: "schemas/order.xsd", Builtin: "esoed"}, "not both"},
		{"catalog with builtin", Options{Builtin: "esoed", Catalog: map[string]string{"a": "b"}}, "catalog goes with schema"},
		{"unknown builtin", Options{Builtin: "regix"}, `builtin: must be one of esoed; got "regix"`},
		{"missing file", Options{Schema: "schemas/none.xsd"}, "none.xsd"},
		{"missing catalog file", Options{Schema: "schemas/order.xsd", Catalog: map[string]string{"urn:example:party": "party.xsd"}}, "party.xsd"},
		{"import unresolved", Options{Schema: "schemas/order.xsd"}, "urn:example:party"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(&tc.o, transforms.Env{BaseDir: "testdata"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestErrorListsAtMost20(t *testing.T) {
	e := &Error{}
	for i := range 25 {
		e.Problems = append(e.Problems, xsd.Problem{Path: "/a", Line: i + 1, Rule: "pattern", Message: "bad"})
	}
	msg := e.Error()
	if n := strings.Count(msg, "(line "); n != 20 || !strings.HasSuffix(msg, "; and 5 more") {
		t.Errorf("%d problems listed in %q", n, msg)
	}
	var target *Error
	if !errors.As(fmt.Errorf("step: %w", e), &target) {
		t.Error("Error does not unwrap")
	}
}

// TestCompileErrorNamesFilesFromBaseDir checks that a schema that does not compile is reported
// with file names as the options write them.
func TestCompileErrorNamesFilesFromBaseDir(t *testing.T) {
	_, err := New(&Options{Schema: "../../../internal/xsd/testdata/esoed/EGovMessaging.xsd"}, transforms.Env{BaseDir: "testdata"})
	if err == nil || !strings.Contains(err.Error(), "../../../internal/xsd/testdata/esoed/EGovMessaging.xsd:") {
		t.Fatalf("got %v", err)
	}
}
