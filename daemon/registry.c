/*
 * Registered pipelines: the *.yaml files of the pipelines directory,
 * loaded at start and on every reload, run by name.
 *
 * Only files the administrator controls are honoured: the directory and
 * each file must belong to root or to the daemon's user and be writable
 * by nobody else (a symbolic link is followed, and what it leads to is
 * checked the same way, on the open file).  Other files are listed as
 * refused, with the reason.  A file that does not load is kept as
 * invalid, with every error as FILE:LINE:COL: message, so that running it
 * records a CONFIG_ERROR execution saying why.  Two files giving the same
 * name are both invalid, each error naming the other file: which one
 * would run is not for the order of a directory listing to decide.
 *
 * A registry is built whole, then swapped in: executions created before
 * keep the definition they hold a reference to.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "daemon.h"
#include "defcache.h"
#include "diag.h"
#include "history.h"
#include "load.h"
#include "log.h"
#include "node.h"
#include "pipeline.h"
#include "trust.h"
#include "xmalloc.h"
#include "yamldoc.h"

#define REGISTRY_SUFFIX	".yaml"

static void
registry_add_error(struct registry_entry *re, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One more error for an entry (invalid or refused). */
static void
registry_add_error(struct registry_entry *re, const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	re->errors = xreallocarray(re->errors, re->nerrors + 1,
	    sizeof *re->errors);
	re->errors[re->nerrors++] = buf_detach(&b);
}

/* The name a file stands for before its document says: "x" for x.yaml. */
static char *
registry_file_name(const char *base)
{
	return xstrndup(base, strlen(base) - strlen(REGISTRY_SUFFIX));
}

