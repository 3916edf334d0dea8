package eauthsim

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/aiskao/aiskao/eauth"
)

// SAML status codes the simulator answers with.
const (
	StatusSuccess     = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusResponder   = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusAuthnFailed = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
)

// Faults make a wrong response, for tests of the service provider's refusals. The zero value
// makes a good one.
type Faults struct {
	// Expired dates the assertion an hour back, so its validity has passed.
	Expired bool
	// Audience, when set, is named instead of the request's issuer.
	Audience string
	// Destination, when set, is named instead of the request's assertion consumer.
	Destination string
	// InResponseTo, when set, is answered instead of the request's ID.
	InResponseTo string
	// Key and Cert, when set, sign instead of the simulator's (Cert goes into KeyInfo).
	Key  crypto.Signer
	Cert *x509.Certificate
	// Unsigned signs nothing; AssertionOnly signs the assertion and not the response.
	Unsigned, AssertionOnly bool
	// ExtraAssertion puts an unsigned second assertion, naming another person, before the
	// signed one (signature wrapping).
	ExtraAssertion bool
	// Status, when set, is the second-level status under Responder, and the response has no
	// assertion (StatusAuthnFailed is what a person's cancelling gives).
	Status string
	// Level, when set, is the level of assurance given instead of the one asked for.
	Level eauth.Level
}

// Response makes the signed SAML Response to req for p.
func (s *Simulator) Response(req *AuthnRequest, p Person, f Faults) ([]byte, error) {
	now := s.cfg.Now().UTC()
	if f.Expired {
		now = now.Add(-time.Hour)
	}
	key, cert := s.cfg.Key, s.cfg.Certificate
	if f.Key != nil {
		key = f.Key
	}
	if f.Cert != nil {
		cert = f.Cert
	}
	ctx, err := signer(key, cert)
	if err != nil {
		return nil, err
	}
	pick := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	audience, dest, irt := pick(f.Audience, req.Issuer), pick(f.Destination, req.ACSURL), pick(f.InResponseTo, req.ID)

	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
	resp.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	resp.CreateAttr("ID", newID())
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", stamp(now))
	resp.CreateAttr("Destination", dest)
	resp.CreateAttr("InResponseTo", irt)
	resp.CreateElement("saml:Issuer").SetText(s.cfg.EntityID)
	st := resp.CreateElement("samlp:Status")
	if f.Status != "" {
		sc := st.CreateElement("samlp:StatusCode")
		sc.CreateAttr("Value", StatusResponder)
		sc.CreateElement("samlp:StatusCode").CreateAttr("Value", f.Status)
	} else {
		st.CreateElement("samlp:StatusCode").CreateAttr("Value", StatusSuccess)
		level := req.Level
		if f.Level != 0 {
			level = f.Level
		}
		a := s.assertion(now, audience, dest, irt, p, level)
		if !f.Unsigned {
			if a, err = sign(ctx, a); err != nil {
				return nil, err
			}
		}
		if f.ExtraAssertion {
			other := s.assertion(now, audience, dest, irt, s.cfg.Persons[len(s.cfg.Persons)-1], level)
			resp.AddChild(other)
		}
		if s.cfg.Encrypt {
			if a, err = encrypt(a, req.Certificate); err != nil {
				return nil, err
			}
		}
		resp.AddChild(a)
	}
	if !f.Unsigned && !f.AssertionOnly {
		if resp, err = sign(ctx, resp); err != nil {
			return nil, err
		}
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(resp)
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("eauthsim: write response: %w", err)
	}
	return b, nil
}

// assertion is the unsigned assertion about p, standing alone (it declares its namespace) so it
// can be signed before it is put into the response.
func (s *Simulator) assertion(now time.Time, audience, dest, irt string, p Person, level eauth.Level) *etree.Element {
	until := stamp(now.Add(Validity))
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	a.CreateAttr("ID", newID())
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", stamp(now))
	a.CreateElement("saml:Issuer").SetText(s.cfg.EntityID)
	sub := a.CreateElement("saml:Subject")
	nid := sub.CreateElement("saml:NameID")
	nid.CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
	nid.SetText(newID())
	sc := sub.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", irt)
	scd.CreateAttr("NotOnOrAfter", until)
	scd.CreateAttr("Recipient", dest)
	c := a.CreateElement("saml:Conditions")
	c.CreateAttr("NotBefore", stamp(now.Add(-30*time.Second)))
	c.CreateAttr("NotOnOrAfter", until)
	c.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(audience)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", stamp(now))
	as.CreateAttr("SessionIndex", newID())
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(level.URI())
	ats := a.CreateElement("saml:AttributeStatement")
	for _, at := range [][2]string{
		{eauth.AttrPersonIdentifier, string(eauth.KindEGN) + "-" + p.EGN},
		{eauth.AttrPersonName, p.Name},
		{eauth.AttrLatinName, p.LatinName},
		{eauth.AttrEmail, p.Email},
		{eauth.AttrPhone, p.Phone},
	} {
		if at[1] == "" {
			continue
		}
		e := ats.CreateElement("saml:Attribute")
		e.CreateAttr("Name", at[0])
		e.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
		e.CreateElement("saml:AttributeValue").SetText(at[1])
	}
	return a
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
