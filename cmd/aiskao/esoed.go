package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/internal/xsd"
)

const esoedUsage = "Usage: aiskao esoed check [-ca FILE] [-intermediates FILE] [-revocation MODE] [-unsigned-ok] [-untrusted-ok] FILE\n       aiskao esoed peer [-config FILE] [-data DIR] [serve options]"

// Defaults of `aiskao esoed peer`: the second administration of the demo, with a data folder of
// its own.
const (
	peerConfig = "configs/esoed-peer.yaml"
	peerData   = "data/peer"
)

func runESOED(args []string, stdout, stderr io.Writer) error {
	return runSub("esoed", esoedUsage, map[string]func([]string, io.Writer, io.Writer) error{
		"check": runESOEDCheck, "peer": runESOEDPeer,
	}, args, stdout, stderr)
}

// runESOEDPeer runs a second administration of the exchange beside the hub: the hub itself,
// serving the peer's configuration (its own key, certificate, registry entry, endpoint and
// routes that answer with status changes) from a data folder of its own. The options are
// serve's; later ones override the peer's defaults.
func runESOEDPeer(args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintf(stderr, "Usage: aiskao esoed peer [-config FILE] [-data DIR] [serve options]\n"+
				"Runs a second ЕСОЕД administration (default %s, data in %s) with the options of\n"+
				"'aiskao serve'; see 'aiskao serve -h'.\n", peerConfig, peerData)
			return nil
		}
	}
	return runServe(append([]string{"-config", peerConfig, "-data", peerData}, args...), stdout, stderr)
}

// runESOEDCheck shows what an ЕСОЕД message is and whether it is valid: against the bundled
// schema, against its own signature, and whether the signer's certificate chains to the -ca
// certificates at the message's date and is not revoked. An unsigned message and an untrusted
// signer are invalid, as the specification has them, unless -unsigned-ok or -untrusted-ok.
func runESOEDCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("esoed check", "FILE [options]", stderr)
	var caFiles []string
	fs.Func("ca", "PEM file of trust anchors: the authorities that issue transport certificates (repeatable). Without it no signer is trusted", func(v string) error {
		caFiles = append(caFiles, v)
		return nil
	})
	interFile := fs.String("intermediates", "", "PEM file of intermediate authorities, for signatures that do not carry them")
	revocation := fs.String("revocation", string(esoed.RevocationRequire), "when the signer's revocation status cannot be learnt (CRL, OCSP): require (invalid), prefer (accept) or off (do not check)")
	unsignedOK := fs.Bool("unsigned-ok", false, "accept a message without a signature (the specification requires one on every exchanged message)")
	untrustedOK := fs.Bool("untrusted-ok", false, "accept an intact signature whose signer does not chain to the -ca certificates")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	mode := esoed.RevocationMode(*revocation)
	if mode != esoed.RevocationRequire && mode != esoed.RevocationPrefer && mode != esoed.RevocationOff {
		return fmt.Errorf("-revocation: %q is not one of require, prefer, off", *revocation)
	}
	var trust *esoed.Trust
	if len(caFiles) > 0 {
		var anchors, inters []*x509.Certificate
		for _, f := range caFiles {
			cs, err := esoed.ReadCertificates(f)
			if err != nil {
				return fmt.Errorf("-ca: %w", err)
			}
			anchors = append(anchors, cs...)
		}
		if *interFile != "" {
			cs, err := esoed.ReadCertificates(*interFile)
			if err != nil {
				return fmt.Errorf("-intermediates: %w", err)
			}
			inters = cs
		}
		var err error
		if trust, err = esoed.NewTrust(anchors, inters, &esoed.Revocation{Mode: mode}); err != nil {
			return err
		}
	}
	file := fs.Arg(0)
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	sum, err := esoed.ParseHeader(bytes.NewReader(raw))
	if sum == nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var reasons []string
	if err != nil {
		reasons = append(reasons, err.Error())
	}
	h := sum.Header
	fmt.Fprintf(stdout, "%s: %s\n", file, orNone(h.MessageType))
	fmt.Fprintf(stdout, "  sender: %s\n", participant(h.Sender))
	fmt.Fprintf(stdout, "  recipient: %s\n", participant(h.Recipient))
	fmt.Fprintf(stdout, "  message GUID: %s\n", orNone(h.MessageGUID))
	if !h.MessageDate.IsZero() {
		fmt.Fprintf(stdout, "  message date: %s\n", h.MessageDate.Format("2006-01-02 15:04:05 -07:00"))
	}
	if sum.DocNumber != "" || sum.DocGUID != "" {
		date := ""
		if !sum.DocDate.IsZero() {
			date = " of " + sum.DocDate.Format("2006-01-02")
		}
		fmt.Fprintf(stdout, "  document: %s%s, GUID %s\n", orNone(sum.DocNumber), date, orNone(sum.DocGUID))
	}
	if sum.DocKind != "" {
		fmt.Fprintf(stdout, "  document kind: %s\n", sum.DocKind)
	}

	schema, err := esoed.Schema()
	if err != nil {
		return err
	}
	if err := schema.Validate(bytes.NewReader(raw)); err != nil {
		var ve *xsd.ValidationError
		if !errors.As(err, &ve) {
			fmt.Fprintf(stdout, "  xsd: invalid: %v\n", err)
			reasons = append(reasons, err.Error())
		} else {
			fmt.Fprintf(stdout, "  xsd: invalid, %d problem(s)\n", len(ve.Problems))
			for _, p := range ve.Problems {
				fmt.Fprintf(stdout, "    line %d: %s: %s [%s]\n", p.Line, p.Path, p.Message, p.Rule)
			}
			reasons = append(reasons, fmt.Sprintf("not valid against EGovMessaging.xsd (%d problem(s))", len(ve.Problems)))
		}
	} else {
		fmt.Fprintln(stdout, "  xsd: valid")
	}

	reasons = append(reasons, checkSignature(stdout, raw, trust, *unsignedOK, *untrustedOK)...)

	if len(reasons) > 0 {
		fmt.Fprintf(stdout, "invalid: %s\n", strings.Join(reasons, "; "))
		return exitError(1)
	}
	fmt.Fprintln(stdout, "valid")
	return nil
}

