/* bw-vendor.h: internals of the vendor-notice detectors, the reading of one
 * recipient's text and the reason tables (vendor*.c, diagnostic.c,
 * reason.c).  Not part of the API. */
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
/* Whether any pattern occurs in the first `len` bytes of `text` (NULL or
 * empty: no); the scan stops at the first.  Inline, as the copies in
 * autoreply.c and generic.c it replaces were: a call more per phrase test
 * cost ~0.05% of a parse. */
static inline bool
bw_matcher_stop_at_first_(size_t id, size_t start, size_t end, void *data)
{
    (void)id;
    (void)start;
    (void)end;
    *(bool *)data = true;
    return false;
}

static inline bool
bw_matcher_any(const bw_matcher_t *m, const char *text, size_t len)
{
    bool found = false;
    if (text != NULL && len > 0)
        bw_matcher_scan(m, text, len, bw_matcher_stop_at_first_, &found);
    return found;
}

/* ------------------------------------------------------------------ view
 * (the parser's message view, declared in bw-private.h) */

/* reason.c helpers used by vendor.c: the reason of a text phrase with its
 * weight (0 when none), so a caller can compare evidence. */
bw_reason_t bw_reason_from_text_weighted(const char *text, size_t len, int *weight_out);

/* reason.c: the first RFC 3463 code in a text (failure codes before success
 * codes; IP addresses and version numbers are not codes), g_malloc'd. */
char *bw_status_code_find(const char *s, size_t n);
/* The length of an RFC 3463 code "c.sss.ddd" at s[i] (not part of an IP
 * address or a version number), or 0. */
size_t bw_status_code_at(const char *s, size_t n, size_t i);

/* ------------------------------------------------------------------ diagnostic.c
 * What a notice's text says about one failed recipient (vendor.c and
 * generic.c read a recipient's block with these). */

/* An address starting at s (after optional "<", quotes, "mailto:"); the
 * lower-cased local@domain or NULL.  *used gets the bytes consumed. */
char *bw_address_at(const char *s, size_t n, size_t *used);
/* The first failure SMTP reply code (4xx/5xx) of a text, else the first
 * success code, g_malloc'd, or NULL. */
char *bw_reply_code_find(const char *s, size_t n);
/* The server's own words in a block: from the first line that carries a
 * failure code (4xx/5xx reply or 4.x.x/5.x.x status) to the end of its
 * paragraph, into [*b, *e); false when no line has a code. */
bool bw_diagnostic_paragraph(const char *s, size_t n, size_t *b, size_t *e);
/* Fills what is still missing of a recipient (diagnostic, status, reply
 * code, remote MTA, action, original_address) from the text about it;
 * `delayed` when the notice is a warning. */
void bw_diagnostic_fill(bw_recipient_t *r, const char *blk, size_t n, bool delayed);
/* The status inferred from the reply code and the text when the notice
 * gives none (`fallback` when nothing says a reason), so that every failed
 * recipient carries an RFC 3463 code. */
void bw_diagnostic_infer_status(bw_recipient_t *r, bw_reason_t fallback);

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
