/* The subscriber: a thread with its own connection, SUBSCRIBEd to
 * `<prefix>:changes`, that applies the other servers' changes to this
 * index as they come (its own, recognised by the origin id, are already
 * there). It subscribes first and loads everything from Redis second, so a
 * change made meanwhile waits in the socket and is applied after the load
 * (applying a change twice is harmless: each one states a result). After
 * any failure it reconnects, with a growing pause, and loads again, which
 * also catches up with what it missed while away (redis_load.c says when
 * removals count). A quiet link is checked with PING, so a vanished server
 * is noticed within seconds. */
#include "location/redis_int.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define PING_IDLE_MS 5000 /* PING after this long without a word */

struct loc_sub {
	const struct loc_redis_cfg *rc;
	struct loc_index *x;
	struct loc_writer *w;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int first;       /* the first load's result, 1 until known (lock) */
	double load_s;   /* how long the last load took */
	struct loc_resync rs; /* the last load */
	atomic_bool stop;
	int wake;        /* eventfd: readable once stop is set */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int apply_save(struct loc_index *x, const struct loc_binding *b)
{
	struct loc_rec *r = loc_rec_new(b), *old;
	uint64_t h = loc_hash(b->aor);
	struct loc_stripe *s = loc_index_stripe(x, h);
	int err;

	if (!r)
		return -ENOMEM;
	pthread_rwlock_wrlock(&s->lock);
	err = loc_index_put(x, s, h, r, &old);
	pthread_rwlock_unlock(&s->lock);
	if (err)
		loc_rec_put(r);
	else
		loc_rec_put(old);
	return err;
}

static void apply_del(struct loc_index *x, struct str aor, const struct str *contact)
{
	uint64_t h = loc_hash(aor);
	struct loc_stripe *s = loc_index_stripe(x, h);

	pthread_rwlock_wrlock(&s->lock);
	loc_index_del(x, s, h, aor, contact);
	pthread_rwlock_unlock(&s->lock);
}

/* Another server's change. -ENOMEM: the index missed it, so the caller
 * reconnects and loads again. */
static int apply_change(struct loc_sub *s, const char *p, size_t len)
{
	struct loc_redis_msg m;

	if (loc_redis_msg_dec(p, len, &m)) {
		log_warn("loc", "redis %s: malformed change on %s ignored", s->rc->name,
			 s->rc->channel);
		return 0;
	}
	if (m.origin == s->rc->origin)
		return 0;
	switch (m.kind) {
	case 'S':
		return apply_save(s->x, &m.b);
	case 'D':
		apply_del(s->x, m.aor, &m.contact);
		break;
	case 'A':
		apply_del(s->x, m.aor, NULL);
		break;
	}
	return 0;
}

/* A pushed message; subscribe confirmations and PING answers need nothing. */
static int on_reply(struct loc_sub *s, const redisReply *r)
{
	const redisReply *kind, *payload;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		return 0;
	kind = r->element[0];
	payload = r->element[2];
	if (kind->type != REDIS_REPLY_STRING || kind->len != 7 || memcmp(kind->str, "message", 7) ||
	    payload->type != REDIS_REPLY_STRING)
		return 0;
	return apply_change(s, payload->str, payload->len);
}

/* Connect, subscribe, then load (see the top of the file). */
static int session_start(struct loc_sub *s, redisContext **out, char *why, size_t len)
{
	const char *argv[] = { "SUBSCRIBE", s->rc->channel };
	int64_t t0 = mono_ms();
	redisReply *r;
	int err;

	err = loc_redis_connect(s->rc, out, NULL, why, len);
	if (err)
		return err;
	r = redisCommandArgv(*out, 2, argv, NULL);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		snprintf(why, len, "SUBSCRIBE: %s",
			 r && r->type == REDIS_REPLY_ERROR ? r->str : (*out)->errstr);
		freeReplyObject(r);
		return -EIO;
	}
	freeReplyObject(r);
	/* every local change up to done is in Redis before the load reads it */
	s->rs.done = atomic_load_explicit(&s->w->done_seq, memory_order_acquire);
	s->rs.gen++;
	err = loc_redis_load(s->rc, s->x, &s->rs, &s->stop);
	if (err) {
		snprintf(why, len, "loading: %s", strerror(-err));
		return err;
	}
	s->load_s = (double)(mono_ms() - t0) / 1000.0;
	return 0;
}

static int send_ping(redisContext *c)
{
	int done = 0;

	if (redisAppendCommand(c, "PING") != REDIS_OK)
		return -EIO;
	while (!done)
		if (redisBufferWrite(c, &done) != REDIS_OK)
			return -EIO;
	return 0;
}

