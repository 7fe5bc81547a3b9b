/* bw.h: the public API of libbwcore, bouncewatch's core.
 *
 * The core parses, classifies, fingerprints and detects surges on plain data.
 * It links GLib, GMime, json-glib and libsodium only: no notmuch, no libnotify,
 * no exit(), no printing.  Adapters (src/adapters) and the CLI (src/cli) sit
 * on top of it.
 *
 * Conventions (after notmuch and libsodium):
 *   - calls return bw_status_t (BW_OK == 0); results come through a final
 *     `**out` argument; an optional `char **detail` receives a g_malloc'd
 *     human-readable explanation on failure (caller frees).
 *   - errors are set in one way, core and adapters alike:
 *     `return bw_error_set(detail, BW_E_..., "what went wrong", ...);`.
 *     The first error wins: a detail already set (by a callee, which knows
 *     more) is kept.  Only the CLI turns a status into an exit code
 *     (src/cli/exitcode.c) and prints the detail.
 *   - every struct returned through `**out` is owned by the caller and freed
 *     with its *_free() function; strings inside are owned by the struct.
 *   - all strings are UTF-8, NUL-terminated.
 */
#ifndef BW_H
#define BW_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* ---------------------------------------------------------------- status */

typedef enum {
    BW_OK = 0,
    BW_E_NOMEM,       /* allocation failed */
    BW_E_IO,          /* file could not be read */
    BW_E_NOT_MAIL,    /* input is not an RFC 5322 message (empty, binary...) */
    BW_E_TOO_LARGE,   /* input exceeds BW_MAX_MESSAGE_BYTES */
    BW_E_INVALID,     /* invalid argument (caller bug or bad option) */
    BW_E_STATE,       /* state store problem (corrupt, locked...) */
    BW_E_DATABASE,    /* mail database problem */
    BW_E_INTERNAL,
    BW_E_REFUSED,     /* refused by a structural cap (nesting, counts): the
                         detail names the cap.  Appended after BW_E_INTERNAL
                         so that existing values keep their numbers. */
    BW_E_CONFIG,      /* the configuration cannot be used as it is (the
                         owner's address unset or made up): the detail
                         says what to set */
    BW_STATUS_LAST
} bw_status_t;

const char *bw_status_to_string(bw_status_t status);

/* The one error setter (status.c): when `detail` is non-NULL and no error
 * was recorded in it yet, *detail becomes the printf-formatted message;
 * a detail already there is kept (first error wins).  Returns `status`,
 * so that a failure is one statement: `return bw_error_set(detail,
 * BW_E_IO, "%s: %s", path, g_strerror(errno));`. */
