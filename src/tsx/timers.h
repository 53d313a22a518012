/* Transaction timer values (RFC 3261 §17, Table 4 in Appendix A; RFC 6026 §8).
 * T1, T2 and T4 are configurable; every other timer is derived from them. */
#ifndef SIPHON_TSX_TIMERS_H
#define SIPHON_TSX_TIMERS_H

#include <stdint.h>

#define TSX_T1_DEFAULT 500u   /* RTT estimate */
#define TSX_T2_DEFAULT 4000u  /* cap on non-INVITE request and INVITE response retransmits */
#define TSX_T4_DEFAULT 5000u  /* how long a message may stay in the network */
#define TSX_TD_DEFAULT 32000u /* Timer D: "at least 32 s" for unreliable transports */

/* Milliseconds. */
struct tsx_timers {
	uint32_t t1, t2, t4;
	uint32_t td;
};

extern const struct tsx_timers tsx_timers_default;

/* Timer A/E/G initial interval (unreliable transports only). */
static inline uint32_t tsx_timer_a(const struct tsx_timers *c) { return c->t1; }
/* Timers B, F, H (§17.1.1.2, §17.1.2.2, §17.2.1), L and M (RFC 6026 §8.4,
 * §8.7) and J (§17.2.2, unreliable only): 64*T1. */
static inline uint32_t tsx_timer_64t1(const struct tsx_timers *c) { return 64u * c->t1; }
/* Timer D: td for unreliable transports, 0 for reliable ones (§17.1.1.2). */
static inline uint32_t tsx_timer_d(const struct tsx_timers *c, int reliable)
{
	return reliable ? 0 : c->td;
}
/* Timers I and K: T4 for unreliable transports, 0 for reliable ones. */
static inline uint32_t tsx_timer_t4(const struct tsx_timers *c, int reliable)
{
	return reliable ? 0 : c->t4;
}
/* Delay before a server INVITE transaction sends 100 Trying itself (§17.2.1). */
#define TSX_TRYING_DELAY_MS 200u

#endif
