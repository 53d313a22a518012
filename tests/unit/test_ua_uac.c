/* UAC core over loopback UDP: a peer socket on the uac's own loop plays the
 * UAS (RFC 3261 §17.1.2: retransmissions, Timer F, response matching). */
#include "harness.h"

#include "base/loop.h"
#include "msg/msg.h"
#include "ua/uac.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
	int fd;
	uint16_t port;
	unsigned copies;      /* requests received */
	unsigned answer_at;   /* answer the Nth copy (0: never) */
	char branch[64];
	bool same_branch;     /* every copy had the first copy's branch */
};

struct outcome {
	int calls;
	uint16_t status;
	int err;
	bool had_resp;
};

static char rbuf[8192], sbuf[8192];
static struct sip_msg rm;

/* Copy Via/From/To/Call-ID/CSeq lines of the request into a response. */
static int reply(char *out, size_t cap, const char *req, size_t len, const char *status,
		 const char *branch_override)
{
	size_t n = (size_t)snprintf(out, cap, "SIP/2.0 %s\r\n", status);
	const char *p = strstr(req, "\r\n") + 2, *end = req + len;

	while (p < end && !(p[0] == '\r' && p[1] == '\n')) {
		const char *eol = strstr(p, "\r\n");
		size_t l = (size_t)(eol - p) + 2;

		if (!strncmp(p, "Via:", 4) || !strncmp(p, "From:", 5) || !strncmp(p, "To:", 3) ||
		    !strncmp(p, "Call-ID:", 8) || !strncmp(p, "CSeq:", 5)) {
			if (branch_override && !strncmp(p, "Via:", 4))
				n += (size_t)snprintf(out + n, cap - n,
						      "Via: SIP/2.0/UDP 127.0.0.1;branch=%s\r\n",
						      branch_override);
			else {
				memcpy(out + n, p, l);
				n += l;
			}
		}
		p = eol + 2;
	}
	n += (size_t)snprintf(out + n, cap - n, "Content-Length: 0\r\n\r\n");
	return (int)n;
}

static void on_peer(int fd, unsigned events, void *arg)
{
	struct peer *p = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n;

	(void)events;
	while ((n = recvfrom(fd, rbuf, sizeof(rbuf) - 1, 0, (struct sockaddr *)&ss, &sl)) > 0) {
		char b[64] = "";

		rbuf[n] = '\0';
		assert_int_equal(sip_msg_parse(&rm, rbuf, (size_t)n, SIP_PARSE_DATAGRAM), 0);
		snprintf(b, sizeof(b), "%.*s", STR_FMT(rm.via1.branch));
		if (p->copies++ == 0) {
			strcpy(p->branch, b);
			p->same_branch = true;
		} else if (strcmp(b, p->branch) != 0) {
			p->same_branch = false;
		}
		if (p->answer_at && p->copies == p->answer_at) {
			/* a stray response first: another branch, same everything else */
			int len = reply(sbuf, sizeof(sbuf), rbuf, (size_t)n, "486 Busy Here",
					"z9hG4bKstray");
			sendto(fd, sbuf, (size_t)len, 0, (struct sockaddr *)&ss, sl);
			len = reply(sbuf, sizeof(sbuf), rbuf, (size_t)n, "200 OK", NULL);
			sendto(fd, sbuf, (size_t)len, 0, (struct sockaddr *)&ss, sl);
		}
		sl = sizeof(ss);
	}
}

static void peer_open(struct peer *p, struct loop *l)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(p->fd >= 0);
	assert_int_equal(bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(p->fd, (struct sockaddr *)&sa, &sl), 0);
	p->port = ntohs(sa.sin_port);
	assert_int_equal(loop_fd_add(l, p->fd, LOOP_READ, on_peer, p), 0);
}

static void peer_close(struct peer *p, struct loop *l)
{
	loop_fd_del(l, p->fd);
	close(p->fd);
}

static void on_result(const struct ua_result *res, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->status = res->status;
	o->err = res->err;
	o->had_resp = res->resp != NULL;
	assert_true(res->has_target);
}

