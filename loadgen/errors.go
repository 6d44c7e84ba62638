package loadgen

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by Run and Options.Validate.
var (
	// ErrOptions wraps every reason Options.Validate rejects a configuration.
	ErrOptions = errors.New("loadgen: invalid options")
	// ErrURL is returned for a target URL the generator cannot load.
	ErrURL = errors.New("loadgen: unsupported url")
	// ErrFileLimit is returned when RLIMIT_NOFILE leaves no room for even
	// one active connection.
	ErrFileLimit = errors.New("loadgen: file descriptor limit too low")
	// ErrResolve is returned when the URL's host name does not resolve.
	ErrResolve = errors.New("loadgen: cannot resolve host")
	// ErrNoIntervals is returned for an interval log of a Result that
	// kept none (run without Options.IntervalLog), and by Merge for such
	// a part.
	ErrNoIntervals = errors.New("loadgen: no interval histograms (Options.IntervalLog)")
	// ErrIntervalLog wraps what is wrong with an interval log being read.
	ErrIntervalLog = errors.New("loadgen: bad interval log")
)

// Causes of request failures that have no system error of their own. They
// never end a run: they are the messages Result.FirstErrors shows.
var (
	// ErrServerClosed: the server closed the connection with requests in
	// flight and no "Connection: close" to say so.
	ErrServerClosed = errors.New("server closed the connection before answering")
	// ErrClosedWithPipeline: the server answered "Connection: close" (or
	// HTTP/1.0 without keep-alive) while more requests were in flight on
	// the connection; they are lost.
	ErrClosedWithPipeline = errors.New("server closed the connection after one answer (Connection: close) with more requests in flight")
	// ErrRequestTimeout: a request got no answer within the timeout.
	ErrRequestTimeout = errors.New("no answer within the request timeout")
	// ErrUnsolicited: a complete answer arrived with no request in flight.
	ErrUnsolicited = errors.New("an answer arrived with no request in flight")
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

// excerptLen is how much of the input a parse error message quotes.
const excerptLen = 40

// describeErr is the message Result.FirstErrors shows for an error: the
// cause, the timeout for a timeout, and for a parse error the input where
// framing failed, quoted, so that a user sees what the server sent.
func describeErr(cause error, at []byte, timeout time.Duration) string {
	if cause == nil {
		return "unknown cause"
	}
	msg := cause.Error()
	if errors.Is(cause, ErrRequestTimeout) {
		msg += fmt.Sprintf(" (%v)", timeout)
	}
	if at != nil {
		q := at[:min(len(at), excerptLen)]
		msg += fmt.Sprintf(" at %q", q)
		if len(at) > excerptLen {
			msg += "..."
		}
	}
	return msg
}
