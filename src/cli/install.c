/* install.c: how bouncewatch is hooked into notmuch and the desktop (see
 * install.h). */
#include "config.h"
#include "install.h"
#include "agent.h"
#include "cli.h"
#include "templates.h"
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOOK_MAX_BYTES   (256 * 1024)  /* a hook is a small script */
#define HOOK_MAX_LINES   4000u
#define RUN_TIMEOUT_S    20u           /* systemctl, the hook's program */

char *
bw_install_self(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe != NULL)
        return g_steal_pointer(&exe);
    return g_find_program_in_path("bouncewatch");
}

/* ------------------------------------------------------------ running */

typedef struct {
    bool done;
    char *out;
} run_t;

static void
on_communicated(GObject *src, GAsyncResult *res, gpointer data)
{
    run_t *r = data;
    (void)g_subprocess_communicate_utf8_finish(G_SUBPROCESS(src), res, &r->out, NULL, NULL);
    r->done = true;
}

static gboolean
on_deadline(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* Run argv (a name is looked up in PATH) with no input and stderr dropped,
 * for at most `seconds`: the exit status, or -1. */
static int
run_bounded(const char *const *argv, unsigned seconds, char **out)
{
    if (out != NULL)
        *out = NULL;
    g_autoptr(GMainContext) ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_newv(argv,
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
        G_SUBPROCESS_FLAGS_STDERR_SILENCE, &err);
    int status = -1;
    if (p != NULL) {
        run_t r = { 0 };
        bool late = false;
        GSource *timer = g_timeout_source_new_seconds(seconds);
        g_source_set_callback(timer, on_deadline, &late, NULL);
        g_source_attach(timer, ctx);
        g_subprocess_communicate_utf8_async(p, "", NULL, on_communicated, &r);
        while (!r.done && !late)
            g_main_context_iteration(ctx, TRUE);
        if (!r.done) {
            g_subprocess_force_exit(p);
            while (!r.done)
                g_main_context_iteration(ctx, TRUE);
        } else if (g_subprocess_get_if_exited(p)) {
            status = g_subprocess_get_exit_status(p);
        }
        g_source_destroy(timer);
        g_source_unref(timer);
        if (out != NULL && status >= 0)
            *out = g_steal_pointer(&r.out);
        g_free(r.out);
    }
    g_main_context_pop_thread_default(ctx);
    return status;
}

bool
bw_install_program_runs(const char *program, char **resolved)
{
    if (resolved != NULL)
        *resolved = NULL;
    if (program == NULL || *program == '\0')
        return false;
    g_autofree char *path = strchr(program, '/') != NULL ? g_strdup(program)
                                                         : g_find_program_in_path(program);
    if (path == NULL || !g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) ||
        g_file_test(path, G_FILE_TEST_IS_DIR))
        return false;
    const char *argv[] = { path, "--version", NULL };
    g_autofree char *out = NULL;
    bool ok = run_bounded(argv, RUN_TIMEOUT_S, &out) == 0 && out != NULL &&
              g_str_has_prefix(out, "bouncewatch ");
    if (resolved != NULL)
        *resolved = g_steal_pointer(&path);
    return ok;
}

int
bw_install_systemctl(const char *const *args, char **out)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer) "systemctl");
    g_ptr_array_add(argv, (gpointer) "--user");
    for (const char *const *a = args; a && *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    int st = run_bounded((const char *const *)argv->pdata, RUN_TIMEOUT_S, out);
    g_ptr_array_free(argv, TRUE);
    return st;
}

/* ------------------------------------------------------------ the hook */

void
bw_hook_clear(bw_hook_t *h)
{
    if (h == NULL)
        return;
    g_free(h->path);
    g_free(h->program);
    g_free(h->text);
    memset(h, 0, sizeof *h);
}