static int run_options(uint32_t t1, unsigned answer_at, struct peer *p, struct outcome *o)
{
	struct ua_uac_cfg cfg = { .t1_ms = t1, .local = "127.0.0.1" };
	struct ua_uac *u;
	char uri[64];

	memset(p, 0, sizeof(*p));
	memset(o, 0, sizeof(*o));
	p->answer_at = answer_at;
	assert_int_equal(ua_uac_create(&u, &cfg), 0);
	peer_open(p, ua_uac_loop(u));
	snprintf(uri, sizeof(uri), "sip:127.0.0.1:%u", p->port);
	assert_int_equal(ua_uac_options(u, uri, on_result, o), 0);
	assert_int_equal(ua_uac_run(u), 0);
	peer_close(p, ua_uac_loop(u));
	ua_uac_destroy(u);
	return 0;
}

static void test_answer_after_retransmission(void **state)
{
	struct peer p;
	struct outcome o;

	(void)state;
	run_options(20, 2, &p, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, 200); /* the stray 486 went nowhere */
	assert_true(o.had_resp);
	assert_int_equal(p.copies, 2);
	assert_true(p.same_branch);
}

static void test_timer_f(void **state)
{
	struct peer p;
	struct outcome o;

	(void)state;
	/* T1 = 25: copies at 0, 25, 75, 175, 375, 775, 1575; Timer F at 1600.
	 * The last copy is only T1 before F, and Timer E re-arms from when it
	 * fired, so a stalled machine may lose it: the exact count is checked
	 * against SIPp in tests/integration/test_uac_options.py. */
	run_options(25, 0, &p, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, 408);
	assert_int_equal(o.err, -ETIMEDOUT);
	assert_false(o.had_resp);
	assert_in_range(p.copies, 6, 7);
	assert_true(p.same_branch);
}

/* ---- RFC 3261 §18.1.1: a large request goes over TCP ---- */

struct tcp_peer {
	struct loop *l;
	int lfd, cfd;
	unsigned conns;
	char got[8192];
	size_t len;
};

struct sized {
	struct outcome o;
	enum tp_proto proto; /* the target the result names */
};

static void on_tcp_data(int fd, unsigned events, void *arg)
{
	struct tcp_peer *t = arg;
	ssize_t n;

	(void)events;
	while ((n = read(fd, t->got + t->len, sizeof(t->got) - 1 - t->len)) > 0)
		t->len += (size_t)n;
	t->got[t->len] = '\0';
	/* the whole request (Content-Length: 0): hang up, the uac gets a 503 */
	if (n == 0 || strstr(t->got, "\r\n\r\n")) {
		loop_fd_del(t->l, fd);
		close(fd);
		t->cfd = -1;
	}
}

static void on_tcp_accept(int fd, unsigned events, void *arg)
{
	struct tcp_peer *t = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (c < 0)
		return;
	t->conns++;
	t->cfd = c;
	assert_int_equal(loop_fd_add(t->l, c, LOOP_READ, on_tcp_data, t), 0);
}

/* Listen on TCP at port (the UDP peer's); false if that TCP port is taken. */
static bool tcp_peer_open(struct tcp_peer *t, struct loop *l, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	memset(t, 0, sizeof(*t));
	t->l = l;
	t->cfd = -1;
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(t->lfd >= 0);
	if (bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(t->lfd);
		t->lfd = -1;
		return false;
	}
	assert_int_equal(listen(t->lfd, 4), 0);
	assert_int_equal(loop_fd_add(l, t->lfd, LOOP_READ, on_tcp_accept, t), 0);
	return true;
}

static void tcp_peer_close(struct tcp_peer *t)
{
	if (t->cfd >= 0) {
		loop_fd_del(t->l, t->cfd);
		close(t->cfd);
	}
	loop_fd_del(t->l, t->lfd);
	close(t->lfd);
}

static void on_sized(const struct ua_result *res, void *arg)
{
	struct sized *z = arg;

	on_result(res, &z->o);
	z->proto = res->proto;
}

/* OPTIONS with pad bytes of extra header to a UDP and a TCP peer on one
 * port; uri_param is appended to the URI. */
static void run_sized(unsigned protos, size_t pad, const char *uri_param, struct peer *p,
		      struct tcp_peer *t, struct sized *z)
{
	struct ua_uac_cfg cfg = { .t1_ms = 20, .local = "127.0.0.1", .protos = protos };
	static char extra[2048];
	struct ua_send s = { .method = "OPTIONS" };
	struct ua_uac *u;
	char uri[80];

