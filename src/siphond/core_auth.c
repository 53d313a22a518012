/* Digest authentication of requests (RFC 3261 §22): 401 / WWW-Authenticate
 * for the registrar (§22.2), 407 / Proxy-Authenticate for the proxy
 * (§22.3), with the digest server and the subscriber store of regsvc. */
#include "siphond/core_priv.h"
#include "siphond/metrics.h"

#include "auth/auth.h"
#include "base/log.h"
#include "msg/hdr.h"
#include "msg/uri.h"
#include "siphond/regsvc.h"
#include "subscriber/sub.h"

#include <errno.h>
#include <string.h>

#define MOD "auth"

/* Credentials for realm among the headers of type t (RFC 3261 §22.4: one
 * per realm may be present); else the first that parses. */
static bool find_credentials(const struct sip_msg *m, enum sip_hdr_type t, struct str realm,
			     struct sip_auth *out)
{
	bool found = false;

	for (const struct sip_hdr *h = sip_msg_hdr(m, t); h; h = sip_msg_hdr_next(m, h)) {
		struct sip_auth a;
		const char *why;
		char rb[256];
		int n;

		if (sip_auth_parse(&a, h->value, &why) < 0)
			continue;
		n = sip_unquote(rb, sizeof(rb), a.realm);
		if (n >= 0 && str_caseeq(str_make(rb, (size_t)n), realm)) {
			*out = a;
			return true;
		}
		if (!found) {
			*out = a;
			found = true;
		}
	}
	return found;
}

static void challenge(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		      struct sd_out *out, struct str realm, bool stale, bool proxy)
{
	char hdrs[1024];
	int n = auth_challenge_build(c->regsvc->auth, realm, stale, proxy, hdrs, sizeof(hdrs));

	if (n < 0) {
		sd_respond(c, m, in, out, 500, "Cannot Build Challenge", STR_NULL);
		return;
	}
	sd_respond(c, m, in, out, proxy ? 407 : 401, NULL, str_make(hdrs, (size_t)n));
	sd_mx_count(c->idx, SD_MX_AUTH_CHALLENGES);
}

int sd_realm_of(struct str host, char *out, size_t cap)
{
	if (host.len >= cap)
		return -ENOSPC;
	for (size_t i = 0; i < host.len; i++)
		out[i] = (char)(host.s[i] >= 'A' && host.s[i] <= 'Z' ? host.s[i] + 32 : host.s[i]);
	return (int)host.len;
}

bool sd_uri_user_is(struct str uri, struct str user)
{
	char ub[SUB_USER_MAX + 1];
	struct sip_uri u;
	int n;

	if (sip_uri_parse(&u, uri.s, uri.len, NULL) != 0)
		return false;
	n = sip_uri_unescape(ub, sizeof(ub), u.user);
	return n >= 0 && str_eq(str_make(ub, (size_t)n), user);
}

bool sd_auth_check(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		   struct sd_out *out, struct str realm, bool proxy, char *ub, size_t cap,
		   struct str *user)
{
	const struct sd_regsvc *s = c->regsvc;
	struct sip_auth cred;
	struct auth_result res;
	char peer[80];
	int st, n;

	st = auth_verify(s->auth,
			 find_credentials(m, proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION,
					  realm, &cred) ? &cred : NULL,
			 m->method, m->ruri, realm, sub_lookup, s->sub, &res);
	switch (st) {
	case AUTH_OK:
		break;
	case AUTH_NO_CREDENTIALS:
	case AUTH_BAD_NONCE:
	case AUTH_REPLAY:
	case AUTH_STALE:
		if (st != AUTH_NO_CREDENTIALS)
			log_info(MOD, "%.*s from %s: %s: challenged again (call-id %.*s)",
				 STR_FMT(m->method), tp_addr_fmt(&in->src, peer, sizeof(peer)),
				 res.why, STR_FMT(m->call_id));
		challenge(c, m, in, out, realm, st == AUTH_STALE, proxy);
		return true;
	case AUTH_BAD:
	case AUTH_UNKNOWN_USER:
		/* RFC 3261 §22.4 leaves wrong credentials to policy: refuse */
		log_info(MOD, "%.*s from %s: %s: 403 (call-id %.*s)", STR_FMT(m->method),
			 tp_addr_fmt(&in->src, peer, sizeof(peer)), res.why, STR_FMT(m->call_id));
		sd_respond(c, m, in, out, 403, "Wrong Credentials", STR_NULL);
		sd_mx_count(c->idx, SD_MX_AUTH_FAILURES);
		return true;
	case AUTH_MALFORMED:
		log_info(MOD, "%.*s from %s: bad credentials: %s (call-id %.*s)", STR_FMT(m->method),
			 tp_addr_fmt(&in->src, peer, sizeof(peer)), res.why, STR_FMT(m->call_id));
		sd_respond(c, m, in, out, 400,
			   proxy ? "Bad Proxy-Authorization Header" : "Bad Authorization Header",
			   STR_NULL);
		sd_mx_count(c->idx, SD_MX_AUTH_FAILURES);
		return true;
	default:
		log_err(MOD, "subscriber lookup failed: %s", strerror(-st));
		sd_respond(c, m, in, out, 500, "Subscriber Store Unavailable", STR_NULL);
		return true;
	}
	n = sip_unquote(ub, cap, res.user);
	if (n < 0) {
		sd_respond(c, m, in, out, 400, "Bad Digest Username", STR_NULL);
		return true;
	}
	*user = str_make(ub, (size_t)n);
	return false;
}
