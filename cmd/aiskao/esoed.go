package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/xsd"
)

const esoedUsage = "Usage: aiskao esoed check FILE\n       aiskao esoed peer [-config FILE] [-data DIR] [serve options]"

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
// schema and, when it is signed, against its own signature. An unsigned message is valid (the
// verdict says it is unsigned); the signer's trust is not judged here.
func runESOEDCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("esoed check", "FILE", stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
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

	cert, err := esoed.VerifySignature(raw)
	switch {
	case errors.Is(err, esoed.ErrNoSignature):
		fmt.Fprintln(stdout, "  signature: absent (the specification requires one on exchanged messages)")
	case err != nil:
		fmt.Fprintf(stdout, "  signature: invalid: %v\n", err)
		reasons = append(reasons, err.Error())
	default:
		fmt.Fprintf(stdout, "  signature: verified, signer %s (valid %s to %s; trust not checked)\n",
			cert.Subject, cert.NotBefore.Format("2006-01-02"), cert.NotAfter.Format("2006-01-02"))
	}

	if len(reasons) > 0 {
		fmt.Fprintf(stdout, "invalid: %s\n", strings.Join(reasons, "; "))
		return exitError(1)
	}
	fmt.Fprintln(stdout, "valid")
	return nil
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
