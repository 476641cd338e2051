/* sdpp: the tool for buyers and sellers (a subcommand table, as in wireguard-tools' wg). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/common.h"
#include "cli/sdpp.h"

static const struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} subcommands[] = {
	{ "keygen", cmd_keygen,
	    "Creates an identity key file (mode 0600) and prints its public key" },
	{ "pubkey", cmd_pubkey, "Prints the public identity of a key file (hex, or --qr)" },
	{ "menu", cmd_menu, "Shows a gateway's verified menu" },
	{ "buy", cmd_buy, "Buys a stream: verified, decrypted samples as JSON lines or into MQTT" },
	{ "ledger", cmd_ledger,
	    "Audits a gateway's records: verify, show, prove, check-proof, export" },
	{ "iota", cmd_iota, "IOTA account address; signed payments and notarizations (--offline)" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sdpp <command> [arguments]\n\ncommands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\n'sdpp <command> --help' describes each command.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("sdpp %s (protocol sdpp/2, and sdpp/1 with older sellers)\n",
		    SDPP_TOOL_VERSION);
		return 0;
	}
	/* Once, before any thread: buy and iota talk to IOTA nodes. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "sdpp: cannot initialise libcurl\n");
		return 1;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sdpp: unknown command `%s'\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
