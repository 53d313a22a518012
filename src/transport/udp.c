#include "transport/udp.h"

#include "base/log.h"
#include "base/mem.h"
#include "transport/egress.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The largest UDP payload; one spare byte detects truncation. */
#define UDP_BUF 65536
/* Datagrams read per wake-up before yielding to other fds (level-triggered,
 * so the rest is read on the next round). */
#define UDP_BATCH 256
/* Datagrams per recvmmsg(): a wake-up that finds fewer than this many makes
 * one system call, not one per datagram plus a last one that says EAGAIN. */
#define UDP_MMSG 8

struct tp_udp {
	struct loop *loop;
	int fd;
	struct tp_addr local;
	bool wildcard;           /* bound to 0.0.0.0 / ::: learn each datagram's address */
	struct tp_addr rx_local; /* where the datagram being handled was sent */
	const struct tp_egress *egress;
	tp_udp_recv_cb cb;
	void *arg;
	char buf[UDP_MMSG][UDP_BUF];
};

const struct tp_addr *tp_udp_local(const struct tp_udp *u)
{
	return &u->local;
}

const struct tp_addr *tp_udp_rx_local(const struct tp_udp *u)
{
	return &u->rx_local;
}

bool tp_udp_is_wildcard(const struct tp_udp *u)
{
	return u->wildcard;
}

/* The destination address of a datagram from its IP_PKTINFO /
 * IPV6_PKTINFO control message, with our port. */
static void rx_local_from(struct tp_udp *u, struct msghdr *mh)
{
	u->rx_local = u->local;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in *)&u->rx_local.ss)->sin_addr = pi.ipi_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in6 *)&u->rx_local.ss)->sin6_addr = pi.ipi6_addr;
		}
	}
}

union udp_ctl {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

static void on_readable(int fd, unsigned events, void *arg)
{
	struct tp_udp *u = arg;
	struct mmsghdr mm[UDP_MMSG];
	struct tp_addr src[UDP_MMSG];
	struct iovec iov[UDP_MMSG];
	union udp_ctl ctl[UDP_MMSG];

	(void)events;
	for (int round = 0; round < UDP_BATCH / UDP_MMSG; round++) {
		int n;

		for (int i = 0; i < UDP_MMSG; i++) {
			iov[i] = (struct iovec){ u->buf[i], UDP_BUF };
			memset(&src[i], 0, sizeof(src[i]));
			mm[i].msg_hdr = (struct msghdr){
				.msg_name = &src[i].ss, .msg_namelen = sizeof(src[i].ss),
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = u->wildcard ? ctl[i].buf : NULL,
				.msg_controllen = u->wildcard ? sizeof(ctl[i].buf) : 0 };
			mm[i].msg_len = 0;
		}
		n = recvmmsg(fd, mm, UDP_MMSG, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* e.g. ECONNREFUSED from an earlier ICMP error: not fatal */
			log_debug("udp", "recvmmsg: %s", strerror(errno));
			continue;
		}
		for (int i = 0; i < n; i++) {
			src[i].len = mm[i].msg_hdr.msg_namelen;
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC || mm[i].msg_len >= UDP_BUF) {
				log_debug("udp", "dropped a datagram of more than %u bytes",
					  mm[i].msg_len);
				continue;
			}
			if (u->wildcard)
				rx_local_from(u, &mm[i].msg_hdr);
			u->cb(u, u->buf[i], mm[i].msg_len, &src[i], u->arg);
		}
		if (n < UDP_MMSG)
			return; /* drained: no extra call just to hear EAGAIN */
	}
}

/* A burst (a callee answering a batch of calls from one socket lands on
 * one worker) must not overflow the kernel's default 208 KiB: ask for
 * TP_UDP_RCVBUF, beyond net.core.rmem_max when we may (CAP_NET_ADMIN). */
