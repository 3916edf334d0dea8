package esoedconn

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/spec"
)

// registryService answers EGovRegistry.wsdl's lookups for the participants it knows, over TLS
// that requires a client certificate, and counts the calls.
type registryService struct {
	mu      sync.Mutex
	calls   int
	clients []string // common names of the client certificates presented
	url     string
}

func entityXML(a *admin) string {
	var svc string
	if a.endpoint != "" {
		svc = fmt.Sprintf(`<Services SOAP-ENC:arrayType="ns1:Service[1]" xsi:type="ns1:Services"><item xsi:type="ns1:Service"><Guid>%s</Guid><Name>Документооборот</Name><URI>%s</URI><Status>Active</Status><Type>service</Type><Version>1</Version></item></Services>`,
			esoed.DocumentServiceGUID, a.endpoint)
	}
	// The registry publishes the certificate's serial number only, in upper case as the real one.
	return fmt.Sprintf(`<item xsi:type="ns1:Entity"><EntityIdentifier xsi:type="xsd:string">%s</EntityIdentifier><Guid xsi:type="xsd:string">%s</Guid><AdministrativeBodyName xsi:type="xsd:string">%s</AdministrativeBodyName><CertificateSN xsi:type="xsd:string">%X</CertificateSN>%s<Status xsi:type="xsd:string">Active</Status></item>`,
		a.id, strings.Trim(a.guid, "{}"), a.name, a.cert.SerialNumber, svc)
}

func startRegistry(t *testing.T, serverCert tls.Certificate, admins ...*admin) *registryService {
	r := &registryService{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls++
		for _, c := range req.TLS.PeerCertificates[:1] {
			r.clients = append(r.clients, c.Subject.CommonName)
		}
		r.mu.Unlock()
		var items []string
		for _, a := range admins {
			if strings.Contains(string(body), ">"+a.id+"<") || strings.Contains(string(body), strings.Trim(a.guid, "{}")) {
				items = append(items, entityXML(a))
			}
		}
		w.Header().Set("Content-Type", esoed.SOAPContentType)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="uri:egovmsg" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:GetByEntityIdentifierResponse><return xsi:type="ns1:EGovMessageDir"><Entities SOAP-ENC:arrayType="ns1:Entity[%d]" xsi:type="ns1:Entities">%s</Entities></return></ns1:GetByEntityIdentifierResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
			len(items), strings.Join(items, ""))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	r.url = "https://localhost:" + port + "/EGovRegistry" // the name the test certificates carry
	return r
}

func (r *registryService) seen() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]string(nil), r.clients...)
}

// TestSendingWithTheRegistryService: with registry_url the sink asks the participants registry's
// SOAP service, over mutual TLS with its transport certificate, for the sender and the
// recipient (И.3, И.4); checks the recipient's server certificate against the serial number the
// registry publishes (И.7); and asks again only once its cache has expired.
func TestSendingWithTheRegistryService(t *testing.T) {
	s := newSending(t, false)
	reg := startRegistry(t, s.c.pair, s.a, s.b)
	cfg := s.w.config(s.a, "unused")
	cfg.Listen, cfg.RegistryFile, cfg.RegistryURL = "", "", reg.url
	cfg.RegistryCache = spec.Duration(time.Hour)
	cfg.RetryFirst, cfg.Retries = spec.Duration(time.Second), 3
	s.sink = s.w.sink(t, cfg, "esoed-out", s.st)

	if err := s.send(marshal(t, registration(s.a, s.b, newGUID()), nil), 1); err != nil {
		t.Fatalf("send with the registry service: %v", err)
	}
	if got := s.calls.Load(); got != 1 {
		t.Fatalf("the recipient's endpoint got %d submissions, want 1", got)
	}
	calls, clients := reg.seen()
	if calls == 0 {
		t.Fatal("the registry service was not asked")
	}
	for _, cn := range clients {
		if cn != s.a.name {
			t.Errorf("the registry saw client certificate %q, want the sender's transport certificate (%s)", cn, s.a.name)
		}
	}
	if e := lastJournal(t, s.st, "esoed.sent"); e.Result == "" {
		t.Errorf("journal entry %+v, want the sent document's result", e)
	}

	// A second document: the participants come from the cache.
	if err := s.send(marshal(t, registration(s.a, s.b, newGUID()), nil), 1); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if again, _ := reg.seen(); again != calls {
		t.Errorf("the registry was asked %d more times for the second document, want 0 (cached for an hour)", again-calls)
	}

	// A recipient the registry does not know: И.4, permanent.
	stranger := s.w.admin(t, 4, "000123456", "{0b6f3c1e-8a2d-4c5b-9e7f-1a2b3c4d5e6f}", "Община Непозната", false, time.Time{})
	s.failed(t, s.send(marshal(t, registration(s.a, stranger, newGUID()), nil), 1), "И.4", true)
}

// TestRegistryServiceWithARevokedCertificate: the registry's server certificate is checked for
// revocation too; a registry whose certificate is revoked is not believed, and the sending is
// an exception, retried.
func TestRegistryServiceWithARevokedCertificate(t *testing.T) {
	s := newSending(t, false)
	reg := startRegistry(t, s.c.pair, s.a, s.b)
	s.w.revoke(s.c.cert)
	cfg := s.w.config(s.a, "unused")
	cfg.Listen, cfg.RegistryFile, cfg.RegistryURL = "", "", reg.url
	cfg.RetryFirst, cfg.Retries = spec.Duration(time.Second), 3
	s.sink = s.w.sink(t, cfg, "esoed-out", s.st)
	e := s.failed(t, s.send(marshal(t, registration(s.a, s.b, newGUID()), nil), 1), "И.3", false)
	if !strings.Contains(e.Detail["error"], "revoked") {
		t.Errorf("journal %+v", e.Detail)
	}
	if calls, _ := reg.seen(); calls != 0 {
		t.Errorf("the registry answered %d lookups over a revoked certificate", calls)
	}
}
