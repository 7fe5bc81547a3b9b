/* fuzz-common.h: what the libFuzzer targets of tests/fuzz share.
 *
 * Each target (tests/fuzz/fuzz-NAME.c) defines LLVMFuzzerInitialize and
 * LLVMFuzzerTestOneInput and is built twice:
 *   - by tests/fuzz/run.sh with clang -fsanitize=fuzzer,address,undefined,
 *     to fuzz it;
 *   - by `make check` with the ordinary compiler and replay-main.c instead
 *     of libFuzzer's runtime (tests/fuzz/replay-NAME), which runs the same
 *     checks over the target's kept findings and seeds (tests/fuzz/crashes/
 *     NAME/, tests/fuzz/seeds/NAME/) in the normal and sanitizer builds.
 * A finding is anything that stops the process: a crash, a sanitizer
 * report, a leak, an abort() from one of the checks below (a GLib critical,
 * a JSON line that is not valid UTF-8, a reloaded report that differs...),
 * or an input that runs past the time limit.
 *
 * The targets call the core through its public and internal functions by
 * name only (bw.h, bw-scan.h, bw-parse.h...), never through a file's
 * static helpers, so that moving the core's files does not break them. */
#ifndef BW_FUZZ_COMMON_H
#define BW_FUZZ_COMMON_H

#include "bw.h"
#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything a target needs before its first input: GLib's log handler (a
 * critical or error is a finding: printed and abort()ed, since GLib's own
 * fatal path raises SIGTRAP, which libFuzzer does not catch; warnings about
 * broken input are expected and dropped), bw_init(), and no file written
 * outside the process (the CUSUM threshold cache is kept in memory).
 * `target` names the target in messages.  BW_FUZZ_ALLOW_CRITICALS turns
 * the criticals check off for a long run that wants to get past one. */
void bw_fuzz_init(const char *target);

/* Prints "TARGET: <message>" and abort()s: libFuzzer keeps the input. */
void bw_fuzz_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

/* The compact text of a JSON tree, checked as every JSON line we print
 * must be: not empty, valid UTF-8, no raw line end.  (BW_FUZZ_UTF8_NONFATAL
 * reports invalid UTF-8 once instead of failing, for long runs.)  g_free. */
char *bw_fuzz_json_text(JsonNode *node, const char *what);

/* The checks of one parse result, as `bouncewatch parse --json` and the
 * state store use it: the line written by bw_report_to_json_string (what
 * parse prints) is valid JSON equal to the tree of bw_report_to_json; the
 * report reloaded by bw_report_from_json (what the state store does) writes
 * the same line again.  `report` may be NULL when `error` is set. */
void bw_fuzz_check_report(const bw_report_t *report, const char *file, int index,
                          const char *error);

/* A JSON text read the way the core reads JSON it did not write: only
 * after bw_caps_check_json (json-glib recurses once per level).  NULL when
 * the caps refuse it or it is not strict JSON; else the root (unref). */
JsonNode *bw_fuzz_json_parse(const char *text, size_t len);

/* Splits `data` at every line that holds only `sep` (the separator lines
 * are dropped).  At most `max` pieces; the last one holds the rest.
 * Returns the number of pieces (at least 1). */
typedef struct {
    const char *data;
    size_t len;
} bw_fuzz_piece_t;
size_t bw_fuzz_split(const char *data, size_t size, const char *sep,
                     bw_fuzz_piece_t *out, size_t max);

#endif /* BW_FUZZ_COMMON_H */
