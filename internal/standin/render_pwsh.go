package standin

import (
	"encoding/json"
	"fmt"
	"strings"
)

// renderJSON renders a value as Windows PowerShell 5.1's ConvertTo-Json
// does: enumerations as their numbers, -Compress without any blank, and
// otherwise four-space indents and `"name":  value` with two spaces.
func renderJSON(v any, compress bool, depth int) (string, error) {
	ind := func(n int) string {
		if compress {
			return ""
		}
		return "\n" + strings.Repeat("    ", n)
	}
	sep := ":  "
	if compress {
		sep = ":"
	}
	switch x := v.(type) {
	case jsonArray:
		if len(x) == 0 {
			return "[\n\n]", nil
		}
		var parts []string
		for _, o := range x {
			s, err := renderJSON(o, compress, depth+1)
			if err != nil {
				return "", err
			}
			parts = append(parts, ind(depth+1)+s)
		}
		if compress {
			return "[" + strings.Join(parts, ",") + "]", nil
		}
		return "[" + strings.Join(parts, ",") + ind(depth) + "]", nil
	case psObject:
		if x.props == nil {
			return renderJSON(x.scalar, compress, depth)
		}
		var parts []string
		for _, p := range x.props {
			s, err := renderJSON(p.val, compress, depth+1)
			if err != nil {
				return "", err
			}
			parts = append(parts, ind(depth+1)+jsonString(p.name)+sep+s)
		}
		return "{" + strings.Join(parts, ",") + ind(depth) + "}", nil
	case string:
		return jsonString(x), nil
	case int:
		return fmt.Sprint(x), nil
	case bool:
		return fmt.Sprint(x), nil
	case psEnum:
		return fmt.Sprint(x.n), nil
	case nil:
		return "null", nil
	}
	return "", unsupportedf("ConvertTo-Json of a %T value", v)
}

// jsonString escapes like PowerShell 5.1's serializer, which also escapes
// the HTML-sensitive characters, the single quote among them.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "'", `\u0027`)
}

// lifetimeText renders a TimeSpan as PowerShell shows it: d.hh:mm:ss, or
// "Infinite ([TimeSpan]::MaxValue)".
func lifetimeText(l psLifetime) string {
	if uint32(l) == Infinite {
		return "Infinite ([TimeSpan]::MaxValue)"
	}
	s := uint32(l)
	d, h, m, sec := s/86400, s/3600%24, s/60%60, s%60
	if d > 0 {
		return fmt.Sprintf("%d.%02d:%02d:%02d", d, h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
}

func viewText(v any) string {
	switch x := v.(type) {
	case psEnum:
		return x.name
	case bool:
		if x {
			return "True"
		}
		return "False"
	case psLifetime:
		return lifetimeText(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// renderRouteTable renders MSFT_NetRoute's default table view, as
// Get-NetRoute prints it (../shared/samples/windows/powershell_netroute):
//
//	ifIndex DestinationPrefix                              NextHop                                  RouteMetric ifMetric PolicyStore
//	------- -----------------                              -------                                  ----------- -------- -----------
//	23      172.24.16.0/20                                 0.0.0.0                                          256 5000     ActiveStore
//
// Persistent rows leave ifMetric empty.
func renderRouteTable(objs []psObject) string {
	var b strings.Builder
	b.WriteString("\nifIndex DestinationPrefix                              NextHop                                  RouteMetric ifMetric PolicyStore\n")
	b.WriteString("------- -----------------                              -------                                  ----------- -------- -----------\n")
	for _, o := range objs {
		get := func(n string) string { v, _ := o.get(n); return viewText(v) }
		ifMetric := get("InterfaceMetric")
		if get("PolicyStore") == "PersistentStore" {
			ifMetric = ""
		}
		fmt.Fprintf(&b, "%-7s %-46s %-40s %11s %-8s %s\n", get("InterfaceIndex"), truncate(get("DestinationPrefix"), 46),
			truncate(get("NextHop"), 40), get("RouteMetric"), ifMetric, get("PolicyStore"))
	}
	b.WriteString("\n\n")
	return b.String()
}

// truncate cuts a value to a Format-Table column, ending it with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// renderAddressList renders MSFT_NetIPAddress's default list view, as
// Get-NetIPAddress and New-NetIPAddress print it: "Name : Value" lines,
// names padded to the longest, records between blank lines.
func renderAddressList(objs []psObject) string {
	var b strings.Builder
	b.WriteString("\n")
	for _, o := range objs {
		w := 0
		for _, p := range o.props {
			w = max(w, len(p.name))
		}
		b.WriteString("\n")
		for _, p := range o.props {
			fmt.Fprintf(&b, "%-*s : %s\n", w, p.name, viewText(p.val))
		}
	}
	b.WriteString("\n\n")
	return b.String()
}
