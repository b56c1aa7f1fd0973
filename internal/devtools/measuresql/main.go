// Command measuresql prints the siting check's measuring statement
// (siting.MeasureSQL) for internal/devtools/bench-siting.sh.
package main

import (
	"fmt"

	"villageplan/internal/siting"
)

func main() { fmt.Println(siting.MeasureSQL()) }
