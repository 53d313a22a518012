/* Bearer tokens kept in files (token.h). */
#include "base/token.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* The token in the first line of buf[0..len), or why not. */
static int first_line(const char *buf, size_t len, bool whole, char out[TOKEN_MAX + 1],
		      const char **why)
{
	size_t start = 0, end = strcspn(buf, "\r\n");

	/* a first line that does not end within what was read is refused,
	 * never cut */
	if (end == len && !whole) {
		*why = "the token (the first line) is longer than 256 characters";
		return -EINVAL;
	}
	while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
		start++;
	while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	if (end - start < TOKEN_MIN) {
		*why = "the token (the first line) is shorter than 16 characters";
		return -EINVAL;
	}
	if (end - start > TOKEN_MAX) {
		*why = "the token (the first line) is longer than 256 characters";
		return -EINVAL;
	}
	for (size_t i = start; i < end; i++) {
		if (buf[i] < 0x21 || buf[i] > 0x7e) {
			*why = "the token may hold visible ASCII characters only";
			return -EINVAL;
		}
	}
	memcpy(out, buf + start, end - start);
	out[end - start] = '\0';
	return 0;
}

int token_read_file(const char *path, char out[TOKEN_MAX + 1], const char **why)
{
	char buf[1024];
	size_t len = 0;
	ssize_t n = 1;
	int fd, err;

	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0) {
			err = errno;
			if (err == EINTR)
				continue;
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return -err;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	/* n == 0: the file ended within the buffer */
	err = first_line(buf, len, n == 0, out, why);
	explicit_bzero(buf, sizeof(buf)); /* a copy of a secret */
	return err;
}
