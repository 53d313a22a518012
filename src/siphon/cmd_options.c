/* siphon options URI: one OPTIONS (RFC 3261 §11) through the UAC core (any
 * transport, RFC 3263), the status line printed. */
#include "siphon/cli.h"

#include "base/log.h"
#include "ua/uac.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct opt_state {
	bool verbose, json;
	int status;
};

static void on_result(const struct ua_result *res, void *arg)
{
	struct opt_state *c = arg;

	if (res->resp) {
		const struct sip_msg *m = res->resp;

		if (c->verbose) {
			fwrite(m->buf, 1, m->len, stdout);
		} else if (!c->json) {
			ptrdiff_t eol = str_chr(m->head, '\r');

			printf("%.*s\n", (int)(eol >= 0 ? eol : (ptrdiff_t)m->head.len), m->head.s);
		}
		c->status = res->status < 300 ? EXIT_OK : EXIT_REJECTED;
	} else {
		if (!c->json)
			printf("%u %.*s (%s)\n", res->status, STR_FMT(res->reason), res->why);
		c->status = res->status == 408 ? EXIT_TIMEOUT : EXIT_TRANSPORT;
	}
	if (c->json) {
		struct cli_json j;
		char reason[128];

		snprintf(reason, sizeof(reason), "%.*s", STR_FMT(res->reason));
		cli_json_start(&j, "response");
		cli_json_num(&j, "status", res->status);
		cli_json_str(&j, "reason", reason);
		if (!res->resp)
			cli_json_str(&j, "why", res->why);
		cli_json_end(&j);
	}
	fflush(stdout);
}

int cmd_options(struct cli_opts *o)
{
	struct ua_uac_cfg cfg = {
		.local = o->listen,
		.ca_file = o->ca_file,
		.dns_servers = o->dns_server,
		.protos = o->protos,
		.t1_ms = o->t1_ms,
	};
	struct opt_state st = { .verbose = o->verbose, .json = o->json, .status = EXIT_TRANSPORT };
	struct ua_send req = { .method = "OPTIONS" };
	struct ua_uac *u;
	int rc;

	if (o->verbose) {
		cfg.trace = cli_trace;
		cfg.trace_arg = NULL;
	}
	rc = ua_uac_create(&u, &cfg);
	if (rc == -EINVAL) {
		fprintf(stderr, "siphon: bad --local or --dns-server address\n");
		return EXIT_USAGE;
	}
	if (rc) {
		fprintf(stderr, "siphon: cannot start: %s\n", strerror(-rc));
		return EXIT_TRANSPORT;
	}
	req.uri = o->uri;
	req.extra = str_make(o->extra, o->extra_len);
	rc = ua_uac_send(u, &req, on_result, &st);
	if (rc == -EINVAL || rc == -EPROTONOSUPPORT) {
		if (rc == -EPROTONOSUPPORT) /* -EINVAL was logged with its reason */
			fprintf(stderr, "siphon: %s: its transport cannot be used here\n", o->uri);
		ua_uac_destroy(u);
		return EXIT_USAGE;
	}
	if (rc == 0)
		rc = ua_uac_run(u);
	if (rc) {
		fprintf(stderr, "siphon: %s\n", strerror(-rc));
		st.status = EXIT_TRANSPORT;
	}
	ua_uac_destroy(u);
	return st.status;
}
