/* cmd-watch.c: `bouncewatch watch`, the resident desktop agent.
 *
 * A GLib main loop that sleeps until the notmuch database changes: a
 * GFileMonitor (inotify) on the Xapian directory, debounced because one
 * `notmuch new` writes many files, plus a slow poll as a fallback for file
 * systems without change notification.  No busy polling: when nothing
 * happens the process uses no CPU.  Each wake-up runs the incremental scan
 * and shows or updates one notification per surge under way.
 *
 * It owns org.bouncewatch.Agent on the session bus: the post-new hook calls
 * its Rescan method and leaves the alert to it, and the agent receives the
 * notification actions (show the report, how to secure the account, mute
 * the campaign).  Nothing from the mail is ever opened or followed: the
 * report is our own text file. */
#include "config.h"
#include "cli.h"
#include "agent.h"
#include "program-watch.h"
#include "scanner.h"
#include "store.h"
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Defaults, documented in bouncewatch(1). */
#define WATCH_POLL_SECONDS     300   /* fallback poll: 5 minutes */
#define WATCH_DEBOUNCE_MS      2000  /* quiet time after the last change */
#define WATCH_DEBOUNCE_MAX_MS  30000 /* a long `notmuch new` still gets scanned */

static const char agent_xml[] =
    "<node>"
    "  <interface name='" BW_AGENT_INTERFACE "'>"
    "    <method name='Rescan'/>"
    "    <property name='Cycles' type='t' access='read'/>"
    "  </interface>"
    "</node>";

typedef struct {
    GMainLoop *loop;
    bw_notifier_t *notifier;
    GFileMonitor *monitor;
    char *monitored;             /* directory watched, or NULL */
    dev_t monitored_dev;         /* ... and its identity: `notmuch compact` */
    ino_t monitored_ino;         /* swaps in a new directory of the same name */
    guint debounce_id;           /* timeout: scan after the changes settle */
    gint64 pending_since;        /* monotonic µs of the first unhandled change */
    guint scan_id;               /* idle: scan now (start, Rescan, poll) */
    guint poll_id;
    guint owner_id;
    guint registration_id;
    GDBusConnection *bus;
    GDBusNodeInfo *introspection;
    bw_program_watch_t *program; /* our files: started again when replaced */
    /* options */
    gint poll_seconds;
    gint debounce_ms;
    gboolean tag;
    gboolean verbose;
    char *report_command;
    char *state_path;
    gint max_cycles;             /* 0: run until stopped */
    /* state */
    guint64 cycles;
    GPtrArray *advice;           /* char*: last assessment's advice */
    char *summary;               /* last assessment's summary */
    bool unconfigured;           /* the last scan gave BW_E_CONFIG (told once) */
    guint32 unconfigured_id;     /* its notification, closed once configured */
    int exit_code;
} agent_t;

static void agent_scan_soon(agent_t *ag);
static gboolean on_debounce(gpointer data);
static void own_name(agent_t *ag);

static void
agent_notice(void *data, const char *line)
{
    (void)data;
    fprintf(stderr, "bouncewatch watch: %s\n", line);
}

/* The directory whose files change when notmuch writes: the Xapian
 * database, wherever notmuch 0.37 keeps it. */
static char *
find_xapian_dir(const char *database)
{
    g_autofree char *legacy = database ? g_build_filename(database, ".notmuch", "xapian", NULL)
                                       : NULL;
    if (legacy != NULL && g_file_test(legacy, G_FILE_TEST_IS_DIR))
        return g_steal_pointer(&legacy);
    const char *profile = g_getenv("NOTMUCH_PROFILE");
    g_autofree char *xdg = g_build_filename(g_get_user_data_dir(), "notmuch",
                                            profile && *profile ? profile : "default",
                                            "xapian", NULL);
    if (g_file_test(xdg, G_FILE_TEST_IS_DIR))
        return g_steal_pointer(&xdg);
    if (database != NULL && g_file_test(database, G_FILE_TEST_IS_DIR))
        return g_strdup(database);
    return NULL;
}

