/* REGISTER processing (RFC 3261 §10.3 steps 5-8, RFC 3327 §5.3, RFC 5626 §6):
 * every check first, then the changes, then the 200 once they are durable. */
#include "registrar/reg_int.h"

#include "base/mem.h"

#include <errno.h>
#include <stdio.h>

#define REG_LOOKUP_MAX (REG_MAX_CONTACTS + REG_REQ_CONTACTS)

/* A request waiting for its location changes to become durable. */
struct reg_pend {
	struct reg *r;
	reg_done_cb cb;
	void *arg;
	atomic_int left; /* changes in flight, plus one while issuing them */
	atomic_int err;
	time_t now;
	struct str aor, path, echo;
	char data[];
};

/* §10.3 step 8: 200 with every current binding. */
static void reply_bindings(struct reg *r, struct str aor, struct str echo, time_t now,
			   reg_done_cb cb, void *arg)
{
	struct loc_binding b[REG_LOOKUP_MAX];
	size_t n = loc_lookup(r->loc, aor, b, REG_LOOKUP_MAX, now);
	size_t cap = reg_response_headers_size(b, n, echo);
	char *buf = mem_alloc(cap);
	int len = buf ? reg_response_headers(buf, cap, b, n, echo, now) : -ENOMEM;

	if (len < 0)
		cb(arg, 500, "Server Internal Error", STR_NULL);
	else
		cb(arg, 200, "OK", str_make(buf, (size_t)len));
	mem_free(buf);
	loc_release(b, n);
}

static void pend_put(struct reg_pend *p)
{
	if (atomic_fetch_sub(&p->left, 1) != 1)
		return;
	/* §10.3 step 7: a failed commit is a 500 */
	if (atomic_load(&p->err))
		p->cb(p->arg, 500, "Server Internal Error", STR_NULL);
	else
		reply_bindings(p->r, p->aor, p->echo, p->now, p->cb, p->arg);
	mem_free(p);
}

static void on_loc_done(int err, void *arg)
{
	struct reg_pend *p = arg;

	if (err)
		atomic_store(&p->err, err);
	pend_put(p);
}

/* After issuing one change: its callback will not run on failure, and a
 * failure stops the rest. */
static void pend_op(struct reg_pend *p, int rc)
{
	if (!rc)
		return;
	atomic_fetch_sub(&p->left, 1);
	atomic_store(&p->err, rc);
}

static bool supports_path(const struct sip_msg *m)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_SUPPORTED); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value, tok;

		while (sip_token_next(&cur, &tok, NULL) == 0)
			if (str_caseeq_lit(tok, "path"))
				return true;
	}
	return false;
}

/* Path values of every Path header, comma-joined (RFC 3327 §5.3). */
static size_t path_len(const struct sip_msg *m)
{
	size_t n = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PATH); h; h = sip_msg_hdr_next(m, h))
		n += h->value.len + 2;
	return n;
}

static struct str path_join(const struct sip_msg *m, char *dst)
{
	size_t n = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PATH); h; h = sip_msg_hdr_next(m, h)) {
		if (n) {
			memcpy(dst + n, ", ", 2);
			n += 2;
		}
		memcpy(dst + n, h->value.s, h->value.len);
		n += h->value.len;
	}
	return str_make(dst, n);
}

static struct reg_pend *pend_new(struct reg *r, const struct sip_msg *m, struct str aor,
				 time_t now, reg_done_cb cb, void *arg)
{
	struct reg_pend *p = mem_zalloc(sizeof(*p) + aor.len + path_len(m));

	if (!p)
		return NULL;
	p->r = r;
	p->cb = cb;
	p->arg = arg;
	p->now = now;
	atomic_init(&p->left, 1);
	atomic_init(&p->err, 0);
	memcpy(p->data, aor.s, aor.len);
	p->aor = str_make(p->data, aor.len);
	p->path = path_join(m, p->data + aor.len);
	if (supports_path(m))
		p->echo = p->path;
	return p;
}

/* §10.3 steps 6-7: same Call-ID and a CSeq not higher aborts the request. */
static bool stale(const struct loc_binding *b, const struct sip_msg *m)
{
	return str_eq(b->call_id, m->call_id) && b->cseq >= m->cseq.num;
}

