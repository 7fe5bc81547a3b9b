/* cmd-setup.c: `bouncewatch setup [--dry-run] [--yes]`: protect the
 * user's own mail.
 *
 * Installs the notmuch post-new hook in notmuch's real hook directory
 * (creating it), and makes the desktop agent start with the user's session
 * (the systemd user unit, else an XDG autostart entry of the user's).  It
 * is idempotent, says what it does (--dry-run: what it would do) and
 * touches nothing else: a post-new hook that exists is never overwritten
 * (setup shows it and adds one line to it, when the user agrees, or says
 * the line to add), notmuch's own settings are left to the user (the
 * address, above all: setup says the command). */
#include "config.h"
#include "cli.h"
#include "install.h"
#include "nm-source.h"
#include "scanner.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SHOW_HOOK_LINES 40   /* lines of an existing hook shown before asking */

typedef struct {
    gboolean dry_run;
    gboolean yes;
    GPtrArray *todo;         /* char*: what is left for the user */
    bool failed;             /* something setup should have done failed */
} setup_t;

static void
say(const char *area, const char *text)
{
    printf("%s: %s\n", area, text);
}

static void
todo(setup_t *s, char *text)
{
    g_ptr_array_add(s->todo, text);
}

static bool
ask(const char *question)
{
    printf("%s ", question);
    fflush(stdout);
    char answer[64];
    if (fgets(answer, sizeof answer, stdin) == NULL)
        return false;
    g_strstrip(answer);
    /* y or yes, in English or as translated */
    return g_ascii_strcasecmp(answer, "y") == 0 || g_ascii_strcasecmp(answer, "yes") == 0 ||
           /* TRANSLATORS: a short answer "yes" to a [y/N] question */
           strcmp(answer, _("y")) == 0 ||
           /* TRANSLATORS: the answer "yes" to a [y/N] question */
           strcmp(answer, _("yes")) == 0;
}

static void
show_hook(const bw_hook_t *h)
{
    g_auto(GStrv) lines = g_strsplit(h->text, "\n", -1);
    guint n = g_strv_length(lines);
    if (n > 0 && *lines[n - 1] == '\0')
        n--;
    for (guint i = 0; i < n && i < SHOW_HOOK_LINES; i++)
        printf("    | %s\n", lines[i]);
    if (n > SHOW_HOOK_LINES)
        printf(ngettext("    | ... (%u more line)\n", "    | ... (%u more lines)\n",
                        n - SHOW_HOOK_LINES), n - SHOW_HOOK_LINES);
}

/* Our own hook into `dir` (created when missing).  Then notmuch is asked
 * again where its hooks are: the hook must be where notmuch looks. */
static void
install_hook(setup_t *s, const char *self, const char *dir, const char *notmuch_dir)
{
    g_autofree char *path = g_build_filename(dir, "post-new", NULL);
    g_autofree char *msg = g_strdup_printf(s->dry_run
                                               ? _("would install %s (it runs %s)%s")
                                               : _("installing %s (it runs %s)%s"),
                                           path, self,
                                           g_file_test(dir, G_FILE_TEST_IS_DIR)
                                               ? "" : _(", creating its directory"));
    say(_("hook"), msg);
    if (strcmp(dir, notmuch_dir) != 0) {
        g_autofree char *why = g_strdup_printf(_("notmuch names %s, but it uses %s as soon as it "
                                                 "exists, and your database keeps no .notmuch "
                                                 "directory there"), notmuch_dir, dir);
        say(_("hook"), why);
    }
    if (s->dry_run)
        return;
    g_autofree char *script = bw_install_hook_script(self);
    g_autoptr(GError) err = NULL;
    if (!bw_install_write_new(path, script, 0755, &err)) {
        say(_("hook"), err->message);
        s->failed = true;
        return;
    }
    /* Where notmuch looks now. */
    g_autoptr(bw_nm_source_t) again = NULL;
    if (bw_nm_source_open(NULL, &again, NULL) == BW_OK) {
        const char *now_dir = bw_nm_source_hook_dir(again);
        if (now_dir == NULL || strcmp(now_dir, dir) != 0) {
            g_autofree char *w = g_strdup_printf(_("notmuch still looks for hooks in %s, not in %s"),
                                                 now_dir ? now_dir : "?", dir);
            say(_("hook"), w);
            todo(s, g_strdup_printf(_("Make notmuch use the hook: notmuch config set "
                                      "database.hook_dir %s"), dir));
        }
    }
}

