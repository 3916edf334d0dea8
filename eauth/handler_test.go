package eauth_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
)

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// fields reads the hidden fields of a page's form.
func fields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

func TestHandlers(t *testing.T) {
	f := newFixture(t, nil)
	var got *eauth.Person
	h := &eauth.Handlers{SP: f.sp, Done: func(w http.ResponseWriter, r *http.Request, p *eauth.Person) {
		got = p
		w.Write([]byte("welcome"))
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			h.Login(w, r)
		} else {
			h.ACS(w, r)
		}
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(string(page), `action="`+idpURL+`"`) {
		t.Fatalf("login page %d %v:\n%s", resp.StatusCode, resp.Header, page)
	}
	req, err := eauthsim.ParseRequest(fields(string(page)).Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	xml, err := f.sim.Response(req, f.sim.Persons()[1], eauthsim.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	post := func(body url.Values) (int, string) {
		resp, err := http.PostForm(srv.URL+"/acs", body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	form := url.Values{"SAMLResponse": {encode(xml)}}
	if code, body := post(form); code != 200 || body != "welcome" || got == nil || got.EGN != "8511300152" {
		t.Fatalf("ACS: %d %q, person %+v", code, body, got)
	}
	code, body := post(form)
	if code != http.StatusForbidden || !strings.Contains(body, eauth.CodeReplay.Message("bg")) || !strings.Contains(body, eauth.CodeReplay.Message("en")) {
		t.Fatalf("replay: %d %q", code, body)
	}
	if code, _ := post(url.Values{"SAMLResponse": {strings.Repeat("A", 1<<20)}}); code != http.StatusForbidden {
		t.Errorf("a huge form: %d", code)
	}
	resp, err = http.Get(srv.URL + "/acs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on the ACS: %d", resp.StatusCode)
	}
}
