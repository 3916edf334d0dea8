package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHelpEverywhere checks that every way of asking for help exits 0 and shows the usage with
// the flags, and that an unknown command or subcommand exits 2 with the list.
func TestHelpEverywhere(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{[]string{"-h"}, 0, "Commands:"},
		{[]string{"-help"}, 0, "Commands:"},
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"help"}, 0, "Commands:"},
		{nil, 2, "Commands:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"help", "serve"}, 0, "-config"},
		{[]string{"help", "esoed"}, 0, "aiskao esoed check"},
		{[]string{"help", "esoed", "check"}, 0, "aiskao esoed check FILE"},
		{[]string{"esoed", "-h"}, 0, "aiskao esoed check"},
		{[]string{"esoed", "--help"}, 0, "aiskao esoed check"},
		{[]string{"esoed", "check", "-h"}, 0, "aiskao esoed check FILE"},
		{[]string{"esoed", "peer", "-h"}, 0, "aiskao esoed peer"},
		{[]string{"esoed", "frob"}, 2, `unknown subcommand "frob"`},
		{[]string{"regix", "-h"}, 0, "regix"},
		{[]string{"regix", "check", "--help"}, 0, "aiskao regix check"},
		{[]string{"serve", "-h"}, 0, "-data"},
		{[]string{"serve", "--help"}, 0, "-data"},
		{[]string{"validate", "-h"}, 0, "Usage: aiskao validate"},
		{[]string{"try", "-h"}, 0, "-route"},
		{[]string{"test", "--help"}, 0, "-v"},
		{[]string{"dead-letters", "-h"}, 0, "-json"},
		{[]string{"dead-letters", "list", "-h"}, 0, "-limit"},
		{[]string{"dead-letters", "show", "--help"}, 0, "-ops"},
		{[]string{"journal", "-h"}, 0, "-kind"},
		{[]string{"schema", "-h"}, 0, "Usage: aiskao schema"},
		{[]string{"bench", "-h"}, 0, "-clients"},
		{[]string{"eauth", "-h"}, 0, "aiskao eauth sim"},
		{[]string{"eauth", "sim", "-h"}, 0, "-persons"},
		{[]string{"users", "-h"}, 0, "aiskao users create NAME"},
		{[]string{"users", "create", "-h"}, 0, "-role"},
		{[]string{"workdays", "-h"}, 0, "-calendar-days"},
		{[]string{"tokens", "-h"}, 0, "aiskao tokens create NAME"},
		{[]string{"web", "-h"}, 0, "aiskao web gallery"},
		{[]string{"validate", "-nosuchflag", "x"}, 2, "flag provided but not defined"},
		{[]string{"dead-letters", "frob"}, 2, "Usage: aiskao dead-letters"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, &out, &errOut)
			}
			if !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", tc.want, &out, &errOut)
			}
		})
	}
}

// TestFlagsAfterWords checks that flags are read before and after a command's words, with the
// same result, and that "--" ends the flags.
func TestFlagsAfterWords(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"dead_letters": []}`))
	}))
	defer srv.Close()
	for _, args := range [][]string{
		{"dead-letters", "list", "-json", "-ops", srv.URL, "-route", "r1", "-limit", "3"},
		{"dead-letters", "-json", "-ops", srv.URL, "list", "-route", "r1", "-limit", "3"},
		{"dead-letters", "-ops", srv.URL, "-json", "-route", "r1", "-limit", "3", "list"},
	} {
		got = nil
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, &out, &errOut)
		}
		if strings.TrimSpace(out.String()) != "[]" && strings.TrimSpace(out.String()) != "null" {
			t.Errorf("%v: printed %q, want the JSON list []", args, out.String())
		}
		if len(got) != 1 || !strings.Contains(got[0], "route=r1") || !strings.Contains(got[0], "limit=3") {
			t.Errorf("%v: asked the API %v, want one list of route r1, limit 3", args, got)
		}
	}

	fs := newFlags("x", "", &bytes.Buffer{})
	v := fs.Bool("v", false, "")
	if err := fs.Parse([]string{"a", "-v", "--", "-b", "c"}); err != nil {
		t.Fatal(err)
	}
	if !*v || strings.Join(fs.Args(), " ") != "a -b c" {
		t.Errorf("a -v -- -b c: v=%v args %q, want v=true and [a -b c]", *v, fs.Args())
	}
}
