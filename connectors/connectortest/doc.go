// Package connectortest is the conformance suite that every connector type passes.
//
// A connector package calls RunSource for its source, RunSink for its sink and CheckConfig for its
// options struct, each with a small adapter that drives the connector the way the outside world
// does: an HTTP client posting to a real listener, a writer dropping files into a folder, a real
// HTTP server or folder receiving what a sink delivers. The suite then checks what the engine
// relies on:
//
// A source
//   - emits every input exactly once, with a non-empty id unique among the inputs and the payload
//     byte for byte as the sender sent it;
//   - acknowledges an input to its sender only after emit returned nil for it, so that an emit
//     error leaves the input with its sender (or in its folder) to be offered again;
//   - stops when the context given to Run is cancelled: Run returns nil and no input is
//     acknowledged afterwards.
//
// A sink
//   - delivers every payload byte for byte, under the message's id;
//   - is safe for concurrent Sends;
//   - can be closed twice, the second Close returning nil as well.
//
// An options struct
//   - describes every field with yaml and doc tags, with defaults that decode into the field's
//     type and belong to its enum;
//   - gets from its defaults function exactly the defaults its tags declare;
//   - rejects the zero configuration with errors pointed at fields (spec.FieldError) when it has
//     something required.
//
// Beside the suite, it holds what the connectors' own tests share: a hub store of the test's own
// (NewStore), an emit that keeps what it is given (Collector), a source run until the test ends
// (Running) and the field errors of a Validate (FieldErrors).
package connectortest
