package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// projectPatterns are the patterns of the project's schemas, each with whether the matcher takes
// it to its automaton. TestMatcherProjectPatterns keeps the list complete.
var projectPatterns = map[string]bool{
	// configs/schemas/esoed-message.json
	`^[A-Za-z0-9+/\s]*(=\s*){0,2}$`: true, // AttBody, base64 of up to hundreds of kilobytes
	`^[0-9]{9}([0-9]{4})?$`:         true, // ЕИК or БУЛСТАТ
	`^\{[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\}$`:               true,
	`^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$`: true,
	`^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$`:                                       true,
	`\S`:                                   true,
	`^@`:                                   true, // patternProperties: attributes of the XML, as the converter names them
	`^[A-Za-z_][A-Za-z0-9_.-]*:Signature$`: true,
	// configs/demo.yaml and configs/rabbitmq-postgres.yaml, inline: ЕГН and ЕИК.
	`^[0-9]{10}$`:            true,
	`^([0-9]{9}|[0-9]{13})$`: true,
	// transforms/schema/testdata
	`^MSG_[A-Za-z]+$`: true,
	`^\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\}$`: true,
	`^[0-9]{9,13}$`: true,
	// routes/testdata/schemas
	`^\{[0-9a-fA-F-]{36}\}$`: true,
}

// TestMatcherProjectPatterns: every pattern of the project's schemas is listed in projectPatterns,
// and takes the path listed there, so that a pattern falling back to the regexp is seen.
func TestMatcherProjectPatterns(t *testing.T) {
	found := map[string][]string{} // pattern: files
	files, err := filepath.Glob("../../configs/schemas/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, glob := range []string{"testdata/*.json", "../../routes/testdata/schemas/*.json"} {
		more, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, more...)
	}
	configs, err := filepath.Glob("../../configs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(files, configs...) {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if strings.HasSuffix(name, ".yaml") {
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, inline := range inlineSchemas(doc) {
				schemaPatterns(inline, func(p string) { found[p] = append(found[p], name) })
			}
			continue
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			continue // testdata holds a schema that is not JSON on purpose
		}
		schemaPatterns(doc, func(p string) { found[p] = append(found[p], name) })
	}
	if len(found) < 10 {
		t.Fatalf("%d patterns found in the project's schemas; the files moved?", len(found))
	}
	for p, files := range found {
		if _, ok := projectPatterns[p]; !ok {
			t.Errorf("%q (%s) is not in projectPatterns: add it, with the path it takes", p, strings.Join(slices.Compact(files), ", "))
		}
	}
	for p, want := range projectPatterns {
		if found[p] == nil {
			t.Errorf("%q is in no schema any more: remove it from projectPatterns", p)
		}
		if _, fast := matcher(regexp.MustCompile(p)); fast != want {
			t.Errorf("%q: fast path %v, want %v", p, fast, want)
		}
	}
}

// inlineSchemas are the schemas written inline in json_schema steps of a configuration.
func inlineSchemas(v any) []any {
	var out []any
	switch v := v.(type) {
	case map[string]any:
		if step, ok := v["json_schema"].(map[string]any); ok && step["inline"] != nil {
			out = append(out, step["inline"])
		}
		for _, sub := range v {
			out = append(out, inlineSchemas(sub)...)
		}
	case []any:
		for _, sub := range v {
			out = append(out, inlineSchemas(sub)...)
		}
	}
	return out
}

// schemaPatterns calls found with every pattern and patternProperties name in a schema.
func schemaPatterns(v any, found func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			switch p := sub.(type) {
			case string:
				if k == "pattern" {
					found(p)
				}
			case map[string]any:
				if k == "patternProperties" {
					for name := range p {
						found(name)
					}
				}
			}
			schemaPatterns(sub, found)
		}
	case []any:
		for _, sub := range v {
			schemaPatterns(sub, found)
		}
	}
}

// FuzzMatcher takes a pattern and a string: whenever the matcher takes the pattern to its
// automaton, its answer must be the regexp's, on the string, on its prefixes and suffixes, and on
// the string repeated past the length where the regexp leaves its backtracker for its NFA.
func FuzzMatcher(f *testing.F) {
	inputs := []string{"", "a", "\xff", "é\n", "0006963271234", "QUJDRA==", "{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c}",
		"2024-03-19T10:11:12.345+02:00", "\u212a", "ſ"}
	seeds := []string{`^a`, `a|^b`, `$^`, `(?i)k`, `(?i)straße`, `^.$`, `\x{FFFD}`, `^(a|ab)(c|bcd)(d*)$`, `a{3,5}`,
		`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`, `\pL+`, `(?s).`, `\z`}
	for p := range projectPatterns {
		seeds = append(seeds, p)
	}
	slices.Sort(seeds) // the map's order is not the same twice
	for i, p := range seeds {
		f.Add(p, inputs[i%len(inputs)])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		match, fast := matcher(re)
		if !fast {
			return
		}
		check := func(in string) {
			if got, want := match(in), re.MatchString(in); got != want {
				t.Fatalf("%q on %q: %v, the regexp says %v", pattern, in, got, want)
			}
		}
		check(s)
		for i := 1; i < len(s) && i <= 64; i++ {
			check(s[:i])
			check(s[len(s)-i:])
		}
		if s != "" {
			check(strings.Repeat(s, 1+backtrackLen(pattern)/len(s)))
		}
	})
}

// backtrackLen is the length of input past which regexp leaves its backtracker for its NFA
// (maxBitStateLen: 256 Kbit of visited marks over the program's instructions).
func backtrackLen(pattern string) int {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return 256 * 1024 / len(prog.Inst)
}

// The matcher answers as the regexp does on the patterns of the project's schemas, on values
// they are written for and on values just beside them.
func TestMatcherAgreesOnProjectPatterns(t *testing.T) {
	inputs := []string{"", " ", "=", "QUJD", "QUJDRA==", "QUJD\r\nRA==\n", "QUJD=RA==", "QUJD===", "QUJDRA=\xff",
		"000696327", "0006963271234", "000696327123", "8001010000", "800101000", "80010100001",
		"{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c}", "{6F0E8A9C-3B5D-4A1E-9C2F-7D8E9F0A1B2C}", "6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c",
		"{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c}\n", "{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2}",
		"2024-03-19", "-2024-03-19", "12024-03-19Z", "2024-03-19+02:00", "2024-03-19T10:11:12", "2024-03-19T10:11:12.5Z",
		"2024-03-19T10:11:12.Z", "2024-03-19T10:11:12+0200", "MSG_DocumentRegistrationRequest", "MSG_Док", "Иван",
		strings.Repeat("QUJD", 75_000) + "RA==", strings.Repeat("QUJD", 75_000) + "-",
	}
	for p := range projectPatterns {
		re := regexp.MustCompile(p)
		match, _ := matcher(re)
		for _, in := range inputs {
			if got, want := match(in), re.MatchString(in); got != want {
				t.Errorf("%q on %q: %v, the regexp says %v", p, in, got, want)
			}
		}
	}
}
