/* Transaction matching keys (RFC 3261 §17.1.3, §17.2.3, §9.2). A key built
 * from a message holds slices into that message's buffer; a transaction
 * keeps its own copy (tsx_key_copy) since the receive buffer goes away. */
#ifndef SIPHON_TSX_KEY_H
#define SIPHON_TSX_KEY_H

#include "base/str.h"
#include "msg/msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSX_MAGIC_COOKIE "z9hG4bK" /* RFC 3261 §8.1.1.7 */

enum tsx_side {
	TSX_SIDE_CLIENT = 0,
	TSX_SIDE_SERVER = 1,
};

struct tsx_key {
	uint32_t cseq;       /* RFC 2543 fallback */
	uint32_t hash;
	uint16_t port;       /* server side: sent-by port, the transport's default when absent */
	uint8_t side;        /* enum tsx_side */
	bool rfc3261;        /* branch starts with the magic cookie */
	bool is_ack;         /* lookup key of an ACK: matches its INVITE (server side) */
	struct str branch;
	struct str method;   /* request method; ACK is keyed as INVITE */
	/* server side, RFC 3261 branch: sent-by host of the top Via */
	struct str host;
	/* server side, RFC 2543 fallback (§17.2.3) */
	struct str ruri, call_id, from_tag, to_tag, via;
};

/* Server-side key of a request (§17.2.3): for an ACK the key names the
 * INVITE transaction it acknowledges. Slices point into m. Returns 0 or
 * -EINVAL when m has no usable top Via or CSeq. */
int tsx_key_request(struct tsx_key *k, const struct sip_msg *m);
/* Client-side key of a response (§17.1.3: top Via branch + CSeq method).
 * Returns 0 or -EINVAL (no branch). */
int tsx_key_response(struct tsx_key *k, const struct sip_msg *m);
/* Client-side key of a request we send (the branch we put in its top Via). */
int tsx_key_client_request(struct tsx_key *k, const struct sip_msg *m);
/* The same key from the branch we put in our Via and the method, for a
 * request we built ourselves and need not parse again. */
int tsx_key_client(struct tsx_key *k, struct str branch, struct str method);
/* Server-side key of the INVITE a CANCEL cancels (§9.2): the CANCEL's key
 * with method INVITE. */
int tsx_key_cancelled(struct tsx_key *k, const struct sip_msg *cancel);

/* Bytes tsx_key_copy() needs for k's slices. */
size_t tsx_key_size(const struct tsx_key *k);
/* Copy k into dst, its slices into buf (at least tsx_key_size(k) bytes).
 * Returns the bytes of buf used. */
size_t tsx_key_copy(struct tsx_key *dst, const struct tsx_key *k, char *buf);

/* Does lookup key k name the transaction with stored key tk? resp_to_tag is
 * the To tag of the final response the server transaction sent (2543 ACK
 * matching), acked whether an ACK may still match (the INVITE server
 * transaction is in Completed or Confirmed, never Accepted). */
bool tsx_key_match(const struct tsx_key *tk, const struct tsx_key *k, struct str resp_to_tag,
		   bool ack_ok);

#endif
