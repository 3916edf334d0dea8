package schemas_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// esoedDir holds the ЕСОЕД samples and the JSON each becomes under the
// xml_to_json convention.
const esoedDir = "../../testdata/esoed"

func compileESOED(t *testing.T) *jsonschema.Schema {
	t.Helper()
	const file = "esoed-message.json"
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("open schema: %v", err)
	}
	defer f.Close()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(file, f); err != nil {
		t.Fatalf("add schema %s: %v", file, err)
	}
	s, err := c.Compile(file)
	if err != nil {
		t.Fatalf("compile schema %s: %#v", file, err)
	}
	return s
}

func loadFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(esoedDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return v
}

// at walks a fixture down the given object keys.
func at(t *testing.T, v map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := v[k].(map[string]any)
		if !ok {
			t.Fatalf("fixture has no object at %q", k)
		}
		v = next
	}
	return v
}

// instanceLocations lists every instance pointer a validation error names.
func instanceLocations(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var locs []string
	for _, e := range ve.BasicOutput().Errors {
		locs = append(locs, e.InstanceLocation)
	}
	return locs
}

func TestESOEDFixturesPairXML(t *testing.T) {
	xmls, err := filepath.Glob(filepath.Join(esoedDir, "*.xml"))
	if err != nil || len(xmls) == 0 {
		t.Fatalf("no samples in %s (err %v)", esoedDir, err)
	}
	for _, x := range xmls {
		j := strings.TrimSuffix(x, ".xml") + ".json"
		if _, err := os.Stat(j); err != nil {
			t.Errorf("sample %s has no JSON fixture %s", filepath.Base(x), filepath.Base(j))
		}
	}
	jsons, _ := filepath.Glob(filepath.Join(esoedDir, "*.json"))
	for _, j := range jsons {
		x := strings.TrimSuffix(j, ".json") + ".xml"
		if _, err := os.Stat(x); err != nil {
			t.Errorf("JSON fixture %s has no XML sample %s", filepath.Base(j), filepath.Base(x))
		}
	}
}

func TestESOEDGoodFixturesValidate(t *testing.T) {
	s := compileESOED(t)
	for _, name := range []string{
		"registration-request.json",
		"status-request.json",
		"status-response.json",
		"error.json",
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(loadFixture(t, name)); err != nil {
				t.Errorf("%s should be valid:\n%#v", name, err)
			}
		})
	}
}

func TestESOEDBadFixturesFailWithPointer(t *testing.T) {
	s := compileESOED(t)
	tests := []struct {
		name    string
		pointer string // instance location the error message must name
		reason  string // part of the message saying what is wrong
	}{
		{"schema-violation.json", "/Message/Body/DocumentRegistrationRequest/Document/DocID/DocumentNumber/DocNumber", "length must be >= 1"},
		{"no-guid.json", "/Message/Header", "MessageGUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(loadFixture(t, tt.name))
			if err == nil {
				t.Fatalf("%s validated, want an error at %s", tt.name, tt.pointer)
			}
			msg := err.Error()
			if !strings.Contains(msg, "'"+tt.pointer+"'") || !strings.Contains(msg, tt.reason) {
				t.Errorf("error %q should name %s and say %q", msg, tt.pointer, tt.reason)
			}
		})
	}
}

