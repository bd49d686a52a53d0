//go:build !linux && !windows

package lab

import (
	"context"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg"
)

// LocalDialect is what a lab here would be; New is unsupported.
const LocalDialect = netcfg.DialectLinux

func unsupported(what string) error {
	return netcfg.Unsupported(what, "network namespace labs exist only on Linux")
}

// New is unsupported: labs are Linux network namespaces.
func New(ctx context.Context, f *fixtures.Lab) (*Lab, error) { return nil, unsupported("lab") }

// Attach is unsupported: labs are Linux network namespaces.
func Attach(ctx context.Context, nsName string, f *fixtures.Lab) (*Lab, error) {
	return nil, unsupported("lab attach")
}

// List is unsupported: labs are Linux network namespaces.
func List() ([]Info, error) { return nil, unsupported("lab list") }

// Cleanup is unsupported: labs are Linux network namespaces.
func Cleanup(ctx context.Context) ([]string, error) { return nil, unsupported("lab cleanup") }

// Down is unsupported: labs are Linux network namespaces.
func Down(ctx context.Context, id string) ([]string, error) { return nil, unsupported("lab down") }

// Close is unsupported: labs are Linux network namespaces.
func (l *Lab) Close() error { return unsupported("lab close") }

// Detach is unsupported: labs are Linux network namespaces.
func (l *Lab) Detach() error { return unsupported("lab detach") }

// Do is unsupported: labs are Linux network namespaces.
func (l *Lab) Do(role string, fn func() error) error { return unsupported("lab namespace switch") }

// Exec is unsupported: labs are Linux network namespaces.
func (l *Lab) Exec(ctx context.Context, role string, argv ...string) ([]byte, error) {
	return nil, unsupported("lab exec")
}

// openLocalTarget is unsupported: this machine is neither a namespace nor
// Windows.
func openLocalTarget(ctx context.Context, target string) (*journal.Target, error) {
	return nil, unsupported("target " + target)
}
