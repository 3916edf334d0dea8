package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/routes"
)

const passThrough = `
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  files: { type: file, dir: out, fsync: false }
routes:
  - name: pass
    from: in
    to: files
`

func TestEngineDeliversPostedMessageToFile(t *testing.T) {
	r := newRig(t, passThrough, nil, nil)
	body := `<Doc><Kind>notice</Kind></Doc>`
	id := accept(t, r.addr, "/in", "application/xml", body)

	out := filepath.Join(r.dir, "out")
	want := id + ".xml"
	waitFor(t, "the delivered file", func() bool { return len(files(t, out)) == 1 })
	if got := files(t, out); got[0] != want {
		t.Fatalf("files = %v, want [%s]", got, want)
	}
	data, err := os.ReadFile(filepath.Join(out, want))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != body {
		t.Errorf("file holds %q, want %q", data, body)
	}
	waitFor(t, "the delivered count", func() bool { return outcomes(t, r.metrics, "pass", OutcomeDelivered) == 1 })
	if got := metricValue(t, r.metrics, "aiskao_source_messages_total", map[string]string{"connector": "in", "outcome": "accepted"}); got != 1 {
		t.Errorf("source accepted = %v, want 1", got)
	}
	for _, o := range []string{OutcomeDropped, OutcomeRetried, OutcomeDeadLetter, OutcomeDiscarded, OutcomeDuplicate} {
		if got := outcomes(t, r.metrics, "pass", o); got != 0 {
			t.Errorf("outcome %s = %v, want 0", o, got)
		}
	}
	if err := r.eng.Ready(context.Background()); err != nil {
		t.Errorf("Ready: %v", err)
	}

	if err := r.eng.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := http.Post("http://"+r.addr+"/in", "application/xml", strings.NewReader(body)); err == nil {
		t.Error("the hub still answers after Stop")
	}
}

func TestBuildFailsOnConfigurationThatCannotRun(t *testing.T) {
	// The schema file does not exist: loading does not read it, building must.
	cfg := parse(t, routes.DefaultCatalog(), `
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in }
  files: { type: file, dir: out }
routes:
  - name: checked
    from: in
    steps:
      - json_schema: { schema: missing/schema.json }
    to: files
`, map[string]string{"ADDR": freeAddr(t)})
	_, err := Build(cfg, Options{DataDir: t.TempDir(), Logger: quietLogger()})
	if err == nil {
		t.Fatal("Build succeeded with a missing schema file")
	}
	// It is placed at the step, in the file, as the loader places its errors.
	for _, s := range []string{"hub.yaml:9:9: routes[0].steps[0].json_schema: ", "missing/schema.json"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

func TestTryUnknownRouteListsConfiguredRoutes(t *testing.T) {
	cfg := parse(t, routes.DefaultCatalog(), passThrough, map[string]string{"ADDR": freeAddr(t)})
	_, err := Try(context.Background(), cfg, "pas", []byte("<a/>"), nil, Options{Logger: quietLogger()})
	if !errors.Is(err, ErrUnknownRoute) {
		t.Fatalf("err = %v, want ErrUnknownRoute", err)
	}
	for _, s := range []string{`"pas"`, "pass"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

func TestTrySetsEnvelope(t *testing.T) {
	cfg := parse(t, routes.DefaultCatalog(), passThrough, map[string]string{"ADDR": freeAddr(t)})
	tr, err := Try(context.Background(), cfg, "pass", []byte("<a/>"), map[string]string{"id": "m-1"}, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Deliveries) != 1 {
		t.Fatalf("deliveries = %+v, want 1", tr.Deliveries)
	}
	d := tr.Deliveries[0]
	want := map[string]string{envelope.Route: "pass", envelope.Source: "in", envelope.CorrelationID: "m-1", envelope.Attempt: "1"}
	for k, v := range want {
		if d.Message.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, d.Message.Metadata[k], v)
		}
	}
	if d.Message.ID != "m-1" || strings.Join(d.To, ",") != "files" {
		t.Errorf("delivery = %s to %v, want m-1 to [files]", d.Message.ID, d.To)
	}
}

// failingSource stops at once with err, as a source whose listener cannot bind does.
type failingSource struct{ err error }

func (s failingSource) Run(context.Context, connectors.Emit) error { return s.err }

func TestSourceThatStopsMakesTheHubNotReady(t *testing.T) {
	conns := registry.New[connectors.Factory]("connector type")
	for _, name := range connectors.Default.Names() {
		f, _ := connectors.Default.Lookup(name)
		conns.Register(name, f)
	}
	conns.Register("failing", connectors.Factory{
		Type: "failing", Doc: "A source that cannot run.", Config: &noOptions{},
		NewSource: func(any, connectors.Env) (connectors.Source, error) {
			return failingSource{errors.New("listen tcp 127.0.0.1:8443: bind: address already in use")}, nil
		},
	})
	cat := testCatalog()
	cat.Connectors = conns
	r := newRig(t, `
connectors:
  endpoint: { type: failing }
  files: { type: file, dir: out }
routes:
  - { name: received, from: endpoint, to: files }
`, nil, &cat)
	var err error
	waitFor(t, "the hub to report the stopped source", func() bool {
		err = r.eng.Ready(context.Background())
		return err != nil
	})
	if want := "source endpoint stopped: listen tcp 127.0.0.1:8443: bind: address already in use"; err.Error() != want {
		t.Errorf("Ready = %q, want %q", err, want)
	}
}

// A source read by several routes stores each message for every one of them before it answers.
func TestSourceFeedsEveryRoute(t *testing.T) {
	r := newRig(t, `
connectors:
  in:      { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  archive: { type: file, dir: out/archive, fsync: false }
  copies:  { type: file, dir: out/copies, fsync: false }
  third:   { type: file, dir: out/third, fsync: false }
routes:
  - { name: archive, from: in, to: archive }
  - { name: copies, from: in, to: copies }
  - { name: third, from: in, to: third }
`, nil, nil)
	var ids []string
	for i := range 5 {
		ids = append(ids, accept(t, r.addr, "/in", "application/xml", fmt.Sprintf("<Doc n=\"%d\"/>", i)))
	}
	for _, dir := range []string{"archive", "copies", "third"} {
		out := filepath.Join(r.dir, "out", dir)
		waitFor(t, "five files in "+dir, func() bool { return len(files(t, out)) == 5 })
		for _, id := range ids {
			if _, err := os.Stat(filepath.Join(out, id+".xml")); err != nil {
				t.Errorf("route %s: message %s not delivered: %v", dir, id, err)
			}
		}
	}
}
