/*
 * Simulated power loss for the journal: the file system calls of jio.h in
 * the crash-simulation build (-DPIPELINED_CRASHSIM, daemon/pipelined-
 * crashsim only).  The model follows SQLite's crash tests:
 *
 * - Data.  A write or truncation of a journal file reaches the file at
 *   once (as the page cache would take it) and is also remembered, with
 *   the bytes it replaced, until an fdatasync or fsync of that file
 *   returns: what was written before the sync began is then durable.  At
 *   the crash each write that is not, independently: is applied; is
 *   dropped (the file may still have grown over it: zeros); is torn (a
 *   random subset of its 512-byte sectors applied); or, in the model
 *   without powersafe overwrite ("sector"), leaves garbage: every sector
 *   it touches, the bytes around it included, filled with random bytes.
 *   A truncation is applied or not.
 * - Directories.  Creating, renaming and unlinking journal files are
 *   remembered in one list, in order.  An fsync of a directory makes the
 *   list durable up to the last entry that involves that directory (a
 *   journalling file system commits metadata in order).  At the crash a
 *   random suffix of what is not durable is undone, newest first: a
 *   created file vanishes, a rename goes back (and the file it replaced
 *   comes back), an unlinked file comes back (a hidden hard link,
 *   .crashsim-*, kept it).
 *
 * PIPELINED_CRASHSIM=OP:N[:after] says where: just before (or after) the
 * Nth call of OP: write (write and pwrite), sync (fdatasync and fsync),
 * fdatasync, fsync, dirsync (fsync of a directory), rename, unlink,
 * ftruncate, creat, or any.  There the files are rewritten to their state
 * after the power loss and the process _exits with JCRASHSIM_EXIT.
 * PIPELINED_CRASHSIM_MODEL: psow (the default), sector, nosync (syncs make
 * nothing durable: a test's teeth), kill (SIGKILL at that point, nothing
 * lost).  PIPELINED_CRASHSIM_SEED seeds the choices; ..._REPORT names a
 * file saying what was lost; ..._TRACE a file with a line per call;
 * ..._SEGMENT_MAX the rotation size.
 */
#include "config.h"

#ifndef PIPELINED_CRASHSIM
#error "jcrashsim.c belongs to the crash-simulation build only"
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jio.h"
#include "xmalloc.h"

#define JC_SECTOR	512
#define JC_RECENT	12	/* calls the report lists */

enum jc_kind {
	JC_WRITE,
	JC_FDATASYNC,
	JC_FSYNC,
	JC_DIRSYNC,
	JC_RENAME,
	JC_UNLINK,
	JC_FTRUNCATE,
	JC_CREAT,
	JC_NKIND
};

static const char *const jc_kind_names[JC_NKIND] = {
	"write", "fdatasync", "fsync", "dirsync", "rename", "unlink",
	"ftruncate", "creat"
};

/* Trigger names: the kinds each one counts. */
static const struct {
	const char	*name;
	unsigned	 mask;
} jc_triggers[] = {
	{ "write", 1u << JC_WRITE },
	{ "sync", 1u << JC_FDATASYNC | 1u << JC_FSYNC | 1u << JC_DIRSYNC },
	{ "fdatasync", 1u << JC_FDATASYNC },
	{ "fsync", 1u << JC_FSYNC | 1u << JC_DIRSYNC },
	{ "dirsync", 1u << JC_DIRSYNC },
	{ "rename", 1u << JC_RENAME },
	{ "unlink", 1u << JC_UNLINK },
	{ "ftruncate", 1u << JC_FTRUNCATE },
	{ "creat", 1u << JC_CREAT },
	{ "any", (1u << JC_NKIND) - 1 },
};

enum jc_model { JC_PSOW, JC_SECTORS, JC_NOSYNC, JC_KILL };

