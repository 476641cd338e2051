/* Test tool: prints N (default 1) distinct free TCP ports on 127.0.0.1, one a line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/common/broker.h"

/* The ports come from broker_free_ports(), as the C tests' and the bench's do. */
int
main(int argc, char **argv)
{
	int ports[BROKER_PORTS_MAX];
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
		if (errno != 0 || *end != '\0' || n < 1 || n > BROKER_PORTS_MAX) {
			fprintf(stderr, "tool_freeport: N is not 1-%d: `%s'\n", BROKER_PORTS_MAX,
			    argv[1]);
			return 2;
		}
	}
	if (broker_free_ports(ports, n) != 0) {
		perror("tool_freeport");
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("%d\n", ports[i]);
	return 0;
}
