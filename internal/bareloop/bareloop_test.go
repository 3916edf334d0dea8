package bareloop

import (
	"encoding/json"
	"os"
	"testing"
)

func TestProcessGivesTheDemoFields(t *testing.T) {
	l, err := New("../../configs/schemas/esoed-message.json")
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile("../../testdata/esoed/registration-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Process(in)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got["doc_number"] != "СО-94-00-1234" || got["sender"] != "000696327" || got["document"] == nil {
		t.Errorf("output: %s", out)
	}
	bad, _ := os.ReadFile("../../testdata/esoed/schema-violation.xml")
	if _, err := l.Process(bad); err == nil {
		t.Error("schema violation passed")
	}
}
