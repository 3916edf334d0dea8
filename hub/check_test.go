package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/routes"
)

// TestCheckBuildsWithoutSideEffects checks that Check reports what Build would refuse, every
// problem at its place, and creates, opens and listens on nothing.
func TestCheckBuildsWithoutSideEffects(t *testing.T) {
	outDir := filepath.Join(t.TempDir(), "not", "made")
	good := `
connectors:
  in:    { type: http, listen: "@ADDR@", path: /in, auth: { type: none } }
  files: { type: file, dir: "@OUT@" }
routes:
  - name: ok
    from: in
    to: files
`
	cfg := parse(t, routes.DefaultCatalog(), good, map[string]string{"ADDR": freeAddr(t), "OUT": outDir})
	if err := Check(cfg, Options{Logger: quietLogger()}); err != nil {
		t.Fatalf("Check of a good configuration: %v", err)
	}
	if _, err := os.Stat(outDir); !os.IsNotExist(err) {
		t.Errorf("Check created the file sink's folder %s (stat: %v)", outDir, err)
	}

	bad := `
connectors:
  in:    { type: http, listen: "@ADDR@", path: /in, auth: { type: none } }
  mute:  { type: http, listen: "@ADDR@", path: /mute, auth: { type: none } }
routes:
  - name: one
    from: in
    steps:
      - json_schema: { schema: missing/one.json }
    to: mute
  - name: two
    from: in
    steps:
      - json_schema: { schema: missing/two.json }
    to: mute
`
	cfg = parse(t, routes.DefaultCatalog(), bad, map[string]string{"ADDR": freeAddr(t)})
	err := Check(cfg, Options{Logger: quietLogger()})
	if err == nil {
		t.Fatal("Check passed a configuration that cannot run")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"hub.yaml:4:3: connectors.mute: cannot be built as a sink: http sink mute: url is required to deliver messages",
		"hub.yaml:9:9: routes[0].steps[0].json_schema: ",
		"hub.yaml:14:9: routes[1].steps[0].json_schema: ",
	}
	if len(lines) != len(want) {
		t.Fatalf("Check reported:\n%s\nwant %d lines", err, len(want))
	}
	for i, w := range want {
		if _, rest, _ := strings.Cut(lines[i], "/hub.yaml"); !strings.HasPrefix("hub.yaml"+rest, w) {
			t.Errorf("line %d: %q, want it to start %q", i+1, lines[i], w)
		}
	}
}

// TestCheckOpsOnTheSourcesAddress checks that an operations API on the address of the http
// sources is refused where ops.listen is written, as serve would fail to bind it.
func TestCheckOpsOnTheSourcesAddress(t *testing.T) {
	for _, tc := range []struct {
		ops, in string
		clash   bool
	}{
		{"127.0.0.1:7001", "127.0.0.1:7001", true},
		{":7001", "127.0.0.1:7001", true},
		{"127.0.0.1:7001", "127.0.0.1:7002", false},
		{"127.0.0.1:0", "127.0.0.1:0", false}, // port 0: each bind gets a port of its own
	} {
		cfg := parse(t, routes.DefaultCatalog(), `
ops: { listen: "@OPS@" }
connectors:
  in:  { type: http, listen: "@IN@", path: /in, auth: { type: none } }
  out: { type: http, url: "http://127.0.0.1:1/" }
routes:
  - { name: r, from: in, to: out }
`, map[string]string{"OPS": tc.ops, "IN": tc.in})
		err := Check(cfg, Options{Logger: quietLogger()})
		if tc.clash != (err != nil) || (tc.clash && !strings.Contains(err.Error(), "hub.yaml:2:16: ops.listen: ")) {
			t.Errorf("ops %s, source %s: Check = %v, want a clash: %v", tc.ops, tc.in, err, tc.clash)
		}
	}
}
