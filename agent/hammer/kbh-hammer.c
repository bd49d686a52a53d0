/*
 * kbh-hammer: the KB2901197 dynamic-port hammer of internal/hammer, as a
 * single C file for the Windows releases Go 1.21+ binaries no longer run
 * on (Vista / Server 2008 and later, 32- and 64-bit).
 *
 * It starts a listener of its own bound only to the target (loopback, or
 * the guest's lab address in a documentation range), runs W worker threads
 * doing socket -> [setsockopt, bind] -> connect -> [send] -> close against
 * it, and classifies every attempt as internal/hammer's Windows classify()
 * does. At the end it prints ONE JSON object on stdout (read by
 * hammer.ParseAgentReport); progress lines go to stderr once a second.
 *
 * Build (Debian, mingw-w64):
 *   x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -s -o kbh-hammer.exe kbh-hammer.c -lws2_32
 *   i686-w64-mingw32-gcc   -O2 -Wall -Wextra -Werror -s -o kbh-hammer32.exe kbh-hammer.c -lws2_32
 *
 * Imports only ws2_32, kernel32 and the C runtime every Windows ships
 * (msvcrt.dll); no API newer than Vista.
 *
 * Exit codes: 0 ran, no WSAEADDRINUSE; 1 ran and saw WSAEADDRINUSE (the
 * KB2901197 signature); 2 bad usage; 3 could not run (no JSON printed);
 * 4 interrupted by Ctrl-C/Ctrl-Break (JSON printed, "interrupted":true: an
 * interrupted run proves nothing).
 */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* Vista / Server 2008 */
#endif
#define WIN32_LEAN_AND_MEAN
#define __USE_MINGW_ANSI_STDIO 1 /* C99 printf (%lld) on any msvcrt */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_VERSION 1

/* Hard limits, as internal/hammer's. */
#define MAX_WORKERS 64 /* also MAXIMUM_WAIT_OBJECTS */
#define MAX_COUNT 5000000L
#define MAX_DURATION_MS (10L * 60 * 1000)
#define MAX_TIMEOUT_MS (30L * 1000)
#define MAX_PAYLOAD (64 * 1024)
#define DEFAULT_TIMEOUT_MS 2000L
#define DEFAULT_DURATION_MS 10000L
#define ERR_EOF (-1) /* the peer closed before the whole payload came */

/* Winsock options not in every mingw ws2def.h. */
#ifndef SO_PORT_SCALABILITY
#define SO_PORT_SCALABILITY 0x3006
#endif
#ifndef SO_REUSE_UNICASTPORT
#define SO_REUSE_UNICASTPORT 0x3007
#endif

enum { C_SUCCESS, C_ADDRINUSE, C_EXHAUSTED, C_REFUSED, C_TIMEOUT, C_OTHER, NCLASS };
static const char *const class_names[NCLASS] = {"success", "addrinuse", "exhausted", "refused", "timeout", "other"};

enum { M_CONNECT, M_BIND_CONNECT, M_BIND_REUSEADDR, M_PORT_SCALABILITY, M_REUSE_UNICASTPORT, NMODE };
static const char *const mode_names[NMODE] = {"connect", "bind-connect", "bind-reuseaddr", "port-scalability", "reuse-unicastport"};

enum { CL_CLIENT_FIRST, CL_SERVER_FIRST, CL_ABORTIVE, NCLOSE };
static const char *const close_names[NCLOSE] = {"client-first", "server-first", "abortive"};

