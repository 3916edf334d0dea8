package esoed

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	sofia   = Participant{"000696327", "Столична община", "{676150f9-dfb5-4723-a236-fb007f3eb046}"}
	plovdiv = Participant{"000471504", "Община Пловдив", "{805fd26b-4b64-4823-a7b5-d40315c4b783}"}
	varna   = Participant{"000093442", "Община Варна", "{0b3d7c1e-7a35-4d0e-9a8b-51f0c7a4d2e9}"}
)

type exchange struct {
	t                      *testing.T
	pki                    *testPKI
	trust                  *Trust
	sofiaKey, plovdivKey   *Signer
	reg, noSofia, inactive Registry
}

// newExchange makes Sofia and Plovdiv with transport certificates of one CA, and registries
// holding their certificates.
func newExchange(t *testing.T) *exchange {
	pki := newPKI(t, "Test transport CA", 0)
	x := &exchange{t: t, pki: pki, trust: pki.trust(""), sofiaKey: pki.issue("sofia", 1, certOpts{}), plovdivKey: pki.issue("plovdiv", 2, certOpts{})}
	ent := func(p Participant, s *Signer, status string) Entity {
		return Entity{Identifier: p.Identifier, GUID: p.GUID, Name: p.AdministrativeBodyName, Status: status, Certificate: s.Certificate(),
			CertificateSN: s.Certificate().SerialNumber.Text(16)}
	}
	must := func(r *FileRegistry, err error) Registry {
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	x.reg = must(NewFileRegistry(ent(sofia, x.sofiaKey, "Active"), ent(plovdiv, x.plovdivKey, "Active")))
	x.noSofia = must(NewFileRegistry(ent(plovdiv, x.plovdivKey, "Active")))
	x.inactive = must(NewFileRegistry(ent(sofia, x.sofiaKey, "Inactive"), ent(plovdiv, x.plovdivKey, "Active")))
	return x
}

// msg builds a message from a sample with the header given, signed with s (nil: unsigned).
func (x *exchange) msg(file string, from, to Participant, guid string, s *Signer) []byte {
	m, _, err := ParseMessage(bytes.NewReader(sample(x.t, file)))
	if err != nil {
		x.t.Fatal(err)
	}
	m.Header.Sender, m.Header.Recipient, m.Header.MessageGUID, m.Header.MessageDate = from, to, guid, time.Now()
	out, err := Marshal(m, s)
	if err != nil {
		x.t.Fatal(err)
	}
	return out
}

func summary(t *testing.T, raw []byte) *Summary {
	s, err := ParseHeader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	guid1 = "{11111111-1111-4111-8111-111111111111}"
	guid2 = "{22222222-2222-4222-8222-222222222222}"
)

func TestChecks(t *testing.T) {
	x := newExchange(t)
	ctx := context.Background()
	sofiaCert, plovdivCert := x.sofiaKey.Certificate(), x.plovdivKey.Certificate()
	good := x.msg("registration-request.xml", sofia, plovdiv, guid1, x.sofiaKey)
	sent := summary(t, good)
	answer := func(from, to Participant, guid string, s *Signer) []byte {
		return x.msg("status-response.xml", from, to, guid, s)
	}
	seen := func(g string) bool { return g == guid2 }
	send := &SendChecks{Registry: x.reg, Seen: seen, Trust: x.trust}
	recv := &ReceiveChecks{Self: []Participant{plovdiv}, Registry: x.reg, Seen: seen, Trust: x.trust}
	sofiaChain, plovdivChain := chainOf(sofiaCert), chainOf(plovdivCert)

	for _, tc := range []struct {
		code    string
		outcome Outcome
		run     func() error
	}{
		{"И.1", SenderError, func() error { _, _, _, err := send.Outgoing(ctx, []byte("<Message")); return err }},
		{"И.2", SenderError, func() error { _, _, _, err := send.Outgoing(ctx, sample(t, "no-guid.xml")); return err }},
		{"И.3", SenderError, func() error {
			_, _, _, err := (&SendChecks{Registry: x.noSofia, Trust: x.trust}).Outgoing(ctx, good)
			return err
		}},
		{"И.4", SenderError, func() error {
			_, _, _, err := send.Outgoing(ctx, x.msg("registration-request.xml", sofia, varna, guid1, x.sofiaKey))
			return err
		}},
		{"И.5", SenderError, func() error {
			_, _, _, err := send.Outgoing(ctx, x.msg("registration-request.xml", sofia, plovdiv, guid1, nil))
			return err
		}},
		{"И.6", SenderError, func() error {
			_, _, _, err := send.Outgoing(ctx, x.msg("registration-request.xml", sofia, plovdiv, guid1, x.plovdivKey))
			return err
		}},
		{"И.7", Exception, func() error {
			e, _ := x.reg.Lookup(ctx, plovdiv.GUID)
			return send.ServerCertificate(ctx, sofiaChain, e)
		}},
		{"И.8", Exception, func() error { return send.SubmitFailed(&Fault{Code: FaultServer, String: "database down"}) }},
		{"И.9", RecipientError, func() error { _, err := send.Answer(ctx, []byte("not XML"), sent); return err }},
		{"И.10", RecipientError, func() error { _, err := send.Answer(ctx, sample(t, "no-guid.xml"), sent); return err }},
		{"И.10", RecipientError, func() error { // a request is no answer
			_, err := send.Answer(ctx, x.msg("status-request.xml", plovdiv, sofia, guid1, x.plovdivKey), sent)
			return err
		}},
		{"И.11", RecipientError, func() error { _, err := send.Answer(ctx, answer(varna, sofia, guid1, x.plovdivKey), sent); return err }},
		{"И.12", RecipientError, func() error {
			_, err := send.Answer(ctx, answer(plovdiv, varna, guid1, x.plovdivKey), sent)
			return err
		}},
		{"И.13", RecipientError, func() error { _, err := send.Answer(ctx, answer(plovdiv, sofia, guid1, nil), sent); return err }},
		{"И.14", RecipientError, func() error { _, err := send.Answer(ctx, answer(plovdiv, sofia, guid1, x.sofiaKey), sent); return err }},
		{"И.15", RecipientError, func() error {
			_, err := send.Answer(ctx, answer(plovdiv, sofia, guid2, x.plovdivKey), sent)
			return err
		}},

		{"П.1", SenderError, func() error { _, _, err := recv.Incoming(ctx, good, nil); return err }},
		{"П.2", SenderError, func() error { _, _, err := recv.Incoming(ctx, []byte("<Message><Header>"), sofiaChain); return err }},
		{"П.2", SenderError, func() error {
			_, _, err := recv.Incoming(ctx, []byte(`<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]><Message xmlns="`+Namespace+`">&x;</Message>`), sofiaChain)
			return err
		}},
		{"П.3", SenderError, func() error { _, _, err := recv.Incoming(ctx, sample(t, "no-guid.xml"), sofiaChain); return err }},
		{"П.3", SenderError, func() error {
			_, _, err := recv.Incoming(ctx, []byte(`<Message xmlns="urn:other"/>`), sofiaChain)
			return err
		}},
		{"П.4", SenderError, func() error {
			_, _, err := recv.Incoming(ctx, x.msg("registration-request.xml", sofia, varna, guid1, x.sofiaKey), sofiaChain)
			return err
		}},
		{"П.5", SenderError, func() error {
			_, _, err := (&ReceiveChecks{Self: recv.Self, Registry: x.noSofia, Trust: x.trust}).Incoming(ctx, good, sofiaChain)
			return err
		}},
		{"П.5", SenderError, func() error { // inactive
			_, _, err := (&ReceiveChecks{Self: recv.Self, Registry: x.inactive, Trust: x.trust}).Incoming(ctx, good, sofiaChain)
			return err
		}},
		{"П.6", SenderError, func() error { _, _, err := recv.Incoming(ctx, good, plovdivChain); return err }},
		{"П.7", SenderError, func() error {
			_, _, err := recv.Incoming(ctx, x.msg("registration-request.xml", sofia, plovdiv, guid1, nil), sofiaChain)
			return err
		}},
		{"П.8", SenderError, func() error {
			_, _, err := recv.Incoming(ctx, x.msg("registration-request.xml", sofia, plovdiv, guid1, x.plovdivKey), sofiaChain)
			return err
		}},
		{"П.8", SenderError, func() error { // altered after signing
			_, _, err := recv.Incoming(ctx, bytes.Replace(good, []byte("СО-94-00-1234"), []byte("СО-94-00-1235"), 1), sofiaChain)
			return err
		}},
		{"П.9", SenderError, func() error {
			_, _, err := recv.Incoming(ctx, x.msg("registration-request.xml", sofia, plovdiv, guid2, x.sofiaKey), sofiaChain)
			return err
		}},
		{"П.10", RecipientError, func() error { return recv.Reply(ctx, []byte("not XML"), sent) }},
		{"П.11", RecipientError, func() error { return recv.Reply(ctx, sample(t, "no-guid.xml"), sent) }},
		{"П.12", RecipientError, func() error { return recv.Reply(ctx, answer(varna, sofia, guid2, x.plovdivKey), sent) }},
		{"П.13", RecipientError, func() error { return recv.Reply(ctx, answer(plovdiv, varna, guid2, x.plovdivKey), sent) }},
		{"П.14", RecipientError, func() error { return recv.Reply(ctx, answer(plovdiv, sofia, guid2, nil), sent) }},
		{"П.15", RecipientError, func() error { return recv.Reply(ctx, answer(plovdiv, sofia, guid2, x.sofiaKey), sent) }},
	} {
		t.Run(tc.code, func(t *testing.T) {
			err := tc.run()
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want check %s", err, tc.code)
			}
			if ce.Code != tc.code || ce.Outcome != tc.outcome {
				t.Fatalf("got %s (%v): %v; want %s (%v)", ce.Code, ce.Outcome, err, tc.code, tc.outcome)
			}
			if ce.Retry() != (tc.outcome == Exception) {
				t.Error("Retry disagrees with the outcome")
			}
			f := ce.Fault()
			if !strings.HasPrefix(f.String, tc.code+": ") || (f.Code == FaultClient) != (tc.outcome == SenderError) {
				t.Errorf("fault %+v", f)
			}
		})
	}

	t.Run("success", func(t *testing.T) {
		if _, s, r, err := send.Outgoing(ctx, good); err != nil || s.Identifier != sofia.Identifier || r.Identifier != plovdiv.Identifier {
			t.Fatalf("outgoing: %v", err)
		}
		e, _ := x.reg.Lookup(ctx, plovdiv.Identifier)
		if err := send.ServerCertificate(ctx, plovdivChain, e); err != nil {
			t.Error(err)
		}
		if sum, err := send.Answer(ctx, nil, sent); sum != nil || err != nil {
			t.Errorf("empty answer: %v %v", sum, err)
		}
		if sum, err := send.Answer(ctx, answer(plovdiv, sofia, guid1[:1]+"3"+guid1[2:], x.plovdivKey), sent); err != nil || sum.Body != "DocumentStatusResponse" {
			t.Errorf("answer: %v", err)
		}
		if _, s, err := recv.Incoming(ctx, good, sofiaChain); err != nil || s.Identifier != sofia.Identifier {
			t.Errorf("incoming: %v", err)
		}
		if err := recv.Reply(ctx, answer(plovdiv, sofia, guid2, x.plovdivKey), sent); err != nil {
			t.Errorf("reply: %v", err)
		}
		if err := send.SubmitFailed(nil); err != nil {
			t.Error(err)
		}
	})

	t.Run("registry down", func(t *testing.T) {
		down := registryFunc(func(context.Context, string) (*Entity, error) { return nil, errors.New("connection refused") })
		_, _, _, err := (&SendChecks{Registry: down}).Outgoing(ctx, good)
		var ce *CheckError
		if !errors.As(err, &ce) || ce.Outcome != Exception || !ce.Retry() {
			t.Errorf("got %v, want an exception", err)
		}
		_, _, err = (&ReceiveChecks{Self: recv.Self, Registry: down, Trust: x.trust}).Incoming(ctx, good, sofiaChain)
		if !errors.As(err, &ce) || ce.Outcome != Exception || ce.Fault().Code != FaultServer {
			t.Errorf("got %v, want an exception", err)
		}
	})
}

