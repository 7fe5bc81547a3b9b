/* bw-vendor.h: internals of the vendor-notice detectors and reason tables
 * (vendor*.c, reason.c).  Not part of the API. */
#ifndef BW_VENDOR_H
#define BW_VENDOR_H

#include "bw-private.h"

/* ------------------------------------------------------------------ matcher
 * A multi-pattern matcher (Aho-Corasick) over fixed strings: one pass over
 * the text whatever the number of patterns, no backtracking, so attacker
 * text cannot make it slow (the regex engines of other bounce parsers were
 * the subject of ReDoS reports).
 *
 * Matching is ASCII case-insensitive and treats every run of white space
 * (space, tab, CR, LF...) in the text and in the patterns as one space, so
 * a phrase matches across the line breaks of a wrapped notice.  A pattern
 * starting with '^' only matches at the start of a line (after optional
 * blanks and '>' quote marks).  Patterns longer than BW_MATCH_MAX_PATTERN bytes are ignored. */
#define BW_MATCH_MAX_PATTERN 200

typedef struct bw_matcher bw_matcher_t;

/* Builds the automaton for `n` patterns; pattern i reports id i.  The
 * strings are copied.  Duplicate patterns are allowed (each id reported). */
bw_matcher_t *bw_matcher_new(const char *const *patterns, size_t n);
void bw_matcher_free(bw_matcher_t *m);

/* Called for each occurrence: `start`/`end` are byte offsets into the text
 * (end exclusive).  Return false to stop the scan. */
typedef bool (*bw_match_fn)(size_t id, size_t start, size_t end, void *data);

/* Scans the first `len` bytes of `text` (NUL bytes end it early). */
void bw_matcher_scan(const bw_matcher_t *m, const char *text, size_t len,
                     bw_match_fn fn, void *data);

/* ------------------------------------------------------------------ view
 * (the parser's message view, declared in bw-private.h) */

/* reason.c helpers used by vendor.c: the reason of a text phrase with its
 * weight (0 when none), so a caller can compare evidence. */
bw_reason_t bw_reason_from_text_weighted(const char *text, size_t len, int *weight_out);

/* vendor.c: the first RFC 3463 code in a text (failure codes before success
 * codes; IP addresses and version numbers are not codes), g_malloc'd. */
char *bw_vendor_find_status(const char *s, size_t n);

/* ------------------------------------------------------------------ families
 * One row per family of notices (vendor-table.c): data only. */
enum {
    /* 1 << 0 was the generic row's flag: generic.c reads those now */
    BW_FAM_NO_LINE_RCPT = 1 << 1,     /* the text names people who are not
                                         recipients (greetings, list
                                         commands): trust only the header
                                         and the family's recipient phrases */
    BW_FAM_SES_JSON = 1 << 2,         /* Amazon SES/SNS JSON notification */
    BW_FAM_NEEDS_HEADER = 1 << 3,     /* body markers too common to decide
                                         alone: From/Subject/headers must
                                         match too */
};

typedef struct {
    const char *name;                 /* report->family */
    const char *const *from;          /* NULL-terminated lists, or NULL */
    const char *const *subject;
    const char *const *headers;
    const char *const *body;
    const char *const *start;
    const char *const *end;
    const char *const *rcpt;
    unsigned flags;
    bw_reason_t fallback;             /* what a notice of this family means
                                         when its text names no cause (a
                                         Google Groups notice: the group
                                         refused the post); UNKNOWN = none */
} bw_family_t;

extern const bw_family_t bw_families[];
extern const size_t bw_families_count;

/* Benchmarks and tests only: when set, every family row it says true for
 * is switched off.  Only bench/loo-parse (the leave-one-family-out reader)
 * and the unit tests set it; nothing in the shipped program does, no
 * option, no environment variable: there every row is on. */
extern bool (*bw_vendor_row_off)(const char *family);
extern const char *const bw_rcpt_prefixes[];
extern const char *const bw_original_markers[];

#endif /* BW_VENDOR_H */