static const char usage_text[] =
	"Usage: kbh-hammer [flags]\n"
	"\n"
	"Churns TCP connections (connect, optional payload, close) against a listener\n"
	"of its own bound only to the target, classifies every attempt (success,\n"
	"addrinuse, exhausted, refused, timeout, other) and prints one JSON report on\n"
	"stdout; a progress line a second goes to stderr. The KB2901197 signature is\n"
	"any WSAEADDRINUSE: exit code 1. Exit 2 on bad usage, 3 if it could not run,\n"
	"4 if interrupted. It never changes the dynamic port range: narrow it with\n"
	"`netsh int ipv4 set dynamicport tcp start=N num=N` around the run.\n"
	"\n"
	"Flags (--flag VALUE or --flag=VALUE; durations are N followed by ms, s or m):\n"
	"  --target ADDR[:PORT]  listener address (default 127.0.0.1:0, port chosen by\n"
	"                        the stack): loopback, or the guest's own lab address,\n"
	"                        which must lie in a documentation range (192.0.2.0/24,\n"
	"                        198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32);\n"
	"                        IPv6 as [ADDR]:PORT\n"
	"  --workers N           concurrent clients, 1 to 64 (default 2)\n"
	"  --count N             attempts, 0 to 5000000 (0: bounded by --duration)\n"
	"  --duration D          time bound, 0 to 10m (default 10s; 0: --count only)\n"
	"  --mode M              connect (default), bind-connect, bind-reuseaddr,\n"
	"                        port-scalability (Windows 7/2008 R2+),\n"
	"                        reuse-unicastport (Windows 10/2016+)\n"
	"  --close C             client-first (default), server-first, abortive\n"
	"  --payload N           bytes each client sends after connecting, 0 to 65536\n"
	"  --timeout D           bound of each connect and read, 0 to 30s (0: 2s)\n"
	"  --help                this text\n";

/* ---- configuration ---- */

static struct {
	int family;
	struct sockaddr_storage target; /* as given; port may be 0 */
	int target_len;
	char target_addr[INET6_ADDRSTRLEN + 2]; /* "127.0.0.1" or "[::1]" */
	int workers;
	long count;
	long duration_ms;
	int mode;
	int close_order;
	int payload;
	long timeout_ms;
} cfg = {AF_INET, {0}, 0, "", 2, 0, DEFAULT_DURATION_MS, M_CONNECT, CL_CLIENT_FIRST, 0, DEFAULT_TIMEOUT_MS};

static void usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "kbh-hammer: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n\n%s", usage_text);
	exit(2);
}

/* parse_long parses a whole decimal number in lo..hi. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	long v = 0;
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (hi - (*s - '0')) / 10)
			return 0;
		v = v * 10 + (*s - '0');
	}
	if (v < lo)
		return 0;
	*out = v;
	return 1;
}

/* parse_duration parses N followed by ms, s or m into milliseconds, at most hi. */
static int parse_duration(const char *s, long hi, long *out)
{
	char num[16];
	const char *u = s;
	long v, mult;
	while (*u >= '0' && *u <= '9')
		u++;
	if (u == s || (size_t)(u - s) >= sizeof num)
		return 0;
	memcpy(num, s, u - s);
	num[u - s] = '\0';
	if (strcmp(s, "0") == 0)
		mult = 1; /* 0 needs no unit, as in Go */
	else if (strcmp(u, "ms") == 0)
		mult = 1;
	else if (strcmp(u, "s") == 0)
		mult = 1000;
	else if (strcmp(u, "m") == 0)
		mult = 60000;
	else
		return 0;
	if (!parse_long(num, 0, hi / mult, &v))
		return 0;
	*out = v * mult;
	return 1;
}

static int lookup(const char *s, const char *const *names, int n)
{
	int i;
	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* lab_or_loopback: loopback, or a documentation range (RFC 5737, RFC 3849). */
static int lab_or_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in *)ss)->sin_addr;
		return a[0] == 127 || (a[0] == 192 && a[1] == 0 && a[2] == 2) ||
		       (a[0] == 198 && a[1] == 51 && a[2] == 100) || (a[0] == 203 && a[1] == 0 && a[2] == 113);
	} else {
		static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		return memcmp(a, loop6, 16) == 0 || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8);
	}
}

