package wire

import (
	"bytes"
	"errors"
)

// ErrMalformedResponse is returned by ParseResponse for bytes that are not
// a response the load generator can frame: a bad status line, a bad or
// missing Content-Length, or a chunked body.
var ErrMalformedResponse = errors.New("wire: malformed response")

// ResponseHead is what the load generator needs of a response.
type ResponseHead struct {
	Status        int
	KeepAlive     bool
	ContentLength int
}

// ParseResponse frames the response at the start of buf, with the same
// contract as Parse: n > 0 for a complete response, 0 and nil for "read
// more", an error for bytes that cannot be framed.
func ParseResponse(buf []byte, resp *ResponseHead) (n int, err error) {
	*resp = ResponseHead{ContentLength: -1}
	line, next, ok := nextLine(buf, 0)
	if !ok {
		return 0, incompleteResponse(buf)
	}
	// "HTTP/1.x SSS reason"
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, ErrMalformedResponse
	}
	resp.Status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	resp.KeepAlive = line[7] != '0'
	for {
		pos := next
		line, next, ok = nextLine(buf, pos)
		if !ok {
			return 0, incompleteResponse(buf)
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, ErrMalformedResponse
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			cl, err := parseContentLength(value)
			if err != nil {
				return 0, ErrMalformedResponse
			}
			resp.ContentLength = cl
		case equalFold(name, "transfer-encoding"):
			return 0, ErrMalformedResponse
		case equalFold(name, "connection"):
			c, k := connectionTokens(value)
			if c {
				resp.KeepAlive = false
			} else if k {
				resp.KeepAlive = true
			}
		}
	}
	if resp.ContentLength < 0 {
		if resp.Status == 204 || resp.Status == 304 || resp.Status < 200 {
			resp.ContentLength = 0
		} else {
			return 0, ErrMalformedResponse
		}
	}
	total := next + resp.ContentLength
	if len(buf) < total {
		return 0, nil
	}
	return total, nil
}

func incompleteResponse(buf []byte) error {
	if len(buf) > MaxHeaderBytes {
		return ErrMalformedResponse
	}
	return nil
}

// AppendRequest appends a GET for target on host, as the load generator sends it.
func AppendRequest(dst []byte, host, target string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n\r\n"...)
}
