package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestESOEDCheck runs `aiskao esoed check` on the real signed message, an altered copy of it, a
// message without a MessageGUID and a file that is not XML.
func TestESOEDCheck(t *testing.T) {
	real, err := os.ReadFile("../../testdata/esoed/status-response.xml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	altered := bytes.Replace(real, []byte("<DocNumber>97-0056<"), []byte("<DocNumber>97-0057<"), 1)
	if bytes.Equal(altered, real) {
		t.Fatal("the alteration did not apply")
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		file string
		code int
		want []string
	}{
		{"real signed", "../../testdata/esoed/status-response.xml", 0, []string{
			"MSG_DocumentStatusResponse", "sender: 1770988091003 ССЕВ тест", "recipient: 204141153",
			"message GUID: {f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}", "document: 97-0056 of 2021-08-19",
			"xsd: valid", "signature: verified, signer CN=edelivery-test.obmen.local", "\nvalid\n"}},
		{"unsigned", "../../testdata/esoed/registration-request.xml", 0, []string{
			"document kind: Заявление", "xsd: valid", "signature: absent", "\nvalid\n"}},
		{"altered", write("altered.xml", altered), 1, []string{
			"document: 97-0057", "xsd: valid", "signature: invalid", "invalid: esoed: signature does not verify"}},
		{"no GUID", "../../testdata/esoed/no-guid.xml", 1, []string{
			"message GUID: (none)", "/Message/Header: ", "MessageGUID [minOccurs]", "invalid: esoed: Header/MessageGUID is missing"}},
		{"not XML", write("notes.txt", []byte("just some notes\n")), 1, []string{"not XML"}},
		{"other namespace", write("other.xml", []byte(`<Message xmlns="urn:other"/>`)), 1, []string{
			"not an ЕСОЕД message: root element {urn:other}Message"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := cli(t, "esoed", "check", tc.file)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, code := cli(t, "esoed"); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
}
