package target

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// Settings are how targets are reached: credentials and trust. Flags
// (Register) default to the environment, so the suites, the CLI and a
// copied suite binary read them the same way. None of them holds a secret:
// the password is read from the file or variable only when a transport
// needs it (Password).
type Settings struct {
	// Identity is an SSH private key file; "" tries the agent
	// (SSH_AUTH_SOCK), then ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
	Identity string
	// KnownHosts is the known_hosts file SSH host keys are checked against
	// ("" is ~/.ssh/known_hosts). There is no way to skip the check.
	KnownHosts string
	// PasswordFile holds the password for WinRM, PowerShell Direct and, if
	// no key is accepted, SSH ("" falls back to KBHARNESS_PASSWORD).
	PasswordFile string
	// Poll is how often a command-driven host is polled for changes (0:
	// the host's default). A URL's ?poll= overrides it.
	Poll time.Duration
}

// Register adds the settings' flags to fs, each prefixed by prefix ("kb."
// in the suites, "" in the CLI) and defaulting to its KBHARNESS_ variable.
func (s *Settings) Register(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&s.Identity, prefix+"ssh-identity", os.Getenv("KBHARNESS_SSH_IDENTITY"),
		"SSH private key file for ssh:// targets (default: the agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)")
	fs.StringVar(&s.KnownHosts, prefix+"ssh-known-hosts", os.Getenv("KBHARNESS_SSH_KNOWN_HOSTS"),
		"known_hosts file that ssh:// host keys must match (default ~/.ssh/known_hosts)")
	fs.StringVar(&s.PasswordFile, prefix+"password-file", os.Getenv("KBHARNESS_PASSWORD_FILE"),
		"file holding the password for winrm://, psdirect:// and password SSH logins (else $KBHARNESS_PASSWORD; never a flag value)")
	poll, _ := time.ParseDuration(os.Getenv("KBHARNESS_POLL"))
	fs.DurationVar(&s.Poll, prefix+"poll", poll,
		"how often a host reached by commands is polled for changes (default 200ms; a target URL's ?poll= wins)")
}

// Default holds the settings the flags registered with Register fill.
var Default Settings

// ErrNoPassword is returned when a transport needs a password and none is
// set.
var ErrNoPassword = errors.New("no password: set KBHARNESS_PASSWORD_FILE to a file holding it (or KBHARNESS_PASSWORD)")

// Password reads the password: the file's first line, else
// $KBHARNESS_PASSWORD.
func (s Settings) Password() (string, error) {
	if s.PasswordFile != "" {
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("reading the password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimRight(line, "\r"); line == "" {
			return "", fmt.Errorf("password file %s: first line empty", s.PasswordFile)
		}
		return line, nil
	}
	if p := os.Getenv("KBHARNESS_PASSWORD"); p != "" {
		return p, nil
	}
	return "", ErrNoPassword
}

// PollFor is the polling interval for u: its ?poll= if set, else s.Poll.
func (s Settings) PollFor(u *URL) (time.Duration, error) {
	v := u.Query.Get("poll")
	if v == "" {
		return s.Poll, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Millisecond || d > time.Minute {
		return 0, fmt.Errorf("target %s: poll=%q: want a duration from 10ms to 1m", u, v)
	}
	return d, nil
}
