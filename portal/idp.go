package portal

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aiskao/aiskao/eauth"
)

// EAuthFromFile returns Config.EAuth for cfg with the identity provider's certificate read from
// the PEM file certFile, whenever it has changed, and not before it is there: a portal may start
// before the identity provider (the demo's `aiskao eauth sim` writes its certificate when it
// starts), and sign-in works from the moment the file can be read. While it cannot, the
// function returns why, and sign-in is refused with a page saying so.
func EAuthFromFile(cfg eauth.Config, certFile string) func() (*eauth.SP, error) {
	l := &idpFile{cfg: cfg, file: certFile}
	return l.sp
}

type idpFile struct {
	cfg  eauth.Config
	file string

	mu   sync.Mutex
	cur  *eauth.SP
	mod  time.Time
	size int64
}

func (l *idpFile) sp() (*eauth.SP, error) {
	st, err := os.Stat(l.file)
	if err != nil {
		return nil, fmt.Errorf("portal: the identity provider's certificate: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil && st.ModTime().Equal(l.mod) && st.Size() == l.size {
		return l.cur, nil
	}
	b, err := os.ReadFile(l.file)
	if err != nil {
		return nil, fmt.Errorf("portal: the identity provider's certificate: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("portal: %s holds no PEM certificate", l.file)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("portal: %s: %w", l.file, err)
	}
	cfg := l.cfg
	cfg.IdPCertificate = cert
	sp, err := eauth.New(cfg)
	if err != nil {
		return nil, err
	}
	l.cur, l.mod, l.size = sp, st.ModTime(), st.Size()
	return sp, nil
}
