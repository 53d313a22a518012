/* siphon: the command-line user agent. For now one command:
 *
 *   siphon options URI   send OPTIONS (RFC 3261 §11) and print the answer
 *
 * -H adds header lines and --pad an X-Pad header, so that a request can be
 * made larger than 1300 bytes (RFC 3261 §18.1.1: UDP becomes TCP).
 *
 * Exit status: 0 a 2xx, 1 a 3xx-6xx response, 2 no response (Timer F),
 * 3 a transport or DNS error, 64 bad usage (sysexits EX_USAGE). */
#include "base/log.h"
#include "dns/dns.h"
#include "ua/uac.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define EXIT_REJECTED 1
#define EXIT_TIMEOUT 2
#define EXIT_TRANSPORT 3
#define EXIT_USAGE 64
#define EXTRA_MAX 3072 /* extra header bytes; the whole request must fit UA_REQUEST_MAX */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siphon options URI [--transport udp|tcp|tls] [--ca-file FILE]\n"
		"                          [--local IP[:PORT]] [--dns-server IP:PORT]\n"
		"                          [--timeout-t1 MS] [-H 'Name: value']...\n"
		"                          [--pad BYTES] [-v]\n"
		"  -t, --transport P     use only this transport (default: RFC 3263)\n"
		"      --ca-file FILE    trust these CAs for TLS (default: the system store)\n"
		"  -l, --local ADDR      UDP source address and port\n"
		"      --dns-server S    DNS server(s) IP:PORT[,...] (default: resolv.conf)\n"
		"      --timeout-t1 MS   RFC 3261 T1 (default 500); no answer after 64*T1\n"
		"  -H, --header H        add this header line to the request (repeatable)\n"
		"      --pad BYTES       add an X-Pad header line of BYTES bytes (testing\n"
		"                        RFC 3261 18.1.1: over 1300 bytes UDP becomes TCP)\n"
		"  -v, --verbose         print the whole response and trace messages to stderr\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"exit: 0 2xx, 1 3xx-6xx, 2 timeout, 3 transport error, 64 usage\n");
}

struct cli {
	bool verbose;
	int status; /* exit status, set by the result */
};

static void on_trace(bool out, enum tp_proto proto, const struct tp_addr *peer, const char *buf,
		     size_t len, void *arg)
{
	char ab[64];

	(void)arg;
	fprintf(stderr, "%s %s %s (%zu bytes)\n%.*s\n", out ? "sent to" : "received from",
		tp_proto_name(proto), tp_addr_fmt(peer, ab, sizeof(ab)), len, (int)len, buf);
}

static void on_result(const struct ua_result *res, void *arg)
{
	struct cli *c = arg;

	if (res->resp) {
		const struct sip_msg *m = res->resp;

		if (c->verbose) {
			fwrite(m->buf, 1, m->len, stdout);
		} else {
			ptrdiff_t eol = str_chr(m->head, '\r');

			printf("%.*s\n", (int)(eol >= 0 ? eol : (ptrdiff_t)m->head.len), m->head.s);
		}
		c->status = res->status < 300 ? 0 : EXIT_REJECTED;
	} else {
		printf("%u %.*s (%s)\n", res->status, STR_FMT(res->reason), res->why);
		c->status = res->status == 408 ? EXIT_TIMEOUT : EXIT_TRANSPORT;
	}
	fflush(stdout);
}

/* Append a header line to the extra headers: "Name: value", no CR or LF. */
static int add_header(char *buf, size_t *len, const char *h)
{
	const char *colon = strchr(h, ':');
	size_t n = strlen(h);

	if (!colon || colon == h || strpbrk(h, "\r\n") || strcspn(h, " \t:") != (size_t)(colon - h))
		return -EINVAL;
	if (*len + n + 2 > EXTRA_MAX)
		return -ENOSPC;
	memcpy(buf + *len, h, n);
	memcpy(buf + *len + n, "\r\n", 2);
	*len += n + 2;
	return 0;
}

/* "X-Pad: xxx...", BYTES long with its CRLF. */
static int add_pad(char *buf, size_t *len, uint32_t bytes)
{
	static const char name[] = "X-Pad: ";
	size_t fill = bytes - (sizeof(name) - 1) - 2;

	if (*len + bytes > EXTRA_MAX)
		return -ENOSPC;
	memcpy(buf + *len, name, sizeof(name) - 1);
	memset(buf + *len + sizeof(name) - 1, 'x', fill);
	memcpy(buf + *len + sizeof(name) - 1 + fill, "\r\n", 2);
	*len += bytes;
	return 0;
}

