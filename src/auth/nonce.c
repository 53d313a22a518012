/* Stateless nonces (RFC 7616 §3.3, §5.4): the server remembers nothing per
 * challenge; the nonce carries its issue time and a MAC binding it to the
 * realm, so any worker (or any server sharing the secret) can check it. */
#include "auth/auth_priv.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t auth_b64url_encode(char *out, const uint8_t *in, size_t len)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		out[o++] = b64url[in[i] >> 2];
		out[o++] = b64url[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = b64url[v >> 10];
		out[o++] = b64url[(v >> 4) & 63];
		out[o++] = b64url[(v & 15) << 2];
	}
	return o;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int auth_b64url_decode(uint8_t *out, size_t cap, struct str in)
{
	size_t o = 0, nbits = 0;
	uint32_t acc = 0;

	if (in.len % 4 == 1)
		return -EINVAL;
	if (in.len / 4 * 3 + (in.len % 4 ? in.len % 4 - 1 : 0) > cap)
		return -ENOSPC;
	for (size_t i = 0; i < in.len; i++) {
		int v = b64val(in.s[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (uint8_t)(acc >> nbits);
		}
	}
	/* leftover bits must be zero: one encoding per value */
	if (acc & ((1u << nbits) - 1))
		return -EINVAL;
	return (int)o;
}

/* MAC over ts || seq || realm. */
static int nonce_mac(const struct auth_server *s, const uint8_t *head, struct str realm,
		     uint8_t mac[AUTH_NONCE_MAC])
{
	uint8_t msg[AUTH_NONCE_TS + AUTH_NONCE_SEQ + 512], full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (realm.len > 512)
		return -EINVAL;
	memcpy(msg, head, AUTH_NONCE_TS + AUTH_NONCE_SEQ);
	if (realm.len)
		memcpy(msg + AUTH_NONCE_TS + AUTH_NONCE_SEQ, realm.s, realm.len);
	if (!HMAC(EVP_sha256(), s->secret, (int)s->secret_len, msg,
		  AUTH_NONCE_TS + AUTH_NONCE_SEQ + realm.len, full, &len) ||
	    len < AUTH_NONCE_MAC)
		return -EIO;
	/* truncated to 128 bits (RFC 2104 §5) */
	memcpy(mac, full, AUTH_NONCE_MAC);
	return 0;
}

int auth_nonce_make(struct auth_server *s, struct str realm, uint64_t now,
		    char out[AUTH_NONCE_B64])
{
	uint8_t raw[AUTH_NONCE_RAW];
	uint32_t seq = atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
	int rc;

	for (int i = 0; i < AUTH_NONCE_TS; i++)
		raw[i] = (uint8_t)(now >> (56 - 8 * i));
	for (int i = 0; i < AUTH_NONCE_SEQ; i++)
		raw[AUTH_NONCE_TS + i] = (uint8_t)(seq >> (24 - 8 * i));
	rc = nonce_mac(s, raw, realm, raw + AUTH_NONCE_TS + AUTH_NONCE_SEQ);
	if (rc < 0)
		return rc;
	auth_b64url_encode(out, raw, sizeof(raw));
	return 0;
}

int auth_nonce_check(const struct auth_server *s, struct str nonce, struct str realm,
		     uint64_t *ts, uint64_t *order, uint8_t mac[AUTH_NONCE_MAC])
{
	uint8_t raw[AUTH_NONCE_RAW], want[AUTH_NONCE_MAC];

	if (nonce.len != AUTH_NONCE_B64 ||
	    auth_b64url_decode(raw, sizeof(raw), nonce) != AUTH_NONCE_RAW)
		return -EINVAL;
	if (nonce_mac(s, raw, realm, want) < 0)
		return -EINVAL;
	if (CRYPTO_memcmp(want, raw + AUTH_NONCE_TS + AUTH_NONCE_SEQ, AUTH_NONCE_MAC) != 0)
		return -EINVAL;
	*ts = 0;
	for (int i = 0; i < AUTH_NONCE_TS; i++)
		*ts = *ts << 8 | raw[i];
	/* issue order: the second, then the sequence within it */
	*order = *ts << 32;
	for (int i = 0; i < AUTH_NONCE_SEQ; i++)
		*order |= (uint64_t)raw[AUTH_NONCE_TS + i] << (24 - 8 * i);
	memcpy(mac, want, AUTH_NONCE_MAC);
	return 0;
}
