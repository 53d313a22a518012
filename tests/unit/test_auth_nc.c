/* The nonce-count table on its own: replay, eviction floor, and two threads
 * racing the same nonces (run under TSan too). */
#include "harness.h"

#include "auth/auth_priv.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static void mac_of(uint8_t mac[AUTH_NONCE_MAC], unsigned i)
{
	memset(mac, 0, AUTH_NONCE_MAC);
	mac[0] = (uint8_t)i;
	mac[1] = (uint8_t)(i >> 8);
	mac[15] = 0x5a;
}

static void test_nc_basic(void **state)
{
	struct auth_nc_table *t;
	uint8_t a[AUTH_NONCE_MAC], b[AUTH_NONCE_MAC];

	(void)state;
	assert_int_equal(auth_nc_create(&t, 0), -EINVAL);
	assert_null(t);
	assert_int_equal(auth_nc_create(&t, 1), 0);
	mac_of(a, 1);
	mac_of(b, 2);
	assert_int_equal(auth_nc_check(t, a, 10, 100, 1, 10), AUTH_NC_OK);
	assert_int_equal(auth_nc_check(t, a, 10, 100, 1, 10), AUTH_NC_REPLAY);
	assert_int_equal(auth_nc_check(t, a, 10, 100, 3, 10), AUTH_NC_OK);
	assert_int_equal(auth_nc_check(t, a, 10, 100, 2, 10), AUTH_NC_REPLAY);
	/* one slot: b evicts a, a can no longer be judged */
	assert_int_equal(auth_nc_check(t, b, 11, 100, 1, 11), AUTH_NC_OK);
	assert_int_equal(auth_nc_check(t, a, 10, 100, 4, 11), AUTH_NC_STALE);
	assert_int_equal(auth_nc_check(t, b, 11, 100, 2, 11), AUTH_NC_OK);
	/* a nonce issued no later than an evicted one is refused too */
	mac_of(a, 3);
	assert_int_equal(auth_nc_check(t, a, 11, 100, 1, 11), AUTH_NC_STALE);
	/* expired entries are dropped first */
	assert_int_equal(auth_nc_check(t, a, 200, 300, 1, 200), AUTH_NC_OK);
	auth_nc_destroy(t);
	auth_nc_destroy(NULL);
}

/* Many nonces over the stripes: filling the table exactly evicts nothing. */
static void test_nc_stripes(void **state)
{
	struct auth_nc_table *t;
	uint8_t m[AUTH_NONCE_MAC];

	(void)state;
	assert_int_equal(auth_nc_create(&t, 64), 0);
	for (unsigned i = 0; i < 64; i++) {
		mac_of(m, i);
		assert_int_equal(auth_nc_check(t, m, 5, 100, 1, 5), AUTH_NC_OK);
	}
	for (unsigned i = 0; i < 64; i++) {
		mac_of(m, i);
		assert_int_equal(auth_nc_check(t, m, 5, 100, 1, 5), AUTH_NC_REPLAY);
		assert_int_equal(auth_nc_check(t, m, 5, 100, 2, 5), AUTH_NC_OK);
	}
	auth_nc_destroy(t);
}

#define T_NONCES 48
#define T_NC 300

struct racer {
	struct auth_nc_table *t;
	uint8_t ok[T_NONCES][T_NC + 1];
};

static void *race(void *arg)
{
	struct racer *r = arg;
	uint8_t m[AUTH_NONCE_MAC];

	for (unsigned nc = 1; nc <= T_NC; nc++)
		for (unsigned i = 0; i < T_NONCES; i++) {
			mac_of(m, i);
			r->ok[i][nc] = auth_nc_check(r->t, m, 5, 1000, nc, 5) == AUTH_NC_OK;
		}
	return NULL;
}

static void test_nc_threads(void **state)
{
	static struct racer r[2];
	struct auth_nc_table *t;
	pthread_t th[2];

	(void)state;
	assert_int_equal(auth_nc_create(&t, 4096), 0);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		r[i].t = t;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* each (nonce, nc) accepted exactly once; the top one by someone */
	for (unsigned i = 0; i < T_NONCES; i++) {
		for (unsigned nc = 1; nc <= T_NC; nc++)
			assert_false(r[0].ok[i][nc] && r[1].ok[i][nc]);
		assert_true(r[0].ok[i][T_NC] || r[1].ok[i][T_NC]);
	}
	auth_nc_destroy(t);
}

/* The full path from two threads: one server, shared nonces. */
struct vracer {
	struct auth_server *s;
	const struct sip_auth *cred;
	int ok;
};

static int lookup(void *arg, struct str user, struct str realm, enum auth_alg alg,
		  uint8_t ha1[AUTH_HASH_MAX], size_t *ha1_len)
{
	int rc = auth_ha1(alg, user, realm, STR_LIT("pw"), ha1);

	(void)arg;
	if (rc < 0)
		return rc;
	*ha1_len = (size_t)rc;
	return 0;
}

#define V_REQ 40

static void *vrace(void *arg)
{
	struct vracer *v = arg;

	for (int i = 0; i < V_REQ; i++) {
		struct auth_result res;

		if (auth_verify(v->s, &v->cred[i], STR_LIT("MESSAGE"), STR_LIT("sip:x@r"),
				STR_LIT("r"), lookup, NULL, &res) == AUTH_OK)
			v->ok++;
	}
	return NULL;
}

static void test_verify_threads(void **state)
{
	static char bufs[V_REQ][512];
	struct sip_auth ch, cred[V_REQ];
	struct auth_server_cfg cfg = { 0 };
	struct vracer v[2];
	struct auth_server *s;
	pthread_t th[2];
	char chbuf[512];

	(void)state;
	assert_int_equal(auth_server_create(&s, &cfg), 0);
	assert_true(auth_challenge_build(s, STR_LIT("r"), false, false, chbuf, sizeof(chbuf)) > 0);
	*strstr(chbuf, "\r\n") = '\0';
	assert_int_equal(sip_auth_parse(&ch, str_cstr(chbuf + 18), NULL), 0);
	for (int i = 0; i < V_REQ; i++) {
		int n = auth_client_response(&ch, STR_LIT("MESSAGE"), STR_LIT("sip:x@r"),
					     STR_LIT("u"), STR_LIT("pw"), (uint32_t)i + 1,
					     bufs[i], sizeof(bufs[i]));

		assert_true(n > 0);
		assert_int_equal(sip_auth_parse(&cred[i], str_make(bufs[i], (size_t)n), NULL), 0);
	}
	for (int i = 0; i < 2; i++) {
		v[i] = (struct vracer){ .s = s, .cred = cred };
		assert_int_equal(pthread_create(&th[i], NULL, vrace, &v[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* every nc taken once at most; the last one always */
	assert_true(v[0].ok + v[1].ok <= V_REQ);
	assert_true(v[0].ok + v[1].ok >= 1);
	auth_server_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_nc_basic),
		SIPHON_TEST(test_nc_stripes),
		SIPHON_TEST(test_nc_threads),
		SIPHON_TEST(test_verify_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