static int parse_u32(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CA = 256, OPT_DNS, OPT_T1, OPT_PAD };
	static const struct option opts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, OPT_CA },
		{ "local", required_argument, NULL, 'l' },
		{ "dns-server", required_argument, NULL, OPT_DNS },
		{ "timeout-t1", required_argument, NULL, OPT_T1 },
		{ "header", required_argument, NULL, 'H' },
		{ "pad", required_argument, NULL, OPT_PAD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ua_uac_cfg cfg = { 0 };
	struct cli cli = { .status = EXIT_TRANSPORT };
	struct ua_send req = { .method = "OPTIONS" };
	struct ua_uac *u;
	const char *cmd, *uri;
	/* §11.1: Accept says what the UAC wants described (SDP) */
	static const char accept[] = "Accept: application/sdp\r\n";
	static char extra[EXTRA_MAX];
	size_t extra_len = sizeof(accept) - 1;
	uint32_t pad;
	int c, rc;

	memcpy(extra, accept, extra_len);

	/* GNU getopt permutes: options may follow the command and the URI */
	while ((c = getopt_long(argc, argv, "t:l:H:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "udp") == 0)
				cfg.protos = DNS_PROTO_BIT(TP_UDP);
			else if (strcmp(optarg, "tcp") == 0)
				cfg.protos = DNS_PROTO_BIT(TP_TCP);
			else if (strcmp(optarg, "tls") == 0)
				cfg.protos = DNS_PROTO_BIT(TP_TLS);
			else {
				fprintf(stderr, "siphon: --transport: expected udp, tcp or tls\n");
				return EXIT_USAGE;
			}
			break;
		case OPT_CA:
			cfg.ca_file = optarg;
			break;
		case 'l':
			cfg.local = optarg;
			break;
		case OPT_DNS:
			cfg.dns_servers = optarg;
			break;
		case OPT_T1:
			if (parse_u32(optarg, 1, 60000, &cfg.t1_ms) < 0) {
				fprintf(stderr, "siphon: --timeout-t1: expected 1 to 60000 ms\n");
				return EXIT_USAGE;
			}
			break;
		case 'H':
			rc = add_header(extra, &extra_len, optarg);
			if (rc) {
				fprintf(stderr, "siphon: --header: %s\n", rc == -ENOSPC
					? "too many header bytes" : "expected 'Name: value'");
				return EXIT_USAGE;
			}
			break;
		case OPT_PAD:
			if (parse_u32(optarg, 10, EXTRA_MAX, &pad) < 0 ||
			    add_pad(extra, &extra_len, pad) < 0) {
				fprintf(stderr, "siphon: --pad: expected 10 to %d bytes in all\n",
					EXTRA_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			cli.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("siphon %s\n", SIPHON_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "options") != 0) {
		if (argc - optind >= 1 && strcmp(argv[optind], "options") != 0)
			fprintf(stderr, "siphon: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	uri = argv[optind + 1];
	(void)cmd;

	signal(SIGPIPE, SIG_IGN); /* a peer closing mid-write is an error, not death */
	log_set_level(cli.verbose ? LOG_INFO : LOG_WARN);
	if (cli.verbose) {
		cfg.trace = on_trace;
		cfg.trace_arg = &cli;
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
	req.uri = uri;
	req.extra = str_make(extra, extra_len);
	rc = ua_uac_send(u, &req, on_result, &cli);
	if (rc == -EINVAL || rc == -EPROTONOSUPPORT) {
		if (rc == -EPROTONOSUPPORT) /* -EINVAL was logged with its reason */
			fprintf(stderr, "siphon: %s: its transport cannot be used here\n", uri);
		ua_uac_destroy(u);
		return EXIT_USAGE;
	}
	if (rc == 0)
		rc = ua_uac_run(u);
	if (rc) {
		fprintf(stderr, "siphon: %s\n", strerror(-rc));
		cli.status = EXIT_TRANSPORT;
	}
	ua_uac_destroy(u);
	return cli.status;
}
