/* A fake environment for the transaction tests: a controllable clock, the
 * transactions' timers in a list fired in due order, and a record of what was
 * sent and what the TU was told (sofia-sip s2 style: the test is the peer).
 * Include from one test file per executable. */
#ifndef SIPHON_TEST_TSX_FAKE_H
#define SIPHON_TEST_TSX_FAKE_H

#include "harness.h"

#include "msg/msg.h"
#include "tsx/tsx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FAKE_MAX_SENT 64
#define FAKE_MAX_TIMERS 16
#define FAKE_MAX_RESP 32

struct fake_sent {
	uint64_t at;
	struct tsx *tsx;
	size_t len;
	char buf[2048];
};

struct fake {
	struct tsx_env env;
	struct tsx_timers timers;
	uint64_t now, seq;
	struct tsx_timer *armed[FAKE_MAX_TIMERS];
	unsigned narmed;
	struct fake_sent sent[FAKE_MAX_SENT];
	unsigned nsent;
	int send_err;           /* what the next sends return */
	uint16_t codes[FAKE_MAX_RESP];
	uint64_t code_at[FAKE_MAX_RESP];
	unsigned nresp;
	unsigned timeouts, terrors, terminated;
	uint64_t timeout_at, terminated_at;
	int last_err;
	struct tsx *terminated_tsx;
};

static inline uint64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static inline void fake_timer_start(void *ctx, struct tsx_timer *tm, uint32_t ms)
{
	struct fake *f = ctx;

	assert_true(f->narmed < FAKE_MAX_TIMERS);
	for (unsigned i = 0; i < f->narmed; i++)
		assert_ptr_not_equal(f->armed[i], tm); /* never armed twice */
	tm->env.plain.due = f->now + ms;
	tm->env.plain.seq = ++f->seq;
	f->armed[f->narmed++] = tm;
}

static inline void fake_timer_stop(void *ctx, struct tsx_timer *tm)
{
	struct fake *f = ctx;

	for (unsigned i = 0; i < f->narmed; i++) {
		if (f->armed[i] == tm) {
			f->armed[i] = f->armed[--f->narmed];
			return;
		}
	}
	fail_msg("stopping a timer that is not armed");
}

static inline int fake_send(void *ctx, struct tsx *t, const char *buf, size_t len)
{
	struct fake *f = ctx;
	struct fake_sent *s;

	if (f->send_err)
		return f->send_err;
	assert_true(f->nsent < FAKE_MAX_SENT);
	assert_true(len <= sizeof(s->buf));
	s = &f->sent[f->nsent++];
	s->at = f->now;
	s->tsx = t;
	s->len = len;
	memcpy(s->buf, buf, len);
	return 0;
}

static inline void fake_on_response(void *ctx, struct tsx *t, const struct sip_msg *m)
{
	struct fake *f = ctx;

	(void)t;
	assert_true(f->nresp < FAKE_MAX_RESP);
	f->code_at[f->nresp] = f->now;
	f->codes[f->nresp++] = m->status;
}

static inline void fake_on_timeout(void *ctx, struct tsx *t)
{
	struct fake *f = ctx;

	(void)t;
	f->timeouts++;
	f->timeout_at = f->now;
}

static inline void fake_on_transport_error(void *ctx, struct tsx *t, int err)
{
	struct fake *f = ctx;

	(void)t;
	f->terrors++;
	f->last_err = err;
}

static inline void fake_on_terminated(void *ctx, struct tsx *t)
{
	struct fake *f = ctx;

	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	f->terminated++;
	f->terminated_at = f->now;
	f->terminated_tsx = t;
}

static inline void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->timers = tsx_timers_default;
	f->env = (struct tsx_env){
		.ctx = f,
		.timers = &f->timers,
		.now_ms = fake_now,
		.timer_start = fake_timer_start,
		.timer_stop = fake_timer_stop,
		.send = fake_send,
		.on_response = fake_on_response,
		.on_timeout = fake_on_timeout,
		.on_transport_error = fake_on_transport_error,
		.on_terminated = fake_on_terminated,
	};
}

/* Advance the clock to `to`, firing due timers in order (ties: armed first). */
static inline void fake_run_until(struct fake *f, uint64_t to)
{
	for (;;) {
		struct tsx_timer *best = NULL;
		unsigned bi = 0;

		for (unsigned i = 0; i < f->narmed; i++) {
			struct tsx_timer *tm = f->armed[i];

			if (tm->env.plain.due > to)
				continue;
			if (!best || tm->env.plain.due < best->env.plain.due ||
			    (tm->env.plain.due == best->env.plain.due && tm->env.plain.seq < best->env.plain.seq)) {
				best = tm;
				bi = i;
			}
		}
		if (!best)
			break;
		f->armed[bi] = f->armed[--f->narmed];
		f->now = best->env.plain.due;
		tsx_timer_fire(best);
	}
	f->now = to;
}

/* The armed timer with this name, or NULL. */
static inline const struct tsx_timer *fake_timer(const struct fake *f, char name)
{
	for (unsigned i = 0; i < f->narmed; i++)
		if (f->armed[i]->name == name)
			return f->armed[i];
	return NULL;
}

/* Assert the send times since index `from` are exactly want[0..n). */
static inline void fake_assert_sent_at(const struct fake *f, unsigned from, const uint64_t *want,
				       unsigned n)
{
	if (f->nsent - from != n) {
		for (unsigned i = from; i < f->nsent; i++)
			fprintf(stderr, "sent at %llu\n", (unsigned long long)f->sent[i].at);
		fail_msg("%u sends, expected %u", f->nsent - from, n);
	}
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(f->sent[from + i].at, want[i]);
}

/* Parse a literal message (the buffer must outlive m). */
static inline void fake_parse(struct sip_msg *m, const char *text)
{
	int rc = sip_msg_parse(m, text, strlen(text), SIP_PARSE_DATAGRAM);

	if (rc)
		fail_msg("test message does not parse: %s at %zu", m->err.reason, m->err.offset);
}

/* Parse what was sent as send number i. */
static inline void fake_parse_sent(const struct fake *f, unsigned i, struct sip_msg *m)
{
	assert_true(i < f->nsent);
	assert_int_equal(sip_msg_parse(m, f->sent[i].buf, f->sent[i].len, SIP_PARSE_STREAM), 0);
}

#endif