static bool
is_shell(const char *first_line)
{
    if (!g_str_has_prefix(first_line, "#!"))
        return false;
    g_auto(GStrv) words = g_strsplit_set(first_line + 2, " \t", 4);
    guint n = 0;
    const char *interp = NULL;
    for (guint i = 0; words[i] != NULL; i++) {
        if (*words[i] == '\0')
            continue;
        g_autofree char *base = g_path_get_basename(words[i]);
        if (n == 0 && strcmp(base, "env") == 0) {
            n++;
            continue;
        }
        interp = words[i];
        break;
    }
    if (interp == NULL)
        return false;
    g_autofree char *base = g_path_get_basename(interp);
    static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash" };
    for (size_t i = 0; i < G_N_ELEMENTS(shells); i++)
        if (strcmp(base, shells[i]) == 0)
            return true;
    return false;
}

/* The word run before "hook post-new" on this line, when it is bouncewatch
 * (by name or path) or the $BOUNCEWATCH of our own hook: g_free, or NULL. */
static char *
line_program(const char *line, const char *variable_value)
{
    if (strstr(line, "post-new") == NULL)
        return NULL;
    g_auto(GStrv) argv = NULL;
    if (!g_shell_parse_argv(line, NULL, &argv, NULL))
        return NULL;
    for (guint i = 1; argv[i] != NULL && argv[i + 1] != NULL; i++) {
        if (strcmp(argv[i], "hook") != 0 || strcmp(argv[i + 1], "post-new") != 0)
            continue;
        const char *w = argv[i - 1];
        if (strcmp(w, "$BOUNCEWATCH") == 0 || strcmp(w, "${BOUNCEWATCH}") == 0)
            return variable_value ? g_strdup(variable_value) : NULL;
        g_autofree char *base = g_path_get_basename(w);
        if (strcmp(base, "bouncewatch") == 0)
            return g_strdup(w);
    }
    return NULL;
}

void
bw_hook_read(const char *dir, bw_hook_t *h)
{
    memset(h, 0, sizeof *h);
    h->path = g_build_filename(dir, "post-new", NULL);
    GStatBuf sb;
    if (g_stat(h->path, &sb) != 0)
        return;
    h->exists = true;
    h->executable = S_ISREG(sb.st_mode) && access(h->path, X_OK) == 0;
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!S_ISREG(sb.st_mode) || sb.st_size > HOOK_MAX_BYTES ||
        !g_file_get_contents(h->path, &data, &len, NULL) || memchr(data, '\0', len) != NULL ||
        !g_utf8_validate(data, (gssize)len, NULL)) {
        h->binary = true;
        return;
    }
    h->text = g_strdup(data);
    g_auto(GStrv) lines = g_strsplit(data, "\n", HOOK_MAX_LINES);
    h->shell = lines[0] != NULL && is_shell(lines[0]);
    g_autofree char *variable = NULL;
    const char *last = NULL;
    for (guint i = 0; lines[i] != NULL; i++) {
        char *l = g_strstrip(lines[i]);
        if (*l == '\0' || *l == '#')
            continue;
        last = l;
        if (g_str_has_prefix(l, "BOUNCEWATCH=")) {
            /* Our hook's first assignment is the program it was written
             * for; a later one is its fallback to PATH. */
            g_auto(GStrv) v = NULL;
            if (variable == NULL &&
                g_shell_parse_argv(l + strlen("BOUNCEWATCH="), NULL, &v, NULL) && v[0] != NULL) {
                variable = g_strdup(v[0]);
                h->ours = true;
            }
            continue;
        }
        char *prog = line_program(l, variable);
        if (prog != NULL && !h->calls) {
            h->calls = true;
            h->program = prog;
        } else {
            g_free(prog);
        }
    }
    if (last != NULL)
        h->ends_with_exit = g_str_has_prefix(last, "exit") || g_str_has_prefix(last, "exec ");
}

/* @BOUNCEWATCH@ of a template replaced by `program`, quoted for `style`
 * (0: shell, 1: systemd, 2: desktop entry) when it needs quoting. */
