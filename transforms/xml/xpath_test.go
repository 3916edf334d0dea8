package xml

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/transformstest"
)

var esoedNS = map[string]string{"m": "http://schemas.egov.bg/messaging/v1", "ds": "http://www.w3.org/2000/09/xmldsig#"}

func TestXPathOptions(t *testing.T) {
	checkOptions(t, "xpath", transforms.Env{}, []optionCase[XPathOptions]{
		{name: "good", opts: XPathOptions{Namespaces: esoedNS, Fields: map[string]string{"subject": "//m:DocNumber"}, Into: "metadata", Required: []string{"subject"}}},
		{name: "no fields", opts: XPathOptions{}, want: "fields: is required"},
		{name: "bad expression", opts: XPathOptions{Fields: map[string]string{"subject": "//DocNumber[", "type": "count(/a"}},
			want: "fields.subject: invalid XPath \"//DocNumber[\": expression must evaluate to a node-set\n" +
				"fields.type: invalid XPath \"count(/a\": count(/a has an invalid token"},
		{name: "undeclared prefix", opts: XPathOptions{Fields: map[string]string{"subject": "//m:DocNumber"}},
			want: `fields.subject: invalid XPath "//m:DocNumber": prefix "m" is not declared in namespaces`},
		{name: "bad namespace", opts: XPathOptions{Namespaces: map[string]string{"1m": ""}, Fields: map[string]string{"a": "/a"}},
			want: "namespaces.1m: \"1m\" is not a valid namespace prefix\nnamespaces.1m: namespace URI is empty"},
		{name: "bad into", opts: XPathOptions{Fields: map[string]string{"a": "/a"}, Into: "xml"}, want: `into: must be one of metadata, json; got "xml"`},
		{name: "unknown required", opts: XPathOptions{Fields: map[string]string{"a": "/a"}, Required: []string{"a", "b"}},
			want: `required[1]: "b" is not one of the fields`},
	})
}

func TestXPath(t *testing.T) {
	esoed := string(readFile(t, "esoed-document-status-response.xml"))
	tests := []struct {
		name     string
		opts     XPathOptions
		in       string
		wantMeta map[string]string
		wantBody string
		wantErr  string
	}{
		{
			name: "metadata from the ЕСОЕД sample",
			opts: XPathOptions{Namespaces: esoedNS, Fields: map[string]string{
				"subject":      "/m:Message/m:Body/m:DocumentStatusResponse/m:DocID/m:DocumentNumber/m:DocNumber",
				"message_guid": "/m:Message/m:Header/m:MessageGUID",
				"status":       "//DocRegStatus", // no prefix: the default namespace too
				"signed":       "boolean(//ds:SignatureValue)",
				"parties":      "count(//m:Header/*[m:Identifier])",
				"sender":       "concat(//m:Sender/m:Identifier, '/', //m:Sender/m:AdministrativeBodyName)",
				"algorithm":    "//ds:SignatureMethod/@Algorithm",
				"missing":      "//m:Nothing",
				"nan":          "number('x')",
			}, Required: []string{"subject", "message_guid"}},
			in: esoed,
			wantMeta: map[string]string{
				"subject":      "97-0056",
				"message_guid": "{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}",
				"status":       "DS_WAIT_REGISTRATION",
				"signed":       "true",
				"parties":      "2",
				"sender":       "1770988091003/ССЕВ тест",
				"algorithm":    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
				"nan":          "NaN",
			},
		},
		{
			name: "into json",
			opts: XPathOptions{Namespaces: esoedNS, Into: "json", Fields: map[string]string{
				"number": "//m:DocNumber", "count": "count(//m:Identifier)", "signed": "boolean(//ds:Signature)", "ratio": "1 div 4",
				"nan": "0 div 0", "inf": "-1 div 0"}},
			in:       esoed,
			wantMeta: map[string]string{"datacontenttype": "application/json"},
			wantBody: `{"count":2,"inf":"-Infinity","nan":"NaN","number":"97-0056","ratio":0.25,"signed":true}`,
		},
		{
			name: "a name without prefix matches an element written without one",
			opts: XPathOptions{Namespaces: esoedNS, Fields: map[string]string{
				"prefixed": "/m:Message/m:Header/m:MessageType", "unprefixed": "/Message/Header/MessageType",
				"default": "//Header/MessageType"}},
			in: `<m:Message xmlns:m="http://schemas.egov.bg/messaging/v1"><m:Header><m:MessageType>T</m:MessageType></m:Header>` +
				`<m:Body><Header xmlns="http://schemas.egov.bg/messaging/v1"><MessageType>D</MessageType></Header></m:Body></m:Message>`,
			wantMeta: map[string]string{"prefixed": "T", "default": "D"},
		},
		{
			name: "required field missing",
			opts: XPathOptions{Namespaces: esoedNS, Fields: map[string]string{
				"message_guid": "/m:Message/m:Header/m:MessageGUID", "doc": "//m:Missing", "text": "string(//m:Missing)",
				"header": "/m:Message/m:Header"},
				Required: []string{"message_guid", "doc", "text", "header"}},
			in: `<Message xmlns="http://schemas.egov.bg/messaging/v1"><Header/></Message>`,
			wantErr: "xpath: field \"doc\": no node matches //m:Missing\n" +
				"xpath: field \"header\": /m:Message/m:Header gives an empty string\n" +
				"xpath: field \"message_guid\": no node matches /m:Message/m:Header/m:MessageGUID\n" +
				"xpath: field \"text\": string(//m:Missing) gives an empty string",
		},
		{
			name:    "not XML",
			opts:    XPathOptions{Fields: map[string]string{"a": "/a"}},
			in:      `{"a":1}`,
			wantErr: "xpath: payload is not well-formed XML: xml: text before the root element at line 1, column 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := transforms.NewMessage("1", nil, []byte(tt.in))
			err := newStep(t, "xpath", &tt.opts).Apply(context.Background(), m)
			if !transformstest.WantErr(t, err, tt.wantErr) {
				return
			}
			if !maps.Equal(m.Metadata, tt.wantMeta) {
				t.Errorf("metadata = %v\nwant %v", m.Metadata, tt.wantMeta)
			}
			if tt.wantBody != "" {
				if got := payload(t, m); got != tt.wantBody {
					t.Errorf("payload = %s\nwant %s", got, tt.wantBody)
				}
			} else if got := payload(t, m); got != tt.in {
				t.Errorf("payload changed")
			}
		})
	}
}

// xpath and xml_to_json work on the document the message parsed once: a change made to the parsed
// document after xpath shows in xml_to_json's output, which a second parse of the bytes would not
// see.
func TestChainSharesParsedDocument(t *testing.T) {
	m := transforms.NewMessage("1", nil, readFile(t, "esoed-document-status-response.xml"))
	before, err := m.XML()
	if err != nil {
		t.Fatal(err)
	}
	apply(t, newStep(t, "xpath", &XPathOptions{Namespaces: esoedNS, Fields: map[string]string{"subject": "//m:DocNumber"}}), m)
	after, err := m.XML()
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatal("xpath replaced the parsed document")
	}
	n := firstNode(t, "//m:DocNumber/text()", after)
	n.Data = "changed-in-place"
	apply(t, newStep(t, "xml_to_json", &ToJSONOptions{}), m)
	if got := payload(t, m); !strings.Contains(got, `"DocNumber":"changed-in-place"`) {
		t.Fatalf("xml_to_json did not use the parsed document: %.300s", got)
	}
	if m.Metadata["subject"] != "97-0056" {
		t.Fatalf("subject = %q", m.Metadata["subject"])
	}
}
