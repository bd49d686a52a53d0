#!/usr/bin/env bash
# Proves the legacy hammer agent (agent/hammer/kbh-hammer.c) under Wine
# against the Go hammer's Windows build, on loopback in network namespaces
# this script creates.
#
#   bash .ci/wine/hammer-agent.sh [-v]      (-v prints every command)
#
# Steps: install wine64, mingw binutils, bc and the mingw C compilers
# (gcc-mingw-w64-x86-64-win32, gcc-mingw-w64-i686-win32) if missing; build
# out/kbh-hammer.exe (x86-64, run here) and out/kbh-hammer32.exe (i686:
# built and its imports checked, not run: Wine here is 64-bit only) with
# -Werror, and out/kbharness.exe (GOOS=windows); make a Wine prefix
# (lib.sh, with the bcryptprimitives shim Go binaries need); then, each in
# a fresh namespace of its own (lo up; Wine's wineserver makes the sockets,
# so it is restarted inside each):
#
#   kbh-<pid>-hhappy  the agent's connect-mode happy path, default range
#   kbh-<pid>-hagent  the agent: bind-connect, client-first, 4 workers,
#                     400 attempts, ip_local_port_range narrowed to
#                     40000-40063 inside that namespace only
#   kbh-<pid>-hgo     kbharness.exe hammer, the same churn and range
#
# (The two churns need separate namespaces: the first one's TIME_WAIT
# fills the range for 60s.) The machine's own ip_local_port_range is read
# before and after and must not change. The reports go to
# out/hammer-agent/; `go test ./internal/hammer -run TestAgentWine` then
# checks them (TestAgentWineHappyPath: every attempt succeeded;
# TestAgentWineCompare: both saw success and addrinuse, the same set of
# classes, the same attempts, successes within the range size +- 4) and
# prints both summaries. Everything made is removed on exit, also on
# failure or Ctrl-C. Prints the time each phase took. Needs root. Exits
# non-zero on any failure or mismatch.
set -euo pipefail

if [ "${1:-}" = -v ]; then set -x; shift; fi
[ $# -eq 0 ] || { echo "usage: $0 [-v]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
phase_tag=hammer-agent.sh
# shellcheck source=lib.sh
. "$here/lib.sh"
wine_require_root "$0"
cd "$root"

lo=40000 hi=40063
churn=(--mode bind-connect --close client-first --workers 4 --count 400 --duration 60s)

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	export PATH="$PATH:/usr/local/go/bin"
fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
command -v ip >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
wine_install
apt_ensure gcc-mingw-w64-x86-64-win32 gcc-mingw-w64-i686-win32
phase install

out=$root/out/hammer-agent
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.txt "$out"/*.log
work=$(mktemp -d /var/tmp/kbh-hagent.XXXXXX)
namespaces=()
cleanup() {
	local status=$? n
	set +e
	wine_stop
	for n in "${namespaces[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The imports a Vista guest must have: ws2_32, kernel32 and msvcrt only.
check_imports() { # check_imports OBJDUMP EXE
	local dlls
	dlls=$("$1" -p "$2" | awk '/DLL Name:/ { print toupper($3) }' | sort | paste -sd' ' -)
	[ "$dlls" = "KERNEL32.DLL MSVCRT.DLL WS2_32.DLL" ] || { echo "$0: $2 imports $dlls" >&2; exit 1; }
}
cflags=(-O2 -Wall -Wextra -Werror -s)
x86_64-w64-mingw32-gcc "${cflags[@]}" -o out/kbh-hammer.exe agent/hammer/kbh-hammer.c -lws2_32
check_imports x86_64-w64-mingw32-objdump out/kbh-hammer.exe
i686-w64-mingw32-gcc "${cflags[@]}" -o out/kbh-hammer32.exe agent/hammer/kbh-hammer.c -lws2_32
check_imports i686-w64-mingw32-objdump out/kbh-hammer32.exe
GOOS=windows go build -o out/kbharness.exe ./cmd/kbharness
phase build

wine_prefix "$work"
wine_settle
phase wine-prefix

host_range_before=$(cat /proc/sys/net/ipv4/ip_local_port_range)

# in_namespace NAME OUT ERR [LO HI] -- CMD...: CMD under Wine, its stdout
# and stderr to OUT and ERR, in a fresh namespace NAME (lo up; the port
# range narrowed inside it when LO HI are given) with a wineserver started
# there; the namespace stays until exit. CMD's exit status goes to rc.
in_namespace() {
	local ns=$1 stdout=$2 stderr=$3
	shift 3
	ip netns add "$ns"
	namespaces+=("$ns")
	ip -n "$ns" link set lo up
	if [ "$1" != -- ]; then
		ip netns exec "$ns" sh -c "echo '$1 $2' > /proc/sys/net/ipv4/ip_local_port_range"
		echo "$phase_tag: $ns: ip_local_port_range $(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_local_port_range)" >&2
		shift 2
	fi
	shift
	rc=0
	# In the background so that INT/TERM reach the trap at once.
	ip netns exec "$ns" "$WINE" "$@" >"$stdout" 2>"$stderr" &
	wait $! || rc=$?
	wine_settle
}

# expect_status WHAT STATUS LOG OK...: fail, showing LOG, unless STATUS is
# one of OK.
expect_status() {
	local what=$1 status=$2 log=$3 ok
	shift 3
	for ok in "$@"; do [ "$status" = "$ok" ] && return 0; done
	cat "$log" >&2
	echo "$0: $what exited $status (want $*); its stderr above" >&2
	exit 1
}

in_namespace "kbh-$$-hhappy" "$out/agent-happy.json" "$out/agent-happy.log" -- \
	out/kbh-hammer.exe --mode connect --close server-first --payload 100 --workers 4 --count 2000
expect_status "the agent's happy path" "$rc" "$out/agent-happy.log" 0
phase agent-happy

in_namespace "kbh-$$-hagent" "$out/agent.json" "$out/agent.log" "$lo" "$hi" -- out/kbh-hammer.exe "${churn[@]}"
# 1: the signature was seen, as it must be.
expect_status "the agent's churn" "$rc" "$out/agent.log" 0 1
phase agent-churn

in_namespace "kbh-$$-hgo" "$out/go.txt" "$out/go.log" "$lo" "$hi" -- out/kbharness.exe hammer "${churn[@]}"
expect_status "kbharness.exe hammer" "$rc" "$out/go.log" 0 1
phase go-churn

host_range_after=$(cat /proc/sys/net/ipv4/ip_local_port_range)
if [ "$host_range_before" != "$host_range_after" ]; then
	echo "$0: the machine's own ip_local_port_range changed: $host_range_before -> $host_range_after" >&2
	exit 1
fi

echo "=== agent, connect-mode happy path ($out/agent-happy.json)"
cat "$out/agent-happy.json"
echo "=== agent, churn on $lo-$hi ($out/agent.json)"
cat "$out/agent.json"
echo "=== kbharness.exe hammer, churn on $lo-$hi ($out/go.txt)"
grep -v '^ *[0-9.]*s  ' "$out/go.txt" || true

status=0
KBH_AGENT_HAPPY_REPORT=$out/agent-happy.json KBH_AGENT_REPORT=$out/agent.json KBH_GO_REPORT=$out/go.txt \
	KBH_RANGE_SIZE=$((hi - lo + 1)) go test -count=1 -v -run '^TestAgentWine' ./internal/hammer || status=$?
phase compare
exit "$status"