/* parse_target: ADDR, ADDR:PORT, [ADDR6]:PORT or ADDR6. */
static int parse_target(const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *colon = strchr(s, ':');
	size_t n;
	long p = 0;
	memset(&cfg.target, 0, sizeof cfg.target);
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return 0;
		n = end - s - 1;
		if (n >= sizeof addr)
			return 0;
		memcpy(addr, s + 1, n);
		addr[n] = '\0';
		if (end[1] == ':')
			port = end + 2;
		cfg.family = AF_INET6;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		n = colon - s;
		if (n >= sizeof addr)
			return 0;
		memcpy(addr, s, n);
		addr[n] = '\0';
		port = colon + 1;
		cfg.family = AF_INET;
	} else {
		if (strlen(s) >= sizeof addr)
			return 0;
		strcpy(addr, s);
		cfg.family = colon != NULL ? AF_INET6 : AF_INET;
	}
	if (port != NULL && !parse_long(port, 0, 65535, &p))
		return 0;
	if (cfg.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&cfg.target;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((u_short)p);
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			return 0;
		cfg.target_len = sizeof *sin;
		strcpy(cfg.target_addr, addr);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg.target;
		char canon[INET6_ADDRSTRLEN];
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((u_short)p);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return 0;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return 0;
		cfg.target_len = sizeof *sin6;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, canon, sizeof canon) == NULL)
			return 0;
		snprintf(cfg.target_addr, sizeof cfg.target_addr, "[%s]", canon);
	}
	return 1;
}

static void parse_args(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		char name[32];
		long v;
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (strncmp(arg, "--", 2) != 0)
			usage_error("unexpected argument %s%s", arg, "");
		eq = strchr(arg, '=');
		if (eq != NULL) {
			if ((size_t)(eq - arg) >= sizeof name)
				usage_error("unknown flag %s%s", arg, "");
			memcpy(name, arg, eq - arg);
			name[eq - arg] = '\0';
			val = eq + 1;
		} else {
			if (strlen(arg) >= sizeof name)
				usage_error("unknown flag %s%s", arg, "");
			strcpy(name, arg);
		}
		if (strcmp(name, "--target") != 0 && strcmp(name, "--workers") != 0 && strcmp(name, "--count") != 0 &&
		    strcmp(name, "--duration") != 0 && strcmp(name, "--mode") != 0 && strcmp(name, "--close") != 0 &&
		    strcmp(name, "--payload") != 0 && strcmp(name, "--timeout") != 0)
			usage_error("unknown flag %s%s", name, "");
		if (val == NULL) {
			if (i + 1 >= argc)
				usage_error("flag %s needs a value%s", name, "");
			val = argv[++i];
		}
		if (strcmp(name, "--target") == 0) {
			if (!parse_target(val))
				usage_error("--target %s: want ADDR, ADDR:PORT or [ADDR6]:PORT%s", val, "");
			if (!lab_or_loopback(&cfg.target))
				usage_error("--target %s is neither loopback nor in a documentation range "
					    "(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)%s", val, "");
		} else if (strcmp(name, "--workers") == 0) {
			if (!parse_long(val, 1, MAX_WORKERS, &v))
				usage_error("--workers %s: want 1 to 64%s", val, "");
			cfg.workers = (int)v;
		} else if (strcmp(name, "--count") == 0) {
			if (!parse_long(val, 0, MAX_COUNT, &cfg.count))
				usage_error("--count %s: want 0 to 5000000%s", val, "");
		} else if (strcmp(name, "--duration") == 0) {
			if (!parse_duration(val, MAX_DURATION_MS, &cfg.duration_ms))
				usage_error("--duration %s: want 0 to 10m, as N followed by ms, s or m%s", val, "");
		} else if (strcmp(name, "--mode") == 0) {
			if ((cfg.mode = lookup(val, mode_names, NMODE)) < 0)
				usage_error("--mode %s: want connect, bind-connect, bind-reuseaddr, port-scalability or "
					    "reuse-unicastport%s", val, strcmp(val, "bind-no-port") == 0 ? " (bind-no-port is Linux only)" : "");
		} else if (strcmp(name, "--close") == 0) {
			if ((cfg.close_order = lookup(val, close_names, NCLOSE)) < 0)
				usage_error("--close %s: want client-first, server-first or abortive%s", val, "");
		} else if (strcmp(name, "--payload") == 0) {
			if (!parse_long(val, 0, MAX_PAYLOAD, &v))
				usage_error("--payload %s: want 0 to 65536%s", val, "");
			cfg.payload = (int)v;
		} else if (strcmp(name, "--timeout") == 0) {
			if (!parse_duration(val, MAX_TIMEOUT_MS, &cfg.timeout_ms))
				usage_error("--timeout %s: want 0 to 30s, as N followed by ms, s or m%s", val, "");
			if (cfg.timeout_ms == 0)
				cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
		}
	}
	if (cfg.count == 0 && cfg.duration_ms == 0)
		usage_error("neither --count nor --duration set%s%s", "", "");
	if (cfg.target_len == 0)
		parse_target("127.0.0.1:0");
}

