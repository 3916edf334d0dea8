package hub

import (
	"strings"
	"testing"
)

// unparsableConfig reads its XML with an xpath step and would retry a failure that a retry can
// cure three times.
const unparsableConfig = `
connectors:
  in:  { type: http, listen: "@ADDR@", path: /in, content_types: [application/xml], auth: { type: none } }
  out: { type: file, dir: out, fsync: false }
routes:
  - name: read
    from: in
    steps:
      - xpath: { fields: { kind: /Doc/Kind }, required: [kind] }
    to: out
    on_error:
      retry: { max: 3, backoff: 10ms }
`

// TestUnparsableMessageDeadLetteredAtOnce: a message that cannot be parsed (beyond the limits or
// not one document) is a permanent fault: a dead letter at its first attempt, never retried,
// its error saying what and where.
func TestUnparsableMessageDeadLetteredAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"nested 100,000 deep", strings.Repeat("<Doc>", 100000) + strings.Repeat("</Doc>", 100000),
			"payload XML is nested deeper than 256 elements: xml: element depth exceeds the limit of 256 at line 1, column 1281"},
		{"second root", "<Doc><Kind>a</Kind></Doc>\n<Doc><Kind>forged</Kind></Doc>",
			"xml: element after the root element at line 2, column 1 (<Doc>: a document has exactly one root element)"},
		{"text after the root", "<Doc><Kind>a</Kind></Doc>forged", "xml: text after the root element at line 1, column 26"},
		{"DOCTYPE", `<!DOCTYPE Doc [<!ENTITY k "a">]><Doc><Kind>&k;</Kind></Doc>`, "DOCTYPE or other declaration not allowed"},
		{"too many attributes", "<Doc" + attrs(300) + "><Kind>a</Kind></Doc>", "attribute count exceeds the limit of 256"},
		{"malformed", "<Doc><Kind>a</Doc>", "payload is not well-formed XML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, unparsableConfig, nil, nil)
			id := accept(t, r.addr, "/in", "application/xml", tc.payload)
			waitFor(t, "a dead letter", func() bool { return outcomes(t, r.metrics, "read", OutcomeDeadLetter) == 1 })
			dl := deadLetters(t, r.eng.Store())
			if len(dl) != 1 {
				t.Fatalf("dead letters = %d, want 1", len(dl))
			}
			if d := dl[0]; d.MessageID != id || d.Step != "steps[0].xpath" || d.Attempts != 1 || !strings.Contains(d.Error, tc.want) {
				t.Errorf("dead letter {message %s, step %s, attempts %d, error %q}, want {%s, steps[0].xpath, 1, …%s…}", d.MessageID, d.Step, d.Attempts, d.Error, id, tc.want)
			}
			if n := outcomes(t, r.metrics, "read", OutcomeRetried); n != 0 {
				t.Errorf("retried %v times", n)
			}
		})
	}
}

func attrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + i/26)))
		b.WriteString(`="1"`)
	}
	return b.String()
}
