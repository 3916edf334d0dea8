package regix

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
)

// The answers of the entry point V2 (SOAP 1.1), as a server writes them: the simulator uses
// them, and tests of the client feed them to the parser.

// WritePending writes V2 ServiceResultData of a call in progress.
func WritePending(w http.ResponseWriter, method, id, code string) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<s:Envelope xmlns:s="%s"><s:Body><%sResponse xmlns="%s"><%sResult>`, SOAPNS, method, EntryPointNS, method)
	fmt.Fprintf(&b, `<IsReady>false</IsReady><HasError>false</HasError><ServiceCallID>%s</ServiceCallID><VerificationCode>`, id)
	xml.EscapeText(&b, []byte(code))
	fmt.Fprintf(&b, `</VerificationCode></%sResult></%sResponse></s:Body></s:Envelope>`, method, method)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b.Bytes())
}

// WriteResult writes ServiceResultData: with errText, HasError and no data.
func WriteResult(w http.ResponseWriter, method string, arg, doc []byte, errText string) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<s:Envelope xmlns:s="%s"><s:Body><%sResponse xmlns="%s"><%sResult>`, SOAPNS, method, EntryPointNS, method)
	fmt.Fprintf(&b, `<IsReady>true</IsReady>`)
	if errText == "" {
		fmt.Fprintf(&b, `<Data><Request>%s</Request><Response>%s</Response></Data>`, arg, doc)
		b.WriteString(`<HasError>false</HasError>`)
	} else {
		b.WriteString(`<HasError>true</HasError><Error>`)
		xml.EscapeText(&b, []byte(errText))
		b.WriteString(`</Error>`)
	}
	fmt.Fprintf(&b, `</%sResult></%sResponse></s:Body></s:Envelope>`, method, method)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b.Bytes())
}

// WriteFault writes a SOAP 1.1 fault with status 500, as the protocol requires.
func WriteFault(w http.ResponseWriter, code, text string) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<s:Envelope xmlns:s="%s"><s:Body><s:Fault><faultcode>%s</faultcode><faultstring>`, SOAPNS, code)
	xml.EscapeText(&b, []byte(text))
	b.WriteString(`</faultstring></s:Fault></s:Body></s:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write(b.Bytes())
}
