# Shared steps of .ci/wine/run.sh, suites.sh and hammer-agent.sh; source it, after
# setting `here` to .ci/wine:
#
#   wine_require_root NAME            exit 2 unless root
#   apt_ensure PKG...                 install those of the Debian packages that are missing
#   wine_install                      install wine64, mingw binutils and bc if missing
#   phase NAME                        print the time since the previous phase
#   wine_prefix WORK                  a fresh WINEPREFIX under WORK with the
#                                     ProcessPrng stub (Go >= 1.22 binaries
#                                     import it; Wine 8 lacks it)
#   wine_settle                       save the prefix and stop its wineserver,
#                                     so that the next one starts inside the
#                                     lab namespace
#   wine_install_standins EXE         copy the stand-in client EXE over
#                                     route.exe, netsh.exe, powershell.exe and
#                                     wevtutil.exe in the prefix, and make Wine
#                                     load those files instead of its builtins
#   wine_stop                         stop the prefix's wineserver and its processes
#
# WINE, WINESERVER and, after wine_prefix, WINEPREFIX, WINEDEBUG and
# WINEDLLOVERRIDES are exported.

WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
# Never touch a prefix (or its wineserver) the caller happens to use.
unset WINEPREFIX

wine_require_root() {
	[ "$(id -u)" = 0 ] || { echo "$1: requires root: creates network namespaces" >&2; exit 2; }
}

phase_start=$(date +%s.%N)
phase() { # phase NAME: report the time since the previous phase
	local now; now=$(date +%s.%N)
	printf '%s: %-14s %6.2fs\n' "${phase_tag:-wine}" "$1" "$(echo "$now - $phase_start" | bc)" >&2
	phase_start=$now
}

# apt_ensure PKG...: install those of the packages that are missing.
apt_ensure() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "${phase_tag:-wine}: installing ${missing[*]}" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

wine_install() {
	apt_ensure wine64 binutils-mingw-w64-x86-64 bc
}

# wine_prefix WORK: build bcryptprimitives.dll (processprng.s) and make
# WORK/prefix with it.
wine_prefix() {
	local work=$1
	x86_64-w64-mingw32-as -o "$work/processprng.o" "$here/processprng.s"
	x86_64-w64-mingw32-dlltool -d "$here/advapi32.def" -l "$work/libadvapi32.a"
	x86_64-w64-mingw32-ld --shared -e DllMain --subsystem windows -o "$work/bcryptprimitives.dll" \
		"$work/processprng.o" "$here/bcryptprimitives.def" "$work/libadvapi32.a"
	export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
	"$WINE" wineboot -i >"$work/wineboot.log" 2>&1 || { cat "$work/wineboot.log" >&2; return 1; }
	cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
}

# wine_settle: stop the prefix's wineserver (it saves the registry): started
# again inside the namespace, its services see that namespace's sockets and
# tables.
wine_settle() {
	"$WINESERVER" -w -k
}

# wine_install_standins EXE: Wine 8 has no route.exe, so PATH finds ours in
# system32; it has builtin netsh.exe, powershell.exe and wevtutil.exe, whose
# files in the prefix are placeholders Wine ignores in favour of the
# builtin unless the DLL override says native ("=n").
wine_install_standins() {
	local exe=$1 sys=$WINEPREFIX/drive_c/windows/system32 name
	for name in route netsh wevtutil kbh-standin; do
		cp "$exe" "$sys/$name.exe"
	done
	cp "$exe" "$sys/WindowsPowerShell/v1.0/powershell.exe"
	export WINEDLLOVERRIDES="$WINEDLLOVERRIDES;route.exe,netsh.exe,powershell.exe,wevtutil.exe=n"
}

wine_stop() {
	[ -n "${WINEPREFIX:-}" ] && "$WINESERVER" -k 2>/dev/null || true
}