static char *
fill(const char *tmpl, const char *program, int style)
{
    g_autofree char *quoted = NULL;
    bool plain = strpbrk(program, " \t\n\"'\\$`;&|<>()*?[]#~%") == NULL;
    if (plain)
        quoted = g_strdup(program);
    else if (style == 0)
        quoted = g_shell_quote(program);
    else {
        /* systemd and the desktop entry both take "..." with \" and \\ */
        GString *g = g_string_new("\"");
        for (const char *p = program; *p; p++) {
            if (*p == '"' || *p == '\\' || (style == 2 && (*p == '$' || *p == '`')))
                g_string_append_c(g, '\\');
            g_string_append_c(g, *p);
        }
        g_string_append_c(g, '"');
        quoted = g_string_free(g, FALSE);
    }
    g_auto(GStrv) parts = g_strsplit(tmpl, "@BOUNCEWATCH@", -1);
    return g_strjoinv(quoted, parts);
}

char *
bw_install_hook_script(const char *program)
{
    return fill(bw_template_post_new, program, 0);
}

char *
bw_install_hook_line(const char *program)
{
    g_autofree char *q = fill("@BOUNCEWATCH@", program, 0);
    return g_strdup_printf("%s hook post-new  # bouncewatch: see bouncewatch(1)", q);
}

char *
bw_install_unit(const char *program)
{
    return fill(bw_template_service, program, 1);
}

char *
bw_install_desktop(const char *program)
{
    return fill(bw_template_desktop, program, 2);
}

static const char *
profile_name(void)
{
    const char *p = g_getenv("NOTMUCH_PROFILE");
    return p != NULL && *p != '\0' ? p : "default";
}

char *
bw_install_hook_dir_to_create(const char *hook_dir, const char *database)
{
    g_autofree char *xdg = g_build_filename(g_get_user_config_dir(), "notmuch", profile_name(),
                                            "hooks", NULL);
    g_autofree char *legacy = database ? g_build_filename(database, ".notmuch", "hooks", NULL)
                                       : NULL;
    if (legacy != NULL && strcmp(hook_dir, legacy) == 0) {
        g_autofree char *dot = g_build_filename(database, ".notmuch", NULL);
        if (!g_file_test(dot, G_FILE_TEST_IS_DIR))
            return g_steal_pointer(&xdg);
    }
    return g_strdup(hook_dir);
}

/* ------------------------------------------------------------ the agent */

void
bw_agent_state_clear(bw_agent_state_t *s)
{
    if (s == NULL)
        return;
    g_free(s->notify_name);
    g_free(s->autostart);
    g_free(s->autostart_user);
    memset(s, 0, sizeof *s);
}

static bool
name_has_owner(GDBusConnection *bus, const char *name)
{
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus",
        "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
        g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
        2000, NULL, NULL);
    gboolean has = FALSE;
    if (r != NULL)
        g_variant_get(r, "(b)", &has);
    return has;
}

static bool
name_activatable(GDBusConnection *bus, const char *name)
{
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus",
        "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListActivatableNames", NULL,
        G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 2000, NULL, NULL);
    if (r == NULL)
        return false;
    g_autoptr(GVariantIter) it = NULL;
    g_variant_get(r, "(as)", &it);
    const char *n;
    while (g_variant_iter_next(it, "&s", &n))
        if (strcmp(n, name) == 0)
            return true;
    return false;
}

static char *
notification_server_name(GDBusConnection *bus)
{
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(bus, "org.freedesktop.Notifications",
        "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
        "GetServerInformation", NULL, G_VARIANT_TYPE("(ssss)"),
        G_DBUS_CALL_FLAGS_NO_AUTO_START, 2000, NULL, NULL);
    if (r == NULL)
        return NULL;
    const char *name = NULL;
    g_variant_get(r, "(&s&s&s&s)", &name, NULL, NULL, NULL);
    return name != NULL && *name != '\0' ? bw_text_sanitize(name, 80) : NULL;
}

/* An autostart entry turned off: Hidden=true (the way to hide a system
 * entry), or X-GNOME-Autostart-enabled=false. */
static bool
desktop_hidden(const char *path)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return false;
    g_autoptr(GError) e1 = NULL, e2 = NULL;
    gboolean hidden = g_key_file_get_boolean(kf, "Desktop Entry", "Hidden", &e1);
    gboolean enabled = g_key_file_get_boolean(kf, "Desktop Entry", "X-GNOME-Autostart-enabled", &e2);
    return (e1 == NULL && hidden) || (e2 == NULL && !enabled);
}

