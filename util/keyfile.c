/* Secret files on disk: read refusing loose permissions, write durably with mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util/keyfile.h"

/* Longest path we build (the temporary name adds a suffix to the target). */
#define KEYFILE_PATH_MAX 4096
/* Attempts at an unused temporary name before giving up. */
#define KEYFILE_TMP_TRIES 16

/* Fills err with "PATH: reason" (printf-style reason); err may be NULL. */
static void __attribute__((format(printf, 4, 5)))
seterr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

int
keyfile_read(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *data = NULL;
	size_t n = 0;
	ssize_t r;
	int fd = -1;

	*buf = NULL;
	*len = 0;
	/*
	 * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	 * writer before fstat() could refuse it. O_NOFOLLOW: a symlink could
	 * point a privileged reader at somebody else's file.
	 */
	do {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	} while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		if (errno == ELOOP)
			seterr(err, errlen, path, "is a symbolic link (refused)");
		else
			seterr(err, errlen, path, "%s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, path, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, path, "not a regular file");
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		seterr(err, errlen, path,
		    "mode %04o gives group or others access to a secret (chmod 600)",
		    (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (st.st_size > KEYFILE_MAX_BYTES) {
		seterr(err, errlen, path, "%lld bytes, larger than the %d-byte limit",
		    (long long)st.st_size, KEYFILE_MAX_BYTES);
		goto fail;
	}
	/* One byte over the limit to notice a file that grew after fstat(). */
	data = malloc(KEYFILE_MAX_BYTES + 2);
	if (data == NULL) {
		seterr(err, errlen, path, "%s", strerror(ENOMEM));
		goto fail;
	}
	while (n < KEYFILE_MAX_BYTES + 1) {
		r = read(fd, data + n, KEYFILE_MAX_BYTES + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			seterr(err, errlen, path, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > KEYFILE_MAX_BYTES) {
		seterr(err, errlen, path, "grew beyond the %d-byte limit while read",
		    KEYFILE_MAX_BYTES);
		goto fail;
	}
	data[n] = '\0';
	close(fd);
	*buf = data;
	*len = n;
	return 0;
fail:
	if (data != NULL) {
		OPENSSL_cleanse(data, KEYFILE_MAX_BYTES + 2);
		free(data);
	}
	if (fd != -1)
		close(fd);
	return -1;
}

/* Splits path into its directory ("." if none) in dir; -1 if it names no file. */
static int
dir_of(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (*path == '\0' || (slash != NULL && slash[1] == '\0'))
		return -1;
	if (slash == NULL) {
		if (dirlen < 2)
			return -1;
		memcpy(dir, ".", 2);
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path); /* "/key" lives in "/" */
	if (n >= dirlen)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* Writes all len bytes, retrying short writes and EINTR. */
static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Creates a new file next to path named ".NAME.XXXXXXXXXXXXXXXX" (random hex)
 * with O_EXCL, so it is ours alone; its name goes into tmp.
 */
static int
create_tmp(const char *path, unsigned mode, char *tmp, size_t tmplen)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash == NULL ? 0 : (size_t)(slash - path) + 1;
	unsigned char rnd[8];
	int fd, n, i;

	for (i = 0; i < KEYFILE_TMP_TRIES; i++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			errno = EIO;
			return -1;
		}
		n = snprintf(tmp, tmplen, "%.*s.%s.%02x%02x%02x%02x%02x%02x%02x%02x", (int)dirlen,
		    path, path + dirlen, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
		    rnd[7]);
		if (n < 0 || (size_t)n >= tmplen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		do {
			fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    (mode_t)mode);
		} while (fd == -1 && errno == EINTR);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Flushes the directory entry of a rename or link to disk. */
static int
fsync_dir(const char *dir)
{
	int fd, rc;

	do {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	if (rc == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int
keyfile_write(const char *path, const void *data, size_t len, unsigned mode, int overwrite,
    char *err, size_t errlen)
{
	char dir[KEYFILE_PATH_MAX], tmp[KEYFILE_PATH_MAX];
	const char *what;
	int fd = -1, have_tmp = 0;

	if (data == NULL && len > 0) {
		seterr(err, errlen, path, "no data");
		return -1;
	}
	/* Permission bits only: no setuid, setgid or sticky on a key file. */
	if ((mode & ~0777u) != 0) {
		seterr(err, errlen, path, "bad mode %o", mode);
		return -1;
	}
	if (dir_of(path, dir, sizeof(dir)) == -1) {
		seterr(err, errlen, path, "not a file name, or too long");
		return -1;
	}
	if ((fd = create_tmp(path, mode, tmp, sizeof(tmp))) == -1) {
		what = "create temporary file";
		goto fail;
	}
	have_tmp = 1;
	/* open() applied the umask; set exactly the mode asked for. */
	if (fchmod(fd, (mode_t)mode) == -1) {
		what = "fchmod";
		goto fail;
	}
	if (write_all(fd, data, len) == -1) {
		what = "write";
		goto fail;
	}
	if (fsync(fd) == -1) {
		what = "fsync";
		goto fail;
	}
	/* close() can report a deferred write error (NFS): check it. */
	if (close(fd) == -1) {
		fd = -1;
		what = "close";
		goto fail;
	}
	fd = -1;
	if (overwrite) {
		if (rename(tmp, path) == -1) {
			what = "rename";
			goto fail;
		}
		have_tmp = 0;
	} else {
		/* link() never replaces an existing name: EEXIST keeps the old file. */
		if (link(tmp, path) == -1) {
			if (errno == EEXIST) {
				seterr(err, errlen, path, "already exists (not overwritten)");
				what = NULL;
				goto fail;
			}
			what = "link";
			goto fail;
		}
		if (unlink(tmp) == -1) {
			what = "unlink temporary file";
			goto fail;
		}
		have_tmp = 0;
	}
	if (fsync_dir(dir) == -1) {
		/* The file is in place but might not survive a crash. */
		what = "fsync directory";
		goto fail;
	}
	return 0;
fail:
	/* what is NULL when the message is already set. */
	if (what != NULL)
		seterr(err, errlen, path, "%s: %s", what, strerror(errno));
	if (fd != -1)
		close(fd);
	if (have_tmp)
		unlink(tmp);
	return -1;
}
