package esoed

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// testSigner makes a throw-away RSA key and a self-signed certificate for it.
func testSigner(t testing.TB, cn string) *Signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Country: []string{"BG"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key, cert)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func attachmentText(t *testing.T, m *Message) []string {
	var out []string
	if m.Body.RegistrationRequest == nil {
		return nil
	}
	for _, a := range m.Body.RegistrationRequest.Document.Attachments {
		b, err := io.ReadAll(a.Content)
		if err != nil {
			t.Fatal(err)
		}
		a.Content = bytes.NewReader(b)
		out = append(out, string(b))
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	schema, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"registration-request.xml", "status-request.xml", "status-response.xml", "error.xml", "schema-violation.xml",
		"document-uri.xml"} {
		t.Run(file, func(t *testing.T) {
			m, signed, err := ParseMessage(bytes.NewReader(sample(t, file)))
			if err != nil {
				t.Fatal(err)
			}
			if signed != (file == "status-response.xml") {
				t.Errorf("signed = %v", signed)
			}
			// Attachments are read once; keep their text to compare and to write.
			att := attachmentText(t, m)
			for i, a := range att {
				m.Body.RegistrationRequest.Document.Attachments[i].Content = strings.NewReader(a)
			}
			out, err := Marshal(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(bytes.NewReader(out)); err != nil {
				t.Fatalf("written message is not valid: %v\n%s", err, out)
			}
			m2, _, err := ParseMessage(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if got := attachmentText(t, m2); !reflect.DeepEqual(got, att) {
				t.Errorf("attachments %q, want %q", got, att)
			}
			for _, x := range []*Message{m, m2} {
				if x.Body.RegistrationRequest != nil {
					x.Body.RegistrationRequest.Document.Attachments = stripContent(x.Body.RegistrationRequest.Document.Attachments)
				}
				x.Header.MessageDate = x.Header.MessageDate.UTC()
			}
			if !reflect.DeepEqual(m, m2) {
				t.Errorf("round trip changed the message:\n%+v\n%+v", m, m2)
			}
			// The summary reader agrees with the full parser.
			s1, err1 := ParseHeader(bytes.NewReader(sample(t, file)))
			s2, err2 := ParseHeader(bytes.NewReader(out))
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			s1.Signed = false
			s1.Header.MessageDate, s2.Header.MessageDate = time.Time{}, time.Time{}
			if *s1 != *s2 {
				t.Errorf("summary changed:\n%+v\n%+v", s1, s2)
			}
		})
	}
}

func stripContent(as []Attachment) []Attachment {
	out := make([]Attachment, len(as))
	for i, a := range as {
		a.Content = nil
		out[i] = a
	}
	return out
}

// TestWriteRealBody writes the model of the real ССЕВ message and compares it with the bytes
// of its Header and Body on the wire: both are canonical and compact, so they must be equal.
func TestWriteRealBody(t *testing.T) {
	real := sample(t, "status-response.xml")
	m, _, err := ParseMessage(bytes.NewReader(real))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	cut := func(b []byte) string {
		return string(b[bytes.Index(b, []byte("<Header>")):bytes.Index(b, []byte("</Body>"))])
	}
	// The sample's MessageDate has seven fractional digits, as .NET writes them; ours keeps
	// them all but drops trailing zeros, which here are none.
	if cut(out) != cut(real) {
		t.Errorf("got\n%s\nwant\n%s", cut(out), cut(real))
	}
}

func TestSignedWriteVerifies(t *testing.T) {
	s := testSigner(t, "Община Пловдив")
	schema, _ := Schema()
	for _, file := range []string{"registration-request.xml", "status-request.xml", "status-response.xml", "error.xml", "document-uri.xml"} {
		t.Run(file, func(t *testing.T) {
			m, _, err := ParseMessage(bytes.NewReader(sample(t, file)))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(m, s)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(bytes.NewReader(out)); err != nil {
				t.Fatalf("signed message is not valid: %v", err)
			}
			got, err := VerifySignatureIntegrity(out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !got.Certificate.Equal(s.Certificate()) {
				t.Error("verified with another certificate")
			}
			// One character changed anywhere in the content breaks it.
			i := bytes.Index(out, []byte("<MessageGUID>{")) + len("<MessageGUID>{")
			bad := bytes.Clone(out)
			bad[i] ^= 1 // a hex digit becomes another
			if _, err := VerifySignatureIntegrity(bad); err == nil || !strings.Contains(err.Error(), "signature") {
				t.Errorf("altered message: got %v, want a signature error", err)
			}
		})
	}
}

// TestSignMatchesSampleForm checks the shape of the signature against the real message:
// default namespace, c14n 1.0, enveloped transform, URI="", X509Certificate in KeyInfo.
func TestSignMatchesSampleForm(t *testing.T) {
	s := testSigner(t, "test")
	m, _, _ := ParseMessage(bytes.NewReader(sample(t, "status-request.xml")))
	out, err := Marshal(m, s)
	if err != nil {
		t.Fatal(err)
	}
	shape := func(raw []byte) []string {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		sig := doc.Root().ChildElements()[2]
		var out []string
		for _, p := range []string{"./SignedInfo/CanonicalizationMethod", "./SignedInfo/Reference", "./SignedInfo/Reference/Transforms/Transform", "./KeyInfo/X509Data/X509Certificate"} {
			e := sig.FindElement(p)
			if e == nil {
				t.Fatalf("%s missing in\n%s", p, raw)
			}
			out = append(out, p+"="+e.SelectAttrValue("Algorithm", "")+e.SelectAttrValue("URI", ""))
		}
		return append(out, sig.Tag, sig.NamespaceURI(), sig.Space)
	}
	if got, want := shape(out), shape(sample(t, "status-response.xml")); !reflect.DeepEqual(got, want) {
		t.Errorf("signature shape\n%q\nwant\n%q", got, want)
	}
	if !bytes.Contains(out, []byte(dsig.RSASHA256SignatureMethod)) {
		t.Error("not RSA-SHA256")
	}
}

func TestSignBytes(t *testing.T) {
	s := testSigner(t, "test")
	out, err := s.Sign(sample(t, "registration-request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySignatureIntegrity(out); err != nil {
		t.Fatal(err)
	}
	// Re-signing the real message replaces its signature.
	out, err = s.Sign(sample(t, "status-response.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := VerifySignatureIntegrity(out); err != nil || !got.Certificate.Equal(s.Certificate()) {
		t.Fatalf("%v %v", got, err)
	}
	if bytes.Count(out, []byte("<SignatureValue>")) != 1 {
		t.Error("old signature kept")
	}
	for _, bad := range []string{"not XML", `<Message xmlns="urn:x"/>`, `<!DOCTYPE x><Message xmlns="` + Namespace + `"/>`} {
		if _, err := s.Sign([]byte(bad)); err == nil {
			t.Errorf("%q: signed", bad)
		}
	}
}

// TestWriteStreamsAttachments writes a 24 MiB attachment and checks Write holds neither the
// content nor its base64 text whole: allocation stays far below the 32 MiB of text produced.
func TestWriteStreamsAttachments(t *testing.T) {
	m, _, err := ParseMessage(bytes.NewReader(sample(t, "registration-request.xml")))
	if err != nil {
		t.Fatal(err)
	}
	const size = 24 << 20
	m.Body.RegistrationRequest.Document.Attachments[0].Content = io.LimitReader(zeros{}, size)
	s := testSigner(t, "test")
	var n countWriter
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := Write(&n, m, s); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n < size*4/3 {
		t.Errorf("wrote %d bytes", n)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 4<<20 {
		t.Errorf("allocated %d bytes writing a %d-byte attachment", a, size)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// TestParseAttachmentsOneCopy: decoding a 16 MiB attachment allocates the decoder's text
// buffer (about twice the text, by doubling) and the decoded bytes (three quarters of it),
// no copy of the text.
func TestParseAttachmentsOneCopy(t *testing.T) {
	reg := sample(t, "registration-request.xml")
	start := bytes.Index(reg, []byte("<AttBody>")) + len("<AttBody>")
	end := bytes.Index(reg, []byte("</AttBody>"))
	big := bytes.Repeat([]byte("QUJD"), 4<<20)
	doc := append(append(append([]byte{}, reg[:start]...), big...), reg[end:]...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, _, err := ParseMessage(bytes.NewReader(doc))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; !raceEnabled && a > uint64(len(big))*2+uint64(len(big))*3/4+4<<20 {
		t.Errorf("allocated %d bytes for a %d-byte attachment", a, len(big))
	}
	got, _ := io.ReadAll(m.Body.RegistrationRequest.Document.Attachments[0].Content)
	if len(got) != 3<<22 || string(got[:6]) != "ABCABC" {
		t.Errorf("content %d bytes %q", len(got), got[:6])
	}

	// Streamed to a callback instead: no decoded copy either.
	var streamed int64
	_, _, err = ParseMessageWith(bytes.NewReader(doc), ParseOptions{Attachment: func(i int, a *Attachment, r io.Reader) error {
		if i != 0 || a.FileName != "заявление.txt" {
			t.Errorf("attachment %d %q", i, a.FileName)
		}
		streamed, err = io.Copy(io.Discard, r)
		return err
	}})
	if err != nil || streamed != 3<<22 {
		t.Errorf("streamed %d bytes, %v", streamed, err)
	}
	_, _, err = ParseMessageWith(bytes.NewReader(doc), ParseOptions{Attachment: func(int, *Attachment, io.Reader) error {
		return errors.New("disk full")
	}})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "AttBody") {
		t.Errorf("callback error: %v", err)
	}
}

func TestParseMessageErrors(t *testing.T) {
	reg := string(sample(t, "registration-request.xml"))
	for _, tc := range []struct{ name, doc, want string }{
		{"not XML", "this is not XML", "esoed: parse: not XML"},
		{"empty", "", "not XML: no root element"},
		{"wrong namespace", `<Message xmlns="urn:other"/>`, "not an ЕСОЕД message: root element {urn:other}Message"},
		{"DOCTYPE", `<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]><Message xmlns="` + Namespace + `">&x;</Message>`, "DOCTYPE"},
		{"no GUID", string(sample(t, "no-guid.xml")), "Message/Header: MessageGUID is missing"},
		{"GUID without braces", strings.Replace(reg, "<MessageGUID>{f330b925-8cca-447e-907e-8e42a11bb6d6}", "<MessageGUID>f330b925-8cca-447e-907e-8e42a11bb6d6", 1),
			`Message/Header/MessageGUID: "f330b925-8cca-447e-907e-8e42a11bb6d6" is not a GUID in braces`},
		{"bad date", strings.Replace(reg, "<DocDate>2024-03-12</DocDate>", "<DocDate>12.03.2024</DocDate>", 1),
			`Message/Body/DocumentRegistrationRequest/Document/DocID/DocumentNumber/DocDate: "12.03.2024" is not a date`},
		{"type mismatch", strings.Replace(reg, "<MessageType>MSG_DocumentRegistrationRequest", "<MessageType>MSG_Error", 1), `MessageType: "MSG_Error" does not match the body`},
		{"bad base64", strings.Replace(reg, "<AttBody>0JfQ", "<AttBody>*JfQ", 1), "AttBody: not base64"},
		{"unknown element", strings.Replace(reg, "<DocKind>", "<Foo/><DocKind>", 1), "Document: unexpected element Foo"},
		{"truncated", reg[:len(reg)/2], "malformed XML"},
		{"two roots", reg + "<Message/>", "after the root element"},
		{"deep DocAddData", strings.Replace(reg, "<DocReqDateClose>", "<DocAddData>"+strings.Repeat("<a>", 100)+strings.Repeat("</a>", 100)+"</DocAddData><DocReqDateClose>", 1), "nested deeper than 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := ParseMessage(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if m != nil {
				t.Error("a message with an error")
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	good := func() *Message {
		m, _, err := ParseMessage(bytes.NewReader(sample(t, "status-response.xml")))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		change func(m *Message)
		want   string
	}{
		{"no body", func(m *Message) { m.Body = Body{} }, "exactly one"},
		{"two bodies", func(m *Message) { m.Body.Error = &ErrorNotice{Type: ErrorExternal} }, "exactly one"},
		{"GUID", func(m *Message) { m.Header.MessageGUID = "f3da1c2e-19b4-4dab-bb60-4a926d8f6d58" }, "Header/MessageGUID"},
		{"status", func(m *Message) { m.Body.StatusResponse.Status = "DS_LOST" }, `DocRegStatus: "DS_LOST"`},
		{"control character", func(m *Message) { m.Header.Sender.AdministrativeBodyName = "ССЕВ\x00" }, "U+0000"},
		{"invalid UTF-8", func(m *Message) { m.Body.StatusResponse.RejectionReason = "\xff" }, "not valid UTF-8"},
		{"bad AddData", func(m *Message) { m.Body.StatusResponse.AddData = RawXML("<a>") }, "any-content"},
		{"AddData DOCTYPE", func(m *Message) { m.Body.StatusResponse.AddData = RawXML(`<!DOCTYPE a [<!ENTITY x "y">]><a/>`) }, "DOCTYPE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.change(m)
			_, err := Marshal(m, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestAddDataCanonical writes any-content in another namespace, with attributes out of order,
// signs it and checks the signature verifies: the fragment is written in canonical form.
func TestAddDataCanonical(t *testing.T) {
	m, _, _ := ParseMessage(bytes.NewReader(sample(t, "status-response.xml")))
	m.Body.StatusResponse.AddData = RawXML(`<x:Data xmlns:x="urn:x" xmlns:y="urn:y" b="2" y:c="3" a="1&#13;"><x:Item xml:lang="bg">едно &amp; &lt;две&gt;</x:Item><Plain/><?pi data?><!-- dropped --></x:Data>`)
	s := testSigner(t, "t")
	out, err := Marshal(m, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySignatureIntegrity(out); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := `<DocAddData><Data xmlns="urn:x" xmlns:x="urn:x" xmlns:y="urn:y" a="1&#xD;" b="2" y:c="3"><Item xml:lang="bg">едно &amp; &lt;две&gt;</Item><Plain xmlns="http://schemas.egov.bg/messaging/v1"></Plain><?pi data?></Data></DocAddData>`
	if !bytes.Contains(out, []byte(want)) {
		t.Errorf("DocAddData not canonical:\n%s", out)
	}
	schema, _ := Schema()
	if err := schema.Validate(bytes.NewReader(out)); err != nil {
		t.Error(err)
	}
	m2, _, err := ParseMessage(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m2.Body.StatusResponse.AddData), `<Item xml:lang="bg">`) {
		t.Errorf("read back %s", m2.Body.StatusResponse.AddData)
	}
}

func pemCert(s *Signer) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}
