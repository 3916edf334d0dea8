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

func TestPublicShowsOnlyTheOfficialSection(t *testing.T) {
	d, _ := scenario(t)
	v := d.Public()
	var ids []string
	for _, doc := range v.Documents {
		ids = append(ids, doc.ID)
	}
	if got := strings.Join(ids, ","); got != "doc-1,notice-1,signed-application,certificate" {
		t.Errorf("documents = %s", got)
	}
	if len(v.Stages) != 5 || v.Stages[4].Name.EN != "Signing" || v.Stages[4].Status != StageDone || v.Stages[4].DoneAt == nil {
		t.Errorf("stages = %+v", v.Stages)
	}
	if !v.FeePaid || v.Fee != 205 || v.Status != StatusClosed {
		t.Errorf("view = %+v", v)
	}
}