void
bw_agent_state_read(bw_agent_state_t *s)
{
    memset(s, 0, sizeof *s);
    g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
    if (bus != NULL) {
        s->bus = true;
        s->running = name_has_owner(bus, BW_AGENT_BUS_NAME);
        s->notify_owned = name_has_owner(bus, "org.freedesktop.Notifications");
        s->notify_activatable = !s->notify_owned &&
                                name_activatable(bus, "org.freedesktop.Notifications");
        if (s->notify_owned)
            s->notify_name = notification_server_name(bus);
    }
    const char *show_env[] = { "show-environment", NULL };
    s->systemd = bw_install_systemctl(show_env, NULL) == 0;
    if (s->systemd) {
        const char *cat[] = { "cat", "bouncewatch.service", NULL };
        s->unit_found = bw_install_systemctl(cat, NULL) == 0;
        g_autofree char *out = NULL;
        const char *enabled[] = { "is-enabled", "bouncewatch.service", NULL };
        s->unit_enabled = bw_install_systemctl(enabled, &out) == 0 && out != NULL &&
                          g_str_has_prefix(out, "enabled");
    }
    /* XDG autostart: the user's directory first, then XDG_CONFIG_DIRS. */
    s->autostart_user = g_build_filename(g_get_user_config_dir(), "autostart",
                                         "bouncewatch.desktop", NULL);
    if (g_file_test(s->autostart_user, G_FILE_TEST_EXISTS)) {
        if (desktop_hidden(s->autostart_user))
            s->autostart_hidden = true;
        else
            s->autostart = g_strdup(s->autostart_user);
        return;
    }
    for (const char *const *d = g_get_system_config_dirs(); d && *d; d++) {
        g_autofree char *p = g_build_filename(*d, "autostart", "bouncewatch.desktop", NULL);
        if (g_file_test(p, G_FILE_TEST_EXISTS) && !desktop_hidden(p)) {
            s->autostart = g_steal_pointer(&p);
            return;
        }
    }
}

/* ------------------------------------------------------------ writing */

static bool
ensure_parent(const char *path, GError **err)
{
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) == 0)
        return true;
    int e = errno;
    g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e), _("cannot create %s: %s"), dir,
                g_strerror(e));
    return false;
}

/* `text` into a new temporary file next to `path`; its name (g_free). */
static char *
write_temp(const char *path, const char *text, int mode, GError **err)
{
    g_autofree char *tmpl = g_strconcat(path, ".bw-XXXXXX", NULL);
    int fd = g_mkstemp_full(tmpl, O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        int e = errno;
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e), _("cannot write %s: %s"), path,
                    g_strerror(e));
        return NULL;
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = done == len && fchmod(fd, (mode_t)mode) == 0 && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        g_unlink(tmpl);
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e), _("cannot write %s: %s"), path,
                    g_strerror(e));
        return NULL;
    }
    return g_steal_pointer(&tmpl);
}

bool
bw_install_write_new(const char *path, const char *text, int mode, GError **err)
{
    if (!ensure_parent(path, err))
        return false;
    g_autofree char *tmp = write_temp(path, text, mode, err);
    if (tmp == NULL)
        return false;
    /* link() never replaces: a file that appeared meanwhile stays. */
    int rc = link(tmp, path);
    int e = errno;
    g_unlink(tmp);
    if (rc != 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e), _("cannot create %s: %s"), path,
                    g_strerror(e));
        return false;
    }
    return true;
}

bool
bw_install_replace(const char *path, const char *expected, const char *text, GError **err)
{
    GStatBuf sb;
    g_autofree char *now = NULL;
    if (g_stat(path, &sb) != 0 || !g_file_get_contents(path, &now, NULL, NULL) ||
        strcmp(now, expected) != 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("%s changed while bouncewatch was reading it; nothing was written"), path);
        return false;
    }
    g_autofree char *tmp = write_temp(path, text, (int)(sb.st_mode & 07777), err);
    if (tmp == NULL)
        return false;
    if (g_rename(tmp, path) != 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e), _("cannot write %s: %s"), path,
                    g_strerror(e));
        return false;
    }
    return true;
}