/* ---- errors ---- */

static const char *wsa_name(int e)
{
	switch (e) {
	case WSAEADDRINUSE: return "WSAEADDRINUSE";
	case WSAEADDRNOTAVAIL: return "WSAEADDRNOTAVAIL";
	case WSAENOBUFS: return "WSAENOBUFS";
	case WSAECONNREFUSED: return "WSAECONNREFUSED";
	case WSAETIMEDOUT: return "WSAETIMEDOUT";
	case WSAECONNRESET: return "WSAECONNRESET";
	case WSAECONNABORTED: return "WSAECONNABORTED";
	case WSAENETUNREACH: return "WSAENETUNREACH";
	case WSAEHOSTUNREACH: return "WSAEHOSTUNREACH";
	case WSAENETDOWN: return "WSAENETDOWN";
	case WSAEACCES: return "WSAEACCES";
	case WSAEINVAL: return "WSAEINVAL";
	case WSAEISCONN: return "WSAEISCONN";
	case WSAENOTCONN: return "WSAENOTCONN";
	case WSAENOTSOCK: return "WSAENOTSOCK";
	case WSAEMFILE: return "WSAEMFILE";
	case WSAEWOULDBLOCK: return "WSAEWOULDBLOCK";
	case WSAEINPROGRESS: return "WSAEINPROGRESS";
	case WSAEALREADY: return "WSAEALREADY";
	case WSAEINTR: return "WSAEINTR";
	case WSAENOPROTOOPT: return "WSAENOPROTOOPT";
	case WSAEAFNOSUPPORT: return "WSAEAFNOSUPPORT";
	case WSAESHUTDOWN: return "WSAESHUTDOWN";
	case WSAEFAULT: return "WSAEFAULT";
	}
	return "WSA error";
}

/* classify is internal/hammer's Windows classify(). */
static int classify(int e)
{
	switch (e) {
	case WSAEADDRINUSE: return C_ADDRINUSE;
	case WSAENOBUFS:
	case WSAEADDRNOTAVAIL: return C_EXHAUSTED;
	case WSAECONNREFUSED: return C_REFUSED;
	case WSAETIMEDOUT: return C_TIMEOUT;
	}
	return C_OTHER;
}

/* ---- run state ---- */

typedef struct {
	int set;
	const char *op; /* "" on success */
	int err;        /* 0 on success */
	unsigned short port;
	double at_ms;
} example;

typedef struct {
	volatile LONG counts[NCLASS]; /* written by the worker only */
	example first[NCLASS];
	char *payload;
	char *buf;
	char pad[64]; /* keep workers' counters on their own cache lines */
} worker;

static worker workers[MAX_WORKERS];
static volatile LONG stop_flag, server_stop, interrupted, remaining;
static HANDLE begin_event;
static LARGE_INTEGER qpc_freq, qpc_start;
static SOCKET lsock = INVALID_SOCKET;
static struct sockaddr_storage remote; /* the listener's actual address */
static int remote_len;
static unsigned short listen_port;

static CRITICAL_SECTION server_mu;
static long long server_errs;
static example server_first;

static double now_ms(void)
{
	LARGE_INTEGER t;
	QueryPerformanceCounter(&t);
	return (double)(t.QuadPart - qpc_start.QuadPart) * 1000.0 / (double)qpc_freq.QuadPart;
}

static void server_error(const char *op, int e)
{
	EnterCriticalSection(&server_mu);
	server_errs++;
	if (!server_first.set) {
		server_first.set = 1;
		server_first.op = op;
		server_first.err = e;
		server_first.at_ms = now_ms();
	}
	LeaveCriticalSection(&server_mu);
}

