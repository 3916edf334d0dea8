package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

func TestRegixCheckSamples(t *testing.T) {
	files, err := filepath.Glob("../../regix/registers/*/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 18 {
		t.Fatalf("%d samples, want 18 (9 requests, 9 responses)", len(files))
	}
	for _, f := range files {
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
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
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
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
}