bw_status_t bw_error_set(char **detail, bw_status_t status, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Hard limits that bound every parse: hostile input must not make us hang
 * or exhaust memory.  Inputs beyond them are truncated or refused. */
#define BW_MAX_MESSAGE_BYTES   (64u * 1024u * 1024u) /* refuse larger files */
#define BW_MAX_SCAN_BYTES      (256u * 1024u)        /* text inspected per part */
#define BW_MAX_MIME_DEPTH      32                    /* nested multiparts walked */
#define BW_MAX_MIME_PARTS      512                   /* parts visited per message */
#define BW_MAX_RECIPIENTS      1000                  /* recipients per report */
#define BW_MAX_MBOX_MESSAGES   100000                /* messages per mbox file */

/* Structural caps (caps.c).  They stand before every parser handed
 * attacker text, ours and third-party (json-glib, GMime's address, date and
 * header parsers), which recurse or allocate per element.  A message past
 * one of them is refused as a whole: BW_E_REFUSED, with a detail naming the
 * cap ("refused: JSON nested deeper than 64 levels (limit
 * BW_MAX_JSON_DEPTH)"), never cut into something that means another thing.
 * Each number is far above what real mail needs and far below what a bomb
 * needs; docs/bouncewatch.1 (LIMITS) lists them all. */
/* JSON notices (Amazon SES/SNS) before json-glib, which recurses once per
 * level: a real notice nests 5 levels; 120,000 overflowed the stack. */
#define BW_MAX_JSON_DEPTH      64
/* Values and member names of one JSON text: a notice naming 1,000
 * recipients with their fields and the original's headers holds about
 * 12,000; a text of 256 KiB of "[0,0,..." holds 130,000 nodes. */
#define BW_MAX_JSON_VALUES     20000
/* Bytes of one JSON text: the text it is taken from is cut at
 * BW_MAX_SCAN_BYTES already; the check keeps the function safe alone. */
#define BW_MAX_JSON_BYTES      BW_MAX_SCAN_BYTES
/* One address field (To, Cc, From...) before GMime's address parser,
 * which recurses once per nested group: 100,000 levels overflowed the
 * stack.  Counted as the ':' in the field (each group needs one, whatever
 * a parser makes of quotes): a group cannot hold a group (RFC 5322), real
 * fields open one ("undisclosed-recipients:;"). */
#define BW_MAX_ADDRESS_GROUP_DEPTH   8
/* Comments nested in one address field: "(Taro (work))" is 2 levels. */
#define BW_MAX_ADDRESS_COMMENT_DEPTH 16
/* Addresses in one address field, counted as its ',' and ';' plus one:
 * GMime's time grows with the square of that number on some malformed
 * lists (100,000 items: 72 s); a To list of a few hundred people is
 * large, and BW_MAX_RECIPIENTS bounds what is kept. */
#define BW_MAX_ADDRESSES       2000
/* Parameters of one Content-Type (or Content-Disposition) field, each
 * RFC 2231 section counted: real ones have 1 to 4, a long file name split
 * into sections some 20. */
#define BW_MAX_MIME_PARAMS     64
/* RFC 2231 section numbers of one parameter (name*0, name*1...): a long
 * file name takes about 20; a reader joins sections by number. */
#define BW_MAX_RFC2231_SECTIONS 64
/* RFC 2047 encoded words in one header field, and in one message (what
 * the core decodes plus what it hands to GMime, which decodes them too):
 * a subject takes a few, a To list naming people in Japanese one per
 * person.  A word in a charset other than the last one's costs a
 * converter, about a millisecond when an attacker alternates charsets. */
#define BW_MAX_ENCODED_WORDS   512
#define BW_MAX_ENCODED_WORDS_TOTAL 1024
/* A size, not a structure: a date longer than this is no date (as an
 * unreadable one is: the report's or the original's date is null, the
 * rest is read); a header block handed to GMime with one is refused.  A
 * date with its comment takes some 40 bytes. */
#define BW_MAX_DATE_BYTES      256

/* ---------------------------------------------------------------- JSON contract version
 *
 * Both JSON outputs (a `parse --json` line, the `scan --json` document)
 * carry "format_version": BW_FORMAT_VERSION_CUR, and `--format-version=N`
 * lets a program that reads them ask for the version it was written
 * against, the way notmuch's NOTMUCH_FORMAT_CUR/MIN work.  The fields of
 * each version are documented in docs/bouncewatch-json.7 (the schemata,
 * with the history of the versions).
 *
 * The rule for changing the numbers:
 *   - adding a field (a new key in an object, a new member of an
 *     enumeration that readers are told may grow) does NOT change the
 *     version: readers ignore keys they do not know;
 *   - removing or renaming a field, changing its type or its meaning, or
 *     changing what the elements of a list mean, increases
 *     BW_FORMAT_VERSION_CUR; the writers then take the version asked for
 *     and keep writing the old layout for the old versions still
 *     supported (and the scan's JSON cache keys on it);
 *   - BW_FORMAT_VERSION_MIN increases only when a version's layout is
 *     dropped; asking for a version below it exits 20, above
 *     BW_FORMAT_VERSION_CUR exits 21 (the CLI, src/cli/exitcode.c).
 *
 * Version 1 (December 2026) is shared/SPEC.md sections 1 and 2 as they
 * are: the first versioned contract. */
#define BW_FORMAT_VERSION_MIN  1
#define BW_FORMAT_VERSION_CUR  1

/* ---------------------------------------------------------------- kinds */

typedef enum {
    BW_KIND_NONE = 0,   /* not a report */
    BW_KIND_DSN,        /* RFC 3464 multipart/report delivery-status */
    BW_KIND_BOUNCE,     /* non-standard failure notice */
    BW_KIND_AUTOREPLY,  /* RFC 3834 / vacation / out-of-office */
    BW_KIND_CHALLENGE,  /* challenge-response verification request */
    BW_KIND_VIRUS,      /* anti-virus notice */
    BW_KIND_FEEDBACK,   /* RFC 5965 ARF report */
} bw_kind_t;

/* SPEC.md name ("dsn", "bounce"...) or NULL for BW_KIND_NONE. */
const char *bw_kind_to_string(bw_kind_t kind);
bw_kind_t bw_kind_from_string(const char *s);

/* The reason taxonomy of shared/SPEC.md section 1. */
typedef enum {
    BW_REASON_UNKNOWN = 0,
    BW_REASON_USER_UNKNOWN,
    BW_REASON_HOST_UNKNOWN,
    BW_REASON_MAILBOX_FULL,
    BW_REASON_MESSAGE_TOO_LARGE,
    BW_REASON_CONTENT_REJECTED,
    BW_REASON_VIRUS,
    BW_REASON_SPAM,
    BW_REASON_BLOCKED,
    BW_REASON_POLICY,
    BW_REASON_AUTH_FAILURE,
    BW_REASON_SUSPENDED,
    BW_REASON_RATE_LIMITED,
    BW_REASON_NETWORK_ERROR,
    BW_REASON_EXPIRED,
    BW_REASON_SYSTEM_ERROR,
    BW_REASON_TLS_ERROR,
    BW_REASON_VACATION,
    BW_REASON_FEEDBACK,
    BW_REASON_DELIVERED,
    BW_REASON_LAST
} bw_reason_t;

const char *bw_reason_to_string(bw_reason_t reason);   /* "user-unknown"... */
bw_reason_t bw_reason_from_string(const char *s);

/* reason.c: classification tables (data, extendable without code changes).
 *
 * bw_reason_from_status: RFC 3463 enhanced code ("5.1.1") -> reason, or
 *   BW_REASON_UNKNOWN when the code alone does not say (e.g. "5.0.0").
 * bw_reason_from_text: diagnostic text (English, Japanese, other common
 *   languages; case-insensitive, linear time) -> reason, or UNKNOWN.
 * bw_reason_decide: the combined decision used by the parser: the more
 *   specific of status, reply code and text.
 * bw_status_from_reply_code: infer an enhanced code from an SMTP reply code
 *   and/or the text ("550" + "user unknown" -> "5.1.1"); returns a static
 *   string or NULL.
 * bw_status_from_reason: the canonical enhanced code of a reason given the
 *   class digit ('5' or '4'); static string or NULL. */
bw_reason_t bw_reason_from_status(const char *status);
bw_reason_t bw_reason_from_text(const char *text, size_t len);
bw_reason_t bw_reason_decide(const char *status, const char *reply_code,
                             const char *diagnostic, const char *action);
const char *bw_status_from_reason(bw_reason_t reason, char klass);
const char *bw_status_from_reply_code(const char *reply_code, bw_reason_t reason);

/* ---------------------------------------------------------------- parse */

typedef struct {
    char *address;           /* lower-cased local@domain, or NULL */
    char *original_address;  /* Original-Recipient when it differs, or NULL */
    char *action;            /* failed|delayed|delivered|relayed|expanded or NULL */
    char *status;            /* "5.1.1" or NULL */
    char *reply_code;        /* "550" or NULL */
    char *remote_mta;        /* host name or NULL */
    char *diagnostic;        /* text or NULL (single line, trimmed) */
    bw_reason_t reason;
} bw_recipient_t;

/* What a report tells about the message it is about. */
typedef struct {
    char *message_id;        /* without <> or NULL */
    char *from;              /* lower-cased address or NULL */
    GPtrArray *to;           /* char*: lower-cased addresses (maybe empty) */
    char *subject;           /* decoded, or NULL */
    char *date;              /* RFC 3339 or NULL */
    gint64 date_unix;        /* 0 when unknown */
    char *return_path;       /* lower-cased address or NULL */
    /* Extras for the backscatter verdict and campaign fingerprints. */
    GPtrArray *received;     /* char*: Received header values, top first */
    char *dkim_domain;       /* d= of the first DKIM-Signature, lower-cased */
    char *x_mailer;          /* X-Mailer or User-Agent */
    char *in_reply_to;       /* without <> */
    char *body_text;         /* first BW_MAX_SCAN_BYTES of the original's text
                                body, when the report carries it, or NULL */
    GPtrArray *url_domains;  /* char*: host names of URLs in body_text */
    bool headers_only;       /* the report carried headers but no body */
} bw_original_t;

typedef struct {
    bool bounce;
    bw_kind_t kind;
    GPtrArray *recipients;   /* bw_recipient_t*, owned */
    bw_original_t *original; /* NULL when nothing of it was found */
    const char *family;      /* static name of the detector that decided it
                                ("rfc3464", "qmail", "exim", ...) or NULL */
    char *feedback_type;     /* ARF Feedback-Type or NULL */
    /* The report's own headers (needed by the scan engine). */
    char *message_id;        /* the report's Message-ID without <> */
    char *from;              /* lower-cased address of the report's sender */
    char *subject;
    char *date;              /* RFC 3339 */
    gint64 date_unix;
    char *in_reply_to;       /* without <> */
    GPtrArray *references;   /* char* without <> */
    GPtrArray *to;           /* char*: addresses the report was sent to */
    char *auto_submitted;    /* Auto-Submitted header value or NULL */
    char *strings;           /* NULL; or, for a report read back from the
                                scan state (item-variant.c), the one block
                                that holds this report itself, its original
                                and recipient structures, and every string
                                they and their lists point to: all of it
                                read-only, freed at once by bw_report_free
                                (no part of it freed or taken alone) */
} bw_report_t;

void bw_report_free(bw_report_t *report);
void bw_recipient_free(bw_recipient_t *r);
void bw_original_free(bw_original_t *o);
bw_recipient_t *bw_recipient_new(void);
bw_original_t *bw_original_new(void);
bw_report_t *bw_report_new(void);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_report_t, bw_report_free)

