package esoed

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
	"golang.org/x/sync/singleflight"
)

// ErrRevoked is wrapped by the refusal of a revoked certificate.
var ErrRevoked = errors.New("the certificate is revoked")

// ErrRevocationUnknown is wrapped when neither the CRL nor the OCSP responder of a certificate
// answered and the policy requires an answer.
var ErrRevocationUnknown = errors.New("the certificate's revocation status is unknown")

// RevocationMode is the policy for a certificate whose revocation status cannot be learnt
// (no distribution point and no responder, or none of them answers).
type RevocationMode string

const (
	// RevocationRequire refuses such a certificate: the specification makes the check
	// mandatory ("Задължителна е проверка на сертификата за наличие в списъците с отменени
	// сертификати на издателя"), so a certificate that cannot be checked is not accepted.
	RevocationRequire RevocationMode = "require"
	// RevocationPrefer checks where it can and accepts a certificate that cannot be checked.
	// A certificate found revoked is refused all the same.
	RevocationPrefer RevocationMode = "prefer"
	// RevocationOff does not check revocation at all.
	RevocationOff RevocationMode = "off"
)

// keyCompromise and cACompromise (RFC 5280 CRLReason): a certificate revoked for them is
// refused whatever the time judged, because the date a message claims may have been written by
// whoever holds the key.
const (
	reasonKeyCompromise = 1
	reasonCACompromise  = 2
)

// Revocation checks whether certificates are revoked: with the OCSP responder the certificate
// names (authority information access), else the CRL at its distribution points (HTTP only).
// Answers are cached until they expire (the CRL's nextUpdate, the OCSP response's nextUpdate),
// at most MaxAge and for at most MaxEntries certificates and lists; a source that did not
// answer is not asked again for a minute. A CRL must be signed by the certificate's issuer and
// current; an OCSP response must be signed by the issuer or by a responder it delegated to.
type Revocation struct {
	Mode RevocationMode
	// Client fetches CRLs and asks responders; nil: a client with a 10 s timeout.
	Client *http.Client
	// MaxAge bounds how long an answer is kept, whatever its nextUpdate: 0 is 24 h.
	MaxAge time.Duration
	// MaxEntries bounds the cache: 0 is 10,000.
	MaxEntries int
	// MaxCRLSize bounds a CRL fetched: 0 is 20 MiB.
	MaxCRLSize int64
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	// One fetch per URL or certificate at a time: requests that need the same answer wait
	// for it rather than each asking the server.
	flight singleflight.Group

	mu    sync.Mutex
	crls  map[string]*crlEntry  // by URL
	ocsps map[string]*ocspEntry // by responder URL, issuer key and serial
}

type crlEntry struct {
	list     *x509.RevocationList
	bySerial map[string]*x509.RevocationListEntry // the entries by serial number's bytes
	err      error                                // the source did not answer; retried after expires
	expires  time.Time
}

type ocspEntry struct {
	resp    *ocsp.Response
	err     error
	expires time.Time
}

// failureTTL is how long a source that did not answer is left alone.
const failureTTL = time.Minute

// Check checks cert, issued by issuer, at time at: revoked at or before at (or ever, for a
// compromised key) is [ErrRevoked]; no answer is [ErrRevocationUnknown] under
// [RevocationRequire], accepted otherwise.
func (r *Revocation) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) error {
	if r == nil || r.Mode == RevocationOff {
		return nil
	}
	var tried []string
	for _, u := range cert.OCSPServer {
		if !httpURL(u) {
			continue
		}
		resp, err := r.ocsp(ctx, u, cert, issuer)
		if err != nil {
			tried = append(tried, "OCSP "+u+": "+err.Error())
			continue
		}
		switch resp.Status {
		case ocsp.Good:
			return nil
		case ocsp.Revoked:
			if revokedBy(resp.RevokedAt, resp.RevocationReason, at) {
				return revoked(cert, "OCSP "+u, resp.RevokedAt, resp.RevocationReason)
			}
			return nil
		}
		tried = append(tried, "OCSP "+u+": the responder does not know the certificate")
	}
	for _, u := range cert.CRLDistributionPoints {
		if !httpURL(u) {
			continue
		}
		list, err := r.crl(ctx, u, issuer)
		if err != nil {
			tried = append(tried, "CRL "+u+": "+err.Error())
			continue
		}
		if e, ok := list.bySerial[string(cert.SerialNumber.Bytes())]; ok && revokedBy(e.RevocationTime, e.ReasonCode, at) {
			return revoked(cert, "CRL "+u, e.RevocationTime, e.ReasonCode)
		}
		return nil
	}
	if r.Mode != RevocationRequire {
		return nil
	}
	if len(tried) == 0 {
		tried = append(tried, "the certificate names no CRL distribution point and no OCSP responder over HTTP")
	}
	return fmt.Errorf("%w: %s (serial %s): %s", ErrRevocationUnknown, cert.Subject, cert.SerialNumber.Text(16), strings.Join(tried, "; "))
}

func revokedBy(when time.Time, reason int, at time.Time) bool {
	return reason == reasonKeyCompromise || reason == reasonCACompromise || !when.After(at)
}

func revoked(cert *x509.Certificate, source string, when time.Time, reason int) error {
	return fmt.Errorf("%w: %s (serial %s) since %s, reason %d, per %s", ErrRevoked, cert.Subject, cert.SerialNumber.Text(16),
		when.UTC().Format(time.RFC3339), reason, source)
}

