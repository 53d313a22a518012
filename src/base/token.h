/* Bearer tokens kept in files (siphond's [http] token_file, siphonctl
 * --token-file): the file's first line, surrounding whitespace removed. */
#ifndef SIPHON_BASE_TOKEN_H
#define SIPHON_BASE_TOKEN_H

#include <stddef.h>

#define TOKEN_MIN 16  /* characters: a guessable token protects nothing */
#define TOKEN_MAX 256

/* Read the token in path into out (NUL-terminated): TOKEN_MIN to TOKEN_MAX
 * visible ASCII characters (no space, no control). Returns 0, -EINVAL with
 * *why saying what is wrong with the content, or the negated errno of
 * open/read (*why NULL). */
int token_read_file(const char *path, char out[TOKEN_MAX + 1], const char **why);

#endif