/* A write or truncation not durable yet. */
struct jc_op {
	uint64_t	 n;		/* the call's number */
	bool		 trunc;
	off_t		 off;		/* where it wrote, or the new size */
	size_t		 len;
	uint8_t		*data;
	off_t		 old_size;	/* the file's size before */
	uint8_t		*old;		/* the bytes it replaced */
	size_t		 old_len;
};

/* A journal file (an inode), while it is open or has such writes. */
struct jc_file {
	dev_t		 dev;
	ino_t		 ino;
	int		 fd;		/* ours, read-write: rewritten at the crash */
	unsigned	 refs;		/* the journal's descriptors of it */
	struct jc_op	*ops;
	size_t		 nops;
};

/* A directory change not known durable yet. */
struct jc_dirop {
	enum jc_kind	 kind;		/* JC_CREAT, JC_RENAME or JC_UNLINK */
	char		*from;		/* renamed or unlinked */
	char		*to;		/* created, or renamed to */
	char		*saved;		/* hidden link to what it removed */
	dev_t		 dev[2];	/* the directories involved */
	ino_t		 ino[2];
};

static struct {
	pthread_mutex_t	  mtx;
	bool		  ready;
	unsigned	  trigger;	/* a mask of kinds */
	uint64_t	  at;		/* which of those calls crashes; 0 none */
	bool		  after;
	uint64_t	  calls;	/* of the trigger's kinds so far */
	uint64_t	  n;		/* every call so far */
	enum jc_model	  model;
	uint64_t	  rng;
	char		 *report;
	FILE		 *trace;
	off_t		  segment_max;
	struct jc_file	**files;
	size_t		  nfiles;
	struct jc_file	**byfd;
	size_t		  nbyfd;
	struct jc_dirop	 *dirops;
	size_t		  ndirops;	/* none known durable */
	uint64_t	  hidden;	/* names given to hidden links */
	char		  recent[JC_RECENT][128];	/* the last calls */
} jc = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static void	jc_crash(const char *what) __attribute__((noreturn));

/* xorshift64*: enough randomness, and the same for the same seed. */
static uint64_t
jc_rand(void)
{
	jc.rng ^= jc.rng >> 12;
	jc.rng ^= jc.rng << 25;
	jc.rng ^= jc.rng >> 27;
	return jc.rng * 2685821657736338717ULL;
}

static void
jc_bad_env(const char *name, const char *value)
{
	fprintf(stderr, "pipelined-crashsim: bad %s: %s\n", name, value);
	_exit(2);
}

