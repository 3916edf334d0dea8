package dossierconn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
)

func TestConfig(t *testing.T) {
	connectortest.CheckConfig(t, connectortest.ConfigCase{
		Zero:     &Config{},
		Defaults: func(cfg any) { _ = spec.FillDefaults(cfg) },
		Valid:    validConfig(),
	})
}

func validConfig() *Config {
	return &Config{
		Services:       "testdata/services",
		Administration: Administration{EIK: "000695089", Name: "Община Примерно"},
		ESOEDServices:  map[string]string{"Заявление": "2128"},
		ApplicantKey:   "a test key of 32 characters long",
		RelayInterval:  spec.Duration(20 * time.Millisecond),
		DeadlineWatch:  spec.Duration(time.Hour),
	}
}

// hubEnv is the environment the engine gives: a data folder and a hub store of the test's own.
func hubEnv(t *testing.T) connectors.Env {
	t.Helper()
	return connectors.Env{Name: "dossiers", BaseDir: ".", DataDir: t.TempDir(), State: connectortest.NewStore(t)}
}

func newTestSink(t *testing.T, env connectors.Env, cfg *Config) *sink {
	t.Helper()
	s, err := newSink(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func msg(id, typ string, payload any, meta map[string]string) *message.Message {
	b, ok := payload.([]byte)
	if !ok {
		b, _ = json.Marshal(payload)
	}
	m := message.NewMessage(id, b)
	m.Metadata.Set(envelope.Type, typ)
	m.Metadata.Set(envelope.CorrelationID, "corr-"+id)
	for k, v := range meta {
		m.Metadata.Set(k, v)
	}
	return m
}

func application(egn string) map[string]any {
	return map[string]any{"application": map[string]any{
		"service": "2016", "channel": "portal", "term": "normal",
		"applicant": map[string]any{"kind": "person", "egn": egn, "name": "Мария Петрова", "address": "ул. Образцова 1"},
		"documents": []map[string]any{{"id": "doc-1", "kind": "application", "name": "Заявление.pdf", "media_type": "application/pdf", "size": 10,
			"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
		"data":     map[string]string{"deceased_egn": "7501020018", "deceased_name": "Петър Петров"},
		"delivery": map[string]any{"way": "electronic"},
	}}
}

// summaries lists the dossiers the sink's store holds.
func summaries(t *testing.T, s *sink) []store.Summary {
	t.Helper()
	p, err := s.n.core.Tasks(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// waitFor collects the source's messages until one of type typ comes.
func waitFor(t *testing.T, c *connectortest.Collector, typ string, n int) []*message.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var got []*message.Message
		for _, m := range c.Messages() {
			if m.Metadata.Get(envelope.Type) == typ {
				got = append(got, m)
			}
		}
		if len(got) >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %d messages of type %s came out of the source; got %d messages", n, typ, len(c.Messages()))
	return nil
}

// TestApplicationToRegisters: an application opens a dossier; its events come out of the
// source; the register checks it asks for go out and their answers complete its items; a
// payment marks the fee paid.
func TestApplicationToRegisters(t *testing.T) {
	ctx := context.Background()
	env := hubEnv(t)
	s := newTestSink(t, env, validConfig())
	src, err := newSource(validConfig(), env)
	if err != nil {
		t.Fatal(err)
	}
	out := &connectortest.Collector{}
	connectortest.Running(t, src, out.Emit)

	for range 2 { // redelivered: one dossier
		if err := s.Send(ctx, msg("app-1", TypeApplication, application("8506258485"), nil)); err != nil {
			t.Fatal(err)
		}
	}
	list := summaries(t, s)
	if len(list) != 1 {
		t.Fatalf("%d dossiers", len(list))
	}
	number := list[0].Stream
	opened := waitFor(t, out, "dossier.opened", 1)[0]
	if opened.Metadata.Get(envelope.Subject) != number || opened.Metadata.Get(envelope.CausationID) != "app-1" || opened.Metadata.Get(envelope.CorrelationID) != "corr-app-1" {
		t.Errorf("dossier.opened metadata = %v", opened.Metadata)
	}
	if strings.Contains(string(opened.Payload), "8506258485") {
		t.Errorf("dossier.opened carries the ЕГН: %s", opened.Payload)
	}

	cmd := map[string]any{"command": "complete_task", "number": number, "task": "T1", "by": map[string]string{"kind": "user", "id": "ivanova"}}
	if err := s.Send(ctx, msg("cmd-1", TypeCommand, cmd, nil)); err != nil {
		t.Fatal(err)
	}
	asks := waitFor(t, out, "dossier.system_task_requested", 2)
	for i, ask := range asks {
		// The route asks the register and sends the request on with the answer in it.
		answer := msg("answer-"+ask.UUID, ask.Metadata.Get(envelope.Type), []byte(`{"answer":{"found":true}}`), ask.Metadata)
		if err := s.Send(ctx, answer); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
	}
	waitFor(t, out, "dossier.item_completed", 2)
	if err := s.Send(ctx, msg("pay-1", TypePayment, map[string]any{"amount_cents": 205, "reference": "epay-1"}, map[string]string{envelope.Subject: number})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "dossier.fee_paid", 1)
	d, err := s.n.core.Get(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	if d.FeePaid == nil || len(d.OpenTasks()) != 1 || d.OpenTasks()[0].Stage != "prepare" {
		t.Errorf("after the answers: fee %v, open tasks %+v", d.FeePaid, d.OpenTasks())
	}
}

// TestBadInput: what cannot be applied is a permanent error naming the field.
func TestBadInput(t *testing.T) {
	s := newTestSink(t, hubEnv(t), validConfig())
	tests := []struct {
		name string
		msg  *message.Message
		want string
	}{
		{"invalid ЕГН", msg("b1", TypeApplication, application("8506258484"), nil), "/applicant/egn"},
		{"malformed application", msg("b7", TypeApplication, []byte(`{"application": {"service": 2016}}`), nil), "/application"},
		{"unknown command", msg("b2", TypeCommand, map[string]any{"command": "dance", "number": "X"}, nil), "/command"},
		{"unknown dossier", msg("b3", TypeCommand, map[string]any{"command": "resume", "number": "X-1"}, nil), "not found"},
		{"unknown type", msg("b4", "something.Else", []byte(`{}`), nil), "something.Else"},
		{"unknown document kind", msg("b5", TypeESOEDRegistration, esoedPayload(t, "{0eeeeeee-0000-4000-8000-000000000005}", "", "Жалба"), nil), "/doc_kind"},
		{"payment of no dossier", msg("b6", TypePayment, map[string]any{"amount_cents": 1}, nil), "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Send(context.Background(), tt.msg)
			if !fault.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Send = %v, want a permanent error naming %s", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "8506258484") {
				t.Errorf("the dead letter's reason shows the ЕГН: %v", err)
			}
		})
	}
	if n := len(summaries(t, s)); n != 0 {
		t.Errorf("%d dossiers after bad input", n)
	}
}

// esoedPayload is the demo's esoed-inbox output for a registration request, with its document's
// GUID, parent GUID and kind changed.
func esoedPayload(t *testing.T, guid, parent, kind string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../configs/tests/expected/registration-request.json")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	doc := v["document"].(map[string]any)["Message"].(map[string]any)["Body"].(map[string]any)["DocumentRegistrationRequest"].(map[string]any)["Document"].(map[string]any)
	doc["DocID"].(map[string]any)["DocumentGUID"] = guid
	if parent == "" {
		delete(doc, "DocParentID")
	} else {
		doc["DocParentID"].(map[string]any)["DocumentGUID"] = parent
	}
	doc["DocKind"] = kind
	v["doc_kind"] = kind
	out, _ := json.Marshal(v)
	return out
}

// TestESOED: a registration request opens a dossier (ЗР.6; ЗР.4 when its parent is unknown); one
// whose DocParentID names a document received is filed into that document's dossier (ЗР.5); a
// document received before changes nothing (ЗР.1).
func TestESOED(t *testing.T) {
	ctx := context.Background()
	s := newTestSink(t, hubEnv(t), validConfig())
	send := func(id string, payload []byte) {
		t.Helper()
		if err := s.Send(ctx, msg(id, TypeESOEDRegistration, payload, nil)); err != nil {
			t.Fatal(err)
		}
	}
	send("e1", esoedPayload(t, "{0aaaaaaa-0000-4000-8000-000000000001}", "", "Заявление"))                                        // ЗР.6
	send("e2", esoedPayload(t, "{0bbbbbbb-0000-4000-8000-000000000002}", "{0aaaaaaa-0000-4000-8000-000000000001}", "Допълнение")) // ЗР.5: filed into A's dossier
	send("e3", esoedPayload(t, "{0ccccccc-0000-4000-8000-000000000003}", "{0ddddddd-0000-4000-8000-000000000004}", "Заявление"))  // ЗР.4
	send("e4", esoedPayload(t, "{0aaaaaaa-0000-4000-8000-000000000001}", "", "Заявление"))                                        // ЗР.1, another message
	list := summaries(t, s)
	if len(list) != 2 {
		t.Fatalf("%d dossiers, want 2", len(list))
	}
	a, err := s.n.core.Find(ctx, KeyESOEDDoc, "{0aaaaaaa-0000-4000-8000-000000000001}")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.n.core.Find(ctx, KeyESOEDDoc, "{0bbbbbbb-0000-4000-8000-000000000002}")
	if err != nil || b != a {
		t.Errorf("{0bbbbbbb-0000-4000-8000-000000000002} is in %q (%v), want %q", b, err, a)
	}
	d, err := s.n.core.Get(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if d.Application.Channel != "esoed" || d.Application.Applicant.EIK != "000696327" || d.Application.Reference != "СО-94-00-1234" || len(d.OfficialSection()) != 2 {
		t.Errorf("dossier of {0aaaaaaa-0000-4000-8000-000000000001}: %+v, official section %+v", d.Application, d.OfficialSection())
	}
	if c, _ := s.n.core.Find(ctx, KeyESOEDDoc, "{0ccccccc-0000-4000-8000-000000000003}"); c == "" || c == a {
		t.Errorf("{0ccccccc-0000-4000-8000-000000000003} is in %q", c)
	}
}

// TestCrashBeforePublishing: committed by the sink, not yet relayed when the process stops; a new
// source publishes each message once.
func TestCrashBeforePublishing(t *testing.T) {
	env := hubEnv(t)
	s := newTestSink(t, env, validConfig())
	if err := s.Send(context.Background(), msg("app-1", TypeApplication, application("8506258485"), nil)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	src, err := newSource(validConfig(), env)
	if err != nil {
		t.Fatal(err)
	}
	out := &connectortest.Collector{}
	connectortest.Running(t, src, out.Emit)
	waitFor(t, out, "dossier.opened", 1)
	time.Sleep(100 * time.Millisecond) // a few more relay rounds
	seen := map[string]bool{}
	for _, m := range out.Messages() {
		if seen[m.UUID] {
			t.Errorf("message %s published twice", m.UUID)
		}
		seen[m.UUID] = true
		if m.Metadata.Get(core.MetaSeq) == "" {
			t.Errorf("message %s without its seq", m.UUID)
		}
	}
}

// TestESOEDStatus: a dossier opened from an ЕСОЕД document gives the status responses its sender
// is owed, for an esoed sink: registered under the dossier's number, a document filed into it
// registered under the same number, then stopped when it is withdrawn.
func TestESOEDStatus(t *testing.T) {
	ctx := context.Background()
	env := hubEnv(t)
	s := newTestSink(t, env, validConfig())
	src, err := newSource(validConfig(), env)
	if err != nil {
		t.Fatal(err)
	}
	out := &connectortest.Collector{}
	connectortest.Running(t, src, out.Emit)
	const guid = "{0aaaaaaa-0000-4000-8000-000000000001}"
	if err := s.Send(ctx, msg("e1", TypeESOEDRegistration, esoedPayload(t, guid, "", "Заявление"), nil)); err != nil {
		t.Fatal(err)
	}
	number, err := s.n.core.Find(ctx, KeyESOEDDoc, guid)
	if err != nil {
		t.Fatal(err)
	}
	status := func(m *message.Message) *esoed.Message {
		t.Helper()
		em, _, err := esoed.ParseMessage(bytes.NewReader(m.Payload))
		if err != nil {
			t.Fatalf("status response: %v\n%s", err, m.Payload)
		}
		return em
	}
	reg := status(waitFor(t, out, TypeESOEDStatus, 1)[0])
	sr := reg.Body.StatusResponse
	if sr == nil || sr.Status != esoed.StatusRegistered || sr.DocID.GUID != guid || sr.DocID.Number == nil || sr.DocID.Number.Number != number ||
		sr.ExpectCloseDate.IsZero() || reg.Header.Sender.Identifier != "000471504" || reg.Header.Recipient.Identifier != "000696327" ||
		reg.Header.Recipient.GUID != "{676150f9-dfb5-4723-a236-fb007f3eb046}" {
		t.Fatalf("registered: %+v %+v", reg.Header, sr)
	}
	// A document about it is filed into its dossier (ЗР.5) and registered under its number.
	const second = "{0bbbbbbb-0000-4000-8000-000000000002}"
	if err := s.Send(ctx, msg("e2", TypeESOEDRegistration, esoedPayload(t, second, guid, "Допълнение"), nil)); err != nil {
		t.Fatal(err)
	}
	filed := status(waitFor(t, out, TypeESOEDStatus, 2)[1]).Body.StatusResponse
	if filed.Status != esoed.StatusRegistered || filed.DocID.GUID != second || filed.DocID.Number.Number != number {
		t.Errorf("the document filed: %+v %+v", filed, filed.DocID.Number)
	}
	cmd := map[string]any{"command": "close", "number": number, "reason": "withdrawn"}
	if err := s.Send(ctx, msg("close-1", TypeCommand, cmd, nil)); err != nil {
		t.Fatal(err)
	}
	msgs := waitFor(t, out, TypeESOEDStatus, 3)
	if st := status(msgs[2]); st.Body.StatusResponse.Status != esoed.StatusStopped || msgs[2].Metadata.Get(MetaESOEDStatus) != esoed.StatusStopped ||
		msgs[2].Metadata.Get(envelope.Subject) != number || msgs[2].Metadata.Get(envelope.CausationID) != "close-1" {
		t.Errorf("withdrawn: %s %v", st.Body.StatusResponse.Status, msgs[2].Metadata)
	}
}

// TestAPIOptionsRefused: the API's options that would serve it unsafely or not at all are each
// refused, naming the field.
func TestAPIOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		api  API
		want string
	}{
		{API{Listen: "0.0.0.0:8090", Auth: APIAuth{Type: "api_key"}}, "api.listen: \"0.0.0.0:8090\" is not a loopback address"},
		{API{Listen: "8090", Auth: APIAuth{Type: "api_key"}}, "api.listen: \"8090\" is not host:port"},
		{API{Listen: "127.0.0.1:8090", Auth: APIAuth{Type: "api_key"}, Cert: "a.crt"}, "api.cert: cert and key go together"},
		{API{Listen: "127.0.0.1:8090", Auth: APIAuth{Type: "mtls", Role: "integrator"}}, "api.auth.ca: mtls needs the CA file"},
		{API{Listen: "127.0.0.1:8090", Auth: APIAuth{Type: "mtls", CA: "ca.pem", Role: "integrator"}}, "api.cert: mtls needs the API served over TLS"},
		{API{Listen: "127.0.0.1:8090", Auth: APIAuth{Type: "mtls", CA: "ca.pem", Role: "king"}, Cert: "a.crt", Key: "a.key"}, "api.auth.role:"},
		{API{Listen: "127.0.0.1:8090", Auth: APIAuth{Type: "none"}}, "api.auth.type: \"none\" is not one of api_key, mtls"},
	} {
		errs := tc.api.validate()
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		if !strings.Contains(strings.Join(got, "\n"), tc.want) {
			t.Errorf("%+v: errors %q, want one containing %q", tc.api, got, tc.want)
		}
	}
	ok := API{Listen: "127.0.0.1:8090", Auth: APIAuth{Type: "api_key"}}
	if errs := ok.validate(); len(errs) != 0 {
		t.Errorf("a loopback API with tokens: %v", errs)
	}
}

// TestESOEDApplicant: the correspondent of kind Corr_Applicant is the dossier's applicant when
// it gives a valid ЕГН or БУЛСТАТ, so that the service's ex officio checks ask about them; else
// the sending administration applies in its own name.
func TestESOEDApplicant(t *testing.T) {
	cases := []struct {
		name      string
		cor       any // the Corespondent value, or nil to keep the sample's
		kind, egn string
		eik       string
	}{
		{"the sample's applicant gives no identifier", nil, "company", "", "000696327"},
		{"an applicant with an ЕГН, among several", []map[string]string{
			{"CorName": "Иван Петров Иванов", "CorCity": "София", "CorKind": "Corr_Applicant", "CorEGN": "8506258485"},
			{"CorName": "Столична община", "CorCity": "София", "CorKind": "Corr_Other", "CorEGN": "7501020018"}}, "person", "8506258485", ""},
		{"one applicant, a company", map[string]string{"CorName": "Фирма ЕООД", "CorCity": "София", "CorKind": "Corr_Applicant", "CorBULSTAT": "000695089"}, "company", "", "000695089"},
		{"an ЕГН that fails its checksum", map[string]string{"CorName": "Иван", "CorCity": "София", "CorKind": "Corr_Applicant", "CorEGN": "8506258484"}, "company", "", "000696327"},
		{"a correspondent not the applicant", map[string]string{"CorName": "Иван", "CorCity": "София", "CorKind": "Corr_Other", "CorEGN": "8506258485"}, "company", "", "000696327"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSink(t, hubEnv(t), validConfig())
			guid := fmt.Sprintf("{0aaaaaaa-0000-4000-8000-%012d}", i+1)
			payload := esoedPayload(t, guid, "", "Заявление")
			if c.cor != nil {
				var v map[string]any
				_ = json.Unmarshal(payload, &v)
				doc := v["document"].(map[string]any)["Message"].(map[string]any)["Body"].(map[string]any)["DocumentRegistrationRequest"].(map[string]any)["Document"].(map[string]any)
				doc["DocCorrespondentList"] = map[string]any{"Corespondent": c.cor}
				payload, _ = json.Marshal(v)
			}
			if err := s.Send(context.Background(), msg("a1", TypeESOEDRegistration, payload, nil)); err != nil {
				t.Fatal(err)
			}
			num, err := s.n.core.Find(context.Background(), KeyESOEDDoc, guid)
			if err != nil {
				t.Fatal(err)
			}
			d, err := s.n.core.Get(context.Background(), num)
			if err != nil {
				t.Fatal(err)
			}
			if a := d.Application.Applicant; string(a.Kind) != c.kind || a.EGN != c.egn || a.EIK != c.eik {
				t.Errorf("applicant %s %q %q, want %s %q %q", a.Kind, a.EGN, a.EIK, c.kind, c.egn, c.eik)
			}
			if d.Application.Origin[OriginSender] != "000696327" {
				t.Errorf("origin %v: the sender is the one answered", d.Application.Origin)
			}
		})
	}
}