func httpURL(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

func (r *Revocation) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Revocation) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// expiry is when an answer valid until next stops being used.
func (r *Revocation) expiry(now, next time.Time, fallback time.Duration) time.Time {
	maxAge := r.MaxAge
	if maxAge <= 0 {
		maxAge = 24 * time.Hour
	}
	if next.IsZero() {
		next = now.Add(fallback)
	}
	if limit := now.Add(maxAge); next.After(limit) {
		return limit
	}
	return next
}

// room makes room in the cache for one more entry: a bound, not a policy.
func (r *Revocation) room() {
	n := r.MaxEntries
	if n <= 0 {
		n = 10_000
	}
	if len(r.crls)+len(r.ocsps) >= n {
		clear(r.crls)
		clear(r.ocsps)
	}
}

// crl returns the current CRL at u, signed by issuer.
func (r *Revocation) crl(ctx context.Context, u string, issuer *x509.Certificate) (*crlEntry, error) {
	now := r.now()
	r.mu.Lock()
	e, ok := r.crls[u]
	r.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		v, _, _ := r.flight.Do("crl|"+u, func() (any, error) {
			e := &crlEntry{}
			// Not the caller's context: the answer is shared and cached, and one caller going
			// away must not make it a failure for everyone. The client's timeout bounds it.
			e.list, e.err = r.fetchCRL(context.WithoutCancel(ctx), u)
			if e.err == nil && !now.Before(e.list.NextUpdate) && !e.list.NextUpdate.IsZero() {
				e.err = fmt.Errorf("the list is out of date (next update was due %s)", e.list.NextUpdate.UTC().Format(time.RFC3339))
			}
			if e.err != nil {
				e.list, e.expires = nil, now.Add(failureTTL)
			} else {
				e.expires = r.expiry(now, e.list.NextUpdate, time.Hour)
				e.bySerial = make(map[string]*x509.RevocationListEntry, len(e.list.RevokedCertificateEntries))
				for i := range e.list.RevokedCertificateEntries {
					re := &e.list.RevokedCertificateEntries[i]
					e.bySerial[string(re.SerialNumber.Bytes())] = re
				}
			}
			r.mu.Lock()
			if r.crls == nil {
				r.crls = map[string]*crlEntry{}
			}
			r.room()
			r.crls[u] = e
			r.mu.Unlock()
			return e, nil
		})
		e = v.(*crlEntry)
	}
	if e.err != nil {
		return nil, e.err
	}
	// The signature is checked on every use: one URL may be named by certificates of
	// different issuers, and only the issuer's own list speaks for its certificates.
	if !bytes.Equal(e.list.RawIssuer, issuer.RawSubject) {
		return nil, fmt.Errorf("the list is issued by another authority than the certificate")
	}
	if err := e.list.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("the list's signature is not the issuer's: %w", err)
	}
	return e, nil
}

func (r *Revocation) fetchCRL(ctx context.Context, u string) (*x509.RevocationList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	body, err := r.do(req)
	if err != nil {
		return nil, err
	}
	list, err := x509.ParseRevocationList(body)
	if err != nil {
		return nil, fmt.Errorf("not a CRL: %w", err)
	}
	return list, nil
}

// do sends req and reads at most MaxCRLSize bytes of a 200 answer.
func (r *Revocation) do(req *http.Request) ([]byte, error) {
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	limit := r.MaxCRLSize
	if limit <= 0 {
		limit = 20 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("the answer is larger than %d bytes", limit)
	}
	return body, nil
}

// ocsp returns the responder's current answer about cert.
func (r *Revocation) ocsp(ctx context.Context, u string, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	h := sha1.Sum(issuer.RawSubjectPublicKeyInfo)
	key := u + "|" + string(h[:]) + "|" + cert.SerialNumber.Text(16)
	now := r.now()
	r.mu.Lock()
	e, ok := r.ocsps[key]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.resp, e.err
	}
	v, _, _ := r.flight.Do("ocsp|"+key, func() (any, error) {
		e := &ocspEntry{}
		e.resp, e.err = r.askOCSP(context.WithoutCancel(ctx), u, cert, issuer, now)
		if e.err != nil {
			e.expires = now.Add(failureTTL)
		} else {
			e.expires = r.expiry(now, e.resp.NextUpdate, 5*time.Minute)
		}
		r.mu.Lock()
		if r.ocsps == nil {
			r.ocsps = map[string]*ocspEntry{}
		}
		r.room()
		r.ocsps[key] = e
		r.mu.Unlock()
		return e, nil
	})
	e = v.(*ocspEntry)
	return e.resp, e.err
}

func (r *Revocation) askOCSP(ctx context.Context, u string, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, error) {
	q, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(q))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	body, err := r.do(req)
	if err != nil {
		return nil, err
	}
	resp, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("the answer is not a valid OCSP response from the issuer: %w", err)
	}
	// A delegated responder (RFC 6960 §4.2.2.2) must be certified for OCSP signing; the
	// library checks that the issuer signed its certificate, not what for.
	if c := resp.Certificate; c != nil && !c.Equal(issuer) {
		ok := false
		for _, ku := range c.ExtKeyUsage {
			ok = ok || ku == x509.ExtKeyUsageOCSPSigning
		}
		if !ok {
			return nil, errors.New("the responder's certificate is not for OCSP signing")
		}
	}
	if !resp.NextUpdate.IsZero() && !now.Before(resp.NextUpdate) {
		return nil, fmt.Errorf("the answer is out of date (next update was due %s)", resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	if resp.ThisUpdate.After(now.Add(5 * time.Minute)) {
		return nil, errors.New("the answer is dated in the future")
	}
	return resp, nil
}
