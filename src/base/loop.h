/* Event loop: epoll for file descriptors, a binary min-heap of monotonic
 * timers, and a signalfd so that signals are handled as ordinary events (no
 * async-signal-safe code anywhere). One loop per thread; not thread-safe. */
#ifndef SIPHON_BASE_LOOP_H
#define SIPHON_BASE_LOOP_H

#include "base/wheel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

/* Interest and readiness bits (LOOP_ERR is only ever reported). */
#define LOOP_READ  0x1u
#define LOOP_WRITE 0x2u
#define LOOP_ERR   0x4u /* EPOLLERR or EPOLLHUP: read to learn why */

typedef void (*loop_fd_cb)(int fd, unsigned events, void *arg);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_signal_cb)(int signo, void *arg);

/* A timer is owned by the caller (usually embedded in its object), so arming
 * one never allocates except to grow the heap. Zero-initialise before use. */
struct loop_timer {
	uint64_t due;     /* monotonic ms */
	size_t idx;       /* heap index + 1; 0 = not pending */
	loop_timer_cb cb;
	void *arg;
};

int loop_create(struct loop **out);
/* Closes the signalfd and restores the signal mask; the caller must have
 * removed its fds (they are not closed here: the loop never owns them). */
void loop_destroy(struct loop *l);

/* Watch fd; cb runs with the ready LOOP_* bits. Returns 0, -EEXIST, -ENOMEM,
 * or the negated errno of epoll_ctl. */
int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg);
int loop_fd_mod(struct loop *l, int fd, unsigned events);
/* Stop watching fd. Safe from inside any callback: an event already fetched
 * for fd in the current round is not delivered. Call before close(fd). */
int loop_fd_del(struct loop *l, int fd);

/* Arm t to fire once after delay_ms (re-arming a pending timer moves it).
 * Returns 0 or -ENOMEM. */
int loop_timer_add(struct loop *l, struct loop_timer *t, uint64_t delay_ms, loop_timer_cb cb,
		   void *arg);
/* Disarm t; harmless if it is not pending. */
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_pending(const struct loop_timer *t)
{
	return t->idx != 0;
}

/* Deliver signo through the loop: it is blocked for the calling thread and
 * read from a signalfd. Returns 0, -EINVAL, or a negated errno. */
int loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* Monotonic milliseconds, as cached at the start of the current round. */
uint64_t loop_now(const struct loop *l);

/* The loop's timing wheel (base/wheel.h), advanced to loop_now() after
 * every round; for the many short protocol timers. Same thread only. */
struct wheel *loop_wheel(struct loop *l);

/* Run until loop_stop(). Returns 0, or a negated errno if epoll fails. */
int loop_run(struct loop *l);
/* Make loop_run() return after the current round (call from a callback). */
void loop_stop(struct loop *l);

#endif