static void
on_db_changed(GFileMonitor *m, GFile *f, GFile *other, GFileMonitorEvent ev, gpointer data)
{
    agent_t *ag = data;
    (void)m;
    (void)f;
    (void)other;
    if (ev == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
        return;
    gint64 t = g_get_monotonic_time();
    if (ag->debounce_id != 0) {
        /* Trailing debounce, but a change stream longer than the cap must
         * not postpone the scan for ever. */
        if ((t - ag->pending_since) / 1000 >= WATCH_DEBOUNCE_MAX_MS)
            return;
        g_source_remove(ag->debounce_id);
    } else {
        ag->pending_since = t;
    }
    ag->debounce_id = g_timeout_add((guint)ag->debounce_ms, on_debounce, ag);
}

static void
watch_database(agent_t *ag, const char *database)
{
    g_autofree char *dir = find_xapian_dir(database);
    GStatBuf sb;
    if (dir == NULL || g_stat(dir, &sb) != 0)
        return;
    if (ag->monitored != NULL && strcmp(dir, ag->monitored) == 0 &&
        sb.st_dev == ag->monitored_dev && sb.st_ino == ag->monitored_ino)
        return;
    g_autoptr(GFile) f = g_file_new_for_path(dir);
    g_autoptr(GError) err = NULL;
    GFileMonitor *m = g_file_monitor_directory(f, G_FILE_MONITOR_NONE, NULL, &err);
    if (m == NULL) {
        fprintf(stderr, _("bouncewatch watch: cannot watch %s (%s); polling every %d s\n"),
                dir, err->message, ag->poll_seconds);
        return;
    }
    if (ag->monitor != NULL) {
        g_file_monitor_cancel(ag->monitor);
        g_object_unref(ag->monitor);
    }
    ag->monitor = m;
    g_signal_connect(m, "changed", G_CALLBACK(on_db_changed), ag);
    g_free(ag->monitored);
    ag->monitored = g_steal_pointer(&dir);
    ag->monitored_dev = sb.st_dev;
    ag->monitored_ino = sb.st_ino;
    if (ag->verbose)
        fprintf(stderr, "bouncewatch watch: watching %s\n", ag->monitored);
}

static void
keep_assessment(agent_t *ag, const bw_scan_result_t *r)
{
    g_clear_pointer(&ag->advice, g_ptr_array_unref);
    g_clear_pointer(&ag->summary, g_free);
    if (r->assessment == NULL)
        return;
    ag->summary = g_strdup(r->assessment->summary);
    ag->advice = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; r->assessment->advice && i < r->assessment->advice->len; i++)
        g_ptr_array_add(ag->advice, g_strdup(g_ptr_array_index(r->assessment->advice, i)));
}

/* Once per episode, not on every cycle: the owner's address is not set,
 * so the agent protects nothing until it is.  It keeps running and picks
 * the address up on a later cycle (the poll, or the next notmuch new). */
static void
tell_unconfigured(agent_t *ag, const bw_owner_problem_t *p, const char *detail)
{
    g_auto(GStrv) lines = bw_cli_unconfigured_lines(p, detail);
    g_autofree char *body = g_strjoinv("\n", lines);
    bw_notifier_show_notice(ag->notifier,
                            _("bouncewatch is not configured: your mail is not being checked"),
                            body, 0, &ag->unconfigured_id);
}

/* bouncewatch was upgraded under the running agent (program-watch.c): the
 * agent starts again as the new program, in this process.  The bus name is
 * released first, so that the new program can take it at once; the other
 * descriptors close on exec. */
static void
agent_restart(agent_t *ag, const char *which)
{
    fprintf(stderr, _("bouncewatch watch: %s was replaced (an upgrade); starting the new "
                      "program\n"), which);
    if (ag->owner_id != 0) {
        g_bus_unown_name(ag->owner_id);
        ag->owner_id = 0;
    }
    if (ag->bus != NULL)
        (void)g_dbus_connection_flush_sync(ag->bus, NULL, NULL);
    bw_program_watch_exec(ag->program, which);
    own_name(ag);   /* the exec failed: this agent goes on */
}

