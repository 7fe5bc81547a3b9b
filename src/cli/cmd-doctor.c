/* cmd-doctor.c: `bouncewatch doctor`: is the protection really on?
 *
 * A user who installed bouncewatch cannot see that it works: a hook that
 * never runs, an address notmuch made up, an agent that never starts all
 * look like a quiet mailbox.  doctor checks each part and prints one line
 * per check, OK or PROBLEM, with the fix.  It writes nothing.  Exit 0 when
 * all is well, 1 when it found a problem. */
#include "config.h"
#include "cli.h"
#include "install.h"
#include "nm-reopen.h"
#include "nm-source.h"
#include "notify.h"
#include "reader.h"
#include "scanner.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A scan older than this while the database changed means nothing runs it. */
#define DOCTOR_STALE_SECONDS (24 * 3600)

typedef struct {
    unsigned problems;
} doctor_t;

static void
report(doctor_t *d, bool ok, const char *what, const char *fix)
{
    if (!ok)
        d->problems++;
    /* TRANSLATORS: the status words of `bouncewatch doctor`, padded to the
     * same width in the output. */
    const char *word = ok ? _("OK") : _("PROBLEM");
    int pad = 9 - (int)g_utf8_strlen(word, -1);
    printf("%s%*s%s", word, MAX(pad, 1), "", what);
    if (fix != NULL)
        printf(_(" Fix: %s"), fix);
    printf("\n");
}

static char *
fmt_age(gint64 seconds)
{
    if (seconds < 0)
        seconds = 0;
    unsigned long n;
    if (seconds < 3600) {
        n = (unsigned long)seconds / 60;
        return g_strdup_printf(ngettext("%lu minute ago", "%lu minutes ago", n), n);
    }
    if (seconds < 2 * 86400) {
        n = (unsigned long)seconds / 3600;
        return g_strdup_printf(ngettext("%lu hour ago", "%lu hours ago", n), n);
    }
    n = (unsigned long)seconds / 86400;
    return g_strdup_printf(ngettext("%lu day ago", "%lu days ago", n), n);
}

static void
check_owner(doctor_t *d, bw_nm_source_t *src)
{
    const char *value = NULL;
    bw_owner_trust_t trust = bw_nm_source_owner_trust(src, &value);
    if (trust == BW_OWNER_TRUSTED) {
        g_autofree char *list = g_strjoinv(", ", (char **)bw_nm_source_owners(src));
        g_autofree char *what = g_strdup_printf(_("your addresses (user.primary_email, "
                                                  "user.other_email): %s"), list);
        report(d, true, what, NULL);
        /* $EMAIL stands in for an unset primary_email: the agent, started
         * by systemd or the desktop, may not have it. */
        const char *email = g_getenv("EMAIL");
        if (email != NULL && *email != '\0') {
            const char *argv[] = { "env", "-u", "EMAIL", "notmuch", "config", "get",
                                   "user.primary_email", NULL };
            g_autofree char *out = NULL;
            int st = 0;
            if (g_spawn_sync(NULL, (char **)argv, NULL,
                             G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                             &out, NULL, &st, NULL) && g_spawn_check_wait_status(st, NULL) &&
                out != NULL && bw_owner_address_made_up(g_strstrip(out))) {
                g_autofree char *w = g_strdup_printf(
                    _("user.primary_email is not in the notmuch configuration: notmuch takes "
                      "$EMAIL (%s), which the agent started with your session may not have."),
                    email);
                g_autofree char *fix = g_strdup_printf("notmuch config set user.primary_email %s",
                                                       value);
                report(d, false, w, fix);
            }
        }
        return;
    }
    /* The same problem and advice as scan gives. */
    bw_owner_problem_t p = { 0 };
    p.empty = trust == BW_OWNER_EMPTY;
    p.value = g_strdup(value ? value : "");
    g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func(g_free);
    p.suggested = bw_nm_source_guess_owner(src, others);
    g_auto(GStrv) lines = bw_owner_problem_lines(&p);
    /* lines: what is missing, why, "set it with:", the command (and the
     * same for other addresses); one line here: what, and the command. */
    const char *command = NULL;
    for (char **l = lines; *l; l++)
        if (strstr(*l, "notmuch config set user.primary_email") != NULL) {
            command = g_strstrip(*l);
            break;
        }
    g_autofree char *what = g_strdup_printf("%s %s", lines[0], lines[1] ? lines[1] : "");
    g_autofree char *fix = p.suggested != NULL
        ? g_strdup_printf(_("%s (the address your sent mail is from; check it is yours)"), command)
        : g_strdup(command);
    report(d, false, what, fix);
    bw_owner_problem_clear(&p);
}