/* A post-new hook of the user's that does not run bouncewatch: shown, and
 * one line added at its end when that can work and the user agrees. */
static void
extend_hook(setup_t *s, const char *self, const bw_hook_t *h)
{
    g_autofree char *line = bw_install_hook_line(self);
    g_autofree char *msg = g_strdup_printf(_("you already have a post-new hook, %s; bouncewatch "
                                             "never replaces it."), h->path);
    say(_("hook"), msg);
    const char *why_not = NULL;
    if (h->binary || h->text == NULL)
        why_not = _("it is not a text script");
    else if (!h->shell)
        why_not = _("it is not a shell script");
    else if (h->ends_with_exit)
        why_not = _("it ends with exit or exec, so a line added at its end would never run");
    else if (!h->executable)
        why_not = _("it is not executable, so notmuch does not run it at all");
    if (why_not != NULL) {
        g_autofree char *w = g_strdup_printf(_("bouncewatch does not change it: %s."), why_not);
        say(_("hook"), w);
        todo(s, g_strdup_printf(_("Make your post-new hook %s run this line after notmuch new "
                                  "has indexed the mail: %s"), h->path, line));
        return;
    }
    printf("%s\n", _("It reads:"));
    show_hook(h);
    printf("%s\n    + %s\n", _("bouncewatch adds this line at its end:"), line);
    bool go = false;
    if (s->dry_run) {
        say(_("hook"), _("(dry run: it is not changed)"));
        return;
    }
    if (s->yes)
        go = true;
    else if (isatty(STDIN_FILENO))
        go = ask(_("Add it? [y/N]"));
    if (!go) {
        todo(s, g_strdup_printf(_("Add this line at the end of your post-new hook %s: %s"),
                                h->path, line));
        return;
    }
    g_autofree char *text = g_strdup_printf("%s%s%s\n", h->text,
                                            g_str_has_suffix(h->text, "\n") ? "" : "\n", line);
    g_autoptr(GError) err = NULL;
    if (!bw_install_replace(h->path, h->text, text, &err)) {
        say(_("hook"), err->message);
        s->failed = true;
        return;
    }
    g_autofree char *done = g_strdup_printf(_("added the line to %s"), h->path);
    say(_("hook"), done);
}

static void
setup_hook(setup_t *s, const char *self, bw_nm_source_t *src)
{
    const char *notmuch_dir = bw_nm_source_hook_dir(src);
    if (notmuch_dir == NULL) {
        say(_("hook"), _("notmuch names no hook directory"));
        todo(s, g_strdup(_("Choose one: notmuch config set database.hook_dir "
                           "~/.config/notmuch/hooks; then run bouncewatch setup again")));
        return;
    }
    g_autofree char *dir = g_file_test(notmuch_dir, G_FILE_TEST_IS_DIR)
        ? g_strdup(notmuch_dir)
        : bw_install_hook_dir_to_create(notmuch_dir, bw_nm_source_path(src));
    bw_hook_t h;
    bw_hook_read(dir, &h);
    if (!h.exists) {
        install_hook(s, self, dir, notmuch_dir);
    } else if (!h.calls) {
        extend_hook(s, self, &h);
    } else {
        g_autofree char *resolved = NULL, *fallback = NULL;
        bool runs = bw_install_program_runs(h.program, &resolved);
        if (runs || (h.ours && bw_install_program_runs("bouncewatch", &fallback))) {
            g_autofree char *w = g_strdup_printf(_("already installed: %s runs %s"), h.path,
                                                 runs ? resolved : fallback);
            say(_("hook"), w);
            if (!h.executable)
                todo(s, g_strdup_printf(_("Make your post-new hook executable, or notmuch never "
                                          "runs it: chmod +x %s"), h.path));
        } else if (h.ours) {
            /* Our own script, calling a bouncewatch that is gone: renewed. */
            g_autofree char *w = g_strdup_printf(s->dry_run
                                                     ? _("would renew %s: it runs %s, which is missing")
                                                     : _("renewing %s: it runs %s, which is missing"),
                                                 h.path, h.program ? h.program : "?");
            say(_("hook"), w);
            if (!s->dry_run) {
                g_autofree char *script = bw_install_hook_script(self);
                g_autoptr(GError) err = NULL;
                if (!bw_install_replace(h.path, h.text, script, &err)) {
                    say(_("hook"), err->message);
                    s->failed = true;
                }
            }
        } else {
            g_autofree char *line = bw_install_hook_line(self);
            todo(s, g_strdup_printf(_("Your post-new hook %s runs %s, which is missing or does not "
                                      "work; make that line: %s"),
                                    h.path, h.program ? h.program : "bouncewatch", line));
        }
    }
    bw_hook_clear(&h);
}