/* Initialise the core (GMime, libsodium).  Idempotent; call once before any
 * other function.  Returns BW_OK or BW_E_INTERNAL. */
bw_status_t bw_init(void);
void bw_shutdown(void);

/* Parse one RFC 5322 message held in memory (LF, CRLF or CR line ends).
 * A message that is not a report gives BW_OK with report->bounce == false.
 * BW_E_NOT_MAIL for empty/binary input, BW_E_TOO_LARGE past the limit. */
bw_status_t bw_parse_bytes(const char *data, size_t len,
                           bw_report_t **out, char **detail);

/* One message of a file: its report, or why it has none. */
typedef struct {
    bw_status_t status;      /* BW_OK, or this message's own error */
    char *detail;            /* one line when status != BW_OK, else NULL */
    bw_report_t *report;     /* when status == BW_OK, else NULL */
} bw_parse_result_t;

/* What bw_parse_file() read of a file. */
typedef struct {
    bool is_mbox;            /* it starts with an mbox "From " line */
    GPtrArray *messages;     /* bw_parse_result_t*, one per message in file
                                order: a message's position is its mbox
                                index; a plain file has one */
} bw_parsed_file_t;
void bw_parsed_file_free(bw_parsed_file_t *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_parsed_file_t, bw_parsed_file_free)

