package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/spec"
)

func TestLoadDirExamples(t *testing.T) {
	c, err := LoadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.IDs(), ","); got != "2016,2128" {
		t.Fatalf("IDs = %s", got)
	}
	s, ok := c.Latest("2016")
	if !ok {
		t.Fatal("2016 missing")
	}
	if tt, _ := s.Term(Fast); tt.Days != 3 || tt.Unit != calendar.WorkingDays || tt.Fee != 409 {
		t.Errorf("fast term = %+v", tt)
	}
	if tt, _ := s.Term(Express); tt.Hours != 24 || tt.Fee != 614 {
		t.Errorf("express term = %+v", tt)
	}
	if it, _ := s.Item("power-of-attorney"); it.Required || it.Source != FromApplicant {
		t.Errorf("optional item = %+v", it)
	}
	if it, _ := s.Item("application"); !it.Required {
		t.Errorf("items are required unless they say otherwise: %+v", it)
	}
	want := [][]string{nil, {"register"}, {"register"}, {"check-deceased", "check-relations"}, {"prepare"}}
	for i := range s.Stages {
		if got := s.Predecessors(i); strings.Join(got, ",") != strings.Join(want[i], ",") {
			t.Errorf("Predecessors(%d) = %v, want %v", i, got, want[i])
		}
	}
	if !s.Accepts(ESOED) || s.Accepts(Phone) || !s.Delivers(PostOtherAddress) || s.Delivers(POBox) {
		t.Error("channels read wrong")
	}
	if _, ok := c.Version("2128", 2); !ok {
		t.Error("2128 version 2 missing")
	}
	if _, ok := c.Version("2128", 1); ok {
		t.Error("2128 version 1 found")
	}
}

