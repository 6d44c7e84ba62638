package wire

import "strconv"

// gatewayResponse is a prebuilt answer a proxy sends when its backend
// failed, split around the Date value, with one tail per disposition as
// Responder has: the client connection stays usable after a backend's
// failure, as it does behind nginx.
type gatewayResponse struct {
	statusLine  string
	keepAlive11 []byte
	keepAlive10 []byte
	closing     []byte
	bodyLen     int
}

var badGateway, gatewayTimeout = newGatewayResponse(502, "Bad Gateway"), newGatewayResponse(504, "Gateway Timeout")

func newGatewayResponse(status int, reason string) gatewayResponse {
	code := strconv.Itoa(status)
	body := code + " " + reason + "\n"
	headers := "\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	return gatewayResponse{
		statusLine:  "HTTP/1.1 " + code + " " + reason + "\r\nServer: c10k\r\nDate: ",
		keepAlive11: []byte(headers + "\r\n" + body),
		keepAlive10: []byte(headers + "Connection: keep-alive\r\n\r\n" + body),
		closing:     []byte(headers + "Connection: close\r\n\r\n" + body),
		bodyLen:     len(body),
	}
}

// AppendGatewayError appends a proxy's answer to req when its backend
// failed: 504 Gateway Timeout for status 504, 502 Bad Gateway for any
// other. Unlike AppendError, the request was framed, so the connection
// keeps req's disposition: a keep-alive request may be followed by more.
func AppendGatewayError(dst []byte, status int, req *Request) []byte {
	r := &badGateway
	if status == 504 {
		r = &gatewayTimeout
	}
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
