package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/internal/testpki"
)

// TestESOEDEndpointRefusesImpersonationAndRevokedCertificates is the acceptance of findings 2
// and 12 of issue 17 through the real binary: the hub's ЕСОЕД endpoint, with a registry that
// names the sender's certificate by serial number only (as the central registry does) and the
// default revocation policy, refuses a self-signed certificate copying that serial number (as
// the client certificate and as the signer) and a certificate its CA's CRL lists, and accepts
// the genuine sender.
func TestESOEDEndpointRefusesImpersonationAndRevokedCertificates(t *testing.T) {
	dir := t.TempDir()
	pki := newTestCA(t, dir)
	sofia := issueTo(t, pki, dir, "sofia", "Столична община", 1, nil)
	issueTo(t, pki, dir, "plovdiv", "Община Пловдив", 2, nil) // the hub's
	varna := issueTo(t, pki, dir, "varna", "Община Варна", 3, nil)
	pki.Revoke(varna.cert, time.Now().Add(-time.Minute), 1)
	forged := issueTo(t, pki, dir, "forged", "Столична община", 4, sofia.cert)

	sofiaP := esoed.Participant{Identifier: "000696327", AdministrativeBodyName: "Столична община", GUID: "{676150f9-dfb5-4723-a236-fb007f3eb046}"}
	plovdivP := esoed.Participant{Identifier: "000471504", AdministrativeBodyName: "Община Пловдив", GUID: "{805fd26b-4b64-4823-a7b5-d40315c4b783}"}
	varnaP := esoed.Participant{Identifier: "000093442", AdministrativeBodyName: "Община Варна", GUID: "{0b3d7c1e-7a35-4d0e-9a8b-51f0c7a4d2e9}"}
	addr := freeAddr(t)
	writeTrustFile(t, filepath.Join(dir, "registry.yaml"), fmt.Sprintf(`participants:
  - { identifier: "000696327", guid: "%s", name: Столична община, status: Active, certificate_sn: %s }
  - { identifier: "000471504", guid: "%s", name: Община Пловдив, status: Active, certificate_file: plovdiv.pem }
  - { identifier: "000093442", guid: "%s", name: Община Варна, status: Active, certificate_file: varna.pem }
`, sofiaP.GUID, sofia.cert.SerialNumber.Text(16), plovdivP.GUID, varnaP.GUID))
	config := filepath.Join(dir, "hub.yaml")
	writeTrustFile(t, config, `transport: { type: embedded }
store: { type: sqlite }
ops: { listen: "${AISKAO_OPS_ADDR}" }
connectors:
  esoed:
    type: esoed
    participants:
      - { identifier: "000471504", guid: "{805fd26b-4b64-4823-a7b5-d40315c4b783}", name: Община Пловдив }
    listen: `+addr+`
    cert: plovdiv.pem
    key: plovdiv.key
    ca: ca.pem
    registry_file: registry.yaml
  received:
    type: file
    dir: out/received
routes:
  - { name: received, from: esoed, to: received }
`)
	h := startHub(t, config, t.TempDir(), "", "")
	url := "https://" + addr + "/EGovExchange"

	var n atomic.Int64
	message := func(from esoed.Participant, signer *esoed.Signer) []byte {
		m, _, err := esoed.ParseMessage(strings.NewReader(string(readSample(t, "registration-request.xml"))))
		if err != nil {
			t.Fatal(err)
		}
		m.Header.Sender, m.Header.Recipient, m.Header.MessageDate = from, plovdivP, time.Now()
		n.Add(1)
		m.Header.MessageGUID = fmt.Sprintf("{%08x-0000-4000-8000-%012x}", n.Load(), n.Load())
		raw, err := esoed.Marshal(m, signer)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	submit := func(client *testCert, raw []byte) ([]byte, *esoed.Fault) {
		t.Helper()
		answer, err := esoed.Submit(context.Background(), testpki.Client(&client.pair), url, raw)
		var f *esoed.Fault
		if errors.As(err, &f) {
			return nil, f
		}
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		return answer, nil
	}
	refused := func(name string, f *esoed.Fault, code, detail string) {
		t.Helper()
		if f == nil || !strings.HasPrefix(f.String, code+":") || !strings.Contains(f.Detail, detail) {
			t.Errorf("%s: fault %+v, want %s saying %q", name, f, code, detail)
		}
	}

	_, f := submit(forged, message(sofiaP, forged.signer))
	refused("serial number copied", f, "П.1-невалиден-сертификат", "does not chain to a configured trust anchor")
	_, f = submit(sofia, message(sofiaP, forged.signer))
	refused("signed with a copied serial number", f, "П.8", "does not chain to a configured trust anchor")
	_, f = submit(varna, message(varnaP, varna.signer))
	refused("revoked", f, "П.1-невалиден-сертификат", "revoked")
	if pki.CRLHits.Load() == 0 {
		t.Error("the CRL was never fetched")
	}
	answer, f := submit(sofia, message(sofiaP, sofia.signer))
	if f != nil || answer == nil {
		t.Fatalf("genuine sender: answer %s, fault %v", answer, f)
	}
	if m, _, err := esoed.ParseMessage(strings.NewReader(string(answer))); err != nil || m.Body.StatusResponse == nil ||
		m.Body.StatusResponse.Status != esoed.StatusWaitRegistration {
		t.Errorf("genuine sender: answer %s (%v)", answer, err)
	}
	hubOps := "http://" + h.opsAddr
	if n := len(entries(t, hubOps, "esoed.refused")); n != 3 {
		t.Errorf("%d refusals journaled, want 3", n)
	}
}

// testCert is a transport certificate of the tests, its key and its signer.
type testCert struct {
	cert   *x509.Certificate
	pair   tls.Certificate
	signer *esoed.Signer
}

// newTestCA makes a CA whose CRL the test serves, written to dir/ca.pem.
func newTestCA(t *testing.T, dir string) *testpki.Authority {
	t.Helper()
	ca := testpki.NewAuthority(t, "Test transport CA", 0)
	testpki.WritePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Cert.Raw)
	return ca
}

