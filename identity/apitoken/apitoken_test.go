package apitoken

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// memStore is an in-memory Store.
type memStore map[string]Record

func (m memStore) CreateToken(_ context.Context, r Record) error { m[r.ID] = r; return nil }
func (m memStore) RevokeToken(context.Context, string, time.Time) error {
	return nil
}
func (m memStore) ListTokens(context.Context) ([]Record, error) { return nil, nil }
func (m memStore) TokenByID(_ context.Context, id string) (Record, error) {
	if r, ok := m[id]; ok {
		return r, nil
	}
	return Record{}, ErrNotFound
}

func TestNewAndAuthenticate(t *testing.T) {
	tok, rec, err := New("ci", identity.Integrator, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != tokenLen || !strings.HasPrefix(tok, "aiskao_"+rec.ID+"_") || len(rec.Hash) != 32 {
		t.Fatalf("token %q, record %+v", tok, rec)
	}
	if strings.Contains(string(rec.Hash), tok[len(tok)-43:]) {
		t.Fatal("the record holds the secret")
	}
	m := memStore{}
	_ = m.CreateToken(context.Background(), rec)
	a := Authenticator{Store: m}
	if p, err := a.Authenticate(context.Background(), tok); err != nil || p.Name != "ci" || p.Kind != identity.KindToken {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	// The right id with another secret: the hash comparison refuses it.
	other := tok[:len(tok)-43] + strings.Repeat("A", 43)
	if _, err := a.Authenticate(context.Background(), other); !errors.Is(err, ErrUnknown) {
		t.Errorf("wrong secret: %v, want ErrUnknown", err)
	}
	tok2, _, _ := New("other", identity.Auditor, time.Now())
	if _, err := a.Authenticate(context.Background(), tok2); !errors.Is(err, ErrUnknown) {
		t.Errorf("token not stored: %v, want ErrUnknown", err)
	}
	rec.Revoked = time.Now()
	m[rec.ID] = rec
	if _, err := a.Authenticate(context.Background(), tok); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked: %v, want ErrRevoked", err)
	}
	if _, _, err := New("bad name", identity.Auditor, time.Now()); err == nil {
		t.Error("New accepted a name with a space")
	}
	if _, _, err := New("x", "root", time.Now()); err == nil {
		t.Error("New accepted an unknown role")
	}
}

func TestParseID(t *testing.T) {
	good := "aiskao_0123456789abcdef_" + strings.Repeat("A", 43)
	if id, err := ParseID(good); err != nil || id != "0123456789abcdef" {
		t.Errorf("ParseID(good) = %q, %v", id, err)
	}
	for _, bad := range []string{"", "Bearer x", good[:len(good)-1], good + "A", strings.Replace(good, "aiskao_", "aiskao-", 1),
		strings.Replace(good, "0123456789abcdef", "0123456789ABCDEF", 1), strings.Replace(good, "0123456789abcdef", "0123456789abcdeg", 1),
		good[:len(good)-1] + "="} {
		if _, err := ParseID(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseID(%q): %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("aiskao_0123456789abcdef_" + strings.Repeat("A", 43))
	f.Add("aiskao_")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err == nil && (len(id) != 16 || !strings.HasPrefix(s, "aiskao_"+id+"_")) {
			t.Fatalf("ParseID(%q) = %q", s, id)
		}
	})
}
