package api

import (
	"net/http"
	"strconv"

	"github.com/aiskao/aiskao/dossier/service"
)

// serviceView is a version of a service with the versions the catalogue holds of it.
type serviceView struct {
	*service.Service
	Versions []int `json:"versions"`
}

// versions lists the versions of service id the catalogue holds, oldest first.
func (a *api) versions(latest *service.Service) []int {
	var out []int
	for v := 1; v <= latest.Version; v++ {
		if _, ok := a.opt.Services.Version(latest.ID, v); ok {
			out = append(out, v)
		}
	}
	return out
}

// listServices answers every service of the catalogue in its latest version.
func (a *api) listServices(w http.ResponseWriter, r *http.Request) {
	items := []serviceView{}
	for _, id := range a.opt.Services.IDs() {
		s, _ := a.opt.Services.Latest(id)
		items = append(items, serviceView{s, a.versions(s)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// getService answers a service in its latest version, or the one ?version= names.
func (a *api) getService(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	latest, ok := a.opt.Services.Latest(id)
	if !ok {
		writeProblem(w, r, http.StatusNotFound, codeNoService, service.Text{BG: "Няма такава услуга.", EN: "There is no such service."}, nil)
		return
	}
	s := latest
	if q := r.URL.Query().Get("version"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 {
			writeProblem(w, r, http.StatusBadRequest, codeBadQuery, service.Text{BG: "Версията трябва да е положително число.", EN: "The version must be a positive number."},
				[]ProblemField{field("version", "invalid_value", "Версията трябва да е положително число.", "The version must be a positive number.")})
			return
		}
		if s, ok = a.opt.Services.Version(id, v); !ok {
			writeProblem(w, r, http.StatusNotFound, codeNoService, service.Text{BG: "Няма такава версия на услугата.", EN: "There is no such version of the service."}, nil)
			return
		}
	}
	writeJSON(w, http.StatusOK, serviceView{s, a.versions(latest)})
}
