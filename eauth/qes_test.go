package eauth_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/internal/testpki"
)

// TestQESOverMutualTLS signs in with client certificates over a real mutual TLS connection whose
// server trusts one "qualified" CA.
func TestQESOverMutualTLS(t *testing.T) {
	qualified := testpki.New(t, "qualified CA")
	other := testpki.New(t, "some other CA")
	pool := x509.NewCertPool()
	pool.AddCert(qualified.Cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := eauth.PersonFromTLS(r.TLS)
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(eauth.CodeOf(err)))
			return
		}
		json.NewEncoder(w).Encode(p)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{qualified.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "hub"}, Usage: x509.ExtKeyUsageServerAuth, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})}}
	srv.StartTLS()
	defer srv.Close()

	client := func(ca *testpki.CA, subject pkix.Name) *http.Client {
		c := ca.Issue(t, testpki.Leaf{Subject: subject, Usage: x509.ExtKeyUsageClientAuth})
		return qualified.Client(&c)
	}
	tests := []struct {
		name    string
		ca      *testpki.CA
		subject pkix.Name
		want    *eauth.Person // nil: refused
		code    string
	}{
		{"given name and surname", qualified, pkix.Name{SerialNumber: "PNOBG-8001010100", CommonName: "Ivan Petrov Testov",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{2, 5, 4, 42}, Value: "Ivan"}, {Type: []int{2, 5, 4, 4}, Value: "Testov"}}},
			&eauth.Person{Identifier: "PNOBG-8001010100", Kind: eauth.KindEGN, EGN: "8001010100", LatinName: "Ivan Testov", Level: eauth.LevelHigh, Method: eauth.MethodQES}, ""},
		{"Cyrillic common name", qualified, pkix.Name{SerialNumber: "PNOBG-8511300152", CommonName: "Мария Примерна"},
			&eauth.Person{Identifier: "PNOBG-8511300152", Kind: eauth.KindEGN, EGN: "8511300152", Name: "Мария Примерна", Level: eauth.LevelHigh, Method: eauth.MethodQES}, ""},
		{"bad check digit", qualified, pkix.Name{SerialNumber: "PNOBG-8001010101", CommonName: "x"}, nil, string(eauth.CodeCertificate)},
		{"no serialNumber", qualified, pkix.Name{CommonName: "Ivan"}, nil, string(eauth.CodeCertificate)},
		{"passport, not a personal number", qualified, pkix.Name{SerialNumber: "PASBG-123456789", CommonName: "x"}, nil, string(eauth.CodeCertificate)},
		{"plain number without semantics prefix", qualified, pkix.Name{SerialNumber: "8001010100", CommonName: "x"}, nil, string(eauth.CodeCertificate)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client(tt.ca, tt.subject).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if tt.want == nil {
				var b [64]byte
				n, _ := resp.Body.Read(b[:])
				if resp.StatusCode != http.StatusForbidden || string(b[:n]) != tt.code {
					t.Fatalf("status %d %q, want 403 %s", resp.StatusCode, b[:n], tt.code)
				}
				return
			}
			var got eauth.Person
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatalf("status %d: %v", resp.StatusCode, err)
			}
			if got != *tt.want {
				t.Errorf("person %+v, want %+v", got, *tt.want)
			}
		})
	}
	// A certificate of another CA does not get past the TLS layer.
	if _, err := client(other, pkix.Name{SerialNumber: "PNOBG-8001010100"}).Get(srv.URL); err == nil {
		t.Error("a certificate of an untrusted CA was let through")
	}
}

func TestPersonFromTLSWithoutVerifiedChain(t *testing.T) {
	ca := testpki.New(t, "qualified CA")
	c := ca.Issue(t, testpki.Leaf{Subject: pkix.Name{SerialNumber: "PNOBG-8001010100"}, Usage: x509.ExtKeyUsageClientAuth})
	// Presented but not verified (tls.RequestClientCert): refused.
	cs := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.Leaf}}
	if _, err := eauth.PersonFromTLS(cs); eauth.CodeOf(err) != eauth.CodeCertificate {
		t.Fatalf("unverified certificate: %v", err)
	}
	if _, err := eauth.PersonFromTLS(nil); eauth.CodeOf(err) != eauth.CodeCertificate {
		t.Fatalf("no TLS: %v", err)
	}
}