static void
check_hook(doctor_t *d, bw_nm_source_t *src)
{
    const char *dir = bw_nm_source_hook_dir(src);
    if (dir == NULL) {
        report(d, false, _("notmuch names no hook directory."),
               _("notmuch config set database.hook_dir ~/.config/notmuch/hooks, then bouncewatch setup"));
        return;
    }
    bw_hook_t h;
    bw_hook_read(dir, &h);
    if (!h.exists) {
        g_autofree char *what = g_strdup_printf(
            _("no post-new hook in %s (notmuch's hook directory%s): new mail is not checked."),
            dir, g_file_test(dir, G_FILE_TEST_IS_DIR) ? "" : _(", which does not exist"));
        report(d, false, what, "bouncewatch setup");
    } else if (!h.calls) {
        g_autofree char *self = bw_install_self();
        g_autofree char *line = bw_install_hook_line(self ? self : "bouncewatch");
        g_autofree char *what = g_strdup_printf(_("the post-new hook %s does not run bouncewatch."),
                                                h.path);
        g_autofree char *fix = g_strdup_printf(_("bouncewatch setup, or add this line to it: %s"),
                                               line);
        report(d, false, what, fix);
    } else if (!h.executable) {
        g_autofree char *what = g_strdup_printf(_("the post-new hook %s is not executable: "
                                                  "notmuch does not run it."), h.path);
        g_autofree char *fix = g_strdup_printf("chmod +x %s", h.path);
        report(d, false, what, fix);
    } else {
        g_autofree char *resolved = NULL;
        bool runs = bw_install_program_runs(h.program, &resolved);
        g_autofree char *fallback = NULL;
        /* Our hook falls back to the bouncewatch on PATH. */
        bool via_path = !runs && h.ours && bw_install_program_runs("bouncewatch", &fallback);
        if (runs || via_path) {
            g_autofree char *what = g_strdup_printf(_("post-new hook %s runs %s."), h.path,
                                                    runs ? resolved : fallback);
            report(d, true, what, NULL);
        } else {
            g_autofree char *what = g_strdup_printf(
                _("the post-new hook %s runs %s, which is missing or does not work: new mail is "
                  "not checked."), h.path, h.program ? h.program : "bouncewatch");
            report(d, false, what, h.ours ? _("bouncewatch setup (it renews its own hook)")
                                          : _("correct the bouncewatch line of the hook"));
        }
    }
    bw_hook_clear(&h);
}

static void
check_agent(doctor_t *d, const bw_agent_state_t *a)
{
    if (a->running) {
        report(d, true, _("the desktop agent runs (org.bouncewatch.Agent on the session bus)."),
               NULL);
    } else if (a->unit_enabled) {
        report(d, true, _("the desktop agent is not running now; its systemd user unit is "
                          "enabled and starts it with your graphical session."), NULL);
    } else if (a->autostart != NULL) {
        g_autofree char *what = g_strdup_printf(_("the desktop agent is not running now; %s "
                                                  "starts it with your desktop session."),
                                                a->autostart);
        report(d, true, what, NULL);
    } else {
        report(d, false, _("the desktop agent does not run and does not start with your "
                           "session: alerts then come from the hook only, without actions."),
               "bouncewatch setup");
    }
    if (!a->bus) {
        report(d, false, _("no D-Bus session bus: no desktop notification can be shown (they go "
                           "to the log)."),
               _("run bouncewatch in your desktop session"));
    } else if (a->notify_owned) {
        g_autofree char *what = g_strdup_printf(_("notification server: %s."),
                                                a->notify_name ? a->notify_name : "?");
        report(d, true, what, NULL);
    } else if (a->notify_activatable) {
        report(d, true, _("notification server: started by D-Bus when needed."), NULL);
    } else {
        report(d, false, _("no notification server on the session bus: alerts only go to the "
                           "log."),
               _("start your desktop's notification daemon (or install one, such as dunst)"));
    }
    /* Said only when it fails: what shows a notification is loaded when
     * one is due (src/adapters/notify-module.h). */
    g_autofree char *module = NULL, *why = NULL;
    if (!bw_notify_module_check(&module, &why)) {
        g_autofree char *what = g_strdup_printf(
            _("the notification module %s cannot be loaded (%s): alerts only go to the log."),
            module, why);
        report(d, false, what, _("reinstall bouncewatch"));
    }
}