static void
setup_agent(setup_t *s, const char *self)
{
    bw_agent_state_t a;
    bw_agent_state_read(&a);
    if (a.systemd) {
        if (!a.unit_found) {
            g_autofree char *unit = g_build_filename(g_get_user_config_dir(), "systemd", "user",
                                                     "bouncewatch.service", NULL);
            g_autofree char *w = g_strdup_printf(s->dry_run ? _("would write the systemd user "
                                                                 "unit %s (it runs %s watch)")
                                                            : _("writing the systemd user unit %s "
                                                                "(it runs %s watch)"),
                                                 unit, self);
            say(_("agent"), w);
            if (!s->dry_run) {
                g_autofree char *text = bw_install_unit(self);
                g_autoptr(GError) err = NULL;
                const char *reload[] = { "daemon-reload", NULL };
                if (!bw_install_write_new(unit, text, 0644, &err)) {
                    say(_("agent"), err->message);
                    s->failed = true;
                    goto out;
                }
                (void)bw_install_systemctl(reload, NULL);
            }
        }
        if (a.unit_enabled) {
            say(_("agent"), a.running ? _("already enabled and running (systemd user unit)")
                                      : _("already enabled: it starts with your graphical "
                                          "session (systemd user unit)"));
        } else {
            say(_("agent"), s->dry_run ? _("would run: systemctl --user enable --now "
                                           "bouncewatch.service")
                                       : _("running: systemctl --user enable --now "
                                           "bouncewatch.service"));
            const char *enable[] = { "enable", "--now", "bouncewatch.service", NULL };
            if (!s->dry_run && bw_install_systemctl(enable, NULL) != 0) {
                say(_("agent"), _("systemctl failed"));
                todo(s, g_strdup(_("Start the agent with your session: systemctl --user enable "
                                   "--now bouncewatch.service (see journalctl --user -u "
                                   "bouncewatch)")));
            }
        }
        goto out;
    }
    /* No systemd user manager: the desktop session's autostart. */
    if (a.autostart != NULL) {
        g_autofree char *w = g_strdup_printf(_("already set to start with your desktop session "
                                               "(%s)%s"), a.autostart,
                                             a.running ? _("; it runs now") : "");
        say(_("agent"), w);
    } else if (a.autostart_hidden) {
        g_autofree char *w = g_strdup_printf(_("you turned off its start with the session in %s "
                                               "(Hidden=true); bouncewatch leaves that as it is"),
                                             a.autostart_user);
        say(_("agent"), w);
        todo(s, g_strdup_printf(_("To have the agent start with your session again, remove %s"),
                                a.autostart_user));
    } else {
        g_autofree char *w = g_strdup_printf(s->dry_run ? _("would write %s: it starts %s watch "
                                                            "with your desktop session")
                                                        : _("writing %s: it starts %s watch "
                                                            "with your desktop session"),
                                             a.autostart_user, self);
        say(_("agent"), w);
        if (!s->dry_run) {
            g_autofree char *text = bw_install_desktop(self);
            g_autoptr(GError) err = NULL;
            if (!bw_install_write_new(a.autostart_user, text, 0644, &err)) {
                say(_("agent"), err->message);
                s->failed = true;
                goto out;
            }
        }
        if (!a.running && !s->dry_run)
            say(_("agent"), _("to start it now, without logging in again: bouncewatch watch &"));
    }
out:
    bw_agent_state_clear(&a);
}

