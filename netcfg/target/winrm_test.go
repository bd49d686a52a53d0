package target

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

const (
	winrmUser     = "Administrator"
	winrmPassword = "Kb-Pa55w0rd!"
	shellURI      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	putPath       = `C:\Windows\Temp\kb.bin`
	offerBasic    = `Basic realm="WSMAN"`
)

var (
	psLine = WindowsCommandLine(pwsh.EncodedArgv("$PSVersionTable.PSVersion.ToString()"))

	// win7 is the fake Windows 7 SP1 host's commands: each command line
	// with the exchanges (testdata/winrm/NAME.xml) answering its Receives in
	// turn; nil: it never ends.
	win7 = map[string][]string{
		"uname -sr":                            {"receive-uname"},
		"cmd /c ver":                           {"receive-ver"},
		psLine:                                 {"receive-psversion"},
		"netsh interface ipv4 show interfaces": {"fault-timedout", "receive-netsh-1", "receive-netsh-2"},
		`cmd /c "echo out& echo err>&2& exit /b 3"`: {"receive-exit3"},
		WindowsCommandLine(PutWindowsArgv(putPath)): {"receive-put"},
		"ping -t 192.0.2.1":                         nil,
	}
)

// wsmanRequest is what the fake reads from a request.
type wsmanRequest struct {
	Action      string    `xml:"Header>Action"`
	To          string    `xml:"Header>To"`
	MessageID   string    `xml:"Header>MessageID"`
	ResourceURI string    `xml:"Header>ResourceURI"`
	ShellID     string    `xml:"Header>SelectorSet>Selector"`
	Identify    *struct{} `xml:"Body>Identify"`
	Shell       struct {
		InputStreams, OutputStreams string
	} `xml:"Body>Shell"`
	Command   string   `xml:"Body>CommandLine>Command"`
	Arguments []string `xml:"Body>CommandLine>Arguments"`
	Send      struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		End       bool   `xml:"End,attr"`
		Data      string `xml:",chardata"`
	} `xml:"Body>Send>Stream"`
	Receive struct {
		CommandID string `xml:"CommandId,attr"`
		Streams   string `xml:",chardata"`
	} `xml:"Body>Receive>DesiredStream"`
	Signal struct {
		CommandID string `xml:"CommandId,attr"`
		Code      string
	} `xml:"Body>Signal"`
}

// fakeWinRM is a WS-Management server standing in for a Windows 7 SP1
// host. It checks what the client sends (credentials, envelope, shell and
// command ids, command lines, stdin) and answers with the exchanges
// recorded in testdata/winrm.
type fakeWinRM struct {
	t         *testing.T
	srv       *httptest.Server
	offers    []string // the WWW-Authenticate headers of its 401s
	ntlm      bool     // it offers Negotiate and checks NTLM, else Basic
	challenge []byte   // the NTLM CHALLENGE_MESSAGE it sends

	mu         sync.Mutex
	n          int
	challenged map[net.Conn]bool // NTLM: sent the CHALLENGE
	authed     map[net.Conn]bool // NTLM: authenticated
	handshakes int
	shells     map[string]bool // open shells
	cmds       map[string]*fakeCmd
	lines      []string      // command lines run
	actions    []string      // the requests answered, by action
	biggest    int           // the largest request, in bytes
	answered   chan struct{} // a request was answered (a wake-up, buffered 1)
}

type fakeCmd struct {
	shell   string
	replies []string // see win7
	hang    bool
	stdin   []byte
	ended   bool          // stdin has
	eof     chan struct{} // closed after the answer to stdin's end
}

type connKey struct{}

