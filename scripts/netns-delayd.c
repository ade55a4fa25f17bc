/* netns-delayd: link emulation in user space for scripts/netns-cluster, on kernels without the
 * netem qdisc. One daemon runs in each emulated host; an iptables rule there sends every packet
 * leaving eth0 to NFQUEUE, and the daemon gives the verdicts:
 *
 *   - loss: a packet is dropped at once with probability --loss (percent);
 *   - rate: the link sends one packet at a time, so packet k starts when it arrives or when
 *     k-1 is done, whichever is later, and takes its wire bytes x 8 / rate;
 *   - delay: it is released --delay microseconds after its last bit left.
 *
 *     start_k = max(arrival_k, end_{k-1}),  end_k = start_k + wire_k / rate,
 *     release_k = end_k + delay
 *
 * Release times never decrease, so packets leave in arrival order and one batch verdict
 * (accept every queued id up to k) releases all that are due. Wire bytes are the IP length
 * plus the 14-byte Ethernet header, as netem's rate counts them, so the two shapers agree; a GSO
 * packet (queued whole: NFQA_CFG_F_GSO) counts as the segments the device would send, each with
 * its own headers.
 *
 * Timing: the wake-up for the next release is a ppoll timeout; the default 50 us timer slack
 * would add up to 50 us to every packet, so it is set to 1 ns; --rt P runs the daemon
 * SCHED_FIFO at priority P. Wake-ups are still late, by 31 us on average in a nested VM (the
 * summary says how late releases were), which would add to the emulated delay: the daemon wakes
 * --spin microseconds (default 60) before a release is due and spins to it, which brought the
 * average to 9-11 us there, for up to that much CPU time per release.
 *
 * usage: netns-delayd [--queue N] [--delay US] [--rate MBIT] [--loss PCT] [--mtu BYTES]
 *                     [--seed N] [--rt PRIO] [--spin US]
 * Prints one line "netns-delayd: ready ..." on stderr once the queue is bound, a summary on
 * exit (SIGTERM, SIGINT), and lets every packet it still holds go before it exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING 65536 /* packets held at most (a power of two); more are dropped, as a full queue */
#define COPY 128 /* bytes of each packet copied to us: the IP and TCP headers */
#define ETH_HDR 14