/* Read an open file whole, within the loader's limit. */
static int
registry_read(int fd, const struct stat *sb, struct buf *b, char **why)
{
	ssize_t	n;

	if (sb->st_size > (off_t)PL_MAX_FILE_SIZE) {
		*why = xprintf("file is %lld bytes, over the limit of %u",
		    (long long)sb->st_size, PL_MAX_FILE_SIZE);
		return -1;
	}
	/* One byte past the limit is enough to know it grew over it. */
	while (b->len <= PL_MAX_FILE_SIZE) {
		buf_reserve(b, 65536);
		n = read(fd, b->data + b->len, b->cap - 1 - b->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*why = xprintf("cannot read: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		b->len += (size_t)n;
	}
	*why = xprintf("file is over the limit of %u bytes", PL_MAX_FILE_SIZE);
	return -1;
}

/*
 * The name an invalid file gives itself, when its document still has a
 * usable one, with its position; the file's own name otherwise.
 */
static char *
registry_claimed_name(struct registry_entry *re, const char *text,
    size_t len, const char *base)
{
	struct diag		*scratch = diag_new("");
	struct node		*doc;
	const struct node	*v;
	char			*name = NULL;

	doc = yamldoc_parse(text, len, scratch);
	diag_free(scratch);
	if (doc != NULL && doc->type == NODE_MAP &&
	    (v = node_map_get(doc, "name")) != NULL && v->type == NODE_STR &&
	    pipeline_valid_name(v->text)) {
		name = xstrdup(v->text);
		re->name_line = v->line;
		re->name_col = v->col;
	}
	node_free(doc);
	return name != NULL ? name : registry_file_name(base);
}

/* Keep a loader's errors, as FILE:LINE:COL: message. */
static void
registry_keep_errors(struct registry_entry *re, struct diag *d)
{
	size_t	i;

	diag_sort(d);
	for (i = 0; i < d->n; i++) {
		re->errors = xreallocarray(re->errors, re->nerrors + 1,
		    sizeof *re->errors);
		re->errors[re->nerrors++] = diag_format(d, i);
	}
	if (d->dropped > 0)
		registry_add_error(re, "%s: %zu more errors not shown",
		    re->file, d->dropped);
}

/* Load a trusted file's text into re: valid, or invalid with its errors. */
static void
registry_load_text(struct registry_entry *re, const char *base,
    const struct buf *b, struct defcache *cache)
{
	struct pipeline		*p;
	struct node		*doc = NULL;
	const struct node	*v;
	struct diag		*d = diag_new(re->file);

	p = load_buffer(b->data, b->len, LOAD_REGISTERED, d, &doc);
	if (p != NULL) {
		re->name = xstrdup(p->name);
		if ((v = node_map_get(doc, "name")) != NULL) {
			re->name_line = v->line;
			re->name_col = v->col;
		}
		pipeline_free(p);
		/* As a client sends it: what the journal keeps replays alike. */
		load_canonical(doc);
		re->dref = defcache_get(cache, doc, LOAD_REGISTERED, d);
		node_free(doc);
	}
	if (re->dref != NULL)
		re->state = REGISTRY_VALID;
	else {
		re->state = REGISTRY_INVALID;
		if (re->name == NULL)
			re->name = registry_claimed_name(re, b->data, b->len,
			    base);
		registry_keep_errors(re, d);
	}
	diag_free(d);
}

/* Open, check and load one file of the directory into re. */
static void
registry_load_file(struct registry_entry *re, int dfd, const char *base, const char *dir_distrust, uid_t self,
    struct defcache *cache)
{
	struct stat	 sb;
	struct buf	 b;
	char		*why;
	int		 fd;

	re->state = REGISTRY_REFUSED;
	if (dir_distrust != NULL) {
		registry_add_error(re, "%s: refused: its directory is %s",
		    re->file, dir_distrust);
		return;
	}
	/* Non-blocking: a FIFO put there must not stop the daemon. */
	if ((fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		registry_add_error(re, "%s: refused: cannot open: %s", re->file,
		    strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == -1) {
		registry_add_error(re, "%s: refused: %s", re->file,
		    strerror(errno));
		close(fd);
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		registry_add_error(re, "%s: refused: not a regular file",
		    re->file);
		close(fd);
		return;
	}
	if ((why = trust_why_not(&sb, self)) != NULL) {
		registry_add_error(re, "%s: refused: %s", re->file, why);
		free(why);
		close(fd);
		return;
	}
	buf_init(&b);
	if (registry_read(fd, &sb, &b, &why) == -1) {
		re->state = REGISTRY_INVALID;
		registry_add_error(re, "%s: %s", re->file, why);
		free(why);
	} else
		registry_load_text(re, base, &b, cache);
	buf_release(&b);
	close(fd);
}

static int
registry_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries by name, then file: lookups bisect, listings come sorted. */
static int
registry_entry_cmp(const void *a, const void *b)
{
	const struct registry_entry	*x = a, *y = b;
	int				 c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->file, y->file);
}

/* The *.yaml names of a directory, sorted; dot files are left out. */
static char **
registry_list(DIR *dp, size_t *np)
{
	struct dirent	*de;
	char		**v = NULL;
	size_t		 n = 0, len, sl = strlen(REGISTRY_SUFFIX);

	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= sl ||
		    strcmp(de->d_name + len - sl, REGISTRY_SUFFIX) != 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = xstrdup(de->d_name);
	}
	if (n > 0)
		qsort(v, n, sizeof *v, registry_str_cmp);
	*np = n;
	return v;
}

/*
 * Names claimed by more than one honoured file: each of those is invalid,
 * with an error at its name naming the other files.
 */
static void
registry_duplicates(struct registry *reg)
{
	struct registry_entry	*re;
	struct buf		 others;
	size_t			 i, j, k, end;

	for (i = 0; i < reg->n; i = end) {
		for (end = i + 1; end < reg->n &&
		    strcmp(reg->v[end].name, reg->v[i].name) == 0; end++)
			;
		for (j = i, k = 0; j < end; j++)
			if (reg->v[j].state != REGISTRY_REFUSED)
				k++;
		if (k < 2)
			continue;
		for (j = i; j < end; j++) {
			re = &reg->v[j];
			if (re->state == REGISTRY_REFUSED)
				continue;
			buf_init(&others);
			for (k = i; k < end; k++)
				if (k != j && reg->v[k].state !=
				    REGISTRY_REFUSED)
					buf_addf(&others, "%s%s", others.len ?
					    ", " : "", reg->v[k].file);
			if (re->name_line > 0)
				registry_add_error(re, "%s:%u:%u: name '%s' is "
				    "also given by %s: a registered name must "
				    "be unique", re->file, re->name_line,
				    re->name_col, re->name, others.data);
			else
				registry_add_error(re, "%s: name '%s' is also "
				    "given by %s: a registered name must be "
				    "unique", re->file, re->name, others.data);
			buf_release(&others);
			re->state = REGISTRY_INVALID;
			defref_release(re->dref);
			re->dref = NULL;
		}
	}
}

/* Log what a load found wrong, file by file. */
static void
registry_log(const struct registry *reg)
{
	const struct registry_entry	*re;
	size_t				 i, k;

	for (i = 0; i < reg->n; i++) {
		re = &reg->v[i];
		for (k = 0; k < re->nerrors; k++)
			log_warnx("registered pipeline %s: %s", re->name,
			    re->errors[k]);
	}
}

/*
 * Read the pipelines directory dir: *.yaml files (at most
 * REGISTRY_MAX_FILES), their definitions shared through cache.  self is
 * the daemon's user, trusted besides root.  A missing directory is an
 * empty registry; one that cannot be read is empty too, with the error.
 */
struct registry *
registry_load(const char *dir, struct defcache *cache, uid_t self)
{
	struct registry		*reg;
	struct registry_entry	*re;
	struct stat		 sb;
	DIR			*dp;
	char			**names, *dir_distrust = NULL;
	size_t			 n, i;
	int			 dfd;

	reg = xcalloc(1, sizeof *reg);
	reg->dir = xstrdup(dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			reg->error = xprintf("cannot read %s: %s", dir,
			    strerror(errno));
		return reg;
	}
	if (fstat(dfd, &sb) == -1 || (dp = fdopendir(dfd)) == NULL) {
		reg->error = xprintf("cannot read %s: %s", dir,
		    strerror(errno));
		close(dfd);
		return reg;
	}
	dir_distrust = trust_why_not(&sb, self);
	names = registry_list(dp, &n);
	if (n > REGISTRY_MAX_FILES) {
		reg->skipped = n - REGISTRY_MAX_FILES;
		for (i = REGISTRY_MAX_FILES; i < n; i++)
			free(names[i]);
		n = REGISTRY_MAX_FILES;
	}
	reg->v = xcalloc(n, sizeof *reg->v);
	for (i = 0; i < n; i++) {
		re = &reg->v[reg->n++];
		re->file = xprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ?
		    "" : "/", names[i]);
		registry_load_file(re, dirfd(dp), names[i],
		    dir_distrust, self, cache);
		if (re->name == NULL)
			re->name = registry_file_name(names[i]);
		free(names[i]);
	}
	free(names);
	closedir(dp);
	free(dir_distrust);
	if (reg->n > 0)
		qsort(reg->v, reg->n, sizeof *reg->v, registry_entry_cmp);
	registry_duplicates(reg);
	for (i = 0; i < reg->n; i++) {
		switch (reg->v[i].state) {
		case REGISTRY_VALID:
			reg->nvalid++;
			break;
		case REGISTRY_INVALID:
			reg->ninvalid++;
			break;
		case REGISTRY_REFUSED:
			reg->nrefused++;
			break;
		}
	}
	registry_log(reg);
	return reg;
}

/* Free a registry; executions keep the definitions they hold. */
void
registry_free(struct registry *reg)
{
	struct registry_entry	*re;
	size_t			 i, k;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n; i++) {
		re = &reg->v[i];
		defref_release(re->dref);
		for (k = 0; k < re->nerrors; k++)
			free(re->errors[k]);
		free(re->errors);
		free(re->file);
		free(re->name);
	}
	free(reg->v);
	free(reg->error);
	free(reg->dir);
	free(reg);
}

