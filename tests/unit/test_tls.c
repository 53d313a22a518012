/* TLS over the stream transport: a server and a client in one loop over
 * loopback, with certificates made at run time by the openssl CLI in a temp
 * dir (a CA, a server certificate for localhost / 127.0.0.1 / ::1 signed by
 * it, an unrelated second CA). Handshakes that must succeed and must fail
 * (wrong CA, wrong name or address, TLS 1.1, no handshake, not TLS at all),
 * SIP framing through TLS records cut at random points, orderly close,
 * context errors, allocation failures. */
#include "harness.h"

#include "base/loop.h"
#include "base/mem.h"
#include "transport/tcp.h"
#include "transport/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char dir[64];
static char ca[128], ca2[128], srv_crt[128], srv_key[128], bad_pem[128];

static const char *const files[] = { "ca.key", "ca.crt", "ca2.key", "ca2.crt", "srv.key",
				     "srv.csr", "srv.crt", "ext.cnf", "bad.pem" };

/* ---- certificates ---- */

static int run_cmd(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -rc;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

static void path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int make_ca(const char *name, const char *cn)
{
	char key[128], crt[128], subj[96];
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
			 "-days", "2", "-subj", subj, NULL };

	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, name);
	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	return run_cmd(argv);
}

static int write_file(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	path(p, sizeof(p), name);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
	char csr[128], ext[128], cakey[128];
	char *req[] = { "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", srv_key, "-out", csr,
			"-subj", "/CN=localhost", NULL };
	char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
			 "-set_serial", "2", "-days", "2", "-extfile", ext, "-out", srv_crt, NULL };

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* the legacy client below writes with plain write() */
	snprintf(dir, sizeof(dir), "/tmp/siphon-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	path(ca, sizeof(ca), "ca.crt");
	path(ca2, sizeof(ca2), "ca2.crt");
	path(cakey, sizeof(cakey), "ca.key");
	path(srv_crt, sizeof(srv_crt), "srv.crt");
	path(srv_key, sizeof(srv_key), "srv.key");
	path(bad_pem, sizeof(bad_pem), "bad.pem");
	path(csr, sizeof(csr), "srv.csr");
	path(ext, sizeof(ext), "ext.cnf");
	if (make_ca("ca", "Siphon Test CA") < 0 || make_ca("ca2", "Unrelated CA") < 0 ||
	    write_file("ext.cnf", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
				  "basicConstraints=CA:FALSE\n"
				  "extendedKeyUsage=serverAuth\n") < 0 ||
	    write_file("bad.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
				  "-----END CERTIFICATE-----\n") < 0 ||
	    run_cmd(req) < 0 || run_cmd(sign) < 0) {
		fprintf(stderr, "cannot make test certificates with the openssl CLI\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char p[128];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path(p, sizeof(p), files[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

/* ---- fixture: a TLS server and a client transport in one loop ---- */

struct fx;

struct side {
	struct fx *f;
	struct tp_tcp *tcp;
	struct tp_tcp_conn *conn;
	int ups, downs, down_err;
	char rx[32768];
	size_t rx_len;
	int msgs;
};

struct fx {
	struct loop *l;
	struct side srv, cli;
	struct tp_tls_ctx *srv_ctx, *cli_ctx;
	struct tp_addr addr;
	struct loop_timer guard;
	bool (*done)(struct fx *f);
	bool timed_out;
	bool echo; /* the server sends every message back */
};

static void check_done(struct fx *f)
{
	if (f->done && f->done(f))
		loop_stop(f->l);
}

/* Frame by Content-Length (enough for the test's own messages). */
static ssize_t on_recv(struct tp_tcp_conn *c, const char *buf, size_t len, void *arg)
{
	struct side *s = arg;
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;
	size_t head, body = 0, total;

	if (!end)
		return 0;
	head = (size_t)(end - buf) + 4;
	cl = memmem(buf, head, "Content-Length: ", 16);
	if (cl)
		body = strtoul(cl + 16, NULL, 10);
	total = head + body;
	if (len < total)
		return 0;
	assert_true(s->rx_len + total <= sizeof(s->rx));
	memcpy(s->rx + s->rx_len, buf, total);
	s->rx_len += total;
	s->msgs++;
	if (s == &s->f->srv && s->f->echo)
		assert_int_equal(tp_tcp_send(c, buf, total), 0);
	check_done(s->f);
	return (ssize_t)total;
}

static void on_event(struct tp_tcp_conn *c, enum tp_tcp_event ev, int err, void *arg)
{
	struct side *s = arg;

	if (ev == TP_TCP_UP) {
		assert_int_equal(err, 0);
		assert_true(tp_tcp_conn_is_up(c));
		s->ups++;
		s->conn = c;
	} else {
		s->downs++;
		s->down_err = err;
		if (s->conn == c)
			s->conn = NULL;
	}
	check_done(s->f);
}

static void on_guard(void *arg)
{
	struct fx *f = arg;

	f->timed_out = true;
	loop_stop(f->l);
}

static void fx_run(struct fx *f, bool (*done)(struct fx *f))
{
	f->done = done;
	f->timed_out = false;
	if (done(f))
		return;
	assert_int_equal(loop_timer_add(f->l, &f->guard, 5000, on_guard, f), 0);
	assert_int_equal(loop_run(f->l), 0);
	loop_timer_cancel(f->l, &f->guard);
	f->done = NULL;
}

static void fx_init(struct fx *f, const char *host, const char *cafile, unsigned hs_ms)
{
	struct tp_tcp_cfg cfg = { .handshake_timeout_ms = hs_ms };
	char err[256];

	memset(f, 0, sizeof(*f));
	f->srv.f = f->cli.f = f;
	assert_int_equal(loop_create(&f->l), 0);
	assert_int_equal(tp_tls_server_ctx_create(&f->srv_ctx, srv_crt, srv_key, err,
						  sizeof(err)), 0);
	assert_int_equal(tp_tls_client_ctx_create(&f->cli_ctx, cafile, true, err, sizeof(err)), 0);
	assert_int_equal(tp_tcp_create(&f->srv.tcp, f->l, &cfg, on_recv, &f->srv), 0);
	assert_int_equal(tp_tcp_create(&f->cli.tcp, f->l, &cfg, on_recv, &f->cli), 0);
	tp_tcp_set_event_cb(f->srv.tcp, on_event, &f->srv);
	tp_tcp_set_event_cb(f->cli.tcp, on_event, &f->cli);
	assert_int_equal(tp_addr_from_numeric(&f->addr, str_cstr(host), 0), 0);
	assert_int_equal(tp_tcp_listen_tls(f->srv.tcp, &f->addr, f->srv_ctx, &f->addr), 0);
}

static void fx_free(struct fx *f)
{
	tp_tcp_destroy(f->cli.tcp);
	tp_tcp_destroy(f->srv.tcp);
	tp_tls_ctx_free(f->cli_ctx);
	tp_tls_ctx_free(f->srv_ctx);
	loop_destroy(f->l);
}

static bool both_up(struct fx *f)
{
	return (f->srv.ups && f->cli.ups) || f->srv.downs || f->cli.downs;
}

static bool cli_down(struct fx *f)
{
	return f->cli.downs && f->srv.downs;
}

static bool cli_down_only(struct fx *f)
{
	return f->cli.downs > 0;
}

static bool srv_down(struct fx *f)
{
	return f->srv.downs > 0;
}

/* ---- handshakes ---- */

static void handshake_ok(const char *host, const char *name)
{
	struct fx f;
	struct tp_tcp_conn *c;

	fx_init(&f, host, ca, 0);
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, name, &c), 0);
	assert_int_equal(tp_tcp_conn_proto(c), TP_TLS);
	assert_false(tp_tcp_conn_is_up(c)); /* only from the loop */
	fx_run(&f, both_up);
	assert_false(f.timed_out);
	assert_int_equal(f.cli.ups, 1);
	assert_int_equal(f.srv.ups, 1);
	assert_int_equal(f.cli.downs + f.srv.downs, 0);
	assert_ptr_equal(f.cli.conn, c);
	assert_int_equal(tp_tcp_conn_proto(f.srv.conn), TP_TLS);
	assert_int_equal(tp_tcp_conn_count(f.srv.tcp), 1);
	assert_true(tp_addr_equal(tp_tcp_conn_peer(c), &f.addr));
	fx_free(&f);
}

static void test_handshake_ip(void **state)
{
	(void)state;
	handshake_ok("127.0.0.1", "127.0.0.1");
	handshake_ok("127.0.0.1", NULL); /* the peer's address */
}

static void test_handshake_name(void **state)
{
	(void)state;
	handshake_ok("127.0.0.1", "localhost");
}

static void test_handshake_ipv6(void **state)
{
	(void)state;
	handshake_ok("::1", "::1");
	handshake_ok("::1", "[::1]");
}

static void handshake_rejected(const char *cafile, const char *name)
{
	struct fx f;

	fx_init(&f, "127.0.0.1", cafile, 0);
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, name, NULL), 0);
	fx_run(&f, cli_down);
	assert_false(f.timed_out);
	assert_int_equal(f.cli.ups, 0);
	assert_int_equal(f.srv.ups, 0);
	assert_int_equal(f.cli.down_err, TP_TLS_EVERIFY);
	assert_int_equal(tp_tcp_conn_count(f.cli.tcp), 0);
	assert_int_equal(tp_tcp_conn_count(f.srv.tcp), 0);
	fx_free(&f);
}