/* Parse a file: one message, or, when it starts with an mbox "From " line,
 * every message of the mbox.  Per-message results, each with its own
 * status: a damaged or refused message inside an mbox is a result with
 * its error (BW_E_NOT_MAIL, BW_E_REFUSED...) in its own place, never
 * dropped with the indexes after it shifted.  The return value is the
 * file's own status: BW_E_IO when it cannot be opened or read (a read()
 * error is an error, never the end of a truncated mail), BW_E_TOO_LARGE,
 * BW_E_NOT_MAIL for an mbox that holds no message, and, for a plain file,
 * its one message's error; then *out is NULL.  On BW_OK *out holds at least
 * one result (freed with bw_parsed_file_free). */
bw_status_t bw_parse_file(const char *path, bw_parsed_file_t **out, char **detail);

/* Checks a header block (header fields up to the blank line) against the
 * structural caps before it is handed to GMime's parser: address fields
 * (group and comment nesting, address count), dates (length), MIME
 * parameters (count, RFC 2231 sections), RFC 2047 encoded words (per field
 * and in all).  BW_OK, or BW_E_REFUSED with *detail (may be NULL) naming
 * the cap. */
bw_status_t bw_header_block_check(const char *hdr, size_t len, char **detail);
/* The fields named in `names` (NULL-terminated, any case) of the header
 * block at the start of `data`, whole, in order and at most `max` bytes of
 * them (a field that would pass `max` is left out with the ones after
 * it), then a blank line: the only text a reader that needs those fields
 * hands GMime.  Checked with bw_header_block_check: BW_OK with *out
 * (g_free) and *out_len, or BW_E_REFUSED with *detail. */
