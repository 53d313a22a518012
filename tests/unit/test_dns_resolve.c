/* RFC 3263 resolution against a real DNS server: the test enters a private
 * network namespace (so nothing can leave the machine and the host's
 * resolv.conf is never used), starts dnsmasq on 127.0.0.1 with a siphon.test
 * zone and no upstream, and points the resolver at it. */
#include "harness.h"

#include "base/loop.h"
#include "base/mem.h"
#include "dns/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DNSMASQ "/usr/sbin/dnsmasq"

static pid_t dnsmasq_pid = -1;
static char servers[64];        /* "127.0.0.1:P" of dnsmasq */
static char silent_servers[64]; /* a UDP socket that never answers */
static int silent_fd = -1;
static struct loop *loop;

static const char *const zone[] = {
	"--local=/siphon.test/", /* authoritative for the test domain, NXDOMAIN otherwise */
	"--local-ttl=60",
	/* NAPTR -> SRV -> A/AAAA */
	"--naptr-record=naptr.siphon.test,10,20,S,SIP+D2T,,_sip._tcp.naptr.siphon.test",
	"--naptr-record=naptr.siphon.test,10,10,S,SIP+D2U,,_sip._udp.naptr.siphon.test",
	"--naptr-record=naptr.siphon.test,10,5,S,SIPS+D2T,,_sips._tcp.naptr.siphon.test",
	"--naptr-record=naptr.siphon.test,10,1,S,SIP+D2S,,_sip._sctp.naptr.siphon.test",
	"--naptr-record=naptr.siphon.test,50,1,S,SIP+D2U,,_late._udp.naptr.siphon.test",
	"--srv-host=_sips._tcp.naptr.siphon.test,tls1.siphon.test,5061,10,0",
	"--srv-host=_sip._udp.naptr.siphon.test,udp1.siphon.test,5070,10,0",
	"--srv-host=_sip._udp.naptr.siphon.test,udp2.siphon.test,5071,20,0",
	"--srv-host=_sip._tcp.naptr.siphon.test,tcp1.siphon.test,5080,10,0",
	"--srv-host=_late._udp.naptr.siphon.test,late.siphon.test,5999,10,0",
	"--host-record=tls1.siphon.test,10.0.0.1",
	"--host-record=udp1.siphon.test,10.0.0.2,fd00::2",
	"--host-record=udp2.siphon.test,10.0.0.3",
	"--host-record=tcp1.siphon.test,10.0.0.4",
	"--host-record=late.siphon.test,10.0.0.99",
	/* SRV only (no NAPTR); the name itself has an A record for explicit ports */
	"--srv-host=_sip._udp.srvonly.siphon.test,a.srvonly.siphon.test,5060,10,10",
	"--srv-host=_sip._udp.srvonly.siphon.test,b.srvonly.siphon.test,5062,10,90",
	"--srv-host=_sip._tcp.srvonly.siphon.test,c.srvonly.siphon.test,5063,10,0",
	"--host-record=a.srvonly.siphon.test,10.0.1.1",
	"--host-record=b.srvonly.siphon.test,10.0.1.2",
	"--host-record=c.srvonly.siphon.test,10.0.1.3",
	"--host-record=srvonly.siphon.test,10.0.1.9",
	/* A/AAAA only, short TTL */
	"--host-record=aonly.siphon.test,10.0.2.1,fd00::21,5",
	"--host-record=v6only.siphon.test,fd00::31",
};

/* ---- environment ------------------------------------------------------- */

static int lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(s);
	return rc;
}

static int udp_bind(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) < 0) {
		int e = -errno;

		close(s);
		return e;
	}
	*bound = ntohs(sa.sin_port);
	return s;
}

