package xml

import (
	"context"
	"fmt"
	"testing"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/transformstest"
)

func TestSplitOptions(t *testing.T) {
	checkOptions(t, "split", transforms.Env{}, []optionCase[SplitOptions]{
		{name: "good xpath", opts: SplitOptions{XPath: "//m:Item", Namespaces: map[string]string{"m": "urn:m"}}},
		{name: "good path", opts: SplitOptions{Path: "a.b.0.c"}},
		{name: "whole payload", opts: SplitOptions{Path: "."}},
		{name: "none", want: "xpath: set xpath (XML payload) or path (JSON payload)"},
		{name: "both", opts: SplitOptions{XPath: "//a", Path: "a"}, want: "path: set xpath or path, not both"},
		{name: "bad xpath", opts: SplitOptions{XPath: "//m:Item"}, want: `xpath: invalid XPath "//m:Item": prefix "m" is not declared in namespaces`},
		{name: "bad path", opts: SplitOptions{Path: "a..b"}, want: `path: "a..b" has an empty key; write keys joined by dots, or "." for the whole payload`},
	})
}

func TestSplit(t *testing.T) {
	relations := string(readFile(t, "regix-grao-relations-response.xml"))
	tests := []struct {
		name    string
		opts    SplitOptions
		in      string
		want    []string
		wantErr string
	}{
		{
			name: "XML elements carry inherited namespaces",
			opts: SplitOptions{XPath: "/p:Envelope/p:Items/i:Item", Namespaces: map[string]string{"p": "urn:p", "i": "urn:i"}},
			in:   `<p:Envelope xmlns:p="urn:p" xmlns="urn:d"><p:Items xmlns:i="urn:i"><i:Item n="1"><Name>a &amp; b</Name></i:Item><!-- c --><i:Item n="2" xmlns="urn:other"/></p:Items></p:Envelope>`,
			want: []string{
				`<i:Item xmlns:i="urn:i" xmlns:p="urn:p" xmlns="urn:d" n="1"><Name>a &amp; b</Name></i:Item>`,
				`<i:Item xmlns:i="urn:i" xmlns:p="urn:p" n="2" xmlns="urn:other"/>`,
			},
		},
		{
			name: "RegiX relations, one message per person",
			opts: SplitOptions{XPath: "//r:PersonRelations", Namespaces: map[string]string{"r": "http://egov.bg/RegiX/GRAO/NBD/RelationsResponse"}},
			in:   relations,
			want: nil, // checked below: three standalone documents
		},
		{name: "nothing selected", opts: SplitOptions{XPath: "//none"}, in: `<a/>`},
		{name: "attributes are not elements", opts: SplitOptions{XPath: "//@n"}, in: `<a n="1"/>`, wantErr: "split: //@n selects something other than elements (n)"},
		{name: "value not node set", opts: SplitOptions{XPath: "count(//a)"}, in: `<a/>`, wantErr: "split: count(//a) gives a value, not a set of elements"},
		{
			name: "JSON array items",
			opts: SplitOptions{Path: "Message.Items.Item"},
			in:   `{"Message":{"Items":{"Item":[{"n":1,"s":"<&>"},"two",[3]]}}}`,
			want: []string{`{"n":1,"s":"<&>"}`, `"two"`, `[3]`},
		},
		{name: "JSON single object", opts: SplitOptions{Path: "a.b"}, in: `{"a":{"b":{"c":"1"}}}`, want: []string{`{"c":"1"}`}},
		{name: "JSON index", opts: SplitOptions{Path: "a.1"}, in: `{"a":[[1],[2,3]]}`, want: []string{`2`, `3`}},
		{name: "JSON whole payload", opts: SplitOptions{Path: "."}, in: `[1,2]`, want: []string{`1`, `2`}},
		{name: "JSON missing key", opts: SplitOptions{Path: "a.x"}, in: `{"a":{}}`},
		{name: "JSON bad index", opts: SplitOptions{Path: "a.5"}, in: `{"a":[1]}`, wantErr: `split: a.5: "5" is not an index of the array there (length 1)`},
		{name: "JSON through a string", opts: SplitOptions{Path: "a.b.c"}, in: `{"a":{"b":"s"}}`, wantErr: `split: a.b: cannot look up "c" in a JSON string`},
		{name: "JSON payload not JSON", opts: SplitOptions{Path: "a"}, in: `<a/>`, wantErr: "split: payload is not valid JSON: invalid character '<' looking for beginning of value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := transforms.NewMessage("m1", map[string]string{envelope.Subject: "97-0056"}, []byte(tt.in))
			s := newStep(t, "split", &tt.opts).(transforms.Splitter)
			if err := s.Apply(context.Background(), m); err == nil {
				t.Error("Apply of a split step did not fail")
			}
			out, err := s.Split(context.Background(), m)
			if !transformstest.WantErr(t, err, tt.wantErr) {
				return
			}
			if tt.want == nil && tt.in == relations {
				if len(out) != 3 {
					t.Fatalf("got %d messages, want 3", len(out))
				}
				for i, c := range out {
					apply(t, newStep(t, "xpath", &XPathOptions{
						Namespaces: map[string]string{"n": "http://egov.bg/RegiX/GRAO/NBD", "r": "http://egov.bg/RegiX/GRAO/NBD/RelationsResponse"},
						Fields:     map[string]string{"egn": "/r:PersonRelations/n:EGN"}, Required: []string{"egn"}}), c)
					if want := []string{"2208251420", "2204031667", "5504031667"}[i]; c.Metadata["egn"] != want {
						t.Errorf("message %d: egn = %q, want %q", i, c.Metadata["egn"], want)
					}
				}
				return
			}
			if len(out) != len(tt.want) {
				t.Fatalf("got %d messages, want %d", len(out), len(tt.want))
			}
			for i, c := range out {
				if got := payload(t, c); got != tt.want[i] {
					t.Errorf("message %d:\n got %s\nwant %s", i, got, tt.want[i])
				}
				if c.ID != fmt.Sprintf("m1.%d", i) || c.Metadata[envelope.Subject] != "97-0056" || c.Metadata[envelope.CausationID] != "m1" {
					t.Errorf("message %d: id %q, metadata %v", i, c.ID, c.Metadata)
				}
			}
		})
	}
}
