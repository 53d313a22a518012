/* RFC 3263 §4: from a SIP URI to an ordered list of (transport, address,
 * port). One query walks NAPTR -> SRV -> A/AAAA, asking the questions of a
 * phase in parallel and moving on when all of them are settled. */
#include "dns/dns_priv.h"

#include "base/mem.h"
#include "dns/srv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void step(struct dns_query *q);

static uint16_t default_port(enum tp_proto p)
{
	return p == TP_TLS ? 5061 : 5060; /* RFC 3261 §19.1.2 */
}

/* RFC 3263 §4.1: UDP for sip, TCP (with TLS) for sips, when nothing says more. */
static enum tp_proto default_proto(const struct dns_query *q)
{
	if (q->forced >= 0)
		return (enum tp_proto)q->forced;
	if (q->sips)
		return TP_TLS;
	if (q->protos & DNS_PROTO_BIT(TP_UDP))
		return TP_UDP;
	return q->protos & DNS_PROTO_BIT(TP_TCP) ? TP_TCP : TP_TLS;
}

static void answer_release(struct dns_answer *a)
{
	dns_rrset_unref(a->set);
	a->set = NULL;
}

void dns_query_free(struct dns_query *q)
{
	struct dns_resolver *r = q->r;

	if (q->prev)
		q->prev->next = q->next;
	else
		r->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	loop_timer_cancel(r->loop, &q->defer);
	answer_release(&q->naptr);
	for (size_t i = 0; i < q->nsrv; i++)
		answer_release(&q->srv[i].ans);
	for (size_t i = 0; i < q->nhosts; i++) {
		answer_release(&q->hosts[i].a);
		answer_release(&q->hosts[i].aaaa);
	}
	mem_free(q->hosts);
	dns_targets_free(q->result);
	r->st.live_queries--;
	mem_free(q);
}

void dns_targets_free(struct dns_targets *t)
{
	mem_free(t);
}

static void deliver(struct dns_query *q)
{
	dns_result_cb cb = q->cb;
	void *arg = q->arg;
	struct dns_targets *t = q->result;
	int err = q->err;

	q->result = NULL;
	dns_query_free(q);
	cb(err, t, arg);
}

static void on_defer(void *arg)
{
	deliver(arg);
}

/* The query is settled: deliver now, or from the loop if we are still inside
 * dns_resolve_uri() (which arms q->defer). */
static void finish(struct dns_query *q, int err, struct dns_targets *t)
{
	q->phase = DNS_PH_DONE;
	q->err = err;
	q->result = t;
	if (!q->starting)
		deliver(q);
}

/* Worse errors win when nothing was found: a local failure, then the
 * servers' silence, then their refusal, then "no such name". */
static int err_rank(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -ENOENT:
		return 1;
	case -EIO:
		return 2;
	case -ECONNREFUSED:
		return 3;
	case -ETIMEDOUT:
		return 4;
	default:
		return 5; /* -ENOMEM */
	}
}

static void note(struct dns_query *q, const struct dns_answer *a)
{
	/* an uncacheable negative answer (no SOA, RFC 2308 §5) does not cap it */
	if (a->set && (a->set->status == 0 || a->ttl) && a->ttl < q->ttl)
		q->ttl = a->ttl;
	if (err_rank(a->err) > err_rank(q->err))
		q->err = a->err;
}

/* Errors that end the query at once: the servers are not answering (further
 * phases would only wait for the same timeouts) or we are out of memory. */
static bool gives_up(int err)
{
	return err == -ETIMEDOUT || err == -ECONNREFUSED || err == -ENOMEM;
}

/* Ask the questions of one phase; the hold keeps answers that arrive at once
 * (cache hits, c-ares failing synchronously) from advancing the phase early. */
static void hold(struct dns_query *q)
{
	q->pending++;
}

static void release(struct dns_query *q)
{
	if (--q->pending == 0)
		step(q);
}

void dns_query_answered(struct dns_query *q)
{
	if (q->pending)
		return;
	if (q->cancelled)
		dns_query_free(q);
	else
		step(q);
}

static void add_srv(struct dns_query *q, enum tp_proto p, const char *name, bool prefix)
{
	static const char *const svc[] = { [TP_UDP] = "_sip._udp.", [TP_TCP] = "_sip._tcp.",
					   [TP_TLS] = "_sips._tcp." };
	struct dns_srv_slot *s;
	int n;

	if (q->nsrv == DNS_MAX_SRV)
		return;
	s = &q->srv[q->nsrv];
	n = snprintf(s->name, sizeof(s->name), "%s%s", prefix ? svc[p] : "", name);
	if (n < 0 || (size_t)n >= sizeof(s->name))
		return; /* the name would be too long: no such SRV */
	s->proto = p;
	q->nsrv++;
}

