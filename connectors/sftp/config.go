package sftpconn

import (
	"errors"
	"net"
	"path"
	"strings"

	"github.com/aiskao/aiskao/internal/filedrop"
	"github.com/aiskao/aiskao/internal/filename"
	"github.com/aiskao/aiskao/spec"
)

// Config is the options of an sftp connector. The server, the account and the folder are shared;
// the source and the sink each read their own options and ignore the others'.
type Config struct {
	Address string        `yaml:"address" doc:"The SSH server, host:port." required:"true" example:"sftp.example.bg:22"`
	User    string        `yaml:"user" doc:"The account on the server." required:"true" example:"aiskao"`
	Timeout spec.Duration `yaml:"timeout" doc:"How long connecting and logging in may take." default:"15s" example:"30s"`

	Password     string `yaml:"password" doc:"Password of the account; write it as ${NAME} to keep it out of the file. Never logged." example:"${SFTP_PASSWORD}"`
	PasswordFile string `yaml:"password_file" doc:"File holding the password (one line), instead of password; relative to the configuration's folder." example:"secrets/sftp-password"`
	KeyFile      string `yaml:"key_file" doc:"File of the account's private key (OpenSSH or PEM); relative to the configuration's folder. Tried before the password." example:"secrets/id_ed25519"`
	Passphrase   string `yaml:"key_passphrase" doc:"Passphrase of an encrypted key_file, such as ${SFTP_KEY_PASSPHRASE}. Never logged." example:"${SFTP_KEY_PASSPHRASE}"`

	KnownHosts            string `yaml:"known_hosts" doc:"File of the server's host keys in OpenSSH known_hosts form; relative to the configuration's folder. Required unless insecure_ignore_host_key: a server showing another key is refused." example:"secrets/known_hosts"`
	InsecureIgnoreHostKey bool   `yaml:"insecure_ignore_host_key" doc:"Accept any host key, so that anyone in the network path can pose as the server; for tests only, and logged as a warning at every start." default:"false"`

	Dir string `yaml:"dir" doc:"Remote folder that files are taken from (source) or written to (sink); relative to the account's home folder." required:"true" example:"/upload/inbox"`

	Pattern      string        `yaml:"pattern" doc:"Source: glob of the file names taken." default:"*" example:"*.xml"`
	PollInterval spec.Duration `yaml:"poll_interval" doc:"Source: how often the folder is read." default:"10s" example:"1m"`
	MaxSize      spec.ByteSize `yaml:"max_size" doc:"Source: largest file taken; larger ones are moved to the failed folder." default:"10MiB" min:"1" example:"512KiB"`
	After        string        `yaml:"after" doc:"Source: what becomes of a file once its message is stored: move it into done_dir, or delete it." enum:"move,delete" default:"move"`
	DoneDir      string        `yaml:"done_dir" doc:"Source, with after: move: folder that taken files are moved to; relative to dir." default:"done" example:"/upload/archive"`
	FailedDir    string        `yaml:"failed_dir" doc:"Source: folder that files too large to take are moved to; relative to dir." default:"failed" example:"rejected"`
	ContentType  string        `yaml:"content_type" doc:"Source: datacontenttype of the messages; empty guesses it from the extension (.xml, .json)." example:"application/xml"`
	MessageType  string        `yaml:"message_type" doc:"Source: value of the envelope's type; empty leaves it unset." example:"register.Export"`

	Name string `yaml:"name" doc:"Sink: template of the file name: {{id}} the message id, {{meta \"key\"}} a metadata value, {{ext}} .xml, .json or .bin from the content type." default:"{{id}}{{ext}}" example:"{{meta \"subject\"}}-{{id}}.xml"`
}

// Validate checks the options after defaults (spec.Options applies them from the tags).
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	if _, port, err := net.SplitHostPort(c.Address); err != nil || port == "" {
		add("address", "%q is not host:port, such as sftp.example.bg:22", c.Address)
	}
	if strings.TrimSpace(c.User) == "" {
		add("user", "required: the account on the server")
	}
	if c.Timeout <= 0 {
		add("timeout", "must be more than 0, such as 15s")
	}
	if c.Password != "" && c.PasswordFile != "" {
		add("password_file", "set password or password_file, not both")
	}
	if c.Password == "" && c.PasswordFile == "" && c.KeyFile == "" {
		add("key_file", "set key_file, password or password_file: how the hub logs in")
	}
	if c.Passphrase != "" && c.KeyFile == "" {
		add("key_passphrase", "only used with key_file")
	}
	switch {
	case c.KnownHosts == "" && !c.InsecureIgnoreHostKey:
		add("known_hosts", "required: the file of the server's host keys (ssh-keyscan -p PORT HOST > known_hosts, then check it); insecure_ignore_host_key: true skips the check, for tests only")
	case c.KnownHosts != "" && c.InsecureIgnoreHostKey:
		add("insecure_ignore_host_key", "set known_hosts or insecure_ignore_host_key, not both")
	}
	if strings.TrimSpace(c.Dir) == "" {
		add("dir", "required: the remote folder of the files")
	}
	if err := filedrop.CheckPattern(c.Pattern, "/"); err != nil {
		add("pattern", "%v", err)
	}
	if c.PollInterval <= 0 {
		add("poll_interval", "must be more than 0, such as 10s")
	}
	if c.MaxSize < 1 {
		add("max_size", "must be at least 1 byte")
	}
	switch c.After {
	case "move", "delete":
	default:
		add("after", "%q is not move or delete", c.After)
	}
	if c.After == "move" && strings.TrimSpace(c.DoneDir) == "" {
		add("done_dir", "required with after: move")
	}
	if strings.TrimSpace(c.FailedDir) == "" {
		add("failed_dir", "required: where files too large to take go")
	}
	if err := filedrop.CheckContentType(c.ContentType); err != nil {
		add("content_type", "%v", err)
	}
	if _, err := filename.Parse(c.Name); err != nil {
		add("name", "%v", err)
	}
	return errors.Join(errs...)
}

// remote returns p inside dir when relative, in the server's slash-separated form.
func remote(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}
