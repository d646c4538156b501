/*
 * Group commit: CLIENTS connections each submit N tiny executions one
 * after another (the next once the previous was acknowledged), all at
 * once; reports acknowledgement latency (p50, p99), submissions per
 * second, and - from the daemon's status - journal syncs per
 * acknowledgement.
 *
 * usage: bench_submit -s SOCKET [-c CLIENTS] [-n PER_CLIENT]
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "node.h"
#include "proto.h"
#include "timefmt.h"
#include "xmalloc.h"
#include "yamldoc.h"
#include "diag.h"

struct client {
	int		 fd;
	struct buf	 in;
	int		 sent;
	int		 acked;
	int64_t		 t0;
};

static int
bench_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		err(1, "connect %s", path);
	return fd;
}

/* Send one request and return nothing: the reply is read by the loop. */
static void
bench_send(int fd, const struct node *req)
{
	struct buf	b;
	size_t		off = 0;
	ssize_t		n;

	buf_init(&b);
	proto_encode(&b, req);
	while (off < b.len) {
		if ((n = write(fd, b.data + off, b.len - off)) == -1)
			err(1, "write");
		off += (size_t)n;
	}
	buf_release(&b);
}

/* Read one whole reply (blocking). */
static struct node *
bench_reply(int fd, struct buf *in)
{
	size_t		 body, need;
	ssize_t		 n;
	struct node	*msg;
	char		*e;

	for (;;) {
		if (proto_frame((uint8_t *)in->data, in->len, 1 << 24, &body,
		    &need) == 1) {
			msg = proto_decode((uint8_t *)in->data + PROTO_HEADER,
			    body, NULL, &e);
			if (msg == NULL)
				errx(1, "bad reply: %s", e);
			buf_consume(in, PROTO_HEADER + body);
			return msg;
		}
		buf_reserve(in, 65536);
		if ((n = read(fd, in->data + in->len, in->cap - 1 - in->len)) <= 0)
			errx(1, "the daemon closed the connection");
		in->len += (size_t)n;
	}
}

static int
bench_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t
bench_syncs(const char *sock)
{
	struct node	*req, *reply;
	struct buf	 in;
	int64_t		 v = -1;
	int		 fd = bench_connect(sock);

	buf_init(&in);
	req = node_new(NODE_MAP);
	node_map_set_str(req, "v", node_new_int(1));
	node_map_set_str(req, "id", node_new_int(1));
	node_map_set_str(req, "op", node_new_str("status", 6));
	bench_send(fd, req);
	reply = bench_reply(fd, &in);
	proto_get_int(proto_get(reply, "journal"), "syncs", &v);
	node_free(req);
	node_free(reply);
	buf_release(&in);
	close(fd);
	return v;
}

int
main(int argc, char **argv)
{
	static const char yaml[] = "name: tiny\ntasks:\n  a: {argv: [/bin/true]}\n";
	struct client	*cl;
	struct pollfd	*pf;
	struct node	*doc, *req, *reply;
	struct diag	*d;
	const char	*sock = NULL;
	int64_t		*lat, syncs0, syncs1, t0, t1, now;
	int		 nc = 64, per = 200, ch, i, done = 0, nlat = 0;

	while ((ch = getopt(argc, argv, "s:c:n:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			nc = atoi(optarg);
			break;
		case 'n':
			per = atoi(optarg);
			break;
		default:
			errx(2, "usage: bench_submit -s SOCKET [-c CLIENTS] "
			    "[-n PER_CLIENT]");
		}
	}
	if (sock == NULL || nc < 1 || per < 1)
		errx(2, "usage: bench_submit -s SOCKET [-c CLIENTS] "
		    "[-n PER_CLIENT]");
	d = diag_new("bench");
	doc = yamldoc_parse(yaml, strlen(yaml), d);
	diag_free(d);
	req = node_new(NODE_MAP);
	node_map_set_str(req, "v", node_new_int(1));
	node_map_set_str(req, "id", node_new_int(7));
	node_map_set_str(req, "op", node_new_str("submit", 6));
	node_map_set_str(req, "pipeline", doc);
	node_map_set_str(req, "cwd", node_new_str("/", 1));
	cl = xcalloc((size_t)nc, sizeof *cl);
	pf = xcalloc((size_t)nc, sizeof *pf);
	lat = xcalloc((size_t)(nc * per), sizeof *lat);
	syncs0 = bench_syncs(sock);
	for (i = 0; i < nc; i++) {
		cl[i].fd = bench_connect(sock);
		buf_init(&cl[i].in);
	}
	t0 = timefmt_mono_us();
	for (i = 0; i < nc; i++) {
		cl[i].t0 = timefmt_mono_us();
		bench_send(cl[i].fd, req);
		cl[i].sent++;
	}
	while (done < nc) {
		for (i = 0; i < nc; i++) {
			pf[i].fd = cl[i].acked < per ? cl[i].fd : -1;
			pf[i].events = POLLIN;
		}
		if (poll(pf, (nfds_t)nc, -1) == -1 && errno != EINTR)
			err(1, "poll");
		for (i = 0; i < nc; i++) {
			if (pf[i].fd == -1 || !(pf[i].revents & POLLIN))
				continue;
			reply = bench_reply(cl[i].fd, &cl[i].in);
			now = timefmt_mono_us();
			if (proto_get(reply, "execution") == NULL)
				errx(1, "a submission was refused");
			node_free(reply);
			lat[nlat++] = now - cl[i].t0;
			if (++cl[i].acked == per) {
				done++;
				continue;
			}
			cl[i].t0 = now;
			bench_send(cl[i].fd, req);
		}
	}
	t1 = timefmt_mono_us();
	syncs1 = bench_syncs(sock);
	qsort(lat, (size_t)nlat, sizeof *lat, bench_cmp);
	printf("submit: %d clients x %d: %.0f acks/s, latency p50 %.2f ms, "
	    "p99 %.2f ms, %.3f journal syncs per ack\n", nc, per,
	    nlat / ((t1 - t0) / 1e6), lat[nlat / 2] / 1e3,
	    lat[nlat * 99 / 100] / 1e3,
	    (double)(syncs1 - syncs0) / nlat);
	for (i = 0; i < nc; i++) {
		close(cl[i].fd);
		buf_release(&cl[i].in);
	}
	free(cl);
	free(pf);
	free(lat);
	node_free(req);
	return 0;
}
