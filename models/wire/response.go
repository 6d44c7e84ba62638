package wire

import (
	"errors"
	"strconv"
	"sync/atomic"
	"time"
)

// DefaultBody is the body every server sends unless told otherwise: 14 bytes,
// the size the benchmark's anchors were measured with.
const DefaultBody = "Hello, world!\n"

// Responder appends the canned response for a request. Its parts are built
// once, so answering costs a few appends; it is safe for concurrent use.
type Responder struct {
	statusLine string // up to the Date value
	bodyLen    int
	// Everything after the Date value, per connection disposition, body included.
	keepAlive11 []byte // HTTP/1.1 keep-alive: no Connection header needed
	keepAlive10 []byte // HTTP/1.0 that asked for keep-alive
	closing     []byte
}

// NewResponder builds the response for a body of bodySize bytes. A size of 14
// gives DefaultBody; other sizes are filled with a repeating pattern ending in
// a newline.
func NewResponder(bodySize int) *Responder { return newResponder("200 OK", makeBody(bodySize)) }

// newResponder builds a response with this status ("200 OK") and body.
func newResponder(status, body string) *Responder {
	headers := "\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	return &Responder{
		statusLine:  "HTTP/1.1 " + status + "\r\nServer: c10k\r\nDate: ",
		bodyLen:     len(body),
		keepAlive11: []byte(headers + "\r\n" + body),
		keepAlive10: []byte(headers + "Connection: keep-alive\r\n\r\n" + body),
		closing:     []byte(headers + "Connection: close\r\n\r\n" + body),
	}
}

func makeBody(n int) string {
	if n == len(DefaultBody) {
		return DefaultBody
	}
	if n <= 0 {
		return ""
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	b[n-1] = '\n'
	return string(b)
}

// BodyLen is the size of the response body in bytes.
func (r *Responder) BodyLen() int { return r.bodyLen }

// Append appends the response to req onto dst and returns the extended slice.
func (r *Responder) Append(dst []byte, req *Request) []byte {
	dst = append(dst, r.statusLine...)
	dst = appendDate(dst)
	var tail []byte
	switch {
	case !req.KeepAlive:
		tail = r.closing
	case req.Minor == 0:
		tail = r.keepAlive10
	default:
		tail = r.keepAlive11
	}
	if req.IsHead() {
		tail = tail[:len(tail)-r.bodyLen]
	}
	return append(dst, tail...)
}

// StatusOf maps a Parse error to the HTTP status a server answers it with.
func StatusOf(err error) int {
	switch {
	case errors.Is(err, ErrHeaderTooLarge):
		return 431
	case errors.Is(err, ErrBodyTooLarge):
		return 413
	case errors.Is(err, ErrTransferEncoding):
		return 501
	case errors.Is(err, ErrVersionNotSupport):
		return 505
	default:
		return 400
	}
}

// errorResponse is a prebuilt error answer, split around the Date value.
type errorResponse struct {
	statusLine string // "HTTP/1.1 400 Bad Request\r\nServer: c10k\r\nDate: "
	rest       []byte // the remaining headers and a one-line body
}

var errorResponses = map[int]errorResponse{}

func init() {
	for status, reason := range map[int]string{
		400: "Bad Request",
		413: "Content Too Large",
		431: "Request Header Fields Too Large",
		501: "Not Implemented",
		505: "HTTP Version Not Supported",
	} {
		code := strconv.Itoa(status)
		body := code + " " + reason + "\n"
		errorResponses[status] = errorResponse{
			statusLine: "HTTP/1.1 " + code + " " + reason + "\r\nServer: c10k\r\nDate: ",
			rest: []byte("\r\nContent-Type: text/plain\r\nContent-Length: " +
				strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body),
		}
	}
}

// AppendError appends the response to a Parse error onto dst. The response
// says "Connection: close": the caller must close once it is written, since
// the rest of the stream cannot be framed.
func AppendError(dst []byte, err error) []byte {
	e := errorResponses[StatusOf(err)]
	dst = append(dst, e.statusLine...)
	dst = appendDate(dst)
	return append(dst, e.rest...)
}

// dateStamp is an IMF-fixdate for one second; it is replaced, never mutated,
// so readers on any thread need only an atomic load.
type dateStamp struct {
	unix int64
	text [len(time.RFC1123)]byte // "Mon, 02 Jan 2006 15:04:05 GMT" is 29 bytes, like RFC1123
}

var currentDate atomic.Pointer[dateStamp]

// appendDate appends the current Date value. Like nginx, the text is rebuilt
// at most once a second; in between, answering costs one clock read.
func appendDate(dst []byte) []byte {
	now := time.Now()
	d := currentDate.Load()
	if d == nil || d.unix != now.Unix() {
		d = &dateStamp{unix: now.Unix()}
		now.UTC().AppendFormat(d.text[:0], "Mon, 02 Jan 2006 15:04:05 GMT")
		currentDate.Store(d)
	}
	return append(dst, d.text[:]...)
}