static void test_wrong_ca(void **state)
{
	(void)state;
	handshake_rejected(ca2, "127.0.0.1");
	handshake_rejected(ca2, "localhost");
}

static void test_wrong_name(void **state)
{
	(void)state;
	handshake_rejected(ca, "sip.example.com");
	handshake_rejected(ca, "127.0.0.2");
	handshake_rejected(ca, "10.0.0.1");
	handshake_rejected(ca, "local"); /* no partial matches */
}

struct legacy {
	struct tp_addr addr;
	int rc;
	int max_version;
};

/* A blocking client that offers only one old protocol version. */
static void *legacy_client(void *arg)
{
	struct legacy *lg = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd;

	lg->rc = -1;
	if (!ctx)
		return NULL;
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
	SSL_CTX_set_min_proto_version(ctx, lg->max_version);
	SSL_CTX_set_max_proto_version(ctx, lg->max_version);
	fd = socket(lg->addr.ss.ss_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&lg->addr.ss, lg->addr.len) == 0) {
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		lg->rc = SSL_connect(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static void test_tls11_refused(void **state)
{
	static const int versions[] = { TLS1_1_VERSION, TLS1_VERSION };
	struct fx f;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct legacy lg = { .max_version = versions[i] };
		pthread_t th;

		fx_init(&f, "127.0.0.1", ca, 0);
		lg.addr = f.addr;
		assert_int_equal(pthread_create(&th, NULL, legacy_client, &lg), 0);
		fx_run(&f, srv_down);
		pthread_join(th, NULL);
		assert_false(f.timed_out);
		assert_int_not_equal(lg.rc, 1);
		assert_int_equal(f.srv.ups, 0);
		/* a TLS failure, not an empty connection: the hello was refused */
		assert_int_equal(f.srv.down_err, TP_TLS_EPROTO);
		fx_free(&f);
	}
}

static void test_handshake_timeout(void **state)
{
	struct fx f;
	struct tp_tcp_conn *c;

	(void)state;
	fx_init(&f, "127.0.0.1", ca, 200);
	/* plain TCP to the TLS port, then silence */
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, NULL, NULL, &c), 0);
	assert_int_equal(tp_tcp_conn_proto(c), TP_TCP);
	fx_run(&f, srv_down);
	assert_false(f.timed_out);
	assert_int_equal(f.srv.down_err, -ETIMEDOUT);
	assert_int_equal(f.srv.ups, 0);
	fx_free(&f);
}

