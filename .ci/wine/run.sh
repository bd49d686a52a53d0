#!/usr/bin/env bash
# Runs a Windows Go test binary under Wine inside a network namespace that
# this script creates, so Wine's iphlpapi reads that namespace's kernel
# tables instead of the machine's.
#
#   .ci/wine/run.sh BIN.exe [test flags]     (flags default to -test.v)
#
# The binary runs in the current directory, as `go test` runs a package's
# tests in its directory: run it from the package for testdata/ to be found.
#
# Steps (the Wine ones shared with suites.sh in lib.sh): install wine64 and
# binutils-mingw-w64-x86-64 if missing; build bcryptprimitives.dll
# (processprng.s: Go >= 1.22 binaries import ProcessPrng, which Wine 8
# lacks); make a fresh WINEPREFIX under /var/tmp; plant one PersistentRoutes
# registry value; create namespaces kbh-<pid>-wine (host, lan0 192.0.2.20/24
# + 192.0.2.21/24 + 2001:db8::20/64) and kbh-<pid>-peer (eth0 192.0.2.1/24)
# joined by veth, with a default route and 198.51.100.0/24 via the peer; pass
# what `ip` shows as KBH_EXPECT_*; run the binary inside the namespace;
# remove everything on exit. Wine's own netsh/powershell stubs stay: the
# suite binary's command mechanisms are unsupported here (suites.sh runs
# them with the stand-ins). Prints the time each phase took. Needs root. -v
# prints every command.
set -euo pipefail

if [ "${1:-}" = -v ]; then set -x; shift; fi
[ $# -ge 1 ] || { echo "usage: $0 [-v] BIN.exe [test flags]" >&2; exit 2; }
bin=$(realpath "$1"); shift
[ -f "$bin" ] || { echo "$0: $bin: no such file" >&2; exit 2; }
flags=("$@"); [ ${#flags[@]} -gt 0 ] || flags=(-test.v)
here=$(cd "$(dirname "$0")" && pwd)
phase_tag=run.sh
# shellcheck source=lib.sh
. "$here/lib.sh"
wine_require_root "$0"
ns=kbh-$$-wine
peer=kbh-$$-peer

wine_install
phase install

work=$(mktemp -d /var/tmp/kbh-wine.XXXXXX)
cleanup() {
	wine_stop
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$peer" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wine_prefix "$work"
persistent='198.51.100.0,255.255.255.0,192.0.2.1,5'
"$WINE" reg add 'HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\PersistentRoutes' \
	/v "$persistent" /t REG_SZ /d '' /f >/dev/null
wine_settle
phase wine-prefix

ip netns add "$ns"
ip netns add "$peer"
ip link add name lan0 netns "$ns" type veth peer name eth0 netns "$peer"
for n in "$ns" "$peer"; do ip -n "$n" link set lo up; done
ip -n "$ns" link set lan0 up
ip -n "$peer" link set eth0 up
ip -n "$ns" addr add 192.0.2.20/24 dev lan0
ip -n "$ns" addr add 192.0.2.21/24 dev lan0
ip -n "$peer" addr add 192.0.2.1/24 dev eth0
ip -n "$ns" route add default via 192.0.2.1 dev lan0 metric 5
ip -n "$ns" route add 198.51.100.0/24 via 192.0.2.1 dev lan0 metric 5
ip -n "$ns" -6 addr add 2001:db8::20/64 dev lan0 nodad

# What the test must find, as the kernel reports it.
KBH_EXPECT_ADDRS=$(ip -n "$ns" -4 -o addr show | awk '{print $4}' | paste -sd, -)
KBH_EXPECT_ROUTES=$(ip -n "$ns" -4 route show table main |
	awk '{ if ($2 == "via") print $1 " via " $3; else print $1 " dev" }' | paste -sd';' -)
export KBH_EXPECT_ADDRS KBH_EXPECT_ROUTES KBH_EXPECT_PERSISTENT=$persistent KBH_INTERFACE=lan0
echo "run.sh: KBH_EXPECT_ADDRS=$KBH_EXPECT_ADDRS" >&2
echo "run.sh: KBH_EXPECT_ROUTES=$KBH_EXPECT_ROUTES" >&2
phase namespace

status=0
# In the background so that INT/TERM reach the trap at once; cleanup's
# wineserver -k then ends the test process.
ip netns exec "$ns" "$WINE" "$bin" "${flags[@]}" &
wait $! || status=$?
phase test-run
exit "$status"
