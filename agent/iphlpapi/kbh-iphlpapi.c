/*
 * kbh-iphlpapi.dll: a stand-in for the documented contract of the IP Helper
 * write procedures, for kbharness's tests under Wine (Wine 8 answers
 * ERROR_NOT_SUPPORTED to AddIPAddress and does not export the others). It is
 * NOT Windows' implementation: it decodes each call's arguments and rows,
 * checks them as the documentation says, and forwards the change to the
 * command stand-ins' server (cmd/kbh-standin serve, address in
 * %KBH_STANDIN_ADDR%), which applies it to the lab namespace's real kernel
 * and keeps the NTE contexts; Wine's own read APIs then see the change.
 * kbharness loads it only when KBHARNESS_IPHLPAPI_WRITES names it
 * (netcfg/internal/iphlpapi).
 *
 * Exports: AddIPAddress, DeleteIPAddress; InitializeUnicastIpAddressEntry,
 * CreateUnicastIpAddressEntry, DeleteUnicastIpAddressEntry;
 * InitializeIpForwardEntry, CreateIpForwardEntry2, DeleteIpForwardEntry2.
 * Not elevated (the calling thread's token, else the process's), each
 * answers as its page documents: AddIPAddress ERROR_INVALID_HANDLE, the
 * others ERROR_ACCESS_DENIED. An interface named by LUID is turned into its
 * index by Wine's ConvertInterfaceLuidToIndex.
 *
 * Wire: one JSON request, one JSON response per TCP connection
 * (internal/standin/wire): {"command":"iphlpapi","args":[...]} answered by
 * {"stdout":"...",...,"exit":WIN32_ERROR}; the arguments are text
 * (internal/standin/iphlp.go lists them).
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -s
 *        -o kbh-iphlpapi.dll kbh-iphlpapi.c kbh-iphlpapi.def -lws2_32 -liphlpapi
 */
#define _WIN32_WINNT 0x0600
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The layout of every structure decoded here, pinned to the Windows SDK's
 * x64 numbers; netcfg/internal/iphlpapi's layout tests hold the same table
 * for Go's mirrors (winipcfg's types) and check these lines against it. */
_Static_assert(sizeof(NET_LUID) == 8, "NET_LUID");
_Static_assert(sizeof(SOCKADDR_INET) == 28, "SOCKADDR_INET");
_Static_assert(offsetof(SOCKADDR_INET, si_family) == 0, "SOCKADDR_INET");
_Static_assert(offsetof(SOCKADDR_INET, Ipv4.sin_port) == 2, "SOCKADDR_INET");
_Static_assert(offsetof(SOCKADDR_INET, Ipv4.sin_addr) == 4, "SOCKADDR_INET");
_Static_assert(offsetof(SOCKADDR_INET, Ipv6.sin6_port) == 2, "SOCKADDR_INET");
_Static_assert(offsetof(SOCKADDR_INET, Ipv6.sin6_flowinfo) == 4, "SOCKADDR_INET");
_Static_assert(offsetof(SOCKADDR_INET, Ipv6.sin6_addr) == 8, "SOCKADDR_INET");
_Static_assert(offsetof(SOCKADDR_INET, Ipv6.sin6_scope_id) == 24, "SOCKADDR_INET");
_Static_assert(sizeof(IP_ADDRESS_PREFIX) == 32, "IP_ADDRESS_PREFIX");
_Static_assert(offsetof(IP_ADDRESS_PREFIX, Prefix) == 0, "IP_ADDRESS_PREFIX");
_Static_assert(offsetof(IP_ADDRESS_PREFIX, PrefixLength) == 28, "IP_ADDRESS_PREFIX");
_Static_assert(sizeof(MIB_UNICASTIPADDRESS_ROW) == 80, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, Address) == 0, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, InterfaceLuid) == 32, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, InterfaceIndex) == 40, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, PrefixOrigin) == 44, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, SuffixOrigin) == 48, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, ValidLifetime) == 52, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, PreferredLifetime) == 56, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, OnLinkPrefixLength) == 60, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, SkipAsSource) == 61, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, DadState) == 64, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, ScopeId) == 68, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(offsetof(MIB_UNICASTIPADDRESS_ROW, CreationTimeStamp) == 72, "MIB_UNICASTIPADDRESS_ROW");
_Static_assert(sizeof(MIB_IPFORWARD_ROW2) == 104, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, InterfaceLuid) == 0, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, InterfaceIndex) == 8, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, DestinationPrefix) == 12, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, NextHop) == 44, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, SitePrefixLength) == 72, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, ValidLifetime) == 76, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, PreferredLifetime) == 80, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, Metric) == 84, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, Protocol) == 88, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, Loopback) == 92, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, AutoconfigureAddress) == 93, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, Publish) == 94, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, Immortal) == 95, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, Age) == 96, "MIB_IPFORWARD_ROW2");
_Static_assert(offsetof(MIB_IPFORWARD_ROW2, Origin) == 100, "MIB_IPFORWARD_ROW2");