static void set_rcvbuf(int fd)
{
	int want = TP_UDP_RCVBUF, got = 0;
	socklen_t len = sizeof(got);

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got < want)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want));
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
	set_rcvbuf(u->fd);
	if (bind(u->fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		goto fail_errno;
	u->local.len = sizeof(u->local.ss);
	if (getsockname(u->fd, (struct sockaddr *)&u->local.ss, &u->local.len) < 0)
		goto fail_errno;
	u->rx_local = u->local;
	/* a wildcard socket learns each datagram's own address, so that the
	 * core knows which of ours it was for and replies come from it */
	if (addr->ss.ss_family == AF_INET &&
	    ((const struct sockaddr_in *)&addr->ss)->sin_addr.s_addr == htonl(INADDR_ANY)) {
		u->wildcard = true;
		if (setsockopt(u->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
			goto fail_errno;
	} else if (addr->ss.ss_family == AF_INET6 &&
		   IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&addr->ss)->sin6_addr)) {
		u->wildcard = true;
		if (setsockopt(u->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
			goto fail_errno;
	}
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

/* The program sees the datagram from its UDP payload on; SKF_NET_OFF
 * reaches the IP header. IPv4 without options (IHL 5) and IPv6 without
 * extension headers put the UDP source port at 20 and 40; a datagram with
 * them is hashed on other bytes, still the same ones for every datagram of
 * its flow. The hash is Fibonacci's: source address (folded) ^ port, times
 * 2^32 / phi, the top bits modulo active. */
int tp_udp_steer(struct tp_udp *u, unsigned active)
{
	const bool v6 = u->local.ss.ss_family == AF_INET6;
	struct sock_filter prog[24];
	struct sock_fprog fp = { 0, prog };
	unsigned n = 0;

	if (active == 0) {
		int dummy = 0;

		if (setsockopt(u->fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &dummy,
			       sizeof(dummy)) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (v6) {
		/* X = the four words of the source address, xored */
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 8);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
		for (unsigned w = 1; w < 4; w++) {
			prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
								 SKF_NET_OFF + 8 + 4 * w);
			prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
			prog[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
		}
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_NET_OFF + 40);
	} else {
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_NET_OFF + 20);
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b1u);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, active);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
	fp.len = (unsigned short)n;
	if (setsockopt(u->fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp, sizeof(fp)) < 0)
		return -errno;
	return 0;
}

unsigned tp_udp_steer_index(uint32_t ip, uint16_t port, unsigned active)
{
	return active ? (((ip ^ port) * 0x9e3779b1u) >> 16) % active : 0;
}

unsigned tp_udp_steer_index6(const uint8_t ip[16], uint16_t port, unsigned active)
{
	uint32_t x = 0;

	/* the program's four big-endian word loads, xored */
	for (int w = 0; w < 4; w++)
		x ^= (uint32_t)ip[4 * w] << 24 | (uint32_t)ip[4 * w + 1] << 16 |
		     (uint32_t)ip[4 * w + 2] << 8 | ip[4 * w + 3];
	return tp_udp_steer_index(x, port, active);
}

void tp_udp_set_egress(struct tp_udp *u, const struct tp_egress *e)
{
	u->egress = e;
}

int tp_udp_send(struct tp_udp *u, const void *buf, size_t len, const struct tp_addr *dst)
{
	return tp_udp_send_from(u, buf, len, dst, NULL);
}

int tp_udp_send_from(struct tp_udp *u, const void *buf, size_t len, const struct tp_addr *dst,
		     const struct tp_addr *from)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = (void *)&dst->ss, .msg_namelen = dst->len,
			     .msg_iov = &iov, .msg_iovlen = 1 };

	if (u->egress && !tp_egress_permits(u->egress, dst)) {
		char ab[64];

		log_warn("egress", "UDP to %s denied by the egress policy: dropped",
			 tp_addr_fmt(dst, ab, sizeof(ab)));
		return -EACCES;
	}
	/* a wildcard socket sends from the address the peer used */
	if (u->wildcard && from && from->ss.ss_family == u->local.ss.ss_family) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		cm = (struct cmsghdr *)ctl.buf;
		if (from->ss.ss_family == AF_INET) {
			struct in_pktinfo pi = { 0 };
			pi.ipi_spec_dst = ((const struct sockaddr_in *)&from->ss)->sin_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			struct in6_pktinfo pi = { 0 };
			pi.ipi6_addr = ((const struct sockaddr_in6 *)&from->ss)->sin6_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
	}
	for (;;) {
		ssize_t n = sendmsg(u->fd, &mh, MSG_NOSIGNAL);

		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}
