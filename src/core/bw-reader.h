/* bw-reader.h: the protocol between bouncewatch and its reader process.
 *
 * Mail is read in a separate process, `bouncewatch-reader` (src/reader/,
 * installed in $(pkglibexecdir)), that links libbwcore only and runs under
 * resource limits: a message that crashes or hangs the parser takes down
 * that process, not the scan, the hook, the agent or a `parse` batch.  The
 * parent side is src/adapters/reader.c.  Both ends are built from the same
 * tree; the reader's first frame says which protocol it speaks.
 *
 * One byte stream each way (a socket pair), made of frames:
 *
 *     type (1 byte) | length of the body (4 bytes, little-endian) | body
 *
 * Parent -> reader, one request per input, answered in order:
 *   'F'  read a file: u32 first (mbox message to start at), u32 limit
 *        (messages to read at most, 0 = all; flags below), then the path
 *        (no NUL)
 *   'D'  read one message given as the body itself (standard input)
 * Reader -> parent:
 *   'H'  hello, once, after the reader confined itself and parsed a known
 *        report successfully: u32 BW_READER_PROTOCOL, then its build
 *   'X'  the file of the current request is an mbox: u32 message count;
 *        sent before its first message is parsed, so that the parent can
 *        resume after a message that stopped the reader
 *   'R'  one message (or the file itself, index -1, when it cannot be
 *        read): i32 index, u32 bw_status_t, u32 detail length, detail
 *        (UTF-8, no NUL), then the payload: with --json the SPEC section 1
 *        line (no line end), with --report the report encoded by
 *        bw_report_encode() (only for status BW_OK; empty when the message
 *        is not a report and the request asked for bounces only)
 *   'E'  the request is finished
 * A request gets zero or more 'X'/'R' frames, then exactly one 'E'.
 *
 * A file request with one of the READ flags below (BW_READER_READS) is not
 * a bounce parse: the reader reads the first bytes of the file itself (a
 * regular file only, at most bw_reader_read_max() bytes), runs the core
 * function the flag names on them (bw_reader_read_json()) and answers one
 * 'R' with index -1, the status, and as payload the JSON text of the
 * result (empty when the message gives nothing: not readable, not mail),
 * then 'E'; never an 'X'.  The same in --json and --report mode, so one
 * reader serves a batch of any requests.  The parent checks the payload
 * (bw_reader_payload_check) before it hands it on, and decodes it with
 * bw_reader_payload_parse() and the result's *_from_json.
 *
 * Protocol 2 added the READ flags.
 *
 * Everything the reader sends is treated as untrusted (it has just read
 * attacker-written mail): lengths are bounded, the report decoder checks
 * every field, and a frame that breaks these rules ends the reader as if
 * it had crashed on the message it was reading. */
#ifndef BW_READER_H
#define BW_READER_H

#include "bw.h"

G_BEGIN_DECLS

/* Bumped whenever a frame or the report encoding changes. */
#define BW_READER_PROTOCOL 2u

#define BW_READER_FRAME_HEADER 5u
/* Bodies larger than this end the reader (a report line is kilobytes; a
 * request carries at most one message of BW_MAX_MESSAGE_BYTES). */
#define BW_READER_MAX_FRAME (BW_MAX_MESSAGE_BYTES + 4096u)

enum {
    BW_READER_REQ_FILE = 'F',
    BW_READER_REQ_DATA = 'D',
    BW_READER_HELLO = 'H',
    BW_READER_MBOX = 'X',
    BW_READER_RESULT = 'R',
    BW_READER_END = 'E',
};

/* Flags of a file request, in the high bits of `limit`: BOUNCES_ONLY (the
 * scan) sends an empty payload for a message that is not a report;
 * CAREFUL makes the reader write every answer before it parses the next
 * message, so that a message that ends it is known (otherwise answers go
 * in batches: see src/reader/reader.c). */
#define BW_READER_BOUNCES_ONLY 0x80000000u
#define BW_READER_CAREFUL      0x40000000u
/* What to read instead of a bounce parse (at most one; see above):
 *   FACTS         bw_mailfacts_read() on a received message, its first
 *                 BW_SIG_MAX_MESSAGE_BYTES;
 *   NOTABLE_FACTS the same, but nothing (an empty payload) unless the
 *                 facts are notable (bw_mailfacts_notable): most received
 *                 mail is not, and a scan reads all of it;
 *   SENT_SUMMARY  bw_sent_summary_read() on one of the owner's sent
 *                 messages, its first BW_SIG_MAX_HEADER_BYTES;
 *   SENT_HEADERS  bw_sent_mail_read() on the same, for the profile, its
 *                 first BW_SENT_MAIL_MAX_BYTES. */
