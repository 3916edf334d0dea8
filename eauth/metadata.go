package eauth

import (
	"encoding/base64"
	"fmt"

	"github.com/beevik/etree"
)

// Metadata is the service provider's SAML metadata, for registering it with the identity
// provider: its entity id, that its requests are signed and its assertions must be, its
// certificate (for signatures and, with an RSA key, for encrypting assertions to it) and its
// assertion consumer (HTTP-POST).
func (s *SP) Metadata() ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", "urn:oasis:names:tc:SAML:2.0:metadata")
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", s.cfg.EntityID)
	sp := ed.CreateElement("md:SPSSODescriptor")
	sp.CreateAttr("AuthnRequestsSigned", "true")
	sp.CreateAttr("WantAssertionsSigned", "true")
	sp.CreateAttr("protocolSupportEnumeration", nsProtocol)
	uses := []string{"signing"}
	if s.decryptionCert() != nil {
		uses = append(uses, "encryption")
	}
	for _, use := range uses {
		kd := sp.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", use)
		kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(s.cfg.Certificate.Raw))
	}
	acs := sp.CreateElement("md:AssertionConsumerService")
	acs.CreateAttr("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
	acs.CreateAttr("Location", s.cfg.ACSURL)
	acs.CreateAttr("index", "0")
	acs.CreateAttr("isDefault", "true")
	doc.Indent(2)
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("eauth: metadata: %w", err)
	}
	return b, nil
}
