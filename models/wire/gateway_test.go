package wire

import (
	"strings"
	"testing"
)

func TestAppendGatewayError(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		req       Request
		wantLine  string
		keepAlive bool
		body      bool
	}{
		{name: "happy 502 keep-alive", status: 502, req: Request{Method: []byte("GET"), Minor: 1, KeepAlive: true},
			wantLine: "HTTP/1.1 502 Bad Gateway", keepAlive: true, body: true},
		{name: "happy 504 keep-alive 1.0", status: 504, req: Request{Method: []byte("GET"), Minor: 0, KeepAlive: true},
			wantLine: "HTTP/1.1 504 Gateway Timeout", keepAlive: true, body: true},
		{name: "happy 502 close", status: 502, req: Request{Method: []byte("GET"), Minor: 1},
			wantLine: "HTTP/1.1 502 Bad Gateway", body: true},
		{name: "happy 504 head has no body", status: 504, req: Request{Method: []byte("HEAD"), Minor: 1, KeepAlive: true},
			wantLine: "HTTP/1.1 504 Gateway Timeout", keepAlive: true},
		{name: "sad unknown status is 502", status: 599, req: Request{Method: []byte("GET"), Minor: 1, KeepAlive: true},
			wantLine: "HTTP/1.1 502 Bad Gateway", keepAlive: true, body: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := AppendGatewayError(nil, tt.status, &tt.req)
			if !strings.HasPrefix(string(out), tt.wantLine+"\r\n") {
				t.Fatalf("response %q, want status line %q", out, tt.wantLine)
			}
			var head ResponseHead
			n, err := ParseResponse(out, &head)
			if tt.body && (err != nil || n != len(out)) {
				t.Fatalf("unframeable: n %d of %d, %v", n, len(out), err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if head.KeepAlive != tt.keepAlive {
				t.Fatalf("keep-alive %v, want %v: %q", head.KeepAlive, tt.keepAlive, out)
			}
			if tt.req.Minor == 0 && tt.keepAlive && !strings.Contains(string(out), "Connection: keep-alive\r\n") {
				t.Fatalf("HTTP/1.0 keep-alive answer lacks the header: %q", out)
			}
		})
	}
}
