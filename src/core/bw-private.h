/* bw-private.h: internals shared by the core's files; not part of the API. */
#ifndef BW_PRIVATE_H
#define BW_PRIVATE_H

#include "bw.h"
#include <gmime/gmime.h>
#include <glib/gi18n-lib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* GMime 3.2 defines no autoptr cleanups: add them once, here. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_original_t, bw_original_free)

/* json.c: a member holding a string (null when value is NULL), and one
 * holding an array of the strings of a GPtrArray (empty when NULL).  Shared
 * by the parse output and the scan document so both write alike. */
void bw_json_add_str(JsonBuilder *b, const char *key, const char *value);
void bw_json_add_strv(JsonBuilder *b, const char *key, const GPtrArray *values);

/* How many of each list a report keeps: the To addresses (the report's
 * own and its original's), the original's Received values, URL domains
 * and the report's References.  Every reader that fills one stops there
 * and the state store's reload (json.c) keeps as many, so a report read
 * back from the state is the report that was parsed. */
#define BW_KEEP_TO             100
#define BW_KEEP_RECEIVED       64
#define BW_KEEP_URL_DOMAINS    32
#define BW_KEEP_REFERENCES     64

/* caps.c: the refusal of the message being parsed, per thread.  parse.c
 * calls bw_refusal_begin() before a message and bw_refusal_end() after it
 * (NULL, or the g_malloc'd detail, which the caller frees); a cap check deep
 * in the parser records its detail with bw_refuse() (taken; the first one
 * stays) and the message is refused (BW_E_REFUSED). */
void bw_refusal_begin(void);
void bw_refuse(char *why);
bool bw_refused(void);
char *bw_refusal_end(void);

/* caps.c: checks one JSON text before json-glib reads it.  BW_OK when it is
 * one strict RFC 8259 value within BW_MAX_JSON_DEPTH, BW_MAX_JSON_VALUES and
 * BW_MAX_JSON_BYTES; BW_E_REFUSED (*why: the refusal detail, g_malloc'd)
 * past a cap; BW_E_INVALID when it is not strict JSON (json-glib also reads
 * comments and single-quoted strings, where this check and json-glib could
 * disagree on what is structure: such text is not handed on). */
bw_status_t bw_caps_check_json(const char *text, size_t len, char **why);

/* caps.c: the other checks, each before the parser it guards.  The
 * bw_caps_check_* functions return NULL within the caps, else the refusal
 * detail (g_malloc'd); the others record the refusal themselves and return
 * false.
 *   _addresses: one address field before internet_address_list_parse
 *     (BW_MAX_ADDRESS_GROUP_DEPTH, _COMMENT_DEPTH, BW_MAX_ADDRESSES);
 *   bw_caps_address_field: the same, plus its encoded words (GMime decodes
 *     display names), recorded;
 *   _params: a Content-Type value (BW_MAX_MIME_PARAMS,
 *     BW_MAX_RFC2231_SECTIONS);
 *   bw_caps_spend_encoded_words: the words of one field about to be
 *     decoded, against BW_MAX_ENCODED_WORDS and the message's
 *     BW_MAX_ENCODED_WORDS_TOTAL (counted since bw_refusal_begin);
 *   bw_caps_decode_date: g_mime_utils_header_decode_date, or NULL for a
 *     date longer than BW_MAX_DATE_BYTES (a size limit: no refusal). */
/* caps.c: one header field of a block: the field with its folded lines
 * (and its line end), its name and its value (after the ':', raw).
 * bw_header_next_field gives the field at or after *pos (lines without a
 * ':' are skipped) and moves *pos past it; false at the blank line that
 * ends the block or at its end. */
typedef struct {
    const char *field;
    size_t field_len;
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} bw_field_t;
bool bw_header_next_field(const char *hdr, size_t len, size_t *pos, bw_field_t *f);
bool bw_field_is(const bw_field_t *f, const char *name);

