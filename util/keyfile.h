/* Secret files on disk: read refusing loose permissions, write durably with mode 0600. */
#ifndef UTIL_KEYFILE_H
#define UTIL_KEYFILE_H

#include <stddef.h>

/* Largest key file we read; ours are under 1 KiB. */
#define KEYFILE_MAX_BYTES 16384

/*
 * Reads a whole secret file into a new NUL-terminated buffer (*buf, *len;
 * free with sdpp_secret_free(*buf, *len)). Refuses, without reading, a file
 * that is not a regular file, is readable or writable by group or others
 * (mode & 077), or is larger than KEYFILE_MAX_BYTES. On failure fills err
 * with "PATH: reason" and returns -1.
 */
int keyfile_read(const char *path, char **buf, size_t *len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Writes data to path durably and atomically with the given mode (0600 for
 * secrets, 0644 for public keys): a temporary file in the same directory
 * created O_EXCL with that mode (umask cannot widen it), write, fsync,
 * rename over path (only if overwrite is non-zero; otherwise an existing
 * path is an error), then fsync of the directory. Returns 0 or -1 with err.
 */
int keyfile_write(const char *path, const void *data, size_t len, unsigned mode, int overwrite,
    char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