static void start_srv(struct dns_query *q)
{
	q->phase = DNS_PH_SRV;
	hold(q);
	for (size_t i = 0; i < q->nsrv; i++)
		dns_lookup(q, q->srv[i].name, DNS_T_SRV, &q->srv[i].ans);
	release(q);
}

static void start_hosts(struct dns_query *q)
{
	int fam = q->r->cfg.family;

	q->phase = DNS_PH_HOST;
	hold(q);
	for (size_t i = 0; i < q->nhosts; i++) {
		if (fam != AF_INET6)
			dns_lookup(q, q->hosts[i].name, DNS_T_A, &q->hosts[i].a);
		if (fam != AF_INET)
			dns_lookup(q, q->hosts[i].name, DNS_T_AAAA, &q->hosts[i].aaaa);
	}
	release(q);
}

/* RFC 3263 §4.1: NAPTR records name the transports and the SRV names. */
static void after_naptr(struct dns_query *q)
{
	static const enum tp_proto pref[] = { TP_TLS, TP_TCP, TP_UDP };
	const struct dns_rrset *s = q->naptr.set;

	note(q, &q->naptr);
	if (gives_up(q->naptr.err)) {
		finish(q, q->naptr.err, NULL); /* no point asking the silent servers more */
		return;
	}
	if (s && s->n) {
		struct dns_naptr_pick pick[DNS_MAX_SRV];
		/* the records sit in a union array: select on a compact copy */
		struct dns_naptr *tmp = mem_alloc(s->n * sizeof(*tmp));
		size_t n;

		if (!tmp) {
			finish(q, -ENOMEM, NULL);
			return;
		}
		for (size_t i = 0; i < s->n; i++)
			tmp[i] = s->rr[i].naptr;
		n = dns_naptr_select(tmp, s->n, q->sips, q->protos, pick, DNS_MAX_SRV);
		for (size_t i = 0; i < n; i++)
			add_srv(q, pick[i].proto, tmp[pick[i].idx].replacement, false);
		mem_free(tmp);
		q->naptr_used = q->nsrv > 0;
	}
	/* no usable NAPTR: SRV for each transport we support, in our preference */
	if (q->nsrv == 0)
		for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
			if (q->protos & DNS_PROTO_BIT(pref[i]))
				add_srv(q, pref[i], q->host, true);
	start_srv(q);
}

static uint32_t rand_cb(void *arg)
{
	return dns_rand(arg);
}

static bool srv_is_root(const struct dns_srv *v)
{
	return strcmp(v->target, ".") == 0;
}

/* RFC 3263 §4.2 + RFC 2782: SRV answers, in slot order, each ordered by
 * priority and weight, become the hosts to look up. */
