/*
 * Unit tests for daemon/registry.c and what registered pipelines need of
 * the library: which files of a pipelines directory are honoured (owner,
 * mode, regular files, symbolic links followed and their target checked,
 * the directory's own mode, dot files and other suffixes left out, the
 * file limit), invalid files kept with every error as FILE:LINE:COL,
 * duplicate names invalid on both sides naming the other file, lookups by
 * name, definitions shared with the history's cache and outliving a
 * reload; the journal keeping an execution's registered name and an
 * invalid run's placeholder; and run-as lookups by name.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "daemon.h"
#include "defcache.h"
#include "history.h"
#include "jcodec.h"
#include "jformat.h"
#include "log.h"
#include "node.h"
#include "pipeline.h"
#include "proto.h"
#include "result.h"
#include "runas.h"
#include "xmalloc.h"

#define GOOD	"name: nightly\ndescription: the report\ntasks:\n" \
		"  a: {run: 'true'}\n  b: {run: 'true', parents: [a]}\n"
#define BAD	"name: broken\ntasks:\n  a: {run: 'true', parents: [zz]}\n" \
		"  b: {frob: 1, run: 'true'}\n"

static char	*dir;

static void
quiet_log(enum log_level l, const char *line, void *arg)
{
}

/* Write a file of dir with this text and mode. */
static char *
put(const char *name, const char *text, mode_t mode)
{
	char	*path = xprintf("%s/%s", dir, name);
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

static void
setup(void)
{
	char	tmpl[] = "/tmp/check_registry.XXXXXX";

	log_set_hook(quiet_log, NULL);
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	dir = xstrdup(tmpl);
}

static void
teardown(void)
{
	char	*cmd = xprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* The only entry of a registry with this name. */
static const struct registry_entry *
entry(const struct registry *reg, const char *name)
{
	const struct registry_entry	*re = registry_find(reg, name);

	ck_assert_msg(re != NULL, "no entry %s", name);
	return re;
}

/* Whether one of an entry's errors contains s. */
static bool
has_error(const struct registry_entry *re, const char *s)
{
	size_t	i;

	for (i = 0; i < re->nerrors; i++)
		if (strstr(re->errors[i], s) != NULL)
			return true;
	return false;
}

/* A missing directory is an empty registry, and no error. */
START_TEST(test_registry_missing)
{
	struct defcache	*dc = defcache_new();
	struct registry	*reg;
	char		*path = xprintf("%s/none", dir), *s;

	reg = registry_load(path, dc, geteuid());
	ck_assert_uint_eq(reg->n, 0);
	ck_assert_ptr_null(reg->error);
	ck_assert_ptr_null(registry_find(reg, "x"));
	s = registry_summary(reg);
	ck_assert_str_eq(s + strlen(s) - strlen("(0 valid, 0 invalid, "
	    "0 refused)"), "(0 valid, 0 invalid, 0 refused)");
	free(s);
	registry_free(reg);
	free(path);
	defcache_free(dc);
}
END_TEST

/* Valid, invalid (every error placed), and what is left out. */
START_TEST(test_registry_files)
{
	struct defcache			*dc = defcache_new();
	const struct registry_entry	*re;
	struct registry			*reg;
	char				*bad;

	free(put("good.yaml", GOOD, 0644));
	bad = put("bad.yaml", BAD, 0600);
	free(put("notes.txt", GOOD, 0644));
	free(put("good.yml", "name: other\ntasks: {a: {run: x}}\n", 0644));
	free(put(".hidden.yaml", "name: hidden\ntasks: {a: {run: x}}\n",
	    0644));
	free(put("empty.yaml", "", 0644));
	reg = registry_load(dir, dc, geteuid());
	ck_assert_uint_eq(reg->n, 3);
	ck_assert_uint_eq(reg->nvalid, 1);
	ck_assert_uint_eq(reg->ninvalid, 2);
	ck_assert_uint_eq(reg->nrefused, 0);

	re = entry(reg, "nightly");
	ck_assert_int_eq(re->state, REGISTRY_VALID);
	ck_assert_ptr_nonnull(re->dref);
	ck_assert_str_eq(re->dref->def->description, "the report");
	ck_assert_uint_eq(re->dref->def->ntasks, 2);
	ck_assert_uint_eq(re->nerrors, 0);
	ck_assert_uint_eq(re->name_line, 1);
	ck_assert_uint_eq(re->name_col, 7);

	/* Named by its document, every error kept, as FILE:LINE:COL. */
	re = entry(reg, "broken");
	ck_assert_int_eq(re->state, REGISTRY_INVALID);
	ck_assert_ptr_null(re->dref);
	ck_assert_str_eq(re->file, bad);
	ck_assert_uint_eq(re->nerrors, 2);
	ck_assert_msg(strncmp(re->errors[0], bad, strlen(bad)) == 0 &&
	    strncmp(re->errors[0] + strlen(bad), ":3:", 3) == 0,
	    "first error: %s", re->errors[0]);
	ck_assert_ptr_nonnull(strstr(re->errors[0], "zz"));
	ck_assert_ptr_nonnull(strstr(re->errors[1], ":4:"));
	ck_assert_ptr_nonnull(strstr(re->errors[1], "frob"));

	/* No name to be read: the file's name stands for it. */
	re = entry(reg, "empty");
	ck_assert_int_eq(re->state, REGISTRY_INVALID);
	ck_assert_uint_ge(re->nerrors, 1);
	ck_assert_ptr_null(registry_find(reg, "other"));
	ck_assert_ptr_null(registry_find(reg, "hidden"));

	/* Sorted by name. */
	ck_assert_str_eq(reg->v[0].name, "broken");
	ck_assert_str_eq(reg->v[1].name, "empty");
	ck_assert_str_eq(reg->v[2].name, "nightly");
	registry_free(reg);
	free(bad);
	defcache_free(dc);
}
END_TEST

/* Group- or other-writable files, and other owners, are refused. */
START_TEST(test_registry_refused)
{
	struct defcache			*dc = defcache_new();
	const struct registry_entry	*re;
	struct registry			*reg;
	char				*path, *fifo;

	free(put("gw.yaml", GOOD, 0664));
	free(put("ow.yaml", "name: ow\ntasks: {a: {run: x}}\n", 0646));
	fifo = xprintf("%s/fifo.yaml", dir);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	/* Ours (root's when root): trusted. */
	path = put("theirs.yaml", "name: theirs\ntasks: {a: {run: x}}\n",
	    0644);
	reg = registry_load(dir, dc, geteuid() == 0 ? 4242 : geteuid());
	re = entry(reg, "gw");
	ck_assert_int_eq(re->state, REGISTRY_REFUSED);
	ck_assert_ptr_null(re->dref);
	ck_assert_msg(has_error(re, "writable by its group (mode 0664)"),
	    "%s", re->errors[0]);
	ck_assert_msg(has_error(re, "/gw.yaml: refused: "), "%s",
	    re->errors[0]);
	re = entry(reg, "ow");
	ck_assert_int_eq(re->state, REGISTRY_REFUSED);
	ck_assert(has_error(re, "writable by others"));
	re = entry(reg, "fifo");
	ck_assert_int_eq(re->state, REGISTRY_REFUSED);
	ck_assert(has_error(re, "not a regular file"));
	ck_assert_int_eq(entry(reg, "theirs")->state, REGISTRY_VALID);
	ck_assert_uint_eq(reg->nrefused, 3);
	registry_free(reg);

	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, 4243, 0), 0);
		reg = registry_load(dir, dc, 4242);
		re = entry(reg, "theirs");
		ck_assert_int_eq(re->state, REGISTRY_REFUSED);
		ck_assert_msg(has_error(re, "owned by uid 4243"), "%s",
		    re->errors[0]);
		registry_free(reg);
		/* The daemon's own user is trusted as root is. */
		reg = registry_load(dir, dc, 4243);
		ck_assert_int_eq(entry(reg, "theirs")->state, REGISTRY_VALID);
		registry_free(reg);
	}
	free(path);
	free(fifo);
	defcache_free(dc);
}
END_TEST

