/* /api/location: read the location service (thread-safe lookups and a
 * stripe-at-a-time walk) and flush AoRs through our own completion queue,
 * answering once the removal is durable. */
#include "siphond/http_int.h"

#include "base/log.h"
#include "location/loc.h"
#include "msg/uri.h"
#include "registrar/reg.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#define MOD "http"
#define FLUSH_WAIT_MS 5000

/* The key the registrar stores: "sip:alice@example.com" in its canonical
 * form; what does not parse as a SIP URI is looked up as given. */
static size_t canon_aor(const char *aor, char *out, size_t cap)
{
	struct sip_uri u;
	size_t n = strlen(aor);
	int len;

	if (!sip_uri_parse(&u, aor, n, NULL) && (len = reg_aor_canon(out, cap, &u)) > 0)
		return (size_t)len;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, aor, n);
	out[n] = '\0';
	return n;
}

static json_t *binding_json(const struct loc_binding *b, time_t now)
{
	json_t *j = json_object();

	json_object_set_new(j, "contact", sd_http_jstr(b->contact.s, b->contact.len));
	json_object_set_new(j, "expires", json_integer((json_int_t)b->expires));
	json_object_set_new(j, "expires_in",
			    json_integer(b->expires > now ? (json_int_t)(b->expires - now) : 0));
	json_object_set_new(j, "q", json_real(b->q / 1000.0));
	json_object_set_new(j, "received", sd_http_jstr(b->received.s, b->received.len));
	json_object_set_new(j, "path", sd_http_jstr(b->path.s, b->path.len));
	json_object_set_new(j, "user_agent", sd_http_jstr(b->user_agent.s, b->user_agent.len));
	json_object_set_new(j, "instance", sd_http_jstr(b->instance.s, b->instance.len));
	json_object_set_new(j, "reg_id", json_integer(b->reg_id));
	json_object_set_new(j, "call_id", sd_http_jstr(b->call_id.s, b->call_id.len));
	json_object_set_new(j, "cseq", json_integer(b->cseq));
	json_object_set_new(j, "updated", json_integer((json_int_t)b->updated));
	return j;
}

static json_t *aor_json(struct loc *l, struct str aor, time_t now)
{
	struct loc_binding bs[REG_MAX_CONTACTS];
	size_t n = loc_lookup(l, aor, bs, REG_MAX_CONTACTS, now);
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, binding_json(&bs[i], now));
	loc_release(bs, n);
	return json_pack("{s:o,s:o}", "aor", sd_http_jstr(aor.s, aor.len), "contacts", arr);
}

/* The walk: AoRs in index order; the page [offset, offset + limit) gets
 * their live bindings, the rest are only counted. */
struct walk {
	time_t now;
	unsigned offset, limit;
	uint64_t aors, bindings; /* live ones seen */
	json_t *list, *cur;      /* cur: the AoR being filled, or NULL */
	bool in_page, last_set;
	char last[512];          /* previous AoR, truncated; with last_len */
	size_t last_len;
};

static int walk_one(const struct loc_binding *b, void *arg)
{
	struct walk *w = arg;
	size_t keep = b->aor.len < sizeof(w->last) ? b->aor.len : sizeof(w->last);
	bool same = w->last_set && w->last_len == b->aor.len && !memcmp(w->last, b->aor.s, keep);

	if (b->expires <= w->now)
		return 0; /* expired, not purged yet */
	if (!same) {
		memcpy(w->last, b->aor.s, keep);
		w->last_len = b->aor.len;
		w->last_set = true;
		w->in_page = w->aors >= w->offset && w->aors - w->offset < w->limit;
		w->aors++;
		w->cur = NULL;
		if (w->in_page) {
			w->cur = json_pack("{s:o,s:[]}", "aor", sd_http_jstr(b->aor.s, b->aor.len),
					   "contacts");
			if (w->cur)
				json_array_append_new(w->list, w->cur);
		}
	}
	w->bindings++;
	if (w->cur)
		json_array_append_new(json_object_get(w->cur, "contacts"), binding_json(b, w->now));
	return 0;
}

void sd_http_loc_get(struct sd_http *h, const char *aor, unsigned offset, unsigned limit,
		     struct sd_http_reply *r)
{
	struct loc *l = h->cfg.loc;
	time_t now = time(NULL);

