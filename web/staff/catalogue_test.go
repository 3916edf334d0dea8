package staff_test

import (
	"testing"

	"github.com/aiskao/aiskao/web"
	"github.com/aiskao/aiskao/web/staff"
)

// TestCatalogues: every message is in both languages, and none is empty.
func TestCatalogues(t *testing.T) {
	for _, p := range web.CatalogueProblems(staff.Files) {
		t.Error(p)
	}
}
