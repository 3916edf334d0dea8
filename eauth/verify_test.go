package eauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
)

func TestVerifyAcceptsTheSimulatorsResponse(t *testing.T) {
	f := newFixture(t, nil)
	p, err := f.sp.Verify(context.Background(), f.respond(t, eauthsim.Faults{}))
	if err != nil {
		t.Fatal(err)
	}
	want := eauth.Person{Identifier: "PNOBG-8001010100", Kind: eauth.KindEGN, EGN: "8001010100", Name: "Иван Петров Тестов",
		LatinName: "Ivan Petrov Testov", Email: "ivan.testov@example.invalid", Level: eauth.LevelSubstantial, Method: eauth.MethodEAuth,
		SessionIndex: p.SessionIndex}
	if *p != want || p.SessionIndex == "" {
		t.Errorf("person %+v, want %+v", *p, want)
	}
	if s := p.String(); strings.Contains(s, "8001010100") {
		t.Errorf("String() %q shows the ЕГН", s)
	}
}

func TestVerifyAcceptsAssertionOnlySigned(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.sp.Verify(context.Background(), f.respond(t, eauthsim.Faults{AssertionOnly: true})); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyRefuses is a table of wrong responses, each refused with its own code.
func TestVerifyRefuses(t *testing.T) {
	tests := []struct {
		name   string
		faults eauthsim.Faults
		edit   func([]byte) []byte // applied to the response's XML after signing
		want   eauth.Code
		detail string // in the error, when set
	}{
		{name: "forged body", edit: func(b []byte) []byte {
			return bytes.Replace(b, []byte("Иван Петров Тестов"), []byte("Петър Иванов Тестов"), 1)
		}, want: eauth.CodeSignature},
		{name: "forged identifier", edit: func(b []byte) []byte {
			return bytes.Replace(b, []byte("PNOBG-8001010100"), []byte("PNOBG-8511300152"), 1)
		}, want: eauth.CodeSignature},
		{name: "forged, assertion only signed", faults: eauthsim.Faults{AssertionOnly: true}, edit: func(b []byte) []byte {
			return bytes.Replace(b, []byte("PNOBG-8001010100"), []byte("PNOBG-8511300152"), 1)
		}, want: eauth.CodeSignature},
		{name: "another key, its certificate in KeyInfo", faults: eauthsim.Faults{Key: nil}, want: eauth.CodeSignature},
		{name: "another key, the trusted certificate in KeyInfo", want: eauth.CodeSignature},
		{name: "expired", faults: eauthsim.Faults{Expired: true}, want: eauth.CodeExpired},
		{name: "another audience", faults: eauthsim.Faults{Audience: "https://other.example/metadata"}, want: eauth.CodeAudience},
		{name: "another destination", faults: eauthsim.Faults{Destination: "https://other.example/acs"}, want: eauth.CodeDestination},
		{name: "wrong InResponseTo", faults: eauthsim.Faults{InResponseTo: "_not-issued-by-us"}, want: eauth.CodeInResponseTo},
		{name: "unsigned", faults: eauthsim.Faults{Unsigned: true}, want: eauth.CodeUnsigned},
		{name: "extra assertion, response signed", faults: eauthsim.Faults{ExtraAssertion: true}, want: eauth.CodeWrapping},
		{name: "extra assertion, assertion signed", faults: eauthsim.Faults{ExtraAssertion: true, AssertionOnly: true}, want: eauth.CodeWrapping},
		{name: "assertion moved into the extensions", faults: eauthsim.Faults{AssertionOnly: true}, edit: func(b []byte) []byte {
			i := bytes.Index(b, []byte("<saml:Assertion"))
			return append(append(append([]byte{}, b[:i]...), []byte("<samlp:Extensions>")...), append(b[i:len(b)-len("</samlp:Response>")], []byte("</samlp:Extensions></samlp:Response>")...)...)
		}, want: eauth.CodeWrapping},
		{name: "status AuthnFailed", faults: eauthsim.Faults{Status: eauthsim.StatusAuthnFailed}, want: eauth.CodeStatus},
		{name: "lower level", faults: eauthsim.Faults{Level: eauth.LevelLow}, want: eauth.CodeLevel},
		{name: "doctype", edit: func(b []byte) []byte {
			return bytes.Replace(b, []byte("?>"), []byte(`?><!DOCTYPE r [<!ENTITY x "y">]>`), 1)
		}, want: eauth.CodeMalformed},
		{name: "too deep", edit: func(b []byte) []byte {
			deep := strings.Repeat("<samlp:Extensions>", 40) + strings.Repeat("</samlp:Extensions>", 40)
			return bytes.Replace(b, []byte("</samlp:Response>"), []byte(deep+"</samlp:Response>"), 1)
		}, want: eauth.CodeTooLarge},
		{name: "SHA-1 digest", edit: func(b []byte) []byte {
			return bytes.ReplaceAll(b, []byte("http://www.w3.org/2001/04/xmlenc#sha256"), []byte("http://www.w3.org/2000/09/xmldsig#sha1"))
		}, want: eauth.CodeSignature, detail: "SHA-1"},
		{name: "not a response", edit: func([]byte) []byte {
			return []byte(`<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)
		}, want: eauth.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			switch tt.name {
			case "another key, its certificate in KeyInfo":
				tt.faults.Key, tt.faults.Cert = f.otherKey, f.otherCert
			case "another key, the trusted certificate in KeyInfo":
				tt.faults.Key, tt.faults.Cert = f.otherKey, f.idpCert
			}
			xml := f.respondXML(t, tt.faults)
			if tt.edit != nil {
				xml = tt.edit(xml)
			}
			p, err := f.sp.Verify(context.Background(), base64.StdEncoding.EncodeToString(xml))
			if err == nil {
				t.Fatalf("accepted %+v", p)
			}
			var e *eauth.Error
			if !errors.As(err, &e) || e.Code != tt.want || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("error %v, want code %s", err, tt.want)
			}
		})
	}
}

func TestVerifyRefusesReplay(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.respond(t, eauthsim.Faults{})
	if _, err := f.sp.Verify(context.Background(), resp); err != nil {
		t.Fatal(err)
	}
	_, err := f.sp.Verify(context.Background(), resp)
	if eauth.CodeOf(err) != eauth.CodeReplay {
		t.Fatalf("second use: %v, want a replay refused", err)
	}
}

func TestVerifyRefusesUnsolicitedAndStale(t *testing.T) {
	f := newFixture(t, func(c *eauth.Config) { c.RequestTTL = time.Minute })
	f.spNow = time.Now()
	resp := f.respond(t, eauthsim.Faults{})
	f.spNow = f.spNow.Add(2 * time.Minute) // the request expired, the assertion has not
	if _, err := f.sp.Verify(context.Background(), resp); eauth.CodeOf(err) != eauth.CodeInResponseTo {
		t.Fatalf("answer to an expired request: %v, want in-response-to", err)
	}
}

// TestClockSkew checks that a response is taken within the skew on either side and refused
// beyond it.
func TestClockSkew(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		spNow time.Time // the simulator issues at now, valid from now-30s to now+5m
		ok    bool
	}{
		{"our clock 100 s behind (within 30 s + 90 s)", now.Add(-100 * time.Second), true},
		{"our clock 3 min behind", now.Add(-3 * time.Minute), false},
		{"our clock 80 s past the end", now.Add(eauthsim.Validity + 80*time.Second), true},
		{"our clock 2 min past the end", now.Add(eauthsim.Validity + 2*time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.simNow = now
			f.spNow = now
			xml := f.respondXML(t, eauthsim.Faults{})
			f.spNow = tt.spNow
			_, err := f.sp.Verify(context.Background(), base64.StdEncoding.EncodeToString(xml))
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && eauth.CodeOf(err) != eauth.CodeExpired {
				t.Fatalf("error %v, want expired", err)
			}
		})
	}
}

func TestVerifyRefusesGarbage(t *testing.T) {
	f := newFixture(t, nil)
	for in, want := range map[string]eauth.Code{
		"%%%not base64": eauth.CodeMalformed,
		base64.StdEncoding.EncodeToString([]byte("<a><b></a>")): eauth.CodeMalformed,
		strings.Repeat("A", 1<<20):                              eauth.CodeTooLarge,
	} {
		if _, err := f.sp.Verify(context.Background(), in); eauth.CodeOf(err) != want {
			t.Errorf("%.20q: %v, want %s", in, err, want)
		}
	}
}

// TestVerifyMutations feeds Verify three hundred randomly altered responses (bytes changed, cut out
// or put in): none may panic, hang or be taken as our own failure, and whatever is accepted must
// name a person by a valid identifier.
func TestVerifyMutations(t *testing.T) {
	fx := newFixture(t, nil)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		b := fx.respondXML(t, eauthsim.Faults{AssertionOnly: i%2 == 0})
		for range 1 + r.IntN(4) {
			k := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[k] = byte(r.IntN(256))
			case 1:
				b = append(b[:k], b[k+1:]...)
			case 2:
				b = append(b[:k], append([]byte{byte(r.IntN(128))}, b[k:]...)...)
			}
		}
		p, err := fx.sp.Verify(context.Background(), base64.StdEncoding.EncodeToString(b))
		if err == nil {
			if _, _, err := eauth.ParseIdentifier(p.Identifier); err != nil || p.Level == 0 {
				t.Fatalf("accepted %+v from\n%s", p, b)
			}
		} else if eauth.CodeOf(err) == eauth.CodeInternal {
			t.Fatalf("internal error on outside input: %v", err)
		}
	}
}
