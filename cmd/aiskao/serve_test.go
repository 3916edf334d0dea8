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

func TestProcsTarget(t *testing.T) {
	for _, tc := range []struct {
		flag, current int
		env           string
		want          int
		wantSource    string
	}{
		{0, 2, "", 4, "-procs"},
		{0, 8, "", 16, "-procs"},
		{3, 2, "", 3, "-procs"},
		{0, 2, "2", 2, "GOMAXPROCS"}, // the environment's, as the runtime applied it
		{6, 5, "5", 5, "GOMAXPROCS"},
	} {
		got, source := procsTarget(tc.flag, tc.env, tc.current)
		if got != tc.want || source != tc.wantSource {
			t.Errorf("procsTarget(%d, %q, %d) = %d, %q; want %d, %q", tc.flag, tc.env, tc.current, got, source, tc.want, tc.wantSource)
		}
	}
}
