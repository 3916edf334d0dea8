package staff

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/web"
)

// homeData is what the start page draws.
type homeData struct {
	Name     string
	About    []web.SummaryRow
	Sections []Section
}

// home is the start page: who the person is, and the sections their roles open.
func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(returnCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: returnCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		if back, err := url.QueryUnescape(c.Value); err == nil && web.ReturnPath(back) != "" && back != "/" {
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
	}
	who, _ := identity.FromContext(r.Context())
	p := s.Page(r, "staff.home.title", "/")
	tr := p.Tr
	roles := make([]string, len(who.Roles))
	for i, role := range who.Roles {
		roles[i] = RoleName(tr, role)
	}
	d := homeData{Name: p.User.Name, About: []web.SummaryRow{
		{Key: tr.T("staff.account"), Value: who.Name},
		{Key: tr.T("staff.roles"), Value: strings.Join(roles, ", ")},
	}}
	if len(who.Positions) > 0 {
		d.About = append(d.About, web.SummaryRow{Key: tr.T("staff.positions"), Value: strings.Join(who.Positions, ", ")})
	}
	for _, sec := range s.o.Sections {
		if who.Can(sec.Perm) {
			d.Sections = append(d.Sections, Section{Label: tr.T(sec.Label), Hint: tr.T(sec.Hint), URL: sec.URL})
		}
	}
	p.Data = d
	s.shell.Render(w, r, http.StatusOK, s.pages["home"], p)
}
