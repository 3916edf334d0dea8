package eauth

import (
	"strings"

	"github.com/aiskao/aiskao/dossier/ident"
	"github.com/aiskao/aiskao/internal/mask"
)

// ParseIdentifier reads a personIdentifier (or a certificate's serialNumber semantics identifier):
// its kind and number. A PNOBG- identifier must hold a valid ЕГН, a TINBG- one a valid ЕИК.
func ParseIdentifier(s string) (IdentifierKind, string, error) {
	kind, num, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok || num == "" {
		return "", "", refuse(CodeIdentifier, "identifier %q has no kind prefix", maskID(s))
	}
	k := IdentifierKind(strings.ToUpper(kind))
	switch k {
	case KindEGN:
		if err := ident.ValidateEGN(num); err != nil {
			return "", "", &Error{Code: CodeIdentifier, Err: err}
		}
	case KindEIK:
		if err := ident.ValidateEIK(num); err != nil {
			return "", "", &Error{Code: CodeIdentifier, Err: err}
		}
	case KindPassport, KindIDCard:
		if len(num) > 32 {
			return "", "", refuse(CodeIdentifier, "document number of %d characters", len(num))
		}
	default:
		return "", "", refuse(CodeIdentifier, "unknown identifier kind %q", clip(kind))
	}
	return k, num, nil
}

// maskID hides the digits of an identifier for a log.
func maskID(s string) string { return mask.PersonalNumbers(clip(s)) }

// clip shortens what an outsider sent before it goes into an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
