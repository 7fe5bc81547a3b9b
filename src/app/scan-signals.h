/* scan-signals.h: the signals stage of a scan (shared/SPEC.md section 2b).
 *
 * Between the profile and the classification: the owner's sent mail and
 * the received mail of the lastmod range are read (by the reader process:
 * bw_signals_reading_t) into stored facts
 * (bw_sent_summary_t, bw_mailfacts_t: signal_rows in the state), the runs
 * in Sent the owner did not write are found over all stored sent
 * summaries, the replies in their threads are read, and every stored fact
 * is judged again against the account (owner + provider of the profile).
 * So the signals are a function of the mailbox, not of the order mail
 * arrived in or of which run read it: an incremental run gives what a full
 * run gives.  The classification asks about the runs' members
 * (bw_mailbox_ops_t.sent_is_anomaly through bw_nm_source_set_anomalies).
 *
 * The rows a run read are written by bw_signals_stage_save() inside the
 * scan's one save transaction (a crash loses nothing: the revision is
 * saved in the same transaction). */
#ifndef BW_SCAN_SIGNALS_H
#define BW_SCAN_SIGNALS_H

#include "bw-signals.h"
#include "nm-source.h"
#include "store.h"
#include "reader.h"

G_BEGIN_DECLS

/* Bounds of one run (the mailbox is the user's, the mail a stranger's). */
#define BW_SIGNALS_MAX_SENT       20000u          /* newest sent messages summarised */
#define BW_SIGNALS_MAX_THREAD_IDS 64u             /* run members per thread query */

typedef struct {
    bw_account_t *account;
    char *account_key;
    GPtrArray *signals;       /* bw_signal_t*, bw_signal_compare order */
    GPtrArray *phishing;      /* bw_phish_t*, by date */
    GHashTable *members;      /* message-id -> run key (first member): the
                                 sent anomalies, for the classification */
    /* rows to write: kind ("facts", "sent") + message-id -> JSON or "" to
     * delete; `clear`: drop every stored row first (a full run) */
    GPtrArray *pending;
    bool clear;
    /* what the next run may reuse (see "The memo" in scan-signals.c):
     * written with the rows; NULL: nothing to write */
    char *memo;
    bool sent_rows_changed;   /* bump the sent rows' version */
    bool runs_reused;         /* the memo's runs were used */
    bool facts_reused;        /* only relevant and new facts were judged */
    guint64 read_sent, read_received, read_replies;   /* files read (figures) */
} bw_signals_run_t;

void bw_signals_run_clear(bw_signals_run_t *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(bw_signals_run_t, bw_signals_run_clear)

/* What the stage reads from the mailbox. */
typedef enum {
    BW_SIGNALS_READ_ALL,      /* every message (a full run: no stored row used) */
    BW_SIGNALS_READ_RANGE,    /* the lastmod range after `after`, and the stored rows */
    BW_SIGNALS_READ_NONE,     /* the stored rows only (nothing new) */
} bw_signals_read_t;

/* How the stage reads mail: every message through the confined reader
 * process (reader.h), never in this one.  A message it cannot read (the
 * reader crashed, hung or answered garbage on it) is handed to `skip` and
 * gives nothing; a message `held` says was skipped before by this reader
 * build is not read at all. */
typedef struct {
    bw_reader_t *reader;
    bool (*held)(void *ctx, const char *message_id);                 /* may be NULL */
    /* the Message-IDs `held` holds (a new array of g_free'd strings); a
     * `held` without it makes a full run list the messages one by one */
    GPtrArray *(*held_ids)(void *ctx);                                /* may be NULL */
    void (*skip)(void *ctx, const bw_nm_candidate_t *c, const char *cause,
                 const char *why);                                    /* may be NULL */
    void *ctx;
    /* bw_nm_candidate_t*: messages another reader build skipped (or all
     * skipped ones, `scan --retry-skipped`): read again wherever they are
     * in the mailbox's history (may be NULL) */
    GPtrArray *retried;
    /* TRUE when the count of messages from `address` is the one at the last
     * save: none left the database since, and no message of the lastmod
     * range can be from it (scan-classify.c); may be NULL (not known) */
    bool (*from_count_kept)(void *ctx, const char *address);
} bw_signals_reading_t;

/* Runs the stage.  The facts are judged against `account` (taken), or,
 * when it is NULL, against the account of `profile` as it is now.  A
 * saving run calls the stage after the profile learnt from the sent mail
 * and before it learns from the originals (classify): a run with nothing
 * new, whose profile has learnt both, passes the account it had in
 * between (bw_snapshot_replay_profile), or it would judge against another
 * account than a full run does (and find the memo of another account).
 * `ops` answers the judges' questions about the mailbox
 * (received_from_count, has_message_id...).  A failed notmuch read is
 * BW_E_DATABASE (the scan retries); a reader that cannot run at all is
 * BW_E_INTERNAL. */
bw_status_t bw_signals_stage_run(bw_signals_run_t *r, bw_nm_source_t *src, bw_store_t *store,
                                 const bw_profile_t *profile, bw_account_t *account,
                                 const bw_mailbox_ops_t *ops,
                                 const bw_signals_reading_t *reading, bw_signals_read_t read,
                                 guint64 after, char **detail);

/* The name of the stage's timing line: which memo it used ("signals+memo":
 * the runs and the facts' verdicts, "signals+runs": the runs, "signals":
 * none; T320 checks that it is used). */
const char *bw_signals_phase(const bw_signals_run_t *r);

/* Inside the save transaction: the rows this run read. */
bw_status_t bw_signals_stage_save(const bw_signals_run_t *r, bw_store_t *store, char **detail);

/* The SPEC 2b verdict folded into the assessment (after bw_assess): the
 * result gets its signals, imitations and the signals' assessment (for
 * the alerts). */
bw_status_t bw_signals_stage_assess(bw_signals_run_t *r, bw_scan_result_t *result,
                                    char **detail);

/* Adds "bw/signal" and "bw/phishing" to the wanted tags (message-id ->
 * GString*, created when missing) of the messages behind `signals`
 * (bw_signal_t*: a notice, a reply, each member of a run) and of the
 * imitations `phishing` (bw_phish_t*), SPEC section 3. */
void bw_signals_stage_tags(GPtrArray *signals, GPtrArray *phishing, GHashTable *wanted);

G_END_DECLS

#endif /* BW_SCAN_SIGNALS_H */
