package esoed

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// RegistryNamespace is the namespace of the registry's service (EGovRegistry.wsdl, rpc/encoded).
const RegistryNamespace = "uri:egovmsg"

// SOAPRegistry is a client of the participants registry's SOAP 1.1 service (EGovRegistry.wsdl):
// GetByEntityIdentifier, GetByGuid, GetAllRecords. Wrap it in a [CachedRegistry].
type SOAPRegistry struct {
	// URL is the address of the registry's service.
	URL string
	// Client carries the TLS configuration (the participant's transport certificate as the
	// client certificate); nil is http.DefaultClient.
	Client *http.Client
}

// Lookup implements [Registry] with GetByGuid for a GUID, GetByEntityIdentifier otherwise.
func (r *SOAPRegistry) Lookup(ctx context.Context, key string) (*Entity, error) {
	op, part, v := "GetByEntityIdentifier", "EntityIdentifier", strings.TrimSpace(key)
	if g := normalGUID(v); g != "" {
		op, part, v = "GetByGuid", "guid", g
	}
	es, err := r.call(ctx, op, part, v)
	if err != nil {
		return nil, err
	}
	for i := range es {
		if (op == "GetByGuid" && normalGUID(es[i].GUID) == v) || (op != "GetByGuid" && es[i].Identifier == v) {
			return &es[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownParticipant, key)
}

// All returns every participant (GetAllRecords).
func (r *SOAPRegistry) All(ctx context.Context) ([]Entity, error) {
	return r.call(ctx, "GetAllRecords", "", "")
}

func (r *SOAPRegistry) call(ctx context.Context, op, part, value string) ([]Entity, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="` + SOAPEnvelopeNamespace +
		`" xmlns:xsi="` + xsiNamespace + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema" soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><soap:Body><m:` +
		op + ` xmlns:m="` + RegistryNamespace + `">`)
	if part != "" {
		b.WriteString("<" + part + ` xsi:type="xsd:string">`)
		xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + part + ">")
	}
	b.WriteString(`</m:` + op + `></soap:Body></soap:Envelope>`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, &b)
	if err != nil {
		return nil, fmt.Errorf("esoed: registry %s: %w", op, err)
	}
	req.Header.Set("Content-Type", SOAPContentType)
	req.Header.Set("SOAPAction", `"`+RegistryNamespace+"/"+op+`"`)
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("esoed: registry %s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("esoed: registry %s: %w", op, err)
	}
	es, err := parseRegistryResponse(raw)
	if err != nil {
		return nil, fmt.Errorf("esoed: registry %s (HTTP %d): %w", op, resp.StatusCode, err)
	}
	return es, nil
}

// parseRegistryResponse reads the entities of an answer of the registry: any element with an
// EntityIdentifier child is an entity, whatever the array and part names the server uses
// (rpc/encoded leaves them to it), with multi-reference (href="#id") values resolved. A fault
// is returned as a *Fault.
func parseRegistryResponse(raw []byte) ([]Entity, error) {
	if containsDoctype(raw) {
		return nil, errors.New("a DOCTYPE is not allowed")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("not XML: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Envelope" || root.NamespaceURI() != SOAPEnvelopeNamespace {
		return nil, errors.New("not a SOAP 1.1 envelope")
	}
	if f := root.FindElement("//Fault"); f != nil {
		return nil, &Fault{Code: text(f, "faultcode"), String: text(f, "faultstring"), Detail: text(f, "detail")}
	}
	ids := map[string]*etree.Element{}
	for _, e := range root.FindElements("//*[@id]") {
		ids[e.SelectAttrValue("id", "")] = e
	}
	deref := func(e *etree.Element) *etree.Element {
		for range 8 {
			h := e.SelectAttrValue("href", "")
			t, ok := ids[strings.TrimPrefix(h, "#")]
			if h == "" || !ok {
				break
			}
			e = t
		}
		return e
	}
	var out []Entity
	var walk func(e *etree.Element, depth int)
	walk = func(e *etree.Element, depth int) {
		e = deref(e)
		if depth > 32 {
			return
		}
		if e.SelectElement("EntityIdentifier") != nil {
			out = append(out, entityFrom(e, deref))
			return
		}
		for _, c := range e.ChildElements() {
			walk(c, depth+1)
		}
	}
	if body := root.SelectElement("Body"); body != nil {
		walk(body, 0)
	}
	return out, nil
}

func text(e *etree.Element, name string) string {
	if c := e.SelectElement(name); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

func entityFrom(e *etree.Element, deref func(*etree.Element) *etree.Element) Entity {
	child := func(p *etree.Element, name string) *etree.Element {
		if c := p.SelectElement(name); c != nil {
			return deref(c)
		}
		return nil
	}
	t := func(p *etree.Element, name string) string {
		if c := child(p, name); c != nil {
			return strings.TrimSpace(c.Text())
		}
		return ""
	}
	en := Entity{
		Identifier:    t(e, "EntityIdentifier"),
		GUID:          braces(t(e, "Guid")),
		ParentGUID:    braces(t(e, "ParentGuid")),
		Name:          t(e, "AdministrativeBodyName"),
		CertificateSN: strings.ToLower(t(e, "CertificateSN")),
		Status:        t(e, "Status"),
	}
	if c := child(e, "Contact"); c != nil {
		en.Contact.Phone, en.Contact.Fax, en.Contact.Email = t(c, "Phone"), t(c, "Fax"), t(c, "EmailAddress")
	}
	if lc, err := parseDateTime(t(e, "LastChange")); err == nil {
		en.LastChange = lc
	}
	if ss := child(e, "Services"); ss != nil {
		for _, s := range ss.ChildElements() {
			s = deref(s)
			v, _ := strconv.Atoi(t(s, "Version"))
			en.Endpoints = append(en.Endpoints, EntityService{
				GUID: t(s, "Guid"), Name: t(s, "Name"), URI: t(s, "URI"), Status: t(s, "Status"), Type: t(s, "Type"), Version: v,
			})
		}
	}
	return en
}

// braces writes a GUID in braces, as messages carry it; other text is left alone.
func braces(g string) string {
	if g != "" && !strings.HasPrefix(g, "{") && ValidGUID("{"+g+"}") {
		return "{" + g + "}"
	}
	return g
}
