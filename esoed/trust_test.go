package esoed

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/testpki"
)

// signedAt builds the sample registration request from Sofia to Plovdiv dated at, signed by s.
func signedAt(t *testing.T, s *Signer, at time.Time) []byte {
	t.Helper()
	m, _, err := ParseMessage(bytes.NewReader(sample(t, "registration-request.xml")))
	if err != nil {
		t.Fatal(err)
	}
	m.Header.Sender, m.Header.Recipient, m.Header.MessageGUID, m.Header.MessageDate = sofia, plovdiv, guid1, at
	out, err := Marshal(m, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImpersonationBySerial is finding 2 of issue 17: where the registry gives only the serial
// number of the sender's certificate (as the central registry does), a self-signed certificate
// that copies it passed П.6 and П.8. It must pass neither, with trust anchors or without.
func TestImpersonationBySerial(t *testing.T) {
	ctx := context.Background()
	pki := newPKI(t, "Test transport CA", 0)
	victim := pki.issue("Столична община", 1, certOpts{})
	forger := pki.issue("Столична община", 3, certOpts{Serial: victim.Certificate().SerialNumber, Forged: true})
	if forger.Certificate().SerialNumber.Cmp(victim.Certificate().SerialNumber) != 0 || forger.Certificate().Issuer.String() != victim.Certificate().Issuer.String() {
		t.Fatal("the forgery does not copy the serial number and issuer")
	}
	// Another CA the endpoint trusts too, which issues the same serial number to someone else.
	other := newPKI(t, "Other transport CA", 4)
	sameSerial := other.issue("Столична община", 3, certOpts{Serial: victim.Certificate().SerialNumber})
	both, err := NewTrust([]*x509.Certificate{pki.Cert, other.Cert}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	bySerial := func(issuer string) Registry {
		r, err := NewFileRegistry(
			Entity{Identifier: sofia.Identifier, GUID: sofia.GUID, Name: sofia.AdministrativeBodyName, CertificateSN: victim.Certificate().SerialNumber.Text(16), CertificateIssuer: issuer},
			Entity{Identifier: plovdiv.Identifier, GUID: plovdiv.GUID, Name: plovdiv.AdministrativeBodyName, CertificateSN: "1"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	forged, genuine := signedAt(t, forger, time.Now()), signedAt(t, victim, time.Now())
	for _, tc := range []struct {
		name           string
		trust          *Trust
		issuer         string
		client         *Signer
		msg            []byte
		code           string // "" accepted
		untrustedError bool
	}{
		{"forged client and signature, no ca", nil, "", forger, forged, "П.6", true},
		{"forged client and signature, ca set", pki.trust(""), "", forger, forged, "П.6", true},
		{"genuine client, forged signature, ca set", pki.trust(""), "", victim, forged, "П.8", true},
		{"genuine client and signature, no ca", nil, "", victim, genuine, "П.6", true},
		{"genuine", pki.trust(""), "", victim, genuine, "", false},
		{"genuine, issuer in the registry", pki.trust(""), pki.Cert.Subject.String(), victim, genuine, "", false},
		{"same serial from another trusted CA, issuer in the registry", both, pki.Cert.Subject.String(), sameSerial, genuine, "П.6", false},
		{"registry names another issuer", pki.trust(""), "CN=Someone else", victim, genuine, "П.6", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recv := &ReceiveChecks{Self: []Participant{plovdiv}, Registry: bySerial(tc.issuer), Trust: tc.trust}
			_, _, err := recv.Incoming(ctx, tc.msg, chainOf(tc.client.Certificate()))
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Code != tc.code || ce.Outcome != SenderError {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if errors.Is(err, ErrUntrusted) != tc.untrustedError {
				t.Errorf("untrusted: %v", err)
			}
		})
	}
}

// TestVerifySignatureBuildsChain is finding 2's second half: VerifySignature trusted whatever
// certificate KeyInfo carried.
func TestVerifySignatureBuildsChain(t *testing.T) {
	ctx := context.Background()
	pki := newPKI(t, "Test root CA", 0)
	trust := pki.trust("")
	genuine := pki.issue("sofia", 1, certOpts{})
	selfSigned := pki.issue("sofia", 3, certOpts{Forged: true, Serial: genuine.Certificate().SerialNumber})
	stranger := newPKI(t, "Unknown CA", 4).issue("sofia", 1, certOpts{})

	// An intermediate CA under the root, whose certificate the signer carries in KeyInfo.
	inter := newPKI(t, "Test issuing CA", 5)
	inter.IssuedBy(pki.Authority)
	leaf := inter.issue("sofia", 2, certOpts{})
	withChain, err := NewSigner(leaf.key, leaf.Certificate(), inter.Cert)
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	for _, tc := range []struct {
		name  string
		s     *Signer
		trust *Trust
		chain int // 0: refused as untrusted
	}{
		{"issued by the anchor", genuine, trust, 2},
		{"self-signed copy", selfSigned, trust, 0},
		{"issued by an unknown CA", stranger, trust, 0},
		{"no trust anchors", genuine, nil, 0},
		{"intermediate in KeyInfo", withChain, trust, 3},
		{"intermediate not presented", leaf, trust, 0},
		{"not for signatures", pki.issue("sofia", 1, certOpts{KeyUsage: x509.KeyUsageKeyEncipherment}), trust, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := VerifySignature(ctx, signedAt(t, tc.s, now), tc.trust)
			if tc.chain == 0 {
				if !errors.Is(err, ErrUntrusted) {
					t.Fatalf("got %v, want untrusted", err)
				}
				return
			}
			if err != nil || len(s.Chain) != tc.chain || !s.Certificate.Equal(tc.s.Certificate()) {
				t.Fatalf("got %v, chain %d", err, len(s.Chain))
			}
		})
	}
	// Integrity alone still tells who holds the key, and nothing more.
	if s, err := VerifySignatureIntegrity(signedAt(t, selfSigned, now)); err != nil || s.Chain != nil {
		t.Errorf("integrity: %v", err)
	}
}

// TestSigningTime: a certificate is judged at the message's signing time (its MessageDate), so
// an archived message verifies after the certificate expired; one dated after it does not.
func TestSigningTime(t *testing.T) {
	ctx := context.Background()
	pki := newPKI(t, "Test transport CA", 0)
	now := time.Now()
	expired := pki.issue("sofia", 1, certOpts{NotBefore: now.AddDate(0, 0, -10), NotAfter: now.AddDate(0, 0, -5), CRL: true})
	trust := pki.trust(RevocationRequire)
	if _, err := VerifySignature(ctx, signedAt(t, expired, now.AddDate(0, 0, -7)), trust); err != nil {
		t.Errorf("archived message: %v", err)
	}
	if _, err := VerifySignature(ctx, signedAt(t, expired, now.AddDate(0, 0, -1)), trust); !errors.Is(err, ErrUntrusted) {
		t.Errorf("dated after expiry: %v", err)
	}
	if _, err := VerifySignature(ctx, signedAt(t, expired, now.AddDate(0, 0, -11)), trust); !errors.Is(err, ErrUntrusted) {
		t.Errorf("dated before the certificate: %v", err)
	}
	// Revoked after the message was signed, for a reason that does not put the key in doubt:
	// the archived message still verifies. A compromised key puts every date in doubt.
	pki.Revoke(expired.Certificate(), now.AddDate(0, 0, -6), 4) // superseded
	if _, err := VerifySignature(ctx, signedAt(t, expired, now.AddDate(0, 0, -7)), pki.trust(RevocationRequire)); err != nil {
		t.Errorf("revoked (superseded) after signing: %v", err)
	}
	if _, err := VerifySignature(ctx, signedAt(t, expired, now.AddDate(0, 0, -5).Add(-time.Hour)), pki.trust(RevocationRequire)); !errors.Is(err, ErrRevoked) {
		t.Errorf("signed after revocation: %v", err)
	}
	pki.Revoke(expired.Certificate(), now.AddDate(0, 0, -6), 1) // key compromise
	if _, err := VerifySignature(ctx, signedAt(t, expired, now.AddDate(0, 0, -7)), pki.trust(RevocationRequire)); !errors.Is(err, ErrRevoked) {
		t.Errorf("key compromised after signing: %v", err)
	}
}

// TestRevocation is finding 12: a certificate that the CRL at its distribution point lists was
// accepted, and the CRL was never fetched. CRL and OCSP from a server in the test, signed by the
// CA; the policy decides when neither answers.
func TestRevocation(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		name  string
		mode  RevocationMode
		opts  certOpts
		setup func(p *testPKI, c *x509.Certificate)
		want  error // nil: accepted
		crl   int32 // fetches of the CRL expected over two checks
		ocsp  int32
	}{
		{"CRL lists it", RevocationRequire, certOpts{CRL: true}, func(p *testPKI, c *x509.Certificate) { p.Revoke(c, now.Add(-time.Hour), 0) }, ErrRevoked, 1, 0},
		{"CRL lists it, prefer", RevocationPrefer, certOpts{CRL: true}, func(p *testPKI, c *x509.Certificate) { p.Revoke(c, now.Add(-time.Hour), 0) }, ErrRevoked, 1, 0},
		{"CRL does not list it, cached", RevocationRequire, certOpts{CRL: true}, nil, nil, 1, 0},
		{"OCSP revoked", RevocationRequire, certOpts{OCSP: true, CRL: true}, func(p *testPKI, c *x509.Certificate) { p.Revoke(c, now.Add(-time.Hour), 1) }, ErrRevoked, 0, 1},
		{"OCSP good, cached", RevocationRequire, certOpts{OCSP: true}, nil, nil, 0, 1},
		{"CRL down, require", RevocationRequire, certOpts{CRL: true}, func(p *testPKI, _ *x509.Certificate) { p.CRLDown() }, ErrRevocationUnknown, 1, 0},
		{"CRL down, prefer", RevocationPrefer, certOpts{CRL: true}, func(p *testPKI, _ *x509.Certificate) { p.CRLDown() }, nil, 1, 0},
		{"CRL down, off", RevocationOff, certOpts{CRL: true}, func(p *testPKI, _ *x509.Certificate) { p.CRLDown() }, nil, 0, 0},
		{"no distribution point, require", RevocationRequire, certOpts{}, nil, ErrRevocationUnknown, 0, 0},
		{"no distribution point, prefer", RevocationPrefer, certOpts{}, nil, nil, 0, 0},
		{"CRL not signed by the issuer", RevocationRequire, certOpts{CRL: true}, func(p *testPKI, _ *x509.Certificate) { p.SignCRLWith(testpki.RSAKey(t, 3)) }, ErrRevocationUnknown, 1, 0},
		{"CRL out of date", RevocationRequire, certOpts{CRL: true}, func(p *testPKI, _ *x509.Certificate) { p.CRLStale() }, ErrRevocationUnknown, 1, 0},
		{"OCSP from a delegated responder", RevocationRequire, certOpts{OCSP: true}, func(p *testPKI, c *x509.Certificate) {
			p.Delegate(6, true)
			p.Revoke(c, now.Add(-time.Hour), 1)
		}, ErrRevoked, 0, 1},
		{"OCSP from a responder not certified for it", RevocationRequire, certOpts{OCSP: true}, func(p *testPKI, c *x509.Certificate) {
			p.Delegate(6, false)
			p.Revoke(c, now.Add(-time.Hour), 1) // even a true answer is not taken from it
		}, ErrRevocationUnknown, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pki := newPKI(t, "Test transport CA", 0)
			s := pki.issue("sofia", 1, tc.opts)
			if tc.setup != nil {
				tc.setup(pki, s.Certificate())
			}
			trust := pki.trust(tc.mode)
			for i := range 2 {
				_, err := trust.Verify(ctx, chainOf(s.Certificate()), now, x509.ExtKeyUsageClientAuth)
				if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Fatalf("check %d: got %v, want %v", i+1, err, tc.want)
				}
			}
			if pki.CRLHits.Load() != tc.crl || pki.OCSPHits.Load() != tc.ocsp {
				t.Errorf("CRL fetched %d times, OCSP asked %d times; want %d, %d", pki.CRLHits.Load(), pki.OCSPHits.Load(), tc.crl, tc.ocsp)
			}
		})
	}
}

// TestRevocationErrorsSay: the refusal names the certificate and where its status was learnt.
func TestRevocationErrorsSay(t *testing.T) {
	pki := newPKI(t, "Test transport CA", 0)
	s := pki.issue("Община Пловдив", 1, certOpts{CRL: true})
	pki.Revoke(s.Certificate(), time.Now().Add(-time.Hour), 1)
	_, err := pki.trust(RevocationRequire).Verify(context.Background(), chainOf(s.Certificate()), time.Now(), x509.ExtKeyUsageClientAuth)
	for _, w := range []string{"revoked", "Община Пловдив", s.Certificate().SerialNumber.Text(16), "CRL " + pki.URL + "/crl"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%v lacks %q", err, w)
		}
	}
	if _, err := NewTrust(nil, nil, nil); err == nil || !strings.Contains(err.Error(), "trust anchor") {
		t.Errorf("no anchors: %v", err)
	}
}

// TestSignDated: a message signed now carries now as its MessageDate, the time its signer is
// judged at.
func TestSignDated(t *testing.T) {
	pki := newPKI(t, "Test transport CA", 0)
	s := pki.issue("sofia", 1, certOpts{})
	at := time.Now().Truncate(time.Millisecond)
	// The sample is dated 2024, before the certificate: as it is, its signer is not trusted.
	old, err := s.Sign(sample(t, "registration-request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySignature(context.Background(), old, pki.trust("")); !errors.Is(err, ErrUntrusted) {
		t.Errorf("signed with the sample's date: %v", err)
	}
	out, err := s.SignDated(sample(t, "registration-request.xml"), at)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifySignature(context.Background(), out, pki.trust(""))
	if err != nil || !v.At.Equal(at) {
		t.Fatalf("%v, at %v want %v", err, v, at)
	}
	if _, err := ParseHeader(bytes.NewReader(out)); err != nil {
		t.Errorf("dated message: %v", err)
	}
	noDate := bytes.Replace(bytes.Replace(sample(t, "registration-request.xml"), []byte("<MessageDate>"), []byte("<Other>"), 1), []byte("</MessageDate>"), []byte("</Other>"), 1)
	if _, err := s.SignDated(noDate, at); err == nil || !strings.Contains(err.Error(), "MessageDate") {
		t.Errorf("no MessageDate: %v", err)
	}
}

// TestRevocationCacheBounded: the cache holds at most MaxEntries answers; past that it starts
// again rather than grow.
func TestRevocationCacheBounded(t *testing.T) {
	pki := newPKI(t, "Test transport CA", 0)
	rev := &Revocation{Mode: RevocationRequire, MaxEntries: 2}
	for i := range 5 {
		s := pki.issue("sofia", 1, certOpts{OCSP: true})
		if err := rev.Check(context.Background(), s.Certificate(), pki.Cert, time.Now()); err != nil {
			t.Fatalf("certificate %d: %v", i, err)
		}
		rev.mu.Lock()
		n := len(rev.ocsps) + len(rev.crls)
		rev.mu.Unlock()
		if n > 2 {
			t.Fatalf("%d answers cached, bound 2", n)
		}
	}
}

// FuzzVerifySignatureIntegrity: any input gives an answer or an error, never a panic.
func FuzzVerifySignatureIntegrity(f *testing.F) {
	for _, s := range []string{"status-response.xml", "registration-request.xml", "error.xml"} {
		raw, err := os.ReadFile(filepath.Join(samples, s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := VerifySignatureIntegrity(raw)
		if err == nil && s.Certificate == nil {
			t.Error("verified without a certificate")
		}
	})
}

// TestSignatureOfOneMessageOnly: a signed message followed by a second root element (the
// wrapped forgery of finding 5) does not verify, and is not signed either.
func TestSignatureOfOneMessageOnly(t *testing.T) {
	pki := newPKI(t, "Test transport CA", 0)
	s := pki.issue("sofia", 1, certOpts{})
	signed := signedAt(t, s, time.Now())
	wrapped := append(bytes.Clone(signed), sample(t, "registration-request.xml")[len(`<?xml version="1.0" encoding="utf-8"?>`):]...)
	if _, err := VerifySignature(context.Background(), wrapped, pki.trust("")); err == nil || !strings.Contains(err.Error(), "exactly one root element") {
		t.Errorf("wrapped: %v", err)
	}
	if _, err := s.Sign(wrapped); err == nil || !strings.Contains(err.Error(), "2 root elements") {
		t.Errorf("sign wrapped: %v", err)
	}
}
