/* siphon message URI TEXT: one MESSAGE (RFC 3428) with a text/plain body;
 * the exit status says how it was answered. */
#include "siphon/cli.h"

#include <stdio.h>
#include <string.h>

struct msg_state {
	const struct cli_opts *o;
	struct ua *ua;
	int status;
};

static void on_result(void *arg, struct ua_out *out, int status, const struct sip_msg *m,
		      const char *why)
{
	struct msg_state *s = arg;
	char reason[128];

	(void)out;
	if (status < 200)
		return;
	snprintf(reason, sizeof(reason), "%.*s", m ? (int)m->reason.len : 0, m ? m->reason.s : why);
	s->status = cli_status_exit(status, m == NULL, ua_out_auth_failed(out));
	if (s->o->json) {
		struct cli_json j;

		cli_json_start(&j, "response");
		cli_json_num(&j, "status", status);
		cli_json_str(&j, "reason", reason);
		cli_json_end(&j);
	} else {
		printf("%d %s\n", status, reason);
		fflush(stdout);
	}
	ua_stop(s->ua);
}

int cmd_message(struct cli_opts *o)
{
	struct msg_state s = { .o = o, .status = EXIT_TRANSPORT };
	struct ua_req_desc d = {
		.method = "MESSAGE",
		.ruri = o->uri,
		.ctype = "text/plain;charset=UTF-8",
		.body = o->text,
	};
	int rc = cli_ua_create(o, &s.ua);

	if (rc)
		return rc;
	/* RFC 3428 §7: a MESSAGE carries no Contact; ua_request_build always
	 * writes one, which the recipient ignores */
	rc = ua_out_send(s.ua, &d, on_result, &s, NULL);
	if (rc) {
		fprintf(stderr, "siphon: %s: cannot send: %s\n", o->uri, strerror(-rc));
		ua_destroy(s.ua);
		return EXIT_USAGE;
	}
	ua_run(s.ua);
	ua_destroy(s.ua);
	return s.status;
}
