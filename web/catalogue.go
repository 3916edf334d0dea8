package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
)

// CatalogueProblems lists, sorted, every message id of fsys's locales/<lang>.json missing from
// another language's catalogue or empty there, for every language in Languages. Applications
// test their own catalogues with it.
func CatalogueProblems(fsys fs.FS) []string {
	var problems []string
	cats := map[string]map[string]string{}
	for _, l := range Languages {
		lang := l.String()
		m := map[string]string{}
		b, err := fs.ReadFile(fsys, "locales/"+lang+".json")
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", lang, err))
		}
		cats[lang] = m
	}
	for lang, m := range cats {
		for id, text := range m {
			if text == "" {
				problems = append(problems, fmt.Sprintf("%q is empty in %s", id, lang))
			}
			for other, om := range cats {
				if _, ok := om[id]; !ok {
					problems = append(problems, fmt.Sprintf("%q is in %s but not in %s", id, lang, other))
				}
			}
		}
	}
	slices.Sort(problems)
	return problems
}
