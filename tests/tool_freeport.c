/* Test tool: prints N (default 1) distinct free TCP ports on 127.0.0.1, one a line. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORTS_MAX 64

/*
 * The kernel picks each port (bind to port 0). All N sockets are held
 * open until every port is known, so the ports are distinct; they are
 * closed before printing, and a test binds them a moment later. Another
 * process could take one in between, but the kernel hands out ephemeral
 * ports round-robin, so that takes a lot of bad luck.
 */
int
main(int argc, char **argv)
{
	int fds[PORTS_MAX], ports[PORTS_MAX];
	unsigned long n = 1;
	char *end;
	size_t i;

	if (argc > 2) {
		fprintf(stderr, "usage: tool_freeport [N]\n");
		return 2;
	}
	if (argc == 2) {
		errno = 0;
		n = strtoul(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 || n > PORTS_MAX) {
			fprintf(stderr, "tool_freeport: N is not 1-%d: `%s'\n", PORTS_MAX, argv[1]);
			return 2;
		}
	}
	for (i = 0; i < n; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = 0;
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0) {
			perror("tool_freeport");
			return 1;
		}
		ports[i] = ntohs(sa.sin_port);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	for (i = 0; i < n; i++)
		printf("%d\n", ports[i]);
	return 0;
}
