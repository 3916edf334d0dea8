// Package demo_test checks the demo PKI and participants registry of the ЕСОЕД demo, and
// regenerates them: go test ./configs/esoed -run TestDemoPKI -update.
//
// The keys written here are published with the source code: anyone can read them, so they
// prove nothing and must never protect a real exchange.
package demo_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
)

var update = flag.Bool("update", false, "generate new demo keys and certificates")

// The validity of the demo certificates: long, so that the demo keeps working for decades.
var (
	notBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)
)

// demoAdmin is one administration of the demo, as testdata/esoed names it.
type demoAdmin struct {
	file       string // base name of the .crt and .key files
	identifier string // ЕИК
	guid       string // GUID in the registry
	name       string
}

var (
	sofia   = demoAdmin{"demo-sofia", "000696327", "{676150f9-dfb5-4723-a236-fb007f3eb046}", "Столична община"}
	plovdiv = demoAdmin{"demo-plovdiv", "000471504", "{805fd26b-4b64-4823-a7b5-d40315c4b783}", "Община Пловдив"}
)

// warning heads every file written, before the PEM block (PEM readers skip such text).
const warning = "DEMO MATERIAL, PUBLICLY KNOWN: never use it for a real exchange (see README.md).\n" +
	"ДЕМОНСТРАЦИОНЕН МАТЕРИАЛ, ПУБЛИЧНО ИЗВЕСТЕН: не го използвайте за реален обмен.\n"

func TestDemoPKI(t *testing.T) {
	if *update {
		generate(t)
	}
	caCert := readCert(t, "demo-ca.crt")
	if !caCert.IsCA {
		t.Errorf("demo-ca.crt is not a CA certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)

	for _, a := range []demoAdmin{sofia, plovdiv} {
		t.Run(a.file, func(t *testing.T) {
			pair, err := tls.LoadX509KeyPair(a.file+".crt", a.file+".key")
			if err != nil {
				t.Fatalf("key pair: %v", err)
			}
			cert, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := pair.PrivateKey.(*rsa.PrivateKey); !ok {
				t.Errorf("key is %T, want RSA (the specification signs with RSA-SHA256)", pair.PrivateKey)
			}
			if cert.Subject.SerialNumber != a.identifier || cert.Subject.CommonName != a.name {
				t.Errorf("subject %s, want serialNumber %s and CN %s", cert.Subject, a.identifier, a.name)
			}
			// Usable for TLS to 127.0.0.1 as server and client, for years to come.
			for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1", KeyUsages: []x509.ExtKeyUsage{usage},
					CurrentTime: time.Now().AddDate(50, 0, 0)}); err != nil {
					t.Errorf("usage %v in 50 years: %v", usage, err)
				}
			}
			if err := cert.VerifyHostname("localhost"); err != nil {
				t.Error(err)
			}
			// The connector signs messages with it; the signature must verify.
			signer, err := esoed.SignerFromTLS(pair)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esoed", "registration-request.xml"))
			if err != nil {
				t.Fatal(err)
			}
			signed, err := signer.SignDated(raw, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			trust, err := esoed.NewTrust([]*x509.Certificate{caCert}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := esoed.VerifySignature(t.Context(), signed, trust); err != nil || !got.Certificate.Equal(cert) {
				t.Errorf("signature: %v (signer %v)", err, got)
			}
		})
	}

	// The registry lists both, with their certificates and endpoints, as the samples name them.
	reg, err := esoed.LoadRegistryFile("registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esoed", "registration-request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := esoed.ParseHeader(bytes.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a        demoAdmin
		inSample esoed.Participant
		endpoint string
	}{
		{sofia, sum.Header.Sender, "https://127.0.0.1:8443/EGovExchange"},
		{plovdiv, sum.Header.Recipient, "https://127.0.0.1:8444/EGovExchange"},
	} {
		e, err := reg.Lookup(t.Context(), tc.a.guid)
		if err != nil {
			t.Errorf("registry: %v", err)
			continue
		}
		if !e.Matches(tc.inSample) || e.Name != tc.inSample.AdministrativeBodyName || !e.Active() {
			t.Errorf("registry entry %+v does not match %+v of the sample, or is not active", e.Participant(), tc.inSample)
		}
		if !e.HasCertificate(readCert(t, tc.a.file+".crt")) {
			t.Errorf("registry entry %s does not name %s.crt", e.Identifier, tc.a.file)
		}
		if ep, ok := e.Endpoint(); !ok || ep != tc.endpoint {
			t.Errorf("endpoint of %s = %q, want %q", e.Identifier, ep, tc.endpoint)
		}
	}
}

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

// generate writes a new demo CA certificate and, issued by it, the transport certificates and
// keys of the two administrations. The CA's key is not kept: regenerating makes all anew.
func generate(t *testing.T) {
	t.Helper()
	newKey := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := func() *big.Int {
		n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	caKey := newKey()
	ca := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "АИСКАО ДЕМО транспортен УЦ / AISKAO DEMO transport CA (publicly known key)", Country: []string{"BG"}},
		NotBefore:    notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write(t, "demo-ca.crt", "CERTIFICATE", caDER)
	for _, a := range []demoAdmin{sofia, plovdiv} {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject: pkix.Name{CommonName: a.name, SerialNumber: a.identifier, Country: []string{"BG"},
				OrganizationalUnit: []string{"ДЕМО, публично известен ключ / DEMO, publicly known key"}},
			NotBefore: notBefore, NotAfter: notAfter,
			DNSNames:    []string{"localhost"},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		write(t, a.file+".crt", "CERTIFICATE", der)
		write(t, a.file+".key", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	}
}

func write(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	out := slices.Concat([]byte(warning), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