/* The existing binding c updates: equal URI (§19.1.4) or the same RFC 5626
 * instance and reg-id. */
static int find_match(const struct reg_contact *c, const struct loc_binding *b, size_t nb)
{
	for (size_t j = 0; j < nb; j++) {
		struct sip_uri u;

		if (c->reg_id && b[j].reg_id == c->reg_id && str_eq(b[j].instance, c->instance))
			return (int)j;
		if (!sip_uri_parse(&u, b[j].contact.s, b[j].contact.len, NULL) &&
		    sip_uri_equal(&u, &c->uri))
			return (int)j;
	}
	return -1;
}

/* Pick the least recently updated bindings no contact of the request
 * touches; returns how many of want could be marked in evict[]. */
static size_t pick_evict(const struct loc_binding *b, size_t nb, const bool *touched,
			 bool *evict, size_t want)
{
	size_t got = 0;

	while (got < want) {
		int best = -1;

		for (size_t j = 0; j < nb; j++)
			if (!touched[j] && !evict[j] &&
			    (best < 0 || b[j].updated < b[best].updated))
				best = (int)j;
		if (best < 0)
			break;
		evict[best] = true;
		got++;
	}
	return got;
}

struct reg_req {
	struct reg *r;
	const struct sip_msg *m;
	const struct reg_source *src;
	time_t now;
	struct str aor;
	struct reg_contact c[REG_REQ_CONTACTS];
	size_t nc;
	struct loc_binding b[REG_LOOKUP_MAX];
	size_t nb;
	bool touched[REG_LOOKUP_MAX], evict[REG_LOOKUP_MAX];
};

/* Checks of §10.3 step 7 and the per-AoR limit; 0 or the error status. */
static uint16_t check(struct reg_req *q, const char **reason, uint32_t *min)
{
	const struct reg_cfg *cfg = &q->r->cfg;
	size_t removed = 0, added = 0, total;

	for (size_t i = 0; i < q->nc; i++) {
		struct reg_contact *c = &q->c[i];

		if (c->expires && c->expires < cfg->min_expires) {
			*min = cfg->min_expires;
			*reason = "Interval Too Brief";
			return 423;
		}
		c->match = find_match(c, q->b, q->nb);
		if (c->match < 0) {
			added += c->expires != 0;
			continue;
		}
		if (stale(&q->b[c->match], q->m)) {
			*reason = "Out-of-Order CSeq";
			return 500;
		}
		if (!c->expires && !q->touched[c->match])
			removed++;
		q->touched[c->match] = true;
	}
	total = q->nb - removed + added;
	if (total <= cfg->max_contacts)
		return 0;
	if (cfg->on_too_many == REG_EVICT_OLDEST && added <= cfg->max_contacts &&
	    pick_evict(q->b, q->nb, q->touched, q->evict, total - cfg->max_contacts) ==
		    total - cfg->max_contacts)
		return 0;
	*reason = "Too Many Contacts";
	return 403;
}

static void apply(struct reg_req *q, struct reg_pend *p)
{
	const struct sip_hdr *ua = sip_msg_hdr(q->m, SIP_HDR_USER_AGENT);
	struct loc *loc = q->r->loc;

	for (size_t j = 0; j < q->nb && !atomic_load(&p->err); j++) {
		if (!q->evict[j])
			continue;
		atomic_fetch_add(&p->left, 1);
		pend_op(p, loc_remove_q(loc, p->r->cfg.queue, p->aor, q->b[j].contact, on_loc_done, p));
	}
	for (size_t i = 0; i < q->nc && !atomic_load(&p->err); i++) {
		const struct reg_contact *c = &q->c[i];
		const struct loc_binding *old = c->match >= 0 ? &q->b[c->match] : NULL;
		struct loc_binding nb;
		int rc;

		if (!c->expires) {
			if (!old)
				continue; /* nothing to remove */
			atomic_fetch_add(&p->left, 1);
			rc = loc_remove_q(loc, p->r->cfg.queue, p->aor, old->contact, on_loc_done, p);
		} else {
			nb = (struct loc_binding){
				.aor = p->aor,
				/* keep the stored spelling of an equal URI so
				 * that the location service replaces it */
				.contact = old && !(c->reg_id && old->reg_id == c->reg_id) ?
						   old->contact : c->uri.raw,
				.call_id = q->m->call_id,
				.path = p->path,
				.instance = c->instance,
				.received = q->src ? q->src->received : STR_NULL,
				.user_agent = ua ? ua->value : STR_NULL,
				.expires = q->now + (time_t)reg_grant(q->r, c->expires),
				.updated = q->now,
				.cseq = q->m->cseq.num,
				.reg_id = c->reg_id,
				.q = c->q,
			};
			atomic_fetch_add(&p->left, 1);
			rc = loc_save_q(loc, p->r->cfg.queue, &nb, on_loc_done, p);
		}
		pend_op(p, rc);
	}
}

