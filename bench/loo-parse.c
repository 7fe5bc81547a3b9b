/* loo-parse.c: `bouncewatch parse --json` with vendor-table rows switched
 * off, for bench/leave-one-family-out.py (built with `make check`, never
 * installed).
 *
 *   loo-parse [--without FAMILY[,FAMILY...]|--without-all] FILE...
 *
 * Prints one JSON line per message, as `bouncewatch parse --json` does.
 * The switch is bw_vendor_row_off (bw-vendor.h): this program sets it;
 * nothing in the shipped program does, so there every row is on. */
#include "bw.h"
#include "bw-vendor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gchar **without;    /* family names switched off */
static bool without_all;

static bool
row_off(const char *family)
{
    if (without_all)
        return true;
    for (gchar **w = without; w != NULL && *w != NULL; w++)
        if (g_strcmp0(*w, family) == 0)
            return true;
    return false;
}

int
main(int argc, char **argv)
{
    bw_vendor_row_off = row_off;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--without") == 0 && i + 1 < argc) {
            g_strfreev(without);
            without = g_strsplit(argv[++i], ",", -1);
        } else if (strcmp(argv[i], "--without-all") == 0) {
            without_all = true;
        } else if (strcmp(argv[i], "--list-families") == 0) {
            for (size_t f = 0; f < bw_families_count; f++)
                printf("%s\n", bw_families[f].name);
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            fprintf(stderr, "usage: loo-parse [--without FAMILY[,...]|--without-all|--list-families] FILE...\n");
            return 64;
        }
    }
    if (bw_init() != BW_OK)
        return 70;
    int rc = 0;
    for (; i < argc; i++) {
        g_autoptr(bw_parsed_file_t) parsed = NULL;
        g_autofree char *detail = NULL;
        bw_status_t st = bw_parse_file(argv[i], &parsed, &detail);
        if (st != BW_OK) {
            g_autofree char *line = bw_report_to_json_string(NULL, argv[i], -1,
                                                             detail != NULL ? detail : bw_status_to_string(st));
            puts(line);
            rc = 1;
            continue;
        }
        for (guint k = 0; k < parsed->messages->len; k++) {
            const bw_parse_result_t *m = g_ptr_array_index(parsed->messages, k);
            g_autofree char *line = bw_report_to_json_string(m->report, argv[i], parsed->is_mbox ? (int)k : -1,
                                                             m->detail);
            puts(line);
            if (m->status != BW_OK)
                rc = 1;
        }
    }
    g_strfreev(without);
    return rc;
}
