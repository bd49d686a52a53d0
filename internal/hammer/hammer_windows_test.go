package hammer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/kbharness/kbharness/netcfg"
)

func TestClassifyWindows(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Class
	}{
		{windows.WSAEADDRINUSE, ClassAddrInUse},
		{fmt.Errorf("connect: %w", windows.WSAENOBUFS), ClassExhausted},
		{windows.WSAEADDRNOTAVAIL, ClassExhausted},
		{windows.WSAECONNREFUSED, ClassRefused},
		{windows.WSAETIMEDOUT, ClassTimeout},
		{windows.WSAECONNRESET, ClassOther},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// TestRunLoopbackWindows hammers 127.0.0.1 without touching the dynamic
// range: every Winsock path (bind options, WSASend, WSARecv, linger) runs.
func TestRunLoopbackWindows(t *testing.T) {
	for _, tc := range []struct {
		mode  Mode
		close Close
	}{
		{ModeConnect, CloseClientFirst},
		{ModeBindConnect, CloseServerFirst},
		{ModeBindReuseAddr, CloseAbortive},
		{ModePortScalability, CloseClientFirst},
		{ModeReuseUnicastPort, CloseClientFirst},
	} {
		t.Run(string(tc.mode)+"/"+string(tc.close), func(t *testing.T) {
			res, err := Run(context.Background(), Config{
				Target: netip.MustParseAddrPort("127.0.0.1:0"), Workers: 2, Count: 200, Duration: 20 * time.Second,
				Mode: tc.mode, Close: tc.close, Payload: 100, CensusEvery: 50 * time.Millisecond,
			})
			if errors.Is(err, netcfg.ErrUnsupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res.Summary())
			if res.Count(ClassSuccess) == 0 {
				t.Errorf("no connection succeeded")
			}
		})
	}
}
