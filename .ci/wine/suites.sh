#!/usr/bin/env bash
# Runs the Windows suite binary under Wine inside a lab namespace with
# kbharness's command stand-ins: route.exe, netsh.exe, powershell.exe and
# wevtutil.exe in the Wine prefix are cmd/kbh-standin's client, whose server
# (kbh-standin serve, inside the namespace) applies their changes to the
# namespace's kernel, so the suite binary's command mechanisms run for real
# and its snapshots (Wine's iphlpapi) read what they did.
#
#   bash .ci/wine/suites.sh [-v] [--inject NAME] [--label-filter EXPR] [--out DIR] [-- SUITE FLAGS...]
#
#   --inject NAME         start the stand-in server with a defect injector
#                         (secondary-ip-route-loss); the run is then expected
#                         to fail, and reports go to out/wine-suites-NAME
#   --label-filter EXPR   Ginkgo's label filter for the suite binary
#   --out DIR             where the reports go (default out/wine-suites)
#   -v                    print every command
#
# Steps: install wine64, mingw binutils and gcc and bc if missing; build the
# Linux kbharness and kbh-standin (the server), the Windows kbh-standin (the
# client) and its tests, out/kbharness-suites.exe, the stand-in DLL of the
# IP Helper write procedures (agent/iphlpapi: AddIPAddress, DeleteIPAddress
# and winipcfg's Create/Delete*Entry*, named to the Windows binaries by
# KBHARNESS_IPHLPAPI_WRITES) and the tests of its contract
# (netcfg/internal/iphlpapi); make a Wine prefix
# (lib.sh) with the client copied over the four commands; build the lab
# namespace from .ci/wine/lab/wine-namespace.yaml (`kbharness lab up`);
# start the server in it; run the stand-ins' own end-to-end tests, the
# DLL's contract tests (read-after-write through Wine's iphlpapi and
# registry, documented error codes, not elevated) and the Windows backend's
# writes by every mechanism under Wine; run the
# suite binary under Wine with -kb.lab-dir=.ci/wine/lab and Ginkgo's JSON
# report at DIR/report.json; print Ginkgo's summary and one line per spec.
# Everything made is removed on exit, also on failure or Ctrl-C. Prints
# the time each phase took. Needs root. Exits non-zero when a step or a
# spec fails (with --inject that is the expected outcome: the caller reads
# report.json for the failure it expects).
#
# What Wine 8 itself cannot show the suite binary (not the stand-ins'
# doing; checked in dlls/nsiproxy.sys/ip.c): GetIpForwardTable2 returns no
# IPv6 route at all ("ipv6_forward_enumerate_all not implemented"), and
# reads IPv4 route metrics from /proc/net/route as hexadecimal although
# the kernel prints them in decimal (metric 256 reads as 598); Wine has no
# tcpipreg service and no winipcfg write procedures (CreateIpForwardEntry2);
# its AddIPAddress answers ERROR_NOT_SUPPORTED; the stand-in DLL supplies
# all of those write procedures.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
phase_tag=suites.sh
# shellcheck source=lib.sh
. "$here/lib.sh"

inject= filter= out=
suite_flags=()
while [ $# -gt 0 ]; do
	case "$1" in
	-v) set -x ;;
	--inject) inject=$2; shift ;;
	--label-filter) filter=$2; shift ;;
	--out) out=$2; shift ;;
	--) shift; suite_flags=("$@"); break ;;
	*) echo "usage: $0 [-v] [--inject NAME] [--label-filter EXPR] [--out DIR] [-- SUITE FLAGS...]" >&2; exit 2 ;;
	esac
	shift
done
wine_require_root "$0"
cd "$root"
if [ -z "$out" ]; then
	out=out/wine-suites
	[ -z "$inject" ] || out=out/wine-suites-$inject
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/report.json" "$out/reports" "$out/suites.log" "$out/standin.log" "$out/standins.log" "$out/iphlpapi.log" "$out/winhost.log"

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	export PATH="$PATH:/usr/local/go/bin"
fi
command -v ip >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
wine_install
apt_ensure gcc-mingw-w64-x86-64-win32
phase install

