package standin

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// putScript is netcfg/target's file copy to a Windows host (PutWindowsArgv):
// base64 on stdin written to a path.
var putScript = regexp.MustCompile(`^\$ErrorActionPreference = 'Stop'; \[IO\.File\]::WriteAllBytes\('((?:[^']|'')+)', \[Convert\]::FromBase64String\(\[Console\]::In\.ReadToEnd\(\)\)\)$`)

// hostPath maps a guest path C:\A\B to the Wine prefix's drive_c/A/B. It
// refuses other drives, relative paths and "..".
func (s *Server) hostPath(win string) (string, error) {
	if s.winePrefix == "" {
		return "", errors.New("the stand-in server has no Wine prefix (--wine-prefix): it keeps no files")
	}
	rest, ok := strings.CutPrefix(strings.ToLower(win[:min(3, len(win))]), `c:\`)
	if !ok || rest != "" {
		return "", fmt.Errorf("path %q: only C:\\ paths are served", win)
	}
	parts := strings.Split(win[3:], `\`)
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", fmt.Errorf("path %q: empty, . or .. component", win)
		}
	}
	// Windows paths ignore case: take each component's existing spelling
	// (Wine's drive_c has "windows", not "Windows").
	p := filepath.Join(s.winePrefix, "drive_c")
	for _, part := range parts {
		name := part
		if entries, err := os.ReadDir(p); err == nil {
			for _, e := range entries {
				if strings.EqualFold(e.Name(), part) {
					name = e.Name()
					break
				}
			}
		}
		p = filepath.Join(p, name)
	}
	return p, nil
}

// isProgram reports a guest program path cmd /c can run: C:\...\*.exe
// with a Wine prefix set.
func (s *Server) isProgram(arg string) bool {
	return s.winePrefix != "" && strings.Contains(arg, `\`) && strings.HasSuffix(strings.ToLower(arg), ".exe")
}

// putFile writes the base64 on stdin to path, as PowerShell would.
func (c *cmd) putFile(path string) {
	p, err := c.s.hostPath(path)
	if err != nil {
		c.unsupported("file copy: %v", err)
		return
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(c.stdin)))
	if err != nil {
		c.eprintf("Exception calling \"FromBase64String\" with \"1\" argument(s): \"The input is not a valid Base-64 string\"\n")
		c.exit = 1
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
		err = os.WriteFile(p, data, 0o755)
	}
	if err != nil {
		c.internal(err)
	}
}

// programTimeout bounds a guest program: the hammer's own limits are
// shorter.
const programTimeout = 15 * time.Minute

// runProgram runs a guest program (args[0], a C:\ path) under Wine with
// the rest of args, its output and exit status the command's.
func (c *cmd) runProgram(args []string) {
	if _, err := c.s.hostPath(args[0]); err != nil {
		c.unsupported("running %s: %v", args[0], err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), programTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.s.wine, args...)
	cmd.Env = append(os.Environ(), "WINEPREFIX="+c.s.winePrefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	c.out.WriteString(stdout.String())
	c.errs.WriteString(stderr.String())
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		c.exit = exit.ExitCode()
	default:
		c.internal(fmt.Errorf("running %s under %s: %w", args[0], c.s.wine, err))
	}
}
