// Package eauth signs citizens and companies' representatives in through the national eAuth 2.0
// SAML profile, and through a qualified electronic signature certificate over mutual TLS.
//
// The service provider side ([SP]) builds the profile's AuthnRequest (a RequestedService with the
// service's and the provider's OIDs and the level of assurance in its extensions), signs it with
// the provider's key and sends it by the HTTP-POST binding; it verifies the identity provider's
// Response against the one configured certificate and turns its attributes into a [Person]. XML
// signatures and the SAML checks the library makes are github.com/russellhaering/gosaml2's; the
// package adds in front of it a bounded parser (internal/xmllimit), exactly one assertion, a clock
// skew, the request a response answers (issued here, single use), a replay cache, the audience, and
// the profile's identifiers.
//
// Refusals are *[Error] values whose [Code] has a text in Bulgarian and in English for the page to
// show; their wrapped detail is for the log and never holds a personal number in clear.
package eauth

import (
	"fmt"
	"strings"
)

// Namespace is the namespace of the eAuth 2.0 SAML extensions.
const Namespace = "urn:bg:egov:eauth:2.0:saml:ext"

// AttributePrefix begins the name of every eAuth 2.0 attribute.
const AttributePrefix = "urn:egov:bg:eauth:2.0:attributes:"

// The attributes of a person the profile names.
const (
	AttrPersonIdentifier = AttributePrefix + "personIdentifier"
	AttrPersonName       = AttributePrefix + "personName"
	AttrLatinName        = AttributePrefix + "latinName"
	AttrEmail            = AttributePrefix + "email"
	AttrPhone            = AttributePrefix + "phone"
	AttrDateOfBirth      = AttributePrefix + "dateOfBirth"
)

// Level is a level of assurance of an electronic identification (eIDAS: low, substantial, high).
type Level int

// The levels of assurance, in increasing order.
const (
	LevelLow Level = iota + 1
	LevelSubstantial
	LevelHigh
)

const levelPrefix = "urn:egov:bg:eauth:2.0:levelofassurance:"

var levelNames = map[Level]string{LevelLow: "low", LevelSubstantial: "substantial", LevelHigh: "high"}

// URI is the level as the profile writes it, urn:egov:bg:eauth:2.0:levelofassurance:….
func (l Level) URI() string { return levelPrefix + l.String() }

// String is the level's word: low, substantial or high.
func (l Level) String() string {
	if s, ok := levelNames[l]; ok {
		return s
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// ParseLevel reads a level of assurance written as the profile's URI or as the bare word
// (LOW, SUBSTANTIAL, HIGH, in any case), as clients in the wild send it.
func ParseLevel(s string) (Level, error) {
	w := strings.ToLower(strings.TrimSpace(s))
	w = strings.TrimPrefix(w, levelPrefix)
	for l, name := range levelNames {
		if w == name {
			return l, nil
		}
	}
	return 0, fmt.Errorf("eauth: unknown level of assurance %q", s)
}

// IdentifierKind is the kind of a person's identifier, the prefix of personIdentifier.
type IdentifierKind string

// The kinds of identifier the profile prefixes personIdentifier with.
const (
	KindEGN      IdentifierKind = "PNOBG" // ЕГН, the personal number of a Bulgarian citizen
	KindPassport IdentifierKind = "PASBG" // a passport number
	KindIDCard   IdentifierKind = "IDCBG" // an identity card number
	KindEIK      IdentifierKind = "TINBG" // ЕИК of a company
)

// Method is how a person signed in.
type Method string

// The ways of signing in this package verifies.
const (
	MethodEAuth Method = "eauth" // an eAuth 2.0 SAML assertion
	MethodQES   Method = "qes"   // a qualified signature certificate over mutual TLS
)

// Person is a verified person: who signed in, how, and how surely.
type Person struct {
	// Identifier is personIdentifier as given, e.g. PNOBG-8001010101.
	Identifier string
	// Kind is its prefix; EGN holds the ЕГН, checked, when Kind is KindEGN.
	Kind IdentifierKind
	EGN  string
	// Name is the name in Cyrillic (personName), LatinName in Latin (latinName); either may be
	// empty when the provider did not give it.
	Name, LatinName string
	Email, Phone    string
	// Level is the level of assurance of the identification.
	Level Level
	// Method is how the person signed in.
	Method Method
	// SessionIndex is the identity provider's session (eAuth only), for a later logout.
	SessionIndex string
}

// String shows the person with the identifier masked, for logs.
func (p *Person) String() string {
	return fmt.Sprintf("%s %s (%s, %s)", p.Kind, maskID(p.Identifier), p.Level, p.Method)
}
