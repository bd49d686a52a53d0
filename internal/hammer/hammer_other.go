//go:build !linux && !windows

package hammer

import (
	"context"
	"net/netip"
	"runtime"
	"time"

	"github.com/kbharness/kbharness/netcfg"
)

func unsupported() error {
	return netcfg.Unsupported("hammer", "the socket engine exists only for Linux and Windows, not "+runtime.GOOS)
}

func supported(*Config) error { return unsupported() }

func classify(error) Class { return ClassOther }

func tcpipEvents(context.Context, time.Time, time.Time) (map[int]int, error) { return nil, nil }

func inNetns(name string, fn func() error) error { return unsupported() }

type listener struct{ addr netip.AddrPort }

func listen(*Config) (*listener, error) { return nil, unsupported() }
func (l *listener) serve(*engine)       {}
func (l *listener) shutdown()           {}
func (l *listener) close()              {}

type client struct{}

func newClient(*Config, netip.AddrPort) (*client, error)         { return nil, unsupported() }
func (*client) free()                                            {}
func (*client) attempt(func(Class) bool) (string, uint16, error) { return "", 0, unsupported() }

func census(string, netip.AddrPort) (Census, error) { return nil, unsupported() }

func getPortRange(string) (PortRange, error) { return PortRange{}, unsupported() }

func setPortRange(string, PortRange) (func() error, error) { return nil, unsupported() }

func restoreRangeArgv(PortRange) []string { return nil }

func socketsInRange(string, PortRange, uint16) (int, error) { return 0, unsupported() }