static int start_dnsmasq(uint16_t port)
{
	const char *argv[64];
	char portopt[32];
	size_t n = 0;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	snprintf(portopt, sizeof(portopt), "--port=%u", port);
	argv[n++] = DNSMASQ;
	argv[n++] = "--conf-file=/dev/null"; /* nothing from the host's config */
	argv[n++] = "--keep-in-foreground";
	argv[n++] = "--pid-file";            /* none */
	argv[n++] = "--no-resolv";           /* no upstream: never forwards */
	argv[n++] = "--no-hosts";
	argv[n++] = "--listen-address=127.0.0.1";
	argv[n++] = "--bind-interfaces";
	argv[n++] = "--log-facility=-";
	argv[n++] = "--user=root";
	argv[n++] = portopt;
	for (size_t i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		argv[n++] = zone[i];
	if (getenv("SIPHON_DNS_DEBUG"))
		argv[n++] = "--log-queries";
	argv[n] = NULL;

	dnsmasq_pid = fork();
	if (dnsmasq_pid < 0)
		return -errno;
	if (dnsmasq_pid == 0) {
		if (!getenv("SIPHON_DNS_DEBUG")) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, STDERR_FILENO);
		}
		execv(DNSMASQ, (char *const *)argv);
		_exit(127);
	}
	/* ready once it holds the port */
	for (int i = 0; i < 500; i++) {
		uint16_t dummy;
		int s = udp_bind(port, &dummy), status;

		if (s == -EADDRINUSE)
			return 0;
		if (s >= 0)
			close(s);
		if (waitpid(dnsmasq_pid, &status, WNOHANG) == dnsmasq_pid) {
			dnsmasq_pid = -1;
			fprintf(stderr, "dnsmasq exited early (status %d)\n", status);
			return -ECHILD;
		}
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static int group_setup(void **state)
{
	uint16_t port;
	int s;

	(void)state;
	/* a private network namespace: isolation is required, not optional */
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s (run as root)\n", strerror(errno));
		return -1;
	}
	if (lo_up() < 0) {
		fprintf(stderr, "cannot bring lo up\n");
		return -1;
	}
	s = udp_bind(0, &port);
	if (s < 0)
		return -1;
	close(s);
	if (start_dnsmasq(port) < 0) {
		fprintf(stderr, "cannot start %s\n", DNSMASQ);
		return -1;
	}
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", port);
	silent_fd = udp_bind(0, &port);
	if (silent_fd < 0)
		return -1;
	snprintf(silent_servers, sizeof(silent_servers), "127.0.0.1:%u", port);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (dnsmasq_pid > 0) {
		kill(dnsmasq_pid, SIGTERM);
		waitpid(dnsmasq_pid, NULL, 0);
	}
	if (silent_fd >= 0)
		close(silent_fd);
	return 0;
}

/* A fresh loop per test, inside the leak check: the loop's own tables grow
 * with use and are freed before the blocks are counted. */
static int test_setup(void **state)
{
	harness_setup(state);
	return loop_create(&loop);
}

static int test_teardown(void **state)
{
	loop_destroy(loop);
	loop = NULL;
	return harness_teardown(state);
}

#define DNS_TEST(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

/* ---- helpers ------------------------------------------------------------ */

struct result {
	int calls;
	int err;
	struct dns_targets *t;
	bool stop;
};

static void on_result(int err, struct dns_targets *t, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
	r->t = t;
	if (r->stop)
		loop_stop(loop);
}

static void on_guard(void *arg)
{
	(void)arg;
	loop_stop(loop);
}

/* Run the loop for at most ms (less if a result with stop set arrives). */
static void run_for(unsigned ms)
{
	struct loop_timer guard = { 0 };

	assert_int_equal(loop_timer_add(loop, &guard, ms, on_guard, NULL), 0);
	assert_int_equal(loop_run(loop), 0);
	loop_timer_cancel(loop, &guard);
}

static const char *fmt_targets(const struct dns_targets *t, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; t && i < t->n; i++) {
		char a[64];

		off += (size_t)snprintf(buf + off, cap - off, "%s%s %s", i ? ", " : "",
					tp_proto_name(t->t[i].proto),
					tp_addr_fmt(&t->t[i].addr, a, sizeof(a)));
	}
	return buf;
}

static struct dns_resolver *resolver(const char *srv, const struct dns_config *base)
{
	struct dns_config cfg = { 0 };
	struct dns_resolver *r;

	if (base)
		cfg = *base;
	cfg.servers = srv;
	if (!cfg.timeout_ms)
		cfg.timeout_ms = 500;
	assert_int_equal(dns_resolver_create(&r, loop, &cfg), 0);
	return r;
}