static bool srv_and_cli_down(struct fx *f)
{
	return f->srv.downs && f->cli.downs;
}

static void test_not_tls(void **state)
{
	struct fx f;
	struct tp_tcp_conn *c;
	static const char req[] = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	fx_init(&f, "127.0.0.1", ca, 0);
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, NULL, NULL, &c), 0);
	assert_int_equal(tp_tcp_send(c, req, sizeof(req) - 1), 0); /* queued until up */
	fx_run(&f, srv_and_cli_down);
	assert_false(f.timed_out);
	assert_int_equal(f.srv.down_err, TP_TLS_EPROTO);
	assert_int_equal(f.srv.msgs, 0);
	fx_free(&f);
}

/* ---- data ---- */

static const char msg_fmt[] = "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
			      "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK%d\r\n"
			      "Call-ID: %d@test\r\n"
			      "Content-Length: %zu\r\n\r\n%s";

static size_t make_msg(char *buf, size_t cap, int n, const char *body)
{
	int w = snprintf(buf, cap, msg_fmt, n, n, strlen(body), body);

	assert_true(w > 0 && (size_t)w < cap);
	return (size_t)w;
}

static bool echoed_two(struct fx *f)
{
	return f->cli.msgs >= 2 || f->cli.downs || f->srv.downs;
}