static unsigned short local_port(SOCKET s)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (getsockname(s, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static int mode_option(int mode, const char **name)
{
	switch (mode) {
	case M_BIND_REUSEADDR: *name = "SO_REUSEADDR"; return SO_REUSEADDR;
	case M_PORT_SCALABILITY: *name = "SO_PORT_SCALABILITY"; return SO_PORT_SCALABILITY;
	case M_REUSE_UNICASTPORT: *name = "SO_REUSE_UNICASTPORT"; return SO_REUSE_UNICASTPORT;
	}
	*name = "";
	return 0;
}

static int set_blocking(SOCKET s, int blocking)
{
	u_long nb = blocking ? 0 : 1;
	return ioctlsocket(s, FIONBIO, &nb);
}

/* ---- listener ---- */

static int listen_target(void)
{
	BOOL one = TRUE;
	int len = sizeof remote;
	lsock = socket(cfg.family, SOCK_STREAM, IPPROTO_TCP);
	if (lsock == INVALID_SOCKET)
		return WSAGetLastError();
	/* Never share a port with another program's listener. */
	if (setsockopt(lsock, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one) != 0 ||
	    bind(lsock, (const struct sockaddr *)&cfg.target, cfg.target_len) != 0 ||
	    listen(lsock, SOMAXCONN) != 0 || set_blocking(lsock, 0) != 0 ||
	    getsockname(lsock, (struct sockaddr *)&remote, &len) != 0)
		return WSAGetLastError();
	remote_len = len;
	listen_port = local_port(lsock);
	return 0;
}

/* serve accepts and drains connections until server_stop; a select with
 * 100ms timeouts on the non-blocking listener lets it notice the stop. */
static DWORD WINAPI serve(LPVOID arg)
{
	char *buf = malloc(MAX_PAYLOAD);
	DWORD rcvtimeo = (DWORD)cfg.timeout_ms;
	(void)arg;
	if (buf == NULL) {
		server_error("malloc", ERROR_NOT_ENOUGH_MEMORY);
		return 1;
	}
	while (!server_stop) {
		fd_set r;
		struct timeval tv = {0, 100 * 1000};
		SOCKET s;
		int n;
		FD_ZERO(&r);
		FD_SET(lsock, &r);
		n = select(0, &r, NULL, NULL, &tv);
		if (n == SOCKET_ERROR) {
			if (!server_stop)
				server_error("select", WSAGetLastError());
			Sleep(10);
			continue;
		}
		if (n == 0)
			continue;
		s = accept(lsock, NULL, NULL);
		if (s == INVALID_SOCKET) {
			int e = WSAGetLastError();
			/* Another thread took it, or the client gave up first. */
			if (e != WSAEWOULDBLOCK && e != WSAECONNRESET && !server_stop)
				server_error("accept", e);
			continue;
		}
		/* An accepted socket inherits the listener's non-blocking mode. */
		set_blocking(s, 1);
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&rcvtimeo, sizeof rcvtimeo);
		if (cfg.close_order == CL_SERVER_FIRST) {
			/* Read exactly the payload: closing with unread data sends RST. */
			int got = 0;
			while (got < cfg.payload) {
				int k = recv(s, buf, cfg.payload - got, 0);
				if (k <= 0) {
					server_error("recv", k == 0 ? ERR_EOF : WSAGetLastError());
					break;
				}
				got += k;
			}
		} else {
			for (;;) {
				int k = recv(s, buf, MAX_PAYLOAD, 0);
				if (k == 0)
					break;
				if (k < 0) {
					int e = WSAGetLastError();
					if (e != WSAECONNRESET)
						server_error("recv", e);
					break;
				}
			}
		}
		closesocket(s);
	}
	free(buf);
	return 0;
}

/* ---- clients ---- */

/* attempt is one socket -> [setsockopt, bind] -> non-blocking connect +
 * select -> [send] -> [recv until the server closes] -> close. It returns
 * the class and fills *op and *err on failure; *port when the worker has
 * no example of that class yet. */
static int attempt(worker *w, const char **op, int *err, unsigned short *port)
{
	const char *optname;
	int opt = mode_option(cfg.mode, &optname), class, e = 0;
	struct sockaddr_storage local;
	DWORD tmo = (DWORD)cfg.timeout_ms;
	SOCKET s;

	*op = "";
	*port = 0;
	s = socket(cfg.family, SOCK_STREAM, IPPROTO_TCP);
	if (s == INVALID_SOCKET) {
		*op = "socket";
		*err = WSAGetLastError();
		return classify(*err);
	}
	if (opt != 0) {
		BOOL one = TRUE;
		if (setsockopt(s, SOL_SOCKET, opt, (const char *)&one, sizeof one) != 0) {
			*op = "setsockopt";
			goto fail;
		}
	}
	if (cfg.mode != M_CONNECT) {
		memset(&local, 0, sizeof local);
		local.ss_family = (short)cfg.family;
		if (bind(s, (struct sockaddr *)&local, cfg.target_len) != 0) {
			*op = "bind";
			goto fail;
		}
	}
	if (set_blocking(s, 0) != 0) {
		*op = "ioctlsocket";
		goto fail;
	}
	*op = "connect";
	if (connect(s, (struct sockaddr *)&remote, remote_len) != 0) {
		fd_set wr, ex;
		struct timeval tv;
		int n, len = sizeof e;
		if (WSAGetLastError() != WSAEWOULDBLOCK)
			goto fail;
		FD_ZERO(&wr);
		FD_ZERO(&ex);
		FD_SET(s, &wr);
		FD_SET(s, &ex);
		tv.tv_sec = cfg.timeout_ms / 1000;
		tv.tv_usec = (cfg.timeout_ms % 1000) * 1000;
		n = select(0, NULL, &wr, &ex, &tv);
		if (n == SOCKET_ERROR) {
			*op = "select";
			goto fail;
		}
		if (n == 0) {
			e = WSAETIMEDOUT;
			goto failed;
		}
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&e, &len) != 0) {
			*op = "getsockopt";
			goto fail;
		}
		if (e == 0 && !FD_ISSET(s, &wr))
			e = WSAECONNREFUSED; /* exceptfds without an error code */
		if (e != 0)
			goto failed;
	}
	if (set_blocking(s, 1) != 0) {
		*op = "ioctlsocket";
		goto fail;
	}
	if (cfg.payload > 0) {
		int sent = 0;
		*op = "send";
		if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (const char *)&tmo, sizeof tmo) != 0) {
			*op = "setsockopt";
			goto fail;
		}
		while (sent < cfg.payload) {
			int k = send(s, w->payload + sent, cfg.payload - sent, 0);
			if (k <= 0)
				goto fail;
			sent += k;
		}
	}
	if (cfg.close_order == CL_SERVER_FIRST) {
		if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&tmo, sizeof tmo) != 0) {
			*op = "setsockopt";
			goto fail;
		}
		*op = "recv";
		for (;;) {
			int k = recv(s, w->buf, 4096, 0);
			if (k == 0)
				break;
			if (k < 0)
				goto fail;
		}
	}
	*op = "";
	*err = 0;
	if (!w->first[C_SUCCESS].set)
		*port = local_port(s);
	if (cfg.close_order == CL_ABORTIVE) {
		struct linger l = {1, 0};
		setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&l, sizeof l);
	}
	closesocket(s);
	return C_SUCCESS;

