package main

import (
	"strings"
	"testing"
)

// TestStartLogSaysWhatIsServed checks that serve's log begins with the configuration, the data
// folder, the transport and store and every endpoint, before the runtime's tuning.
func TestStartLogSaysWhatIsServed(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, copyDemo(t), data, "", "")
	lines := strings.Split(h.log.String(), "\n")
	tuning := -1
	for i, l := range lines {
		if strings.Contains(l, "msg=processors") {
			tuning = i
			break
		}
	}
	if tuning < 0 {
		t.Fatalf("no tuning line in the log:\n%s", h.log.String())
	}
	head := strings.Join(lines[:tuning], "\n")
	for _, want := range []string{
		`msg="serving configuration"`, "demo.yaml", "data=" + data, "transport=embedded", "store=sqlite",
		"connector=esoed-http type=http addr=" + h.httpAddr + " path=/esoed/documents",
		"connector=applications-http type=http addr=" + h.httpAddr + " path=/applications",
		"connector=esoed type=esoed addr=",
		`connector=ops type="operations API" addr=` + h.opsAddr,
		`connector=dossiers type="dossier API" addr=`,
	} {
		if !strings.Contains(head, want) {
			t.Errorf("the log before the tuning lines lacks %q:\n%s", want, head)
		}
	}
}
