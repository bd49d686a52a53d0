package target

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

// Put writes data to path on the target, replacing the file (executable on
// Linux). Local and namespace targets share this machine's files; remote
// ones get the bytes on the command's stdin: `cat` on Linux, a PowerShell
// 2.0 script decoding base64 on Windows.
func (c *Conn) Put(ctx context.Context, path string, data []byte) error {
	var err error
	switch {
	case c.URL.Scheme == "local" || c.URL.Scheme == "netns":
		err = os.WriteFile(path, data, 0o755)
	case c.Info.Dialect == netcfg.DialectWindows:
		_, err = c.RunInput(ctx, PutWindowsArgv(path), []byte(base64.StdEncoding.EncodeToString(data)))
	default:
		_, err = c.RunInput(ctx, []string{"sh", "-c", `cat > "$1" && chmod 755 "$1"`, "sh", path}, data)
	}
	if err != nil {
		return fmt.Errorf("copying %d bytes to %s on %s: %w", len(data), path, c.URL, err)
	}
	return nil
}

// PutWindowsArgv is the PowerShell (2.0) command that writes the base64 it
// reads on stdin to path.
func PutWindowsArgv(path string) []string {
	return pwsh.EncodedArgv("$ErrorActionPreference = 'Stop'; [IO.File]::WriteAllBytes(" +
		pwsh.Quote(path) + ", [Convert]::FromBase64String([Console]::In.ReadToEnd()))")
}
