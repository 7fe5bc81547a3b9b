/* cli.h: the commands of the bouncewatch program.  Each cmd-*.c file holds
 * one command; main.c dispatches through the table below.  Only the CLI
 * chooses exit codes (exitcode values below) and prints. */
#ifndef BW_CLI_H
#define BW_CLI_H

#include "bw.h"
#include "scanner.h"
#include <glib/gi18n.h>

/* Exit codes (after sysexits where one fits; 20 and 21 after notmuch).
 * Exactly these are returned, and docs/bouncewatch.1 (EXIT STATUS) lists
 * exactly these: tests/e2e/T120-help-man.sh compares the two. */
enum {
    BW_EXIT_OK = 0,
    BW_EXIT_FAILURE = 1,     /* an input of parse could not be read or is no mail
                                (SPEC section 1); the scan state cannot be used */
    BW_EXIT_FORMAT_TOO_OLD = 20, /* --format-version below BW_FORMAT_VERSION_MIN */
    BW_EXIT_FORMAT_TOO_NEW = 21, /* --format-version above BW_FORMAT_VERSION_CUR */
    BW_EXIT_USAGE = 64,      /* bad command line */
    BW_EXIT_UNAVAILABLE = 69,/* database locked / unavailable; another agent runs */
    BW_EXIT_SOFTWARE = 70,   /* internal error */
    BW_EXIT_CONFIG = 78,     /* configuration problem (no notmuch configuration,
                                no owner address) */
};

/* exitcode.c: the exit code for a status of the core or the adapters, the
 * one mapping from bw_status_t to exit codes. */
int bw_cli_exit_code(bw_status_t status);

typedef int (*bw_command_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    bw_command_fn run;
    const char *summary;      /* untranslated; translated at print time */
} bw_command_t;

/* Commands (argv[0] is the command name). */
int bw_cmd_parse(int argc, char **argv);
int bw_cmd_hook(int argc, char **argv);   /* cmd-hook.c */
int bw_cmd_watch(int argc, char **argv);  /* cmd-watch.c */
int bw_cmd_scan(int argc, char **argv);   /* cmd-scan.c */
int bw_cmd_setup(int argc, char **argv);  /* cmd-setup.c */
int bw_cmd_doctor(int argc, char **argv); /* cmd-doctor.c */

/* main.c: setlocale(LC_ALL, "") and the message catalogue, once (again:
 * nothing).  main() calls it before every command but `parse`, which calls
 * it before it makes or prints a text of its own; `parse --json` of
 * readable mail says nothing itself (the readers write the lines and set
 * their own locale), and setlocale() cost 0.15 ms (12 locale files read)
 * before the first reader could be started. */
void bw_cli_locale(void);

/* exitcode.c: BW_EXIT_OK when this program can write JSON format version
 * `asked`; otherwise prints why (naming `command`) and returns
 * BW_EXIT_FORMAT_TOO_OLD or BW_EXIT_FORMAT_TOO_NEW. */
int bw_cli_format_version_exit(const char *command, int asked);

/* What to tell the user when a scan gave BW_E_CONFIG, one line a string
 * (g_strfreev): the owner-address lines when that was the problem
 * (`owner`, filled by the scanner), else the scan's `detail` (no notmuch
 * configuration, no database named). */
char **bw_cli_unconfigured_lines(const bw_owner_problem_t *owner, const char *detail);

/* "now" for every command: BOUNCEWATCH_NOW (RFC 3339) or the wall clock.
 * Returns FALSE and prints an error when BOUNCEWATCH_NOW is malformed. */
gboolean bw_cli_now(gint64 *now_out);

#endif /* BW_CLI_H */
