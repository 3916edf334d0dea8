package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages the shell speaks: Bulgarian first (the default), then English.
var Languages = []language.Tag{language.Bulgarian, language.English}

// LangCookie remembers the language a person chose with the switch.
const LangCookie = "lang"

//go:embed locales/*.json
var locales embed.FS

// NewBundle returns the shell's message catalogues, with extra catalogues (an application's own
// locales/*.json, named by language: bg.json, en.json) loaded over them.
func NewBundle(extra ...fs.FS) (*i18n.Bundle, error) {
	b, _, err := newBundle(extra...)
	return b, err
}

// newBundle is NewBundle that also returns every message id it loaded.
func newBundle(extra ...fs.FS) (*i18n.Bundle, map[string]bool, error) {
	ids := map[string]bool{}
	b := i18n.NewBundle(language.Bulgarian)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, fsys := range append([]fs.FS{locales}, extra...) {
		files, err := fs.Glob(fsys, "locales/*.json")
		if err != nil {
			return nil, nil, fmt.Errorf("web: list catalogues: %w", err)
		}
		for _, f := range files {
			data, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, nil, fmt.Errorf("web: read catalogue %s: %w", f, err)
			}
			mf, err := b.ParseMessageFileBytes(data, path.Base(f))
			if err != nil {
				return nil, nil, fmt.Errorf("web: catalogue %s: %w", f, err)
			}
			for _, m := range mf.Messages {
				ids[m.ID] = true
			}
		}
	}
	return b, ids, nil
}

// Tr translates message ids into one language. A missing id shows as the id itself, which the
// catalogue test keeps from happening.
type Tr struct {
	// Lang is the language's BCP 47 tag ("bg", "en") for the lang attribute.
	Lang string
	loc  *i18n.Localizer
	// plain holds every message already rendered without data: a page asks for dozens, and
	// a map lookup spares the localizer's language matching on each.
	plain map[string]string
}

// NewTr returns the translator for lang (a tag Languages holds) from bundle.
func NewTr(bundle *i18n.Bundle, lang string) Tr {
	return Tr{Lang: lang, loc: i18n.NewLocalizer(bundle, lang)}
}

// newCachedTr returns the translator for lang with every message of ids rendered in advance.
func newCachedTr(bundle *i18n.Bundle, lang string, ids map[string]bool) Tr {
	t := NewTr(bundle, lang)
	plain := make(map[string]string, len(ids))
	for id := range ids {
		plain[id] = t.T(id)
	}
	t.plain = plain
	return t
}

// T returns message id in the translator's language, filled with data given as name, value pairs.
func (t Tr) T(id string, pairs ...any) string {
	if len(pairs) == 0 {
		if s, ok := t.plain[id]; ok {
			return s
		}
	}
	var data map[string]any
	if len(pairs) > 1 {
		data = make(map[string]any, len(pairs)/2)
		for i := 0; i+1 < len(pairs); i += 2 {
			data[fmt.Sprint(pairs[i])] = pairs[i+1]
		}
	}
	s, err := t.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// RequestLang returns the language of r: a ?lang= query (the switch), else the lang cookie, else
// Bulgarian. It never reads Accept-Language: a person sees Bulgarian until they switch.
func RequestLang(r *http.Request) string {
	if l := known(r.URL.Query().Get("lang")); l != "" {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l := known(c.Value); l != "" {
			return l
		}
	}
	return Languages[0].String()
}

// known returns s when it names one of Languages, else "".
func known(s string) string {
	for _, l := range Languages {
		if l.String() == s {
			return s
		}
	}
	return ""
}

// rememberLang sets the lang cookie when the request switches language with ?lang=, so the
// following pages keep it without the query.
func rememberLang(w http.ResponseWriter, r *http.Request) {
	l := known(r.URL.Query().Get("lang"))
	if l == "" {
		return
	}
	if c, err := r.Cookie(LangCookie); err == nil && c.Value == l {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// switchURL returns the address of the page r asked for in language lang.
func switchURL(r *http.Request, lang string) string {
	q := r.URL.Query()
	q.Set("lang", lang)
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