work=$(mktemp -d /var/tmp/kbh-wine-suites.XXXXXX)
lab= server=
cleanup() {
	local status=$?
	set +e
	[ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }
	wine_stop
	[ -z "$lab" ] || "$work/kbharness" lab down --force "$lab" >/dev/null
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/kbharness" ./cmd/kbharness
go build -o "$work/kbh-standin" ./cmd/kbh-standin
GOOS=windows go build -ldflags="-s -w" -o "$work/kbh-standin.exe" ./cmd/kbh-standin
GOOS=windows go test -c -o "$work/kbh-standin.test.exe" ./cmd/kbh-standin
if [ -z "$inject" ]; then # the DLL's and the backend's own tests run without an injector only
	GOOS=windows go test -c -o "$work/iphlpapi.test.exe" ./netcfg/internal/iphlpapi
	GOOS=windows go test -c -o "$work/winhost.test.exe" ./netcfg/winhost
fi
mkdir -p out
GOOS=windows go test -c -o out/kbharness-suites.exe ./suites
# The stand-in DLL of the write procedures (Wine lacks them or answers
# ERROR_NOT_SUPPORTED): the Windows binaries load those from it. Its
# _Static_asserts pin its structures to mingw-w64's SDK headers.
x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -s -o "$work/kbh-iphlpapi.dll" \
	agent/iphlpapi/kbh-iphlpapi.c agent/iphlpapi/kbh-iphlpapi.def -lws2_32 -liphlpapi
phase build

wine_prefix "$work"
wine_install_standins "$work/kbh-standin.exe"
wine_settle
phase wine-prefix

"$work/kbharness" lab up --fixture "$here/lab/wine-namespace.yaml" >"$work/lab.txt"
lab=$(awk 'NR == 1 && $1 == "lab" { print $2 }' "$work/lab.txt")
ns=$(awk '$1 == "host" { print $2 }' "$work/lab.txt")
[ -n "$lab" ] && [ -n "$ns" ] || { cat "$work/lab.txt" >&2; echo "$0: no lab in kbharness lab up's output" >&2; exit 1; }
sed 's/^/suites.sh: /' "$work/lab.txt" | head -4 >&2
phase lab

ip netns exec "$ns" "$work/kbh-standin" serve --listen 127.0.0.1:0 --ready "$work/standin.addr" \
	--log "$out/standin.log" ${inject:+--inject "$inject"} &
server=$!
for _ in $(seq 100); do
	[ -s "$work/standin.addr" ] && break
	kill -0 "$server" 2>/dev/null || { cat "$out/standin.log" >&2; echo "$0: the stand-in server died" >&2; exit 1; }
	sleep 0.1
done
[ -s "$work/standin.addr" ] || { echo "$0: the stand-in server did not start within 10s" >&2; exit 1; }
export KBH_STANDIN_ADDR=$(cat "$work/standin.addr") KBH_INTERFACE=lan0
export KBHARNESS_IPHLPAPI_WRITES="Z:$work/kbh-iphlpapi.dll"
echo "suites.sh: stand-in server on $KBH_STANDIN_ADDR in $ns${inject:+, injector $inject}; log $out/standin.log" >&2
phase server

# Wine resolves the four commands to the stand-ins, and they work
# end to end (their own tests, before the suites rely on them).
ip netns exec "$ns" "$WINE" "$work/kbh-standin.test.exe" -test.v >"$out/standins.log" 2>&1 || {
	cat "$out/standins.log"
	echo "$0: the stand-ins' end-to-end tests failed under Wine (above)" >&2
	exit 1
}
grep -E '^(--- |ok|PASS|FAIL)' "$out/standins.log" | sed 's/^/suites.sh: stand-ins: /' >&2
# The stand-in DLL's documented contract, called as kbharness calls it
# (from the package directory, as go test runs it), and the Windows
# backend's writes by every mechanism: without an injector only (they test
# the DLL and the backend, not a scenario).
if [ -z "$inject" ]; then
	(cd netcfg/internal/iphlpapi && ip netns exec "$ns" "$WINE" "$work/iphlpapi.test.exe" -test.v) >"$out/iphlpapi.log" 2>&1 || {
		cat "$out/iphlpapi.log"
		echo "$0: the stand-in DLL's contract tests failed under Wine (above)" >&2
		exit 1
	}
	if grep -q -- '--- SKIP' "$out/iphlpapi.log"; then
		cat "$out/iphlpapi.log"
		echo "$0: a contract test of the stand-in DLL skipped under Wine (above)" >&2
		exit 1
fi
grep -E '^(--- |ok|PASS|FAIL)' "$out/iphlpapi.log" | sed 's/^/suites.sh: iphlpapi DLL: /' >&2
# The Windows backend's own writes by every mechanism (winhost: the rows
# winipcfg's mechanism builds, AddIPAddress's NTE bookkeeping and DAD wait)
# against the lab, read back by its snapshots.
(cd netcfg/winhost && KBH_WINDOWS_MUTATE=1 ip netns exec "$ns" "$WINE" "$work/winhost.test.exe" \
	-test.run TestWindowsMutationsByMechanism -test.v) >"$out/winhost.log" 2>&1 || {
	cat "$out/winhost.log"
	echo "$0: the Windows backend's mutation tests failed under Wine (above)" >&2
	exit 1
}
for m in winipcfg iphlpapi-legacy; do
	grep -q -- "--- PASS: TestWindowsMutationsByMechanism/$m " "$out/winhost.log" || {
		cat "$out/winhost.log"
		echo "$0: the Windows backend's writes by $m did not run and pass under Wine (above)" >&2
		exit 1
	}
done
grep -E '^ *--- ' "$out/winhost.log" | sed 's/^ */suites.sh: winhost writes: /' >&2
fi
phase standins

flags=(-test.v -test.timeout=3h -ginkgo.no-color
	"-ginkgo.json-report=Z:$out/report.json"
	"-kb.lab-dir=Z:$here/lab" "-kb.report-dir=Z:$out/reports")
[ -z "$filter" ] || flags+=("-ginkgo.label-filter=$filter")
status=0
# In the background so that INT/TERM reach the trap at once; cleanup's
# wineserver -k then ends the suite binary.
ip netns exec "$ns" "$WINE" out/kbharness-suites.exe "${flags[@]}" "${suite_flags[@]}" >"$out/suites.log" 2>&1 &
wait $! || status=$?
phase suites

echo
echo "=== Ginkgo's summary (full output: $out/suites.log)"
awk '/^Summarizing [0-9]+ Failure/,0' "$out/suites.log"
grep -E '^(Ran [0-9]+ of [0-9]+ Specs|SUCCESS!|FAIL!)' "$out/suites.log" || true
if [ -s "$out/report.json" ] && command -v python3 >/dev/null; then
	echo
	echo "=== specs (from $out/report.json)"
	python3 "$here/specs.py" "$out/report.json" --list
fi
echo
echo "suites.sh: report $out/report.json; exit status $status"
exit "$status"
