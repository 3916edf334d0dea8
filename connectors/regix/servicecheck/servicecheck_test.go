package servicecheck_test

import (
	"strings"
	"testing"

	"github.com/aiskao/aiskao/connectors/regix/servicecheck"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/regix"
)

// base is a valid service whose checklist the cases replace.
const base = `id: "9999"
version: 1
name: { bg: Услуга, en: Service }
legal_basis: { bg: Закон, en: Act }
provider:
  name: { bg: Община Примерно, en: Primerno Municipality }
  eik: "000695089"
register_index: ОБА3
procedure: { bg: Ред, en: Procedure }
fields:
  - { id: deceased_egn, name: { bg: ЕГН, en: ЕГН }, kind: egn, required: true }
  - { id: as_of, name: { bg: Дата, en: Date }, kind: date, required: true }
terms:
  - { kind: normal, days: 7, fee: "2.05" }
apply: [counter]
deliver: [counter]
appeal: { bg: Съд, en: Court }
stages:
  - { id: register, name: { bg: Регистриране, en: Registration }, group: accept, assignee: { position: clerk } }
checklist:
`

func TestCheck(t *testing.T) {
	ops, err := regix.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, checklist string
		want            []string // one substring per expected problem, in order
	}{
		{"full operation name", `
  - { id: data, name: { bg: Д, en: D }, source: register, operation: TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch, query: { EGN: deceased_egn } }`, nil},
		{"operation code", `
  - { id: data, name: { bg: Д, en: D }, source: register, operation: PermanentAddressSearch, query: { EGN: applicant, SearchDate: as_of } }`, nil},
		{"items from the applicant are not checked", `
  - { id: paper, name: { bg: Д, en: D } }`, nil},
		{"unknown operation", `
  - { id: data, name: { bg: Д, en: D }, source: register, operation: NoSuchSearch, query: { EGN: applicant } }`,
			[]string{`checklist[0].operation: item "data": no register operation "NoSuchSearch"`}},
		{"unknown parameter", `
  - { id: data, name: { bg: Д, en: D }, source: register, operation: PersonDataSearch, query: { EGN: applicant, Egn: applicant } }`,
			[]string{`checklist[0].query.Egn: item "data": PersonDataSearch (grao-nbd) has no parameter "Egn"; it takes EGN`}},
		{"required parameter missing", `
  - { id: paper, name: { bg: Д, en: D } }
  - { id: addr, name: { bg: Д, en: D }, source: register, operation: TemporaryAddressSearch, query: { EGN: applicant } }`,
			[]string{`checklist[1].query: item "addr": TemporaryAddressSearch (grao-pna) requires parameter SearchDate (Дата)`}},
		{"nested parameters", `
  - { id: debts, name: { bg: Д, en: D }, source: register, operation: GetObligatedPersons, query: { Identity/ID: applicant } }`,
			[]string{`requires parameter Identity/TYPE`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := service.Parse("svc.yaml", []byte(base+tc.checklist))
			if err != nil {
				t.Fatalf("the case's service does not load: %v", err)
			}
			errs := servicecheck.Check("svc.yaml", s, ops)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if got := errs[i].Error(); !strings.HasPrefix(got, "svc.yaml: ") || !strings.Contains(got, w) {
					t.Errorf("problem %d = %q, want it to name svc.yaml and contain %q", i, got, w)
				}
			}
		})
	}
}
