/*
 * Compaction: a snapshot of the executions kept, written beside the
 * segments (tmp, sync, rename, sync the directory), then the segments and
 * older snapshots it covers are removed.  A crash at any step loses
 * nothing: an unfinished snapshot is ignored, and segments it covers are
 * skipped record by record.  Segments with mid-log damage are not removed
 * but moved to journal/damaged/.  What such a crash left half made (a
 * snapshot's or a segment's .tmp) is removed at the next start.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "history.h"
#include "jcodec.h"
#include "jformat.h"
#include "jio.h"
#include "journal_int.h"
#include "log.h"
#include "node.h"
#include "pipeline.h"
#include "proto.h"
#include "result.h"
#include "timefmt.h"
#include "xmalloc.h"

struct jcompact {
	struct buf	 out;
	uint64_t	 seq;		/* snapshot records: 1, 2, ... */
};

static void
jcompact_add(struct jcompact *c, uint8_t type, struct node *payload)
{
	struct buf	b;

	buf_init(&b);
	proto_pack(&b, payload);
	jrec_encode(&c->out, ++c->seq, type, b.data, (uint32_t)b.len);
	buf_release(&b);
	node_free(payload);
}

/* The objects of a parent's children, as the ITEMS record gave them. */
static struct node *
jcompact_objects(struct result **kids, uint32_t n, bool results)
{
	struct node	*items = node_new(NODE_SEQ);
	uint32_t	 i;

	for (i = 0; i < n; i++) {
		const struct node *obj = results ?
		    ((struct pipeline_result *)kids[i])->object :
		    ((struct task_result *)kids[i])->object;
		node_append(items, obj != NULL ? node_copy(obj) :
		    node_new(NODE_NULL));
	}
	return items;
}

/* An ITEMS record for parent (items are freed). */
static void
jcompact_items(struct jcompact *c, const struct result *parent,
    struct node *items)
{
	jcompact_add(c, JREC_ITEMS, jcodec_items(parent, items));
	node_free(items);
}

/* One execution: its creation, dynamic items, and every result's state. */
static void
jcompact_execution(struct jcompact *c, struct execution *e)
{
	struct pipeline_result	*pr;
	struct task_execution	*te;
	struct result		**kids;
	uint32_t		  i, t, k;

	jcompact_add(c, JREC_EXEC_CREATED, jcodec_created(e));
	if (e->def->iterate_command != NULL && e->r.sealed) {
		kids = xreallocarray(NULL, e->nresults + 1, sizeof *kids);
		for (i = 0; i < e->nresults; i++)
			kids[i] = &e->results[i]->r;
		jcompact_items(c, &e->r, jcompact_objects(kids, e->nresults,
		    true));
		free(kids);
	}
	jcompact_add(c, JREC_STATUS, jcodec_change(&e->r, 0));
	for (i = 0; i < e->nresults; i++) {
		pr = e->results[i];
		jcompact_add(c, JREC_STATUS, jcodec_change(&pr->r, 0));
		for (t = 0; t < e->def->ntasks; t++) {
			te = &pr->tasks[t];
			if (e->def->tasks[t].iterate_command != NULL &&
			    te->r.sealed && te->ninst > 0) {
				kids = xreallocarray(NULL, te->ninst,
				    sizeof *kids);
				for (k = 0; k < te->ninst; k++)
					kids[k] = &te->inst[k]->r;
				jcompact_items(c, &te->r, jcompact_objects(kids,
				    te->ninst, false));
				free(kids);
			}
			jcompact_add(c, JREC_STATUS, jcodec_change(&te->r, 0));
			for (k = 0; k < te->ninst; k++)
				jcompact_add(c, JREC_STATUS,
				    jcodec_change(&te->inst[k]->r, 0));
		}
	}
}