#define BW_READER_FACTS        0x20000000u
#define BW_READER_SENT_SUMMARY 0x10000000u
#define BW_READER_SENT_HEADERS 0x08000000u
#define BW_READER_NOTABLE_FACTS 0x04000000u
#define BW_READER_READS        (BW_READER_FACTS | BW_READER_SENT_SUMMARY | \
                                BW_READER_SENT_HEADERS | BW_READER_NOTABLE_FACTS)
#define BW_READER_FLAGS        (BW_READER_BOUNCES_ONLY | BW_READER_CAREFUL | BW_READER_READS)

static inline void
bw_wire_put_u32(GString *out, guint32 v)
{
    char b[4] = { (char)(v & 0xff), (char)((v >> 8) & 0xff), (char)((v >> 16) & 0xff),
                  (char)((v >> 24) & 0xff) };
    g_string_append_len(out, b, 4);
}

static inline guint32
bw_wire_get_u32(const void *p)
{
    const guint8 *b = p;
    return (guint32)b[0] | ((guint32)b[1] << 8) | ((guint32)b[2] << 16) | ((guint32)b[3] << 24);
}

/* Appends a frame header for a body of `len` bytes (the body follows). */
static inline void
bw_wire_frame_start(GString *out, char type, guint32 len)
{
    g_string_append_c(out, type);
    bw_wire_put_u32(out, len);
}

/* The complete report (everything bw_classify() reads, the original's body
 * text included) appended to `out`. */
void bw_report_encode(GString *out, const bw_report_t *report);

/* The inverse, on bytes from the reader: every length and count is checked
 * against what is left and against the core's caps, text that is not
 * UTF-8 is repaired.  BW_E_INVALID (with a detail) when the bytes are not
 * exactly one encoded report. */
bw_status_t bw_report_decode(const void *data, size_t len, bw_report_t **out, char **detail);

/* bw_report_to_json_string() appended to `out` (the reader writes its lines
 * straight into its output buffer). */
void bw_report_json_append(GString *out, const bw_report_t *report, const char *file, int index,
                           const char *error);

/* The start of a SPEC section 1 line, as bw_report_to_json_string() writes
 * it: `{"format_version":N,"file":"..."`, then `,"index":N` for an mbox
 * message (the next
 * member follows with its comma).  The parent checks that each line from
 * the reader is about the input it asked for. */
void bw_report_json_head(GString *out, const char *file, int index);

/* Bytes of the file a READ request reads (0 for anything else). */
size_t bw_reader_read_max(guint32 read);

/* What a READ request answers about the bytes of a file: BW_OK with *json
 * (g_free) the JSON text of the result, or with *json NULL when the
 * message gives nothing; else the status (and *detail, g_free, may be
 * NULL) of a message that cannot be read. */
bw_status_t bw_reader_read_json(guint32 read, const char *data, size_t len, char **json,
                                char **detail);

/* The parent's check of a READ answer's payload, before anything parses
 * it: valid UTF-8 without NUL, one strict JSON value within the caps
 * (bw_caps_check_json: depth, values, bytes).  BW_OK, else BW_E_INVALID
 * with *why (g_free; may be NULL). */
bw_status_t bw_reader_payload_check(const char *json, size_t len, char **why);
/* The check, then json-glib: *out (json_node_unref) the value. */
bw_status_t bw_reader_payload_parse(const char *json, size_t len, JsonNode **out, char **why);
/* json-glib alone, for a payload that passed bw_reader_payload_check
 * already (the reader adapter checks every answer it hands out: checking
 * again cost a full scan ~340 M instructions at 160k). */
bw_status_t bw_reader_payload_parse_checked(const char *json, size_t len, JsonNode **out,
                                            char **why);

/* json_to_string(n, FALSE) as JSON: json-glib 1.6's generator writes
 * U+001F raw inside a string (its escape test stops below 0x1f), which is
 * no JSON, and the payload check above rejects it: one such character in a
 * Subject made a message "garbage" and hid it from the judges.  Each raw
 * 0x1f byte (only ever inside a string there) becomes "\u001f".  g_free. */
char *bw_json_node_to_text(JsonNode *n);
/* The same, and n unreffed. */
char *bw_json_node_take_text(JsonNode *n);
/* A direct writer's text, out's string trimmed to its length (a scan keeps
 * thousands of them); out is freed. */
char *bw_json_string_take(GString *out);

G_END_DECLS

#endif /* BW_READER_H */
