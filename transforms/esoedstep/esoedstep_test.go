package esoedstep

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esoed", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newStep(t *testing.T, o Options) *Step {
	t.Helper()
	s, err := New(&o, transforms.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Step)
}

// received is when the test messages reached the hub: late in the evening in UTC, already the
// next day in Sofia, where the test runs its clock.
var received = time.Date(2024, 3, 12, 22, 30, 0, 0, time.UTC)

func message(payload []byte) *transforms.Message {
	return transforms.NewMessage("m1", map[string]string{
		envelope.Time: received.Format(time.RFC3339Nano), envelope.Type: "esoed.DocumentRegistrationRequest",
		"esoed_document_number": "СО-94-00-1234",
	}, payload)
}

// applyOK runs the step and returns the status response it made, checked against the schema.
func applyOK(t *testing.T, s *Step, m *transforms.Message) *esoed.Message {
	t.Helper()
	if err := s.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	out, err := m.Payload()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := esoed.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(bytes.NewReader(out)); err != nil {
		t.Fatalf("output breaks EGovMessaging.xsd: %v\n%s", err, out)
	}
	resp, _, err := esoed.ParseMessage(bytes.NewReader(out))
	if err != nil || resp.Body.StatusResponse == nil {
		t.Fatalf("output is not a status response: %v\n%s", err, out)
	}
	if m.Metadata[envelope.Type] != "esoed.DocumentStatusResponse" || m.Metadata[envelope.ContentType] != "application/xml" ||
		m.Metadata["esoed_status"] != resp.Body.StatusResponse.Status {
		t.Errorf("metadata = %v", m.Metadata)
	}
	return resp
}

func TestMain(m *testing.M) {
	sofia, err := time.LoadLocation("Europe/Sofia")
	if err == nil {
		time.Local = sofia
	}
	os.Exit(m.Run())
}

func TestRegisteredAnswersTheSender(t *testing.T) {
	raw := sample(t, "registration-request.xml")
	req, _, err := esoed.ParseMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	s := newStep(t, Options{Status: esoed.StatusRegistered, Number: `ПД-94-{{slice .guid 0 8}}/{{.number}}/{{.meta.type}}`, ExpectCloseDays: 14})
	resp := applyOK(t, s, message(raw))
	h := resp.Header
	if h.Sender != req.Header.Recipient || h.Recipient != req.Header.Sender {
		t.Errorf("sender %+v, recipient %+v: want the request's swapped", h.Sender, h.Recipient)
	}
	if !esoed.ValidGUID(h.MessageGUID) || h.MessageGUID == req.Header.MessageGUID {
		t.Errorf("MessageGUID %s: want a new one", h.MessageGUID)
	}
	sr := resp.Body.StatusResponse
	day := time.Date(2024, 3, 13, 0, 0, 0, 0, time.UTC) // 00:30 in Sofia
	if time.Local.String() != "Europe/Sofia" {
		day = time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC)
		t.Log("no time zone data: registration date taken in UTC")
	}
	if sr.Status != esoed.StatusRegistered || sr.DocID.GUID != "{926159f2-af76-4c3d-ae7c-ee18890ca446}" || sr.DocID.Number == nil ||
		sr.DocID.Number.Number != "ПД-94-926159f2/СО-94-00-1234/esoed.DocumentRegistrationRequest" || !sr.DocID.Number.Date.Equal(day) {
		t.Errorf("status response = %+v, number %+v", sr, sr.DocID.Number)
	}
	if !sr.ExpectCloseDate.Equal(day.AddDate(0, 0, 14)) {
		t.Errorf("DocExpectCloseDate = %v, want %v", sr.ExpectCloseDate, day.AddDate(0, 0, 14))
	}

	// Each response is a message of its own.
	again := applyOK(t, s, message(raw))
	if again.Header.MessageGUID == h.MessageGUID {
		t.Error("two responses with one MessageGUID")
	}
}

func TestStatusesThatRepeatTheSendersNumber(t *testing.T) {
	for _, tc := range []struct {
		opts  Options
		input string
	}{
		{Options{Status: esoed.StatusWaitRegistration}, "registration-request.xml"},
		{Options{Status: esoed.StatusRejected, RejectionReason: "Непълен комплект документи"}, "registration-request.xml"},
		{Options{Status: esoed.StatusClosed}, "status-request.xml"}, // no number template: the document keeps its number
	} {
		t.Run(tc.opts.Status, func(t *testing.T) {
			resp := applyOK(t, newStep(t, tc.opts), message(sample(t, tc.input)))
			sr := resp.Body.StatusResponse
			if sr.Status != tc.opts.Status || sr.RejectionReason != tc.opts.RejectionReason {
				t.Errorf("status %s, reason %q", sr.Status, sr.RejectionReason)
			}
			if sr.DocID.Number == nil || sr.DocID.Number.Number != "СО-94-00-1234" || !sr.DocID.Number.Date.Equal(time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("DocID = %+v, want the sender's number and date", sr.DocID.Number)
			}
			if !sr.ExpectCloseDate.IsZero() {
				t.Errorf("DocExpectCloseDate %v, want none", sr.ExpectCloseDate)
			}
		})
	}
}

