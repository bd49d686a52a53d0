package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/kbharness/kbharness/internal/standin/wire"
)

// persistentRoutesKey is, under HKEY_LOCAL_MACHINE, the key whose value
// names are the IPv4 persistent routes (netcfg/winreg.PersistentRoutesKey).
const persistentRoutesKey = `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\PersistentRoutes`

// lockName names the mutex that makes read-registry, ask, apply-registry
// one step across concurrent stand-in processes.
const lockName = "kbh-standin-persistentroutes"

func main() {
	name := strings.ToLower(strings.TrimSuffix(filepath.Base(os.Args[0]), filepath.Ext(os.Args[0])))
	switch name {
	case wire.Route, wire.Netsh, wire.PowerShell, wire.Wevtutil:
		os.Exit(client(name, os.Args[1:]))
	}
	if len(os.Args) == 2 && os.Args[1] == "interfaces" {
		os.Exit(interfaces())
	}
	fmt.Fprintf(os.Stderr, "usage: copy me as route.exe, netsh.exe, powershell.exe or wevtutil.exe (I am %s), or: kbh-standin.exe interfaces\n", name)
	os.Exit(2)
}

func client(name string, args []string) int {
	addr := os.Getenv(wire.AddrEnv)
	if addr == "" {
		fmt.Fprintf(os.Stderr, "kbh-standin: %s is not set: this %s.exe is kbharness's stand-in and needs its server (.ci/wine/suites.sh starts it)\n", wire.AddrEnv, name)
		return 1
	}
	unlock, err := lock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin: %s: %v\n", name, err)
		return 1
	}
	defer unlock()
	req := wire.Request{Command: name, Args: args}
	req.Registry, err = readPersistentRoutes()
	if err != nil {
		req.RegistryErr = err.Error()
	}
	resp, err := wire.Call(addr, req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin: %s: %v\n", name, err)
		return 1
	}
	if err := applyRegistry(resp.Registry); err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin: %s: updating HKLM\\%s: %v\n", name, persistentRoutesKey, err)
		resp.Exit = 1
	}
	os.Stdout.WriteString(resp.Stdout)
	os.Stderr.WriteString(resp.Stderr)
	return resp.Exit
}

// lock takes the named mutex (CreateMutex, WaitForSingleObject); an
// abandoned one (its owner died) is taken over.
func lock() (func(), error) {
	n, err := windows.UTF16PtrFromString(lockName)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateMutex(nil, false, n)
	if err != nil && h == 0 {
		return nil, fmt.Errorf("creating mutex %s: %w", lockName, err)
	}
	ev, err := windows.WaitForSingleObject(h, uint32(wire.Timeout.Milliseconds()))
	if err != nil || (ev != windows.WAIT_OBJECT_0 && ev != windows.WAIT_ABANDONED) {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("waiting for mutex %s: event %#x: %v", lockName, ev, err)
	}
	return func() { windows.ReleaseMutex(h); windows.CloseHandle(h) }, nil
}

// readPersistentRoutes reads the value names of the PersistentRoutes key
// (RegEnumValue); a missing key holds none.
func readPersistentRoutes() ([]string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, persistentRoutesKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	return k.ReadValueNames(0)
}

// applyRegistry sets (REG_SZ, empty data) and deletes value names.
func applyRegistry(ops []wire.RegOp) error {
	if len(ops) == 0 {
		return nil
	}
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, persistentRoutesKey, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	var errs []error
	for _, op := range ops {
		switch op.Op {
		case wire.OpSet:
			errs = append(errs, k.SetStringValue(op.Name, ""))
		case wire.OpDelete:
			if err := k.DeleteValue(op.Name); err != nil && !errors.Is(err, registry.ErrNotExist) {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, fmt.Errorf("unknown registry operation %q", op.Op))
		}
	}
	return errors.Join(errs...)
}

// interfaces prints the interfaces as Go's net package reads them
// (GetAdaptersAddresses): what kbharness's alias-to-index lookup sees.
func interfaces() int {
	ifs, err := net.Interfaces()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin: listing interfaces: %v\n", err)
		return 1
	}
	for _, i := range ifs {
		fmt.Printf("%d\t%s\t%s\t%d\n", i.Index, i.Name, i.HardwareAddr, i.MTU)
	}
	return 0
}
