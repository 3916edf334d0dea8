package esoed

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/aiskao/aiskao/internal/testpki"
)

// testPKI is a certification authority with its CRL and OCSP responder served in-process.
type testPKI struct {
	*testpki.Authority
	t testing.TB
}

// certOpts shape a certificate the CA issues.
type certOpts = testpki.IssueOptions

func newPKI(t testing.TB, name string, keyIndex int) *testPKI {
	return &testPKI{Authority: testpki.NewAuthority(t, name, keyIndex), t: t}
}

// issue makes a transport certificate for cn with key keyIndex and returns its signer.
func (p *testPKI) issue(cn string, keyIndex int, o certOpts) *Signer {
	p.t.Helper()
	c, pair := p.Issue(pkix.Name{CommonName: cn, Country: []string{"BG"}}, keyIndex, o)
	s, err := NewSigner(pair.PrivateKey.(crypto.Signer), c)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// trust is a trust in this CA alone, checking revocation with mode ("": not at all).
func (p *testPKI) trust(mode RevocationMode) *Trust {
	p.t.Helper()
	var rev *Revocation
	if mode != "" {
		rev = &Revocation{Mode: mode}
	}
	tr, err := NewTrust([]*x509.Certificate{p.Cert}, nil, rev)
	if err != nil {
		p.t.Fatal(err)
	}
	return tr
}

func chainOf(cs ...*x509.Certificate) []*x509.Certificate { return cs }
