package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// ConfigCase is an edit of a valid store configuration and the field error that validating it
// must give; an empty Field means the edited configuration is valid. An alias of a struct type
// without a name, so that the tables of cases may list their fields in order.
type ConfigCase[C any] = struct {
	Name       string
	Edit       func(*C)
	Field, Msg string
}

// CheckValidate validates (spec.Validate) valid edited by each case and checks the error it
// gives. When secret is not empty, no error may repeat it.
func CheckValidate[C any](t *testing.T, valid C, secret string, cases []ConfigCase[C]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			c := valid
			tc.Edit(&c)
			err := spec.Validate(&c)
			if tc.Field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *spec.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.Field || fe.Msg != tc.Msg {
				t.Fatalf("Validate = %v, want %s: %s", err, tc.Field, tc.Msg)
			}
			if secret != "" && strings.Contains(err.Error(), secret) {
				t.Errorf("Validate error %q repeats %q", err, secret)
			}
		})
	}
}

// Registered returns the factory of the store type typ, checking that it is registered with a
// *C as its configuration and that its New refuses a configuration of another type.
func Registered[C any](t *testing.T, typ string) store.Factory {
	t.Helper()
	f, ok := store.Default.Lookup(typ)
	if !ok {
		t.Fatalf("store type %q is not registered", typ)
	}
	if _, ok := f.Config.(*C); !ok {
		t.Fatalf("factory Config is %T, want %T", f.Config, new(C))
	}
	want := fmt.Sprintf("want %T", new(C))
	if _, err := f.New(struct{}{}, store.Env{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("factory New with a wrong configuration type: error %v, want one containing %q", err, want)
	}
	return f
}