// TestESOEDRules breaks one rule at a time in a valid fixture and checks
// that the schema rejects it at the expected place.
func TestESOEDRules(t *testing.T) {
	s := compileESOED(t)
	tests := []struct {
		name    string
		fixture string
		mutate  func(t *testing.T, v map[string]any)
		pointer string
	}{
		{
			name: "unknown message type", fixture: "status-request.json", pointer: "/Message/Header/MessageType",
			mutate: func(t *testing.T, v map[string]any) { at(t, v, "Message", "Header")["MessageType"] = "MSG_Foo" },
		},
		{
			name: "message type does not match body", fixture: "status-request.json", pointer: "/Message/Body",
			mutate: func(t *testing.T, v map[string]any) { at(t, v, "Message", "Header")["MessageType"] = "MSG_Error" },
		},
		{
			name: "GUID without braces", fixture: "error.json", pointer: "/Message/Header/Sender/GUID",
			mutate: func(t *testing.T, v map[string]any) {
				at(t, v, "Message", "Header", "Sender")["GUID"] = "805fd26b-4b64-4823-a7b5-d40315c4b783"
			},
		},
		{
			name: "identifier is not an EIK", fixture: "error.json", pointer: "/Message/Header/Recipient/Identifier",
			mutate: func(t *testing.T, v map[string]any) {
				at(t, v, "Message", "Header", "Recipient")["Identifier"] = "BG000696327"
			},
		},
		{
			name: "message date is not xsd:dateTime", fixture: "error.json", pointer: "/Message/Header/MessageDate",
			mutate: func(t *testing.T, v map[string]any) {
				at(t, v, "Message", "Header")["MessageDate"] = "12.03.2024 10:15"
			},
		},
		{
			name: "wrong default namespace", fixture: "error.json", pointer: "/Message/@xmlns",
			mutate: func(t *testing.T, v map[string]any) { at(t, v, "Message")["@xmlns"] = "http://example.org/other" },
		},
		{
			name: "two body elements", fixture: "error.json", pointer: "/Message/Body",
			mutate: func(t *testing.T, v map[string]any) {
				at(t, v, "Message", "Body")["DocumentStatusRequest"] = map[string]any{
					"DocID": map[string]any{"DocumentGUID": "{926159f2-af76-4c3d-ae7c-ee18890ca446}"},
				}
			},
		},
		{
			name: "element not in the XSD", fixture: "error.json", pointer: "/Message/Body/Error",
			mutate: func(t *testing.T, v map[string]any) { at(t, v, "Message", "Body", "Error")["ErrorCode"] = "42" },
		},
		{
			name: "empty document kind", fixture: "registration-request.json", pointer: "/Message/Body/DocumentRegistrationRequest/Document/DocKind",
			mutate: func(t *testing.T, v map[string]any) {
				at(t, v, "Message", "Body", "DocumentRegistrationRequest", "Document")["DocKind"] = ""
			},
		},
		{
			name: "registration without a document number", fixture: "registration-request.json", pointer: "/Message/Body/DocumentRegistrationRequest/Document/DocID",
			mutate: func(t *testing.T, v map[string]any) {
				delete(at(t, v, "Message", "Body", "DocumentRegistrationRequest", "Document", "DocID"), "DocumentNumber")
			},
		},
		{
			name: "attachment body is not base64", fixture: "registration-request.json", pointer: "/Message/Body/DocumentRegistrationRequest/Document/DocAttachmentList/Attachment/AttBody",
			mutate: func(t *testing.T, v map[string]any) {
				at(t, v, "Message", "Body", "DocumentRegistrationRequest", "Document", "DocAttachmentList", "Attachment")["AttBody"] = "не е base64"
			},
		},
		{
			name: "rejected without a reason", fixture: "status-response.json", pointer: "/Message/Body/DocumentStatusResponse",
			mutate: func(t *testing.T, v map[string]any) {
				at(t, v, "Message", "Body", "DocumentStatusResponse")["DocRegStatus"] = "DS_REJECTED"
			},
		},
		{
			name: "signature without SignedInfo", fixture: "status-response.json", pointer: "/Message/Signature",
			mutate: func(t *testing.T, v map[string]any) { delete(at(t, v, "Message", "Signature"), "SignedInfo") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := loadFixture(t, tt.fixture)
			if err := s.Validate(v); err != nil {
				t.Fatalf("%s must be valid before the change: %v", tt.fixture, err)
			}
			tt.mutate(t, v)
			err := s.Validate(v)
			if err == nil {
				t.Fatalf("validated after the change, want an error at %s", tt.pointer)
			}
			if locs := instanceLocations(err); !slices.Contains(locs, tt.pointer) {
				t.Errorf("error names %v, want %s:\n%#v", locs, tt.pointer, err)
			}
		})
	}
}

// TestESOEDRejectedWithReason checks the positive side of the DS_REJECTED rule.
func TestESOEDRejectedWithReason(t *testing.T) {
	s := compileESOED(t)
	v := loadFixture(t, "status-response.json")
	resp := at(t, v, "Message", "Body", "DocumentStatusResponse")
	resp["DocRegStatus"] = "DS_REJECTED"
	resp["RejectionReason"] = "Документът не е адресиран до Община Пловдив."
	if err := s.Validate(v); err != nil {
		t.Errorf("rejected status with a reason should be valid:\n%#v", err)
	}
}
