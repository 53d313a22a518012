/* libFuzzer target: arbitrary bytes as an Authorization value, through
 * sip_auth_parse and auth_verify against a fixed user table. The server is
 * deterministic (fixed secret, clock and sequence), so seeds can carry a
 * valid nonce and right responses and reach every verdict. */
#include "auth/auth_priv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW 1700000000u

static uint64_t fixed_clock(void *arg)
{
	(void)arg;
	return FUZZ_NOW;
}

/* alice/secret; bob has only an MD5 HA1 */
static int lookup(void *arg, struct str user, struct str realm, enum auth_alg alg,
		  uint8_t ha1[AUTH_HASH_MAX], size_t *ha1_len)
{
	int rc;

	(void)arg;
	if (str_eq(user, STR_LIT("alice")))
		rc = auth_ha1(alg, user, realm, STR_LIT("secret"), ha1);
	else if (str_eq(user, STR_LIT("bob")) && alg == AUTH_ALG_MD5)
		rc = auth_ha1(alg, user, realm, STR_LIT("pw"), ha1);
	else if (str_eq(user, STR_LIT("err")))
		return -EIO;
	else
		return -ENOENT;
	if (rc < 0)
		return rc;
	*ha1_len = (size_t)rc;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = "siphon-fuzz-auth-verify-secret!";
	struct auth_server_cfg cfg = { .secret = key, .secret_len = sizeof(key),
				       .nonce_ttl = 300, .now = fixed_clock, .max_nonces = 4 };
	struct auth_server *s;
	struct auth_result res;
	struct sip_auth a;
	int rc;

	if (sip_auth_parse(&a, str_make((const char *)data, size), NULL) < 0)
		return 0;
	if (auth_server_create(&s, &cfg) < 0)
		abort();
	atomic_store(&s->seq, 0);
	for (int i = 0; i < 3; i++) {
		/* verify twice per URI: the second is a replay */
		rc = auth_verify(s, &a, STR_LIT("REGISTER"),
				 i == 2 ? STR_LIT("sip:EXAMPLE.com") : STR_LIT("sip:example.com"),
				 STR_LIT("example.com"), lookup, NULL, &res);
		if (rc == -EIO)
			continue;
		if (rc < AUTH_OK || rc > AUTH_MALFORMED)
			abort();
		if (rc != AUTH_OK && !res.why)
			abort();
		if (i == 1 && rc == AUTH_OK)
			abort(); /* a replay went through */
	}
	auth_server_destroy(s);
	return 0;
}
