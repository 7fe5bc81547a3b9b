/* scan-private.h: the stages of one scan and the data passed between them
 * (internal to src/app; the API is scanner.h).
 *
 * One scan, whatever started it (`scan`, `hook post-new`, the agent), is
 * these stages, in this order (scan.c runs them; one file each):
 *
 *   read      scan-read.c      the state as the last run left it, and what
 *                              arrived since: the candidates of the lastmod
 *                              range, the new items among them (`fresh`),
 *                              and whether nothing at all is new
 *   profile   scan-classify.c  the owner's sender profile (sent mail)
 *   signals   scan-signals.c   the owner's sent mail and the new received
 *                              mail read into stored facts, runs in Sent,
 *                              replies (SPEC 2b); before classify, which
 *                              asks about the runs' members
 *   parse     scan-parse.c     each new item's file -> a report, or nothing,
 *                              read by the confined reader process (what it
 *                              cannot read is skipped: scan-skipped.c)
 *   classify  scan-classify.c  the stored reports again and the new ones
 *                              -> verdicts (`items`, by date)
 *   group     scan-store.c     campaigns over the items (inside the save
 *                              transaction: the previous campaigns are read
 *                              there, so ids cannot fork between runs)
 *   store     scan-store.c     items, campaigns, snapshot, meta: one
 *                              transaction
 *   detect    scan-store.c     surges
 *   tag       scan-store.c     the tags of SPEC section 3
 *   assess    scan.c           the assessment, and the result
 * A run with nothing new stops after read (the hook), answers from the
 * snapshot (snapshot.c: `scan --json` at another "now"), or loads the
 * stored items and campaigns instead of profile..store.
 *
 * A newcomer follows one report: read (a bw_nm_candidate_t in `fresh`) ->
 * parse (its bw_report_t) -> classify (a bw_item_t in `items`) -> group
 * (item->campaign) -> store (its row) -> detect (a surge counts it) -> tag
 * -> assess; the CLI then alerts (hook, watch) or prints. */
#ifndef BW_SCAN_PRIVATE_H
#define BW_SCAN_PRIVATE_H

#include "scanner.h"
#include "nm-source.h"
#include "scan-signals.h"
#include "store.h"
#include "reader.h"

G_BEGIN_DECLS

#define DEFAULT_LOCK_TIMEOUT_MS 10000u
#define DEFAULT_PROFILE_SAMPLE  500u
#define MAX_PROFILE_SAMPLE      20000u
/* What wrote the state: another program version, engine version or state
 * layout (here: the snapshot) is not trusted, the mail is read again. */
#define STATE_PROGRAM PACKAGE_VERSION " " BW_ENGINE_VERSION " state-5"

/* The messages the reader could not read (scan-skipped.c). */
typedef struct {
    GPtrArray *list;          /* bw_skipped_t*, owned: the state's, then this run's */
    GHashTable *by_id;        /* message-id -> bw_skipped_t* in list */
    GHashTable *changed;      /* message-ids whose row is written */
    GHashTable *cleared;      /* message-ids whose row is deleted (owned keys) */
    char *reader;             /* this reader build */
} bw_scan_skips_t;

/* An item's verdict as bw_classify gave it (bw_scan_row_t). */
typedef struct {
    bw_class_t klass;
    double score;
    guint evidence;            /* lines of evidence */
} bw_scan_verdict_t;

/* What the classify stage tells the store stage of an item of this run
 * (bw_scan_t.rows, by the item's address): one record, one lookup of a
 * pointer, where three tables keyed by its Message-ID took three string
 * hashes (at 1M messages ~11 hashes of each stored row's Message-ID a
 * run, each a likely cache miss on its string). */
typedef struct {
    /* the questions its classification asked (ops-record.h text form;
     * owned) */
    char *questions;
    /* the campaign its stored row names ("" none) when the stored verdict
     * was kept, not computed again; NULL otherwise (in rows_names) */
    const char *kept;
    /* its verdict as bw_classify gave it, before the group stage can
     * promote it (campaign.c raises class and score, adds evidence, from
     * the other items around it) */
    bw_scan_verdict_t verdict;
} bw_scan_row_t;