int
bw_cmd_setup(int argc, char **argv)
{
    setup_t s = { 0 };
    GOptionEntry entries[] = {
        { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &s.dry_run,
          N_("show what setup would do, change nothing"), NULL },
        { "yes", 'y', 0, G_OPTION_ARG_NONE, &s.yes,
          N_("add the bouncewatch line to an existing post-new hook without asking"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx,
        _("Protect your own mail: install the notmuch post-new hook in notmuch's hook\n"
          "directory and make the desktop agent start with your session.  Safe to run\n"
          "again; changes nothing else.  An existing post-new hook is never replaced:\n"
          "setup shows it and adds one line to it if you agree (or --yes).  Exit status 0\n"
          "when all is done, 1 when something is left for you to do (it says what)."));
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc > 1) {
        fprintf(stderr, "bouncewatch setup: %s\n", err ? err->message : _("unexpected argument"));
        return BW_EXIT_USAGE;
    }
    g_autoptr(bw_nm_source_t) src = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_nm_source_open(NULL, &src, &detail);
    if (st != BW_OK) {
        fprintf(stderr, "bouncewatch setup: %s\n", detail ? detail : bw_status_to_string(st));
        return bw_cli_exit_code(st);
    }
    g_autofree char *self = bw_install_self();
    if (self == NULL) {
        fprintf(stderr, "%s\n", _("bouncewatch setup: cannot tell where this program is"));
        return BW_EXIT_SOFTWARE;
    }
    s.todo = g_ptr_array_new_with_free_func(g_free);
    if (s.dry_run)
        printf("%s\n", _("Dry run: nothing is changed."));
    /* The hook and the agent will run this very program: say so when it is
     * not the installed one (run from a build tree, say). */
    g_autofree char *installed = g_build_filename(BW_BINDIR, "bouncewatch", NULL);
    if (strcmp(self, installed) != 0) {
        g_autofree char *w = g_strdup_printf(_("this bouncewatch is %s, not the installed %s: the "
                                               "hook and the agent will run %s"),
                                             self, installed, self);
        say(_("note"), w);
    }
    setup_hook(&s, self, src);
    setup_agent(&s, self);

    /* The address is notmuch's setting: said, never set. */
    const char *value = NULL;
    bw_owner_trust_t trust = bw_nm_source_owner_trust(src, &value);
    if (trust != BW_OWNER_TRUSTED) {
        bw_owner_problem_t p = { .empty = trust == BW_OWNER_EMPTY,
                                 .value = g_strdup(value ? value : "") };
        p.suggested = bw_nm_source_guess_owner(src, NULL);
        g_auto(GStrv) lines = bw_owner_problem_lines(&p);
        g_autofree char *joined = g_strjoinv("\n    ", lines);
        todo(&s, g_steal_pointer(&joined));
        bw_owner_problem_clear(&p);
    }
    int rc = BW_EXIT_OK;
    if (s.todo->len > 0) {
        printf("\n%s\n", _("Still to do by you (bouncewatch does not change these itself):"));
        for (guint i = 0; i < s.todo->len; i++)
            printf("  - %s\n", (const char *)g_ptr_array_index(s.todo, i));
        rc = BW_EXIT_FAILURE;
    }
    if (s.failed)
        rc = BW_EXIT_FAILURE;
    if (!s.dry_run && rc == BW_EXIT_OK)
        printf("\n%s\n", _("Done: new mail is checked after each notmuch new.  Check it any time "
                           "with: bouncewatch doctor"));
    else if (!s.dry_run)
        printf("\n%s\n", _("Then check with: bouncewatch doctor"));
    g_ptr_array_unref(s.todo);
    return s.dry_run ? BW_EXIT_OK : rc;
}
