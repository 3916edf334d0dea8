package eauth_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
)

// TestEncryptedAssertion: the production eAuth encrypts assertions to the service provider's
// certificate; they are decrypted, held to the same limits and checks, and refused when altered
// or doubled.
func TestEncryptedAssertion(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults eauthsim.Faults
		edit   func(*testing.T, []byte) []byte
		want   eauth.Code // "": accepted
	}{
		{name: "response and assertion signed"},
		{name: "assertion signed", faults: eauthsim.Faults{AssertionOnly: true}},
		{name: "unsigned", faults: eauthsim.Faults{Unsigned: true}, want: eauth.CodeUnsigned},
		{name: "ciphertext altered", faults: eauthsim.Faults{AssertionOnly: true}, edit: func(t *testing.T, b []byte) []byte {
			i := bytes.LastIndex(b, []byte("</xenc:CipherValue>"))
			b[i-6] ^= 0x01 // a base64 letter of the GCM tag or text: decryption fails
			return b
		}, want: eauth.CodeMalformed},
		{name: "a second, plain assertion beside it", faults: eauthsim.Faults{AssertionOnly: true}, edit: func(t *testing.T, b []byte) []byte {
			return bytes.Replace(b, []byte("<saml:EncryptedAssertion>"), []byte(`<saml:Assertion ID="_x" Version="2.0" IssueInstant="2020-01-01T00:00:00Z"/><saml:EncryptedAssertion>`), 1)
		}, want: eauth.CodeWrapping},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.encrypting(t)
			xml := f.respondXML(t, tt.faults)
			if !bytes.Contains(xml, []byte("EncryptedAssertion")) || bytes.Contains(xml, []byte("8001010100")) {
				t.Fatalf("not encrypted:\n%s", xml)
			}
			if tt.edit != nil {
				xml = tt.edit(t, xml)
			}
			p, err := f.sp.Verify(context.Background(), encode(xml))
			if tt.want == "" {
				if err != nil || p.EGN != "8001010100" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if eauth.CodeOf(err) != tt.want {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// TestEncryptedToAnotherKey: an assertion encrypted to another certificate cannot be read.
func TestEncryptedToAnotherKey(t *testing.T) {
	f := newFixture(t, func(c *eauth.Config) {})
	f.encrypting(t)
	other := newFixture(t, func(c *eauth.Config) { c.Key, c.Certificate = f.otherKey, f.otherCert })
	// The request of `other` carries the intruder's certificate: the simulator encrypts to it.
	req, err := other.sp.NewRequest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := eauthsim.ParseRequest(req.Encoded())
	if err != nil {
		t.Fatal(err)
	}
	xml, err := f.sim.Response(parsed, f.sim.Persons()[0], eauthsim.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sp.Verify(context.Background(), encode(xml)); eauth.CodeOf(err) != eauth.CodeMalformed {
		t.Fatalf("error %v, want malformed (cannot decrypt)", err)
	}
}
