package esoed

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSubmitEnvelope(t *testing.T) {
	msg := sample(t, "registration-request.xml")
	var b bytes.Buffer
	if err := WriteSubmitRequest(&b, bytes.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<Submit xmlns="http://services.egov.bg/messaging/"><request>&lt;?xml version="1.0"`) {
		t.Errorf("request envelope:\n%.300s", b.String())
	}
	got, err := ParseSubmitRequest(&b)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %v", err)
	}

	// A .NET (WCF) client writes the envelope with other prefixes and a CDATA-free escaped text.
	wcf := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body><Submit xmlns="http://services.egov.bg/messaging/"><request>&lt;Message xmlns="http://schemas.egov.bg/messaging/v1"&gt;&lt;/Message&gt;</request></Submit></s:Body></s:Envelope>`
	if got, err := ParseSubmitRequest(strings.NewReader(wcf)); err != nil || string(got) != `<Message xmlns="http://schemas.egov.bg/messaging/v1"></Message>` {
		t.Errorf("WCF request: %q %v", got, err)
	}

	for name, tc := range map[string]struct{ result []byte }{"empty": {nil}, "message": {msg}} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSubmitResponse(&b, tc.result); err != nil {
				t.Fatal(err)
			}
			got, err := ParseSubmitResponse(&b)
			if err != nil || !bytes.Equal(got, tc.result) || (got == nil) != (tc.result == nil) {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
	// An empty answer may also be an absent SubmitResult.
	if got, err := ParseSubmitResponse(strings.NewReader(`<s:Envelope xmlns:s="` + SOAPEnvelopeNamespace + `"><s:Body><SubmitResponse xmlns="` + ServiceNamespace + `"/></s:Body></s:Envelope>`)); got != nil || err != nil {
		t.Errorf("absent result: %q %v", got, err)
	}

	var fb bytes.Buffer
	WriteFault(&fb, &Fault{Code: FaultClient, String: "П.3: съобщението не съответства на XSD схемите", Detail: "line 3: MessageGUID missing"})
	_, err = ParseSubmitResponse(&fb)
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultClient || !strings.HasPrefix(f.String, "П.3:") || f.Detail != "line 3: MessageGUID missing" {
		t.Errorf("fault: %#v", err)
	}

	for _, tc := range []struct{ name, in, want string }{
		{"not XML", "nope", "not XML"},
		{"not SOAP", `<Envelope/>`, "not a SOAP 1.1 envelope"},
		{"other operation", `<s:Envelope xmlns:s="` + SOAPEnvelopeNamespace + `"><s:Body><Other xmlns="` + ServiceNamespace + `"/></s:Body></s:Envelope>`, "want {http://services.egov.bg/messaging/}Submit"},
		{"DOCTYPE", `<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="` + SOAPEnvelopeNamespace + `"/>`, "DOCTYPE"},
		{"no body", `<s:Envelope xmlns:s="` + SOAPEnvelopeNamespace + `"/>`, "no Submit"},
		{"deep", `<s:Envelope xmlns:s="` + SOAPEnvelopeNamespace + `">` + strings.Repeat("<a>", 50), "nested too deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSubmitRequest(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSubmitClient(t *testing.T) {
	msg := sample(t, "registration-request.xml")
	answer := sample(t, "status-response.xml")
	mode := "answer"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("SOAPAction") != `"`+SubmitAction+`"` || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/xml") {
			t.Errorf("headers %v", r.Header)
		}
		got, err := ParseSubmitRequest(r.Body)
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("server got %v", err)
		}
		switch mode {
		case "answer":
			WriteSubmitResponse(w, answer)
		case "empty":
			WriteSubmitResponse(w, nil)
		case "fault":
			w.WriteHeader(http.StatusInternalServerError)
			WriteFault(w, &Fault{Code: FaultServer, String: "вътрешна грешка"})
		case "html":
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>")
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if got, err := Submit(ctx, srv.Client(), srv.URL, msg); err != nil || !bytes.Equal(got, answer) {
		t.Errorf("answer: %v", err)
	}
	mode = "empty"
	if got, err := Submit(ctx, srv.Client(), srv.URL, msg); err != nil || got != nil {
		t.Errorf("empty: %q %v", got, err)
	}
	mode = "fault"
	_, err := Submit(ctx, srv.Client(), srv.URL, msg)
	var f *Fault
	if !errors.As(err, &f) || f.String != "вътрешна грешка" {
		t.Errorf("fault: %v", err)
	}
	mode = "html"
	if _, err := Submit(ctx, srv.Client(), srv.URL, msg); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("bad gateway: %v", err)
	}
}

// registryAnswer is an answer of the registry's rpc/encoded service, shaped by
// EGovRegistry.wsdl: the part "return" of type EGovMessageDir, an Entities SOAP array of
// Entity items, each with the Services array; Contact as a multi-reference value.
const registryAnswer = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="uri:egovmsg" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
<SOAP-ENV:Body>
<ns1:GetByEntityIdentifierResponse>
<return xsi:type="ns1:EGovMessageDir">
<Entities SOAP-ENC:arrayType="ns1:Entity[1]" xsi:type="ns1:Entities">
<item xsi:type="ns1:Entity">
<EntityIdentifier xsi:type="xsd:string">000471504</EntityIdentifier>
<Guid xsi:type="xsd:string">805fd26b-4b64-4823-a7b5-d40315c4b783</Guid>
<ParentGuid xsi:type="xsd:string"></ParentGuid>
<AdministrativeBodyName xsi:type="xsd:string">Община Пловдив</AdministrativeBodyName>
<Contact href="#c1"/>
<CertificateSN xsi:type="xsd:string">115BB578AA583303</CertificateSN>
<Services SOAP-ENC:arrayType="ns1:Service[2]" xsi:type="ns1:Services">
<item xsi:type="ns1:Service"><Guid>7060efa8-f1fa-4938-8b2b-12a78c86988f</Guid><Name>Документооборот</Name><URI>https://seos.plovdiv.example:8443/EGovExchange</URI><Status>Active</Status><Type>service</Type><Version>1</Version></item>
<item xsi:type="ns1:Service"><Guid>7060efa8-f1fa-4938-8b2b-12a78c86988f</Guid><Name>Документооборот</Name><URI>mailto:seos@plovdiv.example</URI><Status>Active</Status><Type>email</Type><Version>1</Version></item>
</Services>
<LastChange xsi:type="xsd:dateTime">2024-01-15T09:30:00+02:00</LastChange>
<Status xsi:type="xsd:string">Active</Status>
</item>
</Entities>
<LastChange xsi:type="xsd:dateTime">2024-03-01T00:00:00+02:00</LastChange>
</return>
</ns1:GetByEntityIdentifierResponse>
<multiRef id="c1" xsi:type="ns1:Contact"><Phone>+359 32 656 400</Phone><Fax>+359 32 656 401</Fax><EmailAddress>seos@plovdiv.example</EmailAddress></multiRef>
</SOAP-ENV:Body>
</SOAP-ENV:Envelope>`

func TestSOAPRegistry(t *testing.T) {
	var calls int
	var lastAction, lastBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		b, _ := io.ReadAll(r.Body)
		lastAction, lastBody = r.Header.Get("SOAPAction"), string(b)
		if strings.Contains(lastBody, "999999999") {
			io.WriteString(w, `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><ns1:GetByEntityIdentifierResponse xmlns:ns1="uri:egovmsg"><return><Entities/></return></ns1:GetByEntityIdentifierResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
			return
		}
		if strings.Contains(lastBody, "fault") {
			w.WriteHeader(500)
			WriteFault(w, &Fault{Code: "SOAP-ENV:Server", String: "registry down"})
			return
		}
		io.WriteString(w, registryAnswer)
	}))
	defer srv.Close()
	reg := &SOAPRegistry{URL: srv.URL, Client: srv.Client()}
	ctx := context.Background()

	e, err := reg.Lookup(ctx, "000471504")
	if err != nil {
		t.Fatal(err)
	}
	if lastAction != `"uri:egovmsg/GetByEntityIdentifier"` || !strings.Contains(lastBody, `<EntityIdentifier xsi:type="xsd:string">000471504</EntityIdentifier>`) {
		t.Errorf("request %s\n%s", lastAction, lastBody)
	}
	if e.GUID != plovdiv.GUID || e.Name != "Община Пловдив" || e.CertificateSN != "115bb578aa583303" || !e.Active() ||
		e.Contact.Email != "seos@plovdiv.example" || !e.LastChange.Equal(time.Date(2024, 1, 15, 7, 30, 0, 0, time.UTC)) || !e.Matches(plovdiv) {
		t.Errorf("entity %+v", e)
	}
	if u, ok := e.Endpoint(); !ok || u != "https://seos.plovdiv.example:8443/EGovExchange" {
		t.Errorf("endpoint %q", u)
	}
	if _, err := reg.Lookup(ctx, plovdiv.GUID); err != nil || lastAction != `"uri:egovmsg/GetByGuid"` || !strings.Contains(lastBody, "<guid") {
		t.Errorf("by GUID: %v %s", err, lastAction)
	}
	if _, err := reg.Lookup(ctx, "999999999"); !errors.Is(err, ErrUnknownParticipant) {
		t.Errorf("unknown: %v", err)
	}
	var f *Fault
	if _, err := reg.Lookup(ctx, "fault"); !errors.As(err, &f) || errors.Is(err, ErrUnknownParticipant) {
		t.Errorf("fault: %v", err)
	}
	all, err := reg.All(ctx)
	if err != nil || len(all) != 1 || !strings.Contains(lastBody, "<m:GetAllRecords") {
		t.Errorf("all: %v %d", err, len(all))
	}

	// The cache answers from memory until the entry's lifetime ends; unknowns are not kept.
	now := time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC)
	cached := NewCachedRegistry(reg, time.Hour, func() time.Time { return now })
	calls = 0
	for _, k := range []string{"000471504", plovdiv.GUID, "000471504"} {
		if _, err := cached.Lookup(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("%d calls for three look-ups of one participant", calls)
	}
	now = now.Add(time.Hour)
	cached.Lookup(ctx, "000471504")
	if calls != 2 {
		t.Errorf("expired entry not refreshed (%d calls)", calls)
	}
	cached.Lookup(ctx, "999999999")
	cached.Lookup(ctx, "999999999")
	if calls != 4 {
		t.Errorf("unknown participant cached (%d calls)", calls)
	}
}