/* Resolve uri and wait for the callback (3 s at most). */
static int resolve(struct dns_resolver *r, const char *uri, struct result *res)
{
	struct sip_uri u;
	int rc;

	memset(res, 0, sizeof(*res));
	res->stop = true;
	assert_int_equal(sip_uri_parse(&u, uri, strlen(uri), NULL), 0);
	rc = dns_resolve_uri(r, &u, on_result, res, NULL);
	if (rc < 0)
		return rc;
	assert_int_equal(res->calls, 0); /* never from inside dns_resolve_uri() */
	run_for(3000);
	assert_int_equal(res->calls, 1);
	return res->err;
}

static void expect(struct dns_resolver *r, const char *uri, const char *want)
{
	struct result res;
	char buf[1024];
	int rc = resolve(r, uri, &res);

	if (rc != 0 || strcmp(fmt_targets(res.t, buf, sizeof(buf)), want) != 0) {
		fprintf(stderr, "%s: err %d, got \"%s\"\n  want \"%s\"\n", uri, rc, buf, want);
		dns_targets_free(res.t);
		fail();
	}
	dns_targets_free(res.t);
}

static uint64_t sent(struct dns_resolver *r)
{
	struct dns_stats st;

	dns_resolver_stats(r, &st);
	return st.queries_sent;
}

/* ---- tests -------------------------------------------------------------- */

static void test_naptr_srv_a(void **state)
{
	struct dns_resolver *r = resolver(servers, NULL);
	struct result res;

	(void)state;
	/* RFC 3263 §4.1: NAPTR order 10 by preference (SIP+D2S and the order-50
	 * record ignored), then each SRV by priority, then A before AAAA */
	expect(r, "sip:naptr.siphon.test",
	       "TLS 10.0.0.1:5061, UDP 10.0.0.2:5070, UDP [fd00::2]:5070, UDP 10.0.0.3:5071, "
	       "TCP 10.0.0.4:5080");
	/* sips: only SIPS+D2T */
	expect(r, "sips:alice@naptr.siphon.test", "TLS 10.0.0.1:5061");
	/* the list's TTL is the smallest of the records used (--local-ttl 60) */
	assert_int_equal(resolve(r, "sip:naptr.siphon.test", &res), 0);
	assert_in_range(res.t->ttl, 1, 60);
	dns_targets_free(res.t);
	dns_resolver_destroy(r);

	/* transports we cannot use are filtered out of the NAPTR set */
	r = resolver(servers, &(struct dns_config){ .protos = DNS_PROTO_BIT(TP_TCP) });
	expect(r, "sip:naptr.siphon.test", "TCP 10.0.0.4:5080");
	dns_resolver_destroy(r);
}

static uint32_t fixed_50(void *arg)
{
	(void)arg;
	return 50;
}

static void test_srv_only(void **state)
{
	struct dns_resolver *r;
	uint64_t before;

	(void)state;
	/* draw 50 of [0, 100] with weights 10 (a), 90 (b): b first (RFC 2782) */
	r = resolver(servers, &(struct dns_config){ .rand = fixed_50 });
	before = sent(r);
	/* no NAPTR: _sips._tcp, _sip._tcp, _sip._udp in that preference */
	expect(r, "sip:srvonly.siphon.test",
	       "TCP 10.0.1.3:5063, UDP 10.0.1.2:5062, UDP 10.0.1.1:5060");
	/* NAPTR + 3 SRV + A/AAAA for 3 hosts */
	assert_int_equal(sent(r) - before, 1 + 3 + 6);
	dns_resolver_destroy(r);
}

static void test_a_and_aaaa_only(void **state)
{
	struct dns_resolver *r = resolver(servers, NULL);

	(void)state;
	/* no NAPTR, no SRV: A/AAAA of the domain, port 5060 / 5061 (§4.2) */
	expect(r, "sip:aonly.siphon.test", "UDP 10.0.2.1:5060, UDP [fd00::21]:5060");
	expect(r, "sips:aonly.siphon.test", "TLS 10.0.2.1:5061, TLS [fd00::21]:5061");
	expect(r, "sip:v6only.siphon.test", "UDP [fd00::31]:5060");
	/* the name may end with the root's dot */
	expect(r, "sip:aonly.siphon.test.;lr", "UDP 10.0.2.1:5060, UDP [fd00::21]:5060");
	dns_resolver_destroy(r);

	r = resolver(servers, &(struct dns_config){ .family = AF_INET6 });
	expect(r, "sip:aonly.siphon.test", "UDP [fd00::21]:5060");
	dns_resolver_destroy(r);
}

