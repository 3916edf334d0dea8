package transforms

import (
	"strings"
	"testing"
)

// TestXMLRefusesDeepNesting: n levels of elements are accepted up to MaxXMLDepth, wherever the
// deep branch stands among its siblings.
func TestXMLRefusesDeepNesting(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"flat", "<a/>", true},
		{"at the limit", nest(MaxXMLDepth), true},
		{"one deeper", nest(MaxXMLDepth + 1), false},
		{"deep branch after siblings", "<r><b/><c><d/></c>" + nest(MaxXMLDepth) + "</r>", false},
		{"shallow branches after a deep one", "<r>" + nest(MaxXMLDepth-1) + "<b/><c><d/></c></r>", true},
		{"attack", nest(100000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMessage("m", nil, []byte(tt.doc)).XML()
			if tt.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "nested deeper than 256")) {
				t.Errorf("err %v, want the nesting named", err)
			}
		})
	}
}
