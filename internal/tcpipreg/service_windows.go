//go:build windows

package tcpipreg

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/winreg"
)

// scm is a Controller over the service control manager (svc/mgr).
type scm struct {
	m *mgr.Mgr
	s *mgr.Service
}

// Open connects to the service control manager (OpenSCManager) and opens
// the service (OpenService). Close releases both handles.
func Open(name string) (Controller, func() error, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to the service control manager: %w", err)
	}
	s, err := m.OpenService(name)
	if err != nil {
		m.Disconnect()
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			// Windows before Vista, Server Core images without it, Wine.
			return nil, nil, netcfg.Unsupported("service "+name, fmt.Sprintf("OpenService: %v", err))
		}
		return nil, nil, fmt.Errorf("opening service %s: %w", name, err)
	}
	c := &scm{m: m, s: s}
	return c, func() error { s.Close(); return m.Disconnect() }, nil
}

var states = map[svc.State]State{
	svc.Stopped: Stopped, svc.StartPending: StartPending, svc.StopPending: StopPending, svc.Running: Running,
	svc.ContinuePending: ContinuePending, svc.PausePending: PausePending, svc.Paused: Paused,
}

// Query is QueryServiceStatus.
func (c *scm) Query() (State, error) {
	st, err := c.s.Query()
	if err != nil {
		return "", err
	}
	if s, ok := states[st.State]; ok {
		return s, nil
	}
	return State(fmt.Sprintf("state-%d", st.State)), nil
}

// Stop is ControlService(SERVICE_CONTROL_STOP).
func (c *scm) Stop() error {
	_, err := c.s.Control(svc.Stop)
	return err
}

// Start is StartService.
func (c *scm) Start() error { return c.s.Start() }

// RegistryRouteNames reads the value names of
// HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\PersistentRoutes
// (RegEnumValue). A missing key means no persistent route.
func RegistryRouteNames() ([]string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, winreg.PersistentRoutesKey, registry.QUERY_VALUE)
	if err == registry.ErrNotExist {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening HKLM\\%s: %w", winreg.PersistentRoutesKey, err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return nil, fmt.Errorf("reading HKLM\\%s: %w", winreg.PersistentRoutesKey, err)
	}
	return names, nil
}
