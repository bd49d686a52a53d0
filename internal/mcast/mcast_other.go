//go:build !linux

package mcast

import (
	"github.com/kbharness/kbharness/netcfg"
)

var errNoMroute = netcfg.Unsupported("multicast routing socket", "MRT_INIT on a raw IGMP socket exists only on Linux")

// Router is the Linux multicast routing socket; unsupported here.
type Router struct{}

// Stats says what the routing socket received.
type Stats struct{ NoCache, WrongVIF, IGMP int }

// Open is unsupported off Linux.
func Open(do Do) (*Router, error)             { return nil, errNoMroute }
func (r *Router) Stats() Stats                { return Stats{} }
func (r *Router) AddVIF(uint16, string) error { return errNoMroute }
func (r *Router) DelVIF(uint16) error         { return errNoMroute }
func (r *Router) AddMFC(MFC) error            { return errNoMroute }
func (r *Router) DelMFC(MFC) error            { return errNoMroute }
func (r *Router) Close() error                { return nil }

// MCForwarding is unsupported off Linux.
func MCForwarding(do Do, ifname string) (bool, error) { return false, errNoMroute }
