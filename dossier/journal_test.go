package dossier

import (
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	_, all := scenario(t)
	seen := map[string]bool{}
	for _, e := range all {
		d := Describe(e)
		if d.BG == "" || d.EN == "" || strings.HasPrefix(d.EN, "Event ") {
			t.Errorf("%s: %+v", e.Type, d)
		}
		for _, personal := range []string{"8506258485", "7501020018", "Мария"} {
			if strings.Contains(d.BG+d.EN, personal) {
				t.Errorf("%s shows personal data: %s", e.Type, d.EN)
			}
		}
		seen[e.Type] = true
	}
	if got := Describe(all[0]).EN; got != "Dossier ОБА3-17/04.12.2026 opened for service 2016 (version 1), applied for through counter, due 2026-12-15." {
		t.Errorf("opened: %s", got)
	}
	if got := Describe(all[len(all)-1]).BG; got != "Преписката е приключена: completed." {
		t.Errorf("closed: %s", got)
	}
	for _, typ := range EventTypes() {
		if !seen[typ] {
			t.Errorf("the scenario has no %s: the golden history does not cover every event", typ)
		}
	}
}
