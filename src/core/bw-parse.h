/* bw-parse.h: internals of the parse framework (message.c, parse.c, dsn.c,
 * arf.c, autoreply.c, original.c, json.c).  Not part of the API; the
 * interface to the vendor detectors is bw_view_t in bw-private.h. */
#ifndef BW_PARSE_H
#define BW_PARSE_H

#include "bw-private.h"
#include <string.h>

/* Only this much of one message is handed to GMime: a report is small, and
 * what a report says about its original is in the original's headers and
 * the first part of its body.  A 50 MB attachment behind it is not needed to
 * answer, so it is not parsed (speed, and bounded memory). */
#define BW_PARSE_MAX_BYTES     (4u * 1024u * 1024u)
/* More "boundary=" declarations than this in the parsed bytes and the rest
 * is cut: GMime's parser recurses per nested multipart. */
#define BW_PARSE_MAX_BOUNDARIES 256
/* Bytes of a structured part (delivery-status, feedback-report, headers)
 * read at most. */
#define BW_MAX_FIELDS_BYTES    (64u * 1024u)

/* ASCII case-insensitive search with the case folding inlined: the hot
 * paths of the parser call it on every message, and the per-byte library
 * call of g_ascii_tolower showed up as the largest cost in profiles. */
static inline char
bw_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static inline const char *
bw_casestr(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return hay;
    if (hay == NULL || hay_len < n)
        return NULL;
    char f = bw_lower(needle[0]);
    for (size_t i = 0; i + n <= hay_len; i++) {
        if (bw_lower(hay[i]) != f)
            continue;
        size_t k = 1;
        while (k < n && bw_lower(hay[i + k]) == bw_lower(needle[k]))
            k++;
        if (k == n)
            return hay + i;
    }
    return NULL;
}

/* ------------------------------------------------------------ message.c */

/* Checks that `data` looks like an RFC 5322 message: not empty, no NUL byte
 * near the start, a first line that is a header field or an mbox From line.
 * On failure sets *detail. */
bw_status_t bw_message_check(const char *data, size_t len, char **detail);

/* Copy of `data` with CRLF and lone CR turned into LF, cut to
 * BW_PARSE_MAX_BYTES and before the BW_PARSE_MAX_BOUNDARIES-th boundary
 * declaration.  *out_len gets the new length. */
char *bw_message_normalize(const char *data, size_t len, size_t *out_len);

/* Builds the GMime tree of normalised bytes (from bw_message_normalize)
 * without copying them: `bytes` must outlive the message (unref the
 * message first).  NULL when GMime finds no message. */
GMimeMessage *bw_message_parse_bytes(GByteArray *bytes);

/* True when the data starts with an mbox "From " line. */
bool bw_mbox_detect(const char *data, size_t len);
/* Splits an mbox into messages: a GArray of gsize pairs (start, end) with
 * the From_ line itself excluded, at most BW_MAX_MBOX_MESSAGES. */
GArray *bw_mbox_split(const char *data, size_t len);

/* The transfer-decoded content of a leaf part, at most `max` bytes, NUL
 * terminated (no charset conversion). NULL when empty. */
char *bw_part_raw(GMimeObject *part, size_t max, size_t *len_out);
/* The text of a leaf part decoded to UTF-8 (declared charset, else a guess
 * among ISO-2022-JP, Shift_JIS, EUC-JP, Latin-1), LF line ends, at most
 * `max` bytes, always valid UTF-8. */
char *bw_part_text(GMimeObject *part, size_t max, size_t *len_out);
/* Converts bytes of an unknown or given charset (NULL = guess) to valid
 * UTF-8. */
char *bw_to_utf8(const char *data, size_t len, const char *charset, size_t *len_out);
/* Text of an HTML body: tags dropped, block tags become line ends, a few
 * entities decoded.  Linear. */
char *bw_html_to_text(const char *html, size_t len, size_t *len_out);

