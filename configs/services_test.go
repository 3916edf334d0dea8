package configs_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/connectors/regix/servicecheck"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/regix"
)

// TestServiceCatalogue checks the shipped service catalogue in services/: every file loads with the
// service loader, every register item can be requested (its operation is in the RegiX catalogue,
// its query gives that operation's parameters from fields the service declares), and every service
// can be applied for, offers a term and delivers its result.
func TestServiceCatalogue(t *testing.T) {
	const dir = "services"
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("%d services in %s, want at least 8", len(files), dir)
	}
	ops, err := regix.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	central, parsed := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := service.Parse(f, data)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		parsed++
		for _, e := range servicecheck.Check(f, s, ops) {
			t.Errorf("%v", e)
		}
		for i, it := range s.Checklist {
			for param, from := range it.Query {
				if _, ok := s.Field(from); from != service.QueryApplicant && !ok {
					t.Errorf("%s: checklist[%d] %q: query %s takes %q, which is neither %s nor a field of the service", f, i, it.ID, param, from, service.QueryApplicant)
				}
			}
			if it.Source.ExOfficio() && !requested(s, it.ID) {
				t.Errorf("%s: checklist[%d] %q is ex officio but no automatic stage requests it", f, i, it.ID)
			}
		}
		if len(s.Terms) == 0 {
			t.Errorf("%s: offers no term type", f)
		}
		if len(s.Deliver) == 0 {
			t.Errorf("%s: names no way to deliver the result", f)
		}
		if len(s.Apply) == 0 {
			t.Errorf("%s: names no channel to apply through", f)
		}
		checkHeader(t, f, data, s)
		if s.Provider.EIK != "000695089" {
			central++
		}
	}
	// Problems across files, such as one service version described twice, show once each file loads.
	if parsed == len(files) {
		if _, err := service.LoadDir(dir); err != nil {
			t.Errorf("the catalogue does not load:\n%v", err)
		}
	}
	if central == 0 {
		t.Error("no service of a central administration: every provider is the demo municipality")
	}
}

// requested reports whether an automatic stage of s requests item id.
func requested(s *service.Service, id string) bool {
	for _, st := range s.Stages {
		if st.Automatic != nil && st.Automatic.Item == id {
			return true
		}
	}
	return false
}

// checkHeader checks that the file opens with a comment naming its sources and, when it charges a
// fee, how the published amount in leva was converted.
func checkHeader(t *testing.T, file string, data []byte, s *service.Service) {
	t.Helper()
	var header strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() && strings.HasPrefix(sc.Text(), "#") {
		header.WriteString(sc.Text() + "\n")
	}
	h := header.String()
	if h == "" {
		t.Errorf("%s: does not open with a comment naming its sources", file)
		return
	}
	if !strings.Contains(h, "Sources:") || !strings.Contains(h, "http") {
		t.Errorf("%s: the opening comment does not list its sources (a \"Sources:\" list with addresses)", file)
	}
	for _, term := range s.Terms {
		if term.Fee > 0 && !strings.Contains(h, "1.95583") {
			t.Errorf("%s: charges %s but the opening comment does not say the leva amount was converted at 1.95583", file, term.Fee)
			break
		}
	}
}
