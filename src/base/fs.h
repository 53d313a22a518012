/* Small file-system helpers shared by the programs. */
#ifndef SIPHON_BASE_FS_H
#define SIPHON_BASE_FS_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p dir with mode for the directories it creates. Returns 0,
 * -EINVAL (empty or too long a path) or the negated errno of the mkdir that
 * failed; that component's path is then copied into failed (cap bytes) when
 * failed is not NULL. */
int fs_mkdir_p(const char *dir, mode_t mode, char *failed, size_t cap);

#endif