static void test_framing(void **state)
{
	static const char *const bodies[] = { "hello", "", "x\r\n\r\ny" };
	char a[512], b[512], all[1024];
	unsigned seed = 5246;

	(void)state;
	for (int round = 0; round < 12; round++) {
		struct fx f;
		struct tp_tcp_conn *c;
		size_t na = make_msg(a, sizeof(a), 2 * round, bodies[round % 3]);
		size_t nb = make_msg(b, sizeof(b), 2 * round + 1, bodies[(round + 1) % 3]);
		size_t cuts[6], ncuts = 1 + (size_t)rand_r(&seed) % 5, off = 0;

		memcpy(all, a, na);
		memcpy(all + na, b, nb);
		for (size_t i = 0; i < ncuts; i++)
			cuts[i] = 1 + (size_t)rand_r(&seed) % (na + nb - 1);
		fx_init(&f, round % 2 ? "::1" : "127.0.0.1", ca, 0);
		f.echo = true;
		assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, NULL, &c), 0);
		if (round % 3 == 0) { /* some bytes queued before the handshake */
			assert_int_equal(tp_tcp_send(c, all, cuts[0]), 0);
			off = cuts[0];
		}
		fx_run(&f, both_up);
		assert_int_equal(f.cli.ups, 1);
		/* one SSL_write, hence one TLS record, per piece */
		for (size_t i = 0; i <= ncuts; i++) {
			size_t end = i < ncuts ? cuts[i] : na + nb;

			if (end <= off)
				continue;
			assert_int_equal(tp_tcp_send(c, all + off, end - off), 0);
			off = end;
		}
		fx_run(&f, echoed_two);
		assert_false(f.timed_out);
		assert_int_equal(f.srv.msgs, 2);
		assert_int_equal(f.cli.msgs, 2);
		assert_int_equal(f.srv.rx_len, na + nb);
		assert_memory_equal(f.srv.rx, all, na + nb);
		assert_memory_equal(f.cli.rx, all, na + nb);
		fx_free(&f);
	}
}

