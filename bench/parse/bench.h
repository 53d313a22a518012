/* The parsers under test, one file each. Every function parses buf[0..len)
 * as one datagram and returns 0 when the parser accepted it with its core
 * headers (Via, From, To, Call-ID, CSeq) present, nonzero otherwise. */
#ifndef SIPHON_BENCH_PARSE_BENCH_H
#define SIPHON_BENCH_PARSE_BENCH_H

#include <stddef.h>

/* sip_msg_parse() as a proxy calls it: framing, header index, start line and
 * the eagerly checked headers. */
int bench_siphon_parse(const char *buf, size_t len);
/* sip_msg_parse() plus every header-specific parser Siphon has, applied to
 * every header it fits. Returns the number of values that failed to parse. */
int bench_siphon_full_parse(const char *buf, size_t len);

/* GNU oSIP2: osip_message_init + osip_message_parse + osip_message_free. */
int bench_osip_init(void);
int bench_osip_parse(const char *buf, size_t len);

/* sofia-sip: msg_create + msg_buf_alloc/commit + msg_extract + msg_destroy. */
int bench_sofia_parse(const char *buf, size_t len);
/* The same, then a walk over every parsed header and the digest parameters
 * of credentials decoded (auth_digest_response_get), the closest
 * equivalent of bench_siphon_full_parse(). */
int bench_sofia_parse_touch(const char *buf, size_t len);
/* Number of headers sofia-sip kept as unparsable (sip_error), or -1 if the
 * message itself was rejected. */
int bench_sofia_bad_headers(const char *buf, size_t len);

#endif
