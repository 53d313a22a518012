/* Messages timed by bench_parse: three typical ones built in, plus a set of
 * RFC 4475 valid torture messages read from the corpus. */
#ifndef SIPHON_BENCH_PARSE_MESSAGES_H
#define SIPHON_BENCH_PARSE_MESSAGES_H

#include <stddef.h>

struct bench_msg {
	const char *name;
	const char *buf;
	size_t len;
};

/* The typical INVITE with SDP, REGISTER with digest credentials and 200 OK
 * to an INVITE. */
extern const struct bench_msg bench_typical[];
extern const size_t bench_ntypical;

/* RFC 4475 §3.1.1 valid messages that the benchmark times. */
extern const char *const bench_rfc4475_names[];
extern const size_t bench_nrfc4475;

#endif
