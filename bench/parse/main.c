/* bench_parse: time Siphon's SIP parser against GNU oSIP2 and sofia-sip on the
 * same messages, in one run, and print ns/message and messages/second.
 *   bench_parse [--quick] [--iterations N] [--only PARSER]
 * Exits 1 if Siphon rejects a typical or RFC 4475 valid message, or if a
 * reference parser rejects a typical one. */
#include "bench.h"
#include "messages.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { P_SIPHON, P_FULL, P_OSIP, P_SOFIA, P_TOUCH, NPARSERS };

static const struct {
	const char *name;
	int (*parse)(const char *buf, size_t len);
} parsers[NPARSERS] = {
	[P_SIPHON] = { "siphon", bench_siphon_parse },
	[P_FULL] = { "siphon-full", bench_siphon_full_parse },
	[P_OSIP] = { "osip2", bench_osip_parse },
	[P_SOFIA] = { "sofia", bench_sofia_parse },
	[P_TOUCH] = { "sofia+touch", bench_sofia_parse_touch },
};

#define MAX_SET 16

struct set {
	const char *name;
	struct bench_msg msgs[MAX_SET];
	size_t n;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parse every message of the set iters times; returns seconds and counts
 * parses that did not return 0 (they would make a figure meaningless). */
static double run(int p, const struct set *s, unsigned long iters, unsigned long *fails)
{
	double t0 = now();

	for (unsigned long i = 0; i < iters; i++)
		for (size_t k = 0; k < s->n; k++)
			*fails += parsers[p].parse(s->msgs[k].buf, s->msgs[k].len) != 0;
	return now() - t0;
}

/* Timed chunks per (parser, set), interleaved across parsers so that load
 * from other processes hits every parser alike; the fastest chunk counts. */
#define REPS 5

/* Warm up while finding an iteration count that lasts about target seconds
 * (or use fixed). */
static unsigned long calibrate(int p, const struct set *s, double target, unsigned long fixed)
{
	unsigned long n = 1, fails = 0;
	double t;

	if (fixed) {
		run(p, s, fixed / 10 + 1, &fails);
		return fixed;
	}
	while ((t = run(p, s, n, &fails)) < target / 10 && n < (1ul << 40))
		n *= 2;
	return (unsigned long)((double)n * target / (t > 0 ? t : 1e-9)) + 1;
}

/* ns per message for one timed chunk of n passes. */
static double measure(int p, const struct set *s, unsigned long n)
{
	unsigned long fails = 0;
	double t = run(p, s, n, &fails);

	if (fails)
		fprintf(stderr, "warning: %s failed %lu of %lu parses of %s\n", parsers[p].name,
			fails, n * s->n, s->name);
	return t * 1e9 / ((double)n * (double)s->n);
}

/* Fill ns[set][parser] (only one parser if only >= 0). */
static void measure_all(const struct set *sets, size_t nsets, double target, unsigned long fixed,
			int only, double ns[][NPARSERS])
{
	unsigned long n[4][NPARSERS];

	for (size_t i = 0; i < nsets; i++)
		for (int p = 0; p < NPARSERS; p++) {
			ns[i][p] = 1e300;
			if (only < 0 || p == only)
				n[i][p] = calibrate(p, &sets[i], target / REPS, fixed ? (fixed + REPS - 1) / REPS : 0);
		}
	for (int r = 0; r < REPS; r++)
		for (size_t i = 0; i < nsets; i++)
			for (int p = 0; p < NPARSERS; p++) {
				if (only >= 0 && p != only)
					continue;
				double t = measure(p, &sets[i], n[i][p]);
				if (t < ns[i][p])
					ns[i][p] = t;
			}
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)sz)) != NULL && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		*len = (size_t)sz;
	fclose(f);
	return buf;
}

/* Check once that every parser accepts the message; print what failed.
 * Returns false when a parser rejected it outright. */
static bool validate(const char *set, const struct bench_msg *m)
{
	bool ok = true;
	int r, bad;

	for (int p = 0; p < NPARSERS; p++) {
		if (p == P_TOUCH)
			continue;
		r = parsers[p].parse(m->buf, m->len);
		if (r == 0)
			continue;
		if (p == P_FULL && r > 0) {
			printf("note: %s/%s: siphon-full: %d header value(s) rejected by a header parser\n",
			       set, m->name, r);
			continue;
		}
		printf("REJECTED: %s/%s by %s (%d)\n", set, m->name, parsers[p].name, r);
		ok = false;
	}
	bad = bench_sofia_bad_headers(m->buf, m->len);
	if (bad > 0)
		printf("note: %s/%s: sofia kept %d header(s) as unparsable (sip_error)\n", set,
		       m->name, bad);
	return ok;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_parse [--quick] [--iterations N] [--only PARSER]\n"
			"  --quick          about 10x fewer iterations (for tests)\n"
			"  --iterations N   time N passes over each message set (in 5 chunks)\n"
			"  --only PARSER    time one parser only (for profiling): siphon, siphon-full,\n"
			"                   osip2, sofia or sofia+touch\n");
}

