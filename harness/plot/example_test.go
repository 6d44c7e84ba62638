package plot_test

import (
	"fmt"

	"c10k/harness/plot"
)

func ExampleStyleOf() {
	s := plot.StyleOf("nginx", "peer")
	fmt.Println(s.Dashed, plot.StyleOf("epoll", "model").Dashed)
	// Output: true false
}
