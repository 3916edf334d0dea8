// Package sftpconn is the "sftp" connector type: a source that takes files from a folder on an
// SFTP server, and a sink that writes each message as a file to a folder on an SFTP server.
//
// The hub logs in over SSH (golang.org/x/crypto/ssh) with a private key (key_file, with
// key_passphrase when encrypted) or a password (password, best given as ${NAME}, or
// password_file); secrets are read when the connector is built and never logged. The server's
// host key must be in the known_hosts file: a server showing another key is refused before any
// secret is sent. insecure_ignore_host_key: true turns the check off and is logged as a warning.
//
// As a source it reads dir every poll_interval and takes, in name order, each regular file
// matching pattern whose size and modification time are the same at two polls in a row, so that
// a file still being uploaded is left alone; names starting with "." or ending in ".tmp" are
// never taken. Each file becomes one message: as id a name-based UUID of the connector, the
// file's name, size and modification time; the bytes as payload; the base name in the metadata
// "filename"; datacontenttype from content_type or the extension. Only once the hub has stored
// the message is the file moved into done_dir (after: move, with a numbered name when taken) or
// deleted (after: delete). A stop between storing and moving offers the file again at the next
// start under the same id, which the routes' idempotency recognises: a restart neither repeats
// nor skips a file. Files larger than max_size are moved into failed_dir.
//
// As a sink it writes each message to dir under the name template, first under a temporary name
// ".<name>.<random>.tmp", then renamed into place (posix-rename@openssh.com where the server has
// it, replacing a file of the same name), so that readers never see a partial file. A session
// kept from an earlier message that the server dropped while idle is replaced at once; a failure
// to connect, log in or write on a new session is retried by the route; a name template that
// gives no usable name is permanent. A route's output that its steps left as a JSON value is
// encoded into the remote file as it is sent (StreamSink), never whole in memory.
package sftpconn