	if (!l) {
		sd_http_error(r, 404, "no registrar: no location service");
		return;
	}
	if (aor) {
		char key[1024];
		size_t n = canon_aor(aor, key, sizeof(key));

		sd_http_json(r, 200, aor_json(l, str_make(key, n), now));
		return;
	}
	{
		struct walk w = { .now = now, .offset = offset, .limit = limit, .list = json_array() };

		if (!w.list) {
			sd_http_error(r, 500, "out of memory");
			return;
		}
		loc_foreach(l, walk_one, &w);
		sd_http_json(r, 200,
			     json_pack("{s:I,s:I,s:i,s:i,s:o}", "aors", (json_int_t)w.aors,
				       "bindings", (json_int_t)w.bindings, "offset", (int)offset,
				       "limit", (int)limit, "list", w.list));
	}
}

/* ---- flush ---- */

/* The count lives in h, not on a handler's stack: a removal that outlives
 * its request's wait completes during a later one. */
static void on_removed(int err, void *arg)
{
	struct sd_http *h = arg;

	if (err < 0)
		log_warn(MOD, "location flush: %s", strerror(-err));
	h->flush_pending--;
}

static int collect_aor(const struct loc_binding *b, void *arg)
{
	json_t *set = arg;
	char key[1024];
	size_t n = b->aor.len < sizeof(key) - 1 ? b->aor.len : sizeof(key) - 1;

	memcpy(key, b->aor.s, n);
	key[n] = '\0';
	json_object_set_new(set, key, json_true());
	return 0;
}

/* Remove aor's bindings through our queue; returns how many it had. */
static size_t remove_aor(struct sd_http *h, struct str aor)
{
	struct loc_binding bs[REG_MAX_CONTACTS];
	size_t n;

	/* with the registrar's lock, so no REGISTER is half-way through it */
	loc_aor_lock(h->cfg.loc, aor);
	n = loc_lookup(h->cfg.loc, aor, bs, REG_MAX_CONTACTS, 0);
	loc_release(bs, n);
	if (n && loc_remove_all_q(h->cfg.loc, h->q, aor, on_removed, h) == 0)
		h->flush_pending++;
	loc_aor_unlock(h->cfg.loc, aor);
	return n;
}

/* Run our completions until every removal is done (bounded). */
static int wait_done(struct sd_http *h)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	loc_queue_poll(h->q);
	while (h->flush_pending > 0) {
		struct pollfd p = { .fd = loc_queue_fd(h->q), .events = POLLIN };
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = FLUSH_WAIT_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		loc_queue_poll(h->q);
	}
	return 0;
}

void sd_http_loc_delete(struct sd_http *h, const char *aor, bool all, struct sd_http_reply *r)
{
	uint64_t naors = 0, nb = 0;

	if (!h->cfg.loc) {
		sd_http_error(r, 404, "no registrar: no location service");
		return;
	}
	if (aor) {
		char key[1024];
		size_t n = canon_aor(aor, key, sizeof(key)), k;

		k = remove_aor(h, str_make(key, n));
		naors = k ? 1 : 0;
		nb = k;
	} else if (all) {
		json_t *set = json_object();
		const char *key;
		json_t *v;

		if (!set) {
			sd_http_error(r, 500, "out of memory");
			return;
		}
		loc_foreach(h->cfg.loc, collect_aor, set); /* names first: no change inside */
		json_object_foreach(set, key, v) {
			size_t k = remove_aor(h, str_cstr(key));

			naors += k ? 1 : 0;
			nb += k;
		}
		json_decref(set);
	} else {
		sd_http_error(r, 400, "name an AoR (?aor=sip:user@domain) or ask for all (?all=1)");
		return;
	}
	if (wait_done(h) < 0) {
		sd_http_error(r, 504, "the removal is not durable yet");
		return;
	}
	log_info(MOD, "location flush %s: %llu bindings of %llu AoRs removed", aor ? aor : "(all)",
		 (unsigned long long)nb, (unsigned long long)naors);
	sd_http_json(r, 200, json_pack("{s:I,s:I}", "aors", (json_int_t)naors, "bindings",
				       (json_int_t)nb));
}
