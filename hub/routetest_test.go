package hub

import (
	"strings"
	"testing"
)

func TestCompareOutput(t *testing.T) {
	tests := []struct {
		name, file, want, got string
		equal                 bool
		diffHas               []string
	}{
		{"json key order ignored", "a.json", `{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, true, nil},
		{"json value differs", "a.json", `{"a":1,"b":"x"}`, `{"a":1,"b":"y"}`, false, []string{`-   "b": "x"`, `+   "b": "y"`}},
		{"bytes equal", "a.xml", "<a/>", "<a/>", true, nil},
		{"bytes differ", "a.xml", "<a>\n<b/>\n</a>", "<a>\n<c/>\n</a>", false, []string{"- <b/>", "+ <c/>"}},
		{"got is not json", "a.json", `{}`, `<a/>`, false, []string{"output is not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := compareOutput(tt.file, []byte(tt.want), []byte(tt.got))
			if (d == "") != tt.equal {
				t.Fatalf("diff = %q, want equal=%v", d, tt.equal)
			}
			for _, s := range tt.diffHas {
				if !strings.Contains(d, s) {
					t.Errorf("diff does not contain %q:\n%s", s, d)
				}
			}
		})
	}
}
