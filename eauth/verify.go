package eauth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// limits bound a response before any parser builds a tree of it: a real one is a few
// kilobytes, some tens of elements, a dozen levels deep.
func (s *SP) limits() xmllimit.Limits {
	return xmllimit.Limits{MaxDepth: 32, MaxBytes: int64(s.cfg.MaxResponseBytes), MaxAttrs: 32, MaxName: 256,
		MaxText: 64 << 10, MaxElements: 2000}
}

// Verify checks the SAMLResponse field of a post to the assertion consumer and returns the
// person it names. Any refusal is an *Error. A response to a request bound to a browser
// (NewRequestFor) is refused: use VerifyFrom.
func (s *SP) Verify(ctx context.Context, samlResponse string) (*Person, error) {
	return s.VerifyFrom(ctx, samlResponse, nil)
}

// VerifyFrom is Verify for a response posted by the browser whose secret hashes to browser: a
// response to a request bound to another browser (or to one, when browser is nil) is refused
// with CodeBrowser, so that a response lifted from one browser cannot sign another in.
func (s *SP) VerifyFrom(ctx context.Context, samlResponse string, browser []byte) (*Person, error) {
	if len(samlResponse) > base64.StdEncoding.EncodedLen(s.cfg.MaxResponseBytes)+1024 {
		return nil, refuse(CodeTooLarge, "response of %d encoded bytes", len(samlResponse))
	}
	encoded := strings.Map(func(r rune) rune { // line breaks are allowed in the form field
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, samlResponse)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, refuse(CodeMalformed, "base64: %v", err)
	}
	if err := xmllimit.Check(raw, s.limits(), nil); err != nil {
		if errors.Is(err, xmllimit.ErrLimit) {
			return nil, &Error{Code: CodeTooLarge, Err: err}
		}
		return nil, &Error{Code: CodeMalformed, Err: err}
	}
	shape, err := s.scan(raw, xml.Name{Space: nsProtocol, Local: "Response"})
	if err != nil {
		return nil, err
	}
	// A failure status is refused before the signature is looked at: refusing is safe whoever
	// signed, and an identity provider that failed often sends no assertion to sign.
	if shape.status != saml2.StatusCodeSuccess {
		return nil, refuse(CodeStatus, "status %s %s", clip(shape.status), clip(shape.subStatus))
	}
	if shape.assertions+shape.encrypted != 1 {
		return nil, refuse(CodeWrapping, "%d assertions and %d encrypted ones, want exactly one", shape.assertions, shape.encrypted)
	}
	if shape.encrypted == 1 {
		// gosaml2 parses a decrypted assertion with no bound on its depth: decrypt it here
		// first and hold it to the same limits and the same one-assertion rule.
		if err := s.checkEncrypted(&shape.enc); err != nil {
			return nil, err
		}
	}

	now := s.cfg.Now()
	skew := s.cfg.ClockSkew
	// gosaml2 compares SubjectConfirmationData's NotOnOrAfter and the certificate's validity with
	// its clock and no skew: set it back by the skew so only what is late beyond it fails there.
	resp, err := s.library(now.Add(-skew)).ValidateEncodedResponse(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		return nil, classify(err)
	}
	if len(resp.Assertions) != 1 {
		return nil, refuse(CodeWrapping, "%d verified assertions, want exactly one", len(resp.Assertions))
	}
	a := &resp.Assertions[0]
	if !resp.SignatureValidated && !a.SignatureValidated {
		return nil, refuse(CodeUnsigned, "neither the response nor its assertion is signed")
	}
	if resp.Destination != s.cfg.ACSURL {
		return nil, refuse(CodeDestination, "destination %q, want %q", clip(resp.Destination), s.cfg.ACSURL)
	}
	until, err := s.checkConditions(a, now)
	if err != nil {
		return nil, err
	}
	issued, err := s.checkRequest(ctx, resp, a, now, until)
	if err != nil {
		return nil, err
	}
	if len(issued.Browser) > 0 && subtle.ConstantTimeCompare(issued.Browser, browser) != 1 {
		return nil, refuse(CodeBrowser, "request %q was started in another browser", clip(resp.InResponseTo))
	}
	return s.person(a, issued)
}