static struct {
	uint64_t delay_ns;
	double ns_per_byte; /* 0: no rate limit */
	double loss; /* probability */
	unsigned mtu;
	uint64_t rng;
	/* Held packets, oldest first: id and release time. */
	uint32_t id[RING];
	uint64_t due[RING];
	unsigned head, tail;
	uint64_t busy_until; /* when the link finishes sending what it has */
	unsigned long long packets, dropped, overflow;
	/* Releases (batches) and how late they were, for the summary. */
	unsigned long long releases;
	double late_sum, late_max;
	uint64_t spin_ns; /* wake this much before a release is due, and spin to it */
} d;

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* xorshift64*: uniform in [0, 1). */
static double uniform(void)
{
	d.rng ^= d.rng >> 12;
	d.rng ^= d.rng << 25;
	d.rng ^= d.rng >> 27;
	return (double)((d.rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Bytes the packet takes on an Ethernet wire of MTU d.mtu: one frame, or for a GSO packet the
 * frames it is cut into, each carrying the IP and TCP headers again. */
static uint64_t wire_bytes(const unsigned char *p, int caplen)
{
	if (caplen < 20 || (p[0] >> 4) != 4)
		return (uint64_t)(caplen > 0 ? caplen : 0) + ETH_HDR;
	uint32_t len = (uint32_t)p[2] << 8 | p[3];
	if (len <= d.mtu)
		return len + ETH_HDR;
	unsigned hdr = (p[0] & 15u) * 4;
	if (p[9] == IPPROTO_TCP && caplen >= (int)hdr + 13)
		hdr += (p[hdr + 12] >> 4) * 4u;
	if (hdr >= len || hdr >= d.mtu)
		return len + ETH_HDR;
	uint32_t data = len - hdr, mss = d.mtu - hdr, segs = (data + mss - 1) / mss;
	return data + (uint64_t)segs * (hdr + ETH_HDR);
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *arg)
{
	(void)msg;
	(void)arg;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	d.packets++;
	if (d.loss > 0 && uniform() < d.loss) {
		d.dropped++;
		return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
	}
	if (d.tail - d.head == RING) {
		d.overflow++;
		return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
	}
	unsigned char *p = NULL;
	int caplen = nfq_get_payload(nfa, &p);
	uint64_t t = now_ns(), start = t > d.busy_until ? t : d.busy_until;
	d.busy_until = start + (uint64_t)((double)wire_bytes(p, caplen) * d.ns_per_byte);
	d.id[d.tail % RING] = id;
	d.due[d.tail % RING] = d.busy_until + d.delay_ns;
	d.tail++;
	return 0;
}

/* Accept every held packet due by `t` (all of them with t = UINT64_MAX). */
static void release(struct nfq_q_handle *qh, uint64_t t)
{
	uint32_t last = 0;
	int any = 0;
	while (d.head != d.tail && d.due[d.head % RING] <= t) {
		last = d.id[d.head % RING];
		d.head++;
		any = 1;
	}
	if (!any)
		return;
	if (nfq_set_verdict_batch(qh, last, NF_ACCEPT) < 0)
		perror("netns-delayd: verdict");
	if (t != UINT64_MAX) {
		double late = (double)(now_ns() - d.due[(d.head - 1) % RING]) * 1e-3;
		d.releases++;
		d.late_sum += late;
		d.late_max = late > d.late_max ? late : d.late_max;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: netns-delayd [--queue N] [--delay US] [--rate MBIT] [--loss PCT] "
	                "[--mtu BYTES] [--seed N] [--rt PRIO] [--spin US]\n");
	exit(2);
}

/* The number after option argv[i], in [lo, hi]. */
static double number(int argc, char **argv, int i, double lo, double hi)
{
	char *end;
	if (i + 1 >= argc)
		usage();
	errno = 0;
	double v = strtod(argv[i + 1], &end);
	if (errno || end == argv[i + 1] || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "netns-delayd: %s wants a number in [%g, %g], got '%s'\n", argv[i],
		        lo, hi, argv[i + 1]);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	double delay_us = 0, rate = 0, loss = 0, queue = 0, mtu = 1500, rt = 0, spin = 60;
	double seed = (double)(getpid() ^ time(NULL));
	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--queue") == 0)
			queue = number(argc, argv, i, 0, 65535);
		else if (strcmp(argv[i], "--delay") == 0)
			delay_us = number(argc, argv, i, 0, 10e6);
		else if (strcmp(argv[i], "--rate") == 0)
			rate = number(argc, argv, i, 0, 1e6);
		else if (strcmp(argv[i], "--loss") == 0)
			loss = number(argc, argv, i, 0, 100);
		else if (strcmp(argv[i], "--mtu") == 0)
			mtu = number(argc, argv, i, 576, 65535);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = number(argc, argv, i, 0, 4e9);
		else if (strcmp(argv[i], "--rt") == 0)
			rt = number(argc, argv, i, 0, 99);
		else if (strcmp(argv[i], "--spin") == 0)
			spin = number(argc, argv, i, 0, 10000);
		else
			usage();
	}
	d.delay_ns = (uint64_t)(delay_us * 1e3);
	d.ns_per_byte = rate > 0 ? 8e3 / rate : 0;
	d.loss = loss / 100;
	d.mtu = (unsigned)mtu;
	d.spin_ns = (uint64_t)(spin * 1e3);
	d.rng = (uint64_t)seed * 0x9e3779b97f4a7c15ull | 1;

	prctl(PR_SET_TIMERSLACK, 1UL);
	if (rt > 0) {
		struct sched_param sp = {.sched_priority = (int)rt};
		if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
			fprintf(stderr, "netns-delayd: no SCHED_FIFO (%s): wake-ups may be late\n",
			        strerror(errno));
	}
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct nfq_handle *h = nfq_open();
	if (!h) {
		fprintf(stderr, "netns-delayd: cannot open nfnetlink: %s\n", strerror(errno));
		return 1;
	}
	struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
	if (!qh) {
		fprintf(stderr,
		        "netns-delayd: cannot bind queue %g: %s (is another daemon on it?)\n",
		        queue, strerror(errno));
		return 1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, COPY) < 0 || nfq_set_queue_maxlen(qh, RING) < 0) {
		fprintf(stderr, "netns-delayd: cannot configure queue: %s\n", strerror(errno));
		return 1;
	}
	/* Whole GSO packets (one verdict per 64 KiB, not per 1.5 KiB): needs Linux 3.10. */
	if (nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO) < 0)
		fprintf(stderr, "netns-delayd: no GSO packets in the queue (%s): more CPU\n",
		        strerror(errno));
	int fd = nfq_fd(h), one = 1;
	nfnl_rcvbufsiz(nfq_nfnlh(h), 8u << 20);
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
	fprintf(stderr,
	        "netns-delayd: ready: queue %g, delay %g us, rate %g Mbit/s, loss %g%%, mtu %u, "
	        "spin %g us\n",
	        queue, delay_us, rate, loss, d.mtu, spin);

	static char buf[1 << 16] __attribute__((aligned));
	while (!stopping) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct timespec wait, *tp = NULL;
		if (d.head != d.tail) {
			uint64_t t = now_ns(), due = d.due[d.head % RING];
			if (due > t && due - t <= d.spin_ns) {
				/* Close enough: spin to it, a wake-up would be later. */
				while ((t = now_ns()) < due)
					;
				release(qh, t);
				continue;
			}
			due -= d.spin_ns;
			uint64_t w = due > t ? due - t : 0;
			wait.tv_sec = (time_t)(w / 1000000000u);
			wait.tv_nsec = (long)(w % 1000000000u);
			tp = &wait;
		}
		if (ppoll(&pfd, 1, tp, NULL) < 0 && errno != EINTR) {
			perror("netns-delayd: ppoll");
			break;
		}
		ssize_t n;
		while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
			nfq_handle_packet(h, buf, (int)n);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ENOBUFS) {
			perror("netns-delayd: recv");
			break;
		}
		release(qh, now_ns());
	}
	release(qh, UINT64_MAX);
	fprintf(stderr,
	        "netns-delayd: %llu packets, %llu dropped (loss), %llu dropped (full); %llu "
	        "releases, late by %.1f us on average, %.1f us at most\n",
	        d.packets, d.dropped, d.overflow, d.releases,
	        d.releases ? d.late_sum / (double)d.releases : 0.0, d.late_max);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
