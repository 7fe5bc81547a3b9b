/* exitcode.c: the exit codes of the bouncewatch program, in one place.
 * Only the CLI picks exit codes; docs/bouncewatch.1 (EXIT STATUS) lists
 * exactly these, and tests/e2e/T120-help-man.sh checks the two agree. */
#include "config.h"
#include "cli.h"
#include <stdio.h>

int
bw_cli_exit_code(bw_status_t status)
{
    switch (status) {
    case BW_OK:
        return BW_EXIT_OK;
    case BW_E_IO:
    case BW_E_NOT_MAIL:
    case BW_E_TOO_LARGE:
    case BW_E_REFUSED:
    case BW_E_STATE:
        return BW_EXIT_FAILURE;
    case BW_E_INVALID:
        return BW_EXIT_USAGE;
    case BW_E_DATABASE:
        return BW_EXIT_UNAVAILABLE;
    case BW_E_CONFIG:
        return BW_EXIT_CONFIG;
    case BW_E_NOMEM:
    case BW_E_INTERNAL:
    case BW_STATUS_LAST:
        break;
    }
    return BW_EXIT_SOFTWARE;
}

int
bw_cli_format_version_exit(const char *command, int asked)
{
    if (asked < BW_FORMAT_VERSION_MIN) {
        fprintf(stderr, _("bouncewatch %s: JSON format version %d is older than the oldest this "
                          "bouncewatch can write (%d); update the program that asked for it\n"),
                command, asked, BW_FORMAT_VERSION_MIN);
        return BW_EXIT_FORMAT_TOO_OLD;
    }
    if (asked > BW_FORMAT_VERSION_CUR) {
        fprintf(stderr, _("bouncewatch %s: JSON format version %d is newer than this bouncewatch "
                          "knows (%d); upgrade bouncewatch\n"),
                command, asked, BW_FORMAT_VERSION_CUR);
        return BW_EXIT_FORMAT_TOO_NEW;
    }
    return BW_EXIT_OK;
}