// shape is what a scan of the unverified document found.
type shape struct {
	root                  string // local name of the root element
	assertions, encrypted int
	status, subStatus     string
	enc                   encrypted
}

// encrypted is what an EncryptedAssertion holds, as XML Encryption writes it.
type encrypted struct {
	dataAlg, keyAlg, keyDigest string
	dataCipher, keyCipher      strings.Builder
}

// scan reads the document's tokens (under the same limits) for its root, how many assertions it
// holds anywhere, and its status. An assertion anywhere but the one place the signature covers is
// how signature wrapping works; counting them all refuses it whatever the library would do.
func (s *SP) scan(raw []byte, root xml.Name) (shape, error) {
	var sh shape
	d := xml.NewTokenDecoder(xmllimit.NewDecoder(bytes.NewReader(raw), s.limits()))
	var path []xml.Name
	parent := func(n int) string { // local name of the n-th element up from the current one
		if len(path) < n {
			return ""
		}
		return path[len(path)-n].Local
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sh, &Error{Code: CodeMalformed, Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) == 0 && t.Name != root {
				return sh, refuse(CodeMalformed, "root element %s %s, want %s", clip(t.Name.Space), clip(t.Name.Local), root.Local)
			}
			switch {
			case t.Name.Space == nsAssertion && t.Name.Local == "Assertion":
				sh.assertions++
			case t.Name.Space == nsAssertion && t.Name.Local == "EncryptedAssertion":
				sh.encrypted++
			case t.Name.Space == nsDSig && (t.Name.Local == "SignatureMethod" || t.Name.Local == "DigestMethod" && parent(1) == "Reference"):
				// SHA-1 is broken for signatures; Go's x509 refuses it in a signature method, this
				// refuses it in a digest too (RSA-OAEP's digest in XML Encryption may stay SHA-1).
				if alg := attr(t, "Algorithm"); strings.HasSuffix(strings.ToLower(alg), "sha1") {
					return sh, refuse(CodeSignature, "%s %s uses SHA-1", t.Name.Local, clip(alg))
				}
			case t.Name.Local == "EncryptionMethod" && parent(1) == "EncryptedData":
				sh.enc.dataAlg = attr(t, "Algorithm")
			case t.Name.Local == "EncryptionMethod" && parent(1) == "EncryptedKey":
				sh.enc.keyAlg = attr(t, "Algorithm")
			case t.Name.Local == "DigestMethod" && parent(1) == "EncryptionMethod" && parent(2) == "EncryptedKey":
				sh.enc.keyDigest = attr(t, "Algorithm")
			case t.Name.Space == nsProtocol && t.Name.Local == "StatusCode" && len(path) == 2 && path[1].Local == "Status":
				sh.status = attr(t, "Value")
			case t.Name.Space == nsProtocol && t.Name.Local == "StatusCode" && len(path) == 3 && path[1].Local == "Status":
				sh.subStatus = attr(t, "Value")
			}
			if len(path) == 0 {
				sh.root = t.Name.Local
			}
			path = append(path, t.Name)
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if parent(1) == "CipherValue" && parent(2) == "CipherData" {
				switch parent(3) {
				case "EncryptedData":
					sh.enc.dataCipher.Write(t)
				case "EncryptedKey":
					sh.enc.keyCipher.Write(t)
				}
			}
		}
	}
	return sh, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// classify turns gosaml2's and goxmldsig's errors into a Code.
func classify(err error) *Error {
	var iv saml2.ErrInvalidValue
	var me saml2.ErrMissingElement
	switch {
	case errors.Is(err, dsig.ErrMissingSignature):
		return &Error{Code: CodeUnsigned, Err: err}
	case errors.As(err, &iv):
		switch iv.Key {
		case saml2.DestinationAttr, saml2.RecipientAttr:
			return &Error{Code: CodeDestination, Err: err}
		case saml2.StatusCodeTag:
			return &Error{Code: CodeStatus, Err: err}
		case saml2.NotOnOrAfterAttr:
			return &Error{Code: CodeExpired, Err: err}
		case saml2.IssuerTag:
			return &Error{Code: CodeSignature, Err: err}
		}
		return &Error{Code: CodeMalformed, Err: err}
	case errors.As(err, &me):
		return &Error{Code: CodeMalformed, Err: err}
	case strings.Contains(err.Error(), "unexpected parent element"):
		return &Error{Code: CodeWrapping, Err: err}
	}
	// Everything else goxmldsig says is a signature that does not verify with the one
	// certificate configured: another key, an altered body, a foreign KeyInfo certificate.
	return &Error{Code: CodeSignature, Err: err}
}

