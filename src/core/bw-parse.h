/* bw-parse.h: internals of the parse framework (message.c, report.c,
 * parse.c, dsn.c, arf.c, autoreply.c, original.c, json.c).  Not part of the API; the
 * interface to the vendor detectors is bw_view_t in bw-private.h. */
#ifndef BW_PARSE_H
#define BW_PARSE_H

#include "bw-private.h"
#include <string.h>

/* Only this much of one message is read: a report is small, and
 * what a report says about its original is in the original's headers and
 * the first part of its body.  A 50 MB attachment behind it is not needed to
 * answer, so it is not parsed (speed, and bounded memory). */
#define BW_PARSE_MAX_BYTES     (4u * 1024u * 1024u)
/* More "boundary=" declarations than this in the parsed bytes and the rest
 * is cut: each nested multipart is one more scan of its bytes. */
#define BW_PARSE_MAX_BOUNDARIES 256
/* Bytes of a structured part (delivery-status, feedback-report, headers)
 * read at most. */
#define BW_MAX_FIELDS_BYTES    (64u * 1024u)

/* The parser's name for bw_memcasestr (util.c), which inlines its case
 * folding; kept as a short alias because the hot paths call it often. */
#define bw_lower(c) bw_ascii_lower(c)
static inline const char *
bw_casestr(const char *hay, size_t hay_len, const char *needle)
{
    return bw_memcasestr(hay, hay_len, needle);
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

/* True when the data starts with an mbox "From " line. */
bool bw_mbox_detect(const char *data, size_t len);
/* Splits an mbox into messages: a GArray of gsize pairs (start, end) with
 * the From_ line itself excluded, at most BW_MAX_MBOX_MESSAGES. */
GArray *bw_mbox_split(const char *data, size_t len);

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

/* ------------------------------------------------------------ MIME reader */

enum { BW_CTE_NONE = 0, BW_CTE_BASE64, BW_CTE_QP };

/* One MIME part, as ranges into the message bytes (which outlive it). */
typedef struct {
    const char *hdr;          /* header block, up to and without the blank line */
    size_t hdr_len;
    const char *body;         /* body, still transfer-encoded */
    size_t body_len;
    char type[24];            /* lower-cased; text/plain by default */
    char subtype[48];
    char charset[48];         /* "" when not given */
    char boundary[128];       /* multipart only */
    unsigned char cte;        /* BW_CTE_* */
    unsigned depth;
    int parent;               /* index of the parent part, -1 for the message */
    unsigned n_children;
    size_t preamble_len;      /* multipart: bytes of body before the first delimiter */
    bool in_message;          /* inside an attached message (the original) */
} bw_mpart_t;

typedef struct {
    GArray *parts;            /* bw_mpart_t; [0] is the message itself */
    bool truncated;           /* a depth or part cap was hit */
} bw_mime_t;

/* Reads the structure of a normalised (LF) message; never fails. */
bw_mime_t *bw_mime_parse(const char *data, size_t len);
void bw_mime_free(bw_mime_t *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_mime_t, bw_mime_free)
bool bw_mpart_is(const bw_mpart_t *mp, const char *type, const char *subtype);
/* Transfer-decoded body (at most `max` bytes, LF line ends), or NULL. */
char *bw_mpart_raw(const bw_mpart_t *mp, size_t max, size_t *len_out);
/* Body as UTF-8 text (declared charset, else a guess; HTML stripped). */
char *bw_mpart_text(const bw_mpart_t *mp, size_t max, size_t *len_out);
/* First header `name` of a header block: the raw value (folded lines
 * included) and its length, or NULL. */
const char *bw_hdr_find(const char *hdr, size_t hdr_len, const char *name, size_t *value_len);
/* ... decoded (RFC 2047, squeezed), or NULL. */
char *bw_hdr_get(const char *hdr, size_t hdr_len, const char *name);
/* ... raw but squeezed to one line, or NULL. */
char *bw_hdr_get_raw(const char *hdr, size_t hdr_len, const char *name);

/* ------------------------------------------------------------ report.c */

/* The view's header index (bw_view_t.priv), for a report read without
 * GMime: the report's header block, read once into a table of the field
 * names it holds (the first line of each name), with the values decoded so
 * far, so a lookup of an absent header costs no scan, a present one is
 * decoded once, and the strings live as long as the view.  bw_view_header
 * reads through it. */
typedef struct {
    guint32 hash;          /* of the lower-cased name; 0 = empty slot */
    guint32 name_len;
    size_t line;           /* offset of the field's first line in hdr */
    char *value;           /* decoded value, once asked for */
    bool decoded;
} bw_view_field_t;

#define BW_VIEW_INDEX_INLINE 64

typedef struct {
    const char *hdr;
    size_t hdr_len;
    bw_view_field_t *fields;  /* open addressing, fields_mask + 1 slots:
                               * inline_fields, or g_new0'd once grown */
    size_t fields_mask;
    size_t nfields;
    /* A header block with more distinct names than the table holds
     * (BW_VIEW_INDEX_MAX_NAMES; only hostile mail has them) is indexed up
     * to the line where the next new name starts; a name not in the table
     * is then looked for from there, and remembered in `overflow` (as is
     * a name no field name can be, looked for from the top). */
    size_t overflow_from;     /* (size_t)-1 when every name is indexed */
    GHashTable *overflow;     /* lower-cased name -> decoded value, or "" absent */
    /* autoreply.c's reading of who wrote the message (its headers and the
     * From it was read with), which four detectors ask for in turn */
    const char *senders_from;
    unsigned senders_bits;
    bool senders_known;
    /* the table of a header block of up to BW_VIEW_INDEX_INLINE / 2
     * names (nearly all mail), in the index itself: no allocation per
     * message */
    bw_view_field_t inline_fields[BW_VIEW_INDEX_INLINE];
} bw_view_index_t;

#define BW_VIEW_INDEX_MAX_NAMES 4096
/* Names of one hash that a new name is compared with before the index
 * stops there as past BW_VIEW_INDEX_MAX_NAMES (only hostile mail has two) */
#define BW_VIEW_INDEX_MAX_SAME_HASH 4

void bw_view_index_init(bw_view_index_t *ix, const char *hdr, size_t hdr_len);
void bw_view_index_clear(bw_view_index_t *ix);
/* Where a search of the block for a field (bw_hdr_find and its callers)
 * may start and find what a search from the top finds: the first line
 * with that name, or where the table stops for a name past it (0 for a
 * name no field name can be).  False when no line has that name. */
bool bw_view_index_start(const bw_view_index_t *ix, const char *name, size_t *from);

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
/* Where feedback-report fields start in a text that is not labelled
 * message/feedback-report (a mislabelled part, fields inline in the
 * notice): a column-0 Feedback-Type line followed closely by another ARF
 * field.  (size_t)-1 when none. */
size_t bw_arf_find_inline(const char *text, size_t len);
/* Complaints in non-ARF formats (Microsoft JMRP, Apple Mail unsubscribe). */
bool bw_arf_detect_nonstandard(const bw_view_t *view, bw_report_t *report,
                               const char *orig_hdr, size_t orig_hdr_len);

/* ------------------------------------------------------------ autoreply.c */

/* Virus notices, challenge-response requests, auto-replies (in that order).
 * Fills kind, family, recipients; returns true when one matched. */
bool bw_autoreply_detect(const bw_view_t *view, bw_report_t *report);
/* A challenge-response request: fills kind CHALLENGE and its recipient (the
 * address that asks for confirmation: named in the notice, else the
 * original's first To, `orig` may be NULL); true when it is one. */
bool bw_challenge_detect(const bw_view_t *view, const bw_original_t *orig, bw_report_t *report);
/* The message is an out-of-office or vacation reply by its own words
 * (and an RFC 3834 header or an auto-reply subject), sent by no daemon. */
bool bw_autoreply_is_vacation(const bw_view_t *view);
/* The message is an anti-virus notice (subject, or the notice's own words
 * from an automatic sender); fills nothing. */
bool bw_virus_notice(const bw_view_t *view);

/* ------------------------------------------------------------ original.c */

/* The original from a header block (an attached message's headers, a
 * text/rfc822-headers part, quoted lines); NULL when it holds nothing. */
bw_original_t *bw_original_from_headers(const char *text, size_t len);
/* Gives the original its body text (taken; g_malloc'd UTF-8) and the URL
 * domains in it. */
void bw_original_take_body(bw_original_t *o, char *text, size_t len);
/* The original from headers quoted in a text, starting at or after `from`
 * (the first header-looking line from there). NULL when none. */
bw_original_t *bw_original_from_text(const char *text, size_t len, size_t from);
/* Where a notice's quoted copy of the original starts in the text (after a
 * marker such as "----- Original message -----"), or (size_t)-1. */
size_t bw_original_find_marker(const char *text, size_t len);
/* True when the original carries nothing useful. */
bool bw_original_is_empty(const bw_original_t *o);

#endif /* BW_PARSE_H */
