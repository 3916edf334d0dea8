package routes_test

import (
	"testing"

	"github.com/aiskao/aiskao/routes"

	// The real types and steps, so that DefaultCatalog holds what the hub ships. Only tests import
	// them: package routes itself never knows a concrete connector.
	_ "github.com/aiskao/aiskao/connectors/all"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	_ "github.com/aiskao/aiskao/hub/transport/rabbitmq"
	_ "github.com/aiskao/aiskao/store/postgres"
	_ "github.com/aiskao/aiskao/store/sqlite"
	_ "github.com/aiskao/aiskao/transforms/all"
)

// TestConfigurationDocs keeps docs/configuration.md equal to the reference of the shipped
// catalog; go test ./routes -update rewrites it.
func TestConfigurationDocs(t *testing.T) {
	cat := routes.DefaultCatalog()
	checkDocs(t, cat)
	golden(t, "../docs/configuration.md", routes.Reference(cat))
}

func TestDefaultCatalogSchemaCompiles(t *testing.T) {
	compileSchema(t, routes.DefaultCatalog())
}
