package regixtest

import (
	"fmt"
	"io/fs"
	"testing"
)

// Samples returns the sample documents of the registers in fsys (folder "registers", as
// regix.Registers gives them) whose names contain kind ("Request", "Response").
func Samples(t testing.TB, fsys fs.FS, kind string) map[string][]byte {
	t.Helper()
	files, err := fs.Glob(fsys, "registers/*/*"+kind+"*.xml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// Field follows a path of keys and list indexes through the fields of a parsed answer.
func Field(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			var i int
			fmt.Sscan(k, &i)
			if i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}
