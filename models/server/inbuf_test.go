package server

import (
	"bytes"
	"testing"
)

func TestInBufGrowsAndShrinks(t *testing.T) {
	b := NewInBuf(8)
	fill := func(s string) {
		t.Helper()
		for len(s) > 0 {
			sp := b.Space()
			if sp == nil {
				t.Fatal("Space returned nil below the request limit")
			}
			k := copy(sp, s)
			b.Filled(k)
			s = s[k:]
		}
	}
	fill("0123456789abcdefXYZ") // 19 bytes: 8 -> 16 -> 32
	if got := string(b.Bytes()); got != "0123456789abcdefXYZ" {
		t.Fatalf("Bytes = %q", got)
	}
	if len(b.buf) != 32 {
		t.Fatalf("grown to %d bytes, want 32", len(b.buf))
	}
	b.Consume(10) // 9 left: still more than the base
	if len(b.buf) != 32 || string(b.Bytes()) != "abcdefXYZ" {
		t.Fatalf("after Consume(10): len %d, %q", len(b.buf), b.Bytes())
	}
	b.Consume(4) // 5 left: fits the base again
	if len(b.buf) != 8 || !bytes.Equal(b.Bytes(), []byte("efXYZ")) {
		t.Fatalf("after Consume(4): len %d, %q; want the 8-byte base and efXYZ", len(b.buf), b.Bytes())
	}
}

func TestInBufStopsAtTheLargestRequest(t *testing.T) {
	b := InBuf{buf: make([]byte, maxRequest), n: maxRequest, base: 8}
	if sp := b.Space(); sp != nil {
		t.Fatalf("Space = %d bytes past the largest request, want nil", len(sp))
	}
}