static void
agent_cycle(agent_t *ag)
{
    const char *replaced = bw_program_watch_replaced(ag->program);
    if (replaced != NULL)
        agent_restart(ag, replaced);
    /* This scan covers every change so far: drop what was pending. */
    if (ag->debounce_id != 0) {
        g_source_remove(ag->debounce_id);
        ag->debounce_id = 0;
    }
    if (ag->scan_id != 0) {
        g_source_remove(ag->scan_id);
        ag->scan_id = 0;
    }
    gint64 now = 0;
    if (!bw_cli_now(&now)) {
        ag->exit_code = BW_EXIT_USAGE;
        g_main_loop_quit(ag->loop);
        return;
    }
    bw_scanner_options_t opts;
    bw_scanner_options_init(&opts);
    opts.now = now;
    opts.tag = ag->tag;
    opts.quiet = !ag->verbose;
    opts.notice = agent_notice;
    opts.state_path = ag->state_path;
    bw_owner_problem_t owner_problem = { 0 };
    opts.owner_problem_out = &owner_problem;

    bw_scan_result_t *r = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_scanner_run(&opts, &r, &detail);
    ag->cycles++;
    if (st == BW_E_CONFIG) {
        if (!ag->unconfigured)
            tell_unconfigured(ag, &owner_problem, detail);
        ag->unconfigured = true;
        bw_owner_problem_clear(&owner_problem);
    } else if (st != BW_OK) {
        /* A locked or missing database is usually temporary: keep running. */
        fprintf(stderr, _("bouncewatch watch: scan failed (%s): %s\n"),
                bw_status_to_string(st), detail ? detail : "");
    } else {
        if (ag->unconfigured) {
            fprintf(stderr, "%s\n", _("bouncewatch watch: configured now; watching"));
            bw_notifier_close(ag->notifier, ag->unconfigured_id);
            ag->unconfigured = false;
            ag->unconfigured_id = 0;
        }
        watch_database(ag, r->database);
        keep_assessment(ag, r);
        unsigned shown = 0;
        bw_agent_alert(&ag->notifier, r, ag->state_path, now, &shown);
        if (ag->verbose)
            fprintf(stderr, "bouncewatch watch: cycle %" G_GUINT64_FORMAT
                    ": revision %" G_GUINT64_FORMAT ", %u alert(s)\n",
                    ag->cycles, r->revision, shown);
        bw_scan_result_free(r);
    }
    if (ag->max_cycles > 0 && ag->cycles >= (guint64)ag->max_cycles)
        g_main_loop_quit(ag->loop);
}

static gboolean
on_debounce(gpointer data)
{
    agent_t *ag = data;
    ag->debounce_id = 0;
    agent_cycle(ag);
    return G_SOURCE_REMOVE;
}

static gboolean
on_scan_now(gpointer data)
{
    agent_t *ag = data;
    ag->scan_id = 0;
    agent_cycle(ag);
    return G_SOURCE_REMOVE;
}

static void
agent_scan_soon(agent_t *ag)
{
    if (ag->scan_id == 0)
        ag->scan_id = g_idle_add(on_scan_now, ag);
}

