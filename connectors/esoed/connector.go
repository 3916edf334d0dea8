package esoedconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/esoed/docflow"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "esoed",
		Doc: "Exchanges documents with other administrations through ЕСОЕД (СЕОС, specification v1.1). " +
			"As a source it is the participant endpoint (SOAP 1.1 Submit over HTTPS with client certificates, " +
			"on its own listener): it runs the receiving checks П.1–П.9, hands registration requests, status " +
			"responses and error notices to the routes once stored, answers status requests from its status " +
			"table (ПС.1–ПС.7), and answers with a signed message, an empty result or a SOAP fault as the " +
			"specification prescribes. Every certificate, of a connection or of a signature, must chain to the " +
			"authorities in ca, be valid (a signature's at the message's date) and not be revoked (OCSP, CRL; " +
			"revocation.mode decides when neither answers). As a sink it signs an ЕСОЕД message (the payload) " +
			"when it is not signed, dated the time of signing, submits it to the recipient's endpoint from the participants registry with the sending " +
			"checks И.1–И.15, records the document and its status, and retries only exceptions. Every " +
			"message received, refused, sent or failed is journaled (esoed.received, esoed.refused, " +
			"esoed.sent, esoed.send_failed).",
		Config:    &Config{},
		NewSource: func(cfg any, env connectors.Env) (connectors.Source, error) { return newSource(cfg, env) },
		NewSink:   func(cfg any, env connectors.Env) (connectors.Sink, error) { return newSink(cfg, env) },
	})
}

// Metadata names the connector sets on the messages it hands to the routes, besides the
// envelope's type, subject and datacontenttype.
const (
	MetaSender         = "esoed_sender"          // ЕИК/БУЛСТАТ of the sender
	MetaSenderGUID     = "esoed_sender_guid"     // GUID of the sender in the registry
	MetaRecipient      = "esoed_recipient"       // ЕИК/БУЛСТАТ of the recipient
	MetaRecipientGUID  = "esoed_recipient_guid"  // GUID of the recipient in the registry
	MetaMessageGUID    = "esoed_message_guid"    // Header/MessageGUID
	MetaDocumentGUID   = "esoed_document_guid"   // the document's DocumentGUID
	MetaDocumentNumber = "esoed_document_number" // the document's number at the sender, when given
)

// TypePrefix starts the envelope type of received messages: "esoed." and the body's element,
// for example esoed.DocumentRegistrationRequest.
const TypePrefix = "esoed."

// node is what the source and the sink of one connector share: the administration's
// certificates, the registry and the status table.
type node struct {
	name   string
	cfg    Config
	pair   tls.Certificate
	signer *esoed.Signer
	roots  *x509.CertPool // the anchors, for the registry's server certificate
	trust  *esoed.Trust
	reg    esoed.Registry
	self   []esoed.Participant
	table  *docflow.Table
	jrnl   store.Journal
	log    *slog.Logger
	now    func() time.Time
}

