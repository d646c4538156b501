/*
 * The configuration file (docs/configuration.md), INI style, read with inih.
 *
 * inih splits lines into sections, keys and values; the reader below
 * feeds it one line at a time, counting lines so that every error names
 * FILE:LINE, and refuses what inih would silently take another way:
 * over-long lines (inih would cut them in two) and indented lines (inih
 * would glue them to the previous value).  Every error is reported, not
 * only the first.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "daemon.h"
#include "suggest.h"
#include "trust.h"
#include "xmalloc.h"

#define CONF_MAX_SIZE	(1024 * 1024)

struct conf_read {
	const char	*path;
	FILE		*f;
	unsigned	 line;
	struct options	*o;
	struct buf	 errors;
	unsigned	 nerrors;
	char		**seen;		/* "section\nkey" */
	size_t		 nseen;
};

static void __attribute__((format(printf, 2, 3)))
conf_error(struct conf_read *cr, const char *fmt, ...)
{
	va_list	 ap;

	buf_addf(&cr->errors, "%s:%u: ", cr->path, cr->line);
	va_start(ap, fmt);
	buf_vaddf(&cr->errors, fmt, ap);
	va_end(ap);
	buf_addc(&cr->errors, '\n');
	cr->nerrors++;
}

/* Whether a line is one inih reads as we mean it; if not, say why. */
static bool
conf_line_ok(struct conf_read *cr, const char *s)
{
	const char	*p = s;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == '\0' || *p == '#' || *p == ';')
		return true;
	if (p != s) {
		conf_error(cr, "indented line: start keys and sections at "
		    "the beginning of the line (continuation lines are not "
		    "supported)");
		return false;
	}
	if (*p == '[') {
		if (strchr(p, ']') == NULL) {
			conf_error(cr, "section header without ']'");
			return false;
		}
		return true;
	}
	if (strpbrk(p, "=:") == NULL) {
		conf_error(cr, "expected KEY = VALUE or [SECTION]");
		return false;
	}
	return true;
}

/* inih's line source: fgets with a line count and the checks above. */
static char *
conf_reader(char *str, int num, void *arg)
{
	struct conf_read	*cr = arg;
	size_t			 len;
	int			 c;

	if (fgets(str, num, cr->f) == NULL)
		return NULL;
	cr->line++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(cr->f)) {
		conf_error(cr, "line longer than %d characters", num - 2);
		while ((c = fgetc(cr->f)) != EOF && c != '\n')
			;
		strlcpy(str, "\n", (size_t)num);
		return str;
	}
	if (!conf_line_ok(cr, str))
		strlcpy(str, "\n", (size_t)num);
	return str;
}

static bool
conf_seen(struct conf_read *cr, const char *section, const char *key)
{
	char	*k = xprintf("%s\n%s", section, key);
	size_t	 i;

	for (i = 0; i < cr->nseen; i++)
		if (strcmp(cr->seen[i], k) == 0) {
			free(k);
			return true;
		}
	cr->seen = xreallocarray(cr->seen, cr->nseen + 1, sizeof *cr->seen);
	cr->seen[cr->nseen++] = k;
	return false;
}

static int
conf_handler(void *arg, const char *section, const char *key,
    const char *value)
{
	struct conf_read	*cr = arg;
	const char		*near;
	char			*why = NULL;
	size_t			 nkeys;

	if (conf_seen(cr, section, key)) {
		conf_error(cr, "'%s' given twice%s%s%s", key,
		    *section ? " in [" : "", section, *section ? "]" : "");
		return 1;
	}
	if (*value == '\0') {
		conf_error(cr, "'%s' has no value", key);
		return 1;
	}
	if (*section == '\0') {
		if (options_set(cr->o, key, value, &why) == 0)
			return 1;
		if (strncmp(why, "unknown setting", 15) == 0) {
			for (nkeys = 0; options_keys[nkeys] != NULL; nkeys++)
				;
			near = suggest(key, options_keys, nkeys);
			conf_error(cr, "unknown setting '%s'%s%s%s", key,
			    near ? " (did you mean '" : "", near ? near : "",
			    near ? "'?)" : "");
		} else
			conf_error(cr, "%s %s", key, why);
		free(why);
		return 1;
	}
	if (strncmp(section, "queue ", 6) == 0) {
		if (strcmp(key, "max_parallel") != 0)
			conf_error(cr, "unknown setting '%s' in [%s] (a queue "
			    "has max_parallel only)", key, section);
		else if (options_set_queue(cr->o, section + 6, value,
		    &why) == -1) {
			conf_error(cr, "[%s] %s: %s", section, key, why);
			free(why);
		}
		return 1;
	}
	if (strcmp(section, "queue") == 0) {
		conf_error(cr, "[queue] needs a name: [queue NAME]");
		return 1;
	}
	/* Any other section belongs to the runner of that name. */
	if (strchr(section, ' ') != NULL) {
		if (!conf_seen(cr, section, ""))
			conf_error(cr, "unknown section [%s]: sections are "
			    "[queue NAME] or a runner's [NAME]", section);
		return 1;
	}
	options_add_runner_option(cr->o, section, key, value, cr->path,
	    cr->line);
	return 1;
}

/*
 * Read path into o.  A missing file is no error unless must_exist.  The
 * file must belong to root or the daemon's user and be writable by
 * nobody else: it names the code the daemon runs.  Returns 0, or -1
 * with *errs set (to free): one "FILE:LINE: message" per line.
 */
int
conffile_read(const char *path, bool must_exist, struct options *o,
    char **errs)
{
	struct conf_read	 cr;
	struct stat		 st;
	size_t			 i;
	char			*why;
	int			 rc;

	*errs = NULL;
	memset(&cr, 0, sizeof cr);
	cr.path = path;
	cr.o = o;
	if ((cr.f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		*errs = xprintf("%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(cr.f), &st) == -1 || !S_ISREG(st.st_mode)) {
		*errs = xprintf("%s: not a regular file\n", path);
		(void)fclose(cr.f);
		return -1;
	}
	if ((why = trust_why_not(&st, geteuid())) != NULL) {
		*errs = xprintf("%s: refused: %s\n", path, why);
		free(why);
		(void)fclose(cr.f);
		return -1;
	}
	if (st.st_size > CONF_MAX_SIZE) {
		*errs = xprintf("%s: larger than %d bytes\n", path,
		    CONF_MAX_SIZE);
		(void)fclose(cr.f);
		return -1;
	}
	buf_init(&cr.errors);
	rc = ini_parse_stream(conf_reader, &cr, conf_handler, &cr);
	if (rc > 0 && cr.nerrors == 0) {
		/* Cannot happen after conf_line_ok, but never pass silently. */
		cr.line = (unsigned)rc;
		conf_error(&cr, "cannot be read as KEY = VALUE");
	} else if (rc < 0 || ferror(cr.f)) {
		buf_addf(&cr.errors, "%s: read error\n", path);
		cr.nerrors++;
	}
	(void)fclose(cr.f);	/* read only: errors were seen by ferror */
	for (i = 0; i < cr.nseen; i++)
		free(cr.seen[i]);
	free(cr.seen);
	if (cr.nerrors == 0) {
		buf_release(&cr.errors);
		return 0;
	}
	*errs = buf_detach(&cr.errors);
	return -1;
}
