package eauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
)

// TestVerifyFromBindsTheBrowser: a request bound to a browser's secret is answered only with
// that secret; the same response from another browser, or through Verify, is refused.
func TestVerifyFromBindsTheBrowser(t *testing.T) {
	mine, theirs := sha256.Sum256([]byte("mine")), sha256.Sum256([]byte("theirs"))
	for _, tc := range []struct {
		name    string
		browser []byte // given to VerifyFrom; nil through Verify
		want    eauth.Code
	}{
		{"the same browser", mine[:], ""},
		{"another browser", theirs[:], eauth.CodeBrowser},
		{"no browser", nil, eauth.CodeBrowser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			req, err := f.sp.NewRequestFor(context.Background(), mine[:])
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
			var p *eauth.Person
			if tc.browser == nil {
				p, err = f.sp.Verify(context.Background(), encode(xml))
			} else {
				p, err = f.sp.VerifyFrom(context.Background(), encode(xml), tc.browser)
			}
			if tc.want == "" {
				if err != nil || p == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if got := eauth.CodeOf(err); got != tc.want {
				t.Fatalf("code %q (%v), want %q", got, err, tc.want)
			}
			if eauth.CodeBrowser.Message("en") == eauth.CodeInternal.Message("en") {
				t.Error("CodeBrowser has no text of its own")
			}
		})
	}
}

func TestMetadataNamesTheServiceProvider(t *testing.T) {
	f := newFixture(t, nil)
	md, err := f.sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`entityID="` + spEntity + `"`, `AuthnRequestsSigned="true"`, `Location="` + spACS + `"`,
		`use="signing"`, `use="encryption"`, base64.StdEncoding.EncodeToString(f.spCert.Raw)[:40]} {
		if !strings.Contains(string(md), want) {
			t.Errorf("metadata lacks %s:\n%s", want, md)
		}
	}
}
