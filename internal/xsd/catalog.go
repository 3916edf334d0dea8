package xsd

import (
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Catalog tells the compiler where schema files are: a file system holding
// them and a map from target namespace to the file that defines it. Imports
// without a schemaLocation are resolved through the map; imports and
// includes with one are resolved relative to the importing file.
type Catalog struct {
	// FS holds the schema files; paths are slash-separated and relative.
	FS fs.FS
	// Namespaces maps a target namespace to a file path in FS.
	Namespaces map[string]string
}

// NewCatalog returns an empty catalogue over fsys.
func NewCatalog(fsys fs.FS) *Catalog {
	return &Catalog{FS: fsys, Namespaces: map[string]string{}}
}

// Add maps namespace ns to the schema file at file (a path in FS).
func (c *Catalog) Add(ns, file string) {
	c.Namespaces[ns] = file
}

// DirCatalog returns a catalogue over the operating-system folder dir with
// every *.xsd file in it (not in subfolders) mapped by its targetNamespace.
func DirCatalog(dir string) (*Catalog, error) {
	c := NewCatalog(os.DirFS(dir))
	if err := c.Scan("."); err != nil {
		return nil, err
	}
	return c, nil
}

// Scan reads the targetNamespace of every *.xsd file in folder dir of FS and
// adds each to the map. When two files declare the same namespace, the one
// first in name order wins and the other stays reachable by schemaLocation.
func (c *Catalog) Scan(dir string) error {
	entries, err := fs.ReadDir(c.FS, dir)
	if err != nil {
		return fmt.Errorf("xsd: catalogue: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".xsd") {
			continue
		}
		p := path.Join(dir, e.Name())
		ns, err := c.targetNamespace(p)
		if err != nil {
			return fmt.Errorf("xsd: catalogue: %s: %w", p, err)
		}
		if _, ok := c.Namespaces[ns]; !ok {
			c.Namespaces[ns] = p
		}
	}
	return nil
}

// targetNamespace reads a schema file up to its root element.
func (c *Catalog) targetNamespace(p string) (string, error) {
	f, err := c.FS.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	d.Strict = false
	for {
		t, err := d.Token()
		if err == io.EOF {
			return "", fmt.Errorf("no root element")
		}
		if err != nil {
			return "", err
		}
		if se, ok := t.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Space == "" && a.Name.Local == "targetNamespace" {
					return a.Value, nil
				}
			}
			return "", nil
		}
	}
}