func TestFileRegistry(t *testing.T) {
	dir := t.TempDir()
	s := testSigner(t, "Община Пловдив")
	if err := os.WriteFile(filepath.Join(dir, "plovdiv.crt"), pemCert(s), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "registry.yaml")
	os.WriteFile(file, []byte(`participants:
  - identifier: "000471504"
    guid: "{805fd26b-4b64-4823-a7b5-d40315c4b783}"
    name: Община Пловдив
    certificate_file: plovdiv.crt
    services:
      - { guid: 7060efa8-f1fa-4938-8b2b-12a78c86988f, type: service, status: Active, uri: "https://127.0.0.1:8443/EGovExchange" }
  - identifier: "000696327"
    guid: "{676150f9-dfb5-4723-a236-fb007f3eb046}"
    name: Столична община
    status: Inactive
    certificate_sn: 115bb578aa583303
    certificate_issuer: "`+ssevIssuer+`"
`), 0o600)
	reg, err := LoadRegistryFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := reg.Lookup(ctx, "805FD26B-4B64-4823-A7B5-D40315C4B783")
	if err != nil || !e.HasCertificate(s.Certificate()) || !e.Active() {
		t.Fatalf("%+v %v", e, err)
	}
	if u, _ := e.Endpoint(); u != "https://127.0.0.1:8443/EGovExchange" {
		t.Errorf("endpoint %q", u)
	}
	if e, err := reg.Lookup(ctx, "000696327"); err != nil || e.Active() || e.Certificate != nil || e.CertificateIssuer != ssevIssuer {
		t.Errorf("%+v %v", e, err)
	}
	// The serial number and the issuer name the ССЕВ certificate; another issuer does not.
	_, ssev := ssevTrust(t)
	e2, _ := reg.Lookup(ctx, "000696327")
	if !e2.HasCertificate(ssev) {
		t.Error("serial and issuer do not name the ССЕВ certificate")
	}
	e2.CertificateIssuer = "CN=Other CA"
	if e2.HasCertificate(ssev) {
		t.Error("another issuer names the ССЕВ certificate")
	}
	if _, err := reg.Lookup(ctx, "000093442"); !errors.Is(err, ErrUnknownParticipant) {
		t.Errorf("unknown: %v", err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"unknown field", "participants:\n  - identifier: '1'\n    guid: '{805fd26b-4b64-4823-a7b5-d40315c4b783}'\n    colour: red\n", "colour"},
		{"GUID", "participants:\n  - identifier: '1'\n    guid: '805fd26b'\n", "participants[0].guid"},
		{"duplicate", "participants:\n  - {identifier: '1', guid: '{805fd26b-4b64-4823-a7b5-d40315c4b783}'}\n  - {identifier: '1', guid: '{676150f9-dfb5-4723-a236-fb007f3eb046}'}\n", "appears twice"},
		{"certificate", "participants:\n  - {identifier: '1', guid: '{805fd26b-4b64-4823-a7b5-d40315c4b783}', certificate_file: none.crt}\n", "participants[0].certificate_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(file, []byte(tc.body), 0o600)
			if _, err := LoadRegistryFile(file); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