func newFakeWinRM(t *testing.T, https bool, offers ...string) *fakeWinRM {
	f := &fakeWinRM{t: t, offers: offers, answered: make(chan struct{}, 1), ntlm: slices.Contains(offers, "Negotiate"),
		challenged: map[net.Conn]bool{}, authed: map[net.Conn]bool{}, shells: map[string]bool{}, cmds: map[string]*fakeCmd{}}
	b, err := os.ReadFile(filepath.Join("testdata", "winrm", "ntlm-challenge.b64"))
	if err == nil {
		f.challenge, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	}
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewUnstartedServer(f)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the TLS test's refused handshakes
	f.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	if https {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

// open opens the fake as a target, with query after the URL's host:port
// and the client given password.
func (f *fakeWinRM) open(ctx context.Context, query, password string) (*Conn, error) {
	pwFile := filepath.Join(f.t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		f.t.Fatal(err)
	}
	c, err := Open(ctx, "winrm://"+winrmUser+"@"+f.srv.Listener.Addr().String()+query, Settings{PasswordFile: pwFile})
	if err == nil {
		f.t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func (f *fakeWinRM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/wsman" || r.Header.Get("Content-Type") != soapContentType {
		f.t.Errorf("%s %s, Content-Type %q: want POST /wsman, %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), soapContentType)
	}
	if !f.authenticate(w, r) {
		return
	}
	var req wsmanRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		f.fail(w, "request: %v\n%s", err, body)
		return
	}
	f.mu.Lock()
	f.biggest = max(f.biggest, len(body))
	f.mu.Unlock()
	if req.Identify != nil {
		f.reply(w, "identify", &req, "", "")
		return
	}
	if req.To != f.srv.URL+"/wsman" || req.ResourceURI != shellURI+"/cmd" || !strings.HasPrefix(req.MessageID, "uuid:") {
		f.fail(w, "To %q, ResourceURI %q, MessageID %q", req.To, req.ResourceURI, req.MessageID)
		return
	}
	switch path.Base(req.Action) {
	case "Create":
		if req.Shell.InputStreams != "stdin" || req.Shell.OutputStreams != "stdout stderr" {
			f.fail(w, "shell streams %+v", req.Shell)
			return
		}
		f.mu.Lock()
		f.n++
		id := fmt.Sprintf("0F7B1D2C-5E6A-4B3C-9D8E-%012X", f.n)
		f.shells[id] = true
		f.mu.Unlock()
		f.reply(w, "create", &req, id, "")
	case "Command":
		replies, known := win7[req.Command]
		f.mu.Lock()
		open := f.shells[req.ShellID]
		f.n++
		id := fmt.Sprintf("6A2E4C8B-1D3F-4E5A-8B7C-%012X", f.n)
		f.cmds[id] = &fakeCmd{shell: req.ShellID, replies: slices.Clone(replies), hang: replies == nil, eof: make(chan struct{})}
		f.lines = append(f.lines, req.Command)
		f.mu.Unlock()
		if !open || !known || len(req.Arguments) > 0 {
			f.fail(w, "command %q, arguments %q in shell %q (open: %v)", req.Command, req.Arguments, req.ShellID, open)
			return
		}
		f.reply(w, "command", &req, req.ShellID, id)
	case "Send":
		c := f.command(w, &req, req.Send.CommandID)
		if c == nil {
			return
		}
		data, err := base64.StdEncoding.DecodeString(req.Send.Data)
		f.mu.Lock()
		ended := c.ended
		c.stdin = append(c.stdin, data...)
		c.ended = ended || req.Send.End
		f.mu.Unlock()
		if err != nil || req.Send.Name != "stdin" || ended {
			f.fail(w, "Send to %q after its end (%v), or not base64: %v", req.Send.Name, ended, err)
			return
		}
		f.reply(w, "send", &req, req.ShellID, req.Send.CommandID)
		if req.Send.End {
			close(c.eof)
		}
	case "Receive":
		// Answered once stdin is closed, as for a command that reads it all.
		c := f.command(w, &req, req.Receive.CommandID)
		if c == nil {
			return
		}
		if req.Receive.Streams != "stdout stderr" {
			f.fail(w, "Receive of streams %q", req.Receive.Streams)
			return
		}
		if !wait(r.Context(), c.eof) || c.hang {
			<-r.Context().Done()
			return
		}
		f.mu.Lock()
		next := ""
		if len(c.replies) > 0 {
			next, c.replies = c.replies[0], c.replies[1:]
		}
		f.mu.Unlock()
		if next == "" {
			f.fail(w, "Receive after the command's end")
			return
		}
		f.reply(w, next, &req, req.ShellID, req.Receive.CommandID)
	case "Signal":
		if f.command(w, &req, req.Signal.CommandID) == nil {
			return
		}
		if req.Signal.Code != shellURI+"/signal/terminate" {
			f.fail(w, "signal %q", req.Signal.Code)
			return
		}
		f.reply(w, "signal", &req, req.ShellID, req.Signal.CommandID)
	case "Delete":
		f.mu.Lock()
		open := f.shells[req.ShellID]
		delete(f.shells, req.ShellID)
		f.mu.Unlock()
		if !open {
			f.fail(w, "Delete of shell %q, not open", req.ShellID)
			return
		}
		f.reply(w, "delete", &req, req.ShellID, "")
	default:
		f.fail(w, "action %q", req.Action)
	}
}

// command finds the command a request names, in the shell it names.
func (f *fakeWinRM) command(w http.ResponseWriter, req *wsmanRequest, id string) *fakeCmd {
	f.mu.Lock()
	c := f.cmds[id]
	f.mu.Unlock()
	if c == nil || c.shell != req.ShellID {
		f.fail(w, "%s of command %q in shell %q: no such command", path.Base(req.Action), id, req.ShellID)
		return nil
	}
	return c
}

// reply answers req with the exchange testdata/winrm/name.xml.
func (f *fakeWinRM) reply(w http.ResponseWriter, name string, req *wsmanRequest, shell, command string) {
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "winrm", name+".xml"))
	if err != nil {
		f.fail(w, "%v", err)
		return
	}
	f.mu.Lock()
	f.n++
	id := fmt.Sprintf("uuid:3C1A9E52-7B4D-4F60-A2E8-%012X", f.n)
	f.actions = append(f.actions, path.Base(cmp.Or(req.Action, "Identify")))
	f.mu.Unlock()
	w.Header().Set("Content-Type", soapContentType)
	if strings.HasPrefix(name, "fault-") {
		w.WriteHeader(http.StatusInternalServerError)
	}
	tmpl.Execute(w, map[string]string{"MessageID": id, "RelatesTo": req.MessageID, "Address": f.srv.URL + "/wsman", "ShellID": shell, "CommandID": command})
	select {
	case f.answered <- struct{}{}:
	default:
	}
}

func (f *fakeWinRM) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fake WinRM: "+format, args...)
	http.Error(w, "unexpected request", http.StatusBadRequest)
}

