package esoed

import (
	"io"
	"time"
)

// SegmentNamespace is the namespace of the РИО segment 0009-000001 (DocumentURI), whose children
// RegisterIndex, SequenceNumber and ReceiptOrSigningDate are qualified with it.
const SegmentNamespace = "http://ereg.egov.bg/segment/0009-000001"

// DefaultVersion is written in Header/Version when a message leaves it empty: the value the
// network uses (the specification says "1", the ССЕВ node and the samples write "1.0").
const DefaultVersion = "1.0"

// Document statuses (DocumentStatusType of EGovMessaging.xsd, DocRegStatus).
const (
	StatusWaitRegistration = "DS_WAIT_REGISTRATION" // the document awaits registration
	StatusRegistered       = "DS_REGISTERED"        // the document is registered
	StatusStopped          = "DS_STOPPED"           // work on the document was stopped
	StatusClosed           = "DS_CLOSED"            // work on the document is finished
	StatusNotFound         = "DS_NOT_FOUND"         // the document was not found
	StatusAlreadyReceived  = "DS_ALREADY_RECEIVED"  // the document was already received
	StatusRejected         = "DS_REJECTED"          // registration of the document was refused
)

// Error kinds (ErrorKindType, Error/ErrorType).
const (
	ErrorInternal = "ERR_INTERNAL" // internal error of the participant (for example its database is down)
	ErrorExternal = "ERR_EXTERNAL" // error in the message received (for example a wrong format)
)

// Correspondent kinds (CorrespondentKindType, CorKind).
const (
	CorrApplicant = "Corr_Applicant" // the applicant of an electronic service
	CorrOther     = "Corr_Other"     // any other correspondent
)

// Message is a whole ЕСОЕД message: the Header and exactly one body. The Signature of the
// message is not part of the model: [Write] adds one with a [Signer], [VerifySignature] checks
// the one a received message carries.
//
// Optional elements are plain Go values; an empty string, a zero time or a nil pointer is
// written as an absent element, and an empty optional element read from the wire becomes the
// zero value (the schema gives the two no different meaning).
type Message struct {
	// Header.MessageType is derived from the body when writing; when reading it is what the
	// wire said (and [ParseMessage] fails when it does not match the body).
	Header Header
	Body   Body
}

// Body holds exactly one of the four message kinds.
type Body struct {
	RegistrationRequest *RegistrationRequest // MSG_DocumentRegistrationRequest
	StatusRequest       *StatusRequest       // MSG_DocumentStatusRequest
	StatusResponse      *StatusResponse      // MSG_DocumentStatusResponse
	Error               *ErrorNotice         // MSG_Error
}

// Type returns the MessageType that belongs to the body, or "" when not exactly one kind is set.
func (b Body) Type() string {
	t, n := "", 0
	if b.RegistrationRequest != nil {
		t, n = TypeRegistrationRequest, n+1
	}
	if b.StatusRequest != nil {
		t, n = TypeStatusRequest, n+1
	}
	if b.StatusResponse != nil {
		t, n = TypeStatusResponse, n+1
	}
	if b.Error != nil {
		t, n = TypeError, n+1
	}
	if n != 1 {
		return ""
	}
	return t
}

// DocID is a DocumentIdentificationType: the number or the УРИ of a document (optional, at most
// one) and the GUID the sender and the recipient share.
type DocID struct {
	Number *DocNumber // DocumentNumber
	URI    *DocURI    // DocumentURI
	GUID   string     // DocumentGUID, in braces
}

// DocNumber is a registration number and its date (DocumentNumberType).
type DocNumber struct {
	Number string    // DocNumber
	Date   time.Time // DocDate (xsd:date)
}

// DocURI is a unique register index (РИО segment 0009-000001); each part is optional, a zero
// value is absent.
type DocURI struct {
	RegisterIndex        int64     // ≥ 1
	SequenceNumber       int64     // ≥ 1
	ReceiptOrSigningDate time.Time // xsd:date
}

// RegistrationRequest asks the recipient to register a document (DocumentRegistrationRequestType).
type RegistrationRequest struct {
	Document Document
	Comment  string // required by the schema; may be empty
}

// Document is a DocumentType.
type Document struct {
	ID             DocID
	ParentID       *DocID // the initiating document of the dossier
	Kind           string // required: Молба, Жалба, Заявление …
	Correspondents []Correspondent
	Attachments    []Attachment
	About          string
	Service        *Service
	Comment        string
	// AddData is the content of DocAddData (any XML), in canonical form; see [RawXML].
	AddData      RawXML
	ReqDateClose time.Time // DocReqDateClose (xsd:date)
	AttentionTo  string
	// Signature is a signature of the document itself (Document/ds:Signature), kept as read.
	Signature RawXML
}

// Correspondent is a CorrespondentType.
type Correspondent struct {
	Name, City                           string // required
	Address, EGN, IDCard, BULSTAT        string
	Email, Phone, MobilePhone, MOL, Note string // Note is CorComment
	Kind                                 string // CorrApplicant, CorrOther or ""
}

// Attachment is an attached file (AttachmentFileType).
type Attachment struct {
	FileName string // required
	MIMEType string // required
	Comment  string
	// Content is the file's content. [Write] reads it once, to its end, encoding it to base64
	// as it writes; it never holds the whole text. [ParseMessage] sets it to a reader over the
	// decoded bytes.
	Content io.Reader
}

// Service describes the administrative service a document applies for (ServiceItemType).
type Service struct {
	Name string // ServiceName
	Type string // ServiceType: Нормална, Бърза, Експресна
	Code string // ServiceCode
}

// StatusRequest asks for the status of a document sent earlier (DocumentStatusRequestType).
type StatusRequest struct {
	DocID DocID
}

// StatusResponse tells the status of a document (DocumentStatusResponseType).
type StatusResponse struct {
	DocID           DocID
	Status          string // one of the Status constants
	RejectionReason string
	ExpectCloseDate time.Time // DocExpectCloseDate (xsd:date)
	AddData         RawXML
}

// ErrorNotice reports an error in processing a message (ErrorMessageType).
type ErrorNotice struct {
	MessageGUID string // of the message that caused the error; optional
	Type        string // ErrorInternal or ErrorExternal
	Description string
}

// RawXML is XML content kept verbatim between reading and writing (the content of DocAddData,
// a document's own Signature): elements and text, in the canonical form of XML 1.0 c14n
// relative to a parent in the messaging namespace, so that it can be hashed as written. Write
// accepts any well-formed content and canonicalizes it.
type RawXML []byte
