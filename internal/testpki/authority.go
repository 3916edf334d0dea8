package testpki

// This file is the RSA certification authority of the ЕСОЕД tests (signatures there are RSA):
// the certificates it issues, forgeries that only look issued by it, and its CRL and OCSP
// responder served over HTTP in the test's own process.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

var rsaKeys = struct {
	sync.Mutex
	pool []*rsa.PrivateKey
}{}

// RSAKey returns RSA key number i; keys are shared between the tests of a process, generating
// them is slow.
func RSAKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaKeys.Lock()
	defer rsaKeys.Unlock()
	for len(rsaKeys.pool) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rsaKeys.pool = append(rsaKeys.pool, k)
	}
	return rsaKeys.pool[i]
}

// Authority is a certification authority with its CRL (at URL+"/crl") and OCSP responder (at
// URL+"/ocsp").
type Authority struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
	URL  string
	// CRLHits and OCSPHits count the requests the servers answered.
	CRLHits, OCSPHits atomic.Int32

	t      testing.TB
	serial atomic.Int64

	mu           sync.Mutex
	revoked      map[string]x509.RevocationListEntry // by serial, hex
	crlDown      bool
	crlStale     bool
	crlKey       *rsa.PrivateKey
	responder    *x509.Certificate
	responderKey *rsa.PrivateKey
}

// NewAuthority makes a CA named name with RSA key keyIndex, valid from ten years ago for twenty,
// and starts its servers until the test ends.
func NewAuthority(t testing.TB, name string, keyIndex int) *Authority {
	t.Helper()
	ca := &Authority{t: t, Key: RSAKey(t, keyIndex), revoked: map[string]x509.RevocationListEntry{}}
	ca.serial.Store(1000)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Country: []string{"BG"}},
		NotBefore: time.Now().AddDate(-10, 0, 0), NotAfter: time.Now().AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.Key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	ca.Cert, _ = x509.ParseCertificate(der)
	mux := http.NewServeMux()
	mux.HandleFunc("/crl", ca.serveCRL)
	mux.HandleFunc("/ocsp", ca.serveOCSP)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ca.URL = srv.URL
	return ca
}

// IssuedBy makes the CA an intermediate authority that parent certified.
func (ca *Authority) IssuedBy(parent *Authority) {
	ca.t.Helper()
	tmpl := *ca.Cert
	tmpl.SerialNumber = big.NewInt(parent.serial.Add(1))
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, parent.Cert, &ca.Key.PublicKey, parent.Key)
	if err != nil {
		ca.t.Fatal(err)
	}
	ca.Cert, _ = x509.ParseCertificate(der)
}

// IssueOptions shape a certificate the Authority issues.
type IssueOptions struct {
	CRL, OCSP           bool     // name the distribution point, the responder
	Serial              *big.Int // nil: the next one
	NotBefore, NotAfter time.Time
	KeyUsage            x509.KeyUsage // 0: digital signature and key encipherment
	// Forged makes a certificate the CA never issued: the CA's name as issuer, signed with the
	// certificate's own key.
	Forged bool
}

// Issue makes a certificate for subject with key keyIndex, valid for TLS server and client
// use at localhost, and returns it as a TLS key pair too.
func (ca *Authority) Issue(subject pkix.Name, keyIndex int, o IssueOptions) (*x509.Certificate, tls.Certificate) {
	t := ca.t
	t.Helper()
	k := RSAKey(t, keyIndex)
	if o.Serial == nil {
		o.Serial = big.NewInt(ca.serial.Add(1)<<16 + int64(keyIndex))
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if o.KeyUsage == 0 {
		o.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{SerialNumber: o.Serial, Subject: subject, NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		DNSNames: []string{"localhost"}, KeyUsage: o.KeyUsage,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if o.CRL {
		tmpl.CRLDistributionPoints = []string{ca.URL + "/crl"}
	}
	if o.OCSP {
		tmpl.OCSPServer = []string{ca.URL + "/ocsp"}
	}
	parent, signKey := ca.Cert, ca.Key
	if o.Forged {
		parent, signKey = &x509.Certificate{Subject: ca.Cert.Subject, PublicKey: &k.PublicKey}, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: c}
}

// Revoke lists cert as revoked since when for reason, in the CRL and the OCSP answers.
func (ca *Authority) Revoke(cert *x509.Certificate, when time.Time, reason int) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.revoked[cert.SerialNumber.Text(16)] = x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: when, ReasonCode: reason}
}

// CRLDown makes the distribution point answer 503; CRLStale serves a list whose next update
// is past; SignCRLWith signs the list with another key than the CA's.
func (ca *Authority) CRLDown()                        { ca.set(func() { ca.crlDown = true }) }
func (ca *Authority) CRLStale()                       { ca.set(func() { ca.crlStale = true }) }
func (ca *Authority) SignCRLWith(key *rsa.PrivateKey) { ca.set(func() { ca.crlKey = key }) }

func (ca *Authority) set(f func()) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	f()
}

// Delegate makes the OCSP answers come from a responder the CA certified with key keyIndex,
// for OCSP signing (forOCSP) or for client authentication only.
func (ca *Authority) Delegate(keyIndex int, forOCSP bool) {
	k := RSAKey(ca.t, keyIndex)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial.Add(1)), Subject: pkix.Name{CommonName: "Test OCSP responder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if forOCSP {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &k.PublicKey, ca.Key)
	if err != nil {
		ca.t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	ca.set(func() { ca.responder, ca.responderKey = c, k })
}

func (ca *Authority) serveCRL(w http.ResponseWriter, _ *http.Request) {
	n := ca.CRLHits.Add(1)
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.crlDown {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(int64(n)), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	if ca.crlStale {
		tmpl.ThisUpdate, tmpl.NextUpdate = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	for _, e := range ca.revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, e)
	}
	key := ca.Key
	if ca.crlKey != nil {
		key = ca.crlKey
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(der)
}

func (ca *Authority) serveOCSP(w http.ResponseWriter, r *http.Request) {
	ca.OCSPHits.Add(1)
	body, _ := io.ReadAll(r.Body)
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	ca.mu.Lock()
	e, revoked := ca.revoked[req.SerialNumber.Text(16)]
	responder, key := ca.Cert, ca.Key
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	if ca.responder != nil {
		responder, key = ca.responder, ca.responderKey
		tmpl.Certificate = ca.responder // carried in the answer, as delegated responders do
	}
	ca.mu.Unlock()
	if revoked {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, e.RevocationTime, e.ReasonCode
	}
	der, err := ocsp.CreateResponse(ca.Cert, responder, tmpl, key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

// WritePEM writes der as a PEM block of type typ to path.
func WritePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