/* Read the settings, once (with the lock held). */
static void
jc_init(void)
{
	const char	*s, *colon;
	char		*end;
	size_t		 i;

	if (jc.ready)
		return;
	jc.ready = true;
	jc.rng = 0x9e3779b97f4a7c15ULL;
	jc.segment_max = (off_t)JOURNAL_SEGMENT_MAX;
	if ((s = getenv("PIPELINED_CRASHSIM")) != NULL && *s != '\0') {
		if ((colon = strchr(s, ':')) == NULL)
			jc_bad_env("PIPELINED_CRASHSIM", s);
		for (i = 0; i < sizeof jc_triggers / sizeof *jc_triggers; i++)
			if (strlen(jc_triggers[i].name) == (size_t)(colon - s) &&
			    strncmp(s, jc_triggers[i].name, colon - s) == 0)
				jc.trigger = jc_triggers[i].mask;
		jc.at = strtoull(colon + 1, &end, 10);
		if (jc.trigger == 0 || jc.at == 0 || (*end != '\0' &&
		    strcmp(end, ":after") != 0 && strcmp(end, ":before") != 0))
			jc_bad_env("PIPELINED_CRASHSIM", s);
		jc.after = strcmp(end, ":after") == 0;
	}
	if ((s = getenv("PIPELINED_CRASHSIM_MODEL")) != NULL && *s != '\0') {
		if (strcmp(s, "psow") == 0)
			jc.model = JC_PSOW;
		else if (strcmp(s, "sector") == 0)
			jc.model = JC_SECTORS;
		else if (strcmp(s, "nosync") == 0)
			jc.model = JC_NOSYNC;
		else if (strcmp(s, "kill") == 0)
			jc.model = JC_KILL;
		else
			jc_bad_env("PIPELINED_CRASHSIM_MODEL", s);
	}
	if ((s = getenv("PIPELINED_CRASHSIM_SEED")) != NULL && *s != '\0')
		jc.rng ^= strtoull(s, NULL, 0) * 0xff51afd7ed558ccdULL;
	if (jc.rng == 0)
		jc.rng = 1;
	if ((s = getenv("PIPELINED_CRASHSIM_REPORT")) != NULL && *s != '\0')
		jc.report = xstrdup(s);
	if ((s = getenv("PIPELINED_CRASHSIM_TRACE")) != NULL && *s != '\0') {
		if ((jc.trace = fopen(s, "ae")) == NULL)
			jc_bad_env("PIPELINED_CRASHSIM_TRACE", s);
		/* Line by line, so a crash keeps it all; it cannot fail here. */
		(void)setvbuf(jc.trace, NULL, _IOLBF, 0);
	}
	if ((s = getenv("PIPELINED_CRASHSIM_SEGMENT_MAX")) != NULL &&
	    *s != '\0') {
		jc.segment_max = (off_t)strtoll(s, &end, 10);
		if (*end != '\0' || jc.segment_max < 4096)
			jc_bad_env("PIPELINED_CRASHSIM_SEGMENT_MAX", s);
	}
}

static void
jc_lock(void)
{
	pthread_mutex_lock(&jc.mtx);
	jc_init();
}

static void
jc_unlock(void)
{
	pthread_mutex_unlock(&jc.mtx);
}

/* The path of one of our descriptors, for the trace and the report. */
static void
jc_fd_path(int fd, char *out, size_t size)
{
	char	link[64];
	ssize_t	n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, out, size - 1)) < 0)
		n = 0;
	out[n] = '\0';
}

/*
 * A call of kind k is about to be made (after: was made).  Count it and
 * crash when it is the one.
 */
static void
jc_point(enum jc_kind k, bool after, const char *path)
{
	const char	*base = strrchr(path, '/');
	char		 what[96];

	if (!after) {
		jc.n++;
		snprintf(jc.recent[jc.n % JC_RECENT], sizeof *jc.recent,
		    "%" PRIu64 " %s %s", jc.n, jc_kind_names[k],
		    base != NULL ? base + 1 : path);
		if (jc.trace != NULL)
			fprintf(jc.trace, "%" PRIu64 " %s %s\n", jc.n,
			    jc_kind_names[k], path);
		if (jc.trigger & 1u << k)
			jc.calls++;
	}
	if (jc.at == 0 || !(jc.trigger & 1u << k) || jc.calls != jc.at ||
	    after != jc.after)
		return;
	snprintf(what, sizeof what, "%s (call %" PRIu64 ", %s %s)",
	    getenv("PIPELINED_CRASHSIM"), jc.n, after ? "after" : "before",
	    jc_kind_names[k]);
	jc_crash(what);
}