// authenticate checks the request's credentials, answering 401 (with the
// NTLM CHALLENGE to a NEGOTIATE) if they are missing or wrong. NTLM
// authenticates the connection, as on Windows.
func (f *fakeWinRM) authenticate(w http.ResponseWriter, r *http.Request) bool {
	deny := func() {
		for _, o := range f.offers {
			w.Header().Add("WWW-Authenticate", o)
		}
		w.WriteHeader(http.StatusUnauthorized)
	}
	if !f.ntlm {
		user, password, ok := r.BasicAuth()
		if ok && user == winrmUser && password == winrmPassword {
			return true
		}
		if ok && user != winrmUser {
			f.t.Errorf("Basic authentication as %q, want %q", user, winrmUser)
		}
		deny()
		return false
	}
	conn := r.Context().Value(connKey{}).(net.Conn)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.authed[conn] {
		return true
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	msg, _ := base64.StdEncoding.DecodeString(token)
	switch {
	case scheme == "":
		deny()
	case scheme != "Negotiate":
		f.t.Errorf("Authorization %s, after an offer of %q", scheme, f.offers)
		deny()
	case ntlmType(msg) == 1: // NEGOTIATE_MESSAGE
		f.challenged[conn] = true
		w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(f.challenge))
		w.WriteHeader(http.StatusUnauthorized)
	case ntlmType(msg) == 3 && f.challenged[conn]: // AUTHENTICATE_MESSAGE
		delete(f.challenged, conn)
		if err := ntlmCheck(msg, f.challenge, winrmUser, winrmPassword); err != nil {
			f.t.Logf("fake WinRM: NTLM: %v", err)
			deny()
			return false
		}
		f.authed[conn] = true
		f.handshakes++
		return true
	default:
		f.t.Errorf("NTLM message %q out of turn", msg)
		deny()
	}
	return false
}

func ntlmType(msg []byte) uint32 {
	if len(msg) < 12 || string(msg[:8]) != "NTLMSSP\x00" {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[8:])
}

