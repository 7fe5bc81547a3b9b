/* fuzz-parse.c: the parser and its JSON line, on one message.
 *
 * fuzz-options: -max_len=200000 -timeout=10
 * fuzz-dict: mail.dict
 *
 * Each input is one message as it could arrive in a mailbox: attacker-
 * written bytes.  It goes through
 *   - bw_parse_bytes() and, for the result or the error, the checks of
 *     bw_fuzz_check_report(): the line `bouncewatch parse --json` prints is
 *     valid UTF-8 JSON, equal to bw_report_to_json()'s tree, and the report
 *     reloaded by bw_report_from_json() (the state store) prints it again;
 *   - bw_parse_file() on the same bytes when they start with "From ",
 *     because that path alone splits an mbox and reads through a file.
 * BW_OK promises a report; an error promises a detail. */
#include "fuzz-common.h"
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bw_fuzz_init("fuzz-parse");
    return 0;
}

static void
fuzz_bytes(const uint8_t *data, size_t size)
{
    bw_report_t *report = NULL;
    char *detail = NULL;
    bw_status_t st = bw_parse_bytes((const char *)data, size, &report, &detail);
    if (st == BW_OK) {
        if (report == NULL)
            bw_fuzz_fail("BW_OK without a report");
        bw_fuzz_check_report(report, "fuzz.eml", -1, NULL);
    } else {
        bw_fuzz_check_report(NULL, "fuzz.eml", -1, detail ? detail : bw_status_to_string(st));
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
            bw_fuzz_fail("bw_parse_file: BW_OK without a result");
        for (guint i = 0; i < parsed->messages->len; i++) {
            const bw_parse_result_t *m = g_ptr_array_index(parsed->messages, i);
            /* each message: a report, or its own one-line error */
            if ((m->status == BW_OK) != (m->report != NULL) || (m->status != BW_OK && m->detail == NULL))
                bw_fuzz_fail("bw_parse_file: message %u has status %d, report %p, detail %p", i,
                             m->status, (void *)m->report, (void *)m->detail);
            bw_fuzz_check_report(m->report, path, parsed->is_mbox ? (int)i : -1, m->detail);
        }
        bw_parsed_file_free(parsed);
    } else {
        bw_fuzz_check_report(NULL, path, -1, detail ? detail : bw_status_to_string(st));
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