func newNode(kind string, cfg any, env connectors.Env) (*node, error) {
	c, err := spec.Options[Config](cfg)
	if err != nil {
		return nil, fmt.Errorf("esoed %s %s: %w", kind, env.Name, err)
	}
	if env.State == nil || env.Journal == nil {
		return nil, fmt.Errorf("esoed %s %s: the hub offers no store for the journal and the status table", kind, env.Name)
	}
	path := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(env.BaseDir, p)
	}
	n := &node{name: env.Name, cfg: c, self: c.participants(), jrnl: env.Journal, now: time.Now}
	n.log = slog.New(slog.DiscardHandler)
	if env.Logger != nil {
		n.log = env.Logger.With("connector", env.Name)
	}
	n.pair, err = tls.LoadX509KeyPair(path(c.Cert), path(c.Key))
	if err != nil {
		return nil, fmt.Errorf("esoed %s %s: cert, key: %w", kind, env.Name, err)
	}
	if c.SigningCert != "" {
		n.signer, err = esoed.LoadSigner(path(c.SigningCert), path(c.SigningKey))
	} else {
		n.signer, err = esoed.SignerFromTLS(n.pair)
	}
	if err != nil {
		return nil, fmt.Errorf("esoed %s %s: %w", kind, env.Name, err)
	}
	anchors, err := esoed.ReadCertificates(path(c.CA))
	if err != nil {
		return nil, fmt.Errorf("esoed %s %s: ca: %w", kind, env.Name, err)
	}
	var inters []*x509.Certificate
	if c.Intermediates != "" {
		if inters, err = esoed.ReadCertificates(path(c.Intermediates)); err != nil {
			return nil, fmt.Errorf("esoed %s %s: intermediates: %w", kind, env.Name, err)
		}
	}
	n.roots = x509.NewCertPool()
	for _, a := range anchors {
		n.roots.AddCert(a)
	}
	rev := &esoed.Revocation{Mode: esoed.RevocationMode(c.Revocation.Mode), MaxAge: c.Revocation.MaxAge.D(),
		Client: &http.Client{Timeout: c.Revocation.Timeout.D(), Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}},
		Now:    func() time.Time { return n.now() }}
	if n.trust, err = esoed.NewTrust(anchors, inters, rev); err != nil {
		return nil, fmt.Errorf("esoed %s %s: ca: %w", kind, env.Name, err)
	}
	if c.RegistryFile != "" {
		n.reg, err = esoed.LoadRegistryFile(path(c.RegistryFile))
		if err != nil {
			return nil, fmt.Errorf("esoed %s %s: registry_file: %w", kind, env.Name, err)
		}
	} else {
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			Certificates: []tls.Certificate{n.pair}, RootCAs: n.roots, MinVersion: tls.VersionTLS12,
			// The registry's certificate is a transport certificate too: not revoked (the
			// chain and the host name are checked by the handshake itself).
			VerifyConnection: func(cs tls.ConnectionState) error {
				ctx, cancel := context.WithTimeout(context.Background(), 2*c.Revocation.Timeout.D())
				defer cancel()
				return n.checkPeer(ctx, cs.PeerCertificates, x509.ExtKeyUsageServerAuth)
			},
		}}}
		n.reg = esoed.NewCachedRegistry(&esoed.SOAPRegistry{URL: c.RegistryURL, Client: client}, c.RegistryCache.D(), nil)
	}
	n.table = docflow.NewTable(env.State)
	return n, nil
}

// checkPeer checks a certificate chain the other side of a connection presented, as the
// specification requires of transport certificates: issued by a configured authority for the
// use given, within its validity period, not revoked. Whose certificate it is, the checks
// decide (П.6, И.7).
func (n *node) checkPeer(ctx context.Context, chain []*x509.Certificate, usage x509.ExtKeyUsage) error {
	_, err := n.trust.Verify(ctx, chain, n.now(), usage)
	return err
}

// sendChecks and receiveChecks are the library's checks with this connector's registry,
// trust and clock.
func (n *node) sendChecks(seen func(string) bool) *esoed.SendChecks {
	return &esoed.SendChecks{Registry: n.reg, Trust: n.trust, Now: n.now, Seen: seen}
}

func (n *node) receiveChecks(seen func(string) bool) *esoed.ReceiveChecks {
	return &esoed.ReceiveChecks{Self: n.self, Registry: n.reg, Trust: n.trust, Now: n.now, Seen: seen}
}

// journal records an act; a journal that cannot be written is logged, never hidden.
func (n *node) journal(ctx context.Context, e store.JournalEntry) {
	if _, err := n.jrnl.AppendJournal(context.WithoutCancel(ctx), e); err != nil {
		n.log.Error("journal entry not written", "kind", e.Kind, "subject", e.Subject, "result", e.Result, "error", err)
	}
}

// isSelf reports whether p is one of the participants this connector acts for.
func (n *node) isSelf(p esoed.Participant) *esoed.Participant {
	for i := range n.self {
		if docflow.SameParticipant(n.self[i], p) {
			return &n.self[i]
		}
	}
	return nil
}
