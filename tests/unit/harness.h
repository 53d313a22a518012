/* cmocka glue shared by every unit test: a leak check around each test and an
 * allocation-failure loop for code that allocates. */
#ifndef SIPHON_TEST_HARNESS_H
#define SIPHON_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/str.h"

/* Register a test wrapped by the leak check: the test fails if it leaves more
 * mem_* blocks alive than it found. */
#define SIPHON_TEST(fn) cmocka_unit_test_setup_teardown(fn, harness_setup, harness_teardown)

int harness_setup(void **state);
int harness_teardown(void **state);

/* Run fn with allocation N failing, for N = 0, 1, 2, ... until fn succeeds
 * with no injected failure. fn must return 0 on success and a negative code
 * on failure and must free everything it allocated either way; the loop
 * asserts that, and that a failure was reported as -ENOMEM. Returns the
 * number of allocations the successful run made. */
long harness_alloc_fail_loop(int (*fn)(void *ctx), void *ctx);

/* Read a corpus file (SIPHON_CORPUS_DIR/rel) into a malloc'd buffer (plain
 * malloc: not counted by the leak check; release with free()). */
char *harness_read_corpus(const char *rel, size_t *len);

/* Value of the nth (0-based) header named one of names ("Via|v") in a corpus
 * message: folded lines kept, trimmed as the message parser does. STR_NULL
 * when there is no such header. An independent reader, so that parser
 * tests do not check the parser against itself. */
struct str harness_corpus_hdr(const char *buf, size_t len, const char *names, int nth);

/* Assert that a slice equals a C string. */
#define assert_str(slice, cstr) harness_assert_str((slice), (cstr), __FILE__, __LINE__)
void harness_assert_str(struct str s, const char *want, const char *file, int line);

#endif
