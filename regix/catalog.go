// Package regix knows the operations of the RegiX registers: it builds the
// catalogue of operations from the registers' operation metadata, builds
// request documents from parameters, and validates and reads response
// documents, each against the register's own XML schemas. Its Client calls
// the operations through either entry point of RegiX (EntryPoint): V2, and V1
// as its public WSDL describes it (SOAP 1.2, WS-Addressing); its Simulator
// serves both.
//
// The metadata, schemas and samples of the bundled registers live in
// registers/ (one folder a register) and are compiled into the program.
package regix

import (
	"bytes"
	"embed"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/aiskao/aiskao/internal/xsd"
)

//go:embed registers
var registersFS embed.FS

// xsdNS is the namespace of XML Schema documents.
const xsdNS = "http://www.w3.org/2001/XMLSchema"

// Param is one parameter of an operation, as its metadata describes it.
type Param struct {
	// Name is the parameter's element name in the request document.
	Name string
	// Label names the parameter for people (e.g. "ЕГН").
	Label string
	// Type is the metadata type: "string", "Date", …
	Type string
	// Required says the request is refused without it.
	Required bool
	// Order is the position of the element in the request.
	Order int
}

// Operation is one RegiX operation of a register.
type Operation struct {
	// Code is the short code, e.g. "PersonDataSearch".
	Code string
	// Name is the full operation string RegiX expects in ServiceRequestData.Operation.
	Name string
	// DisplayName describes the operation for people, in Bulgarian.
	DisplayName string
	// Register is the folder of the register, e.g. "grao-nbd".
	Register string
	// RequestElement and RequestNamespace name the root of a request document.
	RequestElement, RequestNamespace string
	// ResponseElement and ResponseNamespace name the root of a response document.
	ResponseElement, ResponseNamespace string
	// Params are the parameters in request order.
	Params []Param

	requestXSD, responseXSD string
	request, response       *xsd.Schema
}

// RequestSchema is the compiled schema of the operation's request document.
func (op *Operation) RequestSchema() *xsd.Schema { return op.request }

// ResponseSchema is the compiled schema of the operation's response document.
func (op *Operation) ResponseSchema() *xsd.Schema { return op.response }

// Operations is the catalogue of operations.
type Operations struct {
	list   []*Operation
	byKey  map[string]*Operation // by code and by full name
	byRoot map[xml.Name]rootRef
}

type rootRef struct {
	op       *Operation
	response bool
}

// All returns the operations ordered by register and code.
func (o *Operations) All() []*Operation { return o.list }

// Lookup finds an operation by its code or its full name.
func (o *Operations) Lookup(codeOrName string) (*Operation, bool) {
	op, ok := o.byKey[codeOrName]
	return op, ok
}

// ErrUnknownDocument reports a document whose root element is no request or
// response of a known operation.
var ErrUnknownDocument = errors.New("not a known RegiX request or response")

// Identify reads the root element of doc and returns the operation it
// belongs to and whether it is a response (otherwise a request).
func (o *Operations) Identify(doc []byte) (*Operation, bool, error) {
	d := xml.NewDecoder(bytes.NewReader(trimBOM(doc)))
	for {
		t, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, false, fmt.Errorf("regix: no root element: %w", ErrUnknownDocument)
			}
			return nil, false, fmt.Errorf("regix: reading the root element: %w", err)
		}
		if se, ok := t.(xml.StartElement); ok {
			ref, ok := o.byRoot[se.Name]
			if !ok {
				return nil, false, fmt.Errorf("regix: root element %s in namespace %q: %w", se.Name.Local, se.Name.Space, ErrUnknownDocument)
			}
			return ref.op, ref.response, nil
		}
	}
}

var (
	catalogOnce sync.Once
	catalog     *Operations
	catalogErr  error
)

// Registers returns the bundled registers' files (schemas, metadata and sample documents)
// under the folder "registers", one folder per register.
func Registers() fs.FS { return registersFS }

