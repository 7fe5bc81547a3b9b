/* cmd-hook.c: `bouncewatch hook post-new` (shared/SPEC.md section 2a).
 *
 * Run by notmuch after `notmuch new`: incremental scan, tags, and an alert
 * when a surge is under way.  It always exits 0, so the user's `notmuch new`
 * never fails because of it; problems are logged to stderr (notmuch shows
 * them, the journal keeps them).
 *
 * When the agent (`bouncewatch watch`) runs, it owns org.bouncewatch.Agent
 * on the session bus: the hook then asks it to rescan and leaves the alert
 * to it, because only a process with a main loop can receive the clicks on
 * the notification's actions.  Otherwise the hook shows a plain
 * notification itself (no actions).
 *
 * Every path returns 0 when called as `hook post-new` (a bad option
 * included), and the work runs in a child process (main.c: run_hook(),
 * which forks before this module is even loaded), so that not even a crash
 * of this program can fail `notmuch new`; messages
 * that crash or hang the mail reader are skipped and named in this log
 * by the scan (scanner.h). */
#include "config.h"
#include "cli.h"
#include "agent.h"
#include "scanner.h"
#include <stdio.h>
#include <string.h>

static void
hook_notice(void *data, const char *line)
{
    (void)data;
    fprintf(stderr, "bouncewatch hook: %s\n", line);
}

static int
hook_post_new(gboolean quiet, gboolean no_notify)
{
    gint64 now = 0;
    if (!bw_cli_now(&now))
        return BW_EXIT_OK;  /* bw_cli_now printed why; the hook must not fail */

    bw_scanner_options_t opts;
    bw_scanner_options_init(&opts);
    opts.now = now;
    opts.tag = true;
    /* Nothing new, nothing under way, no tags owed: no result at all (the
     * common case after `notmuch new`, answered from the state's meta). */
    opts.skip_unchanged = true;
    opts.quiet = quiet;
    opts.notice = hook_notice;
    g_autoptr(GPtrArray) new_items = g_ptr_array_new_with_free_func(g_free);
    opts.new_items_out = new_items;
    /* The save the result was made from: once its alerts are all shown,
     * later runs with nothing new stop early (bw_agent_settle). */
    guint64 save = 0;
    opts.state_save_out = &save;
    /* bw_agent_settle below goes on with the scan's open state. */
    g_autoptr(bw_store_t) store = NULL;
    opts.store_out = &store;
    /* this process ends with the run (main() returns what we return) */
    opts.process_exits = true;
    /* it reads of the result only what alerts and settling read (no
     * report printed): kept items need not be decoded whole */
    opts.slim_kept = true;
    bw_owner_problem_t owner_problem = { 0 };
    opts.owner_problem_out = &owner_problem;

    bw_scan_result_t *result = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_scanner_run(&opts, &result, &detail);
    if (st == BW_E_CONFIG) {
        /* Loud on every `notmuch new` until it is set (even with --quiet):
         * the protection is off, and a silent hook is how nobody notices. */
        g_auto(GStrv) lines = bw_cli_unconfigured_lines(&owner_problem, detail);
        fprintf(stderr, "%s\n", _("bouncewatch hook: not configured: no reports are checked or "
                                  "tagged"));
        for (char **l = lines; *l; l++)
            fprintf(stderr, "bouncewatch hook: %s\n", *l);
        bw_owner_problem_clear(&owner_problem);
        return BW_EXIT_OK;
    }
    if (st != BW_OK) {
        fprintf(stderr, _("bouncewatch hook: scan failed (%s): %s\n"),
                bw_status_to_string(st), detail ? detail : "");
        return BW_EXIT_OK;
    }
    /* The common case, no surge under way, stays free of D-Bus and state
     * work.  A surge under way is checked against the state even when this
     * run found nothing new: an alert that failed last time is retried.
     * Once every alert due is shown, bw_agent_settle lets the next runs
     * with nothing new stop early (the scan returns no result). */
    g_autoptr(GPtrArray) due = bw_alerts_from_result(result, NULL, now, NULL, NULL);
    if (due->len > 0 && !no_notify) {
        g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
        if (bw_agent_is_running(bus)) {
            /* The agent alerts (it can receive the actions); it only needs
             * telling when there is something new to look at. */
            bool incident = false;
            for (guint i = 0; i < due->len; i++)
                incident = incident || ((const bw_alert_t *)g_ptr_array_index(due, i))->signals_summary;
            if (new_items->len == 0 && !incident)
                goto done;
            g_autoptr(GError) err = NULL;
            g_autoptr(GVariant) r = g_dbus_connection_call_sync(bus, BW_AGENT_BUS_NAME,
                BW_AGENT_OBJECT, BW_AGENT_INTERFACE, "Rescan", NULL, NULL,
                G_DBUS_CALL_FLAGS_NO_AUTO_START, 2000, NULL, &err);
            if (r != NULL)
                goto done;
            /* The agent vanished or hangs: alert here rather than not at all. */
            fprintf(stderr, _("bouncewatch hook: the agent did not answer (%s); "
                              "alerting directly\n"), err->message);
        }
        g_autoptr(bw_notifier_t) n = NULL;
        bw_agent_alert(&n, result, opts.state_path, now, NULL);
    }
done:
    bw_agent_settle(result, store, opts.state_path, now, save);
    if (!bw_scanner_leaves_memory(&opts))
        bw_scan_result_free(result);
    return BW_EXIT_OK;
}

int
bw_cmd_hook(int argc, char **argv)
{
    gboolean quiet = FALSE, no_notify = FALSE;
    GOptionEntry entries[] = {
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
          N_("print no notices (errors are still printed)"), NULL },
        { "no-notify", 0, 0, G_OPTION_ARG_NONE, &no_notify,
          N_("scan and tag, but do not alert"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(_("post-new"));
    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx,
        _("Run by notmuch's post-new hook: scan the new mail, tag the reports and\n"
          "alert when a surge of backscatter is under way.  Always exits 0."));
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    /* `hook post-new` always exits 0 (notmuch new must not fail because of
     * it): a bad option is logged and the hook runs without it. */
    g_option_context_set_ignore_unknown_options(ctx, TRUE);
    bool post_new = false;
    for (int i = 1; i < argc; i++)
        post_new = post_new || strcmp(argv[i], "post-new") == 0;
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "bouncewatch hook: %s\n", err->message);
        if (!post_new)
            return BW_EXIT_USAGE;
        fprintf(stderr, _("bouncewatch hook: running post-new without the options\n"));
        quiet = no_notify = FALSE;
    }
    int hooks = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "post-new") == 0)
            hooks++;
        else if (post_new)
            fprintf(stderr, _("bouncewatch hook: ignoring unknown argument '%s'\n"), argv[i]);
    }
    if (!post_new || hooks == 0) {
        fprintf(stderr, _("bouncewatch hook: the only hook is 'post-new': "
                          "run 'bouncewatch hook post-new'\n"));
        return BW_EXIT_USAGE;
    }
    /* Already in the worker process (main.c: run_hook). */
    return hook_post_new(quiet, no_notify);
}
