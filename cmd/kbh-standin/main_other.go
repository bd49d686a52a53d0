//go:build !linux && !windows

package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "kbh-standin: unsupported on %s: the client runs on Windows (Wine), the server on Linux\n", runtime.GOOS)
	os.Exit(2)
}
