/*
 * kbh-iphlpapi.dll: a stand-in for the documented contract of the IP Helper
 * write procedures AddIPAddress and DeleteIPAddress, for kbharness's tests
 * under Wine (whose iphlpapi answers ERROR_NOT_SUPPORTED). It is NOT
 * Windows' implementation: it forwards each call to the command stand-ins'
 * server (cmd/kbh-standin serve, address in %KBH_STANDIN_ADDR%), which applies
 * it to the lab namespace's real kernel and keeps the NTE contexts; Wine's
 * own read APIs then see the change. kbharness loads it only when
 * KBHARNESS_IPHLPAPI_WRITES names it (netcfg/internal/iphlpapi).
 *
 * Wire: one JSON request, one JSON response per TCP connection
 * (internal/standin/wire): {"command":"iphlpapi","args":[...]} answered by
 * {"stdout":"NTEContext=C NTEInstance=I\r\n",...,"exit":WIN32_ERROR}.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -s
 *        -o kbh-iphlpapi.dll kbh-iphlpapi.c kbh-iphlpapi.def -lws2_32
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_ERROR_ 0
#define ERR_INVALID_PARAMETER 87
#define ERR_GEN_FAILURE 31

/* call sends the request, reads the whole response into resp and returns
 * its exit status, or a Win32 error when the server cannot be reached. */
static DWORD call(const char *args_json, char *resp, int cap)
{
	char addr[64], req[512], *colon;
	DWORD n = GetEnvironmentVariableA("KBH_STANDIN_ADDR", addr, sizeof addr);
	if (n == 0 || n >= sizeof addr || (colon = strrchr(addr, ':')) == NULL)
		return ERR_GEN_FAILURE;
	*colon = 0;
	WSADATA wsa;
	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
		return ERR_GEN_FAILURE;
	DWORD ret = ERR_GEN_FAILURE;
	SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((u_short)atoi(colon + 1));
	if (s == INVALID_SOCKET || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		goto out;
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto out;
	int len = snprintf(req, sizeof req, "{\"command\":\"iphlpapi\",\"args\":%s,\"registry\":[]}\n", args_json);
	if (len <= 0 || len >= (int)sizeof req || send(s, req, len, 0) != len)
		goto out;
	int got = 0, r;
	while (got < cap - 1 && (r = recv(s, resp + got, cap - 1 - got, 0)) > 0) {
		got += r;
		if (memchr(resp, '\n', got))
			break;
	}
	resp[got] = 0;
	const char *e = strstr(resp, "\"exit\":");
	if (e != NULL)
		ret = (DWORD)strtoul(e + 7, NULL, 10);
out:
	if (s != INVALID_SOCKET) {
		struct linger l = {1, 0};
		setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&l, sizeof l);
		closesocket(s);
	}
	WSACleanup();
	return ret;
}

static void ipv4(DWORD a, char *out)
{
	const unsigned char *b = (const unsigned char *)&a; /* IPAddr: network order in memory */
	sprintf(out, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

DWORD WINAPI AddIPAddress(DWORD Address, DWORD IpMask, DWORD IfIndex, PULONG NTEContext, PULONG NTEInstance)
{
	char a[16], m[16], args[128], resp[4096];
	if (NTEContext == NULL || NTEInstance == NULL)
		return ERR_INVALID_PARAMETER;
	ipv4(Address, a);
	ipv4(IpMask, m);
	snprintf(args, sizeof args, "[\"AddIPAddress\",\"%s\",\"%s\",\"%lu\"]", a, m, (unsigned long)IfIndex);
	DWORD ret = call(args, resp, sizeof resp);
	if (ret != NO_ERROR_)
		return ret;
	const char *c = strstr(resp, "NTEContext="), *i = strstr(resp, "NTEInstance=");
	if (c == NULL || i == NULL)
		return ERR_GEN_FAILURE;
	*NTEContext = strtoul(c + 11, NULL, 10);
	*NTEInstance = strtoul(i + 12, NULL, 10);
	return NO_ERROR_;
}

DWORD WINAPI DeleteIPAddress(ULONG NTEContext)
{
	char args[64], resp[4096];
	snprintf(args, sizeof args, "[\"DeleteIPAddress\",\"%lu\"]", (unsigned long)NTEContext);
	return call(args, resp, sizeof resp);
}