	memset(p, 0, sizeof(*p));
	memset(z, 0, sizeof(*z));
	p->answer_at = 1;
	assert_true(pad + 16 < sizeof(extra));
	memcpy(extra, "X-Pad: ", 7);
	memset(extra + 7, 'x', pad);
	memcpy(extra + 7 + pad, "\r\n", 2);
	s.extra = str_make(extra, pad + 9);
	assert_int_equal(ua_uac_create(&u, &cfg), 0);
	/* the UDP peer's ephemeral port may be taken for TCP: try another */
	for (int tries = 0;; tries++) {
		peer_open(p, ua_uac_loop(u));
		if (tcp_peer_open(t, ua_uac_loop(u), p->port))
			break;
		peer_close(p, ua_uac_loop(u));
		assert_true(tries < 50);
	}
	snprintf(uri, sizeof(uri), "sip:127.0.0.1:%u%s", p->port, uri_param);
	s.uri = uri;
	assert_int_equal(ua_uac_send(u, &s, on_sized, z), 0);
	assert_int_equal(ua_uac_run(u), 0);
	tcp_peer_close(t);
	peer_close(p, ua_uac_loop(u));
	ua_uac_destroy(u);
	assert_int_equal(z->o.calls, 1);
}

static void test_size_picks_transport(void **state)
{
	struct peer p;
	struct tcp_peer t;
	struct sized z;

	(void)state;
	/* small: UDP, answered */
	run_sized(0, 100, "", &p, &t, &z);
	assert_int_equal(z.o.status, 200);
	assert_int_equal(z.proto, TP_UDP);
	assert_int_equal(p.copies, 1);
	assert_int_equal(t.conns, 0);

	/* over 1300 bytes: the same target over TCP, the Via saying so; the
	 * peer hangs up, which fails the (only) target: 503 */
	run_sized(0, 1400, "", &p, &t, &z);
	assert_int_equal(p.copies, 0);
	assert_int_equal(t.conns, 1);
	assert_int_equal(z.proto, TP_TCP);
	assert_int_equal(z.o.status, 503);
	assert_non_null(strstr(t.got, "\r\nVia: SIP/2.0/TCP 127.0.0.1:"));
	assert_non_null(strstr(t.got, ";transport=tcp>"));
	assert_true(t.len > 1300);

	/* transport=udp in the URI, or UDP only: UDP whatever the size */
	run_sized(0, 1400, ";transport=udp", &p, &t, &z);
	assert_int_equal(z.o.status, 200);
	assert_int_equal(z.proto, TP_UDP);
	assert_int_equal(p.copies, 1);
	assert_int_equal(t.conns, 0);
	run_sized(1u << TP_UDP, 1400, "", &p, &t, &z);
	assert_int_equal(z.o.status, 200);
	assert_int_equal(p.copies, 1);
	assert_int_equal(t.conns, 0);
}

static void never(const struct ua_result *res, void *arg)
{
	(void)res;
	(void)arg;
	fail_msg("no callback after destroy");
}

static void test_destroy_in_flight_and_bad_input(void **state)
{
	struct ua_uac_cfg cfg = { .local = "127.0.0.1:0" };
	struct ua_send s = { .method = "ACK", .uri = "sip:127.0.0.1" };
	struct ua_uac *u;

	(void)state;
	assert_int_equal(ua_uac_create(&u, &cfg), 0);
	assert_int_equal(ua_uac_options(u, "sip:127.0.0.1:9", never, NULL), 0);
	assert_int_equal(ua_uac_options(u, "tel:+123", never, NULL), -EINVAL);
	assert_int_equal(ua_uac_options(u, "sips:127.0.0.1;transport=udp", never, NULL),
			 -EPROTONOSUPPORT);
	assert_int_equal(ua_uac_send(u, &s, never, NULL), -EINVAL);
	ua_uac_destroy(u); /* the OPTIONS in flight goes without a callback */

	cfg.local = "nonsense";
	assert_int_equal(ua_uac_create(&u, &cfg), -EINVAL);
	cfg.local = "[::1]:5070";
	assert_int_equal(ua_uac_create(&u, &cfg), 0);
	ua_uac_destroy(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_answer_after_retransmission),
		SIPHON_TEST(test_timer_f),
		SIPHON_TEST(test_size_picks_transport),
		SIPHON_TEST(test_destroy_in_flight_and_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