/* One scan attempt: its inputs, the state it found, and what each stage
 * hands to the next.  Owned by scan.c (bw_scan_clear). */
typedef struct {
    const bw_scanner_options_t *opts;
    /* set once the attempt succeeded and the process exits after it
     * (bw_scanner_leaves_memory): bw_scan_clear then only closes */
    bool leave_memory;
    bw_nm_source_t *src;
    bw_store_t *store;
    /* message-id -> bw_skipped_t*: what an earlier attempt of this run
     * could not read (not read twice); borrowed from the retry loop */
    GHashTable *run_culprits;
    /* The confined reader process of this attempt (reader.h): every
     * message the stages read goes through it, one process for all of
     * them (bw_scan_reader starts it when first needed). */
    bw_reader_t *reader;

    /* read: the state as the last run left it */
    const char *uuid;          /* the database's (borrowed from src) */
    guint64 revision;          /* the database's now */
    guint64 after;             /* the revision the last run saw */
    char *saved_uuid, *saved_rev, *saved_dirs;
    char *saved_dir_files;     /* the state's table of directories (nm-source.h) */
    char *cfg;                 /* config digest now (owners, settings) */
    char *dirs;                /* directory digest now, or NULL */
    bool full;                 /* every candidate is read again */
    bool config_changed;
    /* read: what arrived */
    GPtrArray *candidates;     /* bw_nm_candidate_t*: the candidate query's answer */
    GPtrArray *fresh;          /* borrowed from candidates or retried: not in the
                                  state yet */
    GPtrArray *retried;        /* bw_nm_candidate_t*: what another reader build
                                  skipped, read again */
    GHashTable *moved;         /* message-ids (borrowed from candidates): stored
                                  reports notmuch now holds under another
                                  file, in `fresh` to be read again */
    bw_scan_skips_t skips;     /* what the reader could not read */
    guint64 examined;          /* messages in the lastmod range */
    bool sent_changed;         /* the owner's mail is among them */
    bool sent_grown;           /* and some of it was only added: none left the
                                  database, every message of the range is new
                                  (the owner's count derived, profile stage) */
    bool none_removed;         /* no message left the database since the last
                                  save; the new ones of the range are known
                                  (scan-read.c, "known ids") */
    bool known_ready;          /* the state's set of known ids is usable */
    guint8 known_key[16];      /* its hash key */
    struct range_keys *from_keys; /* the range's words (scan-classify.c), or
                                  NULL: not loaded yet */
    bool from_keys_tried;      /* loaded once: NULL after means not known */
    char *saves_read;          /* meta "saves" as the read stage's one read
                                  transaction saw it (scan-read.c), or NULL */
    bool saves_same;           /* no save since then, when from_keys was
                                  loaded (bw_scan_from_count_kept) */
    bool nothing_new;          /* only our own tags moved since the last run */
    guint64 saves;             /* the state's save counter (meta "saves") */
    bool tags_owed;            /* some save since the last full tagging */
    gint64 latest_backscatter; /* date of the newest backscatter report, -1
                                  unknown (meta "latest_backscatter") */
    gint64 incident_last;      /* newest signal of the signals' incident, 0
                                  none, -1 unknown (meta "incident_last") */
    guint64 total;             /* messages in the database */
    /* meta "alerts_settled" (bw_scan_settled): the save whose alerts the
     * caller settled, at which "now", valid up to which "now"; 0 none */
    guint64 settled_saves;
    gint64 settled_at, settled_until;

    /* profile */
    bw_profile_t *profile;
    bw_mailbox_ops_t ops;
    GPtrArray *sent;           /* bw_sent_mail_t*: what the profile learnt from */
    bool sent_as_snapshot;     /* ... taken from the last snapshot */
    GVariant *sent_snap;       /* ... its sent messages (bw_snapshot_sent_variant):
                                * `sent` is left empty, the save keeps these bytes */
    guint64 sent_total;

    /* signals (scan-signals.h): facts, runs in Sent, replies; the runs'
     * members answer the classification's sent_is_anomaly */
    bw_signals_run_t sig;

    /* parse: the reports of `fresh`, one per candidate (NULL: not a report) */
    GPtrArray *parsed;         /* bw_report_t* or NULL, parallel to fresh */

    /* classify */
    GPtrArray *items;          /* bw_item_t*, by date */
    GHashTable *have;          /* message-id of every item and of every
                                  vanished one (borrowed keys); made by the
                                  store stage when it takes in another
                                  run's items, NULL until then */
    GPtrArray *stored_questions;  /* the stored rows' questions (char*, NULL for
                                     none; taken when kept), by the index of
                                     their item in the classify stage's load */
    GPtrArray *vanished;       /* char*: stored reports no longer in the mailbox */
    /* bw_item_t* -> bw_scan_row_t: every item the classify stage gave
     * (its questions, whether its stored verdict was kept, its verdict
     * before the group stage); the records in row_blocks, the kept
     * campaigns' names copied into rows_names */
    GHashTable *rows;
    GPtrArray *row_blocks;     /* bw_scan_row_t[BW_SCAN_ROW_BLOCK] each */
    guint row_used;            /* of the last block */
    GStringChunk *rows_names;
    char *profile_digest;      /* bw_profile_digest after the learning pass */
    char *verdict_digest;      /* bw_profile_verdict_digest, the same */
    /* taught_t* (scan-classify.c): each distinct lesson of the learning
     * pass at its first place, the state's meta "profile_lessons"; NULL:
     * not kept (the next run reads every report) */
    GPtrArray *taught;
    /* The reports the learning pass went over (bw_report_t*, a set): each
     * one that teaches (bw_classify_lessons) had all its lessons learnt by
     * the profile then.  NULL when the classify stage did not run. */
    GHashTable *pass_reports;
    /* The store stage took in items another run committed (not in the
     * learning pass). */
    bool took_theirs;
    /* The items whose report teaches the profile (bw_classify_learn's
     * question, asked of every item once by the store stage: the
     * snapshot records it, the assessment reads it); NULL before. */
    GHashTable *teaches;
    /* Each stored report teaches what it taught at the save this run read
     * (taught_reusable, and no save since): a kept row's stored snapshot
     * entry then says rightly whether it teaches (scan-store.c). */
    bool teaches_as_stored;
    /* The store stage could not make a slim item whole from its row (the
     * row does not read, or is not the one its entry was written with):
     * the state is damaged, the run starts over from the mail (scan.c), as
     * a row that does not read at the load does. */
    bool unslim_failed;

    /* store: whether the stage left each item's stored row as it was (a
     * kept verdict, the same campaign, not promoted), by its index in
     * `items` (unchanged_len of them: the detect stage does not move them);
     * NULL when the stage did not tell (the tag stage then looks at every
     * item) */
    guint8 *unchanged;
    guint unchanged_len;

    /* group, detect */
    GPtrArray *campaigns;      /* bw_campaign_t* */
    GPtrArray *surges;         /* bw_surge_t* */
} bw_scan_t;