/* The file an fd of the journal's is open on, tracked from now on. */
static struct jc_file *
jc_file(int fd)
{
	struct jc_file	*f;
	struct stat	 st;
	char		 proc[64];
	size_t		 i;

	if (fd < 0)
		return NULL;
	if ((size_t)fd < jc.nbyfd && jc.byfd[fd] != NULL)
		return jc.byfd[fd];
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		return NULL;
	for (f = NULL, i = 0; i < jc.nfiles; i++)
		if (jc.files[i]->dev == st.st_dev &&
		    jc.files[i]->ino == st.st_ino)
			f = jc.files[i];
	if (f == NULL) {
		f = xcalloc(1, sizeof *f);
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		/* Our own descriptor: theirs may be write-only, or closed. */
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		if ((f->fd = open(proc, O_RDWR | O_CLOEXEC)) == -1) {
			fprintf(stderr, "pipelined-crashsim: reopening %s: %s\n",
			    proc, strerror(errno));
			_exit(2);
		}
		jc.files = xreallocarray(jc.files, jc.nfiles + 1,
		    sizeof *jc.files);
		jc.files[jc.nfiles++] = f;
	}
	if ((size_t)fd >= jc.nbyfd) {
		jc.byfd = xreallocarray(jc.byfd, (size_t)fd + 1,
		    sizeof *jc.byfd);
		memset(jc.byfd + jc.nbyfd, 0, ((size_t)fd + 1 - jc.nbyfd) *
		    sizeof *jc.byfd);
		jc.nbyfd = (size_t)fd + 1;
	}
	jc.byfd[fd] = f;
	f->refs++;
	return f;
}

static void
jc_ops_free(struct jc_op *ops, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(ops[i].data);
		free(ops[i].old);
	}
}

/* Forget a file with no descriptor and nothing that could be lost. */
static void
jc_file_release(struct jc_file *f)
{
	size_t	i;

	if (f->refs > 0 || f->nops > 0)
		return;
	for (i = 0; i < jc.nfiles; i++)
		if (jc.files[i] == f) {
			jc.files[i] = jc.files[--jc.nfiles];
			break;
		}
	close(f->fd);
	free(f->ops);
	free(f);
}

/*
 * Remember a write of len bytes at off (or, with trunc, a truncation to
 * off) before it is made: the bytes it will replace are read first.
 */
static struct jc_op *
jc_op_add(struct jc_file *f, bool trunc, off_t off, const void *p,
    size_t len)
{
	struct jc_op	*op;
	struct stat	 st;
	off_t		 from, to;
	ssize_t		 got;

	if (fstat(f->fd, &st) == -1)
		st.st_size = 0;
	f->ops = xreallocarray(f->ops, f->nops + 1, sizeof *f->ops);
	op = &f->ops[f->nops++];
	memset(op, 0, sizeof *op);
	op->n = jc.n;
	op->trunc = trunc;
	op->off = off;
	op->old_size = st.st_size;
	if (!trunc) {
		op->len = len;
		op->data = xmalloc(len > 0 ? len : 1);
		memcpy(op->data, p, len);
	}
	from = off;
	to = trunc ? st.st_size : off + (off_t)len;
	if (to > st.st_size)
		to = st.st_size;
	if (to > from) {
		op->old = xmalloc((size_t)(to - from));
		got = pread(f->fd, op->old, (size_t)(to - from), from);
		op->old_len = got > 0 ? (size_t)got : 0;
	}
	return op;
}

/* The write was made, n bytes of it (or none: forget it). */
static void
jc_op_done(struct jc_file *f, ssize_t n)
{
	struct jc_op	*op = &f->ops[f->nops - 1];

	if (n <= 0) {
		jc_ops_free(op, 1);
		f->nops--;
		return;
	}
	if (!op->trunc && (size_t)n < op->len)
		op->len = (size_t)n;
	if (!op->trunc && op->old_len > op->len)
		op->old_len = op->len;
}

/* What began before call number upto is durable in f. */
static void
jc_synced(struct jc_file *f, uint64_t upto)
{
	size_t	i, keep = 0;

	for (i = 0; i < f->nops; i++) {
		if (f->ops[i].n <= upto)
			jc_ops_free(&f->ops[i], 1);
		else
			f->ops[keep++] = f->ops[i];
	}
	f->nops = keep;
}

/* An absolute form of path (the daemon's directory may change). */
static char *
jc_abs(const char *path)
{
	char	cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	return xprintf("%s/%s", cwd, path);
}