static void test_numeric_no_query(void **state)
{
	/* the silent server would time out any question: none may be sent */
	struct dns_resolver *r = resolver(silent_servers, NULL);

	(void)state;
	expect(r, "sip:10.1.2.3", "UDP 10.1.2.3:5060");
	expect(r, "sip:bob@10.1.2.3:5070;transport=tcp", "TCP 10.1.2.3:5070");
	expect(r, "sips:[2001:db8::1]", "TLS [2001:db8::1]:5061");
	expect(r, "sip:[2001:db8::1]:5999;transport=TLS", "TLS [2001:db8::1]:5999");
	/* maddr is the target (RFC 3263 §4) */
	expect(r, "sip:carol@nowhere.siphon.test;maddr=192.0.2.7", "UDP 192.0.2.7:5060");
	assert_int_equal(sent(r), 0);
	dns_resolver_destroy(r);
}

static void test_explicit_port_and_transport(void **state)
{
	struct dns_resolver *r = resolver(servers, NULL);
	uint64_t before = sent(r);
	struct sip_uri u;
	struct result res = { 0 };
	static const char *const bad[] = { "sips:srvonly.siphon.test;transport=udp",
					   "sip:srvonly.siphon.test;transport=sctp",
					   "tel:+15551234" };

	(void)state;
	/* §4.2: a port means A/AAAA of the name itself, no NAPTR or SRV */
	expect(r, "sip:srvonly.siphon.test:5099", "UDP 10.0.1.9:5099");
	assert_int_equal(sent(r) - before, 2);
	expect(r, "sips:srvonly.siphon.test:5098", "TLS 10.0.1.9:5098");
	/* transport= decides: SRV for that transport only */
	before = sent(r);
	expect(r, "sip:srvonly.siphon.test;transport=tcp", "TCP 10.0.1.3:5063");
	assert_int_equal(sent(r) - before, 1 + 2);
	/* ... and A/AAAA with the default port when it has no SRV */
	expect(r, "sip:aonly.siphon.test;transport=tcp", "TCP 10.0.2.1:5060, TCP [fd00::21]:5060");
	expect(r, "sips:aonly.siphon.test;transport=tcp", "TLS 10.0.2.1:5061, TLS [fd00::21]:5061");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sip_uri_parse(&u, bad[i], strlen(bad[i]), NULL), 0);
		assert_int_not_equal(dns_resolve_uri(r, &u, on_result, &res, NULL), 0);
	}
	assert_int_equal(res.calls, 0);
	dns_resolver_destroy(r);

	/* a transport we do not run is refused up front */
	r = resolver(servers, &(struct dns_config){ .protos = DNS_PROTO_BIT(TP_UDP) });
	assert_int_equal(sip_uri_parse(&u, "sip:a.siphon.test;transport=tcp", 31, NULL), 0);
	assert_int_equal(dns_resolve_uri(r, &u, on_result, &res, NULL), -EPROTONOSUPPORT);
	assert_int_equal(sip_uri_parse(&u, "sips:a.siphon.test", 18, NULL), 0);
	assert_int_equal(dns_resolve_uri(r, &u, on_result, &res, NULL), -EPROTONOSUPPORT);
	dns_resolver_destroy(r);
}

static uint64_t fake_ms;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_ms;
}