static gboolean
on_poll(gpointer data)
{
    agent_scan_soon(data);
    return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ actions */

static char *
cache_file(const char *name)
{
    g_autofree char *dir = g_build_filename(g_get_user_cache_dir(), "bouncewatch", NULL);
    if (g_mkdir_with_parents(dir, 0700) != 0)
        return NULL;
    return g_build_filename(dir, name, NULL);
}

/* Show a file we wrote ourselves: the user's command when configured, else
 * the desktop's viewer for plain text.  Never anything taken from mail. */
static void
show_file(agent_t *ag, const char *path)
{
    g_autoptr(GError) err = NULL;
    if (ag->report_command != NULL && *ag->report_command != '\0') {
        g_auto(GStrv) argv = NULL;
        if (!g_shell_parse_argv(ag->report_command, NULL, &argv, &err)) {
            fprintf(stderr, _("bouncewatch watch: bad --report-command: %s\n"), err->message);
            return;
        }
        guint n = g_strv_length(argv);
        argv = g_renew(char *, argv, n + 2);
        argv[n] = g_strdup(path);
        argv[n + 1] = NULL;
        if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err))
            fprintf(stderr, _("bouncewatch watch: cannot run the report command: %s\n"),
                    err->message);
        return;
    }
    g_autofree char *uri = g_filename_to_uri(path, NULL, NULL);
    if (uri == NULL || !g_app_info_launch_default_for_uri(uri, NULL, &err))
        fprintf(stderr, _("bouncewatch watch: the report is in %s (%s)\n"), path,
                err ? err->message : "");
}

typedef struct {
    agent_t *ag;
    char *path;
} report_job_t;

static void
on_report_done(GObject *source, GAsyncResult *res, gpointer data)
{
    report_job_t *job = data;
    g_autoptr(GError) err = NULL;
    if (!g_subprocess_wait_finish(G_SUBPROCESS(source), res, &err))
        fprintf(stderr, _("bouncewatch watch: cannot produce the report: %s\n"), err->message);
    else
        show_file(job->ag, job->path);
    g_free(job->path);
    g_free(job);
}

static void
action_show_report(agent_t *ag)
{
    g_autofree char *path = cache_file("report.txt");
    if (path == NULL)
        return;
    /* The report is what `bouncewatch scan` prints; running the program
     * itself keeps one renderer of it.  Asynchronously: a scan of a large
     * mailbox must not stall the main loop (the hook's Rescan call, other
     * actions). */
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(launcher, path);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn(launcher, &err,
        self != NULL ? self : "bouncewatch", "scan", NULL);
    if (proc == NULL) {
        fprintf(stderr, _("bouncewatch watch: cannot produce the report: %s\n"), err->message);
        return;
    }
    report_job_t *job = g_new0(report_job_t, 1);
    job->ag = ag;
    job->path = g_steal_pointer(&path);
    g_subprocess_wait_async(proc, NULL, on_report_done, job);
}

static void
action_secure(agent_t *ag)
{
    g_autofree char *path = cache_file("secure-your-account.txt");
    if (path == NULL)
        return;
    GString *t = g_string_new(NULL);
    g_string_append_printf(t, "%s\n\n", _("How to secure your mail account"));
    if (ag->summary != NULL)
        g_string_append_printf(t, "%s\n\n", ag->summary);
    for (guint i = 0; ag->advice != NULL && i < ag->advice->len; i++)
        g_string_append_printf(t, "- %s\n", (const char *)g_ptr_array_index(ag->advice, i));
    g_string_append_printf(t, "\n%s\n", _(
        "Always, from a device you trust:\n"
        "- change the password of the mail account and sign out all other sessions;\n"
        "- turn on two-step verification (a security key or an authenticator app);\n"
        "- check the forwarding addresses, filters and rules, app passwords, connected apps\n"
        "  and the recovery phone and address, and remove what you do not know;\n"
        "- look at the recent sign-in history for places and devices you do not know;\n"
        "- scan your computer for malware;\n"
        "- tell your contacts that mail in your name may be forged.\n"
        "Never follow links or open attachments in the bounced messages."));
    g_autofree char *text = g_string_free(t, FALSE);
    g_autoptr(GError) err = NULL;
    if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &err)) {
        fprintf(stderr, "bouncewatch watch: %s\n", err->message);
        return;
    }
    show_file(ag, path);
}

