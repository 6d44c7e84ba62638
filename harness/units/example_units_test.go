package units_test

import (
	"fmt"

	"c10k/harness/units"
)

func ExampleBytes() {
	fmt.Println(units.Bytes(0.55*1024), units.Bytes(229*1024), units.Bytes(4.3*1024*1024))
	// Output: 563 B 229 KiB 4.3 MiB
}
