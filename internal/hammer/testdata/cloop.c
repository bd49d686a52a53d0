/*
 * cloop: the benchmark mark for internal/hammer. A minimal blocking
 * connect/close loop in C doing one hammer mode against its own listener,
 * one client thread and one server thread, like a one-worker hammer run.
 *
 *   cloop ADDR MODE CLOSE COUNT
 *   MODE:  connect | bind-connect | bind-reuseaddr | bind-no-port
 *   CLOSE: client-first | server-first | abortive
 *
 * Prints one line: "attempts=N ok=N addrinuse=N other=N secs=S first_addrinuse_ms=M".
 * Run it inside the namespace (ip netns exec).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static int lfd;
static int server_first;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *serve(void *arg)
{
	char buf[4096];
	(void)arg;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		if (!server_first)
			while (read(fd, buf, sizeof buf) > 0)
				;
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: cloop ADDR MODE CLOSE COUNT\n");
		return 2;
	}
	const char *mode = argv[2], *closing = argv[3];
	long count = atol(argv[4]);
	int abortive = strcmp(closing, "abortive") == 0;
	server_first = strcmp(closing, "server-first") == 0;
	int bind_first = strcmp(mode, "connect") != 0;
	int reuse = strcmp(mode, "bind-reuseaddr") == 0;
	int noport = strcmp(mode, "bind-no-port") == 0;

	struct sockaddr_in srv = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, argv[1], &srv.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	socklen_t len = sizeof srv;
	if (bind(lfd, (struct sockaddr *)&srv, sizeof srv) || listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&srv, &len)) {
		perror("listener");
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);

	struct sockaddr_in any = {.sin_family = AF_INET};
	struct linger lin = {1, 0};
	char buf[4096];
	long ok = 0, inuse = 0, other = 0;
	double start = now(), first_inuse = -1;
	for (long i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int err = 0;
		if (reuse)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (noport)
			setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind_first && bind(fd, (struct sockaddr *)&any, sizeof any))
			err = errno;
		if (!err && connect(fd, (struct sockaddr *)&srv, sizeof srv))
			err = errno;
		if (!err && server_first)
			while (read(fd, buf, sizeof buf) > 0)
				;
		if (!err && abortive)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
		close(fd);
		if (!err)
			ok++;
		else if (err == EADDRINUSE) {
			if (!inuse++)
				first_inuse = now() - start;
		} else
			other++;
	}
	double secs = now() - start;
	printf("attempts=%ld ok=%ld addrinuse=%ld other=%ld secs=%.6f first_addrinuse_ms=%.3f\n",
	       count, ok, inuse, other, secs, first_inuse < 0 ? -1 : first_inuse * 1e3);
	return 0;
}