/* The value InitializeUnicastIpAddressEntry and InitializeIpForwardEntry
 * document as "an illegal value" for a prefix length; for Metric and
 * Protocol the stand-in uses all ones. */
#define ILLEGAL_PREFIX_LENGTH 255
#define INFINITE_LIFETIME 0xffffffffu

/* call sends the request, reads the whole response into resp and returns
 * its exit status, or ERROR_GEN_FAILURE when the server cannot be reached. */
static DWORD call(const char *args_json, char *resp, int cap)
{
	char addr[64], req[512], *colon;
	DWORD n = GetEnvironmentVariableA("KBH_STANDIN_ADDR", addr, sizeof addr);
	if (n == 0 || n >= sizeof addr || (colon = strrchr(addr, ':')) == NULL)
		return ERROR_GEN_FAILURE;
	*colon = 0;
	WSADATA wsa;
	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
		return ERROR_GEN_FAILURE;
	DWORD ret = ERROR_GEN_FAILURE;
	SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((u_short)atoi(colon + 1));
	if (s == INVALID_SOCKET || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		goto out;
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto out;
	/* noRegistry: the DLL reads no PersistentRoutes values, so the server
	 * neither seeds its persistent store from nor reconciles it with this
	 * request. */
	int len = snprintf(req, sizeof req, "{\"command\":\"iphlpapi\",\"args\":%s,\"registry\":[],\"noRegistry\":true}\n",
			   args_json);
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

/* elevated reports whether the caller's token (the thread's when it
 * impersonates, else the process's) is elevated. */
static BOOL elevated(void)
{
	HANDLE tok;
	TOKEN_ELEVATION e;
	DWORD n;
	if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &tok) &&
	    !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
		return FALSE;
	BOOL ok = GetTokenInformation(tok, TokenElevation, &e, sizeof e, &n) && e.TokenIsElevated;
	CloseHandle(tok);
	return ok;
}

/* if_index resolves a row's interface: by LUID when it is set (Wine's
 * ConvertInterfaceLuidToIndex), else by index. */
static DWORD if_index(const NET_LUID *luid, NET_IFINDEX index, NET_IFINDEX *out)
{
	if (luid->Value != 0)
		return ConvertInterfaceLuidToIndex(luid, out) == NO_ERROR ? NO_ERROR : ERROR_NOT_FOUND;
	if (index == 0)
		return ERROR_INVALID_PARAMETER;
	*out = index;
	return NO_ERROR;
}

/* addr_text writes a SOCKADDR_INET's address as text; FALSE for a family
 * other than AF_INET and AF_INET6. maxbits gets the family's bit count. */
static BOOL addr_text(const SOCKADDR_INET *a, char *out, size_t cap, unsigned *maxbits)
{
	switch (a->si_family) {
	case AF_INET:
		*maxbits = 32;
		return inet_ntop(AF_INET, &a->Ipv4.sin_addr, out, cap) != NULL;
	case AF_INET6:
		*maxbits = 128;
		return inet_ntop(AF_INET6, &a->Ipv6.sin6_addr, out, cap) != NULL;
	}
	return FALSE;
}

static void ipv4(DWORD a, char *out)
{
	const unsigned char *b = (const unsigned char *)&a; /* IPAddr: network order in memory */
	sprintf(out, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

DWORD WINAPI AddIPAddress(DWORD Address, DWORD IpMask, DWORD IfIndex, PULONG NTEContext, PULONG NTEInstance)
{
	char a[16], m[16], args[128], resp[4096];
	if (!elevated())
		return ERROR_INVALID_HANDLE;
	if (NTEContext == NULL || NTEInstance == NULL)
		return ERROR_INVALID_PARAMETER;
	ipv4(Address, a);
	ipv4(IpMask, m);
	snprintf(args, sizeof args, "[\"AddIPAddress\",\"%s\",\"%s\",\"%lu\"]", a, m, (unsigned long)IfIndex);
	DWORD ret = call(args, resp, sizeof resp);
	if (ret != NO_ERROR)
		return ret;
	const char *c = strstr(resp, "NTEContext="), *i = strstr(resp, "NTEInstance=");
	if (c == NULL || i == NULL)
		return ERROR_GEN_FAILURE;
	*NTEContext = strtoul(c + 11, NULL, 10);
	*NTEInstance = strtoul(i + 12, NULL, 10);
	return NO_ERROR;
}

DWORD WINAPI DeleteIPAddress(ULONG NTEContext)
{
	char args[64], resp[4096];
	if (!elevated())
		return ERROR_ACCESS_DENIED;
	snprintf(args, sizeof args, "[\"DeleteIPAddress\",\"%lu\"]", (unsigned long)NTEContext);
	return call(args, resp, sizeof resp);
}

VOID WINAPI InitializeUnicastIpAddressEntry(PMIB_UNICASTIPADDRESS_ROW Row)
{
	memset(Row, 0, sizeof *Row);
	Row->PrefixOrigin = IpPrefixOriginUnchanged;
	Row->SuffixOrigin = IpSuffixOriginUnchanged;
	Row->OnLinkPrefixLength = ILLEGAL_PREFIX_LENGTH;
	Row->ValidLifetime = INFINITE_LIFETIME;
	Row->PreferredLifetime = INFINITE_LIFETIME;
	Row->SkipAsSource = FALSE;
}

/* unicast forwards a unicast-address procedure: the row's address and
 * interface as "ADDR" and IFINDEX; with_len appends "/OnLinkPrefixLength",
 * which must be legal. */
static DWORD unicast(const char *op, const MIB_UNICASTIPADDRESS_ROW *row, BOOL with_len)
{
	char addr[INET6_ADDRSTRLEN + 8], args[160], resp[4096];
	unsigned maxbits;
	NET_IFINDEX idx;
	if (!elevated())
		return ERROR_ACCESS_DENIED;
	if (row == NULL || !addr_text(&row->Address, addr, sizeof addr, &maxbits))
		return ERROR_INVALID_PARAMETER;
	if (with_len) {
		if (row->OnLinkPrefixLength > maxbits)
			return ERROR_INVALID_PARAMETER;
		size_t n = strlen(addr);
		snprintf(addr + n, sizeof addr - n, "/%u", row->OnLinkPrefixLength);
	}
	DWORD ret = if_index(&row->InterfaceLuid, row->InterfaceIndex, &idx);
	if (ret != NO_ERROR)
		return ret;
	snprintf(args, sizeof args, "[\"%s\",\"%s\",\"%lu\"]", op, addr, (unsigned long)idx);
	return call(args, resp, sizeof resp);
}

DWORD WINAPI CreateUnicastIpAddressEntry(const MIB_UNICASTIPADDRESS_ROW *Row)
{
	return unicast("CreateUnicastIpAddressEntry", Row, TRUE);
}

DWORD WINAPI DeleteUnicastIpAddressEntry(const MIB_UNICASTIPADDRESS_ROW *Row)
{
	return unicast("DeleteUnicastIpAddressEntry", Row, FALSE);
}

VOID WINAPI InitializeIpForwardEntry(PMIB_IPFORWARD_ROW2 Row)
{
	memset(Row, 0, sizeof *Row);
	Row->ValidLifetime = INFINITE_LIFETIME;
	Row->PreferredLifetime = INFINITE_LIFETIME;
	Row->Loopback = TRUE;
	Row->AutoconfigureAddress = TRUE;
	Row->Publish = TRUE;
	Row->Immortal = TRUE;
	Row->SitePrefixLength = ILLEGAL_PREFIX_LENGTH;
	Row->Metric = 0xffffffffu;
	Row->Protocol = (NL_ROUTE_PROTOCOL)-1;
}

/* forward forwards a route procedure: the row as "DST/LEN", "NEXTHOP"
 * (of the destination's family; its unspecified address for an on-link
 * route) and IFINDEX; with_metric appends the metric (0 for the illegal
 * value InitializeIpForwardEntry leaves: the stack's default). */
static DWORD forward(const char *op, const MIB_IPFORWARD_ROW2 *row, BOOL with_metric)
{
	char dst[INET6_ADDRSTRLEN + 8], hop[INET6_ADDRSTRLEN], args[256], resp[4096];
	unsigned maxbits, hopbits;
	NET_IFINDEX idx;
	if (!elevated())
		return ERROR_ACCESS_DENIED;
	if (row == NULL || !addr_text(&row->DestinationPrefix.Prefix, dst, sizeof dst, &maxbits) ||
	    row->DestinationPrefix.PrefixLength > maxbits ||
	    !addr_text(&row->NextHop, hop, sizeof hop, &hopbits) || hopbits != maxbits)
		return ERROR_INVALID_PARAMETER;
	size_t n = strlen(dst);
	snprintf(dst + n, sizeof dst - n, "/%u", row->DestinationPrefix.PrefixLength);
	DWORD ret = if_index(&row->InterfaceLuid, row->InterfaceIndex, &idx);
	if (ret != NO_ERROR)
		return ret;
	unsigned long metric = row->Metric == 0xffffffffu ? 0 : row->Metric;
	int len = with_metric
		? snprintf(args, sizeof args, "[\"%s\",\"%s\",\"%s\",\"%lu\",\"%lu\"]", op, dst, hop, (unsigned long)idx, metric)
		: snprintf(args, sizeof args, "[\"%s\",\"%s\",\"%s\",\"%lu\"]", op, dst, hop, (unsigned long)idx);
	if (len <= 0 || len >= (int)sizeof args)
		return ERROR_INVALID_PARAMETER;
	return call(args, resp, sizeof resp);
}

DWORD WINAPI CreateIpForwardEntry2(const MIB_IPFORWARD_ROW2 *Row)
{
	return forward("CreateIpForwardEntry2", Row, TRUE);
}

DWORD WINAPI DeleteIpForwardEntry2(const MIB_IPFORWARD_ROW2 *Row)
{
	return forward("DeleteIpForwardEntry2", Row, FALSE);
}
