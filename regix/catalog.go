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

// Param is one parameter of an operation, as its metadata describes it: a
// value of the request document. A parameter inside a complex one (БУЛСТАТ's
// Case/Court/Code) is named by its element path.
type Param struct {
	// Name is the parameter's element name in the request document, or
	// its path of element names under the root ("Identity/ID").
	Name string
	// Label names the parameter for people (e.g. "ЕГН").
	Label string
	// Type is the metadata type: "string", "Date", …
	Type string
	// Required says the request is refused without it.
	Required bool
	// Order is the position of the element among its siblings.
	Order int

	path []xml.Name // the elements from under the root to the value's own
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
// is the same with "Request" replaced by "Response", or else the root of the
// register's sample response (see bindSchemas).
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
		if err := op.bindSchemas(sub, files); err != nil {
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

// bindSchemas finds the request and response schema files and root
// elements. The response's namespace is the request's with "Request"
// replaced by "Response"; where a register names it otherwise (БУЛСТАТ,
// НАП's declarations), the root of the register's own sample response says
// which it is.
func (op *Operation) bindSchemas(fsys fs.FS, files map[string]schemaFile) error {
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
	respEl := strings.Replace(op.RequestElement, "Request", "Response", 1)
	resp, ok := files[respNS]
	if !ok || respNS == op.RequestNamespace {
		root, err := sampleResponseRoot(fsys, xml.Name{Space: op.RequestNamespace, Local: op.RequestElement})
		if err != nil {
			return fmt.Errorf("no schema file has the response namespace %q and %w", respNS, err)
		}
		if resp, ok = files[root.Space]; !ok {
			return fmt.Errorf("no schema file has the namespace %q of the sample response's root %s", root.Space, root.Local)
		}
		respNS, respEl = root.Space, root.Local
	}
	el, err = pickElement(resp, respEl)
	if err != nil {
		return fmt.Errorf("response schema %s: %w", resp.path, err)
	}
	op.ResponseNamespace, op.ResponseElement, op.responseXSD = respNS, el, resp.path
	return nil
}

// sampleResponseRoot finds the register's sample request whose root is req
// (a *Request*.xml file) and returns the root of the sample response beside
// it: the same name with its last "Request" turned into "Response".
func sampleResponseRoot(fsys fs.FS, req xml.Name) (xml.Name, error) {
	files, err := fs.Glob(fsys, "*Request*.xml")
	if err != nil {
		return xml.Name{}, err
	}
	for _, f := range files {
		root, err := rootOf(fsys, f)
		if err != nil || root != req {
			continue
		}
		i := strings.LastIndex(f, "Request")
		resp := f[:i] + "Response" + f[i+len("Request"):]
		root, err = rootOf(fsys, resp)
		if err != nil {
			return xml.Name{}, fmt.Errorf("the sample response %s: %w", resp, err)
		}
		return root, nil
	}
	return xml.Name{}, fmt.Errorf("no sample request has the root {%s}%s", req.Space, req.Local)
}

// rootOf reads a document up to its root element.
func rootOf(fsys fs.FS, p string) (xml.Name, error) {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return xml.Name{}, err
	}
	d := xml.NewDecoder(bytes.NewReader(trimBOM(b)))
	for {
		t, err := d.Token()
		if err != nil {
			return xml.Name{}, fmt.Errorf("no root element: %w", err)
		}
		if se, ok := t.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
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
	OperationName        string      `xml:"OperationName"`
	Code                 string      `xml:"Code"`
	RequestObjectName    string      `xml:"RequestObjectName"`
	Namespace            string      `xml:"Namespace"`
	DisplayOperationName string      `xml:"DisplayOperationName"`
	Parameters           []metaParam `xml:"Parameters>Parameter"`
}

// metaParam is one parameter of the metadata, with the parameters of a
// complex one inside it ("ChildParamteters", spelt as the metadata spells it).
type metaParam struct {
	Name      string      `xml:"ParameterInfo>ParameterName"`
	Label     string      `xml:"ParameterInfo>ParameterLabel"`
	Required  bool        `xml:"ParameterInfo>IsRequired"`
	IsXML     bool        `xml:"ParameterInfo>IsXmlElement"`
	Order     int         `xml:"ParameterInfo>OrderNumber"`
	Namespace string      `xml:"ParameterInfo>Namespace"`
	Type      string      `xml:"ParameterInfo>ParameterType>Type"`
	Children  []metaParam `xml:"ChildParamteters>Parameter"`
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
	if op.Params, err = flattenParams(m.Parameters, nil, m.Namespace); err != nil {
		return nil, err
	}
	for _, p := range metadataOmits[m.OperationName] {
		p.path = []xml.Name{{Space: m.Namespace, Local: p.Name}}
		op.Params = append(op.Params, p)
	}
	return op, nil
}

// metadataOmits adds, by full operation name, the parameters a register's
// metadata leaves out although its request schema declares them and its
// sample sends them: the property register's GetEntityInfo and
// GetEntityInfoV2 take an optional SiteID (last in the schema's sequence)
// as GetPersonInfoV2 does, whose metadata gives its label and type.
var metadataOmits = map[string][]Param{
	"TechnoLogica.RegiX.PropertyRegAdapter.APIService.IPropertyRegAPI.GetEntityInfo":   {siteIDParam},
	"TechnoLogica.RegiX.PropertyRegAdapter.APIService.IPropertyRegAPI.GetEntityInfoV2": {siteIDParam},
}

var siteIDParam = Param{Name: "SiteID", Label: "Идентификатор на служба по вписванията", Type: "EnumWithSource:getRegistryAgencies:true", Order: 3}

// flattenParams turns the metadata's parameters into the values of the
// request, depth first in the metadata's order: a complex parameter
// contributes its children under its own element. An element is in the
// namespace its metadata gives, else in its parent's.
func flattenParams(ps []metaParam, parent []xml.Name, ns string) ([]Param, error) {
	sorted := append([]metaParam(nil), ps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Order < sorted[j].Order })
	names := map[string]bool{}
	for _, p := range sorted {
		names[p.Name] = true
	}
	var out []Param
	for _, p := range sorted {
		if !p.IsXML {
			// XSpecified beside X is the .NET serializer's flag saying X is
			// present; it is no part of the document.
			if strings.HasSuffix(p.Name, "Specified") && names[strings.TrimSuffix(p.Name, "Specified")] {
				continue
			}
			// An attribute parameter would be built wrongly, so refuse it.
			return nil, fmt.Errorf("parameter %s is not an XML element, which is not supported", p.Name)
		}
		elNS := ns
		if p.Namespace != "" {
			elNS = p.Namespace
		}
		path := append(append([]xml.Name(nil), parent...), xml.Name{Space: elNS, Local: p.Name})
		if len(p.Children) > 0 || p.Type == "Complex" {
			kids, err := flattenParams(p.Children, path, elNS)
			if err != nil {
				return nil, err
			}
			out = append(out, kids...)
			continue
		}
		locals := make([]string, len(path))
		for i, n := range path {
			locals[i] = n.Local
		}
		out = append(out, Param{Name: strings.Join(locals, "/"), Label: p.Label, Type: p.Type, Required: p.Required, Order: p.Order, path: path})
	}
	return out, nil
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\ufeff")) }
