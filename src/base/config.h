/* INI-style configuration reader: "[section]" lines, "key = value" lines,
 * comments on lines starting with '#' or ';'. It knows no keys: each
 * assignment is handed to the caller's callback, which validates it. Errors
 * name the file, the line and the key (DESIGN.md, Configuration). */
#ifndef SIPHON_BASE_CONFIG_H
#define SIPHON_BASE_CONFIG_H

#include <stddef.h>

/* Longest accepted line, terminator excluded. */
#define CONFIG_LINE_MAX 4096

/* Where and why parsing stopped. */
struct config_err {
	unsigned line;  /* 1-based; 0 when not about a line (e.g. cannot open) */
	char msg[512];  /* "FILE:LINE: [section] key: reason" */
};

/* Called for every assignment, with NUL-terminated, trimmed strings valid
 * only during the call. Return 0, or a negative code and set *why to a static
 * or long-lived reason ("unknown key", "not a number") to stop parsing. */
typedef int (*config_kv_cb)(const char *section, const char *key, const char *value,
			    const char **why, void *arg);

/* Parse text[0..len) (NUL bytes are an error). name is used in messages.
 * Returns 0, -EINVAL (syntax or the callback's reason, in *err), or the
 * callback's own negative code. Never allocates. */
int config_parse_buffer(const char *text, size_t len, const char *name, config_kv_cb cb,
			void *arg, struct config_err *err);

/* Read path and parse it. Also -ENOENT/-EACCES/... (cannot read), -ENOMEM. */
int config_parse_file(const char *path, config_kv_cb cb, void *arg, struct config_err *err);

/* Value helpers for callbacks: 0 or -EINVAL. */
int config_parse_uint(const char *value, unsigned min, unsigned max, unsigned *out);
int config_parse_bool(const char *value, int *out); /* yes/no, true/false, on/off, 1/0 */

#endif
