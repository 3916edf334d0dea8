// Package web is the shell the citizens' portal, the clerks' and the administrators'
// applications share: one server-rendered layout with navigation and a language switch
// (Bulgarian by default, English), the components public services need after the GOV.UK Design
// System patterns, assets embedded with content-hash names, and the security middleware.
//
// Pages work without JavaScript. An application parses its page templates with Shell.Template,
// which adds the layout and components, and renders them with Shell.Render and a Page.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

//go:embed templates/*.html
var templates embed.FS

// Shell renders pages in the shared layout.
type Shell struct {
	// Name is the application's name message id, shown in the header ("app.portal").
	Name string
	// Home is the address the header's name links to.
	Home string
	// SignOut is where the sign-out button posts when a person is signed in.
	SignOut string
	// Frame, when set, fills the parts of the shell's own pages (the refusals of Mux) that the
	// application draws on its own pages: the person's name, the navigation.
	Frame   func(r *http.Request, p *Page)
	bundle  *i18n.Bundle
	trs     map[string]Tr
	base    *template.Template
	refusal *template.Template // the refusal page of Mux
	assets  *Assets
}

// New returns a shell for the application named by message id name, with extra message
// catalogues (an fs.FS holding locales/bg.json and locales/en.json) over the shell's own.
func New(name, home string, extra ...fs.FS) (*Shell, error) {
	b, ids, err := newBundle(extra...)
	if err != nil {
		return nil, err
	}
	trs := map[string]Tr{}
	for _, l := range Languages {
		trs[l.String()] = newCachedTr(b, l.String(), ids)
	}
	assets, err := NewAssets()
	if err != nil {
		return nil, err
	}
	base, err := template.New("").ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	refusal, err := base.Clone()
	if err != nil {
		return nil, fmt.Errorf("web: clone layout: %w", err)
	}
	if _, err := refusal.New("content").Parse(`{{template "refusal" .}}`); err != nil {
		return nil, fmt.Errorf("web: refusal page: %w", err)
	}
	return &Shell{Name: name, Home: home, SignOut: "/sign-out", bundle: b, trs: trs, base: base, refusal: refusal, assets: assets}, nil
}

// Bundle returns the message catalogues, for an application's own translators.
func (s *Shell) Bundle() *i18n.Bundle { return s.bundle }

// Assets returns the embedded assets, to serve with Assets.Handler.
func (s *Shell) Assets() *Assets { return s.assets }

// Tr returns the translator for the language r asks for.
func (s *Shell) Tr(r *http.Request) Tr { return s.trs[RequestLang(r)] }

// Template returns the layout and components with the page templates of files in fsys added. A
// page file defines "title" (optional, the words after the page's own heading in the title)
// and "content".
func (s *Shell) Template(fsys fs.FS, files ...string) (*template.Template, error) {
	t, err := s.base.Clone()
	if err != nil {
		return nil, fmt.Errorf("web: clone layout: %w", err)
	}
	if t, err = t.ParseFS(fsys, files...); err != nil {
		return nil, fmt.Errorf("web: parse pages %v: %w", files, err)
	}
	return t, nil
}

// User is the signed-in person the layout names, with a sign-out button. Sign-in fills it.
type User struct {
	Name string
}

// NavItem is a link of the navigation; Current marks the page's own section.
type NavItem struct {
	Label, URL string
	Current    bool
}

// Page is what a page template sees: the translator (so {{.T "id"}} works), the layout's parts
// and the page's own Data.
type Page struct {
	Tr
	// Title is the page's heading, also the start of the document's title.
	Title string
	// Failed puts "Error: " before the title, as a failed submit's page should.
	Failed bool
	User   *User
	Nav    []NavItem
	Banner *Banner
	Data   any
	// Scripts are assets (names under web/static, "autosubmit.js") the page loads, deferred;
	// each only improves a page that works without it.
	Scripts []string

	// Filled by Render.
	AppName, Home, SignOut, CSS string
	// Switch is the language switch's link: the same page in the other language.
	Switch struct{ URL, Lang, Label string }
	// ScriptURLs are the addresses of Scripts.
	ScriptURLs []string
}

// Render writes page p with template t (from Template) as the answer to r, with status code.
// The page is rendered into memory first so an error in it gives a clean 500, not half a page.
func (s *Shell) Render(w http.ResponseWriter, r *http.Request, code int, t *template.Template, p *Page) {
	if p.loc == nil {
		p.Tr = s.Tr(r)
	}
	p.AppName, p.Home, p.SignOut, p.CSS = p.T(s.Name), s.Home, s.SignOut, s.assets.URL("app.css")
	p.ScriptURLs = p.ScriptURLs[:0]
	for _, name := range p.Scripts {
		p.ScriptURLs = append(p.ScriptURLs, s.assets.URL(name))
	}
	other := "en"
	if p.Lang == "en" {
		other = "bg"
	}
	p.Switch.URL, p.Switch.Lang, p.Switch.Label = switchURL(r, other), other, p.T("lang.switch")
	rememberLang(w, r)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		slog.Error("web: render page", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}
