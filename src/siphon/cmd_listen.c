/* siphon listen: register --user (when given), then answer (--auto-answer,
 * after --answer-after seconds of ringing) or reject (--reject CODE) the
 * calls that come in, print MESSAGEs and DTMF, for --duration seconds or
 * until Ctrl-C; then hang up, unregister and exit. */
#include "siphon/phone.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct listen_state {
	struct phone p;
	struct ua_call *ringing;
	struct loop_timer t_end, t_answer, t_guard, t_dtmf;
	bool ending;
	int status;
	unsigned calls;
};

static void stop_now(void *arg)
{
	struct listen_state *s = arg;

	ua_stop(s->p.ua);
}

static void maybe_stop(struct listen_state *s)
{
	if (!s->ending)
		return;
	if (phone_ncalls(&s->p) == 0 && (!s->p.reg || !ua_reg_registered(s->p.reg)))
		ua_stop(s->p.ua);
}

static void end(struct listen_state *s)
{
	if (s->ending) {
		ua_stop(s->p.ua);
		return;
	}
	s->ending = true;
	for (size_t i = 0; i < PHONE_CALLS; i++)
		if (s->p.calls[i])
			ua_call_hangup(s->p.calls[i]);
	if (s->p.reg && ua_reg_stop(s->p.reg) < 0) {
		ua_reg_free(s->p.reg);
		s->p.reg = NULL;
	}
	loop_timer_add(ua_loop(s->p.ua), &s->t_guard, 5000, stop_now, s);
	maybe_stop(s);
}

static void on_end(void *arg)
{
	end(arg);
}

static void on_signal(int signo, void *arg)
{
	(void)signo;
	end(arg);
}

static void on_answer(void *arg)
{
	struct listen_state *s = arg;

	if (s->ringing && !ua_call_ended(s->ringing))
		ua_call_answer(s->ringing);
	s->ringing = NULL;
}

static void on_invite(struct phone *p, struct ua_srv *srv)
{
	struct listen_state *s = (struct listen_state *)p;
	const struct cli_opts *o = p->o;
	const struct sip_msg *m = ua_srv_msg(srv);
	struct ua_call_cfg cfg;
	struct ua_call *c;
	char from[256];

	if (s->ending || phone_ncalls(p) > 0) {
		ua_srv_respond(srv, 486, NULL, NULL); /* one call at a time */
		return;
	}
	snprintf(from, sizeof(from), "%.*s", STR_FMT(m->from.uri));
	phone_call_cfg(p, &cfg);
	if (ua_call_in(p->ua, srv, &cfg, &c) < 0)
		return;
	phone_add(p, c);
	s->calls++;
	fprintf(stderr, "siphon: incoming call from %s\n", from);
	if (o->json) {
		struct cli_json j;

		cli_json_start(&j, "incoming");
		cli_json_str(&j, "from", from);
		cli_json_end(&j);
	}
	if (o->reject) {
		ua_call_reject(c, (uint16_t)o->reject);
		return;
	}
	if (o->auto_answer) {
		s->ringing = c;
		loop_timer_add(ua_loop(p->ua), &s->t_answer, (uint64_t)(o->answer_after * 1000),
			       on_answer, s);
	}
}

static void on_dtmf_send(void *arg)
{
	struct listen_state *s = arg;

	for (size_t i = 0; i < PHONE_CALLS; i++)
		if (s->p.calls[i])
			ua_call_dtmf(s->p.calls[i], s->p.o->dtmf);
}

static void on_answered(struct phone *p, struct ua_call *c)
{
	struct listen_state *s = (struct listen_state *)p;

	(void)c;
	if (p->o->dtmf)
		loop_timer_add(ua_loop(p->ua), &s->t_dtmf, 300, on_dtmf_send, s);
}

static void on_ended(struct phone *p, struct ua_call *c, const struct ua_call_info *i)
{
	struct listen_state *s = (struct listen_state *)p;

	if (c == s->ringing)
		s->ringing = NULL;
	(void)i;
	maybe_stop(s);
}

static void on_reg(void *arg, int status, uint32_t expires, bool auth_failed, const char *why)
{
	struct listen_state *s = arg;
	const char *ev = status >= 200 && status < 300 ? (s->ending ? "unregistered" : "registered")
						    : "register_failed";

	if (s->p.o->json) {
		struct cli_json j;

		cli_json_start(&j, ev);
		cli_json_num(&j, "status", status);
		cli_json_num(&j, "expires", expires);
		cli_json_end(&j);
	}
	fprintf(stderr, "siphon: %s (%d)%s%s\n", ev, status, why ? " " : "", why ? why : "");
	if (status >= 300 && !s->ending) {
		s->status = cli_status_exit(status, why != NULL, auth_failed);
		ua_stop(s->p.ua);
		return;
	}
	maybe_stop(s);
}

static void on_quit(struct phone *p)
{
	end((struct listen_state *)p);
}

int cmd_listen(struct cli_opts *o)
{
	struct listen_state s = { .p = { .o = o }, .status = EXIT_OK };
	int rc;

	if (o->reject && (o->reject < 300 || o->reject > 699)) {
		fprintf(stderr, "siphon: --reject: expected a code from 300 to 699\n");
		return EXIT_USAGE;
	}
	s.p.on_invite = on_invite;
	s.p.on_ended = on_ended;
	s.p.on_answered = on_answered;
	s.p.on_quit = on_quit;
	rc = phone_init(&s.p);
	if (rc)
		return rc;
	loop_signal_add(ua_loop(s.p.ua), SIGINT, on_signal, &s);
	loop_signal_add(ua_loop(s.p.ua), SIGTERM, on_signal, &s);
	fprintf(stderr, "siphon: listening on %s\n", ua_contact(s.p.ua));
	if (o->json) {
		struct cli_json j;

		cli_json_start(&j, "listening");
		cli_json_str(&j, "contact", ua_contact(s.p.ua));
		cli_json_end(&j);
	}
	if (o->user && !o->no_register) {
		rc = ua_reg_start(s.p.ua, o->expires ? o->expires : 3600, on_reg, &s, &s.p.reg);
		if (rc) {
			fprintf(stderr, "siphon: cannot register: %s\n", strerror(-rc));
			phone_fini(&s.p);
			return EXIT_USAGE;
		}
	}
	if (o->duration >= 0)
		loop_timer_add(ua_loop(s.p.ua), &s.t_end, (uint64_t)(o->duration * 1000), on_end, &s);
	ua_run(s.p.ua);
	{
		struct loop *l = ua_loop(s.p.ua);

		loop_timer_cancel(l, &s.t_end);
		loop_timer_cancel(l, &s.t_answer);
		loop_timer_cancel(l, &s.t_guard);
		loop_timer_cancel(l, &s.t_dtmf);
	}
	phone_fini(&s.p);
	return s.status;
}
