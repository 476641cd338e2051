/* Subcommands of the sdpp tool; each returns the process exit status. */
#ifndef CLI_SDPP_H
#define CLI_SDPP_H

#define SDPP_TOOL_VERSION "0.1.0"

int cmd_keygen(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_menu(int argc, char **argv);
int cmd_buy(int argc, char **argv);
int cmd_iota(int argc, char **argv);

#endif
