package eauth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
	"github.com/aiskao/aiskao/internal/testpki"
)

const (
	spEntity = "https://hub.example/eauth/metadata"
	spACS    = "https://hub.example/eauth/acs"
	idpURL   = "https://idp.example/sso"
	idpID    = "https://idp.example/metadata"
	service  = "2.16.100.1.1.1.1.13.1.1.1"
	provider = "2.16.100.1.1.1.1.13"
)

// selfSigned is a certificate for key number i of testpki.
func selfSigned(t testing.TB, i int, cn string) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key := testpki.RSAKey(t, i)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// fixture is a service provider and a simulator that trust each other.
type fixture struct {
	sp            *eauth.SP
	sim           *eauthsim.Simulator
	idpKey        crypto.Signer
	idpCert       *x509.Certificate
	otherKey      crypto.Signer
	otherCert     *x509.Certificate
	spCert        *x509.Certificate
	spNow, simNow time.Time // zero: time.Now
}

func newFixture(t testing.TB, tweak func(*eauth.Config)) *fixture {
	t.Helper()
	f := &fixture{}
	idpKey, idpCert := selfSigned(t, 0, "idp")
	spKey, spCert := selfSigned(t, 1, "sp")
	f.otherKey, f.otherCert = selfSigned(t, 2, "intruder")
	f.idpKey, f.idpCert, f.spCert = idpKey, idpCert, spCert
	cfg := eauth.Config{EntityID: spEntity, ACSURL: spACS, IdPSSOURL: idpURL, IdPEntityID: idpID, IdPCertificate: idpCert,
		Key: spKey, Certificate: spCert, Service: service, Provider: provider, Level: eauth.LevelSubstantial,
		Now: func() time.Time { return pick(f.spNow) }}
	if tweak != nil {
		tweak(&cfg)
	}
	sp, err := eauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := eauthsim.New(eauthsim.Config{EntityID: idpID, Key: idpKey, Certificate: idpCert, Now: func() time.Time { return pick(f.simNow) }})
	if err != nil {
		t.Fatal(err)
	}
	f.sp, f.sim = sp, sim
	return f
}

func pick(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// respond starts a sign-in and returns the simulator's response for the first demo person, as
// the SAMLResponse form field carries it.
func (f *fixture) respond(t testing.TB, faults eauthsim.Faults) string {
	t.Helper()
	return base64.StdEncoding.EncodeToString(f.respondXML(t, faults))
}

func (f *fixture) respondXML(t testing.TB, faults eauthsim.Faults) []byte {
	t.Helper()
	req, err := f.sp.NewRequest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := eauthsim.ParseRequest(req.Encoded())
	if err != nil {
		t.Fatal(err)
	}
	xml, err := f.sim.Response(parsed, f.sim.Persons()[0], faults)
	if err != nil {
		t.Fatal(err)
	}
	return xml
}

func encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// encrypting makes the fixture's simulator encrypt its assertions.
func (f *fixture) encrypting(t testing.TB) {
	t.Helper()
	sim, err := eauthsim.New(eauthsim.Config{EntityID: idpID, Key: f.idpKey, Certificate: f.idpCert, Encrypt: true})
	if err != nil {
		t.Fatal(err)
	}
	f.sim = sim
}