static void test_cache_ttl_expiry(void **state)
{
	struct dns_resolver *r;
	struct dns_stats st;
	struct result res;
	uint64_t before;

	(void)state;
	fake_ms = 1000000;
	r = resolver(servers, &(struct dns_config){ .clock = fake_clock });
	expect(r, "sip:aonly.siphon.test:5070", "UDP 10.0.2.1:5070, UDP [fd00::21]:5070");
	assert_int_equal(sent(r), 2);
	/* within the 5 s TTL: from the cache, TTL counting down */
	fake_ms += 3000;
	assert_int_equal(resolve(r, "sip:aonly.siphon.test:5070", &res), 0);
	assert_int_equal(res.t->n, 2);
	assert_int_equal(res.t->ttl, 2);
	dns_targets_free(res.t);
	dns_resolver_stats(r, &st);
	assert_int_equal(st.queries_sent, 2);
	assert_int_equal(st.cache_hits, 2);
	/* expired: asked again */
	fake_ms += 2000;
	expect(r, "sip:aonly.siphon.test:5070", "UDP 10.0.2.1:5070, UDP [fd00::21]:5070");
	assert_int_equal(sent(r), 4);
	/* the whole NAPTR path is served from the cache the second time */
	expect(r, "sips:naptr.siphon.test", "TLS 10.0.0.1:5061");
	before = sent(r);
	expect(r, "sips:naptr.siphon.test", "TLS 10.0.0.1:5061");
	dns_resolver_stats(r, &st);
	assert_true(st.queries_sent - before <= 1); /* at most the uncached empty AAAA */
	/* flush forgets everything */
	dns_resolver_flush(r);
	before = sent(r);
	expect(r, "sip:aonly.siphon.test:5070", "UDP 10.0.2.1:5070, UDP [fd00::21]:5070");
	assert_int_equal(sent(r) - before, 2);
	dns_resolver_destroy(r);
}

static void test_nxdomain(void **state)
{
	struct dns_resolver *r = resolver(servers, NULL);
	struct result res;

	(void)state;
	assert_int_equal(resolve(r, "sip:nosuch.siphon.test", &res), -ENOENT);
	assert_null(res.t);
	assert_int_equal(resolve(r, "sip:nosuch.siphon.test:5060", &res), -ENOENT);
	assert_int_equal(resolve(r, "sip:nosuch.siphon.test;transport=tcp", &res), -ENOENT);
	dns_resolver_destroy(r);
}

