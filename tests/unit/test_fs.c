/* fs_mkdir_p: nested creation, existing directories, and failures naming
 * the component that could not be made. */
#include "harness.h"

#include "base/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_mkdir_p(void **state)
{
	char base[] = "/tmp/siphon-fs-XXXXXX", path[PATH_MAX], file[PATH_MAX], failed[PATH_MAX];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/a/b/c", base);
	assert_int_equal(fs_mkdir_p(path, 0750, NULL, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* again: everything exists already */
	assert_int_equal(fs_mkdir_p(path, 0750, failed, sizeof(failed)), 0);
	/* a file in the way: the error names that component */
	snprintf(file, sizeof(file), "%s/file", base);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/sub", base);
	assert_int_equal(fs_mkdir_p(path, 0750, failed, sizeof(failed)), -ENOTDIR);
	assert_string_equal(failed, path);
	assert_int_equal(fs_mkdir_p("", 0750, failed, sizeof(failed)), -EINVAL);
	/* clean up */
	unlink(file);
	snprintf(path, sizeof(path), "%s/a/b/c", base);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a/b", base);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", base);
	rmdir(path);
	assert_int_equal(rmdir(base), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_mkdir_p),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
