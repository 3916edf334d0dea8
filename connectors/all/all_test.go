package all

import (
	"slices"
	"testing"

	"github.com/aiskao/aiskao/connectors"
)

func TestRegistersEveryType(t *testing.T) {
	for _, typ := range []string{"dossier", "esoed", "file", "http", "mail", "regix", "sftp", "sql"} {
		if !slices.Contains(connectors.Default.Names(), typ) {
			t.Errorf("connector type %q not registered; registered: %v", typ, connectors.Default.Names())
		}
	}
}
