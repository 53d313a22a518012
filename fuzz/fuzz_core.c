/* libFuzzer target: any bytes as a UDP datagram into siphond's message core,
 * stateful, with the registrar on (domain example.com, one subscriber,
 * memory location service): inputs of even length meet digest auth for
 * REGISTER, odd ones a registrar without auth, so the fuzzer reaches the
 * registrar's own rules too. Whatever comes in,
 * every byte the core sends (at once or later, from a transaction or the
 * registrar's completion queue) must parse as one SIP response. The loop
 * runs once after each input so late answers and transaction timers (T1
 * shortened, so transactions do not pile up) run too. */
#include "base/loop.h"
#include "base/mem.h"
#include "msg/msg.h"
#include "siphond/core.h"
#include "siphond/regsvc.h"
#include "siphond/server.h"
#include "subscriber/sub.h"
#include "transport/addr.h"
#include "tsx/table.h"
#include "tsx/timers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct loop *loop;
static struct tsx_table *table;
static struct sd_config cfg[2];
static struct sd_regsvc *svc[2];
static struct sd_core *core[2]; /* [0]: auth, [1]: none */
static struct tsx_timers timers;
static struct sip_msg resp;
static char reply[SD_REPLY_MAX];
static struct loop_timer tick;

static bool input_ok; /* the input parsed: its answers copy whole headers */

/* An answer to a request that parsed must parse itself; one to a malformed
 * request (a 400 copying what headers there are, maybe no From) must at
 * least be a well-formed error status line ending in an empty line. */
static void check_response(const void *buf, size_t len)
{
	const char *p = buf;

	if (len < 16 || memcmp(p, "SIP/2.0 ", 8) != 0 || memcmp(p + len - 4, "\r\n\r\n", 4) != 0)
		abort();
	if (!input_ok) {
		if (p[8] != '4' && p[8] != '5')
			abort();
		return;
	}
	if (sip_msg_parse(&resp, buf, len, SIP_PARSE_DATAGRAM) != 0 || resp.is_request ||
	    resp.status < 100 || resp.status > 699 || resp.len != len)
		abort();
}

static int send_udp(void *ctx, const struct tp_addr *local, const struct tp_addr *dst,
		    const void *buf, size_t len)
{
	(void)ctx, (void)local, (void)dst;
	check_response(buf, len);
	return 0;
}

static int send_stream(void *ctx, uint64_t conn_id, const void *buf, size_t len)
{
	(void)ctx, (void)conn_id, (void)buf, (void)len;
	abort(); /* nothing came over a stream */
}

static void on_tick(void *arg)
{
	loop_stop(arg);
}

static void setup(void)
{
	char dir[] = "/tmp/fuzz-core-XXXXXX", path[128];
	struct sub *sub;
	struct sd_core_cfg ccfg = { .send_udp = send_udp, .send_stream = send_stream };
	const char *why;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, SUB_DB_FILE);
	if (sub_open(&sub, path) || sub_add(sub, STR_LIT("alice"), STR_LIT("example.com"),
					    STR_LIT("secret"), false))
		abort();
	sub_close(sub);
	if (loop_create(&loop) || tsx_table_create(&table, 0, 0))
		abort();
	for (int i = 0; i < 2; i++) {
		sd_config_init(&cfg[i]);
		if (sd_config_set(&cfg[i], "domains", "serve", "example.com", &why) ||
		    sd_config_set(&cfg[i], "location", "backend", "memory", &why) ||
		    sd_config_set(&cfg[i], "registrar", "min_expires", "1", &why) ||
		    (i == 1 && sd_config_set(&cfg[i], "auth", "methods", "none", &why)) ||
		    sd_regsvc_create(&svc[i], &cfg[i], dir))
			abort();
	}
	timers = tsx_timers_default;
	timers.t1 = 10; /* Timer J = 640 ms: transactions end within the run */
	timers.t4 = 10;
	ccfg.loop = loop;
	ccfg.tsx = table;
	ccfg.timers = &timers;
	for (int i = 0; i < 2; i++) {
		ccfg.regsvc = svc[i];
		if (sd_core_create(&core[i], &ccfg))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_in in = { .buf = (const char *)data, .len = size, .proto = TP_UDP };
	struct sd_out out = { .buf = reply, .cap = sizeof(reply) };
	ssize_t n;

	if (!core[0])
		setup();
	if (tp_addr_from_numeric(&in.src, STR_LIT("127.0.0.1"), 5070) ||
	    tp_addr_from_numeric(&in.local, STR_LIT("127.0.0.1"), 5060))
		abort();
	input_ok = sip_msg_parse(&resp, in.buf, in.len, SIP_PARSE_DATAGRAM) == 0;
	n = sd_core_input(core[size & 1], &in, &out);
	if (n != (ssize_t)size || out.len > out.cap)
		abort();
	if (out.len)
		check_response(out.buf, out.len);
	/* one turn of the loop: completion queue, transaction timers */
	if (loop_timer_add(loop, &tick, 0, on_tick, loop) || loop_run(loop) < 0)
		abort();
	return 0;
}
