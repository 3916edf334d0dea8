package routes_test

import (
	"testing"

	"github.com/aiskao/aiskao/routes"
)

// TestYAMLSyntaxErrorAtItsLine checks that a YAML syntax error is reported where the mistake is,
// not at the line where the enclosing mapping began (line 1 for a top-level one).
func TestYAMLSyntaxErrorAtItsLine(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad indentation deep in a file", "ops:\n  listen: ':1'\nconnectors:\n  in: {type: http, listen: ':1', path: /in}\nroutes:\n  - name: a\n    from: in\n   to: in\n",
			"f.yaml:8:4: invalid YAML: did not find expected '-' indicator"},
		{"unclosed flow mapping", "ops: {listen: ':1'}\nroutes:\n  - {name: a\n",
			"f.yaml:3:5: invalid YAML: did not find expected ',' or '}'"},
		{"colon in a plain value", "routes:\n  - name: a\n    from: x: y\n",
			"f.yaml:3:11: invalid YAML: mapping values are not allowed in this context"},
		{"tab indentation", "ops:\n\tlisten: ':1'\n",
			"f.yaml:2:1: invalid YAML: found character that cannot start any token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routes.Parse(testCatalog(), "f.yaml", []byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("errors:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}