static void
action_mute(agent_t *ag, const char *campaign)
{
    if (campaign == NULL)
        return;
    g_autofree char *default_path = NULL;
    const char *path = ag->state_path ? ag->state_path
                                      : (default_path = bw_scanner_default_state_path());
    g_autoptr(bw_store_t) store = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_store_open(path, &store, NULL, &detail);
    if (st == BW_OK)
        st = bw_store_set_muted(store, campaign, true);
    if (st != BW_OK)
        fprintf(stderr, _("bouncewatch watch: cannot mute campaign %s: %s\n"), campaign,
                detail ? detail : bw_status_to_string(st));
    else
        fprintf(stderr, _("bouncewatch watch: campaign %s muted\n"), campaign);
}

static void
on_action(void *data, bw_action_t action, const char *key, const char *campaign)
{
    agent_t *ag = data;
    (void)key;
    switch (action) {
    case BW_ACTION_SHOW_REPORT: action_show_report(ag); break;
    case BW_ACTION_SECURE: action_secure(ag); break;
    case BW_ACTION_MUTE: action_mute(ag, campaign); break;
    }
}

/* ------------------------------------------------------------ D-Bus */

static void
on_method_call(GDBusConnection *c, const char *sender, const char *path, const char *iface,
               const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
    agent_t *ag = data;
    (void)c; (void)sender; (void)path; (void)iface; (void)params;
    if (strcmp(method, "Rescan") == 0) {
        /* Reply first: the hook waits for the reply, not for the scan. */
        g_dbus_method_invocation_return_value(inv, NULL);
        agent_scan_soon(ag);
        return;
    }
    g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                          "no method %s", method);
}

static GVariant *
on_get_property(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                const char *prop, GError **error, gpointer data)
{
    agent_t *ag = data;
    (void)c; (void)sender; (void)path; (void)iface; (void)error;
    if (strcmp(prop, "Cycles") == 0)
        return g_variant_new_uint64(ag->cycles);
    return NULL;
}

static const GDBusInterfaceVTable vtable = { on_method_call, on_get_property, NULL, { 0 } };

static void
on_bus_acquired(GDBusConnection *c, const char *name, gpointer data)
{
    agent_t *ag = data;
    (void)name;
    if (ag->bus == NULL)
        ag->bus = g_object_ref(c);
    if (ag->registration_id != 0)
        return;   /* the name taken again after a failed restart */
    g_autoptr(GError) err = NULL;
    ag->registration_id = g_dbus_connection_register_object(c, BW_AGENT_OBJECT,
        ag->introspection->interfaces[0], &vtable, ag, NULL, &err);
    if (ag->registration_id == 0)
        fprintf(stderr, "bouncewatch watch: %s\n", err->message);
}

static void
on_name_lost(GDBusConnection *c, const char *name, gpointer data)
{
    agent_t *ag = data;
    if (c == NULL) {
        /* No session bus (a server, a test): file watching still works. */
        if (ag->verbose)
            fprintf(stderr, "bouncewatch watch: no session bus\n");
        return;
    }
    fprintf(stderr, _("bouncewatch watch: another agent already owns %s; exiting\n"), name);
    ag->exit_code = BW_EXIT_UNAVAILABLE;
    g_main_loop_quit(ag->loop);
}

static void
own_name(agent_t *ag)
{
    ag->owner_id = g_bus_own_name(G_BUS_TYPE_SESSION, BW_AGENT_BUS_NAME,
                                  G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                  on_bus_acquired, NULL, on_name_lost, ag, NULL);
}

static gboolean
on_signal(gpointer data)
{
    agent_t *ag = data;
    g_main_loop_quit(ag->loop);
    return G_SOURCE_CONTINUE;
}