/* The directory holding path: its device and inode. */
static void
jc_dir_of(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat	 st;
	char		*dir = xstrdup(path), *slash;

	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	if (stat(dir, &st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	} else
		*dev = *ino = 0;
	free(dir);
}

/* A hidden hard link to path beside it, or NULL. */
static char *
jc_hide(const char *path)
{
	char		*dir = jc_abs(path), *slash, *h;

	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	h = xprintf("%s/.crashsim-%ld-%" PRIu64, dir, (long)getpid(),
	    ++jc.hidden);
	free(dir);
	if (link(path, h) == -1) {
		free(h);
		return NULL;
	}
	return h;
}

static void
jc_dirop_add(enum jc_kind k, const char *from, const char *to, char *saved)
{
	struct jc_dirop	*d;

	jc.dirops = xreallocarray(jc.dirops, jc.ndirops + 1,
	    sizeof *jc.dirops);
	d = &jc.dirops[jc.ndirops++];
	memset(d, 0, sizeof *d);
	d->kind = k;
	d->from = from != NULL ? jc_abs(from) : NULL;
	d->to = to != NULL ? jc_abs(to) : NULL;
	d->saved = saved;
	jc_dir_of(from != NULL ? d->from : d->to, &d->dev[0], &d->ino[0]);
	if (from != NULL && to != NULL)
		jc_dir_of(d->to, &d->dev[1], &d->ino[1]);
	else {
		d->dev[1] = d->dev[0];
		d->ino[1] = d->ino[0];
	}
}

/* Directory changes up to the last one in dir are durable. */
static void
jc_dir_synced(dev_t dev, ino_t ino)
{
	struct jc_dirop	*d;
	size_t		 i, upto = 0, keep = 0;

	for (i = 0; i < jc.ndirops; i++) {
		d = &jc.dirops[i];
		if ((d->dev[0] == dev && d->ino[0] == ino) ||
		    (d->dev[1] == dev && d->ino[1] == ino))
			upto = i + 1;
	}
	for (i = 0; i < jc.ndirops; i++) {
		d = &jc.dirops[i];
		if (i >= upto) {
			jc.dirops[keep++] = *d;
			continue;
		}
		if (d->saved != NULL)
			unlink(d->saved);
		free(d->from);
		free(d->to);
		free(d->saved);
	}
	jc.ndirops = keep;
}

/* --- the crash ----------------------------------------------------------- */

struct jc_tally {
	size_t	applied, dropped, torn, garbage;
};

/* Grow the image to end, with zeros (a hole, or a size without data). */
static void
jc_grow(uint8_t *img, off_t *size, off_t end)
{
	if (end > *size) {
		memset(img + *size, 0, (size_t)(end - *size));
		*size = end;
	}
}

static void
jc_garbage(uint8_t *p, size_t n)
{
	uint64_t	r = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			r = jc_rand();
		p[i] = (uint8_t)(r >> (i % 8 * 8));
	}
}

/* Replay one write not durable, as the power loss left it. */
static void
jc_lose_write(const struct jc_op *op, uint8_t *img, off_t *size,
    struct jc_tally *t)
{
	off_t	s, a, b, end = op->off + (off_t)op->len;
	int	what = (int)(jc_rand() % (jc.model == JC_SECTORS ? 4 : 3));

	switch (what) {
	case 0:
		jc_grow(img, size, end);
		memcpy(img + op->off, op->data, op->len);
		t->applied++;
		break;
	case 1:
		/* The size may have reached the disk without the data. */
		if (jc_rand() % 2)
			jc_grow(img, size, end);
		t->dropped++;
		break;
	case 2:
		for (s = op->off / JC_SECTOR; s * JC_SECTOR < end; s++) {
			if (jc_rand() % 2)
				continue;
			a = s * JC_SECTOR > op->off ? s * JC_SECTOR : op->off;
			b = (s + 1) * JC_SECTOR < end ? (s + 1) * JC_SECTOR : end;
			jc_grow(img, size, b);
			memcpy(img + a, op->data + (a - op->off), (size_t)(b - a));
		}
		t->torn++;
		break;
	default:
		/* Whole sectors, what was there before included. */
		jc_grow(img, size, end);
		a = op->off / JC_SECTOR * JC_SECTOR;
		b = (end + JC_SECTOR - 1) / JC_SECTOR * JC_SECTOR;
		if (b > *size)
			b = *size;
		jc_garbage(img + a, (size_t)(b - a));
		t->garbage++;
		break;
	}
}

