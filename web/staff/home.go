package staff

import (
	"net/http"
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