/* Write, sync and publish snap-<covered>.pjl. */
static int
jcompact_write(struct journal *j, struct jcompact *c, uint64_t covered,
    uint64_t next_id, char **err)
{
	struct jseg_header	 h;
	struct node		*end;
	struct buf		 b;
	uint8_t			 hdr[JSEG_HEADER];
	char			*tmp, *path;
	size_t			 done = 0;
	ssize_t			 n;
	int			 fd, rc = -1;

	end = node_new(NODE_MAP);
	node_map_set_str(end, "next_id", node_new_int((int64_t)next_id));
	node_map_set_str(end, "records", node_new_int((int64_t)c->seq));
	buf_init(&b);
	proto_pack(&b, end);
	node_free(end);
	jrec_encode(&c->out, covered, JREC_SNAPSHOT_END, b.data,
	    (uint32_t)b.len);
	buf_release(&b);
	memset(&h, 0, sizeof h);
	h.version = JSEG_VERSION;
	h.segment_no = j->seg_no;
	h.first_seq = 1;
	memcpy(h.journal_id, j->id, 16);
	h.created_us = (uint64_t)timefmt_now_us();
	h.flags = JSEG_FLAG_SNAPSHOT;
	jseg_header_encode(hdr, &h);
	tmp = xprintf("%s/snap-%016" PRIx64 ".pjl.tmp", j->dir, covered);
	path = xprintf("%s/snap-%016" PRIx64 ".pjl", j->dir, covered);
	if ((fd = jio_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		goto fail;
	if (jio_write(fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr)
		goto fail;
	while (done < c->out.len) {
		if ((n = jio_write(fd, c->out.data + done, c->out.len - done)) <=
		    0) {
			if (n == -1 && errno == EINTR)
				continue;
			goto fail;
		}
		done += (size_t)n;
	}
	journal_sync_fd(j, fd, tmp);
	jio_close(fd);
	fd = -1;
	if (jio_rename(tmp, path) == -1)
		goto fail;
	journal_sync_dir(j);
	rc = 0;
	goto out;
fail:
	*err = xprintf("writing %s: %s", tmp, errno ? strerror(errno) :
	    "short write");
	if (fd != -1)
		jio_close(fd);
	jio_unlink(tmp);
out:
	free(tmp);
	free(path);
	return rc;
}

/* Remove what the new snapshot covers; damaged segments go aside. */
static void
jcompact_remove_covered(struct journal *j, uint64_t covered)
{
	char	**segs, **snaps, *path, *aside, *dmg, *err = NULL;
	size_t	  nseg, nsnap, i, k;
	bool	  damaged;

	if (jscan_list(j->dir, &segs, &nseg, &snaps, &nsnap, &err) == -1) {
		log_warnx("journal: %s", err);
		free(err);
		return;
	}
	for (i = 0; i < nseg; i++) {
		/* Fully covered: the next segment starts at or below covered+1. */
		if (i + 1 >= nseg || strtoull(segs[i + 1] + 4, NULL, 16) >
		    covered + 1)
			continue;
		path = xprintf("%s/%s", j->dir, segs[i]);
		for (damaged = false, k = 0; k < j->ndamaged; k++)
			damaged |= strcmp(j->damaged[k], segs[i]) == 0;
		if (damaged) {
			dmg = xprintf("%s/damaged", j->dir);
			aside = xprintf("%s/%s", dmg, segs[i]);
			if ((mkdir(dmg, 0700) == -1 && errno != EEXIST) ||
			    jio_rename(path, aside) == -1)
				log_warn("journal: moving %s aside", segs[i]);
			else
				log_info("journal: damaged %s moved to %s",
				    segs[i], aside);
			free(dmg);
			free(aside);
		} else if (jio_unlink(path) == -1)
			log_warn("journal: removing %s", path);
		free(path);
	}
	for (i = 0; i < nsnap; i++) {
		if (strtoull(snaps[i] + 5, NULL, 16) >= covered)
			continue;
		path = xprintf("%s/%s", j->dir, snaps[i]);
		if (jio_unlink(path) == -1)
			log_warn("journal: removing %s", path);
		free(path);
	}
	journal_sync_dir(j);
	jscan_free_list(segs, nseg);
	jscan_free_list(snaps, nsnap);
}

/* Whether name is seg-<16 hex>.pjl.tmp or snap-<16 hex>.pjl.tmp. */
static bool
jcompact_is_tmp(const char *name)
{
	size_t	len = strlen(name), i;

	if (strncmp(name, "seg-", 4) == 0)
		i = 4;
	else if (strncmp(name, "snap-", 5) == 0)
		i = 5;
	else
		return false;
	if (len != i + 24 || strcmp(name + i + 16, ".pjl.tmp") != 0)
		return false;
	for (; i < len - 8; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

/*
 * Remove the .tmp files a crash left in the middle of creating a segment
 * or a snapshot: never read, and a snapshot's name is never reused, so
 * nothing else would remove it.
 */
void
jcompact_remove_tmp(struct journal *j)
{
	struct dirent	*de;
	DIR		*d;
	char		*path;
	size_t		 n = 0;

	if ((d = opendir(j->dir)) == NULL) {
		log_warn("journal: %s", j->dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!jcompact_is_tmp(de->d_name))
			continue;
		path = xprintf("%s/%s", j->dir, de->d_name);
		if (jio_unlink(path) == -1)
			log_warn("journal: removing %s", path);
		else {
			log_info("journal: removed %s, left unfinished by a "
			    "crash", de->d_name);
			n++;
		}
		free(path);
	}
	closedir(d);
	if (n > 0)
		journal_sync_dir(j);
}

/*
 * Compact: keep the executions keep() says yes to, and every unfinished
 * one.  Returns 0; the caller then drops the others from the history.
 */
int
journal_compact(struct journal *j, struct history *h,
    bool (*keep)(const struct execution *, void *), void *arg, char **err)
{
	struct jcompact		 c;
	struct execution	*e;
	uint64_t		 covered;
	size_t			 i;

	if (journal_flush(j) == -1) {
		*err = xprintf("the journal cannot be written: %s",
		    j->error != NULL ? j->error : "unknown error");
		return -1;
	}
	/* From here on new records go to a segment the snapshot won't cover. */
	journal_rotate(j);
	covered = j->last_seq;
	memset(&c, 0, sizeof c);
	buf_init(&c.out);
	for (i = 0; i < history_count(h); i++) {
		e = history_at(h, i);
		if (!result_is_final(&e->r) || keep(e, arg))
			jcompact_execution(&c, e);
	}
	if (jcompact_write(j, &c, covered, history_next_id(h), err) == -1) {
		buf_release(&c.out);
		return -1;
	}
	buf_release(&c.out);
	jcompact_remove_covered(j, covered);
	for (i = 0; i < j->ndamaged; i++)
		free(j->damaged[i]);
	free(j->damaged);
	j->damaged = NULL;
	j->ndamaged = 0;
	return 0;
}