static void run(struct reg_req *q, int star, reg_done_cb cb, void *arg)
{
	struct reg_pend *p;
	const char *reason = NULL;
	uint32_t min = 0;
	uint16_t code = 0;

	/* what is checked is what gets changed: no other worker's REGISTER
	 * for this AoR in between (max_contacts, CSeq order) */
	loc_aor_lock(q->r->loc, q->aor);
	q->nb = loc_lookup(q->r->loc, q->aor, q->b, REG_LOOKUP_MAX, q->now);
	if (!star && !q->nc) {
		/* a fetch (§10.3 step 8 with no Contact) */
		reply_bindings(q->r, q->aor, STR_NULL, q->now, cb, arg);
		goto out;
	}
	if (star) {
		/* §10.3 step 6 */
		for (size_t j = 0; j < q->nb && !code; j++)
			if (stale(&q->b[j], q->m)) {
				code = 500;
				reason = "Out-of-Order CSeq";
			}
	} else {
		code = check(q, &reason, &min);
	}
	if (code) {
		char mx[32];
		int k = min ? snprintf(mx, sizeof(mx), "Min-Expires: %u\r\n", (unsigned)min) : 0;

		cb(arg, code, reason, str_make(mx, (size_t)k));
		goto out;
	}
	p = pend_new(q->r, q->m, q->aor, q->now, cb, arg);
	if (!p) {
		cb(arg, 500, "Server Internal Error", STR_NULL);
		goto out;
	}
	if (star) {
		atomic_fetch_add(&p->left, 1);
		pend_op(p, loc_remove_all_q(q->r->loc, q->r->cfg.queue, p->aor, on_loc_done, p));
	} else {
		apply(q, p);
	}
	pend_put(p); /* the issuing reference */
out:
	loc_aor_unlock(q->r->loc, q->aor);
	loc_release(q->b, q->nb);
}

int reg_handle(struct reg *r, const struct sip_msg *m, const struct reg_source *src,
	       time_t now, reg_done_cb cb, void *arg)
{
	struct reg_req *q;
	struct sip_uri to;
	char aor[REG_AOR_MAX];
	const char *why = "Bad Contact";
	int len, star;

	if (!m->is_request || m->method_id != SIP_METHOD_REGISTER)
		return -EINVAL;
	/* §10.3 step 5: the AoR is a SIP or SIPS URI (RFC 4475 unksm2) */
	if (sip_uri_parse(&to, m->to.uri.s, m->to.uri.len, NULL) ||
	    (to.scheme != SIP_URI_SIP && to.scheme != SIP_URI_SIPS)) {
		cb(arg, 400, "Bad To: Not a SIP AoR", STR_NULL);
		return 0;
	}
	len = reg_aor_canon(aor, sizeof(aor), &to);
	if (len < 0) {
		cb(arg, 400, "Bad To: AoR Too Long", STR_NULL);
		return 0;
	}
	/* the working set is large: keep it off the worker's stack */
	q = mem_zalloc(sizeof(*q));
	if (!q) {
		cb(arg, 500, "Server Internal Error", STR_NULL);
		return 0;
	}
	q->r = r;
	q->m = m;
	q->src = src;
	q->now = now;
	q->aor = str_make(aor, (size_t)len);
	star = reg_contacts_parse(r, m, q->c, &q->nc, &why);
	if (star == -E2BIG)
		cb(arg, 403, "Too Many Contacts", STR_NULL);
	else if (star < 0)
		cb(arg, 400, why, STR_NULL);
	else
		run(q, star, cb, arg);
	mem_free(q);
	return 0;
}
