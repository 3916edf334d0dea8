package org

import (
	"errors"
	"slices"
	"testing"
)

func TestPath(t *testing.T) {
	units := []Unit{{ID: "mun"}, {ID: "adm", Parent: "mun"}, {ID: "grao", Parent: "adm"}, {ID: "loop-a", Parent: "loop-b"}, {ID: "loop-b", Parent: "loop-a"}}
	cases := []struct {
		id   string
		want []string
		err  bool
	}{
		{"grao", []string{"mun", "adm", "grao"}, false},
		{"mun", []string{"mun"}, false},
		{"none", nil, true},
		{"loop-a", nil, true}, // a damaged tree ends, with an error
	}
	for _, c := range cases {
		got, err := Path(units, c.id)
		if !slices.Equal(got, c.want) || (err != nil) != c.err || err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("Path(%s) = %v, %v; want %v", c.id, got, err, c.want)
		}
	}
}

func TestCheckID(t *testing.T) {
	for id, ok := range map[string]bool{"grao": true, "front.desk-1": true, "a_b": true, "": false, "Grao": false, "гра": false, "a b": false} {
		if err := CheckID(id); (err == nil) != ok {
			t.Errorf("CheckID(%q) = %v, want ok %v", id, err, ok)
		}
	}
}
