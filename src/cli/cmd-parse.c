/* cmd-parse.c: `bouncewatch parse [--json] [--format-version=N] FILE...|-`
 * One result per message (per mbox message), in input order; a bad file gets
 * its own error line, the batch goes on, and the exit status is then 1
 * (shared/SPEC.md section 1, whatever the status of the failure).  The
 * mail is read by the confined reader process (src/adapters/reader.h): with
 * --json it writes the lines and this only passes them on; a message that
 * crashes or hangs it gets an error line and the batch goes on. */
#include "config.h"
#include "cli.h"
#include "reader.h"
#include <signal.h>
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

/* A line the program writes itself (an input that could not be read). */
static void
emit(gboolean json, const bw_report_t *r, const char *file, int index, const char *error)
{
    if (json) {
        g_autofree char *text = bw_report_to_json_string(r, file, index, error);
        fputs(text, stdout);
        fputc('\n', stdout);
    } else {
        print_summary(r, file, index, error);
    }
}

static gboolean
read_stdin(GBytes **data, char **error)
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
    *data = g_string_free_to_bytes(buf);
    return TRUE;
}

static void
reader_log(void *data, const char *line)
{
    (void)data;
    bw_cli_locale();
    fflush(stdout);   /* the lines before it first, as they were read */
    fprintf(stderr, "bouncewatch parse: %s\n", line);
}

/* What the user reads about a message the reader could not read safely
 * (it crashed, hung or broke the protocol on it); the JSON line carries
 * the reader's own English detail instead. */
static char *
fault_text(const bw_reader_result_t *res)
{
    switch (res->fault) {
    case BW_READER_FAULT_CRASH:
        if (res->signal == SIGXCPU)
            return g_strdup(_("reading this message took too long (CPU time limit); skipped"));
        if (res->signal != 0)
            return g_strdup_printf(_("the reader crashed on this message (signal %d); skipped"),
                                   res->signal);
        return g_strdup(_("the reader stopped on this message; skipped"));
    case BW_READER_FAULT_TIMEOUT:
        return g_strdup(_("reading this message took too long; skipped"));
    case BW_READER_FAULT_GARBAGE:
        return g_strdup(_("the reader gave an invalid answer on this message; skipped"));
    case BW_READER_FAULT_UNAVAILABLE:
        return g_strdup_printf(_("cannot read it: %s"), res->detail);
    case BW_READER_FAULT_NONE:
        break;
    }
    return g_strdup(res->detail);
}

/* The common command line, `parse [--json|-j]... FILE...` with no other
 * option and no file name starting with '-' but "-", read without GOption:
 * the same flag and the same files in the same order as its parse of
 * them (its G_OPTION_REMAINING entry takes every argument that is not an
 * option), and GLib's program name set as it sets it.  GOption built a
 * list cell, an array and a copy per file before the readers could start
 * (554,000 instructions for the 407 bounces, an eighth of the program's).
 * False for anything else (--help, --format-version, "--", an unknown
 * option...): GOption reads it. */
