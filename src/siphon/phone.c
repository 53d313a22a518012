/* The softphone shared by `call` and `listen`. */
#include "siphon/phone.h"

#include "media/media.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *end_name(enum ua_call_end e)
{
	switch (e) {
	case UA_END_LOCAL_BYE: return "local_bye";
	case UA_END_REMOTE_BYE: return "remote_bye";
	case UA_END_REJECTED: return "rejected";
	case UA_END_CANCELLED: return "cancelled";
	case UA_END_TIMEOUT: return "timeout";
	case UA_END_NETWORK: return "network";
	case UA_END_AUTH: return "auth";
	case UA_END_MEDIA: return "media";
	default: return "none";
	}
}

int phone_end_status(const struct ua_call_info *i)
{
	switch (i->end) {
	case UA_END_LOCAL_BYE:
	case UA_END_REMOTE_BYE:
		return EXIT_OK;
	case UA_END_REJECTED:
		return cli_status_exit(i->status, false, false);
	case UA_END_CANCELLED:
		return EXIT_CANCELLED;
	case UA_END_TIMEOUT:
		return EXIT_TIMEOUT;
	case UA_END_NETWORK:
		return EXIT_TRANSPORT;
	case UA_END_AUTH:
		return EXIT_AUTH;
	case UA_END_MEDIA:
		return EXIT_MEDIA;
	default:
		return EXIT_REJECTED;
	}
}

static void on_reap(void *arg)
{
	struct phone *p = arg;

	for (size_t i = 0; i < PHONE_CALLS; i++) {
		ua_call_free(p->dead[i]);
		p->dead[i] = NULL;
	}
}

static void print_end(struct phone *p, struct ua_call *c, const struct ua_call_info *i)
{
	struct media_stats st;
	double secs = (double)ua_call_duration_ms(c) / 1000.0;

	ua_call_stats(c, &st);
	fprintf(stderr,
		"siphon: call %s: %s%s%s (status %d) after %.1f s; RTP sent %llu, received %llu, "
		"lost %llu, jitter %.1f ms\n",
		ua_call_peer(c), end_name(i->end), i->text ? ": " : "", i->text ? i->text : "",
		i->status, secs, (unsigned long long)st.pkts_sent, (unsigned long long)st.pkts_recv,
		(unsigned long long)st.pkts_lost, st.jitter_ms);
	if (p->o->json) {
		struct cli_json j;

		cli_json_start(&j, "ended");
		cli_json_str(&j, "reason", end_name(i->end));
		cli_json_num(&j, "status", i->status);
		cli_json_num(&j, "duration", secs);
		cli_json_num(&j, "rtp_sent", (double)st.pkts_sent);
		cli_json_num(&j, "rtp_recv", (double)st.pkts_recv);
		cli_json_num(&j, "rtp_lost", (double)st.pkts_lost);
		cli_json_num(&j, "dtmf_sent", st.dtmf_sent);
		cli_json_num(&j, "dtmf_recv", st.dtmf_recv);
		cli_json_num(&j, "exit", phone_end_status(i));
		cli_json_end(&j);
	}
}

static void on_call_event(void *arg, struct ua_call *c, const struct ua_call_info *i)
{
	struct phone *p = arg;
	struct cli_json j;

	switch (i->ev) {
	case UA_CALL_EV_RINGING:
		fprintf(stderr, "siphon: ringing (%d)\n", i->status);
		if (p->o->json) {
			cli_json_start(&j, "ringing");
			cli_json_num(&j, "status", i->status);
			cli_json_end(&j);
		}
		break;
	case UA_CALL_EV_ANSWERED:
		fprintf(stderr, "siphon: answered\n");
		if (p->o->json) {
			cli_json_start(&j, "answered");
			cli_json_str(&j, "peer", ua_call_peer(c));
			cli_json_end(&j);
		}
		if (p->on_answered)
			p->on_answered(p, c);
		break;
	case UA_CALL_EV_REDIRECT:
		fprintf(stderr, "siphon: redirected (%d) to %s\n", i->status, i->text);
		if (p->o->json) {
			cli_json_start(&j, "redirected");
			cli_json_num(&j, "status", i->status);
			cli_json_str(&j, "target", i->text);
			cli_json_end(&j);
		}
		break;
	case UA_CALL_EV_HOLD:
		fprintf(stderr, "siphon: media direction now %s\n", i->text);
		if (p->o->json) {
			cli_json_start(&j, "media");
			cli_json_str(&j, "dir", i->text);
			cli_json_end(&j);
		}
		break;
	case UA_CALL_EV_DTMF:
		p->dtmf++;
		fprintf(stderr, "siphon: DTMF %s\n", i->text);
		if (p->o->json) {
			cli_json_start(&j, "dtmf");
			cli_json_str(&j, "digit", i->text);
			cli_json_end(&j);
		}
		break;
	case UA_CALL_EV_ENDED:
		print_end(p, c, i);
		for (size_t k = 0; k < PHONE_CALLS; k++) {
			if (p->calls[k] == c) {
				p->calls[k] = NULL;
				for (size_t d = 0; d < PHONE_CALLS; d++) {
					if (!p->dead[d]) {
						p->dead[d] = c;
						break;
					}
				}
			}
		}
		loop_timer_add(ua_loop(p->ua), &p->reap, 0, on_reap, p);
		if (p->on_ended)
			p->on_ended(p, c, i);
		break;
	}
}

