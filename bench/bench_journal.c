/*
 * Builds a journal of about N records the way the daemon writes them (a
 * pipeline of four tasks, each execution created, started, run and
 * finished: about 20 records an execution) into STATE_DIR, for measuring
 * replay: start pipelined on it and time READY.
 *
 * usage: bench_journal [-n RECORDS] STATE_DIR
 */
#include "config.h"

#include <err.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "history.h"
#include "journal.h"
#include "load.h"
#include "node.h"
#include "pipeline.h"
#include "reporter.h"
#include "result.h"
#include "timefmt.h"
#include "xmalloc.h"

static const char bench_yaml[] =
	"name: bench\n"
	"tasks:\n"
	"  fetch: {run: ./fetch.sh}\n"
	"  split: {argv: [./split, --parts, '4'], parents: [fetch]}\n"
	"  render: {run: ./render.sh, parents: [split], iterate: [a, b]}\n"
	"  publish: {run: ./publish.sh, parents: [render]}\n";

static int
bench_nothing_cb(const struct jrec *r, void *arg)
{
	return 0;
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct history		*h;
	struct reporter		*rp;
	struct journal		*j;
	struct jscan		 scan;
	struct journal_stats	 st;
	struct execution	*e;
	struct pipeline		*p;
	struct node		*doc;
	struct diag		*d;
	struct task_execution	*te;
	unsigned long		 want = 1000000, made = 0;
	uint32_t		 t, k;
	int64_t			 now;
	char			*err = NULL;
	int			 ch;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch != 'n')
			errx(2, "usage: bench_journal [-n RECORDS] STATE_DIR");
		want = strtoul(optarg, NULL, 10);
	}
	if (optind + 1 != argc)
		errx(2, "usage: bench_journal [-n RECORDS] STATE_DIR");
	base = event_base_new();
	event_base_priority_init(base, 3);
	h = history_new();
	rp = reporter_new();
	reporter_add_sink(rp, history_record_cb, history_items_cb, h);
	if ((j = journal_open(argv[optind], JOURNAL_SYNC_OFF, 0, base,
	    bench_nothing_cb, NULL, &scan, &err)) == NULL)
		errx(1, "%s", err);
	history_set_journal(h, j);
	while (made < want) {
		d = diag_new("bench");
		if ((p = load_buffer(bench_yaml, strlen(bench_yaml), 0, d,
		    &doc)) == NULL)
			errx(1, "the bench pipeline does not load");
		diag_free(d);
		e = execution_new(history_next_id(h), p, NULL, NULL);
		e->owned_def = p;
		e->doc = doc;
		e->input = node_new(NODE_MAP);
		e->cwd = xstrdup("/srv/bench");
		e->user = xstrdup("bench");
		e->runner = xstrdup("local");
		e->submitted_us = timefmt_now_us();
		history_add(h, e);
		reporter_attach(rp, e);
		now = timefmt_now_us();
		execution_add_static(e, now);
		for (t = 0; t < p->ntasks; t++) {
			te = &e->results[0]->tasks[t];
			for (k = 0; k < te->ninst; k++) {
				result_set(&te->inst[k]->r, STATUS_RUNNING,
				    "starting", now);
				result_note(&te->inst[k]->r, "running as pid 4242");
				te->inst[k]->exit_code = 0;
				result_set(&te->inst[k]->r, STATUS_DONE,
				    "exited with status 0", now + 1000);
			}
		}
		/* Keep memory flat: the daemon will rebuild all of it. */
		if (history_count(h) >= 1000) {
			journal_flush(j);
			while (history_count(h) > 0)
				history_remove(h, history_at(h, 0)->id);
			journal_stats(j, &st);
			made = (unsigned long)st.records_written;
		}
	}
	journal_flush(j);
	journal_stats(j, &st);
	journal_close(j, true);
	printf("%llu records written to %s/journal\n",
	    (unsigned long long)st.records_written + 1, argv[optind]);
	history_free(h);
	reporter_free(rp);
	event_base_free(base);
	jscan_clear(&scan);
	return 0;
}