bw_status_t bw_header_fields_extract(const char *data, size_t len, const char *const *names,
                                     size_t max, char **out, size_t *out_len, char **detail);

/* Where bw_parse_file_each() delivers a file's messages, one at a time. */
typedef struct {
    /* When the file is an mbox: called once with the number of messages in
     * it, before the first one is parsed (may be NULL). */
    void (*mbox)(void *data, unsigned count);
    /* Each message: `index` is its place in the mbox (0, 1, ...) or -1 for
     * a plain file; `status` is BW_OK with `report` (the callee takes it),
     * or the message's own error with `detail` (borrowed, may be NULL; only
     * a damaged message inside an mbox gets here with an error).  Return
     * false to stop reading the file. */
    bool (*message)(void *data, int index, bw_status_t status, bw_report_t *report,
                    const char *detail);
    void *data;
} bw_parse_sink_t;

/* bw_parse_file() one message at a time, from the `first`-th message of an
 * mbox on (the ones before it are not parsed; ignored for a plain file), so
 * that a reader can stream an mbox and resume after a message that stopped
 * it.  Returns the error of the file itself (as bw_parse_file(); then no
 * message was delivered) or BW_OK. */
bw_status_t bw_parse_file_each(const char *path, unsigned first, const bw_parse_sink_t *sink,
                               char **detail);

/* The SPEC.md section 1 JSON object for one parse result.  `file` is the
 * path as given; `index` is the mbox index or -1 for a plain file; `error`
 * is the error text or NULL (then `report` may be NULL). */
JsonNode *bw_report_to_json(const bw_report_t *report, const char *file,
                            int index, const char *error);
JsonNode *bw_original_to_json(const bw_original_t *o);
/* The same object as bw_report_to_json as compact JSON text (g_free it),
 * written directly: the fast path of `bouncewatch parse`. */
char *bw_report_to_json_string(const bw_report_t *report, const char *file,
                               int index, const char *error);

/* ---------------------------------------------------------------- text utilities (util.c) */

/* g_utf8_validate(s, len, NULL) (len -1: up to the NUL; else a NUL among
 * the len bytes makes it invalid), with a fast path for ASCII. */
bool bw_utf8_validate(const char *s, gssize len);
/* Lower-cased bare address from a header value or address-ish text
 * ("Taro <TARO@Example.JP>" -> "taro@example.jp"); NULL when none. */
