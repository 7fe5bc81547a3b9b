/* main.c: the bouncewatch program: option-less dispatch to one command per
 * file (cmd-*.c), after notmuch's command table. */
#include "config.h"
#include "cli.h"
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bw_command_t commands[] = {
    { "parse", bw_cmd_parse, N_("parse delivery reports and print what they say") },
    { "scan", bw_cmd_scan, N_("find backscatter in the notmuch database and say what to do") },
    { "hook", bw_cmd_hook, N_("run from notmuch's post-new hook: scan, tag and alert") },
    { "watch", bw_cmd_watch, N_("stay running and notify when a surge of backscatter starts") },
    { "setup", bw_cmd_setup, N_("protect your own mail: install the notmuch hook, start the agent") },
    { "doctor", bw_cmd_doctor, N_("check that bouncewatch really protects this mailbox") },
};

static void
usage(FILE *to)
{
    fprintf(to, _("Usage: bouncewatch COMMAND [OPTION...]\n\n"
                  "Find backscatter (bounces, auto-replies and complaints about mail you\n"
                  "never sent) in a notmuch mailbox.\n\nCommands:\n"));
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(to, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
    fprintf(to, _("\nRun 'bouncewatch COMMAND --help' for the options of a command.\n"
                  "See bouncewatch(1) and bouncewatch-config(5).\n"));
}

char **
bw_cli_unconfigured_lines(const bw_owner_problem_t *owner, const char *detail)
{
    if (owner != NULL && owner->value != NULL)
        return bw_owner_problem_lines(owner);
    return g_strsplit(detail != NULL ? detail : bw_status_to_string(BW_E_CONFIG), "\n", -1);
}

gboolean
bw_cli_now(gint64 *now_out)
{
    const char *env = g_getenv("BOUNCEWATCH_NOW");
    if (env != NULL && *env != '\0') {
        if (!bw_time_parse(env, now_out, NULL)) {
            fprintf(stderr, _("bouncewatch: BOUNCEWATCH_NOW=\"%s\" is not an RFC 3339 time; "
                              "use e.g. 2026-11-20T14:00:00+00:00 or unset it\n"), env);
            return FALSE;
        }
        return TRUE;
    }
    *now_out = g_get_real_time() / G_USEC_PER_SEC;
    return TRUE;
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* BOUNCEWATCH_LOCALEDIR: translations from elsewhere than the
     * installed ones (a build tree, the tests of the Japanese texts). */
    const char *localedir = g_getenv("BOUNCEWATCH_LOCALEDIR");
    bindtextdomain(GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    if (argc < 2) {
        usage(stderr);
        return BW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return BW_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("bouncewatch %s\n", PACKAGE_VERSION);
        return BW_EXIT_OK;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(commands[i].name, cmd) == 0) {
            if (bw_init() != BW_OK) {
                fprintf(stderr, _("bouncewatch: cannot initialise the core libraries\n"));
                /* The post-new hook never fails `notmuch new` (cmd-hook.c). */
                return strcmp(cmd, "hook") == 0 ? BW_EXIT_OK : bw_cli_exit_code(BW_E_INTERNAL);
            }
            int rc = commands[i].run(argc - 1, argv + 1);
            bw_shutdown();
            return rc;
        }
    }
    fprintf(stderr, _("bouncewatch: unknown command '%s'; run 'bouncewatch --help' for the list\n"), cmd);
    return BW_EXIT_USAGE;
}
