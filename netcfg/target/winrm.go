package target

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/kbharness/kbharness/netcfg"
)

// winrmTransport runs each command in a cmd.exe shell of its own over
// WS-Management, with the github.com/masterzen/winrm client.
type winrmTransport struct {
	endpoint       *winrm.Endpoint
	url            string // https://host:5986/wsman
	user, password string
	auth           string // "NTLM" or "Basic"
	lanes          *lanes
	client         *http.Client
}

const soapContentType = "application/soap+xml;charset=UTF-8"

// identify is a WS-Management Identify request (DSP0226 11), the request
// dialWinRM asks the server's authentication schemes with, then checks the
// credentials with.
const identify = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
	`xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">` +
	`<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`

// dialWinRM reaches u's WS-Management service: HTTPS on port 5986, or plain
// HTTP on 5985 with ?http=1. The server's certificate must be trusted by
// this machine, or by ?ca=FILE (a PEM CA certificate); ?insecure=1 skips the
// check. Authentication is as the server offers, asked by an
// unauthenticated request: NTLM if it offers Negotiate or NTLM, else Basic;
// ?auth=ntlm or ?auth=basic insists on one. The password comes from
// s.Password. Over plain HTTP, Basic sends the password in the clear and
// NTLM needs AllowUnencrypted on the server (this client does not encrypt
// messages).
func dialWinRM(ctx context.Context, u *URL, s Settings) (transport, error) {
	asked := u.Query.Get("auth")
	if asked != "" && asked != "ntlm" && asked != "basic" {
		return nil, fmt.Errorf("auth=%q: want ntlm or basic", asked)
	}
	pw, err := s.Password()
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{InsecureSkipVerify: u.Query.Get("insecure") == "1"}
	if ca := u.Query.Get("ca"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca=%s: no PEM certificate in it", ca)
		}
	}
	addr := u.Address()
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // the client writes host:port into the messages
	}
	scheme := "https"
	if u.HTTP() {
		scheme = "http"
	}
	l := &lanes{tls: conf, idle: make(chan *http.Transport, 4)}
	t := &winrmTransport{
		endpoint: &winrm.Endpoint{Host: host, Port: n, HTTPS: !u.HTTP()},
		url:      scheme + "://" + addr + "/wsman",
		user:     u.User,
		password: pw,
		lanes:    l,
		client:   &http.Client{Transport: l},
	}
	offered, err := t.offered(ctx)
	if err == nil {
		t.auth, err = pickAuth(asked, offered)
	}
	if err == nil {
		l.ntlm = t.auth == "NTLM"
		_, err = t.post(ctx, identify)
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		err = fmt.Errorf("%w (trust the server's CA with ?ca=FILE, or skip the check with ?insecure=1)", err)
	}
	if err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// offered lists the authentication schemes in the WWW-Authenticate headers
// of the server's 401 to an unauthenticated Identify.
func (t *winrmTransport) offered(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(identify))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", soapContentType)
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, fmt.Errorf("%s: unauthenticated Identify answered %s, not 401 with the authentication schemes on offer", t.url, resp.Status)
	}
	var schemes []string
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		name, _, _ := strings.Cut(h, " ")
		schemes = append(schemes, name)
	}
	return schemes, nil
}

// pickAuth picks "NTLM" or "Basic": the one asked for ("ntlm", "basic") if
// the server offers it, else NTLM (carried by Negotiate too), else Basic.
func pickAuth(asked string, offered []string) (string, error) {
	has := func(names ...string) bool {
		for _, o := range offered {
			for _, n := range names {
				if strings.EqualFold(o, n) {
					return true
				}
			}
		}
		return false
	}
	ntlm, basic := has("Negotiate", "NTLM"), has("Basic")
	list := strings.Join(offered, ", ")
	if list == "" {
		list = "none"
	}
	switch {
	case ntlm && asked != "basic":
		return "NTLM", nil
	case basic && asked != "ntlm":
		return "Basic", nil
	case asked == "basic":
		return "", fmt.Errorf(`auth=basic: the server does not offer Basic authentication (it offers: %s; enable it with winrm set winrm/config/service/auth @{Basic="true"})`, list)
	case asked == "ntlm":
		return "", fmt.Errorf("auth=ntlm: the server offers neither Negotiate nor NTLM authentication (it offers: %s)", list)
	}
	return "", fmt.Errorf("the server offers neither NTLM (Negotiate) nor Basic authentication (it offers: %s)", list)
}

// post sends one SOAP message under ctx and returns the answer.
func (t *winrmTransport) post(ctx context.Context, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", soapContentType)
	req.SetBasicAuth(t.user, t.password) // NTLM: the lane's negotiator turns these into the handshake
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return "", err
	case resp.StatusCode == http.StatusUnauthorized:
		return "", fmt.Errorf("%s authentication as %q refused (HTTP 401): wrong user or password?", t.auth, t.user)
	case resp.StatusCode != http.StatusOK:
		return "", faultError(resp.Status, answer)
	}
	return string(answer), nil
}

