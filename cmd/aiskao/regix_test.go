package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/regix/regixtest"
)

func TestRegixCheckSamples(t *testing.T) {
	files, err := filepath.Glob("../../regix/registers/*/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 60 {
		t.Fatalf("%d samples, want 60 (30 requests, 30 responses)", len(files))
	}
	for _, f := range files {
		if regixtest.IsPublishedInvalid(f) {
			continue // TestRegixCheckAddedRegisters
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, code := cli(t, "regix", "check", f)
			if code != 0 || !strings.Contains(out, "\nvalid\n") {
				t.Fatalf("exit %d, want 0 and valid:\n%s", code, out)
			}
			kind := "request"
			if strings.Contains(filepath.Base(f), "Response") {
				kind = "response"
			}
			if !strings.Contains(out, " "+kind+" (") || !strings.Contains(out, "operation: TechnoLogica.RegiX.") {
				t.Errorf("output does not name the operation and %s:\n%s", kind, out)
			}
		})
	}
}

func TestRegixCheckKeyFields(t *testing.T) {
	tests := []struct{ file, want string }{
		{"grao-nbd/PersonDataSearchRequest.xml", "EGN (ЕГН) = 8506258485"},
		{"grao-pna/PermanentAddressSearchRequest.xml", "SearchDate (Дата) = 2015-11-23"},
		{"grao-nbd/PersonDataSearchResponse.xml", "PersonNames/FirstName = Ивелина"},
		{"av-tr/GetActualStateResponse.xml", "Company = ТехноЛогика"},
		{"av-bulstat2/StateOfPlayRequest.xml", "Case/Court/Code (Код на фирмено дело) = Code1"},
		{"nra-obligated-persons/GetObligatedPersonsRequest.xml", "Identity/TYPE (Вид на идентификатора) = LNC"},
		{"grao-civil-status/GetMarriageCertificateResponse.xml", "ManData/FirstName = МАРИЯН"},
		{"mvr-mps/GetMotorVehicleRegistrationInfoV2Response.xml", "Header/MessageID = MessageID1"},
	}
	for _, tt := range tests {
		out, code := cli(t, "regix", "check", filepath.Join("../../regix/registers", tt.file))
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, want 0 and %q:\n%s", tt.file, code, tt.want, out)
		}
	}
}

func TestRegixCheckInvalid(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile("../../regix/registers/grao-nbd/PersonDataSearchRequest.xml")
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "egn11.xml")
	if err := os.WriteFile(bad, bytes.Replace(sample, []byte("8506258485"), []byte("85062584851"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.xml")
	if err := os.WriteFile(unknown, []byte(`<Application xmlns="urn:example"><EGN>8506258485</EGN></Application>`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		want       []string
	}{
		{"11-digit ЕГН", bad, []string{"invalid", "/PersonDataRequest/EGN", "[pattern]", "85062584851"}},
		{"unknown document", unknown, []string{"not a known RegiX request or response", "Application", "urn:example"}},
		{"missing file", filepath.Join(dir, "none.xml"), []string{"none.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := cli(t, "regix", "check", tt.file)
			if code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
		})
	}
	if out, code := cli(t, "regix", "check"); code != 2 {
		t.Errorf("check without a file: exit %d, want 2:\n%s", code, out)
	}
}

// TestRegixSimServesAndStops: aiskao regix sim listens, answers its mode endpoint, takes a new
// mode, and stops on SIGTERM with exit 0.
func TestRegixSimServesAndStops(t *testing.T) {
	cmd := exec.Command(binary, "regix", "sim", "-listen", "127.0.0.1:0")
	line, err := startReadLine(t, cmd)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	resp, err := http.Post(m[1]+"/_sim/mode?mode=has_error", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(m[1] + "/_sim/mode")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "has_error") {
		t.Errorf("mode after setting has_error: %q", body)
	}
	stopCleanly(t, cmd)
}

// TestRegixSimHelpAndDefaultAddress: `regix sim -h` exits 0 and shows the flags; without
// -listen the simulator listens where the demo's regix connector looks for it.
func TestRegixSimHelpAndDefaultAddress(t *testing.T) {
	out, code := cli(t, "regix", "sim", "-h")
	if code != 0 || !strings.Contains(out, "-listen") || !strings.Contains(out, "127.0.0.1:8089") || !strings.Contains(out, "V1") {
		t.Errorf("regix sim -h: exit %d, want 0 and the flags with -listen's default:\n%s", code, out)
	}
	if out, code := cli(t, "regix", "check", "-h"); code != 0 || !strings.Contains(out, "FILE") {
		t.Errorf("regix check -h: exit %d, want 0 and the usage:\n%s", code, out)
	}

	cmd := exec.Command(binary, "regix", "sim")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	line, err := startReadLine(t, cmd)
	if err != nil {
		cmd.Wait()
		if strings.Contains(stderr.String(), "address already in use") {
			t.Skipf("127.0.0.1:8089 is taken on this machine: %s", stderr.String())
		}
		t.Fatalf("regix sim without -listen: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(line, "listening on http://127.0.0.1:8089 ") {
		t.Errorf("regix sim without -listen: %q, want it on 127.0.0.1:8089", line)
	}
	stopCleanly(t, cmd)
}

// startReadLine starts cmd and returns the first line it writes to its standard output; the
// process is killed when the test ends, if it still runs.
func startReadLine(t *testing.T, cmd *exec.Cmd) (string, error) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return bufio.NewReader(stdout).ReadString('\n')
}

// stopCleanly sends cmd SIGTERM and wants it to exit 0.
func stopCleanly(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
}

// v1Responses returns the bundled response samples by full operation name.
func v1Responses(t *testing.T) map[string][]byte {
	t.Helper()
	ops, err := regix.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../regix/registers/*/*Response*.xml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		op, resp, err := ops.Identify(doc)
		if err != nil || !resp {
			t.Fatalf("%s: %v", f, err)
		}
		out[op.Name] = doc
	}
	return out
}

// TestDemoApplicationThroughRegixV1: with entry_point v1 the demo's applications route completes
// the sample application against the V1 entry point, both against a server built from the
// public WSDL (which refuses anything the WSDL does not describe) and against the simulator.
func TestDemoApplicationThroughRegixV1(t *testing.T) {
	responses := v1Responses(t)
	srv, err := regixtest.NewV1Server("../../regix/testdata/wsdl.xml", func(operation string, _ []byte) ([]byte, string) {
		if doc, ok := responses[operation]; ok {
			return doc, ""
		}
		return nil, "unknown operation " + operation
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	wsdlServer := httptest.NewServer(srv)
	defer wsdlServer.Close()
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "applications", "trade-permit.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, server := range []struct{ name, url string }{
		{"WSDL server", wsdlServer.URL},
		{"simulator", "http://" + startSim(t)},
	} {
		t.Run(server.name, func(t *testing.T) {
			t.Setenv("AISKAO_REGIX_URL", server.url+"/RegiX/RegiXEntryPoint.svc")
			t.Setenv("AISKAO_REGIX_ENTRY_POINT", "v1")
			data := t.TempDir()
			h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
			checkEnrichedApplication(t, h, data, sample)
		})
	}
	var ops []string
	for _, r := range srv.Requests() {
		ops = append(ops, r.Operation[strings.LastIndexByte(r.Operation, '.')+1:])
	}
	if got := strings.Join(ops, " "); got != "PersonDataSearch GetActualState" && got != "GetActualState PersonDataSearch" {
		t.Errorf("calls at the WSDL server: %q, want PersonDataSearch and GetActualState", got)
	}
}
