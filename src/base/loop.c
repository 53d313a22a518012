#include "base/loop.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 64

/* fd table slot, indexed by the fd number. The generation is stored in the
 * epoll event too, so an event fetched for an fd that was deleted (and maybe
 * reused by accept) earlier in the same round is recognised as stale. */
struct loop_slot {
	loop_fd_cb cb;
	void *arg;
	uint32_t gen;
	bool used;
};

struct loop {
	int epfd;
	bool stop;
	uint64_t now;

	struct loop_slot *slots;
	size_t nslots;
	uint32_t gen;

	struct loop_timer **heap;
	size_t nheap, capheap;

	/* the many short protocol timers (transactions) live on a wheel */
	struct wheel wheel;

	int sigfd;
	sigset_t sigs;    /* signals we blocked, restored on destroy */
	loop_signal_cb sigcb[65];
	void *sigarg[65];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

int loop_create(struct loop **out)
{
	struct loop *l = mem_zalloc(sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		mem_free(l);
		return err;
	}
	l->sigfd = -1;
	l->now = mono_ms();
	wheel_init(&l->wheel, l->now);
	sigemptyset(&l->sigs);
	l->now = mono_ms();
	*out = l;
	return 0;
}

void loop_destroy(struct loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0) {
		close(l->sigfd);
		/* drop what arrived meanwhile instead of dying on unblock */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&l->sigs, NULL, &zero) > 0)
			;
		sigprocmask(SIG_UNBLOCK, &l->sigs, NULL);
	}
	close(l->epfd);
	mem_free(l->slots);
	mem_free(l->heap);
	mem_free(l);
}

static uint32_t to_epoll(unsigned ev)
{
	uint32_t e = 0;

	if (ev & LOOP_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (ev & LOOP_WRITE)
		e |= EPOLLOUT;
	return e;
}

static int grow_slots(struct loop *l, int fd)
{
	size_t n = l->nslots ? l->nslots : 64;
	struct loop_slot *s;

	while (n <= (size_t)fd)
		n *= 2;
	s = mem_realloc(l->slots, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + l->nslots, 0, (n - l->nslots) * sizeof(*s));
	l->slots = s;
	l->nslots = n;
	return 0;
}

int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
	struct epoll_event ev = { 0 };
	struct loop_slot *s;
	int err;

	if (fd < 0 || !cb)
		return -EINVAL;
	if ((size_t)fd >= l->nslots && (err = grow_slots(l, fd)) < 0)
		return err;
	s = &l->slots[fd];
	if (s->used)
		return -EEXIST;
	ev.events = to_epoll(events);
	ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)++l->gen << 32);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	s->cb = cb;
	s->arg = arg;
	s->gen = l->gen;
	s->used = true;
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, unsigned events)
{
	struct epoll_event ev = { 0 };

	if (fd < 0 || (size_t)fd >= l->nslots || !l->slots[fd].used)
		return -ENOENT;
	ev.events = to_epoll(events);
	ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)l->slots[fd].gen << 32);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int loop_fd_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nslots || !l->slots[fd].used)
		return -ENOENT;
	l->slots[fd].used = false;
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		return -errno;
	return 0;
}

/* ---- timers: binary min-heap on due time; t->idx is 1-based ---- */

static void heap_set(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (l->heap[p]->due <= t->due)
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->due < l->heap[c]->due)
			c++;
		if (t->due <= l->heap[c]->due)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	size_t i;
	struct loop_timer *last;

	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->idx - 1);
}

int loop_timer_add(struct loop *l, struct loop_timer *t, uint64_t delay_ms, loop_timer_cb cb,
		   void *arg)
{
	if (!t->idx && l->nheap == l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 16;
		struct loop_timer **h = mem_realloc(l->heap, n * sizeof(*h));

		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->capheap = n;
	}
	loop_timer_cancel(l, t);
	t->due = mono_ms() + delay_ms;
	t->cb = cb;
	t->arg = arg;
	heap_set(l, l->nheap++, t);
	heap_up(l, l->nheap - 1);
	return 0;
}

static void run_timers(struct loop *l)
{
	/* bounded by what is due now, so a timer re-armed with 0 ms from its own
	 * callback waits for the next round instead of starving the fds */
	uint64_t now = l->now;

	while (l->nheap && l->heap[0]->due <= now && !l->stop) {
		struct loop_timer *t = l->heap[0];

		loop_timer_cancel(l, t);
		t->cb(t->arg);
		now = l->now;
	}
}

static int next_timeout(const struct loop *l)
{
	uint64_t d = wheel_next(&l->wheel, 3600000);

	if (l->nheap) {
		uint64_t h = l->heap[0]->due <= l->now ? 0 : l->heap[0]->due - l->now;
		if (h < d)
			d = h;
	}
	if (d >= 3600000 && !l->nheap && l->wheel.count == 0)
		return -1;
	return (int)d;
}

struct wheel *loop_wheel(struct loop *l)
{
	return &l->wheel;
}

/* ---- signals ---- */

static void on_signal(int fd, unsigned events, void *arg)
{
	struct loop *l = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo > 0 && signo <= 64 && l->sigcb[signo])
			l->sigcb[signo](signo, l->sigarg[signo]);
	}
}

int loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	sigset_t one;
	int fd, err;

	if (signo <= 0 || signo > 64 || !cb)
		return -EINVAL;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
		return -errno;
	sigaddset(&l->sigs, signo);
	fd = signalfd(l->sigfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		err = loop_fd_add(l, fd, LOOP_READ, on_signal, l);
		if (err < 0) {
			close(fd);
			l->sigfd = -1;
			sigprocmask(SIG_UNBLOCK, &l->sigs, NULL);
			sigemptyset(&l->sigs);
			return err;
		}
	}
	l->sigcb[signo] = cb;
	l->sigarg[signo] = arg;
	return 0;
}

/* ---- running ---- */

void loop_stop(struct loop *l)
{
	l->stop = true;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];

	l->stop = false;
	while (!l->stop) {
		int n;

		l->now = mono_ms();
		wheel_advance(&l->wheel, l->now);
		n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, next_timeout(l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("loop", "epoll_wait: %s", strerror(errno));
			return -errno;
		}
		l->now = mono_ms();
		/* bring the wheel to now first, so that timers armed by the fd
		 * callbacks below count from the real time, not from before the
		 * sleep */
		wheel_advance(&l->wheel, l->now);
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			uint32_t e = evs[i].events;
			unsigned ready = 0;
			struct loop_slot *s;

			if ((size_t)fd >= l->nslots)
				continue;
			s = &l->slots[fd];
			if (!s->used || s->gen != gen)
				continue; /* deleted earlier in this round */
			if (e & (EPOLLIN | EPOLLRDHUP))
				ready |= LOOP_READ;
			if (e & EPOLLOUT)
				ready |= LOOP_WRITE;
			if (e & (EPOLLERR | EPOLLHUP))
				ready |= LOOP_ERR;
			s->cb(fd, ready, s->arg);
		}
		run_timers(l);
		if (!l->stop)
			wheel_advance(&l->wheel, l->now);
	}
	return 0;
}