/* The confined process that reads the mail (CONTAINMENT in bouncewatch(1))
 * starts and reads a known report: without it no new mail is read. */
static void
check_reader(doctor_t *d)
{
    g_autofree char *program = bw_reader_program();
    g_autofree char *why = NULL;
    if (bw_reader_check(&why)) {
        g_autofree char *what = g_strdup_printf(_("the mail reader %s starts, confined."), program);
        report(d, true, what, NULL);
    } else {
        g_autofree char *what = g_strdup_printf(_("the mail reader cannot run: %s."), why);
        report(d, false, what, _("reinstall bouncewatch"));
    }
}

/* The state directory is writable, or can be created. */
static void
check_state(doctor_t *d, const char *state_path)
{
    g_autofree char *dir = g_path_get_dirname(state_path);
    g_autofree char *probe = g_strdup(dir);
    while (!g_file_test(probe, G_FILE_TEST_EXISTS)) {
        char *up = g_path_get_dirname(probe);
        if (strcmp(up, probe) == 0) {
            g_free(up);
            break;
        }
        g_free(probe);
        probe = up;
    }
    if (g_file_test(probe, G_FILE_TEST_IS_DIR) && access(probe, W_OK | X_OK) == 0) {
        g_autofree char *what = g_strdup_printf(_("state directory %s is writable."), dir);
        report(d, true, what, NULL);
    } else {
        g_autofree char *what = g_strdup_printf(_("the state directory %s cannot be written."), dir);
        g_autofree char *fix = g_strdup_printf(_("make %s writable for you (or set XDG_DATA_HOME)"),
                                               probe);
        report(d, false, what, fix);
    }
}

static void
check_last_scan(doctor_t *d, const char *state_path, bw_nm_source_t *src)
{
    gint64 last = bw_scanner_last_success(state_path);
    if (last == 0) {
        report(d, false, _("no successful scan yet."),
               _("bouncewatch scan (then the hook scans after each notmuch new)"));
        return;
    }
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(last);
    g_autofree char *when = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("?");
    g_autofree char *age = fmt_age(now - last);
    /* The database changed since, and for long: nothing runs the scan. */
    bool stale = false;
    if (src != NULL && now - last > DOCTOR_STALE_SECONDS) {
        /* Where notmuch 0.37 keeps Xapian: in the mail, or under XDG. */
        const char *profile = g_getenv("NOTMUCH_PROFILE");
        g_autofree char *legacy = g_build_filename(bw_nm_source_path(src), ".notmuch", "xapian",
                                                   NULL);
        g_autofree char *xdg = g_build_filename(g_get_user_data_dir(), "notmuch",
                                                profile && *profile ? profile : "default",
                                                "xapian", NULL);
        GStatBuf sb;
        stale = (g_stat(legacy, &sb) == 0 || g_stat(xdg, &sb) == 0) &&
                sb.st_mtime > last + DOCTOR_STALE_SECONDS;
    }
    g_autofree char *what = g_strdup_printf(_("last successful scan: %s (%s)."), when, age);
    if (stale) {
        g_autofree char *w2 = g_strdup_printf(_("%s The database changed a day or more after "
                                                "it: the hook does not seem to run."), what);
        report(d, false, w2, "bouncewatch setup");
    } else {
        report(d, true, what, NULL);
    }
}

