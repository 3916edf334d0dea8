package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

func TestMuxChecksEachEndpointsPermission(t *testing.T) {
	s, err := New("nav.label", "/")
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
	mux := s.Mux([]httpauth.Endpoint{
		{Pattern: "GET /open", Handler: ok, Perm: httpauth.Open},
		{Pattern: "GET /any", Handler: ok, Perm: httpauth.AnyPrincipal},
		{Pattern: "/register", Handler: ok, Perm: identity.ApplicationsRegister},
		{Pattern: "GET /undeclared", Handler: ok},
	}, "/signin")
	clerk := &identity.Principal{Kind: identity.KindPerson, Name: "ivanova", Roles: []identity.Role{identity.Clerk}}
	citizen := &identity.Principal{Kind: identity.KindPerson, Name: "c", Roles: []identity.Role{identity.Citizen}}
	for _, c := range []struct {
		name, method, target string
		who                  *identity.Principal
		status               int
		want                 string // in the body, or the Location of a redirect
	}{
		{"open to anyone", "GET", "/open", nil, 200, "page"},
		{"any principal, none", "GET", "/any?x=1", nil, 303, "/signin?return=%2Fany%3Fx%3D1"},
		{"any principal, one", "GET", "/any", citizen, 200, "page"},
		{"permission held", "POST", "/register", clerk, 200, "page"},
		{"permission lacked", "GET", "/register", citizen, 403, "Нямате достъп"},
		{"permission lacked, English", "GET", "/register?lang=en", citizen, 403, "You cannot open this page"},
		{"a form posted without a session", "POST", "/register", nil, 401, "Влезте, за да продължите"},
		{"no permission declared refuses everyone", "GET", "/undeclared", clerk, 403, "Нямате достъп"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, nil)
			if c.who != nil {
				r = r.WithContext(identity.WithPrincipal(r.Context(), *c.who))
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			got := w.Body.String()
			if c.status == 303 {
				got = w.Header().Get("Location")
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q in it", got, c.want)
			}
		})
	}
}

func TestReturnPathKeepsToThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"/clerk/tasks?page=2":  "/clerk/tasks?page=2",
		"//evil.example/":      "",
		"/\\evil.example":      "",
		"https://evil.example": "",
		"":                     "",
		"/a\r\nSet-Cookie: x":  "",
	} {
		if got := ReturnPath(in); got != want {
			t.Errorf("ReturnPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRefusalIsFramed: the refusal page carries what the application's Frame gives its own
// pages, so a person refused still sees who they are and can sign out.
func TestRefusalIsFramed(t *testing.T) {
	s, err := New("nav.label", "/")
	if err != nil {
		t.Fatal(err)
	}
	s.Frame = func(r *http.Request, p *Page) { p.User = &User{Name: "Мария Иванова"} }
	mux := s.Mux([]httpauth.Endpoint{{Pattern: "GET /users", Perm: identity.UsersManage,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}}, "/signin")
	r := httptest.NewRequest("GET", "/users", nil)
	r = r.WithContext(identity.WithPrincipal(r.Context(), identity.Principal{Kind: identity.KindPerson, Name: "maria", Roles: []identity.Role{identity.Clerk}}))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `<span class="header-user">Мария Иванова</span>`) {
		t.Errorf("refusal: %d, without the person's name:\n%s", w.Code, w.Body.String())
	}
}
