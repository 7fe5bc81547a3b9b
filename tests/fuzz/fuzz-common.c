/* fuzz-common.c: the helpers of fuzz-common.h. */
#include "fuzz-common.h"
#include "bw-private.h"
#include "bw-engine.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *target_name = "fuzz";
static gboolean criticals_fatal = TRUE;

void
bw_fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", target_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* A critical is a g_return_if_fail() tripping: the core passed something
 * invalid to GLib, GMime or json-glib, a bug the input exposed. */
static void
fuzz_log(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    (void)data;
    if ((level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) != 0 && criticals_fatal)
        bw_fuzz_fail("%s critical: %s", domain ? domain : "", message);
}

static GLogWriterOutput
fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    (void)data;
    const char *domain = NULL, *message = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
            domain = fields[i].value;
        else if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
            message = fields[i].value;
    }
    fuzz_log(domain, level, message ? message : "", NULL);
    return G_LOG_WRITER_HANDLED;
}

void
bw_fuzz_init(const char *target)
{
    target_name = target;
    criticals_fatal = g_getenv("BW_FUZZ_ALLOW_CRITICALS") == NULL;
    g_log_set_default_handler(fuzz_log, NULL);
    /* Code built with G_LOG_USE_STRUCTURED logs through the writer, not
     * the default handler. */
    g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
    if (bw_init() != BW_OK)
        bw_fuzz_fail("bw_init failed");
    /* The engine keeps the CUSUM thresholds it computed in a file under
     * $XDG_CACHE_HOME: nothing outside the process here. */
    bw_cusum_cache_set_path(NULL);
}

char *
bw_fuzz_json_text(JsonNode *node, const char *what)
{
    if (node == NULL)
        bw_fuzz_fail("%s: no JSON", what);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, node);
    gsize len = 0;
    char *text = json_generator_to_data(gen, &len);
    if (text == NULL || len == 0)
        bw_fuzz_fail("%s: empty JSON", what);
    if (!g_utf8_validate(text, (gssize)len, NULL)) {
        /* JSON must be valid UTF-8.  A finding, but a shallow one once
         * known: BW_FUZZ_UTF8_NONFATAL lets a long run go past it
         * (reporting it once) to reach deeper bugs. */
        static gboolean reported;
        if (g_getenv("BW_FUZZ_UTF8_NONFATAL") == NULL)
            bw_fuzz_fail("%s: invalid UTF-8 in the JSON: %.300s", what, text);
        if (!reported)
            fprintf(stderr, "%s: %s: invalid UTF-8 in the JSON: %.300s\n", target_name, what, text);
        reported = TRUE;
    }
    if (memchr(text, '\n', len) != NULL)
        bw_fuzz_fail("%s: a raw line end in the JSON", what);
    return text;
}

JsonNode *
bw_fuzz_json_parse(const char *text, size_t len)
{
    char *why = NULL;
    bw_status_t st = bw_caps_check_json(text, len, &why);
    g_free(why);
    if (st != BW_OK)
        return NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)len, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    return root != NULL ? json_node_copy(root) : NULL;
}

/* The line `bouncewatch parse --json` prints, checked and read back. */
static JsonNode *
printed_line(const bw_report_t *report, const char *file, int index, const char *error,
             char **line_out)
{
    char *line = bw_report_to_json_string(report, file, index, error);
    if (line == NULL || *line == '\0')
        bw_fuzz_fail("bw_report_to_json_string wrote nothing");
    size_t len = strlen(line);
    if (!g_utf8_validate(line, (gssize)len, NULL))
        bw_fuzz_fail("the parse line is not valid UTF-8: %.300s", line);
    if (memchr(line, '\n', len) != NULL)
        bw_fuzz_fail("the parse line holds a raw line end: %.300s", line);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    if (!json_parser_load_from_data(parser, line, (gssize)len, &err))
        bw_fuzz_fail("the parse line is not JSON (%s): %.300s", err->message, line);
    *line_out = line;
    return json_node_copy(json_parser_get_root(parser));
}

void
bw_fuzz_check_report(const bw_report_t *report, const char *file, int index, const char *error)
{
    g_autofree char *line = NULL;
    JsonNode *printed = printed_line(report, file, index, error, &line);
    JsonNode *tree = bw_report_to_json(report, file, index, error);
    if (tree == NULL)
        bw_fuzz_fail("bw_report_to_json gave no object");   /* SPEC section 1: always a line */
    g_free(bw_fuzz_json_text(tree, "bw_report_to_json"));
    if (!json_node_equal(printed, tree))
        bw_fuzz_fail("the parse line and bw_report_to_json differ: %.500s", line);

    if (report != NULL && error == NULL) {
        /* The state store keeps reports as this JSON: reloading loses
         * nothing, so the reloaded report prints the same line. */
        bw_report_t *back = NULL;
        char *detail = NULL;
        if (bw_report_from_json(tree, &back, &detail) != BW_OK || back == NULL)
            bw_fuzz_fail("bw_report_from_json refused our own line (%s): %.500s",
                         detail ? detail : "?", line);
        g_autofree char *again = bw_report_to_json_string(back, file, index, error);
        if (strcmp(line, again) != 0)
            bw_fuzz_fail("the reloaded report differs:\n  %.500s\n  %.500s", line, again);
        bw_report_free(back);
        g_free(detail);
    }
    json_node_unref(tree);
    json_node_unref(printed);
}

size_t
bw_fuzz_split(const char *data, size_t size, const char *sep, bw_fuzz_piece_t *out, size_t max)
{
    size_t n = 0, start = 0, pos = 0, seplen = strlen(sep);
    while (pos < size && n + 1 < max) {
        const char *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        if (end - pos == seplen && memcmp(data + pos, sep, seplen) == 0) {
            out[n].data = data + start;
            out[n].len = pos - start;
            n++;
            start = nl != NULL ? end + 1 : size;
        }
        pos = nl != NULL ? end + 1 : size;
    }
    out[n].data = data + start;
    out[n].len = size - start;
    return n + 1;
}
