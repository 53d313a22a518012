/* The c-ares channel on our loop: c-ares reports its sockets through
 * ARES_OPT_SOCK_STATE_CB, readiness is fed back with ares_process_fd(), and a
 * loop timer follows ares_timeout() for retransmissions and timeouts. */
#include "dns/dns_priv.h"

#include "base/log.h"
#include "base/mem.h"
#include "dns/wire.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct lookup {
	struct dns_query *q;
	struct dns_answer *dst;
	uint16_t type;
	char name[];
};

static void rearm(struct dns_resolver *r);

uint64_t dns_now(const struct dns_resolver *r)
{
	return r->cfg.clock ? r->cfg.clock(r->cfg.clock_arg) : loop_now(r->loop);
}

uint32_t dns_rand(struct dns_resolver *r)
{
	uint64_t x;

	if (r->cfg.rand)
		return r->cfg.rand(r->cfg.rand_arg);
	x = r->rng; /* xorshift64*: only for spreading load, not for security */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static void on_fd(int fd, unsigned events, void *arg)
{
	struct dns_resolver *r = arg;

	ares_process_fd(r->ch, events & (LOOP_READ | LOOP_ERR) ? fd : ARES_SOCKET_BAD,
			events & LOOP_WRITE ? fd : ARES_SOCKET_BAD);
	rearm(r);
}

static void on_timer(void *arg)
{
	struct dns_resolver *r = arg;

	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(r);
}

static void rearm(struct dns_resolver *r)
{
	struct timeval tv, *t;
	uint64_t ms;

	if (r->destroying)
		return;
	t = ares_timeout(r->ch, NULL, &tv);
	if (!t) {
		loop_timer_cancel(r->loop, &r->timer);
		return;
	}
	ms = (uint64_t)t->tv_sec * 1000u + ((uint64_t)t->tv_usec + 999u) / 1000u;
	if (loop_timer_add(r->loop, &r->timer, ms, on_timer, r) < 0)
		log_err("dns", "cannot arm the resolver timer");
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_resolver *r = data;
	unsigned ev = (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0);
	int rc;

	if (!ev) {
		loop_fd_del(r->loop, fd); /* c-ares closes fd right after */
		return;
	}
	rc = loop_fd_add(r->loop, fd, ev, on_fd, r);
	if (rc == -EEXIST)
		rc = loop_fd_mod(r->loop, fd, ev);
	if (rc < 0)
		log_err("dns", "cannot watch c-ares socket %d: %s", fd, strerror(-rc));
}

static int ares_err(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		return -ENOENT;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return -ECONNREFUSED;
	case ARES_ENOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static struct dns_rrset *parse_addrs(uint16_t type, const unsigned char *buf, int len, int *st)
{
	struct ares_addrttl a4[64];
	struct ares_addr6ttl a6[64];
	struct dns_rrset *s;
	int n = 64;

	if (type == DNS_T_A)
		*st = ares_parse_a_reply(buf, len, NULL, a4, &n);
	else
		*st = ares_parse_aaaa_reply(buf, len, NULL, a6, &n);
	if (*st != ARES_SUCCESS)
		return NULL;
	s = dns_rrset_new(type, (size_t)n);
	if (!s) {
		*st = ARES_ENOMEM;
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		if (type == DNS_T_A)
			memcpy(&s->rr[i].a, &a4[i].ipaddr, sizeof(s->rr[i].a));
		else
			memcpy(&s->rr[i].aaaa, &a6[i].ip6addr, sizeof(s->rr[i].aaaa));
	}
	return s;
}

static struct dns_rrset *parse_srv(const unsigned char *buf, int len, int *st)
{
	struct ares_srv_reply *list = NULL, *p;
	struct dns_rrset *s;
	size_t n = 0;

	*st = ares_parse_srv_reply(buf, len, &list);
	if (*st != ARES_SUCCESS)
		return NULL;
	for (p = list; p; p = p->next)
		if (strlen(p->host) < DNS_NAME_MAX)
			n++;
	s = dns_rrset_new(DNS_T_SRV, n);
	if (!s)
		*st = ARES_ENOMEM;
	for (p = list, n = 0; s && p; p = p->next) {
		struct dns_srv *v = &s->rr[n].srv;

		if (strlen(p->host) >= DNS_NAME_MAX)
			continue;
		v->prio = p->priority;
		v->weight = p->weight;
		v->port = p->port;
		/* c-ares gives the root as "" (RFC 2782: "." = no service here) */
		strcpy(v->target, p->host[0] ? p->host : ".");
		n++;
	}
	ares_free_data(list);
	return s;
}

static void copy_field(char *dst, size_t cap, const unsigned char *src)
{
	size_t n = strlen((const char *)src);

	if (n >= cap)
		n = 0; /* too long to be one of ours: leave it empty (unusable) */
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static struct dns_rrset *parse_naptr(const unsigned char *buf, int len, int *st)
{
	struct ares_naptr_reply *list = NULL, *p;
	struct dns_rrset *s;
	size_t n = 0;

	*st = ares_parse_naptr_reply(buf, len, &list);
	if (*st != ARES_SUCCESS)
		return NULL;
	for (p = list; p; p = p->next)
		n++;
	s = dns_rrset_new(DNS_T_NAPTR, n);
	if (!s)
		*st = ARES_ENOMEM;
	for (p = list, n = 0; s && p; p = p->next, n++) {
		struct dns_naptr *v = &s->rr[n].naptr;

		v->order = p->order;
		v->pref = p->preference;
		copy_field(v->flags, sizeof(v->flags), p->flags);
		copy_field(v->service, sizeof(v->service), p->service);
		copy_field(v->replacement, sizeof(v->replacement),
			   (const unsigned char *)p->replacement);
		v->regexp = p->regexp[0] != '\0';
	}
	ares_free_data(list);
	return s;
}

/* Turn a c-ares answer into a set (positive or negative) or an error. */
static void settle(struct dns_resolver *r, struct lookup *lk, int status,
		   const unsigned char *buf, int len)
{
	struct dns_answer *dst = lk->dst;
	struct dns_rrset *s = NULL;
	uint32_t ttl = 0;
	bool have_ttl = buf && len > 0 && dns_wire_min_ttl(buf, (size_t)len, &ttl) == 0;

	if (status == ARES_SUCCESS) {
		if (lk->type == DNS_T_A || lk->type == DNS_T_AAAA)
			s = parse_addrs(lk->type, buf, len, &status);
		else if (lk->type == DNS_T_SRV)
			s = parse_srv(buf, len, &status);
		else
			s = parse_naptr(buf, len, &status);
		if (s && s->n == 0)
			status = ARES_ENODATA;
	}
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		/* negative answer: cached only with an SOA to bound it (RFC 2308 §5) */
		dns_rrset_unref(s);
		s = dns_rrset_new(lk->type, 0);
		if (!s) {
			dst->err = -ENOMEM;
			return;
		}
		s->status = -ENOENT;
		if (!have_ttl || ttl > r->cfg.negative_ttl)
			ttl = have_ttl ? r->cfg.negative_ttl : 0;
	} else if (status != ARES_SUCCESS) {
		dns_rrset_unref(s);
		dst->err = ares_err(status);
		return;
	}
	s->ttl = have_ttl ? ttl : 0;
	if (dns_cache_put(r->cache, lk->name, lk->type, s, dns_now(r)) < 0)
		log_debug("dns", "not caching %s", lk->name);
	dst->set = s;
	dst->err = s->status;
	dst->ttl = s->ttl;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *buf, int len)
{
	struct lookup *lk = arg;
	struct dns_query *q = lk->q;
	struct dns_resolver *r = q->r;

	(void)timeouts;
	if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED && !r->destroying &&
	    !q->cancelled)
		settle(r, lk, status, buf, len);
	mem_free(lk);
	q->pending--;
	if (!r->destroying)
		dns_query_answered(q);
}

void dns_lookup(struct dns_query *q, const char *name, uint16_t type, struct dns_answer *dst)
{
	struct dns_resolver *r = q->r;
	size_t len = strlen(name);
	struct lookup *lk;

	dst->set = dns_cache_get(r->cache, name, type, dns_now(r), &dst->ttl);
	if (dst->set) {
		r->st.cache_hits++;
		dst->err = dst->set->status;
		return;
	}
	lk = mem_alloc(sizeof(*lk) + len + 1);
	if (!lk) {
		dst->err = -ENOMEM;
		return;
	}
	lk->q = q;
	lk->dst = dst;
	lk->type = type;
	memcpy(lk->name, name, len + 1);
	q->pending++;
	r->st.queries_sent++;
	log_debug("dns", "query %s type %u", name, type);
	ares_query(r->ch, name, ns_c_in, type, on_answer, lk); /* may answer at once */
	rearm(r);
}

static int apply_defaults(struct dns_config *c)
{
	if (!c->timeout_ms)
		c->timeout_ms = 2000;
	if (!c->tries)
		c->tries = 2;
	if (!c->cache_size)
		c->cache_size = 1024;
	if (!c->negative_ttl)
		c->negative_ttl = 60;
	if (!c->protos)
		c->protos = DNS_PROTO_ALL;
	if (c->protos & ~DNS_PROTO_ALL)
		return -EINVAL;
	if (c->family != AF_UNSPEC && c->family != AF_INET && c->family != AF_INET6)
		return -EINVAL;
	c->servers = NULL;
	return 0;
}

static int channel_init(struct dns_resolver *r, const char *servers)
{
	struct ares_options o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = r;
	o.timeout = (int)r->cfg.timeout_ms;
	o.tries = (int)r->cfg.tries;
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	rc = ares_init_options(&r->ch, &o,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
				       ARES_OPT_FLAGS);
	if (rc != ARES_SUCCESS)
		return rc == ARES_ENOMEM ? -ENOMEM : -EIO;
	if (servers && *servers) {
		rc = ares_set_servers_ports_csv(r->ch, servers);
		if (rc != ARES_SUCCESS) {
			ares_destroy(r->ch);
			return rc == ARES_ENOMEM ? -ENOMEM : -EINVAL;
		}
	}
	return 0;
}

int dns_resolver_create(struct dns_resolver **out, struct loop *loop,
			const struct dns_config *cfg)
{
	struct dns_resolver *r;
	int rc;

	if (!out || !loop)
		return -EINVAL;
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (cfg)
		r->cfg = *cfg;
	rc = apply_defaults(&r->cfg);
	if (rc < 0)
		goto out_free;
	r->loop = loop;
	if (getrandom(&r->rng, sizeof(r->rng), GRND_NONBLOCK) != sizeof(r->rng))
		r->rng = (uint64_t)time(NULL) ^ (uintptr_t)r;
	r->rng |= 1; /* xorshift state must not be 0 */
	rc = dns_cache_create(&r->cache, r->cfg.cache_size);
	if (rc < 0)
		goto out_free;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		rc = -EIO;
		goto out_cache;
	}
	rc = channel_init(r, cfg ? cfg->servers : NULL);
	if (rc < 0)
		goto out_lib;
	*out = r;
	return 0;
out_lib:
	ares_library_cleanup();
out_cache:
	dns_cache_destroy(r->cache);
out_free:
	mem_free(r);
	return rc;
}

void dns_resolver_destroy(struct dns_resolver *r)
{
	if (!r)
		return;
	/* c-ares ends its queries with ARES_EDESTRUCTION: they only drop their
	 * hold on the query; the queries themselves are reaped below. */
	r->destroying = true;
	ares_destroy(r->ch);
	loop_timer_cancel(r->loop, &r->timer);
	while (r->queries)
		dns_query_free(r->queries);
	dns_cache_destroy(r->cache);
	mem_free(r);
	ares_library_cleanup();
}

void dns_resolver_stats(const struct dns_resolver *r, struct dns_stats *st)
{
	*st = r->st;
}

void dns_resolver_flush(struct dns_resolver *r)
{
	dns_cache_flush(r->cache);
}