// Catalog returns the catalogue of the bundled registers, loaded and
// compiled on first use.
func Catalog() (*Operations, error) {
	catalogOnce.Do(func() {
		sub, err := fs.Sub(registersFS, "registers")
		if err != nil {
			catalogErr = fmt.Errorf("regix: catalogue: %w", err)
			return
		}
		catalog, catalogErr = Load(sub)
	})
	return catalog, catalogErr
}

// Load builds a catalogue from fsys, which holds one folder a register with
// the register's *.xsd files and its operation metadata in XMLMetaData/.
// The request schema of an operation is the file whose target namespace is
// the metadata's namespace; the response schema is the one whose namespace
// is the same with "Request" replaced by "Response".
func Load(fsys fs.FS) (*Operations, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("regix: catalogue: %w", err)
	}
	ops := &Operations{byKey: map[string]*Operation{}, byRoot: map[xml.Name]rootRef{}}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if err := ops.loadRegister(fsys, d.Name()); err != nil {
			return nil, err
		}
	}
	sort.Slice(ops.list, func(i, j int) bool {
		a, b := ops.list[i], ops.list[j]
		if a.Register != b.Register {
			return a.Register < b.Register
		}
		return a.Code < b.Code
	})
	return ops, nil
}

// schemaFile is what the catalogue needs of one schema file.
type schemaFile struct {
	path     string
	ns       string
	elements []string // global element declarations
}

func (o *Operations) loadRegister(fsys fs.FS, reg string) error {
	sub, err := fs.Sub(fsys, reg)
	if err != nil {
		return fmt.Errorf("regix: register %s: %w", reg, err)
	}
	cat := xsd.NewCatalog(sub)
	if err := cat.Scan("."); err != nil {
		return fmt.Errorf("regix: register %s: %w", reg, err)
	}
	files := map[string]schemaFile{} // by namespace
	for ns, p := range cat.Namespaces {
		sf, err := readSchemaFile(sub, p)
		if err != nil {
			return fmt.Errorf("regix: register %s: %s: %w", reg, p, err)
		}
		files[ns] = sf
	}
	metas, err := fs.Glob(sub, "XMLMetaData/*.xml")
	if err != nil {
		return fmt.Errorf("regix: register %s: %w", reg, err)
	}
	for _, m := range metas {
		op, err := readMetadata(sub, m)
		if err != nil {
			return fmt.Errorf("regix: register %s: %s: %w", reg, m, err)
		}
		op.Register = reg
		if err := op.bindSchemas(files); err != nil {
			return fmt.Errorf("regix: register %s: operation %s: %w", reg, op.Code, err)
		}
		if op.request, err = xsd.Compile(cat, op.requestXSD); err != nil {
			return fmt.Errorf("regix: register %s: operation %s: request schema: %w", reg, op.Code, err)
		}
		if op.response, err = xsd.Compile(cat, op.responseXSD); err != nil {
			return fmt.Errorf("regix: register %s: operation %s: response schema: %w", reg, op.Code, err)
		}
		if err := o.add(op); err != nil {
			return fmt.Errorf("regix: register %s: %w", reg, err)
		}
	}
	return nil
}

func (o *Operations) add(op *Operation) error {
	for _, k := range []string{op.Code, op.Name} {
		if prev, ok := o.byKey[k]; ok {
			return fmt.Errorf("operation %s: %q is already taken by %s/%s", op.Code, k, prev.Register, prev.Code)
		}
		o.byKey[k] = op
	}
	req := xml.Name{Space: op.RequestNamespace, Local: op.RequestElement}
	resp := xml.Name{Space: op.ResponseNamespace, Local: op.ResponseElement}
	for _, n := range []xml.Name{req, resp} {
		if prev, ok := o.byRoot[n]; ok {
			return fmt.Errorf("operation %s: root element {%s}%s is already taken by %s", op.Code, n.Space, n.Local, prev.op.Code)
		}
	}
	o.byRoot[req] = rootRef{op: op}
	o.byRoot[resp] = rootRef{op: op, response: true}
	o.list = append(o.list, op)
	return nil
}

