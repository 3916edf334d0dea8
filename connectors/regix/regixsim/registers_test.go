package regixsim

import (
	"bytes"
	"context"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/regix/regixtest"
)

// knownAdded gives, by operation of the registers added after the first four, a field of its
// answer and the value the simulator answers (path, then value).
var knownAdded = map[string][]string{
	"FetchNomenclatures":                    {"CountryNomElement", "0", "NameBG", "АВСТРАЛИЯ"},
	"GetActualUICInfo":                      {"CyrillicName", "a"},
	"GetStateOfPlayRequest":                 {"Subject", "UIC", "UIC", "1212120908"},
	"MaritalStatusSearch":                   {"FirstName", "Никола"},
	"MaritalStatusSpouseChildrenSearch":     {"MaritalStatusCode", "3"},
	"MarriageSearch":                        {"MarriageLicenceNumber", "5692"},
	"SpouseSearch":                          {"FirstName", "Гергана"},
	"GetMarriageCertificate":                {"ManData", "FirstName", "МАРИЯН"},
	"GetMotorVehicleRegistrationInfo":       {"ReturnInformation", "ReturnCode", "0000"},
	"GetMotorVehicleRegistrationInfoV2":     {"Header", "MessageID", "MessageID1"},
	"GetMotorVehicleRegistrationInfoV3":     {"Header", "MessageRefID", "String"},
	"GetObligatedPersons":                   {"ObligationStatus", "PRESENT"},
	"GetSocialSecurityDataFromDeclarations": {"SocialSecurityDataFromDeclarations", "SocialSecurityDataFromDeclaration", "DeclarationType", "String"},
	"GetEntityInfo":                         {"EntityLotDataList", "EntityLotData", "RegistryAgency", "Служба по вписванията - Сандански"},
	"GetEntityInfoV2":                       {"EntityLotDataList", "EntityLotData", "SiteID", "String"},
	"GetPersonInfo":                         {"PersonLotDataList", "PersonLotData", "0", "RegistryAgency", "Служба по вписванията - Кюстендил"},
	"GetPersonInfoV2":                       {"PersonLotDataList", "PersonLotData", "SiteID", "String"},
	"GetPropertyInfo":                       {"DateTo", "2018-01-30T15:58:00"},
	"GetPropertyInfoV2":                     {"LotType", "String"},
	"GetSites":                              {"site", "0", "siteName", "Служба по вписванията - София"},
	"PropertySearch":                        {"PropertyDetailList", "PropertyDetail", "RegistryAgency", "Служба по вписванията - Варна"},
}

// TestSimulatorAddedRegisters: one operation of each added register, called through the client
// at both entry points, is answered from the register's sample (the corrected copy where the
// published one breaks its schema), with the parameters of the register's sample request.
func TestSimulatorAddedRegisters(t *testing.T) {
	ops := catalogue(t)
	_, v2 := simServer(t)
	v1 := *v2
	v1.EntryPoint, v1.Endpoint = regix.V1, v2.Endpoint+v1Path
	v1.PollInterval, v1.PollTimeout = 10*time.Millisecond, 5*time.Second
	params := sampleParams(t)
	tests := []struct{ register, code string }{
		{"grao-br", "MaritalStatusSearch"},
		{"grao-civil-status", "GetMarriageCertificate"},
		{"av-bulstat2", "GetStateOfPlayRequest"}, // a complex parameter: Case/Court/Code in another namespace
		{"mvr-mps", "GetMotorVehicleRegistrationInfoV3"},
		{"nra-obligated-persons", "GetObligatedPersons"},
		{"property-reg", "PropertySearch"}, // served from the corrected copy
	}
	for _, tt := range tests {
		op, ok := ops.Lookup(tt.code)
		if !ok || op.Register != tt.register {
			t.Fatalf("%s: not in the catalogue under %s (%v)", tt.code, tt.register, op)
		}
		k := knownAdded[tt.code]
		for name, c := range map[string]*regix.Client{"V2": v2, "V1": &v1} {
			t.Run(tt.register+"/"+name, func(t *testing.T) {
				res, err := c.ExecuteSynchronous(context.Background(), op, params[tt.code], testCall)
				if err != nil {
					t.Fatal(err)
				}
				if !res.IsReady || res.HasError || len(res.Request) == 0 {
					t.Errorf("result: ready %v, error %v, %d bytes of request", res.IsReady, res.HasError, len(res.Request))
				}
				if got := field(res.Fields, k[:len(k)-1]...); got != k[len(k)-1] {
					t.Errorf("%v = %#v, want %q", k[:len(k)-1], got, k[len(k)-1])
				}
			})
		}
	}
}

// TestSimulatorCorrectedCopies: every published sample that breaks its schema has a corrected
// copy, which validates and is what the simulator serves; the published one does not validate.
func TestSimulatorCorrectedCopies(t *testing.T) {
	ops := catalogue(t)
	sim := NewSimulator(nil)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(sim.Operations()), len(ops.All()); got != want {
		t.Errorf("the simulator answers %d operations, want all %d", got, want)
	}
	for _, s := range regixtest.PublishedInvalid() {
		t.Run(s.File, func(t *testing.T) {
			published, err := fs.ReadFile(regix.Registers(), "registers/"+s.File)
			if err != nil {
				t.Fatal(err)
			}
			op, resp, err := ops.Identify(published)
			if err != nil || !resp {
				t.Fatalf("Identify: %v, response %v", err, resp)
			}
			if op.ValidateResponse(bytes.NewReader(published)) == nil {
				t.Error("the published sample validates; it is listed as breaking its schema")
			}
			fixed, err := os.ReadFile(filepath.Join("corrected", filepath.FromSlash(s.File)))
			if err != nil {
				t.Fatal(err)
			}
			if err := op.ValidateResponse(bytes.NewReader(fixed)); err != nil {
				t.Errorf("corrected copy: %v", err)
			}
			if got := sim.responses[op]; !bytes.Equal(got, regix.DocumentBody(fixed)) {
				t.Error("the simulator does not serve the corrected copy")
			}
		})
	}
}

// TestSimulatorRefusesInvalidDocument: a response document that breaks its schema is not served
// as if it were valid: the operation is left out of Operations and its calls get a fault naming
// the element at fault.
func TestSimulatorRefusesInvalidDocument(t *testing.T) {
	const file = "property-reg/GetEntityInfoResponse.xml"
	published, err := fs.ReadFile(regix.Registers(), "registers/"+file)
	if err != nil {
		t.Fatal(err)
	}
	valid := samples(t, "Response")["registers/grao-nbd/PersonDataSearchResponse.xml"]
	sim := NewSimulator(fstest.MapFS{"entity.xml": {Data: published}, "nbd.xml": {Data: valid}})
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sim.Operations(), ","); got != "PersonDataSearch" {
		t.Errorf("operations = %s, want PersonDataSearch alone", got)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	ops := catalogue(t)
	op, _ := ops.Lookup("GetEntityInfo")
	p := map[string]string{"EIK": "123123123", "DateFrom": "1990-01-01T00:00:00", "DateTo": "2018-01-30T15:59:00"}
	for name, c := range map[string]*regix.Client{
		"V2": {Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second},
		"V1": {Endpoint: srv.URL + v1Path, HTTP: srv.Client(), Timeout: 5 * time.Second, EntryPoint: regix.V1},
	} {
		_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
		for _, want := range []string{"fault", "entity.xml", "/EntityInfoResponse/EntityLotDataList/EntityLotData/RegistryAgency", "invalid UTF-8"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: err = %v, want one containing %q", name, err, want)
			}
		}
	}
}