func TestInputThatConcernsNoDocumentReceived(t *testing.T) {
	s := newStep(t, Options{Status: esoed.StatusRegistered})
	for _, tc := range []struct{ name, payload, want string }{
		{"status response", string(sample(t, "status-response.xml")), "MSG_DocumentStatusResponse concerns no document received"},
		{"error", string(sample(t, "error.xml")), "MSG_Error concerns no document received"},
		{"not XML", "{\"a\": 1}", "esoed_status: the payload is not an ЕСОЕД message"},
		{"no MessageGUID", string(sample(t, "no-guid.xml")), "esoed_status: the payload is not an ЕСОЕД message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message([]byte(tc.payload))
			err := s.Apply(context.Background(), m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if fault.IsRetryable(err) {
				t.Error("a malformed message is retried")
			}
			if got, _ := m.Payload(); string(got) != tc.payload {
				t.Error("the payload changed on failure")
			}
		})
	}
	empty := newStep(t, Options{Status: esoed.StatusRegistered, Number: "{{.meta.missing}}"})
	if err := empty.Apply(context.Background(), message(sample(t, "registration-request.xml"))); err == nil || !strings.Contains(err.Error(), "empty number") {
		t.Errorf("empty number: error = %v", err)
	}
}

func TestDelayCountsFromArrival(t *testing.T) {
	s := newStep(t, Options{Status: esoed.StatusClosed, Delay: spec.Duration(300 * time.Millisecond)})
	raw := sample(t, "registration-request.xml")

	m := message(raw)
	m.Metadata[envelope.Time] = time.Now().UTC().Format(time.RFC3339Nano)
	start := time.Now()
	applyOK(t, s, m)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("made after %v, want the delay of 300ms", d)
	}

	start = time.Now()
	applyOK(t, s, message(raw)) // arrived long ago
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("a message that arrived long ago waited %v", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	m = message(raw)
	m.Metadata[envelope.Time] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := s.Apply(ctx, m); err == nil || !fault.IsRetryable(err) {
		t.Errorf("delay cut by the route's timeout: error %v, want a retryable one", err)
	}
}

func TestOptionsFitTheStatus(t *testing.T) {
	for _, tc := range []struct {
		opts       Options
		field, msg string
	}{
		{Options{Status: esoed.StatusWaitRegistration, Number: "X"}, "number", "DS_WAIT_REGISTRATION repeats the sender's number"},
		{Options{Status: esoed.StatusRejected}, "rejection_reason", "required with DS_REJECTED"},
		{Options{Status: esoed.StatusClosed, RejectionReason: "x"}, "rejection_reason", "only with DS_REJECTED"},
		{Options{Status: esoed.StatusClosed, ExpectCloseDays: 3}, "expect_close_days", "only with DS_REGISTERED"},
		{Options{Status: esoed.StatusClosed, Delay: spec.Duration(time.Hour)}, "delay", "must be 0 to 10m0s"},
		{Options{Status: esoed.StatusClosed, Number: "{{.number"}, "number", "unclosed action"},
	} {
		err := tc.opts.Validate()
		fe, ok := err.(*spec.FieldError)
		if !ok || fe.Field != tc.field || !strings.Contains(fe.Error(), tc.msg) {
			t.Errorf("%+v: error %v, want %s: %s", tc.opts, err, tc.field, tc.msg)
		}
	}
}

// TestRegistrationOutcomes: the status responses a route sends, through this step, when the
// registration of a document received is decided (technical specification, ЗР.3 and ЗР.7–ЗР.9;
// the endpoint itself answers ЗР.1 and ЗР.2).
func TestRegistrationOutcomes(t *testing.T) {
	raw := sample(t, "registration-request.xml")
	const ours = "ПД-94-17"
	for _, tc := range []struct {
		code       string
		opts       Options
		wantNumber string // the number the response gives the document
		wantReason string
		wantClose  bool // DocExpectCloseDate set
	}{
		{"ЗР.3", Options{Status: esoed.StatusRejected, RejectionReason: "Непълен комплект документи"}, "СО-94-00-1234", "Непълен комплект документи", false},
		{"ЗР.7", Options{Status: esoed.StatusRegistered, Number: ours, ExpectCloseDays: 30}, ours, "", true},
		{"ЗР.8", Options{Status: esoed.StatusStopped, Number: ours}, ours, "", false},
		{"ЗР.9", Options{Status: esoed.StatusClosed, Number: ours}, ours, "", false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			sr := applyOK(t, newStep(t, tc.opts), message(raw)).Body.StatusResponse
			if sr.Status != tc.opts.Status {
				t.Errorf("DocRegStatus %s, want %s", sr.Status, tc.opts.Status)
			}
			if sr.DocID.Number == nil || sr.DocID.Number.Number != tc.wantNumber {
				t.Errorf("DocumentNumber %+v, want %s", sr.DocID.Number, tc.wantNumber)
			}
			if sr.RejectionReason != tc.wantReason {
				t.Errorf("RejectionReason %q, want %q", sr.RejectionReason, tc.wantReason)
			}
			if got := !sr.ExpectCloseDate.IsZero(); got != tc.wantClose {
				t.Errorf("DocExpectCloseDate %v, want set: %v", sr.ExpectCloseDate, tc.wantClose)
			}
		})
	}
}