fail:
	e = WSAGetLastError();
failed:
	*err = e;
	class = classify(e);
	if (!w->first[class].set)
		*port = local_port(s);
	closesocket(s);
	return class;
}

static int claim(void)
{
	if (stop_flag)
		return 0;
	return cfg.count == 0 || InterlockedDecrement(&remaining) >= 0;
}

static DWORD WINAPI work(LPVOID arg)
{
	worker *w = arg;
	WaitForSingleObject(begin_event, INFINITE);
	while (claim()) {
		const char *op;
		int err = 0, class;
		unsigned short port;
		class = attempt(w, &op, &err, &port);
		w->counts[class]++;
		if (!w->first[class].set) {
			example *x = &w->first[class];
			x->op = op;
			x->err = err;
			x->port = port;
			x->at_ms = now_ms();
			x->set = 1;
		}
	}
	return 0;
}

static BOOL WINAPI on_ctrl(DWORD type)
{
	(void)type;
	InterlockedExchange(&interrupted, 1);
	InterlockedExchange(&stop_flag, 1);
	return TRUE;
}

static void totals(long long *total, long long counts[NCLASS])
{
	int i, c;
	*total = 0;
	for (c = 0; c < NCLASS; c++)
		counts[c] = 0;
	for (i = 0; i < cfg.workers; i++)
		for (c = 0; c < NCLASS; c++) {
			long n = workers[i].counts[c];
			counts[c] += n;
			*total += n;
		}
}

