package eauth_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
	"github.com/aiskao/aiskao/internal/testpki"
)

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]eauth.Level{
		"urn:egov:bg:eauth:2.0:levelofassurance:low": eauth.LevelLow, "SUBSTANTIAL": eauth.LevelSubstantial,
		" high ": eauth.LevelHigh, "urn:egov:bg:eauth:2.0:levelofassurance:HIGH": eauth.LevelHigh, "medium": 0, "": 0,
	} {
		got, err := eauth.ParseLevel(in)
		if got != want || (want == 0) != (err != nil) {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got := eauth.LevelSubstantial.URI(); got != "urn:egov:bg:eauth:2.0:levelofassurance:substantial" {
		t.Errorf("URI %q", got)
	}
}

func TestParseIdentifier(t *testing.T) {
	tests := []struct {
		in   string
		kind eauth.IdentifierKind
		num  string
	}{
		{"PNOBG-8001010100", eauth.KindEGN, "8001010100"},
		{"pnobg-8001010100", eauth.KindEGN, "8001010100"},
		{"TINBG-831641791", eauth.KindEIK, "831641791"},
		{"PASBG-382111111", eauth.KindPassport, "382111111"},
		{"PNOBG-8001010101", "", ""}, // check digit
		{"PNOBG-80010101", "", ""},
		{"XXXBG-8001010100", "", ""},
		{"8001010100", "", ""},
	}
	for _, tt := range tests {
		kind, num, err := eauth.ParseIdentifier(tt.in)
		if kind != tt.kind || num != tt.num || (tt.kind == "") != (err != nil) {
			t.Errorf("ParseIdentifier(%q) = %q, %q, %v", tt.in, kind, num, err)
		}
		if err != nil && strings.Contains(err.Error(), "8001010101") {
			t.Errorf("error %q shows the number", err)
		}
	}
}

func TestMessagesInBothLanguages(t *testing.T) {
	for _, c := range []eauth.Code{eauth.CodeMalformed, eauth.CodeTooLarge, eauth.CodeUnsigned, eauth.CodeSignature, eauth.CodeWrapping,
		eauth.CodeStatus, eauth.CodeExpired, eauth.CodeAudience, eauth.CodeDestination, eauth.CodeInResponseTo, eauth.CodeReplay,
		eauth.CodeIdentifier, eauth.CodeLevel, eauth.CodeCertificate, eauth.CodeInternal} {
		bg, en := c.Message("bg"), c.Message("en")
		if bg == en || !strings.ContainsAny(bg, "абвгдежзийклмнопрстуфхцчшщъьюя") || strings.ContainsAny(en, "абвгдежзийклмнопрстуфхцчшщъьюя") {
			t.Errorf("%s: bg %q en %q", c, bg, en)
		}
		if c != eauth.CodeInternal && bg == eauth.CodeInternal.Message("bg") {
			t.Errorf("%s has no message of its own", c)
		}
	}
	if eauth.Code("nonsense").Message("en") != eauth.CodeInternal.Message("en") {
		t.Error("an unknown code does not fall back to the internal error")
	}
	for in, want := range map[string]string{"": "bg", "en-GB,en;q=0.9": "en", "bg,en;q=0.5": "bg", "de,en;q=0.5": "en", "fr": "bg"} {
		if got := eauth.Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRequest checks the AuthnRequest: the profile's extension in its place, the binding, and a
// signature that verifies with the service provider's certificate.
func TestRequest(t *testing.T) {
	f := newFixture(t, nil)
	req, err := f.sp.NewRequest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(req.XML); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	var order []string
	for _, c := range root.ChildElements() {
		order = append(order, c.Tag)
	}
	if got := strings.Join(order, " "); got != "Issuer Signature Extensions NameIDPolicy" {
		t.Errorf("children %s", got)
	}
	for attr, want := range map[string]string{"ID": req.ID, "Destination": idpURL, "AssertionConsumerServiceURL": spACS,
		"ProtocolBinding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "Version": "2.0"} {
		if got := root.SelectAttrValue(attr, ""); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	rs := root.FindElement("Extensions/RequestedService")
	if rs == nil || rs.NamespaceURI() != eauth.Namespace {
		t.Fatalf("no RequestedService in %s", req.XML)
	}
	var got []string
	for _, c := range rs.ChildElements() {
		got = append(got, c.Tag+"="+c.Text())
	}
	if want := "Service=" + service + " Provider=" + provider + " LevelOfAssurance=urn:egov:bg:eauth:2.0:levelofassurance:substantial"; strings.Join(got, " ") != want {
		t.Errorf("RequestedService %v, want %s", got, want)
	}
	var attrs []string
	for _, a := range root.FindElements("Extensions/RequestedAttributes/RequestedAttribute") {
		attrs = append(attrs, a.SelectAttrValue("FriendlyName", "")+"="+a.SelectAttrValue("isRequired", ""))
		if a.SelectAttrValue("Name", "") != eauth.AttributePrefix+a.SelectAttrValue("FriendlyName", "") {
			t.Errorf("attribute %s named %s", a.SelectAttrValue("FriendlyName", ""), a.SelectAttrValue("Name", ""))
		}
	}
	if got, want := strings.Join(attrs, " "), "personIdentifier=true personName=false latinName=false email=false"; got != want {
		t.Errorf("RequestedAttributes %s, want %s", got, want)
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{f.spCert}})
	if _, err := vc.Validate(root); err != nil {
		t.Errorf("request signature: %v", err)
	}
	if base64.StdEncoding.EncodeToString(req.XML) != req.Encoded() {
		t.Error("Encoded is not the request in base64")
	}
	page, err := req.Form().Render()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.UnescapeString(string(page)), `name="SAMLRequest" value="`+req.Encoded()+`"`) || strings.Contains(string(page), "<script") {
		t.Errorf("form page:\n%s", page)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, tweak := range map[string]func(*eauth.Config){
		"no IdP certificate": func(c *eauth.Config) { c.IdPCertificate = nil },
		"service not an OID": func(c *eauth.Config) { c.Service = "1.2.3" },
		"a zero in the OID":  func(c *eauth.Config) { c.Provider = "2.16.100.1.10" },
		"bare 2.16.100":      func(c *eauth.Config) { c.Provider = "2.16.100" },
		"unknown attribute":  func(c *eauth.Config) { c.Attributes = []string{"email"} },
		"no level":           func(c *eauth.Config) { c.Level = 0 },
		"no ACS":             func(c *eauth.Config) { c.ACSURL = "" },
	} {
		f := newFixture(t, nil)
		cfg := eauth.Config{EntityID: spEntity, ACSURL: spACS, IdPSSOURL: idpURL, IdPCertificate: f.idpCert, Key: f.otherKey,
			Certificate: f.otherCert, Service: service, Provider: provider, Level: eauth.LevelLow}
		if _, err := eauth.New(cfg); err != nil {
			t.Fatalf("good config refused: %v", err)
		}
		tweak(&cfg)
		if _, err := eauth.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMemoryStores(t *testing.T) {
	ctx := context.Background()
	rs := eauth.NewMemoryRequests()
	rs.Put(ctx, "a", eauth.Issued{Level: eauth.LevelHigh, Expires: time.Now().Add(time.Minute)})
	rs.Put(ctx, "old", eauth.Issued{Expires: time.Now().Add(-time.Second)})
	if r, ok, _ := rs.Take(ctx, "a"); !ok || r.Level != eauth.LevelHigh {
		t.Error("first Take failed")
	}
	if _, ok, _ := rs.Take(ctx, "a"); ok {
		t.Error("a request was taken twice")
	}
	if _, ok, _ := rs.Take(ctx, "old"); ok {
		t.Error("an expired request was taken")
	}
	rc := eauth.NewMemoryReplay()
	if first, _ := rc.FirstUse(ctx, "x", time.Now().Add(time.Minute)); !first {
		t.Error("first use refused")
	}
	if first, _ := rc.FirstUse(ctx, "x", time.Now().Add(time.Minute)); first {
		t.Error("second use taken")
	}
	if first, _ := rc.FirstUse(ctx, "gone", time.Now().Add(-time.Second)); !first {
		t.Error("first use refused")
	}
	if first, _ := rc.FirstUse(ctx, "gone", time.Now().Add(time.Minute)); !first {
		t.Error("an expired entry still counted")
	}
}

// TestRequestSignedWithECDSA: a service provider with an ECDSA key (testpki's) signs its requests
// with ECDSA-SHA256.
func TestRequestSignedWithECDSA(t *testing.T) {
	ca := testpki.New(t, "sp CA")
	pair := ca.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "sp"}, Usage: x509.ExtKeyUsageServerAuth})
	f := newFixture(t, func(c *eauth.Config) { c.Key, c.Certificate = pair.PrivateKey.(crypto.Signer), pair.Leaf })
	req, err := f.sp.NewRequest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(req.XML); err != nil {
		t.Fatal(err)
	}
	if m := doc.FindElement("//SignatureMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != dsig.ECDSASHA256SignatureMethod {
		t.Fatalf("signature method in %s", req.XML)
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{pair.Leaf}})
	if _, err := vc.Validate(doc.Root()); err != nil {
		t.Errorf("request signature: %v", err)
	}
}

// TestVerifyRefusesAnotherIssuer: with the identity provider's entity id configured, a response
// from another issuer is refused even when signed with the trusted key.
func TestVerifyRefusesAnotherIssuer(t *testing.T) {
	f := newFixture(t, func(c *eauth.Config) { c.IdPEntityID = "https://another-idp.example/metadata" })
	if _, err := f.sp.Verify(context.Background(), f.respond(t, eauthsim.Faults{})); eauth.CodeOf(err) != eauth.CodeSignature {
		t.Fatalf("another issuer: %v", err)
	}
}
