/* Shared by the libFuzzer targets: the invariant check, the entry points, and an input reader. */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

/* What CHECK and the reader use; the targets rely on these too. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A broken invariant is a finding: say where and what, then abort so
 * libFuzzer keeps the input as a crash artifact. Unlike assert(), it stays
 * on whatever NDEBUG says.
 */
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* libFuzzer's entry points (declared for -Wmissing-prototypes). Every
 * target defines the second; the first is optional, run once before any
 * input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input reader for targets that draw operations and arguments from the
 * input: every read succeeds, with zeros once the input runs out, so a
 * short input is still a whole (shorter) run. Borrows the input.
 */
struct fuzz_in {
	const uint8_t *p;
	size_t n; /* bytes left */
};

static inline uint8_t
fuzz_in_u8(struct fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* A big-endian number of 0..8 bytes. */
static inline uint64_t
fuzz_in_u64(struct fuzz_in *in, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | fuzz_in_u8(in);
	return v;
}

/* n bytes into dst, zero-padded past the end of the input. */
static inline void
fuzz_in_fill(struct fuzz_in *in, void *dst, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(dst, in->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

/* Bytes up to the next '\n' (consumed, not included) or the end; points
 * into the input, so it lives as long as the input does. */
static inline const uint8_t *
fuzz_in_line(struct fuzz_in *in, size_t *len)
{
	const uint8_t *start = in->p, *nl = memchr(in->p, '\n', in->n);

	*len = nl != NULL ? (size_t)(nl - start) : in->n;
	in->p += *len + (nl != NULL);
	in->n -= *len + (nl != NULL);
	return start;
}

/* The clock's next reading, for targets with timers: a small step, a step
 * of up to 65535 ms, the deadline itself, or 1 ms before it (no move when
 * that is not ahead; UINT64_MAX is no deadline). */
static inline uint64_t
fuzz_in_time(struct fuzz_in *in, uint64_t now, uint64_t deadline)
{
	uint8_t f = fuzz_in_u8(in);

	switch (f & 3) {
	case 0:
		return now + (f >> 2);
	case 1:
		return now + fuzz_in_u64(in, 2);
	case 2:
		return deadline != UINT64_MAX && deadline > now ? deadline : now;
	default:
		return deadline != UINT64_MAX && deadline > now + 1 ? deadline - 1 : now;
	}
}

#endif
