package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
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
	sofia := pki.issue(t, dir, "sofia", "Столична община", nil)
	pki.issue(t, dir, "plovdiv", "Община Пловдив", nil) // the hub's
	varna := pki.issue(t, dir, "varna", "Община Варна", nil)
	pki.revoked.Store(varna.cert.SerialNumber.Text(16))
	forged := pki.issue(t, dir, "forged", "Столична община", sofia.cert)

	sofiaP := esoed.Participant{Identifier: "000696327", AdministrativeBodyName: "Столична община", GUID: "{676150f9-dfb5-4723-a236-fb007f3eb046}"}
	plovdivP := esoed.Participant{Identifier: "000471504", AdministrativeBodyName: "Община Пловдив", GUID: "{805fd26b-4b64-4823-a7b5-d40315c4b783}"}
	varnaP := esoed.Participant{Identifier: "000093442", AdministrativeBodyName: "Община Варна", GUID: "{0b3d7c1e-7a35-4d0e-9a8b-51f0c7a4d2e9}"}
	addr := freeAddr(t)
	writeTrustFile(t, filepath.Join(dir, "registry.yaml"), fmt.Sprintf(`participants:
  - { identifier: "000696327", guid: "%s", name: Столична община, status: Active, certificate_sn: %s }
  - { identifier: "000471504", guid: "%s", name: Община Пловдив, status: Active, certificate_file: plovdiv.crt }
  - { identifier: "000093442", guid: "%s", name: Община Варна, status: Active, certificate_file: varna.crt }
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
    cert: plovdiv.crt
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
		hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{client.pair}}}}
		answer, err := esoed.Submit(context.Background(), hc, url, raw)
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
	if pki.crlHits.Load() == 0 {
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

// testCA is a certification authority whose CRL a server in the test serves.
type testCA struct {
	cert    *x509.Certificate
	key     *rsa.PrivateKey
	crl     *httptest.Server
	crlHits atomic.Int32
	revoked atomic.Value // serial (hex) of the one certificate revoked
}

type testCert struct {
	cert   *x509.Certificate
	pair   tls.Certificate
	signer *esoed.Signer
}

func newTestCA(t *testing.T, dir string) *testCA {
	t.Helper()
	ca := &testCA{}
	var err error
	if ca.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test transport CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	ca.cert, _ = x509.ParseCertificate(der)
	writeTrustFile(t, filepath.Join(dir, "ca.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	ca.crl = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ca.crlHits.Add(1)
		list := &x509.RevocationList{Number: big.NewInt(int64(ca.crlHits.Load())), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
		if s, ok := ca.revoked.Load().(string); ok {
			serial, _ := new(big.Int).SetString(s, 16)
			list.RevokedCertificateEntries = []x509.RevocationListEntry{{SerialNumber: serial, RevocationTime: time.Now().Add(-time.Minute), ReasonCode: 1}}
		}
		der, err := x509.CreateRevocationList(rand.Reader, list, ca.cert, ca.key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(der)
	}))
	t.Cleanup(ca.crl.Close)
	return ca
}

// issue makes a transport certificate naming the CRL, written to dir/name.crt and .key; with
// copy set it is instead a self-signed one that copies copy's subject, issuer and serial.
func (ca *testCA) issue(t *testing.T, dir, name, cn string, copy *x509.Certificate) *testCert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: []string{"localhost"},
		IPAddresses: nil, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		CRLDistributionPoints: []string{ca.crl.URL + "/ca.crl"}}
	parent, signKey := ca.cert, ca.key
	if copy != nil {
		tmpl.SerialNumber, tmpl.Subject = copy.SerialNumber, copy.Subject
		parent, signKey = &x509.Certificate{Subject: ca.cert.Subject, PublicKey: &key.PublicKey}, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCert{}
	c.cert, _ = x509.ParseCertificate(der)
	c.pair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c.cert}
	if c.signer, err = esoed.SignerFromTLS(c.pair); err != nil {
		t.Fatal(err)
	}
	writeTrustFile(t, filepath.Join(dir, name+".crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeTrustFile(t, filepath.Join(dir, name+".key"), string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
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
	good := pki.issue(t, dir, "good", "Столична община", nil)
	bad := pki.issue(t, dir, "bad", "Столична община", nil)
	pki.revoked.Store(bad.cert.SerialNumber.Text(16))
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
	if pki.crlHits.Load() == 0 {
		t.Error("the CRL was never fetched")
	}
}
