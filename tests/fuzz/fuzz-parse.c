/* fuzz-parse.c: libFuzzer target for the parser and its JSON writer.
 *
 * Built only by tests/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined
 * over the core's sources); not part of `make`.  Each input is one message as
 * it could arrive in a mailbox: attacker-written bytes.  It goes through
 *   - bw_parse_bytes() and, for every result, bw_report_to_json() and the
 *     JSON generator, exactly as `bouncewatch parse --json` prints it;
 *   - bw_parse_file() on the same bytes, because that path alone splits an
 *     mbox (inputs starting with "From ") and reads through a file;
 *   - bw_report_from_json() on the JSON, when the core has it, since the
 *     state store reloads reports that way: the reloaded report must write
 *     the same line again.
 * A crash, a sanitizer report, a leak or a run past -timeout is a finding. */
#include "bw.h"
#include "bw-scan.h"
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* bw_report_from_json lives in json.c, which may land after this target:
 * a weak reference keeps the target linking either way. */
#pragma weak bw_report_from_json

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean criticals_fatal = TRUE;

/* GMime and GLib may warn about broken input: expected here, and printing
 * it would only slow the fuzzer down.  A critical, though, is a
 * g_return_if_fail() tripping: the core passed something invalid to
 * GLib/GMime, a bug the input exposed.  It is printed and abort()ed so that
 * libFuzzer records the input (GLib's own fatal path raises SIGTRAP, which
 * libFuzzer does not catch).  BW_FUZZ_ALLOW_CRITICALS turns that off. */
static void
fuzz_log(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    (void)data;
    if ((level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) != 0 && criticals_fatal) {
        fprintf(stderr, "fuzz-parse: %s critical: %s\n", domain ? domain : "", message);
        abort();
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    criticals_fatal = g_getenv("BW_FUZZ_ALLOW_CRITICALS") == NULL;
    g_log_set_default_handler(fuzz_log, NULL);
    if (bw_init() != BW_OK)
        abort();
    return 0;
}

/* Serialise like the CLI does and, when available, reload and serialise
 * again: any inconsistency in the reloaded report crashes under ASan. */
static void
exercise_json(const bw_report_t *report, const char *file, int index, const char *error)
{
    JsonNode *node = bw_report_to_json(report, file, index, error);
    if (node == NULL)
        abort();    /* the writer must always produce a line (SPEC section 1) */
    JsonGenerator *gen = json_generator_new();
    json_generator_set_root(gen, node);
    gsize len = 0;
    char *text = json_generator_to_data(gen, &len);
    if (text == NULL || len == 0)
        abort();
    if (!g_utf8_validate(text, (gssize)len, NULL)) {
        /* JSON Lines must be valid UTF-8.  A finding, but a shallow one
         * once known: BW_FUZZ_UTF8_NONFATAL lets a long run go past it
         * (reporting it once) to reach deeper bugs. */
        static gboolean reported;
        if (g_getenv("BW_FUZZ_UTF8_NONFATAL") == NULL)
            abort();
        if (!reported) {
            fprintf(stderr, "fuzz-parse: invalid UTF-8 in the JSON line: %.300s\n", text);
            reported = TRUE;
        }
    }
    if (memchr(text, '\n', len) != NULL)
        abort();    /* one object per line: no raw newline may leak through */

    if (bw_report_from_json != NULL && report != NULL) {
        bw_report_t *back = NULL;
        char *detail = NULL;
        if (bw_report_from_json(node, &back, &detail) == BW_OK && back != NULL) {
            /* The state store keeps reports as this JSON: reloading must
             * lose nothing, so writing the reloaded report gives the same
             * line (true of every fixture and of the shared corpus). */
            JsonNode *again = bw_report_to_json(back, file, index, error);
            if (again == NULL)
                abort();
            JsonGenerator *gen2 = json_generator_new();
            json_generator_set_root(gen2, again);
            char *text2 = json_generator_to_data(gen2, NULL);
            if (strcmp(text, text2) != 0) {
                fprintf(stderr, "fuzz-parse: the reloaded report differs:\n  %.500s\n  %.500s\n",
                        text, text2);
                abort();
            }
            g_free(text2);
            g_object_unref(gen2);
            json_node_unref(again);
        }
        bw_report_free(back);
        g_free(detail);
    }
    g_free(text);
    g_object_unref(gen);
    json_node_unref(node);
}

static void
fuzz_bytes(const uint8_t *data, size_t size)
{
    bw_report_t *report = NULL;
    char *detail = NULL;
    bw_status_t st = bw_parse_bytes((const char *)data, size, &report, &detail);
    if (st == BW_OK) {
        if (report == NULL)
            abort();    /* BW_OK promises a result */
        exercise_json(report, "fuzz.eml", -1, NULL);
    } else {
        exercise_json(NULL, "fuzz.eml", -1, detail ? detail : bw_status_to_string(st));
    }
    bw_report_free(report);
    g_free(detail);
}

static void
fuzz_file(const uint8_t *data, size_t size)
{
    /* An anonymous in-memory file: no disk I/O, nothing left behind. */
    int fd = memfd_create("fuzz-mbox", MFD_CLOEXEC);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            close(fd);
            return;
        }
        off += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    bw_parsed_file_t *parsed = NULL;
    char *detail = NULL;
    bw_status_t st = bw_parse_file(path, &parsed, &detail);
    if (st == BW_OK) {
        if (parsed == NULL || parsed->messages->len == 0)
            abort();
        for (guint i = 0; i < parsed->messages->len; i++) {
            const bw_parse_result_t *m = g_ptr_array_index(parsed->messages, i);
            /* each message: a report, or its own one-line error */
            if ((m->status == BW_OK) != (m->report != NULL) || (m->status != BW_OK && m->detail == NULL))
                abort();
            exercise_json(m->report, path, parsed->is_mbox ? (int)i : -1, m->detail);
        }
        bw_parsed_file_free(parsed);
    } else {
        exercise_json(NULL, path, -1, detail ? detail : bw_status_to_string(st));
    }
    g_free(detail);
    close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bytes(data, size);
    /* The file path repeats the work of bw_parse_bytes for a single
     * message; spend it only where it reaches different code: mbox input. */
    if (size >= 5 && memcmp(data, "From ", 5) == 0)
        fuzz_file(data, size);
    return 0;
}