int main(int argc, char **argv)
{
	static struct set sets[4];
	size_t nsets = 0;
	double target = 0.3;
	unsigned long fixed = 0;
	int only = -1, status = 0;
	char path[4096];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			target = 0.03;
		} else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
			char *e;
			errno = 0;
			fixed = strtoul(argv[++i], &e, 10);
			if (errno || *e || fixed == 0) {
				usage();
				return 2;
			}
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			i++;
			for (int p = 0; p < NPARSERS; p++)
				if (strcmp(argv[i], parsers[p].name) == 0)
					only = p;
			if (only < 0) {
				usage();
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	if (bench_osip_init() != 0) {
		fprintf(stderr, "osip2 parser_init failed\n");
		return 1;
	}

	printf("Validation (each parser must accept each message):\n");
	for (size_t i = 0; i < bench_ntypical; i++) {
		struct set *s = &sets[nsets++];
		s->name = bench_typical[i].name;
		s->msgs[0] = bench_typical[i];
		s->n = 1;
		if (!validate("typical", &bench_typical[i]))
			status = 1;
	}
	struct set *rfc = &sets[nsets++];
	rfc->name = "RFC4475 valid";
	for (size_t i = 0; i < bench_nrfc4475 && rfc->n < MAX_SET; i++) {
		struct bench_msg m = { bench_rfc4475_names[i], NULL, 0 };
		snprintf(path, sizeof(path), "%s/rfc4475/%s.dat", SIPHON_CORPUS_DIR, m.name);
		m.buf = read_file(path, &m.len);
		if (!m.buf) {
			printf("SKIPPED: rfc4475/%s: cannot read %s\n", m.name, path);
			continue;
		}
		if (bench_siphon_parse(m.buf, m.len) != 0)
			status = 1; /* a valid torture message must parse */
		if (!validate("rfc4475", &m)) {
			printf("SKIPPED: rfc4475/%s (rejected by a parser, see above)\n", m.name);
			continue;
		}
		rfc->msgs[rfc->n++] = m;
	}
	if (rfc->n == 0)
		nsets--;
	printf("done.\n\n");

	printf("What each column does per message:\n"
	       "  siphon       sip_msg_parse (datagram, struct sip_msg reused): frame, index all headers,\n"
	       "               start line + R-URI, top Via, From, To, Call-ID, CSeq, Max-Forwards,\n"
	       "               Content-Length. What a proxy needs; other headers stay raw slices.\n"
	       "  siphon-full  + every Via value, Contact/Route/Record-Route/Path lists with their URIs,\n"
	       "               R-URI/From/To URIs, credentials, Expires, token lists (Allow, Supported...)\n"
	       "  osip2        osip_message_init/parse/free: every known header into malloc'd structures\n"
	       "               (URIs too), unknown headers as name/value copies, body copied\n"
	       "  sofia        msg_create(sip_default_mclass()) + msg_buf_alloc/commit + msg_extract +\n"
	       "               msg_destroy: every known header parsed eagerly (URLs too) into su_home memory\n"
	       "  sofia+touch  sofia, then walk every parsed header and decode digest credentials\n"
	       "               (auth_digest_response_get): the counterpart of siphon-full\n\n");

	double ns[4][NPARSERS];
	measure_all(sets, nsets, target, fixed, only, ns);
	if (only >= 0) {
		for (size_t i = 0; i < nsets; i++)
			printf("%-14s %s %.0f ns/msg\n", sets[i].name, parsers[only].name, ns[i][only]);
		return status;
	}

	printf("ns per message (lower is better)\n");
	printf("%-14s %6s %9s %12s %9s %9s %12s %12s %12s %13s\n", "set", "bytes", "siphon",
	       "siphon-full", "osip2", "sofia", "sofia+touch", "osip2/siphon", "sofia/siphon",
	       "s+touch/full");
	for (size_t i = 0; i < nsets; i++) {
		size_t bytes = 0;
		for (size_t k = 0; k < sets[i].n; k++)
			bytes += sets[i].msgs[k].len;
		printf("%-14s %6zu %9.0f %12.0f %9.0f %9.0f %12.0f %11.1fx %11.1fx %12.1fx\n",
		       sets[i].name, bytes / sets[i].n, ns[i][P_SIPHON], ns[i][P_FULL], ns[i][P_OSIP],
		       ns[i][P_SOFIA], ns[i][P_TOUCH], ns[i][P_OSIP] / ns[i][P_SIPHON],
		       ns[i][P_SOFIA] / ns[i][P_SIPHON], ns[i][P_TOUCH] / ns[i][P_FULL]);
	}
	printf("\nmessages per second (higher is better)\n");
	printf("%-14s %12s %12s %12s %12s %12s\n", "set", "siphon", "siphon-full", "osip2", "sofia",
	       "sofia+touch");
	for (size_t i = 0; i < nsets; i++) {
		printf("%-14s", sets[i].name);
		for (int p = 0; p < NPARSERS; p++)
			printf(" %12.0f", 1e9 / ns[i][p]);
		printf("\n");
	}
	printf("\nEach figure: the fastest of %d interleaved timed chunks (about %.0f ms each, or\n"
	       "--iterations/%d passes), after a warm-up.\n", REPS, target * 1000 / REPS, REPS);
	if (rfc->n)
		printf("RFC4475 valid: bytes is the mean of %zu messages; each ns figure is the mean over them.\n",
		       rfc->n);
	if (status)
		printf("FAILED: Siphon rejected a message that must parse (see validation above).\n");
	return status;
}