static void after_srv(struct dns_query *q)
{
	size_t want = 0, maxn = 0;
	bool any = false, all_gave_up = true;
	struct dns_srv *tmp;

	for (size_t i = 0; i < q->nsrv; i++) {
		const struct dns_rrset *s = q->srv[i].ans.set;

		note(q, &q->srv[i].ans);
		if (!gives_up(q->srv[i].ans.err))
			all_gave_up = false;
		if (!s || s->n == 0)
			continue;
		any = true;
		want += s->n;
		if (s->n > maxn)
			maxn = s->n;
	}
	if (q->err == -ENOMEM) {
		finish(q, -ENOMEM, NULL); /* no partial answers under memory pressure */
		return;
	}
	if (!any) {
		if (q->nsrv && all_gave_up) {
			finish(q, q->err, NULL);
			return;
		}
		/* RFC 3263 §4.2: no SRV records, A/AAAA of the domain itself */
		q->hosts = mem_zalloc(sizeof(*q->hosts));
		if (!q->hosts) {
			finish(q, -ENOMEM, NULL);
			return;
		}
		q->hosts[0].proto = q->naptr_used ? q->srv[0].proto : default_proto(q);
		q->hosts[0].port = q->port ? q->port : default_port(q->hosts[0].proto);
		strcpy(q->hosts[0].name, q->host);
		q->nhosts = 1;
		start_hosts(q);
		return;
	}
	if (want > DNS_MAX_HOSTS)
		want = DNS_MAX_HOSTS;
	q->hosts = mem_zalloc(want * sizeof(*q->hosts));
	tmp = mem_alloc(maxn * sizeof(*tmp));
	if (!q->hosts || !tmp) {
		mem_free(tmp);
		finish(q, -ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < q->nsrv; i++) {
		const struct dns_rrset *s = q->srv[i].ans.set;

		if (!s)
			continue;
		for (size_t j = 0; j < s->n; j++)
			tmp[j] = s->rr[j].srv;
		dns_srv_order(tmp, s->n, rand_cb, q->r);
		for (size_t j = 0; j < s->n && q->nhosts < want; j++) {
			struct dns_host_slot *h = &q->hosts[q->nhosts];

			if (srv_is_root(&tmp[j]))
				continue; /* RFC 2782: service decidedly not available here */
			h->proto = q->srv[i].proto;
			h->port = tmp[j].port;
			strcpy(h->name, tmp[j].target);
			q->nhosts++;
		}
	}
	mem_free(tmp);
	if (q->nhosts == 0) {
		finish(q, -ENOENT, NULL);
		return;
	}
	start_hosts(q);
}

static bool seen(const struct dns_targets *t, const struct dns_target *x)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->t[i].proto == x->proto && tp_addr_equal(&t->t[i].addr, &x->addr))
			return true;
	return false;
}

static void add_addrs(struct dns_targets *t, const struct dns_host_slot *h,
		      const struct dns_answer *a)
{
	if (!a->set)
		return;
	for (size_t i = 0; i < a->set->n; i++) {
		struct dns_target x = { .proto = h->proto };

		if (a->set->type == DNS_T_A) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&x.addr.ss;

			s4->sin_family = AF_INET;
			s4->sin_addr = a->set->rr[i].a;
			x.addr.len = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&x.addr.ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_addr = a->set->rr[i].aaaa;
			x.addr.len = sizeof(*s6);
		}
		tp_addr_set_port(&x.addr, h->port);
		if (!seen(t, &x))
			t->t[t->n++] = x;
	}
}

