package esoed

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/xsd"
)

const samples = "../testdata/esoed"

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSchemaValidatesSamples(t *testing.T) {
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file  string
		valid bool
		want  string // in the only problem of an invalid sample
	}{
		{"registration-request.xml", true, ""},
		{"status-request.xml", true, ""},
		{"status-response.xml", true, ""},
		{"error.xml", true, ""},
		{"schema-violation.xml", true, ""},
		{"document-uri.xml", true, ""},
		{"no-guid.xml", false, "MessageGUID"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			err := s.Validate(bytes.NewReader(sample(t, tc.file)))
			if tc.valid {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *xsd.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a validation error naming %s", err, tc.want)
			}
		})
	}
	if s2, _ := Schema(); s2 != s {
		t.Error("Schema compiled twice")
	}
}

func TestParseHeader(t *testing.T) {
	s, err := ParseHeader(bytes.NewReader(sample(t, "registration-request.xml")))
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{
		Header: Header{
			Version:     "1.0",
			MessageType: TypeRegistrationRequest,
			MessageDate: time.Date(2024, 3, 12, 8, 15, 30, 123e6, time.UTC),
			Sender:      Participant{"000696327", "Столична община", "{676150f9-dfb5-4723-a236-fb007f3eb046}"},
			Recipient:   Participant{"000471504", "Община Пловдив", "{805fd26b-4b64-4823-a7b5-d40315c4b783}"},
			MessageGUID: "{f330b925-8cca-447e-907e-8e42a11bb6d6}",
		},
		Body:      "DocumentRegistrationRequest",
		DocNumber: "СО-94-00-1234",
		DocDate:   time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC),
		DocGUID:   "{926159f2-af76-4c3d-ae7c-ee18890ca446}",
		DocKind:   "Заявление",
	}
	if !s.Header.MessageDate.Equal(want.Header.MessageDate) {
		t.Errorf("MessageDate %v, want %v", s.Header.MessageDate, want.Header.MessageDate)
	}
	s.Header.MessageDate = want.Header.MessageDate
	if *s != want {
		t.Errorf("got\n%+v\nwant\n%+v", *s, want)
	}

	r, err := ParseHeader(bytes.NewReader(sample(t, "status-response.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if r.Body != "DocumentStatusResponse" || r.DocNumber != "97-0056" || r.DocGUID != "{9f5f40b3-591e-46a8-9963-1e04e16d2ede}" ||
		!r.Signed || r.Header.Sender.Identifier != "1770988091003" {
		t.Errorf("status response: %+v", r)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	reg := string(sample(t, "registration-request.xml"))
	for _, tc := range []struct {
		name, doc, want string
		partial         bool // a summary comes back with the error
	}{
		{"not XML", "this is not XML", "esoed: not XML", false},
		{"empty", "", "esoed: not XML", false},
		{"wrong root", `<Message xmlns="urn:other"/>`, "esoed: not an ЕСОЕД message: root element {urn:other}Message, want {http://schemas.egov.bg/messaging/v1}Message", false},
		{"DOCTYPE", `<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]><Message xmlns="` + Namespace + `">&x;</Message>`, "DOCTYPE", false},
		{"no GUID", string(sample(t, "no-guid.xml")), "esoed: Header/MessageGUID is missing", true},
		{"GUID without braces", strings.Replace(reg, "<MessageGUID>{f330b925-8cca-447e-907e-8e42a11bb6d6}", "<MessageGUID>f330b925-8cca-447e-907e-8e42a11bb6d6", 1),
			`esoed: Header/MessageGUID: "f330b925-8cca-447e-907e-8e42a11bb6d6" is not a GUID in braces`, true},
		{"bad date", strings.Replace(reg, "2024-03-12T10:15:30.123+02:00", "12.03.2024", 1), `esoed: Header/MessageDate: "12.03.2024" is not a date and time`, true},
		{"truncated", reg[:len(reg)/2], "esoed: malformed XML", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseHeader(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if (s != nil) != tc.partial {
				t.Errorf("summary %+v, want one: %v", s, tc.partial)
			}
		})
	}
}

// TestParseHeaderSkipsAttachments parses a message with a 16 MiB attachment and checks that the
// parser keeps no copy of it: the only place the text passes through is encoding/xml's own token
// buffer, which grows by doubling (about twice the size allocated in all); a copy kept by the
// parser would take the total past three times.
func TestParseHeaderSkipsAttachments(t *testing.T) {
	reg := sample(t, "registration-request.xml")
	start := bytes.Index(reg, []byte("<AttBody>")) + len("<AttBody>")
	end := bytes.Index(reg, []byte("</AttBody>"))
	big := bytes.Repeat([]byte("QUJD"), 4<<20)
	doc := append(append(append([]byte{}, reg[:start]...), big...), reg[end:]...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := ParseHeader(bytes.NewReader(doc))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if s.DocKind != "Заявление" {
		t.Errorf("summary %+v", s)
	}
	if n := after.TotalAlloc - before.TotalAlloc; !raceEnabled && n > 3*uint64(len(big)) {
		t.Errorf("allocated %d bytes for a %d-byte attachment", n, len(big))
	}
}

// TestVerifySignature checks the real ССЕВ message's signature: its integrity, and its signer
// at the message's date with the signer's certificate pinned as the anchor.
func TestVerifySignature(t *testing.T) {
	real := sample(t, "status-response.xml")
	trust, _ := ssevTrust(t)
	s, err := VerifySignature(context.Background(), real, trust)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Certificate.Subject.CommonName, "edelivery-test") || len(s.Chain) != 1 ||
		!s.At.Equal(time.Date(2021, 8, 23, 22, 2, 54, 243287200, time.UTC)) {
		t.Errorf("signer %s, chain %d, at %s", s.Certificate.Subject, len(s.Chain), s.At)
	}
	for name, doc := range map[string][]byte{
		"body altered":   bytes.Replace(real, []byte("<DocNumber>97-0056<"), []byte("<DocNumber>97-0057<"), 1),
		"header altered": bytes.Replace(real, []byte("<Version>1.0<"), []byte("<Version>1.1<"), 1),
		"value altered":  bytes.Replace(real, []byte("<SignatureValue>Mh9x"), []byte("<SignatureValue>Mh9y"), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(doc, real) {
				t.Fatal("the alteration did not apply")
			}
			_, err := VerifySignature(context.Background(), doc, trust)
			if err == nil || !strings.Contains(err.Error(), "signature") {
				t.Fatalf("got %v, want a signature error", err)
			}
		})
	}
	if _, err := VerifySignature(context.Background(), sample(t, "registration-request.xml"), trust); !errors.Is(err, ErrNoSignature) {
		t.Errorf("unsigned: got %v", err)
	}
	if _, err := VerifySignature(context.Background(), []byte("not XML"), trust); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("not XML: got %v", err)
	}
}
