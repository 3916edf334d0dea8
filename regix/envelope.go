package regix

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Namespaces and actions of the RegiX entry point (v2), as its request
// template uses them: a SOAP 1.1 envelope whose body holds the method element
// in the RegiX namespace and ServiceRequestData in the SignedData namespace.
const (
	// SOAPNS is the namespace of SOAP 1.1 envelopes.
	SOAPNS = "http://schemas.xmlsoap.org/soap/envelope/"
	// soap12NS is the namespace of SOAP 1.2 envelopes, accepted in answers.
	soap12NS = "http://www.w3.org/2003/05/soap-envelope"
	// EntryPointNS is the namespace of the entry point's methods.
	EntryPointNS = "http://egov.bg/RegiX"
	// SignedDataNS is the namespace of ServiceRequestData and its parts.
	SignedDataNS = "http://egov.bg/RegiX/SignedData"
	// ActionPrefix prefixes the method name in the SOAPAction header.
	ActionPrefix = "http://egov.bg/RegiX/IRegiXEntryPointV2/"
)

// ErrNoLawReason refuses a call without a legal basis: RegiX may be asked
// only on a stated legal basis, so such a request never leaves the hub.
var ErrNoLawReason = errors.New("regix: a legal basis (CallContext.LawReason) is required")

// CallContext says who asks a register, in which case and on which legal
// basis; RegiX keeps it in its logs.
type CallContext struct {
	// ServiceURI identifies the case, e.g. the dossier number.
	ServiceURI string
	// ServiceType is the kind of service or check the call is made for.
	ServiceType string
	// EmployeeIdentifier identifies the employee (e-mail or user name).
	EmployeeIdentifier string
	// EmployeeNames are the employee's names.
	EmployeeNames string
	// EmployeeAditionalIdentifier is a further identifier of the employee
	// (spelled as RegiX spells it).
	EmployeeAditionalIdentifier string
	// EmployeePosition is the employee's position.
	EmployeePosition string
	// AdministrationOId is the administration's OID.
	AdministrationOId string
	// AdministrationName is the administration's name.
	AdministrationName string
	// ResponsiblePersonIdentifier names the person responsible for calls
	// made by a system rather than an employee.
	ResponsiblePersonIdentifier string
	// LawReason is the legal basis of the call; required.
	LawReason string
	// Remark is free text.
	Remark string
}

// RequestData is ServiceRequestData without the operation and argument,
// which the envelope builder takes from the operation and its request.
type RequestData struct {
	// CallContext is the context of the call.
	CallContext CallContext
	// EIDToken is the e-authentication token, when the call goes through it.
	EIDToken string
	// EmployeeEGN is the employee's ЕГН, passed to the register only.
	EmployeeEGN string
	// CitizenEGN is the ЕГН of the person the call is about, passed to the register only.
	CitizenEGN string
	// SignResult asks RegiX to sign the result.
	SignResult bool
	// ReturnAccessMatrix asks for the access matrix applied to the result.
	ReturnAccessMatrix bool
}

// BuildEnvelope builds the SOAP envelope of ExecuteSynchronous for the
// operation named operation (its full name) with the request document
// argument embedded in Argument. A call without LawReason is refused.
func BuildEnvelope(operation string, argument []byte, rd RequestData) ([]byte, error) {
	return buildEnvelope("ExecuteSynchronous", operation, argument, rd)
}

func buildEnvelope(method, operation string, argument []byte, rd RequestData) ([]byte, error) {
	if err := rd.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<soapenv:Envelope xmlns:soapenv="%s" xmlns:reg="%s" xmlns:tem="%s">`, SOAPNS, EntryPointNS, SignedDataNS)
	b.WriteString(`<soapenv:Header/><soapenv:Body>`)
	fmt.Fprintf(&b, `<reg:%s><reg:request><tem:ServiceRequestData>`, method)
	writeRequestData(&b, operation, argument, rd)
	fmt.Fprintf(&b, `</tem:ServiceRequestData></reg:request></reg:%s></soapenv:Body></soapenv:Envelope>`, method)
	return b.Bytes(), nil
}

// writeRequestData writes the elements of ServiceRequestData, in the order
// both entry points' schemas give them, each with the prefix tem (bound by
// the caller to the namespace of its entry point). CallbackURL, which only
// the V1 schema has, is never sent: the hub polls.
func writeRequestData(b *bytes.Buffer, operation string, argument []byte, rd RequestData) {
	cc := rd.CallContext
	elem(b, "Operation", operation, true)
	b.WriteString(`<tem:Argument>`)
	b.Write(DocumentBody(argument))
	b.WriteString(`</tem:Argument>`)
	elem(b, "EIDToken", rd.EIDToken, false)
	b.WriteString(`<tem:CallContext>`)
	elem(b, "ServiceURI", cc.ServiceURI, true)
	elem(b, "ServiceType", cc.ServiceType, true)
	elem(b, "EmployeeIdentifier", cc.EmployeeIdentifier, false)
	elem(b, "EmployeeNames", cc.EmployeeNames, false)
	elem(b, "EmployeeAditionalIdentifier", cc.EmployeeAditionalIdentifier, false)
	elem(b, "EmployeePosition", cc.EmployeePosition, false)
	elem(b, "AdministrationOId", cc.AdministrationOId, false)
	elem(b, "AdministrationName", cc.AdministrationName, false)
	elem(b, "ResponsiblePersonIdentifier", cc.ResponsiblePersonIdentifier, false)
	elem(b, "LawReason", cc.LawReason, true)
	elem(b, "Remark", cc.Remark, false)
	b.WriteString(`</tem:CallContext>`)
	elem(b, "EmployeeEGN", rd.EmployeeEGN, false)
	elem(b, "CitizenEGN", rd.CitizenEGN, false)
	elem(b, "SignResult", strconv.FormatBool(rd.SignResult), true)
	elem(b, "ReturnAccessMatrix", strconv.FormatBool(rd.ReturnAccessMatrix), true)
}

// check refuses request data without the call context's required parts.
func (rd RequestData) check() error {
	cc := rd.CallContext
	if strings.TrimSpace(cc.LawReason) == "" {
		return ErrNoLawReason
	}
	if cc.ServiceURI == "" || cc.ServiceType == "" {
		return errors.New("regix: CallContext.ServiceURI and CallContext.ServiceType are required")
	}
	return nil
}

// elem writes a SignedData element; an empty optional one is left out.
func elem(b *bytes.Buffer, name, value string, required bool) {
	if value == "" && !required {
		return
	}
	fmt.Fprintf(b, "<tem:%s>", name)
	xml.EscapeText(b, []byte(value))
	fmt.Fprintf(b, "</tem:%s>", name)
}

// DocumentBody strips the byte order mark and the XML declaration of a
// document so that it can be embedded in another.
func DocumentBody(doc []byte) []byte {
	doc = bytes.TrimSpace(trimBOM(doc))
	if bytes.HasPrefix(doc, []byte("<?xml")) {
		if i := bytes.Index(doc, []byte("?>")); i >= 0 {
			doc = bytes.TrimSpace(doc[i+2:])
		}
	}
	return doc
}
