package loadgen

import "errors"

// Sentinel errors returned by Run and Options.Validate.
var (
	// ErrOptions wraps every reason Options.Validate rejects a configuration.
	ErrOptions = errors.New("loadgen: invalid options")
	// ErrURL is returned for a target URL the generator cannot load.
	ErrURL = errors.New("loadgen: unsupported url")
	// ErrFileLimit is returned when RLIMIT_NOFILE leaves no room for even
	// one active connection.
	ErrFileLimit = errors.New("loadgen: file descriptor limit too low")
)

// ErrorKind classifies a failed request or connection, as wrk does.
type ErrorKind int

// The error kinds, each counted separately and never fatal.
const (
	// ErrConnect: a connection could not be established (refused, reset
	// during the handshake, no free port, connect timeout).
	ErrConnect ErrorKind = iota
	// ErrRead: the connection failed or was closed by the server while
	// requests were in flight; one count per request lost.
	ErrRead
	// ErrWrite: a request could not be written.
	ErrWrite
	// ErrTimeout: a request got no answer within the request timeout; one
	// count per request lost, and the connection is replaced.
	ErrTimeout
	// ErrStatus: a complete response whose status is not 2xx or 3xx. The
	// response still counts as a request, as in wrk.
	ErrStatus
	// ErrParse: bytes that cannot be framed as a response; the connection
	// is replaced and each request in flight on it is counted.
	ErrParse
	numKinds
)

var kindNames = [numKinds]string{"connect", "read", "write", "timeout", "status", "parse"}

// String returns the kind's name as it appears in the JSON output.
func (k ErrorKind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// ErrorKinds lists every kind in output order.
func ErrorKinds() []ErrorKind {
	ks := make([]ErrorKind, numKinds)
	for i := range ks {
		ks[i] = ErrorKind(i)
	}
	return ks
}