/* Apply changes until the connection fails (returns < 0) or stop (0). */
static int session_run(struct loc_sub *s, redisContext *c, char *why, size_t len)
{
	int64_t last_rx = mono_ms(), ping_at = 0; /* 0: no PING unanswered */

	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = s->wake, .events = POLLIN } };
		redisReply *r;
		int64_t now, wait;
		int err;

		for (;;) { /* what is already read */
			if (redisGetReplyFromReader(c, (void **)&r) != REDIS_OK)
				goto io;
			if (!r)
				break;
			ping_at = 0;
			err = on_reply(s, r);
			freeReplyObject(r);
			if (err) {
				snprintf(why, len, "applying a change: %s", strerror(-err));
				return err;
			}
		}
		now = mono_ms();
		if (ping_at && now - ping_at >= LOC_REDIS_TIMEOUT_MS) {
			snprintf(why, len, "no answer to PING");
			return -ETIMEDOUT;
		}
		if (!ping_at && now - last_rx >= PING_IDLE_MS) {
			if (send_ping(c))
				goto io;
			ping_at = now;
		}
		wait = ping_at ? ping_at + LOC_REDIS_TIMEOUT_MS - now : last_rx + PING_IDLE_MS - now;
		if (poll(p, 2, (int)(wait > 0 ? wait : 0)) < 0 && errno != EINTR) {
			snprintf(why, len, "poll: %s", strerror(errno));
			return -errno;
		}
		if (p[1].revents)
			return 0;
		if (p[0].revents) {
			if (redisBufferRead(c) != REDIS_OK)
				goto io;
			last_rx = mono_ms();
		}
	}
io:
	snprintf(why, len, "%s", c->errstr[0] ? c->errstr : "connection lost");
	return -EIO;
}

/* Sleep ms unless stopped; true when stopped. */
static bool pause_ms(struct loc_sub *s, int ms)
{
	struct pollfd p = { .fd = s->wake, .events = POLLIN };

	if (atomic_load(&s->stop))
		return true;
	return poll(&p, 1, ms) > 0 || atomic_load(&s->stop);
}

static void *sub_main(void *arg)
{
	struct loc_sub *s = arg;
	int backoff = BACKOFF_MIN_MS;
	bool first = true, up = true;

	for (;;) {
		redisContext *c = NULL;
		char why[192] = "";
		int err = session_start(s, &c, why, sizeof(why));

		if (first) { /* loc_create() waits for this one */
			pthread_mutex_lock(&s->lock);
			s->first = err;
			pthread_cond_signal(&s->cond);
			pthread_mutex_unlock(&s->lock);
			if (err) {
				log_err("loc", "redis %s: %s", s->rc->name, why);
				if (c)
					redisFree(c);
				return NULL;
			}
			first = false;
		} else if (!err && !up) {
			log_info("loc", "redis %s: subscribed again, %zu bindings loaded in %.3f s (%s)",
				 s->rc->name, s->rs.loaded, s->load_s,
				 s->rs.exact ? "same server: its removals applied"
					     : "server restarted: merged, nothing removed");
		}
		if (!err) {
			up = true;
			backoff = BACKOFF_MIN_MS;
			err = session_run(s, c, why, sizeof(why));
		}
		if (c)
			redisFree(c);
		if (atomic_load(&s->stop))
			break;
		if (up)
			log_warn("loc", "redis %s: subscriber: %s; reconnecting", s->rc->name, why);
		up = false;
		if (pause_ms(s, backoff))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

static void sub_free(struct loc_sub *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	close(s->wake);
	mem_free(s);
}

int loc_sub_start(struct loc_sub **out, const struct loc_redis_cfg *rc, struct loc_index *x,
		  struct loc_writer *w, double *load_s)
{
	struct loc_sub *s = mem_zalloc(sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake < 0) {
		err = -errno;
		mem_free(s);
		return err;
	}
	s->rc = rc;
	s->x = x;
	s->w = w;
	s->first = 1;
	s->rs.run_id[0] = '\0';
	atomic_init(&s->stop, false);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	err = loc_thread_start(&s->thread, sub_main, s);
	if (err) {
		sub_free(s);
		return err;
	}
	pthread_mutex_lock(&s->lock);
	while (s->first == 1)
		pthread_cond_wait(&s->cond, &s->lock);
	err = s->first;
	pthread_mutex_unlock(&s->lock);
	if (err) {
		pthread_join(s->thread, NULL); /* it ends after a failed first load */
		sub_free(s);
		return err == -ENOMEM ? err : -EIO;
	}
	*load_s = s->load_s;
	log_info("loc", "redis %s: %zu bindings loaded in %.3f s", rc->name, s->rs.loaded,
		 s->load_s);
	*out = s;
	return 0;
}

void loc_sub_stop(struct loc_sub *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	atomic_store(&s->stop, true);
	if (write(s->wake, &one, sizeof(one)) < 0)
		log_err("loc", "eventfd write: %d", errno);
	pthread_join(s->thread, NULL);
	sub_free(s);
}
