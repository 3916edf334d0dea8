package esoed

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// testKeys are RSA keys shared between tests: generating them is slow.
var testKeys = struct {
	sync.Mutex
	pool []*rsa.PrivateKey
}{}

func testKey(t testing.TB, i int) *rsa.PrivateKey {
	testKeys.Lock()
	defer testKeys.Unlock()
	for len(testKeys.pool) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		testKeys.pool = append(testKeys.pool, k)
	}
	return testKeys.pool[i]
}

// testPKI is a certification authority with its CRL and OCSP responder served in-process.
type testPKI struct {
	t    testing.TB
	ca   *x509.Certificate
	key  *rsa.PrivateKey
	srv  *httptest.Server
	next int64

	mu       sync.Mutex
	revoked  map[string]x509.RevocationListEntry // by serial, hex
	crlDown  bool                                // the distribution point answers 503
	crlStale bool                                // the list's nextUpdate is past
	crlKey   *rsa.PrivateKey                     // signs the CRL instead of the CA's key
	// responder signs OCSP answers instead of the CA, with responderKey.
	responder    *x509.Certificate
	responderKey *rsa.PrivateKey
	crlHits      atomic.Int32
	ocspHits     atomic.Int32
}

// newPKI makes a CA (key index keyIndex) named name.
func newPKI(t testing.TB, name string, keyIndex int) *testPKI {
	p := &testPKI{t: t, key: testKey(t, keyIndex), revoked: map[string]x509.RevocationListEntry{}, next: 1000}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Country: []string{"BG"}},
		NotBefore: time.Now().AddDate(-10, 0, 0), NotAfter: time.Now().AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	mux := http.NewServeMux()
	mux.HandleFunc("/crl", p.serveCRL)
	mux.HandleFunc("/ocsp", p.serveOCSP)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testPKI) serveCRL(w http.ResponseWriter, _ *http.Request) {
	p.crlHits.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.crlDown {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(int64(p.crlHits.Load())), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	if p.crlStale {
		tmpl.ThisUpdate, tmpl.NextUpdate = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	for _, e := range p.revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, e)
	}
	key := p.key
	if p.crlKey != nil {
		key = p.crlKey
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, p.ca, key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(der)
}

func (p *testPKI) serveOCSP(w http.ResponseWriter, r *http.Request) {
	p.ocspHits.Add(1)
	body, _ := io.ReadAll(r.Body)
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	p.mu.Lock()
	e, revoked := p.revoked[req.SerialNumber.Text(16)]
	p.mu.Unlock()
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	if revoked {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, e.RevocationTime, e.ReasonCode
	}
	responder, key := p.ca, p.key
	if p.responder != nil {
		responder, key = p.responder, p.responderKey
		tmpl.Certificate = p.responder // carried in the answer, as delegated responders do
	}
	der, err := ocsp.CreateResponse(p.ca, responder, tmpl, key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

// certOpts shape a certificate the CA issues.
type certOpts struct {
	crl, ocsp           bool     // name the distribution point, the responder
	serial              *big.Int // nil: the next one
	notBefore, notAfter time.Time
	selfSigned          bool          // not issued by the CA at all: signed with its own key
	keyUsage            x509.KeyUsage // 0: digital signature and key encipherment
}

// issue makes a transport certificate for cn with key keyIndex and returns its signer.
func (p *testPKI) issue(cn string, keyIndex int, o certOpts) *Signer {
	t := p.t
	t.Helper()
	k := testKey(t, keyIndex)
	if o.serial == nil {
		p.next++
		o.serial = big.NewInt(p.next<<16 + int64(keyIndex))
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{SerialNumber: o.serial, Subject: pkix.Name{CommonName: cn, Country: []string{"BG"}},
		NotBefore: o.notBefore, NotAfter: o.notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	if o.keyUsage != 0 {
		tmpl.KeyUsage = o.keyUsage
	}
	if o.crl {
		tmpl.CRLDistributionPoints = []string{p.srv.URL + "/crl"}
	}
	if o.ocsp {
		tmpl.OCSPServer = []string{p.srv.URL + "/ocsp"}
	}
	parent, signKey := p.ca, p.key
	if o.selfSigned {
		// A copy of the CA's name as issuer, the attacker's own key: it only looks the part.
		parent, signKey = &x509.Certificate{Subject: p.ca.Subject, PublicKey: &k.PublicKey}, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// delegate makes the OCSP answers come from a responder the CA certified, for OCSP signing
// (forOCSP) or for something else.
func (p *testPKI) delegate(forOCSP bool) {
	k := testKey(p.t, 6)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(99), Subject: pkix.Name{CommonName: "Test OCSP responder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if forOCSP {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.responder, _ = x509.ParseCertificate(der)
	p.responderKey = k
}

// revoke lists cert as revoked at when for reason.
func (p *testPKI) revoke(cert *x509.Certificate, when time.Time, reason int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked[cert.SerialNumber.Text(16)] = x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: when, ReasonCode: reason}
}

// trust is a trust in this CA alone, checking revocation with mode.
func (p *testPKI) trust(mode RevocationMode) *Trust {
	p.t.Helper()
	var rev *Revocation
	if mode != "" {
		rev = &Revocation{Mode: mode}
	}
	tr, err := NewTrust([]*x509.Certificate{p.ca}, nil, rev)
	if err != nil {
		p.t.Fatal(err)
	}
	return tr
}

func chainOf(cs ...*x509.Certificate) []*x509.Certificate { return cs }
