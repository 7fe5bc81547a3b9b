/* cli-common.c: what the engine's commands (scan, hook, watch) share. */
#include "config.h"
#include "cli.h"
#include <stdio.h>

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
