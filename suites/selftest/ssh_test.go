package selftest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework/inject"
	"github.com/kbharness/kbharness/suites/registry"
)

// sshd is Debian's OpenSSH server (package openssh-server).
const sshd = "/usr/sbin/sshd"

// Ports of the lab host's sshd: a Linux login, and (ForceCommand
// kbh-standin ssh-command) one that answers as Windows OpenSSH would.
const (
	linuxSSHPort   = 22
	windowsSSHPort = 2222
)

// sshLab is a namespace lab whose host runs OpenSSH's sshd on
// 192.0.2.20. The suite binary runs in the gateway namespace and reaches
// the host only through -kb.target ssh://..., with a key and a
// known_hosts file made for the test.
type sshLab struct {
	lab        *lab.Lab
	host, gw   string // namespaces
	flags      []string
	stateDir   string
	knownHosts string
	key        string
}

// newSSHLab builds the lab from the Wine lab fixture (lan0 and lan1 with
// every address the default and multihomed fixtures name), starts sshd in
// its host namespace and, when standinOS is set, the stand-in server
// (started with serveFlags) that the Windows port's ForceCommand forwards
// to.
func newSSHLab(t *testing.T, standinOS, inject string, serveFlags ...string) *sshLab {
	t.Helper()
	skipUnlessRoot(t)
	if _, err := os.Stat(sshd); err != nil {
		t.Skipf("needs OpenSSH's server (%s): apt-get install openssh-server", sshd)
	}
	f, err := fixtures.LoadLab("../../.ci/wine/lab/wine-namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.New(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &sshLab{lab: l, host: l.Namespaces[lab.HostRole], gw: l.PeerNamespace(0), stateDir: t.TempDir()}
	dir := t.TempDir()
	keygen := func(name string) string {
		p := filepath.Join(dir, name)
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", p).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		return p
	}
	hostKey := keygen("host_key")
	s.key = keygen("client_key")
	pub := func(p string) string {
		b, err := os.ReadFile(p + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(string(b))[:2], " ")
	}
	s.knownHosts = filepath.Join(dir, "known_hosts")
	writeFile(t, s.knownHosts, fmt.Sprintf("192.0.2.20 %s\n[192.0.2.20]:%d %s\n", pub(hostKey), windowsSSHPort, pub(hostKey)))
	writeFile(t, filepath.Join(dir, "authorized_keys"), pub(s.key)+"\n")
	config := []string{
		fmt.Sprintf("ListenAddress 192.0.2.20:%d", linuxSSHPort),
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"PidFile none",
		"LogLevel VERBOSE",
	}
	if standinOS != "" {
		server := filepath.Join(dir, "kbh-standin")
		if out, err := exec.Command(goTool(), "build", "-o", server, "github.com/kbharness/kbharness/cmd/kbh-standin").CombinedOutput(); err != nil {
			t.Fatalf("building kbh-standin: %v\n%s", err, out)
		}
		addr := startStandin(t, server, s.host, inject, append([]string{"--os", standinOS}, serveFlags...)...)
		config = append(config, fmt.Sprintf("ListenAddress 192.0.2.20:%d", windowsSSHPort),
			fmt.Sprintf("Match LocalPort %d", windowsSSHPort),
			fmt.Sprintf("\tForceCommand %s ssh-command --server %s", server, addr))
	}
	cfg := filepath.Join(dir, "sshd_config")
	writeFile(t, cfg, strings.Join(config, "\n")+"\n")
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		t.Fatal(err)
	}
	startSSHD(t, s.host, cfg, plainShellPasswd(t, dir), standinOS != "")
	s.flags = []string{"-kb.ssh-identity", s.key, "-kb.ssh-known-hosts", s.knownHosts, "-kb.poll", "50ms"}
	return s
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// plainShellPasswd writes a copy of /etc/passwd whose root has /bin/sh as
// its shell: sshd runs every command through the user's shell, and bash,
// started by sshd, reads ~/.bashrc (here it starts pyenv, slow or hanging).
func plainShellPasswd(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if f := strings.Split(l, ":"); len(f) == 7 && f[0] == "root" {
			f[6] = "/bin/sh"
			lines[i] = strings.Join(f, ":")
		}
	}
	p := filepath.Join(dir, "passwd")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startSSHD runs sshd in the foreground inside ns until the test ends, in
// a mount namespace of its own where passwd is bind-mounted over
// /etc/passwd (nothing outside it changes), and waits until it listens on
// every port it was given.
func startSSHD(t *testing.T, ns, config, passwd string, windows bool) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount --bind "$0" /etc/passwd && exec "$@"`, passwd, sshd, "-D", "-e", "-f", config)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	want := 1
	if windows {
		want = 2
	}
	listening := make(chan struct{})
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		n := 0
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Server listening on") {
				if n++; n == want {
					close(listening)
				}
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatalf("sshd did not listen within 10s:\n%s", log.String())
	}
}

// suite runs the suite binary in the gateway namespace against target
// and returns its output and error.
func (s *sshLab) suite(t *testing.T, target string, args ...string) (string, error) {
	t.Helper()
	argv := append([]string{"netns", "exec", s.gw, suiteBin, "-kb.target", target, "-ginkgo.no-color"}, s.flags...)
	cmd := exec.Command("ip", append(argv, args...)...)
	cmd.Env = childEnv("KBHARNESS_STATE_DIR="+s.stateDir, "KBHARNESS_REPORT_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// passed is the count of passed specs in Ginkgo's summary line.
func passed(summary string) int {
	m := regexp.MustCompile(`(\d+) Passed`).FindStringSubmatch(summary)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// snapshot is the host's snapshot, read in-process.
func (s *sshLab) snapshot(t *testing.T) *netcfg.Snapshot { return snapshotOf(t, s.host) }

const sshLinuxTarget = "ssh://root@192.0.2.20"

// TestSSHTargetLinux drives a Linux lab host over SSH with the suite binary
// running in the gateway namespace: OpenSSH's real server, the Linux
// commands (ip -j) through x/crypto/ssh. The specs pass and leave the host
// at its baseline; with each injector acting on the host's kernel they go
// red, saying what broke.
func TestSSHTargetLinux(t *testing.T) {
	s := newSSHLab(t, "", "")
	baseline := s.snapshot(t)

	out, err := s.suite(t, sshLinuxTarget, "-ginkgo.v", "-ginkgo.label-filter", "secondary-ip-route-loss || KB287032 || hostcheck || KB2901197 || KB943650")
	summary := lastLine(out, "Passed |")
	t.Logf("green: %s", summary)
	if err != nil {
		t.Fatalf("suites over SSH failed: %v\n%s", err, tail(out))
	}
	if !strings.Contains(out, "target "+sshLinuxTarget+": Linux ") {
		t.Errorf("the probe's report is missing:\n%s", tail(out))
	}
	if passed(summary) < 10 {
		t.Errorf("want at least 10 specs passing over SSH: %q", summary)
	}
	if d := netcfg.Diff(baseline, s.snapshot(t)); !d.Empty() {
		t.Errorf("after the run the host differs from its baseline:\n%s", d)
	}

	for _, d := range []registry.SelfTest{
		{Injector: "secondary-ip-route-loss", Labels: "secondary-ip-route-loss && iproute2",
			// Polled events race the store check: the failure names the lost
			// route either as an event or as missing from the store.
			Want: []string{"[FAIL] secondary-ip-route-loss", "IPv4, route by iproute2", "via 192.0.2.1"}},
		{Injector: "kb287032", Labels: "KB287032 && iproute2 && !explorer",
			Want: []string{"removed LIFO [KB287032", "+ 198.51.100.103 dev lan1 proto boot metric 0"}},
	} {
		t.Run(d.Injector, func(t *testing.T) {
			stop, err := inject.Start(context.Background(), d.Injector, s.lab)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.suite(t, sshLinuxTarget, "-ginkgo.label-filter", d.Labels)
			if serr := stop(); serr != nil {
				t.Errorf("stopping the injector: %v", serr)
			}
			t.Logf("%s injected: %s", d.Injector, lastLine(out, "Passed |"))
			if err == nil {
				t.Fatalf("%q passed over SSH with %s injected: its check cannot fail\n%s", d.Labels, d.Injector, tail(out))
			}
			for _, w := range d.Want {
				if !strings.Contains(out, w) {
					t.Errorf("failure output lacks %q", w)
				}
			}
			if t.Failed() {
				t.Logf("suite output:\n%s", tail(out))
			}
		})
	}
}

// TestSSHTargetKillAndCleanup kills the controller (kill -9 of the suite
// binary in the gateway namespace) at seeded moments while it changes the
// host over SSH; `kbharness cleanup --target ssh://...` then restores the
// host from the journal the controller kept.
func TestSSHTargetKillAndCleanup(t *testing.T) {
	s := newSSHLab(t, "", "")
	baseline := s.snapshot(t)
	rng := rand.New(rand.NewPCG(killSeed(t), 0))
	const kills = 4
	dirty := 0
	env := childEnv("KBHARNESS_STATE_DIR="+s.stateDir, "KBHARNESS_REPORT_DIR="+t.TempDir())
	for i := range kills {
		// Killed at a seeded moment after the spec began changing the host.
		after := time.Duration(rng.IntN(1500)) * time.Millisecond
		args := append([]string{"netns", "exec", s.gw, suiteBin, "-kb.target", sshLinuxTarget, "-ginkgo.v", "-ginkgo.no-color"}, s.flags...)
		k := runAndKillCmd(t, exec.Command("ip", append(args, "-ginkgo.label-filter=secondary-ip-route-loss && iproute2")...), env, "STEP: adding the persistent default route", after)
		if !netcfg.Diff(baseline, s.snapshot(t)).Empty() {
			dirty++
		}
		cmd := exec.Command("ip", "netns", "exec", s.gw, toolBin, "cleanup", "--target", sshLinuxTarget,
			"--ssh-identity", s.key, "--ssh-known-hosts", s.knownHosts)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("kill %d: kbharness cleanup --target: %v\n%s", i, err, out)
		}
		if d := netcfg.Diff(baseline, s.snapshot(t)); !d.Empty() {
			t.Errorf("kill %d at %v: after cleanup the host differs from its baseline:\n%s\ncleanup said:\n%s\nrun output:\n%s", i, after, d, out, tail(k.output))
		}
		if journals, _ := filepath.Glob(filepath.Join(s.stateDir, "journal", "*.journal")); len(journals) > 0 {
			t.Errorf("kill %d: journals left after cleanup: %v", i, journals)
		}
	}
	t.Logf("%d kills of the SSH controller, %d left the host changed; every one restored by cleanup --target", kills, dirty)
	if dirty == 0 {
		t.Errorf("no kill left the host changed: the test proved nothing about cleanup")
	}
}

