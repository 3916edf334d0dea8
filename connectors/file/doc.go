// Package fileconn is the "file" connector type: a source that takes files dropped into a folder,
// and a sink that writes each message to a file in a folder.
//
// A relative dir is relative to the working folder of the hub process, not to the configuration
// file: it names the same folder as the writers and readers that share it, started from there.
//
// As a source it polls dir every poll_interval and takes, in name order, each regular file
// matching pattern. Names starting with "." and names ending in ".tmp" are never taken, and a file
// is taken only once its size and modification time are the same at two polls in a row, so that a
// file still being written is left alone. Writers that can should still write under a temporary
// name (".name" or "name.tmp") and rename the file into place when complete. Each file becomes one
// message: as id a name-based UUID (version 5) of the connector, the file's name, size and
// modification time; the file's bytes as payload; the file's base name in the metadata
// "filename"; datacontenttype from content_type or else from the extension (.xml
// application/xml, .json application/json, anything else application/octet-stream); and type from
// message_type when set. Once the hub has stored the message the file is moved to dir/done (with a
// numbered suffix when that name is taken). A file that cannot be read, or is larger than max_size,
// is moved to dir/failed with "<name>.error" beside it stating why. When the hub cannot store a
// message the file stays where it is and is offered again at the next poll. Delivery is at least
// once: a stop between storing and moving offers the file again, under the same id, which the
// routes' idempotency recognises.
//
// As a sink it writes each message to dir under the name made by the name template: {{id}} is
// the message id, {{meta "key"}} a metadata value, {{ext}} the extension for the message's
// content type (.xml, .json, or .bin). The result has path separators and control characters
// replaced by "_", and may be neither empty, "." nor ".." (an error naming the template). Files
// are written atomically: into a temporary file in dir (named ".aiskao-*.tmp", so that a file
// source on the same folder ignores it), synced when fsync is on, then renamed into place, and
// the folder synced too. A message written twice with one id replaces its file: redeliveries do
// not multiply files. The files whose writes wait at the same time are synced as a group: each
// is started, then they are synced in turn by one writer, which then links them in under their
// names and syncs the folder once for all of them (on Linux, where a file can be created without
// a name, on file systems that make the link and the file's link count durable together with
// the folder's sync: ext4 with a journal, XFS, tmpfs; elsewhere, ext4 without a journal among
// them, each is renamed into place and the folder's syncs are shared, and the start-up log says
// why). A starting sink removes the temporary files older than ten minutes that writes stopped
// midway left in dir. With sync:
// filesystem the files are not synced one by one: the writes that wait at the same time share
// one syncfs of the file system, which makes the files and their folder entries durable
// together; the folder stays open for the sink's life, so that a write the system failed to
// make since it was opened is reported by the next syncfs.
//
// A route's output that its steps left as a JSON value is encoded into the file as it is
// written (StreamSink), never whole in memory, so a large document is held once, as the value;
// an encoding that fails part way leaves no file.
package fileconn
