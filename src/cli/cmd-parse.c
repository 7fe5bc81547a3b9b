/* cmd-parse.c: `bouncewatch parse [--json] [--format-version=N] FILE...|-`
 * One result per message (per mbox message), in input order; a bad file gets
 * its own error line, the batch goes on, and the exit status is then 1
 * (shared/SPEC.md section 1, whatever the status of the failure). */
#include "config.h"
#include "cli.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
print_summary(const bw_report_t *r, const char *file, int index, const char *error)
{
    if (index >= 0)
        printf("%s [%d]: ", file, index);
    else
        printf("%s: ", file);
    if (error != NULL) {
        printf(_("error: %s\n"), error);
        return;
    }
    if (!r->bounce) {
        printf(_("not a delivery report\n"));
        return;
    }
    printf("%s", bw_kind_to_string(r->kind));
    if (r->family != NULL)
        printf(" (%s)", r->family);
    printf("\n");
    for (guint i = 0; r->recipients != NULL && i < r->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        printf("  %s  %s %s  %s\n", rc->address ? rc->address : "-",
               rc->status ? rc->status : "-", rc->action ? rc->action : "-",
               bw_reason_to_string(rc->reason));
        if (rc->diagnostic != NULL)
            printf("    %s\n", rc->diagnostic);
    }
    if (r->original != NULL) {
        const bw_original_t *o = r->original;
        printf(_("  original: %s from %s, \"%s\"\n"), o->message_id ? o->message_id : "-",
               o->from ? o->from : "-", o->subject ? o->subject : "");
    }
}

static void
emit(gboolean json, const bw_report_t *r, const char *file, int index, const char *error)
{
    if (json) {
        /* Direct writer: same object as bw_report_to_json, much cheaper. */
        g_autofree char *text = bw_report_to_json_string(r, file, index, error);
        fputs(text, stdout);
        fputc('\n', stdout);
    } else {
        print_summary(r, file, index, error);
    }
}

static gboolean
read_stdin(char **data, gsize *len, char **error)
{
    GString *buf = g_string_new(NULL);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        if (buf->len + n > BW_MAX_MESSAGE_BYTES) {
            g_string_free(buf, TRUE);
            *error = g_strdup_printf(_("message larger than %u MiB"), BW_MAX_MESSAGE_BYTES >> 20);
            return FALSE;
        }
        g_string_append_len(buf, chunk, (gssize)n);
    }
    if (ferror(stdin)) {
        g_string_free(buf, TRUE);
        *error = g_strdup(_("cannot read standard input"));
        return FALSE;
    }
    *len = buf->len;
    *data = g_string_free(buf, FALSE);
    return TRUE;
}

int
bw_cmd_parse(int argc, char **argv)
{
    gboolean json = FALSE;
    gint format_version = BW_FORMAT_VERSION_CUR;
    g_auto(GStrv) files = NULL;
    GOptionEntry entries[] = {
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_("print JSON Lines (fields: bouncewatch-json(7))"), NULL },
        { "format-version", 0, 0, G_OPTION_ARG_INT, &format_version,
          N_("write JSON format version N (exit 20: N too old, 21: too new)"), N_("N") },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, N_("FILE...|-") },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    /* The G_OPTION_REMAINING entry names FILE...|- in the usage line. */
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, _("Parse each file as one e-mail message (an mbox file as each of its\n"
                                        "messages) and print what the delivery report in it says."));
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "bouncewatch parse: %s; run 'bouncewatch parse --help'\n", err->message);
        return BW_EXIT_USAGE;
    }
    int version_rc = bw_cli_format_version_exit("parse", format_version);
    if (version_rc != BW_EXIT_OK)
        return version_rc;
    if (files == NULL || files[0] == NULL) {
        fprintf(stderr, _("bouncewatch parse: no input; give one or more files, or - for standard input\n"));
        return BW_EXIT_USAGE;
    }

    int rc = BW_EXIT_OK;
    for (char **f = files; *f != NULL; f++) {
        g_autofree char *detail = NULL;
        if (strcmp(*f, "-") == 0) {
            char *data = NULL;
            gsize len = 0;
            g_autofree char *error = NULL;
            if (!read_stdin(&data, &len, &error)) {
                emit(json, NULL, "-", -1, error);
                rc = BW_EXIT_FAILURE;
                continue;
            }
            bw_report_t *r = NULL;
            bw_status_t st = bw_parse_bytes(data, len, &r, &detail);
            g_free(data);
            if (st != BW_OK) {
                emit(json, NULL, "-", -1, detail ? detail : bw_status_to_string(st));
                rc = BW_EXIT_FAILURE;
            } else {
                emit(json, r, "-", -1, NULL);
            }
            bw_report_free(r);
            continue;
        }
        bw_parsed_file_t *parsed = NULL;
        bw_status_t st = bw_parse_file(*f, &parsed, &detail);
        if (st != BW_OK) {
            emit(json, NULL, *f, -1, detail ? detail : bw_status_to_string(st));
            rc = BW_EXIT_FAILURE;
            continue;
        }
        /* Each message of an mbox gets its line at its own index, a damaged
         * one an error line (and the exit status 1). */
        for (guint i = 0; i < parsed->messages->len; i++) {
            const bw_parse_result_t *m = g_ptr_array_index(parsed->messages, i);
            emit(json, m->report, *f, parsed->is_mbox ? (int)i : -1, m->detail);
            if (m->status != BW_OK)
                rc = BW_EXIT_FAILURE;
        }
        bw_parsed_file_free(parsed);
        fflush(stdout);
    }
    return rc;
}
