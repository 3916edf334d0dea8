package eauthsim_test

import (
	"crypto/x509"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
)

func TestDemoPersonsAreValid(t *testing.T) {
	ps := eauthsim.DemoPersons()
	if len(ps) < 3 {
		t.Fatalf("%d demo persons", len(ps))
	}
	for _, p := range ps {
		if !strings.HasSuffix(p.Email, ".invalid") || p.LatinName == "" {
			t.Errorf("%+v: e-mail not under .invalid or no Latin name", p)
		}
	}
	if _, err := eauthsim.ParsePersons([]byte("persons:\n  - egn: \"8001010101\"\n    name: X\n")); err == nil {
		t.Error("an ЕГН with a wrong check digit was taken")
	}
	if _, err := eauthsim.ParsePersons([]byte("persons:\n  - egn: \"8001010100\"\n    name: X\n    nickname: Y\n")); err == nil {
		t.Error("an unknown field was taken")
	}
}

var hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func form(page string) url.Values {
	v := url.Values{}
	for _, m := range hidden.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// TestFlow drives the simulator's pages as a browser without script would, against a service
// provider of package eauth.
func TestFlow(t *testing.T) {
	key, cert, err := eauthsim.NewKey("sim")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := eauthsim.New(eauthsim.Config{EntityID: "urn:test:idp", Key: key, Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(sim)
	defer idp.Close()
	sp, err := eauth.New(eauth.Config{EntityID: "urn:test:sp", ACSURL: "https://sp.example/acs", IdPSSOURL: idp.URL + eauthsim.PathSSO,
		IdPEntityID: "urn:test:idp", IdPCertificate: cert, Key: key, Certificate: cert, Service: "2.16.100.1", Provider: "2.16.100.2", Level: eauth.LevelHigh})
	if err != nil {
		t.Fatal(err)
	}
	start := func() url.Values {
		req, err := sp.NewRequest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.PostForm(idp.URL+eauthsim.PathSSO, url.Values{"SAMLRequest": {req.Encoded()}, "RelayState": {"r1"}})
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "Мария Георгиева Примерна") || strings.Contains(string(page), "<script") ||
			!strings.Contains(string(page), `<label for="person-1">`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("choose page %d:\n%s", resp.StatusCode, page)
		}
		return form(string(page))
	}
	choose := func(v url.Values) (int, url.Values) {
		resp, err := http.PostForm(idp.URL+eauthsim.PathChoose, v)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && !strings.Contains(string(page), `action="https://sp.example/acs"`) {
			t.Fatalf("response page:\n%s", page)
		}
		return resp.StatusCode, form(string(page))
	}

	v := start()
	v.Set("person", "1")
	v.Set("action", "signin")
	code, back := choose(v)
	if code != 200 || back.Get("RelayState") != "r1" {
		t.Fatalf("choose: %d %v", code, back)
	}
	p, err := sp.Verify(t.Context(), back.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	if p.EGN != "8511300152" || p.Level != eauth.LevelHigh || p.Name != "Мария Георгиева Примерна" {
		t.Errorf("person %+v", p)
	}

	// The wrong responses the page offers, each refused for its own reason.
	for fault, want := range map[string]eauth.Code{eauthsim.FaultExpired: eauth.CodeExpired, eauthsim.FaultAudience: eauth.CodeAudience,
		eauthsim.FaultOtherKey: eauth.CodeSignature, eauthsim.FaultForged: eauth.CodeSignature, eauthsim.FaultNone: ""} {
		v := start()
		v.Set("person", "0")
		v.Set("action", "signin")
		v.Set("fault", fault)
		code, back := choose(v)
		if code != 200 {
			t.Fatalf("%s: %d", fault, code)
		}
		if _, err := sp.Verify(t.Context(), back.Get("SAMLResponse")); (want == "" && err != nil) || (want != "" && eauth.CodeOf(err) != want) {
			t.Errorf("fault %s: %v, want %q", fault, err, want)
		}
	}
	v = start()
	v.Set("fault", "bogus")
	v.Set("person", "0")
	if code, _ := choose(v); code != http.StatusBadRequest {
		t.Errorf("an unknown fault: %d", code)
	}

	v = start()
	v.Set("person", "0")
	v.Set("action", "cancel")
	_, back = choose(v)
	if _, err := sp.Verify(t.Context(), back.Get("SAMLResponse")); eauth.CodeOf(err) != eauth.CodeStatus {
		t.Errorf("cancelled: %v, want a status refusal", err)
	}
	v.Set("person", "99")
	if code, _ := choose(v); code != http.StatusBadRequest {
		t.Errorf("no such person: %d", code)
	}
	resp, err := http.PostForm(idp.URL+eauthsim.PathSSO, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte("<x/>"))}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("not an AuthnRequest: %d", resp.StatusCode)
	}

	resp, err = http.Get(idp.URL + eauthsim.PathMetadata)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if _, err := doc.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	der, _ := base64.StdEncoding.DecodeString(doc.FindElement("//X509Certificate").Text())
	if mc, err := x509.ParseCertificate(der); err != nil || !mc.Equal(cert) {
		t.Errorf("metadata certificate: %v", err)
	}
	if loc := doc.FindElement("//SingleSignOnService").SelectAttrValue("Location", ""); loc != idp.URL+eauthsim.PathSSO {
		t.Errorf("SSO location %q", loc)
	}
}
