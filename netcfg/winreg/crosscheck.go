package winreg

import "sort"

// Mismatch is the difference between two views of the persistent store.
type Mismatch struct {
	OnlyRegistry []string // persistent routes in the registry view only
	OnlyOther    []string // persistent routes in the other view only
}

// Empty reports whether the two views agree.
func (m Mismatch) Empty() bool { return len(m.OnlyRegistry) == 0 && len(m.OnlyOther) == 0 }

// CrossCheck compares the IPv4 persistent routes read from the registry with
// those another reader reports (`route print` "Persistent Routes:",
// `Get-NetRoute -PolicyStore PersistentStore`), on all the registry records:
// destination, gateway and metric. IPv6 routes of other are ignored: the
// registry view holds none.
func CrossCheck(registry, other []Route) Mismatch {
	a, b := keys(registry), keys(other)
	var m Mismatch
	for k := range a {
		if !b[k] {
			m.OnlyRegistry = append(m.OnlyRegistry, k)
		}
	}
	for k := range b {
		if !a[k] {
			m.OnlyOther = append(m.OnlyOther, k)
		}
	}
	sort.Strings(m.OnlyRegistry)
	sort.Strings(m.OnlyOther)
	return m
}

// keys returns the registry value names of the IPv4 routes of rs.
func keys(rs []Route) map[string]bool {
	out := make(map[string]bool, len(rs))
	for _, r := range rs {
		if n, err := PersistentRouteName(r); err == nil {
			out[n] = true
		}
	}
	return out
}
