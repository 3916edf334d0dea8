// Package xsd is a pure-Go validator for XML Schema 1.0 documents.
//
// It compiles a set of schema files (resolving imports through a [Catalog]
// that maps namespaces to bundled files, offline) and validates instance
// documents in one streaming pass over an encoding/xml Decoder, without
// building a tree of the instance. Problems name the element path, the
// line and the rule broken.
//
// Supported: element, attribute, complexType and simpleType declarations
// (named and anonymous); sequence, choice and all; minOccurs/maxOccurs;
// element and attribute references; model groups and attribute groups;
// complexContent and simpleContent extension and restriction; import (by
// catalogue or schemaLocation) and include; elementFormDefault,
// attributeFormDefault and form; default and fixed values; nillable and
// xsi:nil; xsi:type; final and finalDefault (on elements they change
// nothing, as substitution groups are refused); any and anyAttribute with namespace constraints and
// processContents strict, lax and skip; simple type restriction with the
// facets pattern, enumeration, length, minLength, maxLength, minInclusive,
// maxInclusive, minExclusive, maxExclusive, totalDigits, fractionDigits and
// whiteSpace; list and union; the built-in primitive and derived types but
// NOTATION, ENTITY and ENTITIES; ID uniqueness and IDREF resolution.
//
// Not supported, and refused when present (Compile names the feature, the
// file and the line, rather than compile a validator that checks less than
// the schema says): identity constraints (key, unique, keyref), substitution
// groups, redefine, block and blockDefault, notations and the NOTATION,
// ENTITY and ENTITIES types, enumerations of QNames, fixed values on
// elements without simple content, the XSD 1.1 additions (override,
// assert, openContent, alternative, ...). Any element or attribute of the
// XML Schema namespace not listed above is refused the same way. Chameleon
// includes of schemas without a target namespace are not supported. Ordering
// facets on duration are not checked. Dates without a time zone are
// compared as if in UTC.
//
// Patterns are translated to Go regular expressions: implicit anchoring,
// character class subtraction ([a-z-[aeiou]]), \i \c \I \C (approximated by
// XML 1.0 fifth edition name characters), \d \w \s and their complements
// with XSD meaning, and the Unicode block escapes \p{IsBasicLatin},
// \p{IsLatin-1Supplement}, \p{IsCyrillic}, \p{IsGreek} and a few others. ^ and $
// are literal characters as in XSD. Other \p{Is…} blocks fail compilation.
//
// Instance documents that carry a DOCTYPE are rejected: nothing in them is
// expanded or fetched.
package xsd
