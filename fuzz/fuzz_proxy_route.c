/* libFuzzer target: the proxy routing helpers (src/proxy/route.h) on every
 * datagram that parses as a request. pxy_preprocess's edit must leave a
 * request that still parses, whose Route set starts with the hop
 * pxy_top_route reports; the loop hash and loop check never crash. */
#include "msg/build.h"
#include "msg/msg.h"
#include "msg/uri.h"
#include "proxy/route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sip_msg m, m2;
static char out[70000];
static struct tp_addr listen_addrs[4];
static const enum tp_proto listen_protos[4] = { TP_UDP, TP_UDP, TP_UDP, TP_TLS };
static const struct str names[] = { STR_LIT("example.com"), STR_LIT("proxy.test"),
				    STR_LIT("192.0.2.99") };
static struct pxy_self self;

static void init_self(void)
{
	static const char *const hosts[] = { "127.0.0.1", "[::1]", "0.0.0.0", "192.0.2.10" };
	static const uint16_t ports[] = { 5060, 5060, 5070, 5061 };

	for (int i = 0; i < 4; i++)
		if (tp_addr_from_numeric(&listen_addrs[i], str_cstr(hosts[i]), ports[i]) != 0)
			abort();
	self = (struct pxy_self){ .listen = listen_addrs, .listen_proto = listen_protos,
				  .nlisten = 4, .names = names, .nnames = 3 };
}

static bool inside(const struct sip_msg *msg, struct str s)
{
	return s.s >= msg->buf && s.s + s.len <= msg->buf + msg->len;
}

/* The URI of the first Route value of a parsed message, or an empty slice. */
static struct str first_route_uri(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_ROUTE);
	struct sip_nameaddr na;
	struct str cur;

	if (!h)
		return STR_NULL;
	cur = h->value;
	if (sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL) != 0)
		abort(); /* it parsed before the edit */
	return na.uri;
}

static void lines(const struct sip_msg *msg)
{
	char lh[PXY_LOOP_HASH_LEN], br[64], line[256];
	int n;

	pxy_loop_hash(msg, lh);
	for (int i = 0; i < PXY_LOOP_HASH_LEN; i++)
		if (!((lh[i] >= '0' && lh[i] <= '9') || (lh[i] >= 'a' && lh[i] <= 'f')))
			abort();
	(void)pxy_loop_detected(&self, msg, lh);
	n = pxy_branch(br, sizeof(br), lh, msg->cseq.num);
	if (n <= 0 || (size_t)n >= sizeof(br))
		abort();
	n = pxy_via_line(line, sizeof(line), &listen_addrs[1], TP_TCP, str_make(br, (size_t)n));
	if (n <= 0 || (size_t)n >= sizeof(line))
		abort();
	/* a Path of fuzzed bytes into a small buffer */
	{
		const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_PATH);

		if (h) {
			n = pxy_route_from_path(line, sizeof(line), h->value);
			if (n != -ENOSPC && (n < 0 || (size_t)n >= sizeof(line) ||
					      (n > 0 && memchr(line, '\n', (size_t)n) != line + n - 1)))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct sip_edit e;
	struct sip_uri hop;
	struct pxy_hop nh;
	struct str ruri;
	bool routed;
	int rc, top, n;

	if (!ready) {
		init_self();
		ready = true;
	}
	if (sip_msg_parse(&m, (const char *)data, size, SIP_PARSE_DATAGRAM) != 0 || !m.is_request)
		return 0;
	lines(&m);

	sip_edit_init(&e, &m);
	rc = pxy_preprocess(&self, &m, &e, &ruri, &routed);
	top = pxy_top_route(&self, &m, &hop);
	if (rc == -EINVAL) {
		if (top != -EINVAL || e.n != 0)
			abort(); /* both see the same bad Route */
		return 0;
	}
	if (rc == -ENOSPC) {
		if (e.n != 0)
			abort();
		return 0;
	}
	if (rc != 0 || !inside(&m, ruri) || top != (routed ? 0 : -ENOENT))
		abort();
	if (top == 0) {
		if (!inside(&m, hop.raw) || pxy_uri_is_self(&self, &hop))
			abort(); /* the next hop is never ourselves */
		rc = pxy_hop_from_uri(&hop, &nh);
		if (rc != 0 && rc != -EINVAL && rc != -EPROTONOSUPPORT)
			abort();
	}

	/* the edited request parses, and its Route set starts at the hop */
	n = sip_edit_apply(&e, out, sizeof(out));
	if (n <= 0 || (size_t)n > sizeof(out))
		abort();
	if (sip_msg_parse(&m2, out, (size_t)n, SIP_PARSE_DATAGRAM) != 0 || !m2.is_request)
		abort();
	{
		struct str first = first_route_uri(&m2);

		if (top == 0 ? !str_eq(first, hop.raw) : first.len != 0)
			abort();
	}
	/* a next hop without lr (§16.6 step 6): the request reformatted for a
	 * strict router parses, with that hop as its Request-URI */
	if (top == 0 && !hop.lr) {
		static char line[8192];
		struct sip_edit e2;
		struct str nr;

		sip_edit_init(&e2, &m);
		rc = pxy_route_to_strict(&self, &m, &e2, ruri, line, sizeof(line), &nr);
		if (rc == 0) {
			/* the hop, headers left out */
			if (nr.s != hop.raw.s || nr.len != (hop.headers.s ? (size_t)(hop.headers.s - 1 - hop.raw.s)
									 : hop.raw.len) ||
			    sip_edit_splice(&e2, m.ruri.s, m.ruri.len, nr) != 0)
				abort();
			n = sip_edit_apply(&e2, out, sizeof(out));
			if (n <= 0 || sip_msg_parse(&m2, out, (size_t)n, SIP_PARSE_DATAGRAM) != 0 ||
			    !m2.is_request || !str_eq(m2.ruri, nr) || !sip_msg_hdr(&m2, SIP_HDR_ROUTE))
				abort();
		} else if (rc != -ENOSPC || e2.n != 0) {
			abort();
		}
	}
	/* strict router before us: the caller writes *ruri into the request
	 * line, which must still make a request that parses */
	if (ruri.s != m.ruri.s) {
		if (sip_edit_splice(&e, m.ruri.s, m.ruri.len, ruri) != 0)
			abort();
		n = sip_edit_apply(&e, out, sizeof(out));
		if (n <= 0 || sip_msg_parse(&m2, out, (size_t)n, SIP_PARSE_DATAGRAM) != 0 ||
		    !m2.is_request || !str_eq(m2.ruri, ruri))
			abort();
	}
	return 0;
}
