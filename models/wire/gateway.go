package wire

// The answers a proxy sends when its backend failed. They keep the
// request's disposition, as Responder does: the client connection stays
// usable after a backend's failure, as it does behind nginx.
var (
	badGateway     = newResponder("502 Bad Gateway", "502 Bad Gateway\n")
	gatewayTimeout = newResponder("504 Gateway Timeout", "504 Gateway Timeout\n")
)

// AppendGatewayError appends a proxy's answer to req when its backend
// failed: 504 Gateway Timeout for status 504, 502 Bad Gateway for any
// other. Unlike AppendError, the request was framed, so the connection
// keeps req's disposition: a keep-alive request may be followed by more.
func AppendGatewayError(dst []byte, status int, req *Request) []byte {
	if status == 504 {
		return gatewayTimeout.Append(dst, req)
	}
	return badGateway.Append(dst, req)
}
