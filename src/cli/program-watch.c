/* program-watch.c: the agent notices that bouncewatch was upgraded under
 * it, and starts again as the new program.
 *
 * Why: the state records which program wrote it (STATE_PROGRAM: version,
 * engine version, layout), and a run of another program rescans the
 * mailbox rather than trust it.  After an upgrade the post-new hook is the
 * new program while the agent started at login is still the old one, and
 * each `notmuch new` then made both of them rescan everything (the hook
 * asks the agent to rescan): seconds to minutes of CPU after every new
 * mail until the user logged out.  The agent now compares, before each scan,
 * its program file and its engine module with what it started from, and
 * where the name it was started by leads; when a package manager or `make
 * install` has replaced either file, or pointed that name at another
 * program, it executes the program again with the same arguments (the same
 * process: a service manager sees no exit).
 *
 * A replaced file is one with another inode, size or modification time.  It
 * is used only once it has not changed for SETTLE_SECONDS, so that an
 * install still writing it is not executed half-written; until then the
 * old program goes on.  If the exec fails, the old program goes on too (it
 * says so once). */
#include "config.h"
#include "program-watch.h"
#include <glib/gi18n.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SETTLE_SECONDS 2
/* /proc/self/cmdline of a command line longer than this is not kept (a
 * command line is a few dozen bytes; the bound is for the loop). */
#define MAX_CMDLINE (64 * 1024)

typedef struct {
    char *path;
    struct stat st;
    bool known;
} file_id_t;

struct bw_program_watch {
    file_id_t exe, engine;
    char *launch;           /* the name it was started by, a link to exe ... */
    char *launch_target;    /* ... resolved at start (else both NULL) */
    char **argv;            /* the process's arguments, NULL-terminated */
    bool exec_failed;       /* told once; not tried again for that file */
    struct stat failed_st;
};

static void
file_id_init(file_id_t *f, const char *path)
{
    f->path = g_strdup(path);
    f->known = path != NULL && stat(path, &f->st) == 0 && S_ISREG(f->st.st_mode);
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The arguments this process was started with (main's argv, before any
 * option parsing took some out). */
static char **
read_cmdline(void)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents("/proc/self/cmdline", &data, &len, NULL) || len == 0 ||
        len > MAX_CMDLINE || data[len - 1] != '\0')
        return NULL;
    GPtrArray *args = g_ptr_array_new();
    for (gsize i = 0; i < len; i += strlen(data + i) + 1)
        g_ptr_array_add(args, g_strdup(data + i));
    g_ptr_array_add(args, NULL);
    return (char **)g_ptr_array_free(args, FALSE);
}

bw_program_watch_t *
bw_program_watch_new(void)
{
    bw_program_watch_t *w = g_new0(bw_program_watch_t, 1);
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    /* (a program already replaced before we looked reads "... (deleted)":
     * nothing to compare with then) */
    file_id_init(&w->exe, exe != NULL && !g_str_has_suffix(exe, " (deleted)") ? exe : NULL);
    Dl_info info;
    if (dladdr((void *)bw_program_watch_new, &info) != 0 && info.dli_fname != NULL &&
        g_strcmp0(info.dli_fname, w->exe.path) != 0 && g_path_is_absolute(info.dli_fname))
        file_id_init(&w->engine, info.dli_fname);
    w->argv = read_cmdline();
    /* The name it was started by (argv[0]; through PATH when it has no
     * slash) when that leads to the program: an upgrade may install the new
     * program elsewhere and only point that name at it (Nix or Guix
     * profiles, /etc/alternatives). */
    if (w->exe.known && w->argv != NULL && w->argv[0] != NULL && w->argv[0][0] != '\0') {
        char *launch = strchr(w->argv[0], '/') != NULL ? g_canonicalize_filename(w->argv[0], NULL)
                                                        : g_find_program_in_path(w->argv[0]);
        char *target = launch != NULL ? realpath(launch, NULL) : NULL;
        if (target != NULL && strcmp(target, w->exe.path) == 0) {
            w->launch = launch;
            w->launch_target = g_strdup(target);
        } else {
            g_free(launch);
        }
        free(target);
    }
    return w;
}

void
bw_program_watch_free(bw_program_watch_t *w)
{
    if (w == NULL)
        return;
    g_free(w->exe.path);
    g_free(w->engine.path);
    g_free(w->launch);
    g_free(w->launch_target);
    g_strfreev(w->argv);
    g_free(w);
}

/* The file replaced and settled, or NULL. */
static const char *
replaced(const file_id_t *f, gint64 now_s, struct stat *now_st)
{
    if (!f->known || stat(f->path, now_st) != 0 || !S_ISREG(now_st->st_mode) ||
        same_file(&f->st, now_st))
        return NULL;
    if (now_s - (gint64)now_st->st_mtim.tv_sec < SETTLE_SECONDS)
        return NULL;   /* still being written, perhaps: next time */
    return f->path;
}

const char *
bw_program_watch_replaced(bw_program_watch_t *w)
{
    if (!w->exe.known || w->argv == NULL)
        return NULL;   /* nothing to start again from */
    gint64 now_s = g_get_real_time() / G_USEC_PER_SEC;
    struct stat st;
    const char *which = replaced(&w->exe, now_s, &st);
    if (which == NULL)
        which = replaced(&w->engine, now_s, &st);
    if (which == NULL && w->launch != NULL) {
        /* the name now leads to another file */
        char *target = realpath(w->launch, NULL);
        if (target != NULL && strcmp(target, w->launch_target) != 0 && stat(target, &st) == 0 &&
            S_ISREG(st.st_mode) && now_s - (gint64)st.st_mtim.tv_sec >= SETTLE_SECONDS)
            which = w->launch;
        free(target);
    }
    if (which == NULL)
        return NULL;
    /* An exec of this very file failed already: not again for it (another
     * install will change it again). */
    if (w->exec_failed && same_file(&w->failed_st, &st))
        return NULL;
    return which;
}

void
bw_program_watch_exec(bw_program_watch_t *w, const char *which)
{
    fflush(stdout);
    fflush(stderr);
    /* (by the name it was started by when there is one: the program it
     * leads to now) */
    const char *path = w->launch != NULL ? w->launch : w->exe.path;
    execv(path, w->argv);
    int e = errno;
    struct stat st;
    w->exec_failed = stat(which, &st) == 0;
    if (w->exec_failed)
        w->failed_st = st;
    fprintf(stderr, _("bouncewatch watch: cannot start the new program %s (%s); "
                      "the running agent goes on: restart it by hand\n"),
            path, g_strerror(e));
}