static void progress(double elapsed_ms, long long *last, double *last_ms)
{
	long long total, counts[NCLASS];
	double dt = (elapsed_ms - *last_ms) / 1000.0;
	int c;
	totals(&total, counts);
	fprintf(stderr, "%6.1fs %9lld done %8.0f/s", elapsed_ms / 1000.0, total, dt > 0 ? (double)(total - *last) / dt : 0.0);
	for (c = 0; c < NCLASS; c++)
		fprintf(stderr, " %s=%lld", class_names[c], counts[c]);
	fputc('\n', stderr);
	fflush(stderr);
	*last = total;
	*last_ms = elapsed_ms;
}

/* print_json_string prints s as a JSON string (ours are ASCII, but quote
 * defensively). */
static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_example(const example *x, int with_port)
{
	char err[64] = "";
	if (x->err == ERR_EOF)
		snprintf(err, sizeof err, "unexpected EOF");
	else if (x->err != 0)
		snprintf(err, sizeof err, "%s (%d)", wsa_name(x->err), x->err);
	printf("{\"op\":");
	print_json_string(x->op);
	printf(",\"err\":");
	print_json_string(err);
	if (with_port)
		printf(",\"local_port\":%u", (unsigned)x->port);
	printf(",\"at_ms\":%.3f}", x->at_ms);
}

/* die reports a Winsock error and exits 3. */
static void die(const char *what, int e)
{
	fprintf(stderr, "kbh-hammer: %s: %s (%d)\n", what, wsa_name(e), e);
	exit(3);
}

/* die_win reports a GetLastError() code and exits 3. */
static void die_win(const char *what, DWORD e)
{
	fprintf(stderr, "kbh-hammer: %s: Windows error %lu\n", what, (unsigned long)e);
	exit(3);
}