void bw_scan_clear(bw_scan_t *s);
/* (scan-classify.c) The row records: a new one for item `it` (its
 * verdict now, `questions` taken), and all of them freed. */
#define BW_SCAN_ROW_BLOCK 1024u
bw_scan_row_t *bw_scan_row_new(bw_scan_t *s, const bw_item_t *it, char *questions);
void bw_scan_rows_clear(bw_scan_t *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(bw_scan_t, bw_scan_clear)

/* ---------------------------------------------------------------- helpers (scan.c) */

/* BOUNCEWATCH_DEBUG_TIMING=1 prints the time of each phase to stderr. */
void bw_scan_phase(const char *name);
/* One line for the user through opts->notice, unless quiet. */
void bw_scan_notice(const bw_scanner_options_t *opts, const char *line);
unsigned bw_scan_setting_uint(bw_nm_source_t *src, const char *key, unsigned dflt,
                              unsigned max);
/* A digest of everything besides the mail that a verdict depends on. */
char *bw_scan_config_digest(bw_nm_source_t *src);
/* BW_E_CONFIG when the owner's address cannot be trusted (scanner.h). */
bw_status_t bw_scan_check_owner(bw_nm_source_t *src, const bw_scanner_options_t *opts,
                                char **detail);
/* scan_once() until it does not ask to be retried (scan.c); with json_out,
 * a run with nothing new may answer with the document only. */
bw_status_t bw_scan_run_retrying(const bw_scanner_options_t *opts, bw_scan_result_t **out,
                                 char **json_out, guint64 *json_revision, char **detail);
/* Touch `<state>.last-scan` (scanner.h, bw_scanner_last_success). */
void bw_scan_stamp_success(const char *state_path);
/* A fresh profile of the owner (addresses and configured relays only). */
bw_profile_t *bw_scan_profile_new(bw_nm_source_t *src);
/* Items by date, then Message-ID. */
gint bw_scan_item_cmp(gconstpointer a, gconstpointer b);
/* Restrict a result to reports dated at or after `since`. */
void bw_scan_apply_since(bw_scan_result_t *r, gint64 since);
/* Nothing new: remember the revision and directory digest as seen. */
void bw_scan_account_unchanged(bw_scan_t *s);
/* The state turned out damaged (detail in *msg): move it aside and run a
 * full scan instead (*out as bw_scanner_run gives it). */
bw_status_t bw_scan_restart_full(bw_scan_t *s, char **msg, bw_scan_result_t **out,
                                 char **detail);

/* ---------------------------------------------------------------- skipped (scan-skipped.c) */

void bw_scan_skips_clear(bw_scan_skips_t *k);
/* The state's list, for this reader build. */
void bw_scan_skips_load(bw_scan_skips_t *k, bw_store_t *store);
/* Skipped by this reader build (so not to be read again). */
bool bw_scan_skips_holds(const bw_scan_skips_t *k, const char *message_id);
/* It reads now, or left the mailbox: its row goes. */
void bw_scan_skips_forget(bw_scan_skips_t *k, const char *message_id);
/* Skipped (cause and why set), or only moved to another file (NULL). */
bw_skipped_t *bw_scan_skips_put(bw_scan_skips_t *k, const char *message_id, const char *file,
                                gint64 date, const char *cause, const char *why);
/* A copy of the list for a result, by date. */
GPtrArray *bw_scan_skips_result(const bw_scan_skips_t *k);
/* Write the rows that changed (inside the store's transaction). */
bw_status_t bw_scan_skips_save(bw_scan_skips_t *k, bw_store_t *store);
/* One line for the user, even with --quiet: which message, what happened. */
void bw_scan_skip_notice(const bw_scanner_options_t *opts, const bw_skipped_t *e);
/* A message the reader crashed, hung or answered garbage on, or that the
 * parser refused by a cap (`cause`, SPEC section 2 `skipped`): skipped,
 * remembered in the state and for the rest of the run, and said once. */
void bw_scan_skip(bw_scan_t *s, const bw_nm_candidate_t *c, const char *cause, const char *why);

/* ---------------------------------------------------------------- reading (scan-profile.c) */

/* The reader of this attempt (created when first asked for). */
bw_reader_t *bw_scan_reader(bw_scan_t *s);
/* Feed `profile` the owner's `max` newest sent messages, read by the
 * reader (what it cannot read is skipped: bw_scan_skip), in the order
 * notmuch gives them; `sent_out` (may be NULL) gets them as
 * bw_sent_mail_t*.  `since`: bw_nm_source_sent_sample's guess (0: none). */
bw_status_t bw_scan_learn_profile(bw_scan_t *s, bw_profile_t *profile, unsigned max,
                                  gint64 since, GPtrArray *sent_out, char **detail);
/* How the signals stage reads mail (scan-signals.h), through this scan. */
void bw_scan_signals_reading(bw_scan_t *s, bw_signals_reading_t *out);
/* Whether the count of messages from `address` is the one at the last save
 * (scan-classify.c: none removed, and no From of the range can match it). */
bool bw_scan_from_count_kept(bw_scan_t *s, const char *address);
/* The stamp of the set of known ids kept with the save of `revision` and
 * save counter `saves` (meta known_ids_at; scan-read.c, g_free). */
char *bw_scan_known_stamp(guint64 revision, guint64 saves);
void bw_scan_from_keys_free(bw_scan_t *s);

/* ---------------------------------------------------------------- stages */

/* read (scan-read.c): open the database and the state, find what changed.
 * *retry: a read failed before anything was written. */
bw_status_t bw_scan_stage_read(bw_scan_t *s, bool *retry, char **detail);
/* Keeps the state's set of known ids with a save (in its transaction):
 * the range's messages added when none was removed, else the whole set
 * listed again (scan-read.c, "known ids").  full_save: a save of the scan
 * (else only the files of the range's messages, nothing new);
 * others_saved: another run saved since this one read the state. */
bw_status_t bw_scan_known_ids_save(bw_scan_t *s, bool full_save, bool others_saved);
/* Inside the save's transaction: another run saved since this one read
 * the state (its revision `rev_now`, or the save counter, moved). */
bool bw_scan_others_saved(bw_scan_t *s, const char *rev_now);
/* (Tests: bw_test_gate(), bw.h.  BOUNCEWATCH_TEST_SAVE_GATE waits before a
 * save's transaction; BOUNCEWATCH_TEST_READ_GATE in the read stage, after
 * the state's count and set are read and before the set is looked in.) */

/* profile (scan-classify.c): the sender profile from the newest sent mail,
 * or from the snapshot when none of the owner's mail changed. */
bw_status_t bw_scan_stage_profile(bw_scan_t *s, bool *retry, char **detail);

/* signals (scan-classify.c, on scan-signals.h): read what is new (all of
 * it in a full run), find the runs in Sent, judge every stored fact. */
bw_status_t bw_scan_stage_signals(bw_scan_t *s, bool *retry, char **detail);

/* parse (scan-parse.c): s->parsed gets each fresh candidate's report, read
 * by the confined reader; what it cannot read goes to s->skips.  Fails only
 * when no reader can run at all. */
bw_status_t bw_scan_stage_parse(bw_scan_t *s, char **detail);

/* classify (scan-classify.c): the stored reports (incremental runs) and the
 * parsed new ones -> s->items by date.  With *out set, the state was
 * damaged and a full run answered instead. */
bw_status_t bw_scan_stage_classify(bw_scan_t *s, bw_scan_result_t **out, bool *retry,
                                   char **detail);

/* What the learning pass learnt (bw_scan_t.taught) as meta
 * "profile_lessons" of the save numbered `saves`, or NULL: none kept. */
char *bw_scan_taught_text(const bw_scan_t *s, guint64 saves);

/* Nothing new (scan-classify.c): the stored items and campaigns, and the
 * profile as the saving run had it.  With *out set, see classify. */
bw_status_t bw_scan_stage_load(bw_scan_t *s, bw_scan_result_t **out, bool *retry,
                               char **detail);

/* group + store (scan-store.c): campaigns, then everything in one
 * transaction.  *retry: a read of this run was not of its snapshot
 * (bw_nm_source_snapshot_held); nothing was written. */
bw_status_t bw_scan_stage_store(bw_scan_t *s, bool *retry, char **detail);

/* detect (scan-store.c): surges, saved unless nothing was new. */
bw_status_t bw_scan_stage_detect(bw_scan_t *s, char **detail);

/* Nothing new, and nothing that can alert or be owed (skip_unchanged):
 * no backscatter report recent enough for a surge to be under way, no
 * tags owed.  Decided from meta values the read stage took. */
bool bw_scan_quiet(const bw_scan_t *s);

/* Nothing new since the save whose alerts the caller settled
 * (skip_unchanged, bw_scanner_settled_key), at a "now" within the span that
 * save's alerts were settled for, and no tags owed: nothing can alert that
 * was not already alerted.  Decided from meta values the read stage took
 * (why this is exact: scan-read.c). */
bool bw_scan_settled(const bw_scan_t *s);

/* tag (scan-store.c): write the tags of SPEC section 3 when asked. */
void bw_scan_stage_tag(bw_scan_t *s);

/* ---------------------------------------------------------------- snapshot (snapshot.c)
 * What a run with nothing new needs without the items: see snapshot.c. */

/* The stored sent messages the profile learnt from (checked by the
 * store), or NULL. */
GVariant *bw_snapshot_sent_variant(bw_store_t *store);
/* Their bytes as the store keeps them, from the messages. */
GBytes *bw_snapshot_sent_bytes(GPtrArray *sent);
/* How many sent messages the snapshot's `vs` holds (0 when it does not
 * read), and in *oldest the least of their dates (notmuch's). */
guint bw_snapshot_sent_oldest(GVariant *vs, gint64 *oldest);
/* Feed the profile the snapshot's sent messages (vs: from
 * bw_snapshot_sent_variant); sent_out (may be NULL) receives them (without
 * it, none is made: their strings are read in place from its bytes). */
void bw_snapshot_sent(GVariant *vs, bw_profile_t *profile, GPtrArray *sent_out);
/* The profile as the saving run had it (sent mail, learnt originals); FALSE
 * without a usable snapshot.  `account` (may be NULL) gets the account the
 * profile had between the two: the one the signals stage judges against
 * (scan-signals.h). */
bool bw_snapshot_replay_profile(bw_store_t *store, bw_profile_t *profile,
                                bw_account_t **account);
/* Write the snapshot entries of `items` (bw_item_t*, their rows written in
 * this transaction); `teaches`: the items whose report teaches. */
bw_status_t bw_snapshot_put_entries(bw_store_t *store, GPtrArray *items, GHashTable *teaches,
                                    GPtrArray *questions);
/* Every stored item as a slim one (bw-scan.h), from its snapshot entry, in
 * the stored order (date, then Message-ID), and each row's questions (in
 * `questions`, by index; NULL for none).  FALSE, nothing given, when the
 * entries do not count as many as the rows or one does not read as the
 * entry of its row (refused as damaged: the caller loads the rows).  The
 * caller holds a read transaction (bw_store_read_begin) over this and any
 * later load of the same rows. */
bool bw_snapshot_slim_items(bw_store_t *store, GPtrArray **items, GPtrArray **questions);
/* Make a slim item whole, in place: its report, file and evidence texts
 * from its stored row (`full`, taken, when the caller loaded it; else read
 * by its Message-ID), the rest (verdict, campaign, added evidence) kept;
 * the report's place in s->pass_reports too.  FALSE when the row does not
 * read or is not the item's (the caller starts over). */
bool bw_scan_item_unslim(bw_scan_t *s, bw_item_t *it, bw_item_t *full);
/* The SPEC document of a run with nothing new, or NULL. */
char *bw_snapshot_document(bw_scan_t *s, bw_profile_t *profile);
/* bw_json_node_to_text(bw_scan_result_to_json(r)), the same bytes, with
 * less of json-glib (snapshot.c); NULL on failure. */
char *bw_scan_result_text(const bw_scan_result_t *r);

G_END_DECLS

#endif /* BW_SCAN_PRIVATE_H */