// issueTo makes a transport certificate naming the CA's CRL, written to dir/name.pem and .key;
// with copy set it is instead a forgery that copies copy's subject, issuer and serial.
func issueTo(t *testing.T, ca *testpki.Authority, dir, name, cn string, keyIndex int, copy *x509.Certificate) *testCert {
	t.Helper()
	o, subject := testpki.IssueOptions{CRL: true}, pkix.Name{CommonName: cn}
	if copy != nil {
		o.Serial, o.Forged, subject = copy.SerialNumber, true, copy.Subject
	}
	c := &testCert{}
	c.cert, c.pair = ca.Issue(subject, keyIndex, o)
	var err error
	if c.signer, err = esoed.SignerFromTLS(c.pair); err != nil {
		t.Fatal(err)
	}
	testpki.WritePair(t, c.pair, dir, name)
	return c
}

func writeTrustFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestESOEDCheckRevocation: `aiskao esoed check` fetches the signer's CRL; a revoked signer is
// invalid, and says so.
func TestESOEDCheckRevocation(t *testing.T) {
	dir := t.TempDir()
	pki := newTestCA(t, dir)
	good := issueTo(t, pki, dir, "good", "Столична община", 1, nil)
	bad := issueTo(t, pki, dir, "bad", "Столична община", 2, nil)
	pki.Revoke(bad.cert, time.Now().Add(-time.Minute), 1)
	sign := func(name string, c *testCert) string {
		out, err := c.signer.SignDated(readSample(t, "registration-request.xml"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".xml")
		writeTrustFile(t, p, string(out))
		return p
	}
	ca := filepath.Join(dir, "ca.pem")
	if out, code := cli(t, "esoed", "check", "-ca", ca, sign("good", good)); code != 0 || !strings.Contains(out, "signature: verified") {
		t.Errorf("good signer: exit %d\n%s", code, out)
	}
	out, code := cli(t, "esoed", "check", "-ca", ca, sign("bad", bad))
	if code != 1 || !strings.Contains(out, "signer not trusted: the signer's certificate is revoked") || !strings.Contains(out, "invalid: the signer is not trusted") {
		t.Errorf("revoked signer: exit %d\n%s", code, out)
	}
	if pki.CRLHits.Load() == 0 {
		t.Error("the CRL was never fetched")
	}
}