/*
 * Rewrite f as the power loss leaves it: undo every write not durable
 * (newest first) to find what is, then replay each as chance says.
 */
static void
jc_lose(struct jc_file *f, FILE *rep)
{
	struct jc_tally	 t = { 0, 0, 0, 0 };
	struct stat	 st;
	struct jc_op	*op;
	uint8_t		*img;
	off_t		 size, cap, durable, from = -1;
	ssize_t		 got;
	size_t		 i;
	char		 path[PATH_MAX];

	if (fstat(f->fd, &st) == -1)
		return;
	cap = st.st_size;
	for (i = 0; i < f->nops; i++) {
		op = &f->ops[i];
		if (op->old_size > cap)
			cap = op->old_size;
		if (op->off + (off_t)op->len > cap)
			cap = op->off + (off_t)op->len;
		if (from == -1 || op->off < from)
			from = op->off;
	}
	img = xcalloc(1, (size_t)cap + JC_SECTOR);
	size = st.st_size;
	got = size > 0 ? pread(f->fd, img, (size_t)size, 0) : 0;
	if (got < size)
		size = got > 0 ? got : 0;
	for (i = f->nops; i-- > 0;) {
		op = &f->ops[i];
		if (op->old_len > 0)
			memcpy(img + op->off, op->old, op->old_len);
		size = op->old_size;
	}
	durable = size;
	for (i = 0; i < f->nops; i++) {
		op = &f->ops[i];
		if (!op->trunc)
			jc_lose_write(op, img, &size, &t);
		else if (jc_rand() % 2) {
			if (op->off > size)
				jc_grow(img, &size, op->off);
			size = op->off;
			t.applied++;
		} else
			t.dropped++;
	}
	if (ftruncate(f->fd, size) == -1 || (size > 0 && pwrite(f->fd, img,
	    (size_t)size, 0) != (ssize_t)size))
		fprintf(stderr, "pipelined-crashsim: rewriting a file: %s\n",
		    strerror(errno));
	if (rep != NULL) {
		jc_fd_path(f->fd, path, sizeof path);
		fprintf(rep, "file %s durable %lld unsynced_from %lld size %lld "
		    "writes %zu applied %zu dropped %zu torn %zu garbage %zu\n",
		    path, (long long)durable, (long long)from, (long long)size,
		    f->nops, t.applied, t.dropped, t.torn, t.garbage);
	}
	free(img);
}

/* A rename of the undo; a failure is said: the crash is not the model's. */
static void
jc_rename(const char *from, const char *to)
{
	if (rename(from, to) == -1)
		fprintf(stderr, "pipelined-crashsim: undoing: rename %s %s: %s\n",
		    from, to, strerror(errno));
}

/* Undo one directory change. */
static void
jc_undo(const struct jc_dirop *d)
{
	switch (d->kind) {
	case JC_CREAT:
		unlink(d->to);
		break;
	case JC_RENAME:
		jc_rename(d->to, d->from);
		if (d->saved != NULL)
			jc_rename(d->saved, d->to);
		break;
	case JC_UNLINK:
		if (d->saved != NULL)
			jc_rename(d->saved, d->from);
		break;
	default:
		break;
	}
}

