/*
 * dryrun: an example runner plugin that runs nothing.
 *
 * It walks an execution under the four rules like any runner (through
 * the host's walker), but instead of running a task result it writes
 * into that task result's output log what would have run - the command
 * line (shell-quoted, placeholders filled), the working directory, the
 * names of the environment variables (not their values: they may hold
 * secrets), the timeout, the queue and the limits - and ends it DONE.
 * Use it to check a pipeline before running it for real:
 *
 *   pipectl run report.yaml --runner dryrun --input date=2026-11-27 --wait
 *   pipectl logs 42/0/render/3
 *
 * Iterator commands (iterate_command) still run, on the daemon's host, as
 * with every runner: the walker needs their items to fan out.
 *
 * Outside pipelined's tree, build it with
 *
 *   cc -shared -fPIC -fvisibility=hidden -I/usr/local/include \
 *       -o dryrun.so dryrun.c -levent
 *
 * and copy dryrun.so into the runner directory (pipelined --runner-dir,
 * default /usr/local/lib/pipelined/runners): owned by root (or the
 * daemon's user) and writable by nobody else.  docs/runners.md explains
 * the ABI.
 */
/* Standalone (no config.h): ask for POSIX 2008 (strdup, ...) ourselves. */
#define _POSIX_C_SOURCE 200809L /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <pipelined/runner.h>

/* A task result waiting for its turn. */
struct dry_item {
	struct task_result	*tr;
	TAILQ_ENTRY(dry_item)	 entry;
};
TAILQ_HEAD(dry_items, dry_item);

/* One execution: its own queue, so that finished() can drop it. */
struct dry_exec {
	struct dry		*d;
	struct dry_items	 queue;
	unsigned		 queued;
	TAILQ_ENTRY(dry_exec)	 entry;
};

struct dry {
	const struct pipelined_host	*host;
	struct walk_ops			 ops;
	TAILQ_HEAD(, dry_exec)		 execs;
	unsigned			 queued;
	struct event			*pump;
};

/* Task results begun, waiting for their RUNNING records to be durable. */
struct dry_batch {
	struct dry		 *d;
	struct task_result	**v;
	unsigned		 *attempt;
	size_t			  n;
};

PIPELINED_EXPORT const struct pipelined_runner *pipelined_runner_v1(void);

