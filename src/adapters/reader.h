/* reader.h: reading untrusted mail in a confined process (the parent side).
 *
 * Every message bouncewatch reads (`parse`; in a scan the candidates, the
 * received mail the signals read, the owner's sent mail for the profile and
 * the signals) goes through `bouncewatch-reader` processes (src/reader/reader.c:
 * libbwcore only, resource limits, see there).  The caller queues its
 * inputs, then takes the answers in the same order.  Requests are streamed
 * ahead, so the reader never waits for the caller and a batch costs one
 * process start, not one per message.
 *
 * A pool: a batch with enough inputs waiting (BOUNCEWATCH_READERS_SPLIT,
 * default 100) is read by up to BOUNCEWATCH_READERS processes at once
 * (default min(2, online CPUs)), each given contiguous blocks of inputs;
 * the answers are merged in the order added.  Fewer inputs (the hook's new
 * mail) are read by one.  Everything below holds per process: its culprit
 * is blamed, a new process takes its place and its blocks go on.
 *
 * When the reader dies (a crash, a CPU limit), answers garbage, or does not
 * answer one message within the time limit, the message it was reading is
 * the culprit: it gets a result with `fault` set, a new reader is started
 * and the batch goes on after it (inside an mbox, after that message).  A
 * reader that cannot start, or dies before it said hello, three times in a
 * row (counted over the pool: one start at a time) is unavailable: the
 * remaining inputs get BW_READER_FAULT_UNAVAILABLE (no message is blamed
 * for that).
 *
 * Which program: $BOUNCEWATCH_READER when set (the tests choose their
 * build of it this way), else `bouncewatch-reader` next to the running
 * executable when it is there (the build tree), else the installed
 * $(pkglibexecdir)/bouncewatch-reader.
 *
 * Time limit per message: BW_READER_DEFAULT_LIMIT_MS of CPU time (enforced
 * in the reader by RLIMIT_CPU) and three times that of wall-clock time
 * (enforced here: a reader blocked without burning CPU), ten times both
 * in an AddressSanitizer build; BOUNCEWATCH_READER_TIMEOUT_MS overrides the
 * base figure (tests).
 *
 * Adapters do not print: the reader's standard error (sanitised, capped at
 * 64 KiB per batch) and one line per culprit go to the `log` callback. */
#ifndef BW_ADAPTER_READER_H
#define BW_ADAPTER_READER_H

#include "bw.h"

G_BEGIN_DECLS

#define BW_READER_DEFAULT_LIMIT_MS 3000u

typedef enum {
    BW_READER_LINES,     /* SPEC section 1 lines, written by the reader */
    BW_READER_REPORTS,   /* decoded reports */
} bw_reader_mode_t;

typedef enum {
    BW_READER_FAULT_NONE = 0,
    BW_READER_FAULT_CRASH,        /* the reader died on this message */
    BW_READER_FAULT_TIMEOUT,      /* no answer within the wall-clock limit */
    BW_READER_FAULT_GARBAGE,      /* it answered outside the protocol */
    BW_READER_FAULT_UNAVAILABLE,  /* no reader could run: nothing was read */
} bw_reader_fault_t;

/* "crash", "timeout", "garbage", "unavailable" (or NULL for NONE). */
const char *bw_reader_fault_to_string(bw_reader_fault_t fault);

typedef struct {
    bw_reader_mode_t mode;
    unsigned limit_ms;              /* 0: the default (see above) */
    void (*log)(void *data, const char *line);   /* may be NULL */
    void *log_data;
    /* May be NULL: called before this makes a text someone reads (a
     * translated line, a system error's text), for a caller that sets its
     * locale only once it has something to say (`parse --json`). */
    void (*before_text)(void);
} bw_reader_options_t;

typedef struct bw_reader bw_reader_t;