static void test_timeout(void **state)
{
	struct dns_resolver *r;
	struct result res;
	struct timespec t0, t1;
	long ms;

	(void)state;
	r = resolver(silent_servers, &(struct dns_config){ .timeout_ms = 200, .tries = 1 });
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(resolve(r, "sip:naptr.siphon.test", &res), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(res.t);
	/* the NAPTR timeout ends it: no SRV and A rounds against a dead server */
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_in_range(ms, 150, 1500);
	assert_int_equal(sent(r), 1);
	assert_int_equal(resolve(r, "sip:naptr.siphon.test:5060", &res), -ETIMEDOUT);
	dns_resolver_destroy(r);
}

static void test_cancel(void **state)
{
	struct dns_resolver *r = resolver(servers, NULL);
	struct dns_query *q1, *q2;
	struct result res = { 0 };
	struct dns_stats st;
	struct sip_uri u;

	(void)state;
	assert_int_equal(sip_uri_parse(&u, "sip:naptr.siphon.test", 21, NULL), 0);
	assert_int_equal(dns_resolve_uri(r, &u, on_result, &res, &q1), 0);
	assert_int_equal(sip_uri_parse(&u, "sip:10.0.0.1", 12, NULL), 0);
	assert_int_equal(dns_resolve_uri(r, &u, on_result, &res, &q2), 0);
	dns_query_cancel(q1);
	dns_query_cancel(q2);
	dns_query_cancel(NULL);
	/* the answers arrive and are dropped; the query is reaped */
	run_for(300);
	assert_int_equal(res.calls, 0);
	dns_resolver_stats(r, &st);
	assert_int_equal(st.live_queries, 0);
	assert_true(st.queries_sent >= 1);
	dns_resolver_destroy(r);
}

static void test_destroy_in_flight(void **state)
{
	struct dns_resolver *r = resolver(silent_servers, NULL);
	struct result res = { 0 };
	struct dns_stats st;
	struct sip_uri u;

	(void)state;
	assert_int_equal(sip_uri_parse(&u, "sip:naptr.siphon.test", 21, NULL), 0);
	assert_int_equal(dns_resolve_uri(r, &u, on_result, &res, NULL), 0);
	assert_int_equal(dns_resolve_uri(r, &u, on_result, &res, NULL), 0);
	assert_int_equal(sip_uri_parse(&u, "sip:10.0.0.1", 12, NULL), 0);
	assert_int_equal(dns_resolve_uri(r, &u, on_result, &res, NULL), 0);
	run_for(20);
	dns_resolver_stats(r, &st);
	assert_int_equal(st.live_queries, 2);
	dns_resolver_destroy(r);
	run_for(50); /* nothing of the resolver is left on the loop */
	assert_int_equal(res.calls, 1); /* only the numeric one, before destroy */
	assert_int_equal(res.err, 0);
	dns_targets_free(res.t);
}

/* Starting a query from the callback of another one. */
struct chain {
	struct dns_resolver *r;
	struct result second;
	int first_err;
};

static void on_first(int err, struct dns_targets *t, void *arg)
{
	struct chain *c = arg;
	struct sip_uri u;

	c->first_err = err;
	dns_targets_free(t);
	assert_int_equal(sip_uri_parse(&u, "sip:aonly.siphon.test", 21, NULL), 0);
	c->second.stop = true;
	assert_int_equal(dns_resolve_uri(c->r, &u, on_result, &c->second, NULL), 0);
}

static void test_resolve_from_callback(void **state)
{
	struct chain c = { .r = resolver(servers, NULL), .first_err = 1 };
	struct sip_uri u;

	(void)state;
	assert_int_equal(sip_uri_parse(&u, "sip:v6only.siphon.test", 22, NULL), 0);
	assert_int_equal(dns_resolve_uri(c.r, &u, on_first, &c, NULL), 0);
	run_for(3000);
	assert_int_equal(c.first_err, 0);
	assert_int_equal(c.second.calls, 1);
	assert_int_equal(c.second.err, 0);
	assert_int_equal(c.second.t->n, 2);
	dns_targets_free(c.second.t);
	dns_resolver_destroy(c.r);
}

static int alloc_run(void *ctx)
{
	const char *uri = ctx;
	struct dns_resolver *r;
	struct result res = { .stop = true };
	struct sip_uri u;
	int rc;

	rc = dns_resolver_create(&r, loop, &(struct dns_config){ .servers = servers });
	if (rc < 0)
		return rc;
	assert_int_equal(sip_uri_parse(&u, uri, strlen(uri), NULL), 0);
	rc = dns_resolve_uri(r, &u, on_result, &res, NULL);
	if (rc == 0) {
		run_for(3000);
		assert_int_equal(res.calls, 1);
		rc = res.err;
		if (rc == 0)
			assert_true(res.t->n > 0);
		dns_targets_free(res.t);
	}
	dns_resolver_destroy(r);
	return rc;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	/* warm the loop up so its own tables do not grow inside the loop below */
	assert_int_equal(alloc_run("sip:naptr.siphon.test"), 0);
	assert_true(harness_alloc_fail_loop(alloc_run, "sip:10.0.0.1") > 0);
	assert_true(harness_alloc_fail_loop(alloc_run, "sip:aonly.siphon.test:5060") > 0);
	assert_true(harness_alloc_fail_loop(alloc_run, "sip:naptr.siphon.test") > 10);
}

static void test_bad_config(void **state)
{
	struct dns_resolver *r;

	(void)state;
	assert_int_equal(dns_resolver_create(&r, loop, &(struct dns_config){ .servers = "not an ip" }),
			 -EINVAL);
	assert_int_equal(dns_resolver_create(&r, loop, &(struct dns_config){ .protos = 0x100 }),
			 -EINVAL);
	assert_int_equal(dns_resolver_create(&r, NULL, NULL), -EINVAL);
	dns_resolver_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DNS_TEST(test_naptr_srv_a),
		DNS_TEST(test_srv_only),
		DNS_TEST(test_a_and_aaaa_only),
		DNS_TEST(test_numeric_no_query),
		DNS_TEST(test_explicit_port_and_transport),
		DNS_TEST(test_cache_ttl_expiry),
		DNS_TEST(test_nxdomain),
		DNS_TEST(test_timeout),
		DNS_TEST(test_cancel),
		DNS_TEST(test_destroy_in_flight),
		DNS_TEST(test_resolve_from_callback),
		DNS_TEST(test_alloc_failures),
		DNS_TEST(test_bad_config),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