/* A link is followed; what it leads to is checked like a file. */
START_TEST(test_registry_symlink)
{
	struct defcache	*dc = defcache_new();
	struct registry	*reg;
	char		*t, *l;

	t = put("target.yml", GOOD, 0644);
	l = xprintf("%s/linked.yaml", dir);
	ck_assert_int_eq(symlink(t, l), 0);
	reg = registry_load(dir, dc, geteuid());
	ck_assert_uint_eq(reg->n, 1);
	ck_assert_int_eq(entry(reg, "nightly")->state, REGISTRY_VALID);
	ck_assert_str_eq(entry(reg, "nightly")->file, l);
	registry_free(reg);
	ck_assert_int_eq(chmod(t, 0666), 0);
	reg = registry_load(dir, dc, geteuid());
	ck_assert_int_eq(entry(reg, "linked")->state, REGISTRY_REFUSED);
	ck_assert(has_error(entry(reg, "linked"), "writable by others"));
	registry_free(reg);
	ck_assert_int_eq(unlink(t), 0);
	reg = registry_load(dir, dc, geteuid());
	ck_assert_int_eq(entry(reg, "linked")->state, REGISTRY_REFUSED);
	ck_assert(has_error(entry(reg, "linked"), "cannot open"));
	registry_free(reg);
	free(t);
	free(l);
	defcache_free(dc);
}
END_TEST

