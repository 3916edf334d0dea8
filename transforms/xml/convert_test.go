package xml

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/transformstest"
)

func TestXMLToJSONGolden(t *testing.T) {
	for _, name := range samples(t) {
		t.Run(name, func(t *testing.T) {
			m := transforms.NewMessage("1", nil, readFile(t, name))
			apply(t, newStep(t, "xml_to_json", &ToJSONOptions{}), m)
			if ct := m.Metadata[envelope.ContentType]; ct != "application/json" {
				t.Errorf("content type = %q", ct)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, []byte(payload(t, m)), "", "  "); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			out.WriteByte('\n')
			golden(t, strings.TrimSuffix(name, ".xml")+".golden.json", out.Bytes())
		})
	}
}

// A real message converted to JSON and back is the same document, up to whitespace and the
// order of attributes.
func TestRoundTrip(t *testing.T) {
	for _, name := range samples(t) {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, name)
			m := transforms.NewMessage("1", nil, in)
			apply(t, newStep(t, "xml_to_json", &ToJSONOptions{}), m)
			apply(t, newStep(t, "json_to_xml", &ToXMLOptions{}), m)
			if got, want := canonical(t, []byte(payload(t, m))), canonical(t, in); got != want {
				t.Errorf("round trip changed the document:\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestXMLToJSON(t *testing.T) {
	tests := []struct {
		name   string
		arrays []string
		in     string
		want   string
	}{
		{name: "text only", in: `<a>x &amp; y</a>`, want: `{"a":"x & y"}`},
		{name: "empty", in: `<a><b/><c></c></a>`, want: `{"a":{"b":"","c":""}}`},
		{name: "attributes and text", in: `<a id="1" x:y="2" xmlns:x="urn:x">t</a>`,
			want: `{"a":{"@id":"1","@x:y":"2","@xmlns:x":"urn:x","#text":"t"}}`},
		{name: "default namespace kept", in: `<Message xmlns="urn:m"><Header/></Message>`,
			want: `{"Message":{"@xmlns":"urn:m","Header":""}}`},
		{name: "prefixes as written", in: `<s:Envelope xmlns:s="urn:s"><s:Body><r:Result xmlns:r="urn:r">1</r:Result></s:Body></s:Envelope>`,
			want: `{"s:Envelope":{"@xmlns:s":"urn:s","s:Body":{"r:Result":{"@xmlns:r":"urn:r","#text":"1"}}}}`},
		{name: "repeated siblings", in: `<a><i>1</i><j>x</j><i>2</i></a>`, want: `{"a":{"i":["1","2"],"j":"x"}}`},
		{name: "repeated siblings apart, nested", in: `<a><i><x>1</x></i><j/><i><x>2</x></i><k/><i>3</i></a>`,
			want: `{"a":{"i":[{"x":"1"},{"x":"2"},"3"],"j":"","k":""}}`},
		{name: "same local name, other prefix", in: `<a xmlns:p="urn:p"><i>1</i><p:i>2</p:i><i>3</i></a>`,
			want: `{"a":{"@xmlns:p":"urn:p","i":["1","3"],"p:i":"2"}}`},
		{name: "forced array of repeated siblings", arrays: []string{"a.i"}, in: `<a><i>1</i><j/><i>2</i></a>`,
			want: `{"a":{"i":["1","2"],"j":""}}`},
		{name: "single element not an array", in: `<a><Items><Item>1</Item></Items></a>`, want: `{"a":{"Items":{"Item":"1"}}}`},
		{name: "forced array", arrays: []string{"a.Items.Item"}, in: `<a><Items><Item>1</Item></Items></a>`,
			want: `{"a":{"Items":{"Item":["1"]}}}`},
		{name: "forced array on the root's child", arrays: []string{"a.b"}, in: `<a><b x="1"/></a>`, want: `{"a":{"b":[{"@x":"1"}]}}`},
		{name: "numbers stay strings", in: `<a><n>007</n><b>true</b></a>`, want: `{"a":{"n":"007","b":"true"}}`},
		{name: "mixed content", in: `<p>one <b>two</b> three</p>`, want: `{"p":{"#text":"one  three","b":"two"}}`},
		{name: "indentation dropped", in: "<a>\n  <b>1</b>\n</a>", want: `{"a":{"b":"1"}}`},
		{name: "leaf text in pieces kept whole", in: `<a><b> 1 <!-- c --> 2 </b><c> <!-- c --> </c></a>`, want: `{"a":{"b":" 1  2 ","c":"  "}}`},
		{name: "blank pieces beside children dropped", in: "<a> <!-- c --> <b>1</b>\n</a>", want: `{"a":{"b":"1"}}`},
		{name: "text in pieces beside children", in: `<a x="1"> one <!-- c --> two <b>1</b></a>`, want: `{"a":{"@x":"1","#text":"one  two","b":"1"}}`},
		{name: "leaf whitespace kept", in: `<a><b> 1 </b></a>`, want: `{"a":{"b":" 1 "}}`},
		{name: "comments and PIs dropped", in: `<?xml version="1.0"?><!-- c --><a><?pi x?><!-- d --><b>1</b></a>`, want: `{"a":{"b":"1"}}`},
		{name: "CDATA is text", in: `<a><![CDATA[<x> & y]]></a>`, want: `{"a":"<x> & y"}`},
		{name: "JSON escaping", in: "<a>\"q\" \\ \t\u2028</a>", want: `{"a":"\"q\" \\ \t\u2028"}`},
		{name: "cyrillic", in: `<Име>Баща</Име>`, want: `{"Име":"Баща"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := transforms.NewMessage("1", nil, []byte(tt.in))
			apply(t, newStep(t, "xml_to_json", &ToJSONOptions{Arrays: tt.arrays}), m)
			if got := payload(t, m); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestXMLToJSONErrors(t *testing.T) {
	m := transforms.NewMessage("1", nil, []byte(`<a><b></a>`))
	err := newStep(t, "xml_to_json", &ToJSONOptions{}).Apply(context.Background(), m)
	want := "xml_to_json: payload is not well-formed XML: XML syntax error on line 1: element <b> closed by </a>"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestToJSONOptions(t *testing.T) {
	err := (&ToJSONOptions{Arrays: []string{"a.b", "a..b", "1a"}}).Validate()
	want := "arrays[1]: \"a..b\" is not a path of element names joined by dots (bad part \"\")\n" +
		"arrays[2]: \"1a\" is not a path of element names joined by dots (bad part \"1a\")"
	if got := fieldErrors(err); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestJSONToXML(t *testing.T) {
	tests := []struct {
		name    string
		opts    ToXMLOptions
		in      string
		want    string
		wantErr string
	}{
		{name: "declaration", in: `{"a":"x"}`, want: `<?xml version="1.0" encoding="UTF-8"?><a>x</a>`},
		{name: "key order kept", opts: ToXMLOptions{OmitDeclaration: true}, in: `{"a":{"z":"1","b":"2","m":"3"}}`,
			want: `<a><z>1</z><b>2</b><m>3</m></a>`},
		{name: "attributes, namespaces and text", opts: ToXMLOptions{OmitDeclaration: true},
			in:   `{"m:a":{"@xmlns:m":"urn:m","@id":"<1>","#text":"t & u","m:b":""}}`,
			want: `<m:a xmlns:m="urn:m" id="&lt;1&gt;">t &amp; u<m:b/></m:a>`},
		{name: "arrays repeat", opts: ToXMLOptions{OmitDeclaration: true}, in: `{"a":{"i":["1",{"@k":"v"},"3"]}}`,
			want: `<a><i>1</i><i k="v"/><i>3</i></a>`},
		{name: "numbers, booleans and null", opts: ToXMLOptions{OmitDeclaration: true}, in: `{"a":{"n":1.50,"b":true,"z":null,"@q":null}}`,
			want: `<a><n>1.50</n><b>true</b></a>`},
		{name: "attribute escaping", opts: ToXMLOptions{OmitDeclaration: true}, in: `{"a":{"@v":"\"x\"\n&"}}`,
			want: `<a v="&quot;x&quot;&#xa;&amp;"/>`},
		{name: "root wraps", opts: ToXMLOptions{OmitDeclaration: true, Root: "Application"}, in: `{"name":"Иван","egn":"7501010010"}`,
			want: `<Application><name>Иван</name><egn>7501010010</egn></Application>`},
		{name: "not JSON", in: `<a/>`, wantErr: "json_to_xml: payload is not valid JSON: invalid character '<' looking for beginning of value"},
		{name: "trailing data", in: `{"a":"1"} {}`, wantErr: "json_to_xml: payload is not valid JSON: data after the top-level value"},
		{name: "not an object", in: `["a"]`, wantErr: "json_to_xml: payload is a JSON array, want an object"},
		{name: "several roots", in: `{"a":"1","b":"2"}`, wantErr: "json_to_xml: payload object has 2 keys, want exactly one naming the root element (or set root)"},
		{name: "array root", in: `{"a":["1","2"]}`, wantErr: "json_to_xml: /a: the root element must be an object or a string, not array"},
		{name: "bad element name", in: `{"a":{"b c":"1"}}`, wantErr: `json_to_xml: /a/b c: "b c" is not a valid XML element name`},
		{name: "bad attribute name", in: `{"a":{"@1x":"1"}}`, wantErr: `json_to_xml: /a/@1x: "1x" is not a valid XML attribute name`},
		{name: "object attribute", in: `{"a":{"@x":{"y":"1"}}}`, wantErr: `json_to_xml: /a/@x: an attribute must be a string, a number or a boolean`},
		{name: "nested arrays", in: `{"a":{"i":[["1"]]}}`, wantErr: `json_to_xml: /a/i/0: an array directly inside an array has no XML form`},
		{name: "object text", in: `{"a":{"#text":[]}}`, wantErr: `json_to_xml: /a/#text: #text must be a string, a number or a boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := transforms.NewMessage("1", nil, []byte(tt.in))
			err := newStep(t, "json_to_xml", &tt.opts).Apply(context.Background(), m)
			if !transformstest.WantErr(t, err, tt.wantErr) {
				return
			}
			if got := payload(t, m); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if ct := m.Metadata[envelope.ContentType]; ct != "application/xml" {
				t.Errorf("content type = %q", ct)
			}
			if _, err := m.XML(); err != nil {
				t.Errorf("output is not XML: %v", err)
			}
		})
	}
}

// After a step set the payload as a decoded value, json_to_xml reads it in its encoded, sorted
// form.
func TestJSONToXMLAfterSetJSON(t *testing.T) {
	m := transforms.NewMessage("1", nil, nil)
	m.SetJSON(map[string]any{"a": map[string]any{"z": "1", "b": json.Number("2")}})
	apply(t, newStep(t, "json_to_xml", &ToXMLOptions{OmitDeclaration: true}), m)
	if got, want := payload(t, m), `<a><b>2</b><z>1</z></a>`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestToXMLOptions(t *testing.T) {
	_, err := newFromRegistry("json_to_xml", &ToXMLOptions{Root: "a b"}, transforms.Env{})
	if got, want := fieldErrors(err), `root: "a b" is not a valid XML element name`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
