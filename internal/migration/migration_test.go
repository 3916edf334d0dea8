package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string // names in order, or the error's text
	}{
		{"ordered by version", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A")}, "0001_a.sql,0002_b.sql"},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, "0001_a.sql,0003_c.sql"},
		{"repeated", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0002_b.sql": file("B"), "m/0002_c.sql": file("C")}, "migration file 0002_c.sql: version 2 is also used by 0002_b.sql"},
		{"bad name", fstest.MapFS{"m/init.sql": file("A")}, "migration file init.sql: name must start with a version number"},
		{"zero", fstest.MapFS{"m/0000_a.sql": file("A")}, "migration file 0000_a.sql: name must start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, err := Load(tt.files, "m")
			var got string
			if err != nil {
				got = err.Error()
			} else {
				var names []string
				for _, s := range steps {
					names = append(names, s.Name)
				}
				got = strings.Join(names, ",")
				if steps[0].SQL != "A" {
					t.Errorf("first step SQL %q", steps[0].SQL)
				}
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