/* Each host's addresses, in host order, A before AAAA. */
static void after_hosts(struct dns_query *q)
{
	struct dns_targets *t;
	size_t max = 0;

	for (size_t i = 0; i < q->nhosts; i++) {
		const struct dns_host_slot *h = &q->hosts[i];

		note(q, &h->a);
		note(q, &h->aaaa);
		max += (h->a.set ? h->a.set->n : 0) + (h->aaaa.set ? h->aaaa.set->n : 0);
	}
	if (max == 0 || q->err == -ENOMEM) {
		finish(q, q->err ? q->err : -ENOENT, NULL);
		return;
	}
	t = mem_zalloc(sizeof(*t) + max * sizeof(t->t[0]));
	if (!t) {
		finish(q, -ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < q->nhosts; i++) {
		add_addrs(t, &q->hosts[i], &q->hosts[i].a);
		add_addrs(t, &q->hosts[i], &q->hosts[i].aaaa);
	}
	t->ttl = q->ttl;
	finish(q, 0, t);
}

static void step(struct dns_query *q)
{
	if (q->cancelled) {
		dns_query_free(q);
		return;
	}
	switch (q->phase) {
	case DNS_PH_NAPTR:
		after_naptr(q);
		break;
	case DNS_PH_SRV:
		after_srv(q);
		break;
	case DNS_PH_HOST:
		after_hosts(q);
		break;
	case DNS_PH_DONE:
		break;
	}
}

/* RFC 3263 §4.1 transport= (RFC 3261 §19.1.1), checked against what we support. */
static int uri_transport(const struct sip_uri *u, bool sips, int *proto)
{
	*proto = -1;
	if (str_empty(u->transport))
		return 0;
	if (str_caseeq_lit(u->transport, "udp"))
		*proto = TP_UDP;
	else if (str_caseeq_lit(u->transport, "tcp"))
		*proto = sips ? TP_TLS : TP_TCP; /* sips over TCP is TLS (RFC 3261 §26.2.2) */
	else if (str_caseeq_lit(u->transport, "tls"))
		*proto = TP_TLS;
	else
		return -EPROTONOSUPPORT;
	if (sips && *proto != TP_TLS)
		return -EPROTONOSUPPORT; /* sips;transport=udp: no DTLS here */
	return 0;
}

/* TARGET (RFC 3263 §4): maddr if present, else the host; NUL-terminated,
 * without IPv6 brackets or a final dot. Sets *numeric for IP literals. */
static int uri_target(const struct sip_uri *u, char *buf, bool *numeric)
{
	struct str h = str_empty(u->maddr) ? u->host : u->maddr;
	struct tp_addr a;

	*numeric = tp_addr_from_numeric(&a, h, 0) == 0;
	if (h.len >= 2 && h.s[0] == '[' && h.s[h.len - 1] == ']') {
		h.s++;
		h.len -= 2;
	} else if (h.len > 1 && h.s[h.len - 1] == '.') {
		h.len--;
	}
	if (h.len == 0 || str_copy(buf, DNS_NAME_MAX, h) < 0)
		return -EINVAL;
	return 0;
}

static int numeric_result(struct dns_query *q, const char *host)
{
	struct dns_targets *t = mem_zalloc(sizeof(*t) + sizeof(t->t[0]));
	enum tp_proto p = default_proto(q);
	int rc;

	if (!t)
		return -ENOMEM;
	rc = tp_addr_from_numeric(&t->t[0].addr, str_cstr(host), q->port ? q->port : default_port(p));
	if (rc < 0) {
		mem_free(t);
		return rc;
	}
	t->t[0].proto = p;
	t->n = 1;
	t->ttl = UINT32_MAX;
	q->phase = DNS_PH_DONE;
	q->result = t;
	return 0;
}

int dns_resolve_uri(struct dns_resolver *r, const struct sip_uri *uri, dns_result_cb cb,
		    void *arg, struct dns_query **qp)
{
	struct dns_query *q;
	bool sips, numeric;
	int rc, forced;

	if (!r || !uri || !cb || r->destroying)
		return -EINVAL;
	if (uri->scheme != SIP_URI_SIP && uri->scheme != SIP_URI_SIPS)
		return -EINVAL;
	sips = uri->scheme == SIP_URI_SIPS;
	rc = uri_transport(uri, sips, &forced);
	if (rc < 0)
		return rc;
	q = mem_zalloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->sips = sips;
	q->forced = forced;
	q->ttl = UINT32_MAX;
	q->port = uri->has_port ? uri->port : 0;
	q->protos = sips ? DNS_PROTO_BIT(TP_TLS) : r->cfg.protos;
	if (forced >= 0)
		q->protos &= DNS_PROTO_BIT(forced);
	q->protos &= r->cfg.protos;
	rc = q->protos ? uri_target(uri, q->host, &numeric) : -EPROTONOSUPPORT;
	if (rc < 0) {
		mem_free(q);
		return rc;
	}
	q->next = r->queries;
	if (q->next)
		q->next->prev = q;
	r->queries = q;
	r->st.live_queries++;

	q->starting = true;
	if (numeric) {
		/* RFC 3263 §4.1/§4.2: an IP address needs no DNS at all */
		rc = numeric_result(q, q->host);
	} else if (q->port) {
		/* §4.2: a port given means A/AAAA of the name directly */
		q->hosts = mem_zalloc(sizeof(*q->hosts));
		if (!q->hosts) {
			rc = -ENOMEM;
		} else {
			q->hosts[0].proto = default_proto(q);
			q->hosts[0].port = q->port;
			strcpy(q->hosts[0].name, q->host);
			q->nhosts = 1;
			start_hosts(q);
		}
	} else if (forced >= 0) {
		/* §4.2: transport known, SRV for that transport only */
		add_srv(q, (enum tp_proto)forced, q->host, true);
		start_srv(q);
	} else {
		q->phase = DNS_PH_NAPTR;
		hold(q);
		dns_lookup(q, q->host, DNS_T_NAPTR, &q->naptr);
		release(q);
	}
	q->starting = false;
	if (rc == 0 && q->phase == DNS_PH_DONE)
		rc = loop_timer_add(r->loop, &q->defer, 0, on_defer, q);
	if (rc < 0) {
		/* no callback: questions still in flight keep q until they return */
		if (q->pending)
			q->cancelled = true;
		else
			dns_query_free(q);
		return rc;
	}
	if (qp)
		*qp = q;
	return 0;
}

void dns_query_cancel(struct dns_query *q)
{
	if (!q)
		return;
	if (q->pending == 0) {
		dns_query_free(q);
		return;
	}
	q->cancelled = true; /* freed when c-ares gives back its last question */
}
