/*
 * The journal's sync thread: one request slot (the newest wins: a sync
 * covers everything written before it), a mutex and condition for it, and
 * an eventfd back to the event loop.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "jio.h"
#include "jsync.h"
#include "log.h"
#include "xmalloc.h"

struct jsync {
	pthread_t	 thread;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 wake;		/* a request, or stop */
	pthread_cond_t	 idle;		/* no sync in flight */
	int		 fd;		/* to sync */
	uint64_t	 want;		/* generation asked for */
	uint64_t	 done;		/* generation synced */
	bool		 busy;
	bool		 stop;
	uint64_t	 count;		/* syncs done */
	int		 efd;
	struct event	*ev;
	void		(*cb)(uint64_t, void *);
	void		*arg;
};

static void *
jsync_main(void *arg)
{
	struct jsync	*s = arg;
	uint64_t	 gen, one = 1;
	int		 fd;

	pthread_mutex_lock(&s->mtx);
	for (;;) {
		while (!s->stop && s->want <= s->done)
			pthread_cond_wait(&s->wake, &s->mtx);
		if (s->stop)
			break;
		gen = s->want;
		fd = s->fd;
		s->busy = true;
		pthread_mutex_unlock(&s->mtx);
		if (jio_fdatasync(fd) == -1) {
			/* After a write-back error nothing can be trusted. */
			log_warn("journal: fdatasync failed; stopping, the "
			    "journal will be replayed at the next start");
			abort();
		}
		pthread_mutex_lock(&s->mtx);
		s->busy = false;
		s->count++;
		if (gen > s->done)
			s->done = gen;
		pthread_cond_broadcast(&s->idle);
		if (write(s->efd, &one, sizeof one) == -1 && errno != EAGAIN)
			log_warn("journal: waking the event loop");
	}
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

/* On the event loop: tell the journal how far syncs got. */
static void
jsync_event_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct jsync	*s = arg;
	uint64_t	 n, done;

	if (read(s->efd, &n, sizeof n) == -1)
		return;
	pthread_mutex_lock(&s->mtx);
	done = s->done;
	pthread_mutex_unlock(&s->mtx);
	s->cb(done, s->arg);
}

/* Start the thread. */
struct jsync *
jsync_start(struct event_base *base, void (*cb)(uint64_t, void *), void *arg)
{
	struct jsync	*s;
	sigset_t	 all, old;
	int		 rc;

	s = xcalloc(1, sizeof *s);
	s->cb = cb;
	s->arg = arg;
	s->fd = -1;
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->ev = event_new(base, s->efd, EV_READ | EV_PERSIST, jsync_event_cb,
	    s);
	event_add(s->ev, NULL);
	/* Signals are the event loop's: the thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, jsync_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		fatal("pthread_create");
	}
	return s;
}

/* Ask for fd to be synced up to gen. */
void
jsync_request(struct jsync *s, int fd, uint64_t gen)
{
	pthread_mutex_lock(&s->mtx);
	s->fd = fd;
	if (gen > s->want)
		s->want = gen;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mtx);
}

/* Block until the thread is not syncing. */
void
jsync_wait_idle(struct jsync *s)
{
	pthread_mutex_lock(&s->mtx);
	while (s->busy || s->want > s->done)
		pthread_cond_wait(&s->idle, &s->mtx);
	pthread_mutex_unlock(&s->mtx);
}

/* How many syncs the thread did. */
uint64_t
jsync_count(struct jsync *s)
{
	uint64_t	n;

	pthread_mutex_lock(&s->mtx);
	n = s->count;
	pthread_mutex_unlock(&s->mtx);
	return n;
}

/* Stop and free. */
void
jsync_stop(struct jsync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mtx);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mtx);
	pthread_join(s->thread, NULL);
	event_free(s->ev);
	close(s->efd);
	pthread_mutex_destroy(&s->mtx);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->idle);
	free(s);
}
