/* siphon register: register --user, keep it refreshed, unregister at the
 * end of --duration or on Ctrl-C (RFC 3261 §10.2). */
#include "siphon/cli.h"

#include "ua/reg.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct reg_state {
	const struct cli_opts *o;
	struct ua *ua;
	struct ua_reg *reg;
	struct loop_timer end, guard;
	bool ending;
	int status;
};

static void stop_now(void *arg)
{
	struct reg_state *s = arg;

	ua_stop(s->ua);
}

static void end(struct reg_state *s)
{
	if (s->ending) {
		ua_stop(s->ua);
		return;
	}
	s->ending = true;
	if (ua_reg_stop(s->reg) < 0) {
		ua_stop(s->ua);
		return;
	}
	/* the unregister has 32 s by the transaction's timers; do not wait that long */
	loop_timer_add(ua_loop(s->ua), &s->guard, 5000, stop_now, s);
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

static void on_reg(void *arg, int status, uint32_t expires, bool auth_failed, const char *why)
{
	struct reg_state *s = arg;

	if (s->o->json) {
		struct cli_json j;

		cli_json_start(&j, status >= 200 && status < 300
				       ? (s->ending ? "unregistered" : "registered")
				       : "register_failed");
		cli_json_num(&j, "status", status);
		cli_json_num(&j, "expires", expires);
		if (why)
			cli_json_str(&j, "why", why);
		cli_json_end(&j);
	}
	if (status >= 200 && status < 300) {
		if (s->ending) {
			fprintf(stderr, "siphon: unregistered %s\n", ua_aor(s->ua));
			ua_stop(s->ua);
		} else {
			fprintf(stderr, "siphon: registered %s as %s for %u s\n", ua_aor(s->ua),
				ua_contact(s->ua), (unsigned)expires);
		}
		return;
	}
	fprintf(stderr, "siphon: REGISTER failed: %d%s%s\n", status, why ? " " : "", why ? why : "");
	if (!s->ending)
		s->status = cli_status_exit(status, why != NULL, auth_failed);
	ua_stop(s->ua);
}

int cmd_register(struct cli_opts *o)
{
	struct reg_state s = { .o = o, .status = EXIT_OK };
	int rc;

	if (!o->user) {
		fprintf(stderr, "siphon: register needs --user\n");
		return EXIT_USAGE;
	}
	rc = cli_ua_create(o, &s.ua);
	if (rc)
		return rc;
	loop_signal_add(ua_loop(s.ua), SIGINT, on_signal, &s);
	loop_signal_add(ua_loop(s.ua), SIGTERM, on_signal, &s);
	rc = ua_reg_start(s.ua, o->expires ? o->expires : 3600, on_reg, &s, &s.reg);
	if (rc) {
		fprintf(stderr, "siphon: cannot register: %s\n", strerror(-rc));
		ua_destroy(s.ua);
		return EXIT_USAGE;
	}
	if (o->duration >= 0)
		loop_timer_add(ua_loop(s.ua), &s.end, (uint64_t)(o->duration * 1000), on_end, &s);
	ua_run(s.ua);
	ua_reg_free(s.reg);
	ua_destroy(s.ua);
	return s.status;
}
