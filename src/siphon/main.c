/* siphon: the command-line user agent.
 *
 *   siphon register                 register --user, refresh, unregister at the end
 *   siphon call URI                 call, talk, hang up
 *   siphon listen                   register and answer / reject calls, print MESSAGEs
 *   siphon message URI TEXT         send a MESSAGE (RFC 3428)
 *   siphon options URI              send OPTIONS (RFC 3261 §11) and print the answer
 *
 * Options are parsed here (global ones and each command's) and the command
 * runs from its own file. The exit statuses are in cli.h and siphon(1). */
#include "siphon/cli.h"

#include "base/log.h"
#include "dns/dns.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siphon [global options] COMMAND [options]\n"
		"commands:\n"
		"  register [--expires N] [--duration S]\n"
		"  call URI [--play in.wav] [--record out.wav] [--duration S] [--dtmf DIGITS]\n"
		"           [--hold AT:LEN] [--count N] [--interactive]\n"
		"  listen [--auto-answer] [--answer-after S] [--reject CODE] [--play in.wav]\n"
		"         [--record out.wav] [--duration S] [--dtmf DIGITS] [--no-register]\n"
		"         [--interactive]\n"
		"  message URI TEXT\n"
		"  options URI [--transport udp|tcp|tls] [--ca-file FILE] [-H 'Name: value']...\n"
		"              [--pad BYTES]\n"
		"global options:\n"
		"  -u, --user URI        identity and address-of-record (sip:alice@example.com)\n"
		"      --password-file F digest password (first line of F)\n"
		"      --proxy URI       outbound proxy (default: RFC 3263 on the target)\n"
		"  -l, --listen ADDR     local IP[:PORT] (default 127.0.0.1, any free port);\n"
		"                        --local is the same\n"
		"      --dns-server S    DNS server(s) IP:PORT[,...] (default: resolv.conf)\n"
		"      --timeout-t1 MS   RFC 3261 T1 (default 500); no answer after 64*T1\n"
		"      --json            one JSON object per event on stdout\n"
		"  -v, --verbose         trace every SIP message on stderr\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"command options:\n"
		"      --expires N       registration lifetime asked for (default 3600)\n"
		"      --duration S      register/listen: run S seconds; call: talk S seconds\n"
		"                        (default: until Ctrl-C or the far end hangs up)\n"
		"      --play F          send this WAV (8 kHz mono 16-bit best) as G.711\n"
		"      --record F        record the received audio to this WAV\n"
		"      --dtmf DIGITS     send these RFC 4733 digits once the call is answered\n"
		"      --hold AT:LEN     call: hold (re-INVITE sendonly) AT s after the answer,\n"
		"                        resume LEN s later\n"
		"      --count N         call: N calls one after another\n"
		"      --auto-answer     listen: answer incoming calls\n"
		"      --answer-after S  listen: ring S seconds before answering (default 0)\n"
		"      --reject CODE     listen: reject incoming calls with CODE (486: busy)\n"
		"      --no-register     listen: do not register --user\n"
		"      --interactive     call, listen: read commands from stdin: a (answer),\n"
		"                        h (hang up), hold, resume, DTMF digits, q (quit)\n"
		"exit status: 0 answered / 2xx, 1 rejected (other final response),\n"
		"  2 no response, 3 transport or DNS error, 4 busy (486/600),\n"
		"  5 no answer (480/408/487), 6 authentication failed, 7 cancelled by us,\n"
		"  8 no media in common (488/606) or no RTP ports, 64 bad usage\n");
}

/* Append a header line to the extra headers: "Name: value", no CR or LF. */
static int add_header(struct cli_opts *o, const char *h)
{
	const char *colon = strchr(h, ':');
	size_t n = strlen(h);

	if (!colon || colon == h || strpbrk(h, "\r\n") || strcspn(h, " \t:") != (size_t)(colon - h))
		return -EINVAL;
	if (o->extra_len + n + 2 > CLI_EXTRA_MAX)
		return -ENOSPC;
	memcpy(o->extra + o->extra_len, h, n);
	memcpy(o->extra + o->extra_len + n, "\r\n", 2);
	o->extra_len += n + 2;
	return 0;
}