/* RFC 2047 decoding of a raw header value to squeezed UTF-8 (NULL when
 * empty).  GMime 3.2.13 joins the base64 payloads of adjacent encoded words
 * before decoding, so a padded first word ("...pQ==?= =?...") loses the
 * rest; here each word is decoded alone and the bytes of adjacent words of
 * one charset are joined before conversion (a character may be split across
 * words).  Undeclared 8-bit text is converted by guess. */
char *bw_header_decode(const char *raw, size_t len);
/* bw_header_decode of the first `name` header of an object, or NULL. */
char *bw_object_header_decoded(GMimeObject *obj, const char *name);

/* The parts the detectors look at, found in one bounded walk. */
typedef struct {
    GMimeObject *text_plain;      /* first text/plain outside an attached message */
    GMimeObject *text_html;       /* first text/html outside an attached message */
    GMimeObject *delivery_status; /* message/(global-)delivery-status */
    bool global_ds;               /* ... of RFC 6533 (UTF-8) */
    GMimeObject *feedback;        /* message/feedback-report */
    GMimeObject *rfc822;          /* message/rfc822, message/global, text/rfc822-headers,
                                     message/global-headers, message/partial */
    GMimeObject *leaves[16];      /* other leaf parts outside attached messages,
                                     for broken reports (wrong content types) */
    unsigned n_leaves;
    unsigned parts_seen;
    bool truncated;               /* a depth or part cap was hit */
} bw_parts_t;

void bw_message_walk(GMimeMessage *message, bw_parts_t *parts);

/* ------------------------------------------------------------ dsn.c */

/* Parses delivery-status fields (RFC 3464 section 2; tolerant: missing blank
 * lines, folded or indented fields, fields inline in text).  Appends one
 * recipient per Final-Recipient (or Original-Recipient) group.  Returns the
 * number of recipients added. */
unsigned bw_dsn_parse_fields(const char *text, size_t len, bool utf8, bw_report_t *report);
/* Where delivery-status fields start inline in a text (a line starting with
 * Final-Recipient:, Original-Recipient: or Reporting-MTA:), or (size_t)-1.
 * With `column0`, only unindented lines count (a quoted or indented example
 * in ordinary mail is not a report). */
size_t bw_dsn_find_inline(const char *text, size_t len, bool column0);

/* ------------------------------------------------------------ arf.c */

/* Parses a message/feedback-report part's fields into the report (kind,
 * feedback_type, recipients).  Returns true when it is a feedback report. */
bool bw_arf_parse_fields(const char *text, size_t len, bw_report_t *report);
/* Complaints in non-ARF formats (Microsoft JMRP, Apple Mail unsubscribe). */
bool bw_arf_detect_nonstandard(const bw_view_t *view, bw_report_t *report);

/* ------------------------------------------------------------ autoreply.c */

/* Virus notices, challenge-response requests, auto-replies (in that order).
 * Fills kind, family, recipients; returns true when one matched. */
bool bw_autoreply_detect(const bw_view_t *view, bw_report_t *report);
/* Subject without reply/auto-reply prefixes ("Re:", "Auto:", "Out of Office:"...). */
char *bw_subject_strip_prefixes(const char *subject);

/* ------------------------------------------------------------ original.c */

/* The original from an attached message/rfc822 / message/global (full
 * message) or text/rfc822-headers / message/global-headers part. */
bw_original_t *bw_original_from_part(GMimeObject *part);
/* The original from headers quoted in a text, starting at or after `from`
 * (the first header-looking line from there). NULL when none. */
bw_original_t *bw_original_from_text(const char *text, size_t len, size_t from);
/* Where a notice's quoted copy of the original starts in the text (after a
 * marker such as "----- Original message -----"), or (size_t)-1. */
size_t bw_original_find_marker(const char *text, size_t len);
/* True when the original carries nothing useful. */
bool bw_original_is_empty(const bw_original_t *o);

#endif /* BW_PARSE_H */
