package xsdstep

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/transforms"
)

// TestMaxDepth: the payload's nesting is bounded by max_depth (256 unless set); a deeper payload
// fails with one problem naming the limit and where, and so does a second root element.
func TestMaxDepth(t *testing.T) {
	nested := func(n int) string {
		return `<Message xmlns="http://schemas.egov.bg/messaging/v1">` + strings.Repeat("<a>", n) + strings.Repeat("</a>", n) + `</Message>`
	}
	for _, tc := range []struct {
		name     string
		maxDepth int
		payload  string
		want     string // the last problem's rule and message part
	}{
		{"default, deep", 0, nested(100000), "depth: element depth exceeds the limit of 256 at line 1, column"},
		{"set, beyond", 8, nested(20), "depth: element depth exceeds the limit of 8 at line 1, column 75"},
		{"set, within", 64, nested(20), "unexpected element: element a is not allowed here"},
		{"second root", 0, "<Message xmlns=\"http://schemas.egov.bg/messaging/v1\"/>\n<Message/>", "syntax: element after the root element at line 2, column 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(&Options{Builtin: "esoed", MaxDepth: tc.maxDepth}, transforms.Env{})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Apply(context.Background(), transforms.NewMessage("m", nil, []byte(tc.payload)))
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("error %v, want problems", err)
			}
			last := xe.Problems[len(xe.Problems)-1]
			if got := last.Rule + ": " + last.Message; !strings.Contains(got, tc.want) {
				t.Errorf("last problem %q, want %q", got, tc.want)
			}
		})
	}
}