static void test_big_message(void **state)
{
	struct fx f;
	struct tp_tcp_conn *c;
	char *body = mem_alloc(12000), buf[12500];
	size_t n;

	(void)state;
	assert_non_null(body);
	memset(body, 'z', 11999);
	body[11999] = '\0';
	n = make_msg(buf, sizeof(buf), 1, body);
	fx_init(&f, "127.0.0.1", ca, 0);
	f.echo = true;
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, "localhost", &c), 0);
	assert_int_equal(tp_tcp_send(c, buf, n), 0);
	assert_int_equal(tp_tcp_send(c, buf, n), 0);
	fx_run(&f, echoed_two);
	assert_false(f.timed_out);
	assert_int_equal(f.cli.msgs, 2);
	assert_memory_equal(f.cli.rx + n, buf, n);
	fx_free(&f);
	mem_free(body);
}

static bool got_one(struct fx *f)
{
	return f->srv.msgs >= 1 || f->srv.downs;
}

static void test_close(void **state)
{
	struct fx f;
	struct tp_tcp_conn *c;
	char m[256];
	size_t n = make_msg(m, sizeof(m), 7, "bye");

	(void)state;
	/* the client sends, then closes: the message arrives, then close_notify */
	fx_init(&f, "127.0.0.1", ca, 0);
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, NULL, &c), 0);
	fx_run(&f, both_up);
	assert_int_equal(tp_tcp_send(c, m, n), 0);
	tp_tcp_conn_close(c);
	fx_run(&f, srv_and_cli_down);
	assert_false(f.timed_out);
	assert_int_equal(f.srv.msgs, 1);
	assert_int_equal(f.cli.down_err, 0);
	assert_int_equal(f.srv.down_err, 0);
	assert_int_equal(tp_tcp_conn_count(f.srv.tcp), 0);
	fx_free(&f);

	/* the server closes its side */
	fx_init(&f, "127.0.0.1", ca, 0);
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, NULL, &c), 0);
	fx_run(&f, both_up);
	assert_int_equal(tp_tcp_send(c, m, n), 0);
	fx_run(&f, got_one);
	tp_tcp_conn_close(f.srv.conn);
	fx_run(&f, srv_and_cli_down);
	assert_false(f.timed_out);
	assert_int_equal(f.cli.down_err, 0);
	fx_free(&f);

	/* closing before the handshake is done drops the connection */
	fx_init(&f, "127.0.0.1", ca, 0);
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, NULL, &c), 0);
	tp_tcp_conn_close(c);
	assert_int_equal(tp_tcp_send(c, m, n), -EPIPE);
	fx_run(&f, cli_down);
	assert_int_equal(f.cli.ups, 0);
	fx_free(&f);

	/* destroying with live connections reports nothing and leaks nothing */
	fx_init(&f, "127.0.0.1", ca, 0);
	assert_int_equal(tp_tcp_connect(f.cli.tcp, &f.addr, f.cli_ctx, NULL, &c), 0);
	fx_run(&f, both_up);
	assert_int_equal(tp_tcp_send(c, m, n - 3), 0);
	fx_free(&f);
}

static void test_connect_refused(void **state)
{
	struct fx f;
	struct tp_addr dead;
	struct tp_tcp_conn *c;
	int rc, fd;

	(void)state;
	fx_init(&f, "127.0.0.1", ca, 0);
	/* a port that was just free: nobody listens there */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(tp_addr_from_numeric(&dead, str_cstr("127.0.0.1"), 0), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&dead.ss, dead.len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&dead.ss, &dead.len), 0);
	close(fd);
	rc = tp_tcp_connect(f.cli.tcp, &dead, f.cli_ctx, NULL, &c);
	if (rc == 0) {
		fx_run(&f, cli_down_only);
		assert_int_equal(f.cli.down_err, -ECONNREFUSED);
	} else {
		assert_int_equal(rc, -ECONNREFUSED);
	}
	fx_free(&f);
}

/* ---- contexts ---- */

