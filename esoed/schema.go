package esoed

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"

	"github.com/aiskao/aiskao/internal/xsd"
)

// schemaFiles holds the schemas of the СЕОС specification; see schemas/SOURCES.md.
//
//go:embed schemas/*.xsd
var schemaFiles embed.FS

// SchemaEntry is the file of the bundled schemas that declares the Message element.
const SchemaEntry = "EGovMessaging.xsd"

var compiled = sync.OnceValues(func() (*xsd.Schema, error) {
	cat, err := Catalog()
	if err != nil {
		return nil, err
	}
	s, err := xsd.Compile(cat, SchemaEntry)
	if err != nil {
		return nil, fmt.Errorf("esoed: bundled schema: %w", err)
	}
	return s, nil
})

// Schema returns EGovMessaging.xsd compiled with the schemas it imports, all bundled in the
// program. It is compiled on the first call and shared afterwards; a *xsd.Schema is safe for
// concurrent use.
func Schema() (*xsd.Schema, error) { return compiled() }

// Catalog returns a catalogue over the bundled schemas, each mapped by its target namespace.
// EGovMessaging.xsd imports the XML-DSig schema and the РИО segment 0009-000001 (which imports
// 0008-000001 … 0008-000004) by namespace only, without a schemaLocation; the catalogue is what
// resolves them, offline.
func Catalog() (*xsd.Catalog, error) {
	sub, err := fs.Sub(schemaFiles, "schemas")
	if err != nil {
		return nil, fmt.Errorf("esoed: bundled schemas: %w", err)
	}
	cat := xsd.NewCatalog(sub)
	if err := cat.Scan("."); err != nil {
		return nil, fmt.Errorf("esoed: bundled schemas: %w", err)
	}
	return cat, nil
}
