package regix

import (
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// TestAnswersBounded: a register's answer is read under xmllimit's bounds, whatever the
// register (or whoever answers in its place) sends.
func TestAnswersBounded(t *testing.T) {
	deep := strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
	if _, err := ParseResultData([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` + deep + `</s:Body></s:Envelope>`)); !errors.Is(err, xmllimit.ErrLimit) {
		t.Errorf("ParseResultData, deep: %v", err)
	}
	if _, err := ParseResultData([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`)); err == nil || !strings.Contains(err.Error(), "element after the root element") {
		t.Errorf("ParseResultData, second root: %v", err)
	}
	if _, err := Leaves([]byte(deep), 100); !errors.Is(err, xmllimit.ErrLimit) {
		t.Errorf("Leaves, deep: %v", err)
	}
}