static void test_ctx_errors(void **state)
{
	struct tp_tls_ctx *x = NULL, *cli;
	struct tp_tcp *t;
	struct loop *l;
	struct tp_addr a;
	char err[256], missing[160];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
	assert_int_equal(tp_tls_server_ctx_create(&x, missing, srv_key, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, missing));
	assert_int_equal(tp_tls_server_ctx_create(&x, srv_crt, missing, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "private key"));
	assert_int_equal(tp_tls_server_ctx_create(&x, bad_pem, srv_key, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, bad_pem));
	assert_int_equal(tp_tls_server_ctx_create(&x, srv_crt, bad_pem, err, sizeof(err)),
			 -EINVAL);
	/* the CA's key does not match the server's certificate */
	snprintf(missing, sizeof(missing), "%s/ca.key", dir);
	assert_int_equal(tp_tls_server_ctx_create(&x, srv_crt, missing, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "does not match"));
	assert_int_equal(tp_tls_client_ctx_create(&x, bad_pem, true, err, sizeof(err)), -EINVAL);
	snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
	assert_int_equal(tp_tls_client_ctx_create(&x, missing, true, err, sizeof(err)), -ENOENT);
	assert_null(x);
	/* the system store is a valid choice; cap 0 is allowed */
	assert_int_equal(tp_tls_client_ctx_create(&cli, NULL, true, NULL, 0), 0);
	assert_false(tp_tls_ctx_is_server(cli));
	/* contexts used the wrong way round */
	assert_int_equal(loop_create(&l), 0);
	assert_int_equal(tp_tcp_create(&t, l, NULL, on_recv, NULL), 0);
	assert_int_equal(tp_addr_from_numeric(&a, str_cstr("127.0.0.1"), 0), 0);
	assert_int_equal(tp_tcp_listen_tls(t, &a, cli, NULL), -EINVAL);
	assert_int_equal(tp_tls_server_ctx_create(&x, srv_crt, srv_key, err, sizeof(err)), 0);
	assert_true(tp_tls_ctx_is_server(x));
	assert_int_equal(tp_tcp_connect(t, &a, x, NULL, NULL), -EINVAL);
	tp_tcp_destroy(t);
	loop_destroy(l);
	tp_tls_ctx_free(x);
	tp_tls_ctx_free(cli);
	tp_tls_ctx_free(NULL);
}

static int setup_all(void *arg)
{
	struct loop *l = NULL;
	struct tp_tcp *t = NULL;
	struct tp_tls_ctx *srv = NULL, *cli = NULL;
	struct tp_tcp_conn *c;
	struct tp_addr a;
	int err;

	(void)arg;
	tp_addr_from_numeric(&a, str_cstr("127.0.0.1"), 0);
	if ((err = loop_create(&l)) < 0 ||
	    (err = tp_tls_server_ctx_create(&srv, srv_crt, srv_key, NULL, 0)) < 0 ||
	    (err = tp_tls_client_ctx_create(&cli, ca, true, NULL, 0)) < 0 ||
	    (err = tp_tcp_create(&t, l, NULL, on_recv, NULL)) < 0 ||
	    (err = tp_tcp_listen_tls(t, &a, srv, &a)) < 0 ||
	    (err = tp_tcp_connect(t, &a, cli, "localhost", &c)) < 0)
		goto out;
	err = tp_tcp_send(c, "queued", 6);
out:
	tp_tcp_destroy(t);
	tp_tls_ctx_free(srv);
	tp_tls_ctx_free(cli);
	if (l)
		loop_destroy(l);
	return err;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	assert_true(harness_alloc_fail_loop(setup_all, NULL) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_handshake_ip),
		SIPHON_TEST(test_handshake_name),
		SIPHON_TEST(test_handshake_ipv6),
		SIPHON_TEST(test_wrong_ca),
		SIPHON_TEST(test_wrong_name),
		SIPHON_TEST(test_tls11_refused),
		SIPHON_TEST(test_handshake_timeout),
		SIPHON_TEST(test_not_tls),
		SIPHON_TEST(test_framing),
		SIPHON_TEST(test_big_message),
		SIPHON_TEST(test_close),
		SIPHON_TEST(test_connect_refused),
		SIPHON_TEST(test_ctx_errors),
		SIPHON_TEST(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
