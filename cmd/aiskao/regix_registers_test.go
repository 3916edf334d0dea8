package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/regix/regixtest"
)

// TestRegixCheckAddedRegisters: `aiskao regix check` on the samples of the registers added after
// the first four: each is recognised and valid, but for the published samples that break their
// schema, which are reported as invalid by element and line, with exit code 1.
func TestRegixCheckAddedRegisters(t *testing.T) {
	var files []string
	for _, reg := range []string{"grao-br", "grao-civil-status", "av-bulstat2", "mvr-mps", "nra-obligated-persons", "property-reg"} {
		f, err := filepath.Glob(filepath.Join("../../regix/registers", reg, "*.xml"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f...)
	}
	if len(files) != 42 {
		t.Fatalf("%d samples, want 42 (21 requests, 21 responses)", len(files))
	}
	invalid := map[string]regixtest.InvalidSample{}
	for _, s := range regixtest.PublishedInvalid() {
		invalid[s.File] = s
	}
	for _, f := range files {
		name := filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f)))
		t.Run(name, func(t *testing.T) {
			out, code := cli(t, "regix", "check", f)
			if !strings.Contains(out, "operation: TechnoLogica.RegiX.") {
				t.Errorf("output does not name the operation:\n%s", out)
			}
			s, bad := invalid[name]
			if !bad {
				if code != 0 || !strings.Contains(out, "\nvalid\n") {
					t.Errorf("exit %d, want 0 and valid:\n%s", code, out)
				}
				return
			}
			want := "\n  line 1: " + s.Path + ": "
			if code != 1 || !strings.Contains(out, "invalid: 1 problem(s)") || !strings.Contains(out, want) || !strings.Contains(out, "invalid UTF-8 [syntax]") {
				t.Errorf("exit %d, want 1 and the problem at %q:\n%s", code, want, out)
			}
		})
	}
}