static void on_message(struct phone *p, struct ua_srv *s, const struct sip_msg *m)
{
	char from[256], text[1024];

	p->messages++;
	snprintf(from, sizeof(from), "%.*s", STR_FMT(m->from.uri));
	snprintf(text, sizeof(text), "%.*s", STR_FMT(m->body));
	ua_srv_respond(s, 200, NULL, NULL); /* RFC 3428 §7: 200 OK */
	fprintf(stderr, "siphon: MESSAGE from %s: %s\n", from, text);
	if (p->o->json) {
		struct cli_json j;

		cli_json_start(&j, "message");
		cli_json_str(&j, "from", from);
		cli_json_str(&j, "text", text);
		cli_json_end(&j);
	} else {
		printf("%s: %s\n", from, text);
		fflush(stdout);
	}
}

static void on_request(void *arg, struct ua_srv *s, const struct sip_msg *m)
{
	struct phone *p = arg;

	for (size_t i = 0; i < PHONE_CALLS; i++)
		if (p->calls[i] && ua_call_request(p->calls[i], s, m))
			return;
	if (m->method_id == SIP_METHOD_ACK)
		return;
	if (m->method_id == SIP_METHOD_MESSAGE) {
		on_message(p, s, m);
		return;
	}
	if (m->to.has_tag) {
		ua_srv_respond(s, 481, NULL, NULL); /* §12.2.2: no such dialog */
		return;
	}
	if (m->method_id == SIP_METHOD_INVITE) {
		if (p->on_invite)
			p->on_invite(p, s);
		else
			ua_srv_respond(s, 486, NULL, NULL);
		return;
	}
	ua_srv_respond(s, 405, NULL, NULL);
}

static void on_cancel(void *arg, struct ua_srv *invite)
{
	struct phone *p = arg;

	for (size_t i = 0; i < PHONE_CALLS; i++)
		if (p->calls[i] && ua_call_cancelled(p->calls[i], invite))
			return;
	ua_srv_respond(invite, 487, NULL, NULL);
}

/* --interactive: one command per line on stdin. */
static void command(struct phone *p, const char *cmd)
{
	bool any = false;

	if (strcmp(cmd, "q") == 0) {
		if (p->on_quit)
			p->on_quit(p);
		return;
	}
	for (size_t i = 0; i < PHONE_CALLS; i++) {
		struct ua_call *c = p->calls[i];
		int rc = 0;

		if (!c)
			continue;
		any = true;
		if (strcmp(cmd, "a") == 0)
			rc = ua_call_answer(c);
		else if (strcmp(cmd, "h") == 0)
			rc = ua_call_hangup(c);
		else if (strcmp(cmd, "hold") == 0 || strcmp(cmd, "resume") == 0)
			rc = ua_call_hold(c, cmd[0] == 'h');
		else if (cmd[0] && strspn(cmd, "0123456789*#ABCD") == strlen(cmd))
			rc = ua_call_dtmf(c, cmd);
		else
			rc = -EINVAL;
		if (rc < 0)
			fprintf(stderr, "siphon: '%s': %s\n", cmd,
				rc == -EINVAL ? "not now (or unknown: a, h, hold, resume, digits, q)"
					      : strerror(-rc));
	}
	if (!any && cmd[0])
		fprintf(stderr, "siphon: no call ('q' quits)\n");
}

static void on_stdin(int fd, unsigned events, void *arg)
{
	struct phone *p = arg;
	char buf[128];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n <= 0) {
		/* end of input: stop reading (the duration or Ctrl-C ends the run) */
		loop_fd_del(ua_loop(p->ua), fd);
		p->stdin_on = false;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			p->line[p->line_len] = 0;
			if (p->line_len)
				command(p, p->line);
			p->line_len = 0;
		} else if (p->line_len + 1 < sizeof(p->line)) {
			p->line[p->line_len++] = buf[i];
		}
	}
}

int phone_init(struct phone *p)
{
	int rc = cli_ua_create(p->o, &p->ua);

	if (rc)
		return rc;
	ua_set_handler(p->ua, on_request, on_cancel, p);
	if (p->o->interactive) {
		if (loop_fd_add(ua_loop(p->ua), STDIN_FILENO, LOOP_READ, on_stdin, p) == 0)
			p->stdin_on = true;
		fprintf(stderr, "siphon: commands: a (answer), h (hang up), hold, resume, "
				"DTMF digits, q (quit)\n");
	}
	return 0;
}

void phone_fini(struct phone *p)
{
	for (size_t i = 0; i < PHONE_CALLS; i++) {
		ua_call_free(p->calls[i]);
		ua_call_free(p->dead[i]);
		p->calls[i] = p->dead[i] = NULL;
	}
	ua_reg_free(p->reg);
	p->reg = NULL;
	if (p->ua && p->stdin_on)
		loop_fd_del(ua_loop(p->ua), STDIN_FILENO);
	p->stdin_on = false;
	if (p->ua)
		loop_timer_cancel(ua_loop(p->ua), &p->reap);
	ua_destroy(p->ua);
	p->ua = NULL;
}

void phone_call_cfg(struct phone *p, struct ua_call_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->play_wav = p->o->play;
	cfg->record_wav = p->o->record;
	cfg->cb = on_call_event;
	cfg->arg = p;
}

int phone_add(struct phone *p, struct ua_call *c)
{
	for (size_t i = 0; i < PHONE_CALLS; i++) {
		if (!p->calls[i]) {
			p->calls[i] = c;
			return 0;
		}
	}
	return -ENOSPC;
}

size_t phone_ncalls(const struct phone *p)
{
	size_t n = 0;

	for (size_t i = 0; i < PHONE_CALLS; i++)
		n += p->calls[i] != NULL;
	return n;
}
