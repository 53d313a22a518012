#include "dns/srv.h"

#include <string.h>
#include <strings.h>

/* Move v[from] to v[to] (to <= from), shifting the ones between up by one, so
 * that the rest keep their relative order. */
static void rotate_in(struct dns_srv *v, size_t to, size_t from)
{
	struct dns_srv tmp;

	if (to == from)
		return;
	tmp = v[from];
	memmove(&v[to + 1], &v[to], (from - to) * sizeof(v[0]));
	v[to] = tmp;
}

/* RFC 2782: within [lo, hi) all with the same priority. */
static void order_group(struct dns_srv *v, size_t lo, size_t hi, dns_rand_fn rnd, void *arg)
{
	size_t z = lo;

	/* "all those with weight 0 are placed at the beginning of the list" */
	for (size_t i = lo; i < hi; i++)
		if (v[i].weight == 0)
			rotate_in(v, z++, i);
	for (size_t k = lo; k + 1 < hi; k++) {
		uint64_t total = 0, sum = 0, pick;
		size_t sel = hi - 1;

		for (size_t i = k; i < hi; i++)
			total += v[i].weight;
		pick = (uint64_t)rnd(arg) % (total + 1);
		for (size_t i = k; i < hi; i++) {
			sum += v[i].weight;
			if (sum >= pick) {
				sel = i;
				break;
			}
		}
		rotate_in(v, k, sel);
	}
}

void dns_srv_order(struct dns_srv *v, size_t n, dns_rand_fn rnd, void *rnd_arg)
{
	/* stable insertion sort by priority: answers hold a handful of records */
	for (size_t i = 1; i < n; i++) {
		size_t j = i;

		while (j > 0 && v[j - 1].prio > v[i].prio)
			j--;
		rotate_in(v, j, i);
	}
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		for (hi = lo + 1; hi < n && v[hi].prio == v[lo].prio; hi++)
			;
		order_group(v, lo, hi, rnd, rnd_arg);
	}
}

int dns_naptr_service_proto(const char *service)
{
	/* RFC 3263 §4.1 service fields (RFC 3263 §9 registrations) */
	if (strcasecmp(service, "SIP+D2U") == 0)
		return TP_UDP;
	if (strcasecmp(service, "SIP+D2T") == 0)
		return TP_TCP;
	if (strcasecmp(service, "SIPS+D2T") == 0)
		return TP_TLS;
	return -1;
}

static bool usable(const struct dns_naptr *r, bool sips, unsigned protos, int *proto)
{
	int p;

	if (strcasecmp(r->flags, "s") != 0 || r->regexp)
		return false;
	if (!r->replacement[0] || strcmp(r->replacement, ".") == 0)
		return false;
	p = dns_naptr_service_proto(r->service);
	if (p < 0 || !(protos & DNS_PROTO_BIT(p)))
		return false;
	if (sips && p != TP_TLS)
		return false;
	*proto = p;
	return true;
}

size_t dns_naptr_select(const struct dns_naptr *v, size_t n, bool sips, unsigned protos,
			struct dns_naptr_pick *out, size_t cap)
{
	uint32_t best = UINT32_MAX;
	size_t k = 0;
	int p;

	/* RFC 3403 §4.1: once a usable record is found, other orders are ignored */
	for (size_t i = 0; i < n; i++)
		if (v[i].order < best && usable(&v[i], sips, protos, &p))
			best = v[i].order;
	for (size_t i = 0; i < n && cap; i++) {
		size_t j;

		if (v[i].order != best || !usable(&v[i], sips, protos, &p))
			continue;
		/* insert by preference, after equal ones (stable) */
		if (k == cap) {
			/* full: only a better one gets in, and the last falls off */
			if (v[out[cap - 1].idx].pref <= v[i].pref)
				continue;
			j = cap - 1;
		} else {
			j = k++;
		}
		for (; j > 0 && v[out[j - 1].idx].pref > v[i].pref; j--)
			out[j] = out[j - 1];
		out[j] = (struct dns_naptr_pick){ i, (enum tp_proto)p };
	}
	return k;
}