// TestSSHTargetWindowsDialect drives the Windows command stand-ins through
// the same OpenSSH server, on a port whose ForceCommand makes it answer as
// Windows OpenSSH does (cmd /c, Windows command-line splitting), the
// stand-ins answering as Server 2008 R2: ver 6.1.7601, PowerShell 2.0, no
// NetTCPIP cmdlets. The probe finds the Windows dialect; route.exe and
// netsh run end to end over SSH and pass, and so does AddIPAddress by
// P/Invoke from PowerShell 2.0; the NetTCPIP specs skip, the probe finding
// no Get-NetRoute; hostcheck compares reg query with route print; with the
// stand-ins' defect injected, secondary-ip-route-loss goes red.
func TestSSHTargetWindowsDialect(t *testing.T) {
	target := fmt.Sprintf("ssh://root@192.0.2.20:%d", windowsSSHPort)
	for _, tc := range []struct {
		name, inject string
		wantRed      bool
	}{
		{"green", "", false},
		{"injected defect", "secondary-ip-route-loss", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSSHLab(t, "2008r2", tc.inject)
			filter := "secondary-ip-route-loss || KB287032 || hostcheck"
			if tc.wantRed {
				filter = "secondary-ip-route-loss"
			}
			out, err := s.suite(t, target, "-kb.lab-dir", "../../.ci/wine/lab", "-ginkgo.v", "-ginkgo.label-filter", filter)
			summary := lastLine(out, "Passed |")
			t.Logf("%s: %s", tc.name, summary)
			switch {
			case tc.wantRed && err == nil:
				t.Fatalf("secondary-ip-route-loss passed over SSH with the stand-ins' defect injected\n%s", tail(out))
			case tc.wantRed && !strings.Contains(out, "the persistent route was deleted when 192.0.2.") && !strings.Contains(out, "via 192.0.2.1 missing from the"):
				t.Errorf("red, but not for the lost persistent route:\n%s", tail(out))
			case !tc.wantRed && err != nil:
				t.Fatalf("Windows-dialect specs over SSH failed: %v\n%s", err, tail(out))
			case !tc.wantRed:
				for _, w := range []string{
					"Microsoft Windows [Version 6.1.7601] (windows dialect), PowerShell 2.0",
					"The term 'Get-NetRoute' is not recognized",
				} {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q", w)
					}
				}
				if passed(summary) < 20 {
					t.Errorf("want the route.exe, netsh and AddIPAddress entries and hostcheck (at least 20) passing over SSH: %q", summary)
				}
			}
		})
	}
}

