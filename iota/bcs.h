/* BCS (Binary Canonical Serialization) writer into a caller's buffer, never past its cap. */
#ifndef IOTA_BCS_H
#define IOTA_BCS_H

#include <stddef.h>
#include <stdint.h>

/* BCS limits sequence lengths and enum tags to 2^31 - 1. */
#define BCS_MAX_SEQUENCE_LEN 0x7fffffffu
/* A ULEB128 of a u32 takes at most 5 bytes (a u64 at most 10). */
#define BCS_ULEB128_MAX_BYTES 10

/*
 * A writer over caller memory: buf[0..cap). Nothing is allocated. A write
 * that does not fit (or a length beyond BCS_MAX_SEQUENCE_LEN) writes
 * nothing, sets the sticky error and returns -1; every later write is then
 * refused too, so a sequence of writes can be checked once with
 * bcs_finish(). The fields are public only so the writer can live on the
 * stack: use the functions.
 */
struct bcs_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int failed;
};

/* Starts writing at buf[0]; cap may be 0 (buf may then be NULL). */
void bcs_init(struct bcs_writer *w, uint8_t *buf, size_t cap);

/* 0 and the number of bytes written, or -1 if any write failed. */
int bcs_finish(const struct bcs_writer *w, size_t *len) __attribute__((warn_unused_result));

/* Fixed-width little-endian integers and bool (0 or 1). Each returns 0 or -1. */
int bcs_put_u8(struct bcs_writer *w, uint8_t v);
int bcs_put_u16(struct bcs_writer *w, uint16_t v);
int bcs_put_u32(struct bcs_writer *w, uint32_t v);
int bcs_put_u64(struct bcs_writer *w, uint64_t v);
int bcs_put_bool(struct bcs_writer *w, int v);

/* Unsigned LEB128 of any u64 (BCS uses it for lengths and enum tags). */
int bcs_put_uleb128(struct bcs_writer *w, uint64_t v);

/* A sequence length or enum variant tag: ULEB128, refused above BCS_MAX_SEQUENCE_LEN. */
int bcs_put_len(struct bcs_writer *w, size_t n);

/* n raw bytes with no length: fixed arrays such as a 32-byte address. */
int bcs_put_fixed(struct bcs_writer *w, const void *p, size_t n);

/* vector<u8>: ULEB128 length, then the bytes. */
int bcs_put_bytes(struct bcs_writer *w, const void *p, size_t n);

/* A string: its UTF-8 bytes as vector<u8>. The caller checks the encoding
 * (util_utf8_valid()) where the reader requires it. */
int bcs_put_str(struct bcs_writer *w, const char *s, size_t n);

/* Option<T>: None is the byte 00; Some is 01 followed by the caller's T. */
int bcs_put_none(struct bcs_writer *w);
int bcs_put_some(struct bcs_writer *w);

/* Size of the ULEB128 encoding of v (1 to 10). */
size_t bcs_uleb128_size(uint64_t v);

#endif