/* The power goes (lock held). */
static void
jc_crash(const char *what)
{
	const struct jc_dirop	*d;
	FILE			*rep = NULL;
	size_t			 i, cut;

	if (jc.report != NULL && (rep = fopen(jc.report, "we")) == NULL)
		fprintf(stderr, "pipelined-crashsim: %s: %s\n", jc.report,
		    strerror(errno));
	if (rep != NULL) {
		fprintf(rep, "crash %s model %s\n", what,
		    (const char *[]){ "psow", "sector", "nosync", "kill" }
		    [jc.model]);
		for (i = jc.n + 1; i <= jc.n + JC_RECENT; i++)
			if (jc.recent[i % JC_RECENT][0] != '\0')
				fprintf(rep, "recent %s\n",
				    jc.recent[i % JC_RECENT]);
	}
	if (jc.model == JC_KILL) {
		/* A process crash: nothing lost; only our links go. */
		for (i = 0; i < jc.ndirops; i++)
			if (jc.dirops[i].saved != NULL)
				unlink(jc.dirops[i].saved);
		if (rep != NULL)
			(void)fclose(rep);	/* a short report shows in the test */
		kill(getpid(), SIGKILL);
		for (;;)
			pause();
	}
	for (i = 0; i < jc.nfiles; i++)
		if (jc.files[i]->nops > 0)
			jc_lose(jc.files[i], rep);
	cut = (size_t)(jc_rand() % (jc.ndirops + 1));
	for (i = jc.ndirops; i-- > 0;) {
		d = &jc.dirops[i];
		if (i >= cut)
			jc_undo(d);
		else if (d->saved != NULL)
			unlink(d->saved);
		if (rep != NULL)
			fprintf(rep, "dir %s %s %s%s%s\n", i >= cut ? "undone" :
			    "kept", jc_kind_names[d->kind], d->from != NULL ?
			    d->from : "", d->from != NULL && d->to != NULL ?
			    " -> " : "", d->to != NULL ? d->to : "");
	}
	if (rep != NULL)
		(void)fclose(rep);	/* a short report shows in the test */
	fprintf(stderr, "pipelined-crashsim: simulated power loss at %s\n",
	    what);
	_exit(JCRASHSIM_EXIT);
}

/* --- the calls ------------------------------------------------------------ */

int
jio_open(const char *path, int flags, mode_t mode)
{
	struct jc_file	*f;
	struct stat	 st;
	bool		 existed, creat;
	int		 fd;

	jc_lock();
	existed = lstat(path, &st) == 0;
	creat = (flags & O_CREAT) && !existed;
	if (creat)
		jc_point(JC_CREAT, false, path);
	/* Truncation is remembered like any other. */
	fd = open(path, flags & ~O_TRUNC, mode);
	if (fd != -1 && (f = jc_file(fd)) != NULL) {
		if (creat)
			jc_dirop_add(JC_CREAT, NULL, path, NULL);
		if ((flags & O_TRUNC) && existed && st.st_size > 0) {
			jc_op_add(f, true, 0, NULL, 0);
			jc_op_done(f, ftruncate(fd, 0) == 0 ? 1 : 0);
		}
	}
	if (creat)
		jc_point(JC_CREAT, true, path);
	jc_unlock();
	return fd;
}

int
jio_close(int fd)
{
	struct jc_file	*f;

	jc_lock();
	if (fd >= 0 && (size_t)fd < jc.nbyfd && (f = jc.byfd[fd]) != NULL) {
		jc.byfd[fd] = NULL;
		f->refs--;
		jc_file_release(f);
	}
	jc_unlock();
	return close(fd);
}

/* pwrite, or (not positional) write at the descriptor's offset. */
static ssize_t
jc_write(int fd, const void *p, size_t n, off_t off, bool positional)
{
	struct jc_file	*f;
	ssize_t		 rc;
	off_t		 at = off;
	char		 path[PATH_MAX] = "";

	jc_lock();
	jc_fd_path(fd, path, sizeof path);
	jc_point(JC_WRITE, false, path);
	if (!positional)
		at = lseek(fd, 0, SEEK_CUR);
	if ((f = jc_file(fd)) != NULL && at >= 0)
		jc_op_add(f, false, at, p, n);
	else
		f = NULL;
	rc = positional ? pwrite(fd, p, n, off) : write(fd, p, n);
	if (f != NULL)
		jc_op_done(f, rc);
	jc_point(JC_WRITE, true, path);
	jc_unlock();
	return rc;
}