/* Out of memory in a daemon: say so and stop. */
static void *
dry_alloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL) {
		fputs("dryrun: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* One shell word: as is when safe, else in single quotes. */
static void
dry_quote(FILE *f, const char *s)
{
	if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* What attempt of tr would run, as lines for its output log. */
static char *
dry_describe(const struct pipelined_host *host, struct task_result *tr,
    unsigned attempt, size_t *len)
{
	struct taskspec	 ts;
	const char	*eq;
	char		*buf = NULL;
	FILE		*f;
	size_t		 i;

	if ((f = open_memstream(&buf, len)) == NULL)
		return NULL;
	host->taskspec(&ts, tr, attempt);
	fprintf(f, "[dryrun] attempt %u would run:\n  command:", attempt);
	for (i = 0; ts.argv[i] != NULL; i++) {
		fputc(' ', f);
		dry_quote(f, ts.argv[i]);
	}
	fprintf(f, "\n  cwd: %s\n  env:", ts.cwd != NULL ? ts.cwd : "/");
	for (i = 0; ts.envp[i] != NULL; i++)
		if ((eq = strchr(ts.envp[i], '=')) != NULL)
			fprintf(f, " %.*s", (int)(eq - ts.envp[i]), ts.envp[i]);
	fprintf(f, "\n  timeout: %s", ts.timeout_ms > 0 ? "" : "none");
	if (ts.timeout_ms > 0)
		fprintf(f, "%lldms (then SIGTERM, SIGKILL after %lldms)",
		    (long long)ts.timeout_ms, (long long)ts.kill_grace_ms);
	fprintf(f, "\n  queue: %s\n", ts.queue != NULL ? ts.queue : "none");
	if (ts.limits.memory >= 0 || ts.limits.cpu_time_ms >= 0 ||
	    ts.limits.open_files >= 0 || ts.limits.processes >= 0)
		fprintf(f, "  limits: memory %lld, cpu_time_ms %lld, "
		    "open_files %lld, processes %lld (-1: inherited)\n",
		    (long long)ts.limits.memory,
		    (long long)ts.limits.cpu_time_ms,
		    (long long)ts.limits.open_files,
		    (long long)ts.limits.processes);
	host->taskspec_clear(&ts);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The batch is durable: "run" each task result, that is, describe it. */
static void
dry_batch_cb(bool ok, void *arg)
{
	struct dry_batch		*b = arg;
	const struct pipelined_host	*host = b->d->host;
	struct outcome			 o;
	size_t				 i, len;
	char				*text;

	for (i = 0; i < b->n; i++) {
		memset(&o, 0, sizeof o);
		o.exit_code = 0;
		if (!ok) {
			o.exit_code = -1;
			o.error = "cannot record the start in the journal";
		} else if ((text = dry_describe(host, b->v[i], b->attempt[i],
		    &len)) != NULL) {
			host->output(b->v[i], text, len);
			free(text);
		}
		host->walk_exited(b->v[i], &o);
	}
	free(b->v);
	free(b->attempt);
	free(b);
}

/* Begin what waits (from the event loop, never inside the walker). */
static void
dry_pump_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct dry		*d = arg;
	struct dry_exec		*de;
	struct dry_item		*it;
	struct dry_batch	*b;
	int			 attempt;

	b = dry_alloc(NULL, sizeof *b);
	b->d = d;
	b->v = NULL;
	b->attempt = NULL;
	b->n = 0;
	TAILQ_FOREACH(de, &d->execs, entry) {
		while ((it = TAILQ_FIRST(&de->queue)) != NULL) {
			TAILQ_REMOVE(&de->queue, it, entry);
			de->queued--;
			d->queued--;
			/* -1: cancelled while it waited. */
			if ((attempt = d->host->walk_begin(it->tr)) != -1) {
				b->v = dry_alloc(b->v, (b->n + 1) *
				    sizeof *b->v);
				b->attempt = dry_alloc(b->attempt, (b->n + 1) *
				    sizeof *b->attempt);
				b->v[b->n] = it->tr;
				b->attempt[b->n++] = (unsigned)attempt;
			}
			free(it);
		}
	}
	if (b->n == 0) {
		free(b);
		return;
	}
	/* Log before effect, even when the effect is only a description. */
	d->host->when_durable(dry_batch_cb, b);
}

/* The walker says tr may run: queue it, begin it from the pump. */
static void
dry_ready(struct task_result *tr, void *arg)
{
	struct dry_exec	*de = arg;
	struct dry_item	*it;

	it = dry_alloc(NULL, sizeof *it);
	it->tr = tr;
	TAILQ_INSERT_TAIL(&de->queue, it, entry);
	de->queued++;
	de->d->queued++;
	event_active(de->d->pump, EV_TIMEOUT, 0);
}

/* Nothing runs, so nothing to stop: the attempt ends in its batch. */
static void
dry_stop(struct task_result *tr, void *arg)
{
}

/* The execution is final: drop what of it still waits. */
static void
dry_finished(struct execution *e, void *arg)
{
	struct dry_exec	*de = arg;
	struct dry_item	*it;

	while ((it = TAILQ_FIRST(&de->queue)) != NULL) {
		TAILQ_REMOVE(&de->queue, it, entry);
		de->d->queued--;
		free(it);
	}
	TAILQ_REMOVE(&de->d->execs, de, entry);
	free(de);
}

/* Take an execution: the walker drives it through this runner. */
static int
dry_start_runner(void *state, struct execution *e, struct reporter *rp,
    char **err)
{
	struct dry	*d = state;
	struct dry_exec	*de;

	de = dry_alloc(NULL, sizeof *de);
	de->d = d;
	de->queued = 0;
	TAILQ_INIT(&de->queue);
	TAILQ_INSERT_TAIL(&d->execs, de, entry);
	/* On failure the walker made the execution final (and finished). */
	if (d->host->walk_start(e, &d->ops, de, err) == -1) {
		free(*err);
		*err = NULL;
	}
	return 0;
}

/* Cancel under target: the walker does it all. */
static int
dry_cancel(void *state, struct result *target, const char *why)
{
	struct dry	*d = state;

	return d->host->walk_cancel(target, why);
}

/* Nothing ever runs; some may wait for the pump. */
static void
dry_stats(void *state, unsigned *running, unsigned *queued)
{
	struct dry	*d = state;

	*running = 0;
	*queued = d->queued;
}

/* Free everything. */
static void
dry_shutdown(void *state)
{
	struct dry	*d = state;

	while (!TAILQ_EMPTY(&d->execs))
		dry_finished(NULL, TAILQ_FIRST(&d->execs));
	event_free(d->pump);
	free(d);
}

/* Set up at load. */
static void *
dry_init(const struct pipelined_host *host, char **err)
{
	struct dry	*d;

	d = dry_alloc(NULL, sizeof *d);
	memset(d, 0, sizeof *d);
	d->host = host;
	d->ops.ready = dry_ready;
	d->ops.stop = dry_stop;
	d->ops.finished = dry_finished;
	d->ops.sequential = false;
	TAILQ_INIT(&d->execs);
	d->pump = event_new(host->base, -1, 0, dry_pump_cb, d);
	return d;
}

static const struct pipelined_runner dry_runner = {
	.abi = PIPELINED_RUNNER_ABI,
	.name = "dryrun",
	.init = dry_init,
	.start_runner = dry_start_runner,
	.cancel = dry_cancel,
	.stats = dry_stats,
	.shutdown = dry_shutdown,
};

/* The entry point the daemon looks up (PIPELINED_RUNNER_SYMBOL). */
const struct pipelined_runner *
pipelined_runner_v1(void)
{
	return &dry_runner;
}
