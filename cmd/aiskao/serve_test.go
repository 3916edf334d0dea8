package main

import "testing"

func TestGCTarget(t *testing.T) {
	for _, tc := range []struct {
		flag       int
		env        string
		want       int
		wantSource string
	}{
		{400, "", 400, "-gc-percent"},
		{150, "", 150, "-gc-percent"},
		{400, "200", 200, "GOGC"},
		{400, "off", -1, "GOGC"},
		{400, "lots", 100, "GOGC"},
	} {
		got, source := gcTarget(tc.flag, tc.env)
		if got != tc.want || source != tc.wantSource {
			t.Errorf("gcTarget(%d, %q) = %d, %q; want %d, %q", tc.flag, tc.env, got, source, tc.want, tc.wantSource)
		}
	}
}