// bindSchemas finds the request and response schema files and root elements.
func (op *Operation) bindSchemas(files map[string]schemaFile) error {
	req, ok := files[op.RequestNamespace]
	if !ok {
		return fmt.Errorf("no schema file has the request namespace %q", op.RequestNamespace)
	}
	el, err := pickElement(req, op.RequestElement)
	if err != nil {
		return fmt.Errorf("request schema %s: %w", req.path, err)
	}
	op.RequestElement, op.requestXSD = el, req.path

	respNS := strings.Replace(op.RequestNamespace, "Request", "Response", 1)
	resp, ok := files[respNS]
	if !ok || respNS == op.RequestNamespace {
		return fmt.Errorf("no schema file has the response namespace %q", respNS)
	}
	el, err = pickElement(resp, strings.Replace(op.RequestElement, "Request", "Response", 1))
	if err != nil {
		return fmt.Errorf("response schema %s: %w", resp.path, err)
	}
	op.ResponseNamespace, op.ResponseElement, op.responseXSD = respNS, el, resp.path
	return nil
}

// pickElement returns the global element called want, or the only one.
func pickElement(sf schemaFile, want string) (string, error) {
	for _, e := range sf.elements {
		if e == want {
			return e, nil
		}
	}
	if len(sf.elements) == 1 {
		return sf.elements[0], nil
	}
	return "", fmt.Errorf("no global element %q among %d declared", want, len(sf.elements))
}

// readSchemaFile reads the target namespace and global element names of a schema file.
func readSchemaFile(fsys fs.FS, p string) (schemaFile, error) {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return schemaFile{}, err
	}
	sf := schemaFile{path: path.Clean(p)}
	d := xml.NewDecoder(bytes.NewReader(trimBOM(b)))
	depth := 0
	for {
		t, err := d.Token()
		if err == io.EOF {
			return sf, nil
		}
		if err != nil {
			return schemaFile{}, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				sf.ns = attr(t, "targetNamespace")
			}
			if depth == 2 && t.Name.Space == xsdNS && t.Name.Local == "element" {
				sf.elements = append(sf.elements, attr(t, "name"))
			}
		case xml.EndElement:
			depth--
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// metadata is the shape of an XMLMetaData/*.xml file (AdapterOperation).
type metadata struct {
	OperationName        string `xml:"OperationName"`
	Code                 string `xml:"Code"`
	RequestObjectName    string `xml:"RequestObjectName"`
	Namespace            string `xml:"Namespace"`
	DisplayOperationName string `xml:"DisplayOperationName"`
	Parameters           []struct {
		Name     string `xml:"ParameterInfo>ParameterName"`
		Label    string `xml:"ParameterInfo>ParameterLabel"`
		Required bool   `xml:"ParameterInfo>IsRequired"`
		IsXML    bool   `xml:"ParameterInfo>IsXmlElement"`
		Order    int    `xml:"ParameterInfo>OrderNumber"`
		Type     string `xml:"ParameterInfo>ParameterType>Type"`
	} `xml:"Parameters>Parameter"`
}

func readMetadata(fsys fs.FS, p string) (*Operation, error) {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, err
	}
	var m metadata
	if err := xml.Unmarshal(trimBOM(b), &m); err != nil {
		return nil, err
	}
	if m.Code == "" || m.OperationName == "" || m.Namespace == "" {
		return nil, errors.New("metadata lacks Code, OperationName or Namespace")
	}
	op := &Operation{
		Code: m.Code, Name: m.OperationName, DisplayName: m.DisplayOperationName,
		RequestElement: m.RequestObjectName, RequestNamespace: m.Namespace,
	}
	for _, p := range m.Parameters {
		if !p.IsXML {
			// Only element parameters exist in the bundled registers; an
			// attribute parameter would be built wrongly, so refuse it.
			return nil, fmt.Errorf("parameter %s is not an XML element, which is not supported", p.Name)
		}
		op.Params = append(op.Params, Param{Name: p.Name, Label: p.Label, Type: p.Type, Required: p.Required, Order: p.Order})
	}
	sort.SliceStable(op.Params, func(i, j int) bool { return op.Params[i].Order < op.Params[j].Order })
	return op, nil
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\ufeff")) }
