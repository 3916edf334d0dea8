package sftpconn

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/spec"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "sftp",
		Doc: "Takes files from a folder on an SFTP server, one message each, moving them to a done folder " +
			"(or deleting them) once stored; writes messages as files on an SFTP server, atomically. " +
			"The server's host key is checked against a known_hosts file.",
		Config:    &Config{},
		NewSource: connectors.SourceOf(newSource),
		NewSink:   connectors.SinkOf(newSink),
	})
}

// options returns the options given to a factory, with the defaults of their tags applied and
// validated.
func options(cfg any) (Config, error) { return spec.Options[Config](cfg) }

// setUp reads the options given to the factory of a source or sink (what) and makes its dialer
// and logger.
func setUp(cfg any, env connectors.Env, what string) (*dialer, *slog.Logger, error) {
	c, err := options(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("sftp %s %s: %w", what, env.Name, err)
	}
	log := env.Log()
	d, err := newDialer(c, env, log)
	if err != nil {
		return nil, nil, fmt.Errorf("sftp %s %s: %w", what, env.Name, err)
	}
	return d, log, nil
}

// dialer logs in to the server; it holds the secrets, read once when the connector is built.
type dialer struct {
	cfg      Config
	ssh      *ssh.ClientConfig
	hostAlgs bool // whether HostKeyAlgorithms was narrowed to the known keys
}

// newDialer reads the key, the password and the known hosts; relative files are in baseDir.
func newDialer(c Config, env connectors.Env, log *slog.Logger) (*dialer, error) {
	file := func(p string) string {
		if filepath.IsAbs(p) || env.BaseDir == "" {
			return p
		}
		return filepath.Join(env.BaseDir, p)
	}
	var auths []ssh.AuthMethod
	// A check (aiskao validate) reads no secrets: they are often readable by the service's
	// account only. The known_hosts file, public, is read and checked.
	if c.KeyFile != "" && !env.Check {
		pem, err := os.ReadFile(file(c.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("key_file: %w", err)
		}
		var signer ssh.Signer
		if c.Passphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(c.Passphrase))
		} else {
			signer, err = ssh.ParsePrivateKey(pem)
		}
		if err != nil {
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				return nil, fmt.Errorf("key_file %s is encrypted: set key_passphrase", c.KeyFile)
			}
			return nil, fmt.Errorf("key_file %s: %w", c.KeyFile, err)
		}
		auths = append(auths, ssh.PublicKeys(signer))
	}
	password := c.Password
	if c.PasswordFile != "" && !env.Check {
		b, err := os.ReadFile(file(c.PasswordFile))
		if err != nil {
			return nil, fmt.Errorf("password_file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
		if password == "" {
			return nil, fmt.Errorf("password_file %s is empty", c.PasswordFile)
		}
	}
	if password != "" {
		auths = append(auths, ssh.Password(password))
	}
	d := &dialer{cfg: c, ssh: &ssh.ClientConfig{User: c.User, Auth: auths, Timeout: c.Timeout.D()}}
	if c.InsecureIgnoreHostKey {
		if env.Check {
			return d, nil
		}
		log.Warn("insecure_ignore_host_key: the server's host key is not checked; anyone in the network path can pose as the server", "address", c.Address)
		d.ssh.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // asked for in the configuration, and logged
		return d, nil
	}
	cb, err := knownhosts.New(file(c.KnownHosts))
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	d.ssh.HostKeyCallback = cb
	d.ssh.HostKeyAlgorithms = knownAlgorithms(cb, c.Address)
	return d, nil
}

// knownAlgorithms lists the types of the keys known for addr, so that the server is asked for a
// key that can be checked rather than one of a type that is not in the file. The callback is asked
// about a key that matches none: its error lists the known ones.
func knownAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, &net.TCPAddr{IP: net.IPv4zero}, probe); !errors.As(err, &ke) {
		return nil
	}
	var algs []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		t := k.Key.Type()
		var names []string
		switch t {
		case ssh.KeyAlgoRSA:
			names = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		default:
			names = []string{t}
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				algs = append(algs, n)
			}
		}
	}
	return algs
}

// conn is one logged-in SFTP session.
type conn struct {
	ssh  *ssh.Client
	sftp *sftp.Client
}

func (c *conn) close() {
	_ = c.sftp.Close()
	_ = c.ssh.Close()
}

// dial connects and logs in; ctx bounds the connection as well as the timeout.
func (d *dialer) dial(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout.D())
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", d.cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.cfg.Address, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, d.cfg.Address, d.ssh)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("log in to %s as %s: %w", d.cfg.Address, d.cfg.User, err)
	}
	_ = nc.SetDeadline(time.Time{})
	client := ssh.NewClient(sc, chans, reqs)
	fc, err := sftp.NewClient(client)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("start sftp on %s: %w", d.cfg.Address, err)
	}
	return &conn{ssh: client, sftp: fc}, nil
}
