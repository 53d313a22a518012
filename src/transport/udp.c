#include "transport/udp.h"

#include "base/log.h"
#include "base/mem.h"
#include "transport/egress.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The largest UDP payload; one spare byte detects truncation. */
#define UDP_BUF 65536
/* Datagrams read per wake-up before yielding to other fds (level-triggered,
 * so the rest is read on the next round). */
#define UDP_BATCH 256

struct tp_udp {
	struct loop *loop;
	int fd;
	struct tp_addr local;
	const struct tp_egress *egress;
	tp_udp_recv_cb cb;
	void *arg;
	char buf[UDP_BUF];
};

const struct tp_addr *tp_udp_local(const struct tp_udp *u)
{
	return &u->local;
}

static void on_readable(int fd, unsigned events, void *arg)
{
	struct tp_udp *u = arg;

	(void)events;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct tp_addr src;
		ssize_t n;

		memset(&src, 0, sizeof(src));
		src.len = sizeof(src.ss);
		n = recvfrom(fd, u->buf, sizeof(u->buf), MSG_TRUNC, (struct sockaddr *)&src.ss,
			     &src.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				/* e.g. ECONNREFUSED from an earlier ICMP error: not fatal */
				log_debug("udp", "recvfrom: %s", strerror(errno));
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;
		}
		if ((size_t)n >= sizeof(u->buf)) {
			log_debug("udp", "dropped a datagram of %zd bytes", n);
			continue;
		}
		u->cb(u, u->buf, (size_t)n, &src, u->arg);
	}
}

int tp_udp_create(struct tp_udp **out, struct loop *l, const struct tp_addr *addr,
		  tp_udp_recv_cb cb, void *arg)
{
	struct tp_udp *u;
	int one = 1, err;

	u = mem_zalloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->loop = l;
	u->cb = cb;
	u->arg = arg;
	u->fd = socket(addr->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		err = -errno;
		mem_free(u);
		return err;
	}
	setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(u->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail_errno;
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(u->fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		goto fail_errno;
	u->local.len = sizeof(u->local.ss);
	if (getsockname(u->fd, (struct sockaddr *)&u->local.ss, &u->local.len) < 0)
		goto fail_errno;
	err = loop_fd_add(l, u->fd, LOOP_READ, on_readable, u);
	if (err < 0)
		goto fail;
	*out = u;
	return 0;
fail_errno:
	err = -errno;
fail:
	close(u->fd);
	mem_free(u);
	return err;
}

int tp_udp_probe(const struct tp_addr *addr)
{
	int one = 1, fd, err = 0;

	if (!tp_addr_port(addr))
		return 0; /* a port of our own: nobody to share it with */
	fd = socket(addr->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* neither SO_REUSEADDR nor SO_REUSEPORT: any socket on the address,
	 * another siphond's included, makes this bind fail */
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		err = -errno;
	close(fd);
	return err;
}

void tp_udp_destroy(struct tp_udp *u)
{
	if (!u)
		return;
	loop_fd_del(u->loop, u->fd);
	close(u->fd);
	mem_free(u);
}

void tp_udp_set_egress(struct tp_udp *u, const struct tp_egress *e)
{
	u->egress = e;
}

int tp_udp_send(struct tp_udp *u, const void *buf, size_t len, const struct tp_addr *dst)
{
	if (u->egress && !tp_egress_permits(u->egress, dst)) {
		char ab[64];

		log_warn("egress", "UDP to %s denied by the egress policy: dropped",
			 tp_addr_fmt(dst, ab, sizeof(ab)));
		return -EACCES;
	}
	for (;;) {
		ssize_t n = sendto(u->fd, buf, len, MSG_NOSIGNAL, (const struct sockaddr *)&dst->ss,
				   dst->len);

		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}
