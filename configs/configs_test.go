// Package configs_test checks the ready configurations: each one loads, and the route tests in
// configs/tests pass, so that `go test ./...` guards the demo as `aiskao test` does.
package configs_test

import (
	"context"
	"strings"
	"testing"

	_ "github.com/aiskao/aiskao/connectors/all"
	"github.com/aiskao/aiskao/hub"
	_ "github.com/aiskao/aiskao/hub/store/postgres"
	_ "github.com/aiskao/aiskao/hub/store/sqlite"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/routes"
	_ "github.com/aiskao/aiskao/transforms/all"
)

func TestConfigurationsLoad(t *testing.T) {
	for _, f := range []string{"demo.yaml"} {
		if _, err := routes.Load(routes.DefaultCatalog(), f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}

func TestRouteTests(t *testing.T) {
	results, err := hub.RunRouteTests(context.Background(), "tests", hub.Options{Catalog: routes.DefaultCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no route tests ran")
	}
	for _, r := range results {
		t.Run(r.Case, func(t *testing.T) {
			if !r.Passed() {
				t.Errorf("%s:\n%s", r.File, strings.Join(r.Failures, "\n"))
			}
		})
	}
}
