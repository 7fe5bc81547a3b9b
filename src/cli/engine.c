/* engine.c: the entry of the engine module (bouncewatch-engine.so): the
 * commands that read the notmuch database, keep the state in SQLite and
 * notify (scan, hook, watch, setup, doctor).
 *
 * bouncewatch itself links only the core and the reader's client, so that
 * `bouncewatch parse`, --version and --help load none of notmuch, Xapian,
 * libstdc++, SQLite or libnotify (their dynamic linking was most of the
 * program's start); main.c dlopen()s this module for the other commands.
 * The module carries its own copy of the core (only bw_engine_* is
 * exported), initialised here. */
#include "config.h"
#include "cli.h"
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    bw_command_fn run;
} engine_commands[] = {
    { "scan", bw_cmd_scan },
    { "hook", bw_cmd_hook },
    { "watch", bw_cmd_watch },
    { "setup", bw_cmd_setup },
    { "doctor", bw_cmd_doctor },
};

const char bw_engine_version[] = PACKAGE_VERSION;

int
bw_engine_command(int argc, char **argv)
{
    for (size_t i = 0; i < G_N_ELEMENTS(engine_commands); i++) {
        if (strcmp(engine_commands[i].name, argv[0]) != 0)
            continue;
        if (bw_init() != BW_OK) {
            fprintf(stderr, _("bouncewatch: cannot initialise the core libraries\n"));
            /* The post-new hook never fails `notmuch new` (cmd-hook.c). */
            return strcmp(argv[0], "hook") == 0 ? BW_EXIT_OK : bw_cli_exit_code(BW_E_INTERNAL);
        }
        int rc = engine_commands[i].run(argc, argv);
        bw_shutdown();
        return rc;
    }
    fprintf(stderr, _("bouncewatch: unknown command '%s'; run 'bouncewatch --help' for the list\n"),
            argv[0]);
    return BW_EXIT_USAGE;
}
