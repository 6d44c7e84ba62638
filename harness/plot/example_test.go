package plot_test

import (
	"fmt"

	"c10k/harness/plot"
)

func ExampleFormatBytes() {
	fmt.Println(plot.FormatBytes(0.55*1024), plot.FormatBytes(229*1024), plot.FormatBytes(4.3*1024*1024))
	// Output: 563 B 229 KiB 4.3 MiB
}

func ExampleStyleOf() {
	s := plot.StyleOf("nginx", "peer")
	fmt.Println(s.Dashed, plot.StyleOf("epoll", "model").Dashed)
	// Output: true false
}
