#include "base/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int fs_mkdir_p(const char *dir, mode_t mode, char *failed, size_t cap)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -EINVAL;
	memcpy(path, dir, n + 1);
	/* create each component in turn; existing ones are fine */
	for (char *p = path + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			int err = -errno;

			if (failed && cap)
				snprintf(failed, cap, "%s", path);
			return err;
		}
		*p = c;
		if (!c)
			return 0;
	}
}
