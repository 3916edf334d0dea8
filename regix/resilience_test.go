package regix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

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
	if !errors.As(err, &oe) || IsPermanent(err) {
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
	b2.Done("x", permanent(errors.New("bad request")))
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
