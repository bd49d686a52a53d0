package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/kbharness/kbharness/netcfg"
)

// sshTransport runs each command in its own session of one connection.
type sshTransport struct {
	client *ssh.Client
	agent  net.Conn // nil without an agent
}

// dialSSH connects as u.User, following OpenSSH: the host key must be in
// known_hosts; keys come from the identity set, else the agent and
// ~/.ssh/id_*; a password (KBHARNESS_PASSWORD_FILE) is tried last if set.
func dialSSH(ctx context.Context, u *URL, s Settings) (transport, error) {
	home, _ := os.UserHomeDir()
	khFile := firstNonEmpty(u.Query.Get("known_hosts"), s.KnownHosts, filepath.Join(home, ".ssh", "known_hosts"))
	hostKey, err := knownhosts.New(khFile)
	if err != nil {
		return nil, fmt.Errorf("host keys: %w (add the host's key, e.g. `ssh-keyscan -p PORT HOST >> %s`, or set KBHARNESS_SSH_KNOWN_HOSTS)", err, khFile)
	}
	t := &sshTransport{}
	var methods []ssh.AuthMethod
	var tried []string
	if id := firstNonEmpty(u.Query.Get("identity"), s.Identity); id != "" {
		signer, err := loadKey(id)
		if err != nil {
			return nil, err
		}
		methods = append(methods, ssh.PublicKeys(signer))
		tried = append(tried, id)
	} else {
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
			if c, err := net.Dial("unix", sock); err == nil {
				t.agent = c
				methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(c).Signers))
				tried = append(tried, "the agent")
			}
		}
		var signers []ssh.Signer
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			p := filepath.Join(home, ".ssh", name)
			if signer, err := loadKey(p); err == nil {
				signers = append(signers, signer)
				tried = append(tried, p)
			}
		}
		if len(signers) > 0 {
			methods = append(methods, ssh.PublicKeys(signers...))
		}
	}
	if pw, err := s.Password(); err == nil {
		methods = append(methods, ssh.Password(pw))
		tried = append(tried, "the password")
	} else if !errors.Is(err, ErrNoPassword) {
		return nil, err
	}
	if len(methods) == 0 {
		return nil, errors.New("no SSH credentials: no agent, no ~/.ssh/id_ed25519, id_ecdsa or id_rsa, no KBHARNESS_SSH_IDENTITY, no password")
	}
	cfg := &ssh.ClientConfig{User: u.User, Auth: methods, HostKeyCallback: hostKey}
	// ClientConfig.Timeout only binds ssh.Dial: the connect and the
	// handshake here are bounded by sshConnectTimeout or ctx, the sooner.
	d := net.Dialer{Timeout: sshConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.Address())
	if err != nil {
		t.close()
		return nil, err
	}
	deadline := time.Now().Add(sshConnectTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	c, chans, reqs, err := ssh.NewClientConn(conn, u.Address(), cfg)
	if err != nil {
		conn.Close()
		t.close()
		var keyErr *knownhosts.KeyError
		if errors.As(err, &keyErr) {
			return nil, fmt.Errorf("host key of %s not accepted by %s: %w", u.Address(), khFile, err)
		}
		return nil, fmt.Errorf("%w (tried %s)", err, strings.Join(tried, ", "))
	}
	conn.SetDeadline(time.Time{})
	t.client = ssh.NewClient(c, chans, reqs)
	return t, nil
}

func loadKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SSH identity: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("SSH identity %s: %w (passphrase-protected keys go in the agent)", path, err)
	}
	return signer, nil
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// run runs argv as one command line: POSIX-quoted for a Linux shell,
// Windows-quoted (see WindowsCommandLine) for cmd.exe, OpenSSH's default
// shell on Windows.
func (t *sshTransport) run(ctx context.Context, argv []string, stdin []byte, windows bool) (netcfg.Output, error) {
	if len(argv) == 0 {
		return netcfg.Output{}, &netcfg.CommandError{Err: errors.New("empty argv")}
	}
	line := ShellCommandLine(argv)
	if windows {
		line = WindowsCommandLine(argv)
	}
	sess, err := t.client.NewSession()
	if err != nil {
		return netcfg.Output{}, &netcfg.CommandError{Argv: argv, Err: fmt.Errorf("ssh session: %w", err)}
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if stdin != nil {
		sess.Stdin = bytes.NewReader(stdin)
	}
	done := make(chan error, 1)
	if err := sess.Start(line); err != nil {
		return netcfg.Output{}, &netcfg.CommandError{Argv: argv, Err: fmt.Errorf("ssh: %w", err)}
	}
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		<-done
		err = ctx.Err()
	}
	out := netcfg.Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exit *ssh.ExitError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &exit):
		out.ExitCode = exit.ExitStatus()
		return out, &netcfg.CommandError{Argv: argv, Output: out}
	default:
		out.ExitCode = -1
		return out, &netcfg.CommandError{Argv: argv, Output: out, Err: err}
	}
}

func (t *sshTransport) close() error {
	var err error
	if t.client != nil {
		err = t.client.Close()
	}
	if t.agent != nil {
		t.agent.Close()
	}
	return err
}

// sshConnectTimeout bounds the TCP connect and the SSH handshake each.
const sshConnectTimeout = 15 * time.Second