// Wine and mingw-w64, for the legacy hammer agent.
const (
	wine       = "/usr/lib/wine/wine64"
	wineserver = "/usr/lib/wine/wineserver"
	mingwGCC   = "x86_64-w64-mingw32-gcc"
)

// TestSSHTargetLegacyHammer runs KB2901197 on a Windows-dialect guest over
// SSH the way a legacy guest runs it: the suite copies the C hammer agent
// (agent/hammer, built with mingw-w64) to C:\Windows\Temp through
// PowerShell's stdin, narrows the guest's dynamic port range with netsh,
// runs the agent, reads its report and the Tcpip events (wevtutil), and
// restores the range. The guest is the stand-ins posing as 2008 R2, which
// keep the copied file in a Wine prefix and run it under Wine inside the
// lab host namespace: the agent's sockets are the host's real ones.
func TestSSHTargetLegacyHammer(t *testing.T) {
	for _, tool := range []string{wine, wineserver} {
		if _, err := os.Stat(tool); err != nil {
			t.Skipf("needs Wine (%s): apt-get install wine64", tool)
		}
	}
	if _, err := exec.LookPath(mingwGCC); err != nil {
		t.Skipf("needs %s: apt-get install gcc-mingw-w64-x86-64-win32", mingwGCC)
	}
	dir := t.TempDir()
	agent := filepath.Join(dir, "kbh-hammer.exe")
	if out, err := exec.Command(mingwGCC, "-O2", "-o", agent, "../../agent/hammer/kbh-hammer.c", "-lws2_32").CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}
	prefix := filepath.Join(dir, "prefix")
	s := newSSHLab(t, "2008r2", "", "--wine-prefix", prefix, "--wine", wine)
	// The prefix is made inside the host namespace and its wineserver
	// stopped: the next one starts there, with the stand-in server's
	// programs, and makes their sockets in that namespace.
	wineEnv := []string{"WINEPREFIX=" + prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml="}
	boot := exec.Command("ip", "netns", "exec", s.host, wine, "wineboot", "-i")
	boot.Env = append(os.Environ(), wineEnv...)
	if out, err := boot.CombinedOutput(); err != nil {
		t.Fatalf("wineboot: %v\n%s", err, out)
	}
	stopWine := func() {
		k := exec.Command(wineserver, "-k", "-w")
		k.Env = append(os.Environ(), wineEnv...)
		k.Run()
	}
	stopWine()
	t.Cleanup(stopWine)

	portRange := func() string {
		out, err := exec.Command("ip", "netns", "exec", s.host, "cat", "/proc/sys/net/ipv4/ip_local_port_range").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	before, rangeBefore := s.snapshot(t), portRange()
	out, err := s.suite(t, fmt.Sprintf("ssh://root@192.0.2.20:%d", windowsSSHPort), "-kb.lab-dir", "../../.ci/wine/lab",
		"-kb.hammer-agent", agent, "-ginkgo.v", "-ginkgo.label-filter", "KB2901197")
	summary := lastLine(out, "Passed |")
	t.Logf("KB2901197 by the agent over SSH: %s\n  %s\n  %s", summary, lastLine(out, " attempts in "), lastLine(out, "  success "))
	if err != nil {
		t.Fatalf("KB2901197 over SSH failed: %v\n%s", err, tail(out))
	}
	for _, w := range []string{"on the guest with the legacy agent", "narrowing the dynamic port range to "} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, tail(out))
		}
	}
	if passed(summary) != 1 {
		t.Errorf("want the production spec passing by the agent: %q", summary)
	}
	if d := netcfg.Diff(before, s.snapshot(t)); !d.Empty() {
		t.Errorf("after the run the host differs:\n%s", d)
	}
	if after := portRange(); after != rangeBefore {
		t.Errorf("the guest's dynamic port range is %q after the run, was %q", after, rangeBefore)
	}

	// The support engineer's command: the positive control by hand, on the
	// guest, through a range the spec left no TIME_WAIT in.
	// bind-then-connect through it must show the signature (exit 1), then
	// the range is back.
	cmd := exec.Command("ip", "netns", "exec", s.gw, toolBin, "hammer", "--target", fmt.Sprintf("ssh://root@192.0.2.20:%d", windowsSSHPort),
		"--agent", agent, "--ssh-identity", s.key, "--ssh-known-hosts", s.knownHosts,
		"--listen", "192.0.2.20", "--allow", "192.0.2.0/24", "--range", "50000-50254", "--mode", "bind-connect", "--count", "1000")
	cmd.Env = childEnv("KBHARNESS_STATE_DIR=" + s.stateDir)
	hout, err := cmd.CombinedOutput()
	t.Logf("kbharness hammer --target ssh://... --agent:\n%s", hout)
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(hout), "KB2901197 signature seen") {
		t.Errorf("the agent's positive control: exit %d (%v), want 1 with the signature", code, err)
	}
	if after := portRange(); after != rangeBefore {
		t.Errorf("the guest's dynamic port range is %q after kbharness hammer, was %q", after, rangeBefore)
	}
}
