package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
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
	// The ССЕВ node's certificate as its own anchor (its CA's is not published with the sample).
	ssev := write("ssev.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signerOf(t, real).Raw}))
	demoCA := "../../configs/esoed/demo-ca.crt"
	// The sample signed with the demo key of Столична община, and with a self-signed
	// certificate that copies its serial number.
	demoSigned, forged := signSample(t, false), signSample(t, true)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"real signed, no -ca", []string{"../../testdata/esoed/status-response.xml"}, 1, []string{
			"MSG_DocumentStatusResponse", "sender: 1770988091003 ССЕВ тест", "recipient: 204141153",
			"message GUID: {f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}", "document: 97-0056 of 2021-08-19",
			"xsd: valid", "signer: CN=edelivery-test.obmen.local", "signature: intact, but signer not trusted: no -ca was given",
			"invalid: the signer is not trusted"}},
		{"real signed, -untrusted-ok", []string{"-untrusted-ok", "../../testdata/esoed/status-response.xml"}, 0, []string{
			"signature: intact, signer not trusted, accepted (-untrusted-ok)", "\nvalid\n"}},
		{"real signed, trusted, expired since", []string{"-ca", ssev, "../../testdata/esoed/status-response.xml"}, 0, []string{
			"signature: verified, signer trusted at the message's date 2021-08-24 01:02:54 +03:00", "\nvalid\n"}},
		{"real signed, another anchor", []string{"-ca", demoCA, "../../testdata/esoed/status-response.xml"}, 1, []string{
			"signer not trusted: the signer's certificate does not chain to the -ca certificates at the message's date 2021-08-24",
			"invalid: the signer is not trusted"}},
		{"demo signed, revocation unknown", []string{"-ca", demoCA, demoSigned}, 1, []string{
			"signer not trusted: the signer's revocation status cannot be learnt (-revocation prefer accepts it)", "names no CRL distribution point"}},
		{"demo signed", []string{"-ca", demoCA, "-revocation", "prefer", demoSigned}, 0, []string{"signature: verified", "\nvalid\n"}},
		{"serial number copied", []string{"-ca", demoCA, forged}, 1, []string{"signer not trusted", "unknown authority", "invalid: the signer is not trusted"}},
		{"unsigned", []string{"../../testdata/esoed/registration-request.xml"}, 1, []string{
			"document kind: Заявление", "xsd: valid", "signature: absent: the specification requires every exchanged message to be signed",
			"invalid: the message is not signed"}},
		{"unsigned, -unsigned-ok", []string{"-unsigned-ok", "../../testdata/esoed/registration-request.xml"}, 0, []string{
			"signature: absent, accepted (-unsigned-ok)", "\nvalid\n"}},
		{"altered", []string{write("altered.xml", altered)}, 1, []string{
			"document: 97-0057", "xsd: valid", "signature: invalid", "invalid: esoed: signature does not verify"}},
		{"no GUID", []string{"../../testdata/esoed/no-guid.xml"}, 1, []string{
			"message GUID: (none)", "/Message/Header: ", "MessageGUID [minOccurs]", "invalid: esoed: Header/MessageGUID is missing"}},
		{"not XML", []string{write("notes.txt", []byte("just some notes\n"))}, 1, []string{"not XML"}},
		{"other namespace", []string{write("other.xml", []byte(`<Message xmlns="urn:other"/>`))}, 1, []string{
			"not an ЕСОЕД message: root element {urn:other}Message"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := cli(t, append([]string{"esoed", "check"}, tc.args...)...)
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
	if out, code := cli(t, "esoed", "check", "-revocation", "maybe", "x.xml"); code == 0 || !strings.Contains(out, "-revocation") {
		t.Errorf("bad -revocation: exit %d\n%s", code, out)
	}
	if _, code := cli(t, "esoed"); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
}

func signerOf(t *testing.T, raw []byte) *x509.Certificate {
	t.Helper()
	s, err := esoed.VerifySignatureIntegrity(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s.Certificate
}

// signSample signs the sample registration request, dated now, with the demo key of Столична
// община, or (forged) with a self-signed certificate copying its subject and serial number,
// and returns the file.
func signSample(t *testing.T, forged bool) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair("../../configs/esoed/demo-sofia.crt", "../../configs/esoed/demo-sofia.key")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := esoed.SignerFromTLS(pair)
	if err != nil {
		t.Fatal(err)
	}
	if forged {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := *signer.Certificate()
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, &x509.Certificate{Subject: tmpl.Issuer, PublicKey: &key.PublicKey}, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		if signer, err = esoed.NewSigner(key, cert); err != nil {
			t.Fatal(err)
		}
	}
	out, err := signer.SignDated(readSample(t, "registration-request.xml"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "signed.xml")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
