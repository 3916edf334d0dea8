package regix

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/fault"
)

func TestExecuteSlowOperationPolls(t *testing.T) {
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}
	sim, c := simServer(t)
	c.PollInterval = 20 * time.Millisecond

	t.Run("ready after polling", func(t *testing.T) {
		sim.SetMode(ModeSlow, 150*time.Millisecond)
		defer sim.SetMode(ModeNormal, 0)
		start := time.Now()
		res, err := c.Execute(context.Background(), op, p, testCall)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("Execute returned after %s, before the register was ready", d)
		}
		if got := field(res.Fields, "PersonNames", "FirstName"); got != "Ивелина" {
			t.Errorf("FirstName = %v", got)
		}
	})
	t.Run("not ready in time", func(t *testing.T) {
		sim.SetMode(ModeSlow, time.Minute)
		defer sim.SetMode(ModeNormal, 0)
		short := *c
		short.PollTimeout = 100 * time.Millisecond
		_, err := short.Execute(context.Background(), op, p, testCall)
		if !errors.Is(err, ErrNotReady) || fault.IsPermanent(err) || !strings.Contains(err.Error(), "ServiceCallID") {
			t.Fatalf("err = %v, want a retryable ErrNotReady naming the ServiceCallID", err)
		}
	})
	t.Run("register error after polling", func(t *testing.T) {
		sim.SetMode(ModeSlow, 50*time.Millisecond)
		res, err := c.roundTrip(context.Background(), op, "Execute", mustEnvelope(t, "Execute", op, p), "")
		if err != nil || !pending(res) {
			t.Fatalf("Execute: %+v, %v; want a call in progress", res, err)
		}
		sim.SetMode(ModeHasError, 0)
		defer sim.SetMode(ModeNormal, 0)
		time.Sleep(60 * time.Millisecond)
		_, err = c.CheckResult(context.Background(), op, res.ServiceCallID, res.VerificationCode)
		var re *RegisterError
		if !errors.As(err, &re) || re.Text != SimErrorText {
			t.Fatalf("CheckResult: err = %v, want the register's error", err)
		}
		// The result was handed out once; asking again is the caller's mistake.
		_, err = c.CheckResult(context.Background(), op, res.ServiceCallID, res.VerificationCode)
		var fe *FaultError
		if !errors.As(err, &fe) || !fault.IsPermanent(err) {
			t.Errorf("second CheckResult: err = %v, want a permanent SOAP fault", err)
		}
	})
	t.Run("wrong verification code", func(t *testing.T) {
		sim.SetMode(ModeSlow, time.Minute)
		defer sim.SetMode(ModeNormal, 0)
		res, err := c.roundTrip(context.Background(), op, "Execute", mustEnvelope(t, "Execute", op, p), "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CheckResult(context.Background(), op, res.ServiceCallID, "nope")
		if err == nil || !strings.Contains(err.Error(), "wrong VerificationCode") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("normal mode answers at once", func(t *testing.T) {
		res, err := c.Execute(context.Background(), op, p, testCall)
		if err != nil || field(res.Fields, "PersonNames", "FirstName") != "Ивелина" {
			t.Fatalf("%v, %v", res, err)
		}
	})
	t.Run("no law reason", func(t *testing.T) {
		rd := testCall
		rd.CallContext.LawReason = " "
		if _, err := c.Execute(context.Background(), op, p, rd); !errors.Is(err, ErrNoLawReason) || !fault.IsPermanent(err) {
			t.Errorf("err = %v", err)
		}
	})
}

func mustEnvelope(t *testing.T, method string, op *Operation, p map[string]string) []byte {
	t.Helper()
	env, _, err := (&Client{}).requestEnvelope(method, op, p, testCall)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestParseResultDataWrapped(t *testing.T) {
	body := `<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><CheckResultResponse xmlns="` + EntryPointNS + `"><CheckResultResult><ServiceResultData xmlns="` + SignedDataNS + `"><IsReady>true</IsReady><HasError>true</HasError><Error>боом</Error></ServiceResultData></CheckResultResult></CheckResultResponse></s:Body></s:Envelope>`
	res, err := ParseResultData([]byte(body))
	if err != nil || !res.IsReady || !res.HasError || res.Error != "боом" {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestBreaker(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	b := NewBreaker(3, 30*time.Second)
	b.now = func() time.Time { return now }
	fail := errors.New("regix: PersonDataSearch: no answer in time")
	call := func(reg string, err error) error {
		if e := b.Allow(reg); e != nil {
			return e
		}
		b.Done(reg, err)
		return err
	}
	for i := 0; i < 3; i++ {
		if err := call("grao-nbd", fail); err != fail {
			t.Fatalf("call %d: %v, want the call to go out", i, err)
		}
	}
	err := call("grao-nbd", nil)
	var oe *OpenError
	if !errors.As(err, &oe) || fault.IsPermanent(err) {
		t.Fatalf("after 3 failures: %v, want a retryable OpenError", err)
	}
	for _, want := range []string{"grao-nbd", "3 consecutive failures", "next try in 30s", "no answer in time", "регистърът grao-nbd"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := call("av-tr", nil); err != nil {
		t.Errorf("another register: %v", err)
	}

	// Half-open: one trial after the pause; a failure opens again.
	now = now.Add(31 * time.Second)
	if err := b.Allow("grao-nbd"); err != nil {
		t.Fatalf("trial refused: %v", err)
	}
	if err := b.Allow("grao-nbd"); !errors.As(err, &oe) {
		t.Errorf("second call during the trial: %v, want refused", err)
	}
	b.Done("grao-nbd", fail)
	if err := b.Allow("grao-nbd"); !errors.As(err, &oe) {
		t.Errorf("after a failed trial: %v, want open", err)
	}
	now = now.Add(31 * time.Second)
	if err := call("grao-nbd", nil); err != nil {
		t.Fatalf("second trial: %v", err)
	}
	for i := 0; i < 2; i++ {
		call("grao-nbd", fail)
	}
	if err := call("grao-nbd", nil); err != nil {
		t.Errorf("closed after the trial succeeded, 2 failures since: %v", err)
	}

	// Permanent errors and cancellations do not count.
	b2 := NewBreaker(1, time.Minute)
	b2.Done("x", fault.Permanent(errors.New("bad request")))
	b2.Done("x", fmt.Errorf("stopped: %w", context.Canceled))
	if err := b2.Allow("x"); err != nil {
		t.Errorf("permanent and cancelled: %v", err)
	}
	if err := NewBreaker(0, 0).Allow("x"); err != nil {
		t.Errorf("disabled breaker: %v", err)
	}
}

func TestCache(t *testing.T) {
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	c := NewCache(2)
	c.now = func() time.Time { return now }
	p := map[string]string{"EGN": "8506258485"}
	k1 := CacheKey(op, p, "123-1")
	if k2 := CacheKey(op, p, "123-2"); k1 == k2 {
		t.Fatal("two dossiers share a key")
	}
	if k := CacheKey(op, map[string]string{"EGN": "8506258486"}, "123-1"); k == k1 {
		t.Fatal("two parameters share a key")
	}
	if strings.Contains(k1, "8506258485") {
		t.Error("the key holds the ЕГН")
	}
	r1 := &Result{ServiceCallID: "1"}
	c.Put(k1, r1, time.Minute)
	if got, ok := c.Get(k1); !ok || got != r1 {
		t.Fatalf("Get = %v, %v", got, ok)
	}
	if _, ok := c.Get(CacheKey(op, p, "123-2")); ok {
		t.Error("another dossier got the answer")
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get(k1); ok {
		t.Error("expired answer returned")
	}
	c.Put("a", r1, time.Minute)
	now = now.Add(time.Second)
	c.Put("b", r1, time.Minute)
	c.Put("c", r1, time.Minute)
	if _, ok := c.Get("a"); ok || c.Len() != 2 {
		t.Errorf("full cache kept the oldest (len %d)", c.Len())
	}
	c.Put("d", r1, 0)
	if _, ok := c.Get("d"); ok {
		t.Error("zero lifetime kept")
	}
}

func TestMaskPersonalNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"8506258485", "******8485"},
		{"EGN=8506258485; ЕИК 201593301", "EGN=******8485; ЕИК 201593301"},
		{"8506258485,7204021667", "******8485,******1667"},
		{"85062584851", "85062584851"},
		{"tel. 0888123456", "tel. ******3456"},
	}
	for _, tt := range tests {
		if got := MaskPersonalNumbers(tt.in); got != tt.want {
			t.Errorf("MaskPersonalNumbers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// certs writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA, as PEM files in dir.
func certs(t *testing.T, dir string) (caPool *x509.CertPool, serverCert tls.Certificate) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write("ca.crt", "CERTIFICATE", caDER)
	caPool = x509.NewCertPool()
	caPool.AddCert(ca)
	issue := func(serial int64, usage x509.ExtKeyUsage, ip bool) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprint("cert ", serial)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, true)
	serverCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, false)
	write("client.crt", "CERTIFICATE", cliDER)
	kb, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	write("client.key", "EC PRIVATE KEY", kb)
	return caPool, serverCert
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	pool, srvCert := certs(t, dir)
	var seen atomic.Value
	sim := NewSimulator(nil)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			seen.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		sim.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}

	good := &TLS{CertFile: "client.crt", KeyFile: "client.key", CAFile: filepath.Join(dir, "ca.crt"), MinVersion: "1.2"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	hc, err := good.HTTPClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Endpoint: srv.URL, HTTP: hc, Timeout: 5 * time.Second}
	if _, err := c.ExecuteSynchronous(context.Background(), op, p, testCall); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if seen.Load() != "cert 3" {
		t.Errorf("server saw client certificate %v", seen.Load())
	}

	noCert := &TLS{CAFile: "ca.crt"}
	hc, err = noCert.HTTPClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP = hc
	if _, err := c.ExecuteSynchronous(context.Background(), op, p, testCall); err == nil || fault.IsPermanent(err) {
		t.Errorf("without a client certificate: err = %v, want a retryable transport error", err)
	}

	for _, tt := range []struct {
		cfg  TLS
		want string
	}{
		{TLS{CertFile: "client.crt"}, "key_file: set cert_file and key_file together"},
		{TLS{KeyFile: "client.key"}, "cert_file: set cert_file and key_file together"},
		{TLS{MinVersion: "1.0"}, `min_version: "1.0" is not one of`},
	} {
		if err := tt.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := (&TLS{CertFile: "none.crt", KeyFile: "none.key"}).Config(dir); err == nil || !strings.Contains(err.Error(), "none.crt") {
		t.Errorf("missing files: %v", err)
	}
	if _, err := (&TLS{CAFile: "client.key"}).Config(dir); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("CA file without certificates: %v", err)
	}
}
