package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"c10k/loadgen"
)

func ExampleConstantPacer() {
	p := loadgen.ConstantPacer{Rate: 4}
	for n := range uint64(5) {
		fmt.Println(n, p.Offset(n))
	}
	// Output:
	// 0 0s
	// 1 250ms
	// 2 500ms
	// 3 750ms
	// 4 1s
}

// An open-loop run sends exactly rate x duration requests, whatever the
// server does; here it keeps up, so there are no errors.
func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Hello, world!\n")
	}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Options{
		URL:         srv.URL + "/",
		Connections: 2,
		Duration:    500 * time.Millisecond,
		Rate:        100, // requests per second, over all connections
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Requests, "requests,", res.TotalErrors(), "errors, complete:", res.Complete)
	// Output: 50 requests, 0 errors, complete: true
}