static gboolean
plain_arguments(int argc, char **argv, gboolean *json, char ***files)
{
    gboolean j = FALSE;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0)
            j = TRUE;
        else if (a[0] == '-' && a[1] != '\0')
            return FALSE;
        else
            n++;
    }
    if (n == 0)
        return FALSE;
    char **v = g_new(char *, (gsize)n + 1);
    int k = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") != 0 && strcmp(argv[i], "-j") != 0)
            v[k++] = g_strdup(argv[i]);
    v[k] = NULL;
    if (g_get_prgname() == NULL && argc > 0) {
        g_autofree char *name = g_path_get_basename(argv[0]);
        g_set_prgname(name);
    }
    *json = j;
    *files = v;
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
    gboolean plain = plain_arguments(argc, argv, &json, &files);
    /* The locale is set before any text of this program is made or
     * printed: now for the summary lines, --help and the option errors;
     * for plain JSON Lines only when standard input is read (its errors)
     * or the readers give something to say (reader_log, a fault below,
     * before_text: a system error's text) -- not at all when every input
     * is read.  (The readers set their own.) */
    if (!plain || !json)
        bw_cli_locale();
    for (int i = 0; plain && files[i] != NULL; i++)
        if (strcmp(files[i], "-") == 0)
            bw_cli_locale();
    if (!plain) {
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
    }
    int version_rc = bw_cli_format_version_exit("parse", format_version);
    if (version_rc != BW_EXIT_OK)
        return version_rc;
    if (files == NULL || files[0] == NULL) {
        fprintf(stderr, _("bouncewatch parse: no input; give one or more files, or - for standard input\n"));
        return BW_EXIT_USAGE;
    }

    /* Every message is read by the confined reader process (reader.h):
     * one for the batch, restarted after a message that stops it. */
    bw_reader_options_t ropts = { .mode = json ? BW_READER_LINES : BW_READER_REPORTS,
                                  .log = reader_log, .before_text = bw_cli_locale };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&ropts);
    guint n_files = g_strv_length(files);
    /* Standard input is read here, in its place: its error, if any, is
     * said in input order. */
    g_autoptr(GPtrArray) stdin_errors = g_ptr_array_new_full(n_files, g_free);
    for (guint i = 0; i < n_files; i++) {
        char *error = NULL;
        if (strcmp(files[i], "-") == 0) {
            g_autoptr(GBytes) data = NULL;
            if (read_stdin(&data, &error))
                bw_reader_add_data(reader, data);
        } else {
            bw_reader_add_file(reader, files[i], 0, false);
        }
        g_ptr_array_add(stdin_errors, error);
    }
    bw_reader_no_more_inputs(reader);

    /* A file or a pipe gets the lines in large writes. */
    static char outbuf[65536];
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    int rc = BW_EXIT_OK;
    gboolean said_unavailable = FALSE;
    bw_reader_result_t res;
    for (guint i = 0; i < n_files; i++) {
        const char *file = files[i];
        const char *error = g_ptr_array_index(stdin_errors, i);
        if (error != NULL) {
            emit(json, NULL, file, -1, error);
            rc = BW_EXIT_FAILURE;
            continue;
        }
        /* This input's answers, up to its end. */
        while (bw_reader_next(reader, &res) && !res.end) {
            if (res.fault != BW_READER_FAULT_NONE) {
                bw_cli_locale();
                g_autofree char *said = fault_text(&res);
                emit(json, NULL, file, res.index, json ? res.detail : said);
                /* Said on standard error too: a JSON consumer may not
                 * show its error lines to anyone.  (A reader that cannot
                 * run is said once.) */
                fflush(stdout);
                if (res.fault == BW_READER_FAULT_UNAVAILABLE) {
                    if (!said_unavailable)
                        fprintf(stderr, "bouncewatch parse: %s\n", said);
                    said_unavailable = TRUE;
                } else if (res.index >= 0)
                    fprintf(stderr, "bouncewatch parse: %s [%d]: %s\n", file, res.index, said);
                else
                    fprintf(stderr, "bouncewatch parse: %s: %s\n", file, said);
                rc = res.fault == BW_READER_FAULT_UNAVAILABLE ? bw_cli_exit_code(BW_E_INTERNAL)
                   : MAX(rc, BW_EXIT_FAILURE);
                continue;
            }
            if (res.status != BW_OK && rc == BW_EXIT_OK)
                rc = BW_EXIT_FAILURE;
            if (json) {
                fwrite(res.line, 1, res.line_len, stdout);
                fputc('\n', stdout);
            } else {
                print_summary(res.report, file, res.index, res.status == BW_OK ? NULL : res.detail);
                bw_report_free(res.report);
            }
        }
        /* Written when the next answer is not there yet (or at exit),
         * not line by line: a write per line cost as much as the merge. */
        if (!bw_reader_ready(reader))
            fflush(stdout);
    }
    /* The last lines go out now, while the readers exit (freeing the
     * reader waits for them), not after. */
    fflush(stdout);
    return rc;
}