typedef struct {
    guint request;             /* the input it answers, 0, 1... in the order added */
    int index;                 /* mbox message, or -1 */
    bool end;                  /* that input is finished (no other field is set) */
    bw_reader_fault_t fault;
    int signal;                /* with FAULT_CRASH: the signal that ended it, or 0 */
    bw_status_t status;        /* without a fault: BW_OK or the message's error */
    const char *detail;        /* the error or the fault, in English; borrowed */
    const char *line;          /* LINES: the line (no line end) when the
                                  reader wrote one; borrowed */
    size_t line_len;
    bw_report_t *report;       /* REPORTS with BW_OK: the report, the caller's
                                  to free (NULL for a message that is not a
                                  report when only bounces were asked for) */
    const char *json;          /* a READ request with BW_OK: the JSON text of
                                  the result (checked: UTF-8, no NUL, strict
                                  JSON within the caps), or NULL when the
                                  message gives nothing; borrowed */
    size_t json_len;
} bw_reader_result_t;

/* No process is started until the first answer is asked for. */
bw_reader_t *bw_reader_new(const bw_reader_options_t *opts);
void bw_reader_free(bw_reader_t *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_reader_t, bw_reader_free)

/* Queue a file: every message of it (limit 0) or the first `limit`;
 * `bounces_only` sends no report for a message that is not one.  Returns
 * the request number. */
guint bw_reader_add_file(bw_reader_t *r, const char *path, unsigned limit, bool bounces_only);
/* Queue one message given as bytes (standard input; the file name in its
 * line is "-").  Takes a reference. */
guint bw_reader_add_data(bw_reader_t *r, GBytes *data);

/* What a READ request reads of a message instead of parsing it as a bounce
 * (bw-reader.h); its answer is one result with `json`, which has passed
 * bw_reader_payload_check() (decode it with
 * bw_reader_payload_parse_checked() and the *_from_json of the kind), in
 * either mode. */
typedef enum {
    BW_READER_READ_FACTS,          /* a received message: bw_mailfacts_t */
    BW_READER_READ_NOTABLE_FACTS,  /* the same, only when bw_mailfacts_notable() */
    BW_READER_READ_SENT_SUMMARY,   /* a sent message: bw_sent_summary_t */
    BW_READER_READ_SENT_HEADERS,   /* a sent message: bw_sent_mail_t (profile) */
} bw_reader_read_t;

/* Queue a file (its first message: the start of the file) for a READ
 * request.  Returns the request number. */
guint bw_reader_add_read(bw_reader_t *r, const char *path, bw_reader_read_t what);

/* The caller adds no more inputs (`parse`: it adds them all first).  A
 * process then has its input closed as soon as it has been sent its last
 * request: it ends once it has answered them, while its last answers are
 * passed on, instead of after the caller is done with them (the end of a
 * process, its memory given back, took 0.5-1 ms at the end of every
 * batch).  An input added after this is an error. */
void bw_reader_no_more_inputs(bw_reader_t *r);

/* The next answer, in order; false when every input is finished.  A result
 * is valid until the next call. */
bool bw_reader_next(bw_reader_t *r, bw_reader_result_t *res);

/* True when bw_reader_next() would answer without waiting for a reader
 * (an answer is in hand, or every input is finished): a caller that
 * buffers its output flushes it only before a wait. */
bool bw_reader_ready(bw_reader_t *r);

/* How many times a reader was started in this batch, over the pool (tests,
 * timing). */
unsigned bw_reader_starts(const bw_reader_t *r);

/* Starts a reader and waits for its hello (it confined itself and read a
 * known report), for `doctor`.  False with *why (g_free; may be NULL)
 * when none can run. */
bool bw_reader_check(char **why);

/* The program that reads (g_free). */
char *bw_reader_program(void);
/* What identifies that program's build: version, protocol, size and
 * modification time (g_free).  A message skipped by one build is tried
 * again by another. */
char *bw_reader_identity(void);

G_END_DECLS

#endif /* BW_ADAPTER_READER_H */