func TestCatalogVersions(t *testing.T) {
	c := NewCatalog()
	for _, v := range []int{2, 1, 3} {
		if err := c.Add(&Service{ID: "2016", Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Add(&Service{ID: "2016", Version: 2}); err == nil {
		t.Error("a version added twice was accepted")
	}
	if s, _ := c.Latest("2016"); s.Version != 3 {
		t.Errorf("Latest = version %d", s.Version)
	}
	if s, ok := c.Version("2016", 1); !ok || s.Version != 1 {
		t.Errorf("Version(1) = %v, %v", s, ok)
	}
	if _, ok := c.Latest("9999"); ok {
		t.Error("an unknown service was found")
	}
}

// TestParseErrors edits the example service and checks each mistake is
// reported at its line and field.
func TestParseErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/heirs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
		want           string // the whole message of the first error
	}{
		{"no id", `id: "2016"`, ``, `heirs.yaml:4:1: missing required key "id"`},
		{"unknown key", `uri: "ОБА3.16"`, `url: "ОБА3.16"`, `heirs.yaml:4:1: unknown key "url"; allowed: id, uri, version, name, legal_basis, provider, register_index, procedure, fields, checklist, forms, terms, validity, apply, deliver, appeal, stages`},
		{"version 0", `version: 1`, `version: 0`, `heirs.yaml:5:10: version: must be at least 1`},
		{"english missing", `  en: Issuing a certificate of heirs`, ``, `heirs.yaml:7:3: name: missing required key "en"`},
		{"provider eik", `eik: "000695089"`, `eik: "000695088"`, `heirs.yaml:14:8: provider.eik: not a valid ЕИК: digit 9 is 8, want 9`},
		{"unknown source", `source: register
    operation: TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch`, `source: registry`, `heirs.yaml:29:13: checklist[2].source: must be one of applicant, register, administration; got "registry"`},
		{"register without operation", `    operation: TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.RelationsSearch
`, ``, `heirs.yaml:32:5: checklist[3].operation: a register item names the register operation that gives it`},
		{"unknown form", `form: application-form`, `form: the-form`, `heirs.yaml:22:11: checklist[0].form: no form "the-form" in forms`},
		{"term twice", `kind: fast`, `kind: normal`, `heirs.yaml:43:13: terms[1].kind: term type "normal" is listed twice`},
		{"days and hours", `kind: express, hours: 24`, `kind: express, days: 1, hours: 24`, `heirs.yaml:44:28: terms[2].days: give the deadline either in days or in hours`},
		{"bad fee", `fee: "6.14"`, `fee: "6.145"`, `heirs.yaml:44:38: terms[2].fee: invalid amount "6.145": want euro with at most two decimals, such as 12.50`},
		{"unknown unit", `days: 7, unit: working`, `days: 7, unit: hours`, `heirs.yaml:42:36: terms[0].unit: must be one of working, calendar; got "hours"`},
		{"unknown channel", `apply: [portal,`, `apply: [web,`, `heirs.yaml:47:9: apply[0]: must be one of portal, counter, post, email, esoed, phone; got "web"`},
		{"unknown delivery", `deliver: [electronic,`, `deliver: [courier,`, `heirs.yaml:48:11: deliver[0]: must be one of electronic, counter, municipal-counter, post, post-other-address, po-box; got "courier"`},
		{"after unknown", `after: [check-deceased, check-relations]`, `after: [check-deceased, check]`, `heirs.yaml:71:29: stages[3].after[1]: no stage "check" listed before this one; list stages in an order where each comes after those it waits for`},
		{"automatic applicant item", `automatic: { item: relations }`, `automatic: { item: application }`, `heirs.yaml:67:24: stages[2].automatic.item: item "application" is brought by the applicant; the system can request only ex officio items`},
		{"no assignee", `    assignee: { user: mayor }
`, ``, `heirs.yaml:74:5: stages[4]: no assignee: give the user or position who does the stage`},
		{"query of an unknown field", `RelationsSearch
    query: { EGN: deceased_egn }`, `RelationsSearch
    query: { EGN: dead_egn }`, `heirs.yaml:36:19: checklist[3].query.EGN: "dead_egn" is neither applicant nor a field of fields`},
		{"bad field id", `- id: deceased_name`, `- id: Deceased-Name`, `heirs.yaml:84:9: fields[1].id: "Deceased-Name": use lowercase letters, digits and _, starting with a letter`},
		{"unknown field kind", `kind: egn`, `kind: ssn`, `heirs.yaml:82:11: fields[0].kind: must be one of text, egn, lnch, eik, date, number; got "ssn"`},
		{"syntax", `name:
  bg: Издаване`, `name:
 - bg: Издаване`, `heirs.yaml:6:1: invalid YAML:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := string(good)
			if !strings.Contains(src, tt.old) {
				t.Fatalf("the example has no %q", tt.old)
			}
			src = strings.Replace(src, tt.old, tt.new, 1)
			_, err := Parse("heirs.yaml", []byte(src))
			var es spec.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Parse = %v, want spec.Errors", err)
			}
			if got := es[0].Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("first error:\n got %s\nwant %s\nall:\n%v", got, tt.want, err)
			}
		})
	}
}

func TestLoadDirNamesEveryFile(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("testdata/heirs.yaml")
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", string(good))
	write("b.yaml", string(good)) // the same version again
	write("c.yml", strings.Replace(string(good), `version: 1`, `version: x`, 1))
	write("notes.txt", "not a service")
	_, err := LoadDir(dir)
	var es spec.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("LoadDir = %v, want two errors", err)
	}
	if !strings.Contains(es[0].Error(), "b.yaml: version: service 2016 version 1 is also described in "+filepath.Join(dir, "a.yaml")) {
		t.Errorf("first error = %v", es[0])
	}
	if !strings.Contains(es[1].Error(), "c.yml:5:10: version: want an integer") {
		t.Errorf("second error = %v", es[1])
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil || errors.As(err, &es) {
		t.Errorf("a missing folder gave %v", err)
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		ok   bool
	}{
		{"12", 1200, true}, {"12.5", 1250, true}, {"12.50", 1250, true}, {"0,07", 7, true},
		{"12.505", 0, false}, {"-1", 0, false}, {"1e3", 0, false}, {"", 0, false}, {"12.", 0, false}, {".5", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMoney(%q) = %v, %v", tt.in, got, err)
		}
	}
	if s := Money(409).String(); s != "4.09 EUR" {
		t.Errorf("String = %s", s)
	}
}

func TestText(t *testing.T) {
	x := Text{BG: "наследници", EN: "heirs"}
	if x.In("en") != "heirs" || x.In("bg") != "наследници" || x.In("de") != "наследници" {
		t.Error("In picks the wrong language")
	}
}

// FuzzParse checks that no input panics the loader and that whatever it
// accepts passes the checks again.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/heirs.yaml", "testdata/address.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("id: 1\nversion: 1\nstages: [{id: a, after: [a]}]"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err != nil {
			var es spec.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Parse error %v is not spec.Errors", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted a service that does not validate: %v", err)
		}
		if len(s.Terms) == 0 || len(s.Stages) == 0 {
			t.Fatal("accepted a service without terms or stages")
		}
	})
}