// checkSignature prints the verdict on the message's signature and returns why it makes the
// message invalid, if it does.
func checkSignature(stdout io.Writer, raw []byte, trust *esoed.Trust, unsignedOK, untrustedOK bool) []string {
	signed, err := esoed.VerifySignatureIntegrity(raw)
	switch {
	case errors.Is(err, esoed.ErrNoSignature):
		if unsignedOK {
			fmt.Fprintln(stdout, "  signature: absent, accepted (-unsigned-ok); the specification requires one on every exchanged message")
			return nil
		}
		fmt.Fprintln(stdout, "  signature: absent: the specification requires every exchanged message to be signed with the sender's transport certificate (-unsigned-ok accepts it)")
		return []string{"the message is not signed"}
	case err != nil:
		fmt.Fprintf(stdout, "  signature: invalid: %v\n", err)
		return []string{err.Error()}
	}
	c := signed.Certificate
	fmt.Fprintf(stdout, "  signer: %s, serial %s, issued by %s, valid %s to %s\n", c.Subject, c.SerialNumber.Text(16), c.Issuer,
		c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"))
	var why string
	if trust == nil {
		why = "no -ca was given, so the signer's certificate cannot be checked: anyone can make a certificate with any name and serial number"
	} else if v, err := esoed.VerifySignature(context.Background(), raw, trust); err != nil {
		switch {
		case errors.Is(err, esoed.ErrRevoked):
			why = "the signer's certificate is revoked: " + err.Error()
		case errors.Is(err, esoed.ErrRevocationUnknown):
			why = "the signer's revocation status cannot be learnt (-revocation prefer accepts it): " + err.Error()
		default:
			why = "the signer's certificate does not chain to the -ca certificates at the message's date " + signed.At.Format("2006-01-02") + ": " + err.Error()
		}
	} else {
		fmt.Fprintf(stdout, "  signature: verified, signer trusted at the message's date %s (chain to %s)\n",
			v.At.Format("2006-01-02 15:04:05 -07:00"), v.Chain[len(v.Chain)-1].Subject)
		return nil
	}
	if untrustedOK {
		fmt.Fprintf(stdout, "  signature: intact, signer not trusted, accepted (-untrusted-ok): %s\n", why)
		return nil
	}
	fmt.Fprintf(stdout, "  signature: intact, but signer not trusted: %s (-ca FILE names the authorities to trust; -untrusted-ok accepts it)\n", why)
	return []string{"the signer is not trusted"}
}

func participant(p esoed.Participant) string {
	if p == (esoed.Participant{}) {
		return "(none)"
	}
	return fmt.Sprintf("%s %s %s", orNone(p.Identifier), p.AdministrativeBodyName, p.GUID)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