// errOperationTimeout stands for a w:TimedOut fault: the winrm client polls
// again after an error that names OperationTimeout.
var errOperationTimeout = errors.New("OperationTimeout elapsed with no output")

// faultError describes a SOAP fault answer: its subcode and reason.
func faultError(status string, answer []byte) error {
	var f struct {
		Subcode string `xml:"Body>Fault>Code>Subcode>Value"`
		Reason  string `xml:"Body>Fault>Reason>Text"`
	}
	if xml.Unmarshal(answer, &f) != nil || f.Subcode == "" {
		return fmt.Errorf("HTTP %s", status)
	}
	if strings.HasSuffix(f.Subcode, ":TimedOut") {
		return errOperationTimeout
	}
	return fmt.Errorf("HTTP %s: %s: %s", status, f.Subcode, strings.TrimSpace(f.Reason))
}

// run runs WindowsCommandLine(argv) in a new cmd.exe shell, with stdin as
// its input (nil: empty). If ctx ends first, run returns at once; the command
// is then terminated and its shell deleted in the background.
func (t *winrmTransport) run(ctx context.Context, argv []string, stdin []byte, _ bool) (netcfg.Output, error) {
	if len(argv) == 0 {
		return netcfg.Output{}, &netcfg.CommandError{Err: errors.New("empty argv")}
	}
	params := *winrm.DefaultParameters
	params.TransportDecorator = func() winrm.Transporter { return poster{t, ctx} }
	client, err := winrm.NewClientWithParameters(t.endpoint, t.user, "", &params) // the poster holds the credentials
	if err != nil {
		return netcfg.Output{}, &netcfg.CommandError{Argv: argv, Err: err}
	}
	type result struct {
		out netcfg.Output
		err error
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		// Hiding bytes.Reader's WriteTo makes io.Copy send stdin 32 KiB at a
		// time, well within Windows 7's 150 KiB envelopes.
		in := struct{ io.Reader }{bytes.NewReader(stdin)}
		code, err := client.RunWithInput(WindowsCommandLine(argv), &stdout, &stderr, in)
		done <- result{netcfg.Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	switch {
	case r.err != nil:
		r.out.ExitCode = -1
		return r.out, &netcfg.CommandError{Argv: argv, Output: r.out, Err: r.err}
	case r.out.ExitCode != 0:
		return r.out, &netcfg.CommandError{Argv: argv, Output: r.out}
	}
	return r.out, nil
}

func (t *winrmTransport) close() error {
	t.lanes.close()
	return nil
}

// The actions that end a command and its shell.
const (
	actionSignal = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	actionDelete = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
)

// poster is the winrm.Transporter of one run: it posts under the run's
// context, except that once that has ended, the Signal and Delete that end
// the command and its shell still go out (for 10s at most), so that a
// cancelled command does not run on.
type poster struct {
	t   *winrmTransport
	ctx context.Context
}

// Transport does nothing: dialWinRM has set the connection up.
func (poster) Transport(*winrm.Endpoint) error { return nil }

// Post sends m and returns the answer.
func (p poster) Post(_ *winrm.Client, m *soap.SoapMessage) (string, error) {
	body := m.String()
	ctx := p.ctx
	if ctx.Err() != nil && (strings.Contains(body, ">"+actionSignal+"<") || strings.Contains(body, ">"+actionDelete+"<")) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
	}
	return p.t.post(ctx, body)
}

// lanes is an http.RoundTripper giving each request a connection of its
// own (a lane) until its answer has been read. NTLM authenticates a
// connection in three legs, and a pool shared by a command's concurrent
// Send and Receive could hand a leg to another connection. Idle lanes stay
// connected, and authenticated, for the next requests.
type lanes struct {
	tls  *tls.Config
	ntlm bool // turn Basic credentials into an NTLM handshake
	idle chan *http.Transport
}

// RoundTrip sends req through an idle lane, or a new one.
func (l *lanes) RoundTrip(req *http.Request) (*http.Response, error) {
	var lane *http.Transport
	select {
	case lane = <-l.idle:
	default:
		// One connection: a handshake's legs wait for it rather than dial
		// another. Answers come within a Receive's 60s OperationTimeout.
		lane = &http.Transport{TLSClientConfig: l.tls, MaxConnsPerHost: 1, ResponseHeaderTimeout: 90 * time.Second}
	}
	var rt http.RoundTripper = lane
	if l.ntlm {
		rt = ntlmssp.Negotiator{RoundTripper: lane}
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		l.put(lane)
		return nil, err
	}
	resp.Body = &laneBody{ReadCloser: resp.Body, done: func() { l.put(lane) }}
	return resp, nil
}

// put makes lane idle, or closes it if enough are.
func (l *lanes) put(lane *http.Transport) {
	select {
	case l.idle <- lane:
	default:
		lane.CloseIdleConnections()
	}
}

// close closes the idle lanes' connections.
func (l *lanes) close() {
	for {
		select {
		case lane := <-l.idle:
			lane.CloseIdleConnections()
		default:
			return
		}
	}
}

// laneBody hands its lane back when closed.
type laneBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *laneBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
