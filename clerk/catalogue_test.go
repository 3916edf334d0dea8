package clerk_test

import (
	"testing"

	"github.com/aiskao/aiskao/clerk"
	"github.com/aiskao/aiskao/web"
)

// TestCatalogues: every message is in both languages, and none is empty.
func TestCatalogues(t *testing.T) {
	for _, p := range web.CatalogueProblems(clerk.Files) {
		t.Error(p)
	}
}
