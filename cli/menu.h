/* Showing a verified menu: the aligned table, the JSON document, the --filter match. */
#ifndef CLI_MENU_H
#define CLI_MENU_H

#include <stdint.h>
#include <stdio.h>

#include "sdpp/msg.h"

/* Widest topic filter in the table; a longer one loses its middle to an ellipsis. */
#define MENU_TOPIC_COLUMNS 48

/* 1 if filter is NULL or "", or if the product's id, topic, unit, device
 * class or description contains it, ASCII letters compared without case. */
int menu_product_matches(const struct sdpp_product *p, const char *filter);

/* The product's rate tier in words, e.g. "every sample", "≤1/60s",
 * "on change >0.5", "≤1/60s, on change" (UTF-8, into buf of cap bytes). */
void menu_rate_tier(char *buf, size_t cap, const struct sdpp_product *p);

/* Prints the menu for a person: a header line naming the gateway, how many
 * products it has and shows, the payment terms, then one aligned line per
 * product that matches filter. now: ms since the epoch, for ages. */
void menu_print_table(FILE *f, const struct sdpp_menu *m, const char *filter, uint64_t now);

/* Prints the whole menu as one JSON document (one line): every member of
 * the menu and of each product that matches filter (all if NULL). */
void menu_print_json(FILE *f, const struct sdpp_menu *m, const char *filter);

#endif