char *bw_caps_check_addresses(const char *v, size_t len);
bool bw_caps_address_field(const char *v, size_t len);
char *bw_caps_check_params(const char *v, size_t len);
size_t bw_caps_count_encoded_words(const char *v, size_t len);
bool bw_caps_spend_encoded_words(const char *v, size_t len);
GDateTime *bw_caps_decode_date(const char *s);
/* The same date as its instant and its zone's offset: a date in the
 * canonical RFC 5322 form ("[Www, ]D Mmm YYYY HH:MM:SS +hhmm") by
 * arithmetic, anything else through bw_caps_decode_date.  False when that
 * gives no date. */
bool bw_caps_decode_date_unix(const char *s, gint64 *unix_time, int *offset);

/* util.c: a To value that is one plain address, "a@b.c", "<a@b.c>" or
 * "Some Words <a@b.c>" (atext and dot-atoms only, blanks around): its
 * addr-spec, as GMime reads it (check_util test_simple_address_as_gmime),
 * without building an InternetAddressList.  False for anything else. */
bool bw_simple_address(const char *v, const char **addr, size_t *addr_len);
/* The same, normalised (bw_address_normalize) and added to `out` when it
 * normalises: true when `v` is one plain address (handled, whether added
 * or not), false when the caller must read it with GMime. */
bool bw_simple_address_add(const char *v, GPtrArray *out);

/* ASCII lower case of one byte, inlined (hot loops call it per byte). */
static inline char
bw_ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* g_ascii_strncasecmp(a, b, n) == 0, inlined: the header and field
 * readers call it tens of thousands of times a batch, a library call and
 * its g_ascii_tolower per byte each time. */
static inline bool
bw_ascii_ncase_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x != y && bw_ascii_lower(x) != bw_ascii_lower(y))
            return false;
        if (x == '\0')
            return true;
    }
    return true;
}

/* ASCII case-insensitive search of `needle` in the first `hay_len` bytes of
 * `hay`; linear in hay_len * needle_len at worst, with a first-byte skip. */
const char *bw_memcasestr(const char *hay, size_t hay_len, const char *needle);

/* The first place at or after i, before limit, holding byte a, b or c
 * (the reply-code digits a notice reader looks for), else limit; s has n
 * bytes (limit <= n).  Sixteen bytes at a time: digits are rare in a
 * notice's words. */
static inline size_t
bw_find_byte3(const char *s, size_t i, size_t limit, size_t n, char a, char b, char c)
{
#ifdef __SSE2__
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);
    for (; i < limit && n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)), _mm_cmpeq_epi8(v, vc)));
        if (m != 0) {
            i += (size_t)__builtin_ctz(m);
            return i < limit ? i : limit;
        }
    }
#endif
    while (i < limit && s[i] != a && s[i] != b && s[i] != c)
        i++;
    return i < limit ? i : limit;
}

/* memmem(p, len, "\n\n", 2): the first empty line's preceding LF. */
const char *bw_find_blank_line(const char *p, size_t len);

/* Copy of s with leading/trailing white space removed and inner runs of
 * white space (including folded line ends) collapsed to one space. */
char *bw_strdup_squeezed(const char *s, size_t len);

/* ---------------------------------------------------------------- detectors
 * The interface between parse.c (the framework) and the detectors of
 * vendor.c (non-standard notices) and reason.c (status/text -> reason). */

/* A read-only view of one message for the detectors (parse.c builds it). */
typedef struct bw_view {
    GMimeMessage *message;     /* the report; borrowed; NULL when parse.c read it
                                  without GMime (use bw_view_header) */
    const char *from;          /* decoded From header value, "" when absent */
    const char *subject;       /* decoded Subject, "" when absent */
    const char *text;          /* the human-readable part: first text/plain (else
                                  text/html stripped of tags), decoded to UTF-8,
                                  LF line ends, at most BW_MAX_SCAN_BYTES; "" when none */
    size_t text_len;
    GMimeObject *rfc822_part;  /* first message/rfc822 or text/rfc822-headers (or
                                  message/global*) part, or NULL */
    bool is_multipart_report;  /* Content-Type multipart/report */
    size_t notice_len;         /* where the notice's own words end in `text` (a
                                  returned original starts), or text_len */
    const char *orig_subject;  /* the subject of the message the report is
                                  about, when known (attached or quoted), or
                                  NULL: its words are the original's, not
                                  the notice's (spam subjects say "delivery
                                  failed" or "pre-approved" on purpose) */
    const void *priv;          /* parse.c's header index when `message` is NULL */
} bw_view_t;
/* Header lookup on the report itself (decoded, or NULL). */
const char *bw_view_header(const bw_view_t *v, const char *name);