int
bw_cmd_doctor(int argc, char **argv)
{
    GOptionEntry entries[] = { { NULL, 0, 0, 0, NULL, NULL, NULL } };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx,
        _("Check that bouncewatch really protects this mailbox: the notmuch configuration and\n"
          "database, your addresses, the post-new hook, the desktop agent, the notification\n"
          "server, the state and the last scan.  One line per check, OK or PROBLEM with the\n"
          "fix.  Changes nothing.  Exit status 0 when all is well, 1 when a problem was found."));
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc > 1) {
        fprintf(stderr, "bouncewatch doctor: %s\n",
                err ? err->message : _("unexpected argument"));
        return BW_EXIT_USAGE;
    }
    doctor_t d = { 0 };
    g_autoptr(bw_nm_source_t) src = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_nm_source_open(NULL, &src, &detail);
    if (st == BW_OK) {
        const char *cfg = bw_nm_source_config_file(src);
        g_autofree char *what = g_strdup_printf(_("notmuch configuration: %s."),
                                                cfg ? cfg : _("(none: the defaults)"));
        report(&d, true, what, NULL);
        unsigned long n = (unsigned long)bw_nm_source_count_messages(src);
        g_autofree char *w2 = g_strdup_printf(ngettext("notmuch database: %s (%lu message).",
                                                       "notmuch database: %s (%lu messages).", n),
                                              bw_nm_source_path(src), n);
        report(&d, true, w2, NULL);
        /* which way that count went (nm-xapian.h): not a problem either
         * way, but the user can tell whether the quick way works */
        unsigned via_xapian = 0, via_notmuch = 0;
        bw_nm_source_answers(src, &via_xapian, &via_notmuch);
        report(&d, true,
               via_xapian > 0
                   ? _("every message is counted and listed by reading notmuch's Xapian index "
                       "directly (read-only): a run after mail was deleted stays quick.")
                   : _("every message is counted and listed through libnotmuch, not by reading "
                       "its Xapian index directly (NOTMUCH_DATABASE is set, the database lacks "
                       "a feature of notmuch 0.37, or it changed meanwhile): a run after mail "
                       "was deleted takes longer on a large mailbox."),
               NULL);
        /* whether another program's writes make a scan start over
         * (nm-reopen.h): not a problem either way, nothing the user can
         * change, but it tells why a long first scan may have to be run
         * again */
        report(&d, true,
               bw_nm_reopen_proven()
                   ? _("a scan does not start over when another program (a mail client changing "
                       "tags) writes to the database while it reads: bouncewatch sees when "
                       "libnotmuch moves to a newer snapshot.")
                   : _("a scan starts over when another program writes to the database while it "
                       "reads (this libnotmuch cannot be watched for the moves it makes by "
                       "itself): on a large mailbox, run the first scan again while the mail "
                       "client is quiet if it gives up."),
               NULL);
        check_owner(&d, src);
        check_hook(&d, src);
    } else {
        g_autofree char *what = g_strdup_printf(_("notmuch: %s."), detail ? detail : "?");
        report(&d, false, what, st == BW_E_CONFIG ? _("notmuch setup, then notmuch new")
                                                  : _("notmuch new"));
        report(&d, false, _("your addresses and the hook cannot be checked until notmuch works."),
               NULL);
    }
    bw_agent_state_t a;
    bw_agent_state_read(&a);
    check_agent(&d, &a);
    bw_agent_state_clear(&a);
    check_reader(&d);
    g_autofree char *state = bw_scanner_default_state_path();
    check_state(&d, state);
    check_last_scan(&d, state, src);
    if (d.problems > 0)
        printf(ngettext("%u problem found: bouncewatch does not fully protect this mailbox yet.\n",
                        "%u problems found: bouncewatch does not fully protect this mailbox yet.\n",
                        d.problems), d.problems);
    else
        printf("%s\n", _("All is well: new mail is checked and you will be alerted."));
    return d.problems > 0 ? BW_EXIT_FAILURE : BW_EXIT_OK;
}