/* "X-Pad: xxx...", BYTES long with its CRLF. */
static int add_pad(struct cli_opts *o, uint32_t bytes)
{
	static const char name[] = "X-Pad: ";
	size_t fill = bytes - (sizeof(name) - 1) - 2;

	if (o->extra_len + bytes > CLI_EXTRA_MAX)
		return -ENOSPC;
	memcpy(o->extra + o->extra_len, name, sizeof(name) - 1);
	memset(o->extra + o->extra_len + sizeof(name) - 1, 'x', fill);
	memcpy(o->extra + o->extra_len + sizeof(name) - 1 + fill, "\r\n", 2);
	o->extra_len += bytes;
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

static int parse_secs(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 1e6)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_hold(const char *s, struct cli_opts *o)
{
	char a[32];
	const char *colon = strchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, (size_t)(colon - s));
	a[colon - s] = 0;
	if (parse_secs(a, &o->hold_at) < 0 || parse_secs(colon + 1, &o->hold_len) < 0)
		return -EINVAL;
	return 0;
}

static int bad(const char *what)
{
	fprintf(stderr, "siphon: %s\n", what);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	enum {
		OPT_CA = 256, OPT_DNS, OPT_T1, OPT_PAD, OPT_PW, OPT_PROXY, OPT_JSON, OPT_EXPIRES,
		OPT_DURATION, OPT_PLAY, OPT_RECORD, OPT_DTMF, OPT_AUTO, OPT_REJECT, OPT_COUNT,
		OPT_HOLD, OPT_AFTER, OPT_NOREG, OPT_INTER,
	};
	static const struct option opts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, OPT_CA },
		{ "local", required_argument, NULL, 'l' },
		{ "listen", required_argument, NULL, 'l' },
		{ "dns-server", required_argument, NULL, OPT_DNS },
		{ "timeout-t1", required_argument, NULL, OPT_T1 },
		{ "header", required_argument, NULL, 'H' },
		{ "pad", required_argument, NULL, OPT_PAD },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, OPT_PW },
		{ "proxy", required_argument, NULL, OPT_PROXY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "play", required_argument, NULL, OPT_PLAY },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "dtmf", required_argument, NULL, OPT_DTMF },
		{ "auto-answer", no_argument, NULL, OPT_AUTO },
		{ "reject", required_argument, NULL, OPT_REJECT },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "answer-after", required_argument, NULL, OPT_AFTER },
		{ "no-register", no_argument, NULL, OPT_NOREG },
		{ "interactive", no_argument, NULL, OPT_INTER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* static: the extra header buffer is a few KiB */
	static struct cli_opts o;
	static const char accept[] = "Accept: application/sdp\r\n";
	uint32_t pad;
	int c, rc, nargs;

	o.duration = -1;
	o.hold_at = -1;
	/* §11.1: Accept says what the UAC wants described (SDP) */
	memcpy(o.extra, accept, sizeof(accept) - 1);
	o.extra_len = sizeof(accept) - 1;

	/* GNU getopt permutes: options may follow the command and the URI */
	while ((c = getopt_long(argc, argv, "t:l:H:u:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "udp") == 0)
				o.protos = DNS_PROTO_BIT(TP_UDP);
			else if (strcmp(optarg, "tcp") == 0)
				o.protos = DNS_PROTO_BIT(TP_TCP);
			else if (strcmp(optarg, "tls") == 0)
				o.protos = DNS_PROTO_BIT(TP_TLS);
			else
				return bad("--transport: expected udp, tcp or tls");
			break;
		case OPT_CA:
			o.ca_file = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case OPT_DNS:
			o.dns_server = optarg;
			break;
		case OPT_T1:
			if (parse_u32(optarg, 1, 60000, &o.t1_ms) < 0)
				return bad("--timeout-t1: expected 1 to 60000 ms");
			break;
		case 'H':
			rc = add_header(&o, optarg);
			if (rc)
				return bad(rc == -ENOSPC ? "--header: too many header bytes"
							 : "--header: expected 'Name: value'");
			break;
		case OPT_PAD:
			if (parse_u32(optarg, 10, CLI_EXTRA_MAX, &pad) < 0 || add_pad(&o, pad) < 0) {
				fprintf(stderr, "siphon: --pad: expected 10 to %d bytes in all\n",
					CLI_EXTRA_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'u':
			o.user = optarg;
			break;
		case OPT_PW:
			o.password_file = optarg;
			break;
		case OPT_PROXY:
			o.proxy = optarg;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_EXPIRES:
			if (parse_u32(optarg, 1, 86400 * 7, &o.expires) < 0)
				return bad("--expires: expected 1 to 604800 seconds");
			break;
		case OPT_DURATION:
			if (parse_secs(optarg, &o.duration) < 0)
				return bad("--duration: expected seconds");
			break;
		case OPT_PLAY:
			o.play = optarg;
			break;
		case OPT_RECORD:
			o.record = optarg;
			break;
		case OPT_DTMF:
			if (!*optarg || strspn(optarg, "0123456789*#ABCDabcd") != strlen(optarg))
				return bad("--dtmf: expected digits 0-9 * # A-D");
			o.dtmf = optarg;
			break;
		case OPT_AUTO:
			o.auto_answer = true;
			break;
		case OPT_REJECT:
			if (parse_u32(optarg, 300, 699, &o.reject) < 0)
				return bad("--reject: expected a code from 300 to 699");
			break;
		case OPT_COUNT:
			if (parse_u32(optarg, 1, 10000000, &o.count) < 0)
				return bad("--count: expected a number of calls");
			break;
		case OPT_HOLD:
			if (parse_hold(optarg, &o) < 0)
				return bad("--hold: expected AT:LEN in seconds");
			break;
		case OPT_AFTER:
			if (parse_secs(optarg, &o.answer_after) < 0)
				return bad("--answer-after: expected seconds");
			break;
		case OPT_NOREG:
			o.no_register = true;
			break;
		case OPT_INTER:
			o.interactive = true;
			break;
		case 'v':
			o.verbose = true;
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
	nargs = argc - optind;
	o.cmd = nargs > 0 ? argv[optind] : "";
	signal(SIGPIPE, SIG_IGN); /* a peer closing mid-write is an error, not death */
	log_set_level(o.verbose ? LOG_INFO : LOG_WARN);
	if (strcmp(o.cmd, "options") == 0 && nargs == 2) {
		o.uri = argv[optind + 1];
		return cmd_options(&o);
	}
	if (strcmp(o.cmd, "message") == 0 && nargs == 3) {
		o.uri = argv[optind + 1];
		o.text = argv[optind + 2];
		return cmd_message(&o);
	}
	if (strcmp(o.cmd, "call") == 0 && nargs == 2) {
		o.uri = argv[optind + 1];
		return cmd_call(&o);
	}
	if (strcmp(o.cmd, "register") == 0 && nargs == 1)
		return cmd_register(&o);
	if (strcmp(o.cmd, "listen") == 0 && nargs == 1)
		return cmd_listen(&o);
	if (nargs >= 1 && strcmp(o.cmd, "options") && strcmp(o.cmd, "message") &&
	    strcmp(o.cmd, "call") && strcmp(o.cmd, "register") && strcmp(o.cmd, "listen"))
		fprintf(stderr, "siphon: unknown command '%s'\n", o.cmd);
	usage(stderr);
	return EXIT_USAGE;
}
