/* The UDP balancing decision (siphond/balance.h): how many workers take
 * datagrams for a measured load, growing at once and shrinking only after a
 * calm spell. */
#include "harness.h"
#include "siphond/balance.h"

#include <errno.h>

static void test_parse(void **state)
{
	enum sd_udp_balance b = SD_UDP_BALANCE_KERNEL;

	(void)state;
	assert_int_equal(sd_udp_balance_parse("adaptive", &b), 0);
	assert_int_equal(b, SD_UDP_BALANCE_ADAPTIVE);
	assert_int_equal(sd_udp_balance_parse("spread", &b), 0);
	assert_int_equal(b, SD_UDP_BALANCE_SPREAD);
	assert_int_equal(sd_udp_balance_parse("kernel", &b), 0);
	assert_int_equal(b, SD_UDP_BALANCE_KERNEL);
	assert_int_equal(sd_udp_balance_parse("Adaptive", &b), -EINVAL);
	assert_int_equal(sd_udp_balance_parse("", &b), -EINVAL);
	assert_string_equal(sd_udp_balance_name(SD_UDP_BALANCE_SPREAD), "spread");
	assert_string_equal(sd_udp_balance_name(SD_UDP_BALANCE_ADAPTIVE), "adaptive");
}

static void test_grow(void **state)
{
	unsigned calm = 3;

	(void)state;
	/* one worker busy below the high mark keeps one */
	assert_int_equal(sd_balance_decide(1, 4, 0.69, &calm), 1);
	assert_int_equal(calm, 0);
	/* above it: at once to where each is at about half */
	assert_int_equal(sd_balance_decide(1, 4, 0.75, &calm), 2);
	assert_int_equal(sd_balance_decide(1, 4, 1.40, &calm), 3);
	assert_int_equal(sd_balance_decide(2, 4, 1.60, &calm), 4);
	/* never past the workers there are */
	assert_int_equal(sd_balance_decide(1, 2, 3.0, &calm), 2);
	assert_int_equal(sd_balance_decide(4, 4, 3.9, &calm), 4);
	/* one worker: nothing to decide */
	assert_int_equal(sd_balance_decide(1, 1, 5.0, &calm), 1);
	/* a load no machine has (a clock glitch) or none at all */
	assert_int_equal(sd_balance_decide(1, 4, 1e300, &calm), 4);
	assert_int_equal(sd_balance_decide(2, 4, -1.0, &calm), 2);
	/* a k out of range is brought back in */
	assert_int_equal(sd_balance_decide(0, 4, 0.1, &calm), 1);
	assert_int_equal(sd_balance_decide(9, 4, 3.0, &calm), 4);
}

static void test_shrink_after_calm(void **state)
{
	unsigned calm = 0, k = 3;

	(void)state;
	/* 0.8 CPUs would fit in 2 (below 0.45 x 2): only after the calm spell */
	for (unsigned i = 1; i < SD_BALANCE_CALM; i++) {
		k = sd_balance_decide(k, 4, 0.8, &calm);
		assert_int_equal(k, 3);
		assert_int_equal(calm, i);
	}
	k = sd_balance_decide(k, 4, 0.8, &calm);
	assert_int_equal(k, 2);
	assert_int_equal(calm, 0);
	/* a busy period in between starts the count again */
	for (unsigned i = 1; i < SD_BALANCE_CALM; i++)
		k = sd_balance_decide(k, 4, 0.3, &calm);
	assert_int_equal(k, 2);
	k = sd_balance_decide(k, 4, 0.6, &calm); /* neither grow nor shrink */
	assert_int_equal(k, 2);
	assert_int_equal(calm, 0);
	for (unsigned i = 1; i < SD_BALANCE_CALM; i++)
		k = sd_balance_decide(k, 4, 0.3, &calm);
	assert_int_equal(k, 2);
	k = sd_balance_decide(k, 4, 0.3, &calm);
	assert_int_equal(k, 1);
	/* and never below one */
	for (unsigned i = 0; i < 3 * SD_BALANCE_CALM; i++)
		k = sd_balance_decide(k, 4, 0.0, &calm);
	assert_int_equal(k, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_parse),
		SIPHON_TEST(test_grow),
		SIPHON_TEST(test_shrink_after_calm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
