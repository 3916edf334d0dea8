package webtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/web"
)

// TestProblemsFindsWhatIsWrong: a page that declares nothing, one its handler opens to everyone
// behind the shell's back, and one served without the shell are each reported; a right table
// is not.
func TestProblemsFindsWhatIsWrong(t *testing.T) {
	s, err := web.New("nav.label", "/")
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
	right := []httpauth.Endpoint{
		{Pattern: "GET /{$}", Handler: ok, Perm: httpauth.Open},
		{Pattern: "GET /account", Handler: ok, Perm: httpauth.AnyPrincipal},
		{Pattern: "POST /register/{id}", Handler: ok, Perm: identity.ApplicationsRegister},
	}
	if p := Problems(s.Mux(right, "/signin"), right); len(p) != 0 {
		t.Errorf("a right table reported: %v", p)
	}
	wrong := append(right, httpauth.Endpoint{Pattern: "GET /undeclared", Handler: ok})
	unguarded := http.NewServeMux() // every page served without the shell's check
	for _, e := range wrong {
		unguarded.Handle(e.Pattern, e.Handler)
	}
	got := strings.Join(Problems(unguarded, wrong), "\n")
	for _, want := range []string{"GET /undeclared declares no permission", "GET /account: no one: GET /account answered 200, want 303",
		"POST /register/{id}: citizen: POST /register/1 answered 200, want 403"} {
		if !strings.Contains(got, want) {
			t.Errorf("not reported: %q; reported:\n%s", want, got)
		}
	}
}