int main(int argc, char **argv)
{
	WSADATA wsa;
	HANDLE threads[MAX_WORKERS], servers[MAX_WORKERS];
	long long total, counts[NCLASS], last = 0;
	double elapsed, last_ms = 0, next_tick = 1000, budget;
	const char *optname;
	int i, c, e, first_out = 1;
	example first[NCLASS];

	/* First: inet_pton and inet_ntop may want Winsock started. */
	if ((e = WSAStartup(MAKEWORD(2, 2), &wsa)) != 0)
		die("WSAStartup", e);
	parse_args(argc, argv);
	if (mode_option(cfg.mode, &optname) != 0) {
		/* SO_PORT_SCALABILITY and SO_REUSE_UNICASTPORT exist only on newer Windows. */
		BOOL one = TRUE;
		SOCKET s = socket(cfg.family, SOCK_STREAM, IPPROTO_TCP);
		if (s == INVALID_SOCKET)
			die("probing the mode's option: socket", WSAGetLastError());
		if (setsockopt(s, SOL_SOCKET, mode_option(cfg.mode, &optname), (const char *)&one, sizeof one) != 0) {
			e = WSAGetLastError();
			if (e == WSAENOPROTOOPT) {
				fprintf(stderr, "kbh-hammer: mode %s is unsupported: %s is not available on this Windows (WSAENOPROTOOPT)\n",
					mode_names[cfg.mode], optname);
				exit(3);
			}
			die("probing the mode's option", e);
		}
		closesocket(s);
	}
	if ((e = listen_target()) != 0) {
		fprintf(stderr, "kbh-hammer: listening on %s:%u: %s (%d)\n", cfg.target_addr,
			(unsigned)ntohs(((struct sockaddr_in *)&cfg.target)->sin_port), wsa_name(e), e);
		exit(3);
	}
	InitializeCriticalSection(&server_mu);
	QueryPerformanceFrequency(&qpc_freq);
	QueryPerformanceCounter(&qpc_start);
	remaining = cfg.count;
	begin_event = CreateEventA(NULL, TRUE, FALSE, NULL);
	if (begin_event == NULL)
		die_win("CreateEvent", GetLastError());
	SetConsoleCtrlHandler(on_ctrl, TRUE);
	for (i = 0; i < cfg.workers; i++) {
		workers[i].payload = calloc(1, cfg.payload > 0 ? cfg.payload : 1);
		workers[i].buf = malloc(4096);
		if (workers[i].payload == NULL || workers[i].buf == NULL)
			die_win("malloc", ERROR_NOT_ENOUGH_MEMORY);
		threads[i] = CreateThread(NULL, 64 * 1024, work, &workers[i], STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
		servers[i] = CreateThread(NULL, 64 * 1024, serve, NULL, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
		if (threads[i] == NULL || servers[i] == NULL)
			die_win("CreateThread", GetLastError());
	}
	fprintf(stderr, "kbh-hammer: target %s:%u mode %s close %s workers %d count %ld duration %ldms\n",
		cfg.target_addr, (unsigned)listen_port, mode_names[cfg.mode], close_names[cfg.close_order],
		cfg.workers, cfg.count, cfg.duration_ms);
	/* The clock starts when every thread exists, as the Go hammer's does
	 * when every worker is ready. */
	QueryPerformanceCounter(&qpc_start);
	SetEvent(begin_event);

	budget = cfg.duration_ms > 0 ? (double)cfg.duration_ms : (double)MAX_DURATION_MS;
	for (;;) {
		double wait;
		DWORD r;
		elapsed = now_ms();
		if (elapsed >= budget)
			InterlockedExchange(&stop_flag, 1);
		if (elapsed >= next_tick) {
			progress(elapsed, &last, &last_ms);
			while (next_tick <= elapsed)
				next_tick += 1000;
		}
		wait = next_tick - elapsed;
		if (!stop_flag && budget - elapsed < wait)
			wait = budget - elapsed;
		if (wait < 1)
			wait = 1;
		r = WaitForMultipleObjects((DWORD)cfg.workers, threads, TRUE, (DWORD)wait + 1);
		if (r == WAIT_FAILED)
			die_win("WaitForMultipleObjects", GetLastError());
		if (r != WAIT_TIMEOUT)
			break;
	}
	elapsed = now_ms();
	InterlockedExchange(&stop_flag, 1);
	InterlockedExchange(&server_stop, 1);
	WaitForMultipleObjects((DWORD)cfg.workers, servers, TRUE, INFINITE);
	closesocket(lsock);

	totals(&total, counts);
	for (c = 0; c < NCLASS; c++) {
		first[c].set = 0;
		for (i = 0; i < cfg.workers; i++) {
			const example *x = &workers[i].first[c];
			if (x->set && (!first[c].set || x->at_ms < first[c].at_ms))
				first[c] = *x;
		}
	}

	printf("{\"agent\":\"kbh-hammer\",\"version\":%d,\"target\":\"%s:%u\",\"mode\":\"%s\",\"close\":\"%s\","
	       "\"elapsed_ms\":%.3f,\"attempts\":%lld,\"counts\":{",
	       AGENT_VERSION, cfg.target_addr, (unsigned)listen_port, mode_names[cfg.mode], close_names[cfg.close_order],
	       elapsed, total);
	for (c = 0; c < NCLASS; c++)
		printf("%s\"%s\":%lld", c ? "," : "", class_names[c], counts[c]);
	printf("},\"first\":{");
	for (c = 0; c < NCLASS; c++) {
		if (!first[c].set)
			continue;
		printf("%s\"%s\":", first_out ? "" : ",", class_names[c]);
		print_example(&first[c], 1);
		first_out = 0;
	}
	printf("},\"server_errors\":%lld", server_errs);
	if (server_first.set) {
		printf(",\"server_error\":");
		print_example(&server_first, 0);
	}
	if (interrupted)
		printf(",\"interrupted\":true");
	printf("}\n");
	fflush(stdout);
	WSACleanup();
	if (interrupted)
		return 4;
	return counts[C_ADDRINUSE] > 0 ? 1 : 0;
}
