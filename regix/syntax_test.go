package regix

import (
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// TestSyntaxAt: a document that is not well-formed is named by the element open where it
// breaks; other refusals, and breaks outside any element, name none.
func TestSyntaxAt(t *testing.T) {
	deep := strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300)
	tests := []struct{ name, doc, want string }{
		{"bad UTF-8 in text", "<R>\n<L><E>\xd1\xeb</E></L></R>", "line 2: /R/L/E: "},
		{"unclosed tag", "<R><L><E></L></R>", "line 1: /R/L/E: "},
		{"before the root", "\xd1<R/>", ""},
		{"too deep", deep, ""},
		{"well-formed", "<R/>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := xmllimit.Check([]byte(tt.doc), xmllimit.Limits{}, nil)
			if tt.name == "too deep" && !errors.Is(err, xmllimit.ErrLimit) {
				t.Fatalf("Check = %v, want a limit", err)
			}
			if got := syntaxAt([]byte(tt.doc), err); got != tt.want {
				t.Errorf("syntaxAt = %q, want %q (error %v)", got, tt.want, err)
			}
		})
	}
}
