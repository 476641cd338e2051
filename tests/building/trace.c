/* tool_building: reads the office occupancy trace, keeping each number's text as written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/building/building.h"

#define TRACE_HEADER                                                                               \
	"\"date\",\"Temperature\",\"Humidity\",\"Light\",\"CO2\",\"HumidityRatio\",\"Occupancy\""
#define TRACE_COLUMNS 8 /* the row id, then the header's seven */

/* 1 if s is a JSON number (RFC 8259), so it can go into a payload as is. */
static int
json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* Copies a numeric column; -1 if it is not a JSON number or too long. */
static int
take(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= BUILDING_NUM_MAX || !json_number(src))
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Splits line (no newline) at commas into cols; the trace quotes no comma. */
static int
split(char *line, char **cols, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *c = strchr(p, ',');

		if (n == max)
			return -1;
		cols[n++] = p;
		if (c == NULL)
			return n;
		*c = '\0';
		p = c + 1;
	}
}

int
building_trace_load(const char *path, struct building_trace *t, char *err, size_t errlen)
{
	char line[BUILDING_LINE_MAX + 2], *cols[TRACE_COLUMNS];
	size_t cap = 0, lineno = 0;
	FILE *f;
	int rc = -1;

	t->rows = NULL;
	t->nrows = 0;
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		struct building_row *row;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			snprintf(err, errlen, "%s:%zu: line longer than %d bytes", path, lineno,
			    BUILDING_LINE_MAX);
			goto fail;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, TRACE_HEADER) != 0) {
				snprintf(err, errlen, "%s:1: not the occupancy trace's header %s",
				    path, TRACE_HEADER);
				goto fail;
			}
			continue;
		}
		if (len == 0)
			continue;
		if (split(line, cols, TRACE_COLUMNS) != TRACE_COLUMNS) {
			snprintf(
			    err, errlen, "%s:%zu: not %d columns", path, lineno, TRACE_COLUMNS);
			goto fail;
		}
		if (t->nrows == BUILDING_ROWS_MAX) {
			snprintf(err, errlen, "%s:%zu: more than %d rows", path, lineno,
			    BUILDING_ROWS_MAX);
			goto fail;
		}
		if (t->nrows == cap) {
			size_t ncap = cap == 0 ? 4096 : cap * 2;
			struct building_row *n = realloc(t->rows, ncap * sizeof(*n));

			if (n == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			t->rows = n;
			cap = ncap;
		}
		row = &t->rows[t->nrows];
		if (take(row->temperature, cols[2]) != 0 || take(row->humidity, cols[3]) != 0 ||
		    take(row->light, cols[4]) != 0 || take(row->co2, cols[5]) != 0) {
			snprintf(err, errlen, "%s:%zu: a measurement is not a plain number", path,
			    lineno);
			goto fail;
		}
		if (strcmp(cols[7], "0") != 0 && strcmp(cols[7], "1") != 0) {
			snprintf(err, errlen, "%s:%zu: Occupancy is neither 0 nor 1: `%s'", path,
			    lineno, cols[7]);
			goto fail;
		}
		row->occupancy = cols[7][0] == '1';
		t->nrows++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	if (t->nrows == 0) {
		snprintf(err, errlen, "%s: no rows", path);
		goto fail;
	}
	rc = 0;
fail:
	fclose(f);
	if (rc != 0)
		building_trace_free(t);
	return rc;
}

void
building_trace_free(struct building_trace *t)
{
	if (t == NULL)
		return;
	free(t->rows);
	t->rows = NULL;
	t->nrows = 0;
}