// ntlmCheck verifies an NTLMv2 AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) as a
// server does (3.3.2): the user name, and the NTProofStr, an HMAC-MD5 of the
// CHALLENGE's server challenge keyed by NTOWFv2 of the password.
func ntlmCheck(msg, challenge []byte, user, password string) error {
	if len(msg) < 64 {
		return errors.New("AUTHENTICATE_MESSAGE too short")
	}
	field := func(at int) []byte {
		n, off := int(binary.LittleEndian.Uint16(msg[at:])), int(binary.LittleEndian.Uint32(msg[at+4:]))
		if off+n > len(msg) {
			return nil
		}
		return msg[off : off+n]
	}
	nt, domain, name := field(20), field(28), field(36)
	if got := fromUTF16LE(name); got != user {
		return fmt.Errorf("user %q, want %q", got, user)
	}
	if len(nt) < 16 {
		return errors.New("no NTLMv2 response")
	}
	h := md4.New()
	h.Write(utf16LE(password))
	ntowf := hmacMD5(h.Sum(nil), utf16LE(strings.ToUpper(user)), domain)
	if !hmac.Equal(hmacMD5(ntowf, challenge[24:32], nt[16:]), nt[:16]) {
		return errors.New("the NTLMv2 response does not match the password")
	}
	return nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func utf16LE(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

func fromUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// wait waits for c to close; false if ctx ends first.
func wait(ctx context.Context, c chan struct{}) bool {
	select {
	case <-c:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f *fakeWinRM) state() (lines, actions []string, shells int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.lines), slices.Clone(f.actions), len(f.shells)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var win7Info = Info{Dialect: netcfg.DialectWindows, OS: "Microsoft Windows [Version 6.1.7601]", Version: "6.1.7601", PowerShell: "2.0"}

func TestWinRMOpenProbesWindows7(t *testing.T) {
	f := newFakeWinRM(t, false, offerBasic)
	c, err := f.open(testContext(t), "?http=1", winrmPassword)
	if err != nil {
		t.Fatal(err)
	}
	if c.Info != win7Info {
		t.Errorf("Info = %+v, want %+v", c.Info, win7Info)
	}
	lines, actions, shells := f.state()
	if want := []string{"uname -sr", "cmd /c ver", psLine}; !slices.Equal(lines, want) {
		t.Errorf("command lines %q, want %q", lines, want)
	}
	run := []string{"Create", "Command", "Send", "Receive", "Signal", "Delete"}
	if want := slices.Concat([]string{"Identify"}, run, run, run); !slices.Equal(actions, want) {
		t.Errorf("requests %q, want %q", actions, want)
	}
	if shells != 0 {
		t.Errorf("%d shells left open", shells)
	}
}

func TestWinRMRun(t *testing.T) {
	f := newFakeWinRM(t, false, offerBasic)
	ctx := testContext(t)
	c, err := f.open(ctx, "?http=1", winrmPassword)
	if err != nil {
		t.Fatal(err)
	}

	// A first Receive timing out (w:TimedOut), then output in two parts.
	out, err := c.Run(ctx, []string{"netsh", "interface", "ipv4", "show", "interfaces"})
	want := "\r\nIdx     Met         MTU          State                Name\r\n" +
		"---  ----------  ----------  ------------  ---------------------------\r\n" +
		"  1          50  4294967295  connected     Loopback Pseudo-Interface 1\r\n" +
		" 11          10        1500  connected     Local Area Connection\r\n\r\n"
	if err != nil || string(out.Stdout) != want || len(out.Stderr) != 0 || out.ExitCode != 0 {
		t.Errorf("netsh = %q, %q, exit %d, %v; want %q", out.Stdout, out.Stderr, out.ExitCode, err, want)
	}

	argv := []string{"cmd", "/c", "echo out& echo err>&2& exit /b 3"}
	out, err = c.Run(ctx, argv)
	var ce *netcfg.CommandError
	if !errors.As(err, &ce) || ce.Err != nil || !slices.Equal(ce.Argv, argv) || ce.Output.ExitCode != 3 {
		t.Fatalf("exit 3: error %#v, want a *netcfg.CommandError for exit status 3", err)
	}
	if string(out.Stdout) != "out\r\n" || string(out.Stderr) != "err\r\n" || out.ExitCode != 3 || !bytes.Equal(ce.Output.Stdout, out.Stdout) {
		t.Errorf("exit 3: output %q, %q, exit %d", out.Stdout, out.Stderr, out.ExitCode)
	}
	lines, actions, _ := f.state()
	if got := SplitWindowsCommandLine(lines[len(lines)-1]); !slices.Equal(got, argv) {
		t.Errorf("the server got %q, which splits into %q, want %q", lines[len(lines)-1], got, argv)
	}
	if n := strings.Count(strings.Join(actions, " "), "Receive"); n != 3+3+1 {
		t.Errorf("%d Receives, want 7 (3 probes, 3 for netsh, 1 for cmd)", n)
	}
}

func TestWinRMPut(t *testing.T) {
	f := newFakeWinRM(t, false, offerBasic)
	ctx := testContext(t)
	c, err := f.open(ctx, "?http=1", winrmPassword)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 200_000)
	rand.Read(data)
	if err := c.Put(ctx, putPath, data); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var stdin []byte
	for _, cmd := range f.cmds {
		stdin = append(stdin, cmd.stdin...)
	}
	if string(stdin) != base64.StdEncoding.EncodeToString(data) {
		t.Errorf("the server got %d bytes of stdin, want the %d of the file's base64", len(stdin), base64.StdEncoding.EncodedLen(len(data)))
	}
	if f.biggest > 150*1024 {
		t.Errorf("a request of %d bytes, over Windows 7's MaxEnvelopeSizekb of 150", f.biggest)
	}
}

func TestWinRMNTLM(t *testing.T) {
	f := newFakeWinRM(t, false, "Negotiate", "Kerberos")
	ctx := testContext(t)
	c, err := f.open(ctx, "?http=1", winrmPassword)
	if err != nil {
		t.Fatal(err)
	}
	if c.Info != win7Info {
		t.Errorf("Info = %+v, want %+v", c.Info, win7Info)
	}
	if _, err := c.Run(ctx, []string{"netsh", "interface", "ipv4", "show", "interfaces"}); err != nil {
		t.Error(err)
	}
	// Stdin: Sends while a Receive waits, each on an authenticated connection.
	if err := c.Put(ctx, putPath, make([]byte, 100_000)); err != nil {
		t.Error(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handshakes == 0 || len(f.authed) != f.handshakes {
		t.Errorf("%d NTLM handshakes on %d connections", f.handshakes, len(f.authed))
	}
}

func TestWinRMTLS(t *testing.T) {
	f := newFakeWinRM(t, true, offerBasic)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, query := range []string{"?ca=" + ca, "?insecure=1"} {
		if c, err := f.open(testContext(t), query, winrmPassword); err != nil || c.Info != win7Info {
			t.Errorf("%s: %v", query, err)
		}
	}
	_, err := f.open(testContext(t), "", winrmPassword)
	if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "?ca=") {
		t.Errorf("without ?ca=: %v, want a certificate error", err)
	}
}

func TestWinRMAuthChoice(t *testing.T) {
	for _, c := range []struct {
		offers []string
		query  string
		want   string
	}{
		{[]string{"Negotiate", "Kerberos"}, "&auth=basic", "auth=basic: the server does not offer Basic authentication (it offers: Negotiate, Kerberos"},
		{[]string{offerBasic}, "&auth=ntlm", "auth=ntlm: the server offers neither Negotiate nor NTLM authentication (it offers: Basic)"},
		{[]string{"Kerberos"}, "", "neither NTLM (Negotiate) nor Basic authentication (it offers: Kerberos)"},
		{[]string{offerBasic}, "&auth=kerberos", `auth="kerberos": want ntlm or basic`},
	} {
		f := newFakeWinRM(t, false, c.offers...)
		_, err := f.open(testContext(t), "?http=1"+c.query, winrmPassword)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("offering %q, %s: %v, want an error with %q", c.offers, c.query, err, c.want)
		}
		if _, actions, _ := f.state(); len(actions) > 0 {
			t.Errorf("offering %q, %s: requests %q answered", c.offers, c.query, actions)
		}
	}
}

func TestWinRMBadPassword(t *testing.T) {
	const wrong = "Wr0ng-Pa55word?"
	for _, offers := range [][]string{{offerBasic}, {"Negotiate"}} {
		f := newFakeWinRM(t, false, offers...)
		_, err := f.open(testContext(t), "?http=1", wrong)
		if err == nil || !strings.Contains(err.Error(), "refused (HTTP 401)") {
			t.Errorf("%s: %v, want a 401", offers[0], err)
		} else if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), winrmPassword) {
			t.Errorf("%s: the error shows the password: %v", offers[0], err)
		}
	}
}

func TestWinRMCancel(t *testing.T) {
	f := newFakeWinRM(t, false, offerBasic)
	c, err := f.open(testContext(t), "?http=1", winrmPassword)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Run(ctx, []string{"ping", "-t", "192.0.2.1"})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %v after the cancel", took-200*time.Millisecond)
	}
	var ce *netcfg.CommandError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want a *netcfg.CommandError for context.Canceled", err)
	}
	// The command is terminated and its shell deleted in the background:
	// each answer the server gives wakes the check, for at most 5s.
	deadline := time.After(5 * time.Second)
	for {
		_, actions, shells := f.state()
		if shells == 0 && slices.Equal(actions[len(actions)-2:], []string{"Signal", "Delete"}) {
			break
		}
		select {
		case <-f.answered:
		case <-deadline:
			t.Fatalf("after the cancel: %d shells open, requests %q", shells, actions)
		}
	}
}
