/* siphon call URI: place a call (or --count N calls one after another),
 * talk for --duration seconds or until the far end hangs up, send --dtmf
 * digits, put the far end on --hold, hang up. Ctrl-C cancels a call that
 * rings and hangs up one that was answered; a second Ctrl-C quits. */
#include "siphon/phone.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct call_state {
	struct phone p;
	struct ua_call *cur;
	uint32_t placed, answered;
	int status, first_fail;
	bool interrupted;
	struct loop_timer t_dur, t_dtmf, t_hold, t_resume, t_next;
};

static void hangup_cur(struct call_state *s)
{
	if (s->cur && !ua_call_ended(s->cur))
		ua_call_hangup(s->cur);
}

static void on_duration(void *arg)
{
	hangup_cur(arg);
}

static void on_dtmf(void *arg)
{
	struct call_state *s = arg;

	if (s->cur && ua_call_dtmf(s->cur, s->p.o->dtmf) < 0)
		fprintf(stderr, "siphon: cannot send DTMF (no telephone-event in the answer?)\n");
}

static void on_hold(void *arg)
{
	struct call_state *s = arg;

	if (s->cur && ua_call_hold(s->cur, true) == 0)
		fprintf(stderr, "siphon: putting the call on hold\n");
}

static void on_resume(void *arg)
{
	struct call_state *s = arg;

	if (s->cur && ua_call_hold(s->cur, false) == 0)
		fprintf(stderr, "siphon: resuming the call\n");
}

static void cancel_timers(struct call_state *s)
{
	struct loop *l = ua_loop(s->p.ua);

	loop_timer_cancel(l, &s->t_dur);
	loop_timer_cancel(l, &s->t_dtmf);
	loop_timer_cancel(l, &s->t_hold);
	loop_timer_cancel(l, &s->t_resume);
}

static void on_answered(struct phone *p, struct ua_call *c)
{
	struct call_state *s = (struct call_state *)p;
	struct loop *l = ua_loop(p->ua);
	const struct cli_opts *o = p->o;

	(void)c;
	s->answered++;
	if (s->interrupted) {
		hangup_cur(s);
		return;
	}
	if (o->duration >= 0)
		loop_timer_add(l, &s->t_dur, (uint64_t)(o->duration * 1000), on_duration, s);
	if (o->dtmf)
		loop_timer_add(l, &s->t_dtmf, 300, on_dtmf, s);
	if (o->hold_at >= 0) {
		loop_timer_add(l, &s->t_hold, (uint64_t)(o->hold_at * 1000), on_hold, s);
		loop_timer_add(l, &s->t_resume, (uint64_t)((o->hold_at + o->hold_len) * 1000),
			       on_resume, s);
	}
}

static int place(struct call_state *s)
{
	struct ua_call_cfg cfg;
	int rc;

	phone_call_cfg(&s->p, &cfg);
	rc = ua_call_out(s->p.ua, s->p.o->uri, &cfg, &s->cur);
	if (rc == 0)
		phone_add(&s->p, s->cur);
	else
		fprintf(stderr, "siphon: cannot call %s: %s\n", s->p.o->uri, strerror(-rc));
	s->placed++;
	return rc;
}

static void on_next(void *arg)
{
	struct call_state *s = arg;

	if (place(s) < 0) {
		s->status = EXIT_MEDIA;
		ua_stop(s->p.ua);
	}
}

static void on_ended(struct phone *p, struct ua_call *c, const struct ua_call_info *i)
{
	struct call_state *s = (struct call_state *)p;
	int st = phone_end_status(i);

	if (c != s->cur)
		return;
	s->cur = NULL;
	cancel_timers(s);
	s->status = st;
	if (st != EXIT_OK && !s->first_fail)
		s->first_fail = st;
	if (!s->interrupted && s->placed < (p->o->count ? p->o->count : 1)) {
		loop_timer_add(ua_loop(p->ua), &s->t_next, 0, on_next, s);
		return;
	}
	ua_stop(p->ua);
}

static void on_signal(int signo, void *arg)
{
	struct call_state *s = arg;

	(void)signo;
	if (s->interrupted || !s->cur) {
		ua_stop(s->p.ua);
		return;
	}
	s->interrupted = true;
	fprintf(stderr, "siphon: interrupted: %s\n",
		ua_call_answered(s->cur) ? "hanging up" : "cancelling");
	hangup_cur(s);
}

static void on_quit(struct phone *p)
{
	on_signal(SIGINT, p);
}

int cmd_call(struct cli_opts *o)
{
	struct call_state s = { .p = { .o = o }, .status = EXIT_TRANSPORT };
	int rc;

	s.p.on_ended = on_ended;
	s.p.on_answered = on_answered;
	s.p.on_quit = on_quit;
	rc = phone_init(&s.p);
	if (rc)
		return rc;
	loop_signal_add(ua_loop(s.p.ua), SIGINT, on_signal, &s);
	loop_signal_add(ua_loop(s.p.ua), SIGTERM, on_signal, &s);
	if (place(&s) < 0) {
		phone_fini(&s.p);
		return EXIT_MEDIA;
	}
	ua_run(s.p.ua);
	cancel_timers(&s);
	loop_timer_cancel(ua_loop(s.p.ua), &s.t_next);
	if (o->count > 1) {
		fprintf(stderr, "siphon: %u calls placed, %u answered\n", (unsigned)s.placed,
			(unsigned)s.answered);
		if (o->json) {
			struct cli_json j;

			cli_json_start(&j, "summary");
			cli_json_num(&j, "placed", s.placed);
			cli_json_num(&j, "answered", s.answered);
			cli_json_end(&j);
		}
	}
	phone_fini(&s.p);
	return o->count > 1 && s.first_fail ? s.first_fail : s.status;
}
