#include "harness.h"

#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long live_at_start;

int harness_setup(void **state)
{
	(void)state;
	mem_fail_after(-1);
	live_at_start = mem_live_blocks();
	return 0;
}

int harness_teardown(void **state)
{
	long live = mem_live_blocks();

	(void)state;
	mem_fail_after(-1);
	if (live != live_at_start) {
		fprintf(stderr, "leak check: %ld block(s) still allocated\n", live - live_at_start);
		return -1;
	}
	return 0;
}

long harness_alloc_fail_loop(int (*fn)(void *ctx), void *ctx)
{
	for (long n = 0; n < 100000; n++) {
		long before = mem_live_blocks();
		int rc;

		long used;

		mem_fail_after(n);
		rc = fn(ctx);
		used = mem_attempts();
		mem_fail_after(-1);
		if (mem_live_blocks() != before)
			fail_msg("allocation failure %ld: %ld block(s) leaked", n, mem_live_blocks() - before);
		if (rc == 0) {
			/* the run succeeded: it must not have hit the injected failure */
			if (used > n)
				fail_msg("succeeded although allocation %ld failed", n);
			return used;
		}
		if (rc != -ENOMEM)
			fail_msg("allocation failure %ld reported %d, not -ENOMEM", n, rc);
	}
	fail_msg("no success within 100000 allocations");
	return -1;
}

char *harness_read_corpus(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", SIPHON_CORPUS_DIR, rel);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("short read on %s", path);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

void harness_assert_str(struct str s, const char *want, const char *file, int line)
{
	size_t wl = strlen(want);

	if (s.len != wl || (wl && memcmp(s.s, want, wl) != 0)) {
		fprintf(stderr, "%s:%d: expected \"%s\", got \"%.*s\"\n", file, line, want, STR_FMT(s));
		fail_msg("slice mismatch");
	}
}

struct str harness_corpus_hdr(const char *buf, size_t len, const char *names, int nth)
{
	size_t i = 0;

	while (i + 1 < len && !(buf[i] == '\r' && buf[i + 1] == '\n'))
		i++;
	i += 2;
	while (i + 1 < len && !(buf[i] == '\r' && buf[i + 1] == '\n')) {
		size_t e = i;
		const char *colon;

		for (;;) {
			while (e + 1 < len && !(buf[e] == '\r' && buf[e + 1] == '\n'))
				e++;
			if (e + 2 < len && (buf[e + 2] == ' ' || buf[e + 2] == '\t')) {
				e += 2;
				continue;
			}
			break;
		}
		colon = memchr(buf + i, ':', e - i);
		if (colon) {
			struct str name = str_trim(str_make(buf + i, (size_t)(colon - buf - i)));
			const char *p = names;

			while (*p) {
				size_t n = strcspn(p, "|");

				if (str_caseeq(name, str_make(p, n)) && nth-- == 0)
					return str_trim(str_make(colon + 1, (size_t)(buf + e - colon - 1)));
				p += n + (p[n] == '|');
			}
		}
		i = e + 2;
	}
	return STR_NULL;
}