/* The index of the first entry of name (by file), or -1. */
ssize_t
registry_index(const struct registry *reg, const char *name)
{
	size_t	lo = 0, hi = reg->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(reg->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < reg->n && strcmp(reg->v[lo].name, name) == 0 ?
	    (ssize_t)lo : -1;
}

/*
 * The entry of a name: the first one (by file) that is honoured, else the
 * first refused one, else NULL.
 */
const struct registry_entry *
registry_find(const struct registry *reg, const char *name)
{
	ssize_t	k;
	size_t	i;

	if ((k = registry_index(reg, name)) == -1)
		return NULL;
	for (i = (size_t)k; i < reg->n && strcmp(reg->v[i].name, name) == 0;
	    i++)
		if (reg->v[i].state != REGISTRY_REFUSED)
			return &reg->v[i];
	return &reg->v[k];
}

/* "3 registered pipelines in DIR (1 valid, 1 invalid, 1 refused)". */
char *
registry_summary(const struct registry *reg)
{
	struct buf	b;

	buf_init(&b);
	buf_addf(&b, "%zu registered pipeline%s in %s (%zu valid, %zu invalid, "
	    "%zu refused)", reg->n, reg->n == 1 ? "" : "s", reg->dir,
	    reg->nvalid, reg->ninvalid, reg->nrefused);
	if (reg->skipped > 0)
		buf_addf(&b, "; %zu more files left out (at most %d are read)",
		    reg->skipped, REGISTRY_MAX_FILES);
	if (reg->error != NULL)
		buf_addf(&b, "; %s", reg->error);
	return buf_detach(&b);
}

/*
 * Read the pipelines directory again and put the new registry in place of
 * the old; *msg (to free) says what it holds.
 */
void
registry_reload(struct daemon *d, char **msg)
{
	struct registry	*reg;

	reg = registry_load(d->opts.pipelines_dir, history_defs(d->hist),
	    geteuid());
	registry_free(d->reg);
	d->reg = reg;
	*msg = registry_summary(reg);
}