/* vendor.c: non-standard notices.  When the view is a failure notice of a known
 * family (decided from From/Subject/headers/markers), fill report->recipients
 * (address, status, reply_code, diagnostic, remote_mta, action; reasons are
 * decided later by the caller through bw_reason_decide), set report->family and
 * *original_offset (byte offset into view->text where quoted original headers
 * start, or (size_t)-1), and return true. */
bool bw_vendor_parse(const bw_view_t *view, bw_report_t *report, size_t *original_offset);
/* When a DSN's per-recipient fields are incomplete (no status, diagnostic),
 * vendor.c may fill them from the human-readable text: */
void bw_vendor_enrich(const bw_view_t *view, bw_report_t *report);

/* diagnostic.c: the fields of one recipient (status, reply code, diagnostic,
 * remote MTA, action) from the text about it; `delayed` when the notice is
 * a warning.  The status is inferred when the text gives none. */
void bw_diagnostic_read(bw_recipient_t *r, const char *text, size_t len, bool delayed);

/* ---------------------------------------------------------------- generic reader
 * generic.c: delivery reports of any server, from what all notices share. */
typedef struct {
    size_t limit;              /* where a quoted original starts in view->text
                                  (found by the caller), or (size_t)-1 */
    bool has_original;         /* the report carries an attached original or
                                  its headers */
    bool report_type_delivery_status; /* multipart/report; report-type=delivery-status */
    bool decide_only;          /* only decide; add no recipient */
    size_t plain_to;           /* how much of view->text bw_generic_notice_end
                                  read without finding a separator (its
                                  `checked`): a line ending before it is none */
} bw_generic_in_t;

typedef struct {
    int confidence;            /* 0-100: how sure the reading is a report */
    size_t original_offset;    /* where the original starts in view->text, or (size_t)-1 */
    bool stated;               /* the recipients are stated as failed (listed after
                                  "the following recipients", labelled, on a
                                  failure line), not only named near one */
    bool named;                /* they are at least named near failure words or
                                  as the message's destination */
} bw_generic_out_t;

/* Decides from what every delivery notice shares whether the view is a
 * report; when it is, adds the failed recipients it names (address,
 * status, reply code, diagnostic, action) to report->recipients, sets
 * kind BOUNCE and family "generic", and returns true. */
bool bw_generic_read(const bw_view_t *view, const bw_generic_in_t *in, bw_report_t *report,
                     bw_generic_out_t *out);
/* The From value names a mail daemon (address or display name). */
bool bw_generic_sender_is_daemon(const char *from);
/* 2: a mail daemon's address or display name; 1: a machine-like sender that
 * also sends ordinary mail (no-reply, list owners, bounce handlers); 0. */
int bw_generic_sender_level(const char *from);
/* The subject says that delivery failed or is delayed (many languages). */
bool bw_generic_subject_is_failure(const char *subject);
/* The words of a subject that are the report's own: none after a reply or
 * auto-reply prefix ("Re: <their subject>", "Automatic reply: ..."), else
 * `subject` without `orig_subject` where it occurs (g_free it). */
char *bw_generic_own_subject(const char *subject, const char *orig_subject);
/* The Subject of a header block quoted in `text` at or after `from` (the
 * first "Subject:" line among the next lines, "> " quotes allowed),
 * decoded, or NULL. */
char *bw_generic_quoted_subject(const char *text, size_t len, size_t from);
/* Where a returned original starts in a notice's text: the first separator
 * line ("----- Original message follows -----", "Returned mail follows:"),
 * or (size_t)-1.  *checked (unless NULL): where the lines it read and found
 * no separator in end (bw_generic_in_t.plain_to). */
size_t bw_generic_notice_end(const char *text, size_t len, size_t *checked);

#endif /* BW_PRIVATE_H */