char *bw_address_normalize(const char *s);
/* Message-ID without angle brackets and surrounding space; NULL when empty. */
char *bw_msgid_normalize(const char *s);
/* RFC 3339 text for a Unix time with the given UTC offset in seconds. */
char *bw_time_format(gint64 unix_time, int utc_offset_seconds);
/* Parse RFC 3339 or RFC 5322 date text; returns FALSE when unparseable. */
bool bw_time_parse(const char *s, gint64 *unix_time_out, int *offset_out);

/* ---------------------------------------------------------------- mail text, one way (text.c) */

/* The classes of subject prefixes bw_subject_strip() removes. */
typedef enum {
    BW_SUBJECT_REPLY = 1u << 0,      /* Re:, AW:, SV:, Odp:, 回复:, 返信: ... */
    BW_SUBJECT_FORWARD = 1u << 1,    /* Fwd:, FW:, WG:, TR:, RV:, I:, 转发:, 転送: ... */
    BW_SUBJECT_AUTOREPLY = 1u << 2,  /* Auto:, Out of Office:, 自動返信: ... */
    BW_SUBJECT_REPORT = 1u << 3,     /* Undeliverable:, Returned mail: ... */
    BW_SUBJECT_ALL = 0xfu,
} bw_subject_class_t;

/* The subject without its leading prefixes of the given classes, in any
 * order and repeated ("RE: FW: Re[2]: AW : x", "[Auto-Reply] x",
 * "返信：x" with a full-width colon -> "x"), at most 16 of them; valid
 * UTF-8, white space trimmed (g_free; "" when nothing is left, NULL only
 * for NULL).  *found (may be NULL) gets the classes of what was removed.
 * The one normaliser of subjects: the parser, the fingerprints, the
 * verdict and the sent-mail lookups all compare what it returns. */
char *bw_subject_strip(const char *subject, unsigned classes, unsigned *found);

/* Bytes of a DKIM-Signature value read for its tags. */
#define BW_DKIM_SIGNATURE_MAX  8192
/* The d= tag (the signing domain) of a DKIM-Signature header value,
 * lower-cased (g_free), or NULL when there is none. */
char *bw_dkim_domain(const char *signature);

/* Text written by strangers (subjects, addresses, diagnostics) made safe to
 * show on a terminal, in a notification or in an evidence line: valid
 * UTF-8; control characters, line and paragraph separators and
 * bidirectional marks, embeddings, overrides and isolates become spaces;
 * at most max_chars characters, then "…" where it was cut (g_free; NULL
 * for NULL). */
char *bw_text_sanitize(const char *s, size_t max_chars);

/* A GHashFunc for NUL-terminated strings (with g_str_equal), eight bytes a
 * step: g_str_hash takes one per step, ~400 instructions for a message-id.
 * Its values differ from g_str_hash's, so a table that is iterated visits
 * its entries in another order: use it where that order makes no output
 * (lookups only, or entries sorted or moved after). */
guint bw_str_hash(gconstpointer key);

/* XXH64 (Yann Collet's xxHash, 64-bit; libxxhash's) of n bytes with
 * `seed` (check_util pins values: the stored forms depend on them).  A
 * checksum against accidental damage of what the state stores (store.c),
 * about 0.6 instructions a byte where BLAKE2b takes ~5.5; it is not a
 * cryptographic hash. */
guint64 bw_xxh64(const void *data, size_t n, guint64 seed);

/* Tests only: when the environment variable `variable` holds PREFIX,
 * create PREFIX.waiting and wait (20 s at most) for PREFIX.go, so that a
 * test can act (commit, save) at that point of a run.  Used with
 * BOUNCEWATCH_TEST_SAVE_GATE, BOUNCEWATCH_TEST_READ_GATE and
 * BOUNCEWATCH_TEST_SNAPSHOT_GATE (src/app), BOUNCEWATCH_TEST_XAPIAN_GATE
 * (src/adapters/nm-source.c) and BOUNCEWATCH_TEST_COLUMN_GATE
 * (src/adapters/store.c). */
void bw_test_gate(const char *variable);

G_END_DECLS

#endif /* BW_H */