int
bw_cmd_watch(int argc, char **argv)
{
    agent_t ag = { 0 };
    ag.poll_seconds = WATCH_POLL_SECONDS;
    ag.debounce_ms = WATCH_DEBOUNCE_MS;
    GOptionEntry entries[] = {
        { "poll", 0, 0, G_OPTION_ARG_INT, &ag.poll_seconds,
          N_("also rescan every SECONDS even without a change (default 300; 0: never)"),
          N_("SECONDS") },
        { "debounce", 0, 0, G_OPTION_ARG_INT, &ag.debounce_ms,
          N_("wait MS milliseconds after the last database change (default 2000)"), N_("MS") },
        { "tag", 0, 0, G_OPTION_ARG_NONE, &ag.tag,
          N_("also write the tags (normally the post-new hook does)"), NULL },
        { "report-command", 0, 0, G_OPTION_ARG_STRING, &ag.report_command,
          N_("run COMMAND with the report file as last argument for \"Show report\" "
             "(default: bouncewatch.report_command)"),
          N_("COMMAND") },
        { "state", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &ag.state_path,
          N_("state file (default: the scan's)"), N_("FILE") },
        { "cycles", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &ag.max_cycles,
          N_("exit after N scans (for tests and benchmarks)"), N_("N") },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &ag.verbose,
          N_("log every scan to stderr"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx,
        _("Stay running, watch the notmuch database and show a desktop notification\n"
          "when a surge of backscatter starts or grows."));
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 1) {
        fprintf(stderr, "bouncewatch watch: %s\n",
                err ? err->message : _("unexpected argument"));
        g_free(ag.report_command);
        g_free(ag.state_path);
        return BW_EXIT_USAGE;
    }
    gint64 now = 0;
    if (!bw_cli_now(&now)) {
        g_free(ag.report_command);
        g_free(ag.state_path);
        return BW_EXIT_USAGE;
    }
    if (ag.report_command == NULL)
        ag.report_command = bw_agent_config_get("bouncewatch.report_command");
    ag.poll_seconds = CLAMP(ag.poll_seconds, 0, 24 * 3600);
    ag.debounce_ms = CLAMP(ag.debounce_ms, 0, WATCH_DEBOUNCE_MAX_MS);

    ag.loop = g_main_loop_new(NULL, FALSE);
    ag.notifier = bw_notifier_new("bouncewatch", true, on_action, &ag);
    /* (without the module the notifier said why, and that is what is true:
     * a server may well be there) */
    if (bw_notifier_has_module(ag.notifier) && !bw_notifier_has_server(ag.notifier))
        fprintf(stderr, _("bouncewatch watch: no notification server; alerts go to this log\n"));
    ag.introspection = g_dbus_node_info_new_for_xml(agent_xml, NULL);
    ag.program = bw_program_watch_new();
    own_name(&ag);
    if (ag.poll_seconds > 0)
        ag.poll_id = g_timeout_add_seconds((guint)ag.poll_seconds, on_poll, &ag);
    guint sig_term = g_unix_signal_add(SIGTERM, on_signal, &ag);
    guint sig_int = g_unix_signal_add(SIGINT, on_signal, &ag);
    agent_scan_soon(&ag);   /* first scan at once: catch up on what happened */

    g_main_loop_run(ag.loop);

    g_source_remove(sig_term);
    g_source_remove(sig_int);
    if (ag.poll_id)
        g_source_remove(ag.poll_id);
    if (ag.debounce_id)
        g_source_remove(ag.debounce_id);
    if (ag.scan_id)
        g_source_remove(ag.scan_id);
    if (ag.registration_id && ag.bus)
        g_dbus_connection_unregister_object(ag.bus, ag.registration_id);
    if (ag.owner_id)
        g_bus_unown_name(ag.owner_id);
    g_clear_object(&ag.bus);
    bw_program_watch_free(ag.program);
    if (ag.monitor) {
        g_file_monitor_cancel(ag.monitor);
        g_object_unref(ag.monitor);
    }
    g_free(ag.monitored);
    g_dbus_node_info_unref(ag.introspection);
    bw_notifier_free(ag.notifier);
    g_clear_pointer(&ag.advice, g_ptr_array_unref);
    g_free(ag.summary);
    g_free(ag.report_command);
    g_free(ag.state_path);
    g_main_loop_unref(ag.loop);
    return ag.exit_code;
}