// checkConditions checks the assertion's validity (with the skew) and audience, and returns until
// when it is valid.
func (s *SP) checkConditions(a *types.Assertion, now time.Time) (time.Time, error) {
	c := a.Conditions
	if c == nil {
		return time.Time{}, refuse(CodeMalformed, "assertion without Conditions")
	}
	notBefore, err1 := time.Parse(time.RFC3339, c.NotBefore)
	notOnOrAfter, err2 := time.Parse(time.RFC3339, c.NotOnOrAfter)
	if err1 != nil || err2 != nil {
		return time.Time{}, refuse(CodeMalformed, "Conditions NotBefore %q NotOnOrAfter %q", clip(c.NotBefore), clip(c.NotOnOrAfter))
	}
	skew := s.cfg.ClockSkew
	if now.Add(skew).Before(notBefore) {
		return time.Time{}, refuse(CodeExpired, "not valid before %s (now %s)", c.NotBefore, now.UTC().Format(time.RFC3339))
	}
	if !now.Add(-skew).Before(notOnOrAfter) {
		return time.Time{}, refuse(CodeExpired, "not valid on or after %s (now %s)", c.NotOnOrAfter, now.UTC().Format(time.RFC3339))
	}
	if len(c.AudienceRestrictions) == 0 {
		return time.Time{}, refuse(CodeAudience, "assertion names no audience")
	}
	for _, r := range c.AudienceRestrictions {
		found := false
		for _, au := range r.Audiences {
			found = found || au.Value == s.cfg.EntityID
		}
		if !found {
			var names []string
			for _, au := range r.Audiences {
				names = append(names, clip(au.Value))
			}
			return time.Time{}, refuse(CodeAudience, "audience %v, want %q", names, s.cfg.EntityID)
		}
	}
	return notOnOrAfter.Add(skew), nil
}

// checkRequest records the assertion as used and takes the request it answers.
func (s *SP) checkRequest(ctx context.Context, resp *types.Response, a *types.Assertion, now, until time.Time) (Issued, error) {
	if a.ID == "" {
		return Issued{}, refuse(CodeMalformed, "assertion without ID")
	}
	// Replay first: a second post of a good response must say so, not that its request is gone.
	first, err := s.cfg.Replay.FirstUse(ctx, a.ID, until)
	if err != nil {
		return Issued{}, &Error{Code: CodeInternal, Err: fmt.Errorf("replay cache: %w", err)}
	}
	if !first {
		return Issued{}, refuse(CodeReplay, "assertion %q was accepted before", clip(a.ID))
	}
	irt := resp.InResponseTo
	if irt == "" {
		return Issued{}, refuse(CodeInResponseTo, "unsolicited response (no InResponseTo)")
	}
	var scd string
	if a.Subject != nil && a.Subject.SubjectConfirmation != nil && a.Subject.SubjectConfirmation.SubjectConfirmationData != nil {
		scd = a.Subject.SubjectConfirmation.SubjectConfirmationData.InResponseTo
	}
	// When only the assertion is signed, the response's InResponseTo is anyone's to write: the
	// assertion's own must then say the same.
	if (scd != "" || !resp.SignatureValidated) && scd != irt {
		return Issued{}, refuse(CodeInResponseTo, "response answers %q, its assertion %q", clip(irt), clip(scd))
	}
	issued, ok, err := s.cfg.Requests.Take(ctx, irt)
	if err != nil {
		return Issued{}, &Error{Code: CodeInternal, Err: fmt.Errorf("request store: %w", err)}
	}
	if !ok {
		return Issued{}, refuse(CodeInResponseTo, "no open request %q", clip(irt))
	}
	if !now.Before(issued.Expires) {
		return Issued{}, refuse(CodeInResponseTo, "request %q expired at %s", clip(irt), issued.Expires.UTC().Format(time.RFC3339))
	}
	return issued, nil
}