ssize_t
jio_write(int fd, const void *p, size_t n)
{
	return jc_write(fd, p, n, 0, false);
}

ssize_t
jio_pwrite(int fd, const void *p, size_t n, off_t off)
{
	return jc_write(fd, p, n, off, true);
}

int
jio_ftruncate(int fd, off_t len)
{
	struct jc_file	*f;
	int		 rc;
	char		 path[PATH_MAX] = "";

	jc_lock();
	jc_fd_path(fd, path, sizeof path);
	jc_point(JC_FTRUNCATE, false, path);
	if ((f = jc_file(fd)) != NULL)
		jc_op_add(f, true, len, NULL, 0);
	rc = ftruncate(fd, len);
	if (f != NULL)
		jc_op_done(f, rc == 0 ? 1 : 0);
	jc_point(JC_FTRUNCATE, true, path);
	jc_unlock();
	return rc;
}

/* fdatasync or fsync of a file or a directory. */
static int
jc_sync(int fd, bool data_only)
{
	struct jc_file	*f = NULL;
	struct stat	 st;
	enum jc_kind	 k;
	uint64_t	 upto;
	int		 rc;
	char		 path[PATH_MAX] = "";

	jc_lock();
	if (fstat(fd, &st) == -1)
		st.st_mode = 0;
	k = S_ISDIR(st.st_mode) ? JC_DIRSYNC : data_only ? JC_FDATASYNC :
	    JC_FSYNC;
	jc_fd_path(fd, path, sizeof path);
	jc_point(k, false, path);
	if (k != JC_DIRSYNC)
		f = jc_file(fd);
	upto = jc.n;
	jc_unlock();
	/* Not under the lock: writes go on meanwhile, as they would. */
	rc = data_only ? fdatasync(fd) : fsync(fd);
	jc_lock();
	if (rc == 0 && jc.model != JC_NOSYNC) {
		if (k == JC_DIRSYNC)
			jc_dir_synced(st.st_dev, st.st_ino);
		else if (f != NULL)
			jc_synced(f, upto);
	}
	jc_point(k, true, path);
	jc_unlock();
	return rc;
}

int
jio_fdatasync(int fd)
{
	return jc_sync(fd, true);
}

int
jio_fsync(int fd)
{
	return jc_sync(fd, false);
}

int
jio_rename(const char *from, const char *to)
{
	struct stat	 st;
	char		*saved = NULL;
	int		 rc;

	jc_lock();
	jc_point(JC_RENAME, false, from);
	if (lstat(to, &st) == 0)
		saved = jc_hide(to);
	if ((rc = rename(from, to)) == 0)
		jc_dirop_add(JC_RENAME, from, to, saved);
	else if (saved != NULL) {
		unlink(saved);
		free(saved);
	}
	jc_point(JC_RENAME, true, from);
	jc_unlock();
	return rc;
}

int
jio_unlink(const char *path)
{
	char	*saved;
	int	 rc;

	jc_lock();
	jc_point(JC_UNLINK, false, path);
	saved = jc_hide(path);
	if ((rc = unlink(path)) == 0)
		jc_dirop_add(JC_UNLINK, path, NULL, saved);
	else if (saved != NULL) {
		unlink(saved);
		free(saved);
	}
	jc_point(JC_UNLINK, true, path);
	jc_unlock();
	return rc;
}

off_t
jio_segment_max(void)
{
	off_t	max;

	jc_lock();
	max = jc.segment_max;
	jc_unlock();
	return max;
}