/* A directory others may write to: nothing in it is honoured. */
START_TEST(test_registry_loose_dir)
{
	struct defcache	*dc = defcache_new();
	struct registry	*reg;

	free(put("good.yaml", GOOD, 0644));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	reg = registry_load(dir, dc, geteuid());
	ck_assert_int_eq(entry(reg, "good")->state, REGISTRY_REFUSED);
	ck_assert(has_error(entry(reg, "good"), "its directory is writable "
	    "by others"));
	registry_free(reg);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	defcache_free(dc);
}
END_TEST

/* Two files, one name: both invalid, each naming the other. */
START_TEST(test_registry_duplicates)
{
	struct defcache			*dc = defcache_new();
	const struct registry_entry	*a, *b;
	struct registry			*reg;
	char				*pa, *pb, *s;

	pa = put("a.yaml", GOOD, 0644);
	pb = put("b.yaml", "# the same name\nname: nightly\ntasks:\n"
	    "  x: {run: 'true'}\n", 0644);
	/* Refused: named by its file, but no claimant of the name. */
	free(put("nightly.yaml", GOOD, 0622));
	reg = registry_load(dir, dc, geteuid());
	ck_assert_uint_eq(reg->n, 3);
	ck_assert_uint_eq(reg->ninvalid, 2);
	ck_assert_uint_eq(reg->nrefused, 1);
	a = &reg->v[0];
	b = &reg->v[1];
	ck_assert_str_eq(a->file, pa);
	ck_assert_str_eq(b->file, pb);
	ck_assert_int_eq(a->state, REGISTRY_INVALID);
	ck_assert_int_eq(b->state, REGISTRY_INVALID);
	ck_assert_ptr_null(a->dref);
	ck_assert_uint_eq(a->nerrors, 1);
	s = xprintf("%s:1:7: name 'nightly' is also given by %s: a "
	    "registered name must be unique", pa, pb);
	ck_assert_str_eq(a->errors[0], s);
	free(s);
	ck_assert_int_eq(reg->v[2].state, REGISTRY_REFUSED);
	ck_assert_str_eq(reg->v[2].name, "nightly");
	s = xprintf("%s:2:7: name 'nightly' is also given by %s:", pb, pa);
	ck_assert_msg(strncmp(b->errors[0], s, strlen(s)) == 0, "%s",
	    b->errors[0]);
	free(s);
	/* A lookup gets an honoured one. */
	ck_assert_ptr_eq(registry_find(reg, "nightly"), a);
	registry_free(reg);
	free(pa);
	free(pb);
	defcache_free(dc);
}
END_TEST

/* Only the first files (by name) are read beyond the limit. */
START_TEST(test_registry_limit)
{
	struct defcache	*dc = defcache_new();
	struct registry	*reg;
	char		 name[32];
	char		*s;
	int		 i;

	for (i = 0; i < REGISTRY_MAX_FILES + 2; i++) {
		snprintf(name, sizeof name, "p%04d.yaml", i);
		free(put(name, "x: [", 0644));
	}
	reg = registry_load(dir, dc, geteuid());
	ck_assert_uint_eq(reg->n, REGISTRY_MAX_FILES);
	ck_assert_uint_eq(reg->skipped, 2);
	ck_assert_ptr_nonnull(registry_find(reg, "p0999"));
	ck_assert_ptr_null(registry_find(reg, "p1000"));
	s = registry_summary(reg);
	ck_assert_ptr_nonnull(strstr(s, "2 more files left out"));
	free(s);
	registry_free(reg);
	defcache_free(dc);
}
END_TEST

/*
 * Definitions come from the cache (shared with equal documents) and stay
 * with whoever holds them when the registry goes.
 */
START_TEST(test_registry_shared)
{
	struct defcache	*dc = defcache_new();
	struct registry	*r1, *r2;
	struct defref	*held;

	free(put("good.yaml", GOOD, 0644));
	r1 = registry_load(dir, dc, geteuid());
	r2 = registry_load(dir, dc, geteuid());
	ck_assert_ptr_eq(entry(r1, "nightly")->dref,
	    entry(r2, "nightly")->dref);
	ck_assert_uint_eq(defcache_count(dc), 1);
	held = defref_hold(entry(r1, "nightly")->dref);
	registry_free(r1);
	registry_free(r2);
	ck_assert_uint_eq(held->refs, 1);
	ck_assert_str_eq(held->def->name, "nightly");
	defref_release(held);
	ck_assert_uint_eq(defcache_count(dc), 0);
	defcache_free(dc);
}
END_TEST

