/* libFuzzer target for our only DNS parsing (the TTL reader of responses) and
 * for the SRV/NAPTR selection fed with fuzzer-chosen records: never read out
 * of bounds, keep every SRV record exactly once with priorities ascending,
 * and pick only usable NAPTR records in preference order. */
#include "dns/srv.h"
#include "dns/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct draws {
	const uint8_t *p;
	size_t n, i;
};

static uint32_t next_draw(void *arg)
{
	struct draws *d = arg;
	uint32_t v = 0;

	for (int k = 0; k < 4; k++)
		v = v << 8 | (d->n ? d->p[d->i++ % d->n] : 0);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_srv v[16];
	struct dns_naptr r[8];
	struct dns_naptr_pick pick[8];
	static const char *const svc[] = { "SIP+D2U", "SIP+D2T", "SIPS+D2T", "SIP+D2S", "x" };
	struct draws d = { data, size, 0 };
	uint32_t ttl, tag = 0;
	size_t n = size / 8 < 16 ? size / 8 : 16, m;

	/* an exact-size heap copy so ASan sees any overread */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (dns_wire_min_ttl(copy, size, &ttl) == 0 && (ttl & 0x80000000u))
		abort();
	free(copy);

	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = data + i * 8;

		memset(&v[i], 0, sizeof(v[i]));
		v[i].prio = (uint16_t)(p[0] % 4);
		v[i].weight = (uint16_t)(p[1] << 8 | p[2]);
		v[i].port = (uint16_t)i; /* identity tag */
		tag ^= 1u << i;
	}
	dns_srv_order(v, n, next_draw, &d);
	for (size_t i = 0; i < n; i++) {
		tag ^= 1u << v[i].port;
		if (i && v[i - 1].prio > v[i].prio)
			abort();
	}
	if (tag)
		abort();

	m = size / 4 < 8 ? size / 4 : 8;
	for (size_t i = 0; i < m; i++) {
		const uint8_t *p = data + i * 4;

		memset(&r[i], 0, sizeof(r[i]));
		r[i].order = p[0] % 3;
		r[i].pref = p[1] % 5;
		strcpy(r[i].flags, p[2] & 1 ? "s" : "a");
		strcpy(r[i].service, svc[p[3] % 5]);
		strcpy(r[i].replacement, p[2] & 2 ? "_sip._udp.x" : ".");
		r[i].regexp = (p[2] & 4) != 0;
	}
	n = dns_naptr_select(r, m, size & 1, DNS_PROTO_ALL, pick, 1 + size % 8);
	for (size_t i = 0; i < n; i++) {
		const struct dns_naptr *x = &r[pick[i].idx];

		if (x->regexp || x->flags[0] != 's' || x->replacement[0] == '.' ||
		    dns_naptr_service_proto(x->service) != (int)pick[i].proto)
			abort();
		if (i && (r[pick[i - 1].idx].pref > x->pref || r[pick[i - 1].idx].order != x->order))
			abort();
	}
	return 0;
}