// person reads the person out of a verified assertion.
func (s *SP) person(a *types.Assertion, issued Issued) (*Person, error) {
	vals := map[string]string{}
	if a.AttributeStatement != nil {
		for _, at := range a.AttributeStatement.Attributes {
			if len(at.Values) > 0 {
				vals[at.Name] = strings.TrimSpace(at.Values[0].Value)
			}
		}
	}
	id := vals[AttrPersonIdentifier]
	if id == "" {
		return nil, refuse(CodeIdentifier, "no %s attribute", AttrPersonIdentifier)
	}
	kind, num, err := ParseIdentifier(id)
	if err != nil {
		return nil, err
	}
	if kind == KindEIK {
		return nil, refuse(CodeIdentifier, "personIdentifier names a company, not a person")
	}
	p := &Person{Identifier: string(kind) + "-" + num, Kind: kind, Name: vals[AttrPersonName], LatinName: vals[AttrLatinName],
		Email: vals[AttrEmail], Phone: vals[AttrPhone], Method: MethodEAuth}
	if kind == KindEGN {
		p.EGN = num
	}
	if st := a.AuthnStatement; st != nil {
		p.SessionIndex = st.SessionIndex
		if st.AuthnContext != nil && st.AuthnContext.AuthnContextClassRef != nil {
			p.Level, _ = ParseLevel(st.AuthnContext.AuthnContextClassRef.Value)
		}
	}
	if p.Level == 0 {
		return nil, refuse(CodeLevel, "no level of assurance in the assertion's AuthnContextClassRef")
	}
	if p.Level < issued.Level {
		return nil, refuse(CodeLevel, "level %s, asked for %s", p.Level, issued.Level)
	}
	return p, nil
}

// checkEncrypted decrypts an EncryptedAssertion with the service provider's key and checks the
// assertion in it as the response was checked: bounded, one assertion, no SHA-1.
func (s *SP) checkEncrypted(enc *encrypted) error {
	cert := s.decryptionCert()
	if cert == nil {
		return refuse(CodeMalformed, "an encrypted assertion, and no RSA key to decrypt it with")
	}
	ea := types.EncryptedAssertion{
		EncryptionMethod: types.EncryptionMethod{Algorithm: enc.dataAlg},
		EncryptedKey: types.EncryptedKey{CipherValue: strings.TrimSpace(enc.keyCipher.String()),
			EncryptionMethod: types.EncryptionMethod{Algorithm: enc.keyAlg}},
		CipherValue: strings.Join(strings.Fields(enc.dataCipher.String()), ""),
	}
	if enc.keyDigest != "" {
		ea.EncryptedKey.EncryptionMethod.DigestMethod = &types.DigestMethod{Algorithm: enc.keyDigest}
	}
	ea.EncryptedKey.CipherValue = strings.Join(strings.Fields(ea.EncryptedKey.CipherValue), "")
	plain, err := ea.DecryptBytes(cert)
	if err != nil {
		return refuse(CodeMalformed, "decrypt assertion: %v", err)
	}
	if err := xmllimit.Check(plain, s.limits(), nil); err != nil {
		if errors.Is(err, xmllimit.ErrLimit) {
			return &Error{Code: CodeTooLarge, Err: fmt.Errorf("decrypted assertion: %w", err)}
		}
		return &Error{Code: CodeMalformed, Err: fmt.Errorf("decrypted assertion: %w", err)}
	}
	inner, err := s.scan(plain, xml.Name{Space: nsAssertion, Local: "Assertion"})
	if err != nil {
		return err
	}
	if inner.assertions != 1 || inner.encrypted != 0 {
		return refuse(CodeWrapping, "the encrypted assertion holds %d assertions", inner.assertions+inner.encrypted)
	}
	return nil
}