type registryFunc func(context.Context, string) (*Entity, error)

func (f registryFunc) Lookup(ctx context.Context, k string) (*Entity, error) { return f(ctx, k) }

// ssevIssuer is the issuer of the ССЕВ test node's certificate, as Go prints it.
const ssevIssuer = "CN=StampIT eDoc Exchange CA,O=Information Services JSC,L=Sofia,C=BG,2.5.4.97=#130f4e545242472d383331363431373931"

// ssevTrust trusts the ССЕВ test node's certificate itself (its CA's certificate is not
// published with the sample): pinning a certificate as its own anchor.
func ssevTrust(t *testing.T) (*Trust, *x509.Certificate) {
	s, err := VerifySignatureIntegrity(sample(t, "status-response.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrust([]*x509.Certificate{s.Certificate}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr, s.Certificate
}

// TestChecksRealMessage runs the receiving checks on the real ССЕВ message with a registry
// that holds its sender's certificate by serial number and issuer. The certificate expired in
// 2024: the message, of 2021, still verifies at its signing time, while the same certificate
// as a client certificate today does not.
func TestChecksRealMessage(t *testing.T) {
	real := sample(t, "status-response.xml")
	trust, cert := ssevTrust(t)
	sum := summary(t, real)
	reg, err := NewFileRegistry(Entity{Identifier: "1770988091003", GUID: sum.Header.Sender.GUID, Name: "ССЕВ тест", CertificateSN: "115bb578aa583303",
		CertificateIssuer: ssevIssuer})
	if err != nil {
		t.Fatal(err)
	}
	at := sum.Header.MessageDate.Add(time.Minute)
	recv := &ReceiveChecks{Self: []Participant{sum.Header.Recipient}, Registry: reg, Trust: trust, Now: func() time.Time { return at }}
	if _, _, err := recv.Incoming(context.Background(), real, chainOf(cert)); err != nil {
		t.Fatal(err)
	}
	recv.Now = nil
	if _, _, err := recv.Incoming(context.Background(), real, chainOf(cert)); err == nil || !strings.Contains(err.Error(), "П.6") || !errors.Is(err, ErrUntrusted) {
		t.Errorf("the expired certificate as a client certificate today: %v", err)
	}
	recv.Now = func() time.Time { return at }
	other := testSigner(t, "x").Certificate()
	if _, _, err := recv.Incoming(context.Background(), real, chainOf(other)); err == nil || !strings.Contains(err.Error(), "П.6") {
		t.Errorf("other client certificate: %v", err)
	}
}

func TestRetrySchedule(t *testing.T) {
	// The table of the specification: interval before attempt n+1, time after the first.
	want := []struct {
		interval, since time.Duration
	}{
		{15 * time.Minute, 15 * time.Minute}, {30 * time.Minute, 45 * time.Minute}, {time.Hour, time.Hour + 45*time.Minute},
		{2 * time.Hour, 3*time.Hour + 45*time.Minute}, {4 * time.Hour, 7*time.Hour + 45*time.Minute}, {8 * time.Hour, 15*time.Hour + 45*time.Minute},
		{16 * time.Hour, 31*time.Hour + 45*time.Minute}, {32 * time.Hour, 63*time.Hour + 45*time.Minute},
		{64 * time.Hour, 127*time.Hour + 45*time.Minute}, {128 * time.Hour, 255*time.Hour + 45*time.Minute},
	}
	first := time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC)
	at := first
	for i, w := range want {
		t.Run(fmt.Sprintf("attempt %d", i+2), func(t *testing.T) {
			next, ok := DefaultRetry.Next(i+1, at)
			if !ok || next.Sub(at) != w.interval || next.Sub(first) != w.since {
				t.Errorf("after attempt %d: %v (%v), want +%v = %v", i+1, next.Sub(at), next.Sub(first), w.interval, w.since)
			}
			at = next
		})
	}
	if _, ok := DefaultRetry.Next(11, at); ok {
		t.Error("a 12th attempt")
	}
	if _, ok := DefaultRetry.Delay(0); ok {
		t.Error("retry 0")
	}
	short := RetrySchedule{First: 10 * time.Millisecond, Retries: 3}
	if d, ok := short.Delay(3); !ok || d != 40*time.Millisecond {
		t.Errorf("short schedule: %v", d)
	}
}
