//go:build !linux

package target

import "github.com/kbharness/kbharness/netcfg"

func dialNetns(name string) (transport, error) {
	return nil, netcfg.Unsupported("target netns:"+name, "network namespaces exist only on Linux")
}