/* Replay an execution's creation record into h. */
static void
replay_created(struct history *h, const struct execution *e)
{
	struct node	*m = jcodec_created(e);
	struct jrec	 rec;
	struct buf	 b;
	char		*err = NULL;

	buf_init(&b);
	proto_pack(&b, m);
	memset(&rec, 0, sizeof rec);
	rec.type = JREC_EXEC_CREATED;
	rec.payload = (const uint8_t *)b.data;
	rec.len = (uint32_t)b.len;
	ck_assert_msg(jcodec_apply(h, &rec, &err) == 0, "%s", err);
	buf_release(&b);
	node_free(m);
}

/* The registered name, and an invalid run's placeholder, replay. */
START_TEST(test_registry_journal)
{
	struct defcache			*dc = defcache_new();
	struct history			*h = history_new();
	const struct registry_entry	*re;
	struct registry			*reg;
	struct execution		*e, *r;

	free(put("good.yaml", GOOD, 0644));
	reg = registry_load(dir, dc, geteuid());
	re = entry(reg, "nightly");
	e = execution_new_shared(1, defref_hold(re->dref));
	e->registered = xstrdup(re->name);
	e->cwd = xstrdup("/");
	e->user = xstrdup("alice");
	e->runner = xstrdup("local");
	replay_created(h, e);
	ck_assert_ptr_nonnull(r = history_get(h, 1));
	ck_assert_str_eq(r->registered, "nightly");
	ck_assert(!r->invalid);
	ck_assert_uint_eq(r->def->ntasks, 2);
	ck_assert_uint_eq(r->nresults, 1);
	execution_free(e);

	e = execution_new_invalid(2, "broken");
	ck_assert_str_eq(e->def->name, "broken");
	ck_assert_uint_eq(e->def->ntasks, 0);
	e->cwd = xstrdup("/");
	e->user = xstrdup("alice");
	e->runner = xstrdup("local");
	replay_created(h, e);
	ck_assert_ptr_nonnull(r = history_get(h, 2));
	ck_assert_str_eq(r->registered, "broken");
	ck_assert(r->invalid);
	ck_assert_str_eq(r->def->name, "broken");
	ck_assert_uint_eq(r->nresults, 0);
	ck_assert(!r->r.sealed);
	/* It can be made final, as the daemon does at once. */
	ck_assert_int_eq(result_set(&r->r, STATUS_CONFIG_ERROR, "not valid",
	    1), 0);
	ck_assert_int_eq(r->r.status, STATUS_CONFIG_ERROR);
	execution_free(e);

	/* A document submitted by file has no registered name. */
	e = execution_new_shared(3, defref_hold(re->dref));
	e->cwd = xstrdup("/");
	replay_created(h, e);
	ck_assert_ptr_null(history_get(h, 3)->registered);
	execution_free(e);
	registry_free(reg);
	history_free(h);
	defcache_free(dc);
}
END_TEST

/* user: is looked up by name; an unknown one is named in the error. */
START_TEST(test_runas_name)
{
	struct runas	*ra;
	char		*err = NULL;

	ck_assert_ptr_nonnull(ra = runas_lookup_name("root", &err));
	ck_assert_uint_eq(ra->uid, 0);
	ck_assert_str_eq(ra->name, "root");
	ck_assert_uint_ge(ra->ngroups, 1);
	runas_free(ra);
	ck_assert_ptr_null(runas_lookup_name("no-such-user-here", &err));
	ck_assert_str_eq(err, "no user named 'no-such-user-here'");
	free(err);
}
END_TEST

static Suite *
registry_suite(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc;

	tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_registry_missing);
	tcase_add_test(tc, test_registry_files);
	tcase_add_test(tc, test_registry_refused);
	tcase_add_test(tc, test_registry_symlink);
	tcase_add_test(tc, test_registry_loose_dir);
	tcase_add_test(tc, test_registry_duplicates);
	tcase_add_test(tc, test_registry_limit);
	tcase_add_test(tc, test_registry_shared);
	tcase_add_test(tc, test_registry_journal);
	suite_add_tcase(s, tc);

	tc = tcase_create("runas");
	tcase_add_test(tc, test_runas_name);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(registry_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
