/* store.h: bouncewatch's state in SQLite.
 *
 * One file ($XDG_DATA_HOME/bouncewatch/state.sqlite: directory 0700, file
 * 0600) in WAL mode with a busy timeout, so the post-new hook and the watch
 * agent can run at once: every write happens in a BEGIN IMMEDIATE
 * transaction (retried while another process holds it), items are keyed by
 * the report's Message-ID, so two writers never lose each other's work.
 *
 * Tables: meta (key/value: database uuid and revision, schema version),
 * items (report Message-ID -> class, date, JSON of bw_item_to_json),
 * campaigns (id -> JSON incl. fingerprint and members, muted flag),
 * surges (JSON), tagged (what we tagged), notified (surge or campaign key -> notification id and the
 * count at the last alert), snapshot and snap_items (the scanner's compact
 * copy of what a run with nothing new but another "now" needs: see
 * "snapshot rows" below), skipped (messages the reader process could not
 * read, and which build of it failed).
 *
 * A file that is not a database or is corrupt is moved aside
 * (state.sqlite.corrupt-<unix time>) and a fresh one is created; the caller
 * learns it through *rebuilt and rescans the mail. */
#ifndef BW_STORE_H
#define BW_STORE_H

#include "bw.h"
#include "bw-scan.h"

G_BEGIN_DECLS

#define BW_STORE_SCHEMA_VERSION 1

typedef struct bw_store bw_store_t;

/* Open (creating directory and file as needed).  When a damaged file was
 * moved aside and a new one started, *rebuilt (may be NULL) gets the
 * one-line notice saying where it went (g_free); else it is set to NULL.
 * *detail is for errors only. */
bw_status_t bw_store_open(const char *path, bw_store_t **out, char **rebuilt,
                          char **detail);
/* A close copies the write-ahead log into the database (a checkpoint: the
 * log, the directory and the database synced, the log removed) only when it
 * has grown past a bound (store.c: STORE_WAL_CHECKPOINT_BYTES, 1 MiB);
 * below it the log stays for the next open to read back, and a run that
 * only appends to it syncs nothing.  Nothing committed is lost to a crash
 * of the process: any later open reads the log.  A power loss can roll
 * back the commits since the last checkpoint, except those of a durable
 * transaction (bw_store_begin_durable), which are synced at their commit;
 * a handle that wrote tagged, muted or notified rows (effects outside the
 * state) outside one checkpoints at its close; the rest is derived from
 * the mail again by the next run. */
void bw_store_close(bw_store_t *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_store_t, bw_store_close)
/* Move the (damaged) file aside and start empty, keeping the handle valid.
 * Used when corruption only shows later, e.g. while loading items.
 * *notice (may be NULL) gets the one-line explanation (where the old file
 * went); *detail is for errors only. */
bw_status_t bw_store_reset(bw_store_t *s, char **notice, char **detail);

/* Transactions: begin is BEGIN IMMEDIATE, retried with back-off up to the
 * busy timeout; commit/rollback end it. */
bw_status_t bw_store_begin(bw_store_t *s, char **detail);
/* The same for a transaction whose commit must survive a power loss by
 * itself: the one that writes tagged or notified rows (what we did outside
 * the state).  Its commit syncs the log once (synchronous=FULL for it
 * alone, store.c: STORE_WAL_CHECKPOINT_BYTES); those rows written in an
 * ordinary transaction make the close checkpoint instead. */
bw_status_t bw_store_begin_durable(bw_store_t *s, char **detail);
/* A read transaction (deferred BEGIN; takes no lock in WAL mode): every
 * read until bw_store_read_end sees the same commit, whatever another
 * process commits meanwhile.  Nothing may be written inside it.  FALSE
 * when it could not be started (the reads are then each their own). */
bool bw_store_read_begin(bw_store_t *s);
void bw_store_read_end(bw_store_t *s);
bw_status_t bw_store_commit(bw_store_t *s, char **detail);
void bw_store_rollback(bw_store_t *s);

/* meta: *value_out NULL when the key is absent. */
bw_status_t bw_store_get_meta(bw_store_t *s, const char *key, char **value_out);
bw_status_t bw_store_set_meta(bw_store_t *s, const char *key, const char *value);

/* items */
bw_status_t bw_store_put_item(bw_store_t *s, const bw_item_t *item, char **detail);
/* The same, with the questions its classification asked (ops-record.h's
 * text form, or NULL); with `compare_stored`, the write is skipped when
 * the row already holds exactly this (its JSON text and questions, read
 * back by message-id): an incremental run rewrites only what changed.
 * *written (may be NULL) says whether the row was written. */
bw_status_t bw_store_put_item_if_changed(bw_store_t *s, const bw_item_t *item,
                                         const char *questions, bool compare_stored,
                                         bool *written, char **detail);
/* Forget a report (it left the mailbox). */
bw_status_t bw_store_delete_item(bw_store_t *s, const char *message_id);
/* Whether a report is stored; with `file`, also the file its row names
 * (NULL when none). */
bw_status_t bw_store_has_item(bw_store_t *s, const char *message_id, bool *found, char **file);
/* The set of Message-IDs present at the last save (scan-read.c,
 * "known ids"): keyed 64-bit hashes, each with its message's number of
 * files then.  *found: h is in the set. */
bw_status_t bw_store_known_id(bw_store_t *s, guint64 h, bool *found, guint *files);
/* How bw_store_known_ids_put writes the n entries it is given. */
typedef enum {
    BW_KNOWN_ADD,       /* inserts (or replaces) them */
    BW_KNOWN_REPLACE,   /* the set becomes them: emptied first */
    BW_KNOWN_SYNC,      /* the set becomes them, as REPLACE, writing only the
                           rows that differ (a listing again under the same
                           key: few change); h in SQLite's order of signed
                           integers, duplicates allowed (the last one's
                           files count, as with REPLACE) */
} bw_known_put_t;
bw_status_t bw_store_known_ids_put(bw_store_t *s, bw_known_put_t how, const guint64 *h,
                                   const guint *files, guint n);
/* All items, by report date (GPtrArray of bw_item_t*, owning). */
bw_status_t bw_store_load_items(bw_store_t *s, GPtrArray **out, char **detail);
/* The same, and *questions_out (may be NULL) gets each row's questions
 * (owning: char*, NULL for a row without them), at the index of its item
 * in *out. */
bw_status_t bw_store_load_items_questions(bw_store_t *s, GPtrArray **out,
                                          GPtrArray **questions_out, char **detail);
bw_status_t bw_store_count_items(bw_store_t *s, guint64 *count);
bw_status_t bw_store_clear_items(bw_store_t *s);

/* campaigns: save replaces the set but keeps the muted flag of ids that
 * remain (it writes only the rows that change); load gives bw_campaign_t*
 * with muted set, in the order of the last save. */
bw_status_t bw_store_save_campaigns(bw_store_t *s, GPtrArray *campaigns, char **detail);
bw_status_t bw_store_load_campaigns(bw_store_t *s, GPtrArray **out, char **detail);
bw_status_t bw_store_set_muted(bw_store_t *s, const char *campaign_id, bool muted);

/* surges: replaced as a whole each run (they are derived data). */
bw_status_t bw_store_save_surges(bw_store_t *s, GPtrArray *surges);

/* notified: what the user was last alerted about, per surge/campaign key. */
bw_status_t bw_store_get_notified(bw_store_t *s, const char *key, bool *found,
                                  guint32 *notification_id, unsigned *count,
                                  gint64 *when);
bw_status_t bw_store_set_notified(bw_store_t *s, const char *key,
                                  guint32 notification_id, unsigned count,
                                  gint64 when);

/* tagged: the tags bouncewatch itself last wrote on each report (a
 * space-separated list), so that only our own stale tags are ever removed.
 * Kept across full rescans.  *out: message-id -> tags (owned). */
bw_status_t bw_store_load_tagged(bw_store_t *s, GHashTable **out);
/* The rows of `ids` (const char*) that exist, and every row whose tags hold
 * "bw/signal" or "bw/phishing" (the tags a run may take away from messages
 * it no longer lists): message-id -> tags, as bw_store_load_tagged. */
bw_status_t bw_store_load_tagged_some(bw_store_t *s, const GPtrArray *ids, GHashTable **out);
/* tags NULL removes the row. */
bw_status_t bw_store_set_tagged(bw_store_t *s, const char *message_id, const char *tags);
/* Forget everything tagged (the notmuch database was replaced). */
bw_status_t bw_store_clear_tagged(bw_store_t *s);

/* snapshot: one opaque blob the scanner derives from the items of its last
 * save (the scanner's form before "snapshot rows", state-3: a save of the
 * newer layout only clears it, put NULL), written in the same transaction as the items so
 * that the two never disagree.  The store checks it: get gives back exactly
 * the bytes put, or *out NULL when there is none or it is damaged.
 * head_out (may be NULL) gets BW_STORE_SNAPSHOT_HEAD bytes that identify the
 * stored snapshot (another save, by any process, stores another head). */
#define BW_STORE_SNAPSHOT_HEAD 32u
bw_status_t bw_store_put_snapshot(bw_store_t *s, GBytes *data);
bw_status_t bw_store_get_snapshot(bw_store_t *s, GBytes **out, guint8 *head_out);
/* The head of the stored snapshot alone (BW_STORE_SNAPSHOT_HEAD bytes, read
 * without its parts): BW_E_STATE when there is none. */
bw_status_t bw_store_get_snapshot_head(bw_store_t *s, guint8 *out);
/* The same for the lookups' answers about the sent mail (nm-source.h). */
bw_status_t bw_store_put_sent_answers(bw_store_t *s, GBytes *data);
bw_status_t bw_store_get_sent_answers(bw_store_t *s, GBytes **out);

/* snapshot rows (store.c, "snapshot rows"): the scanner's snapshot as one
 * entry per item, keyed by its Message-ID and written in the transaction
 * of its row (a written item row drops its entry; a deleted one too), and
 * the sent messages the profile learnt from as one row.  Each unit is
 * checked by a sum kept with its bytes: a damaged one is refused (and a
 * damaged entry deleted, so that the next save writes it again). */
typedef struct {
    char *message_id;
    gint64 date;
    bool learn;
    GBytes *entry;           /* the bytes put, checked */
} bw_store_snap_entry_t;
void bw_store_snap_entry_free(bw_store_snap_entry_t *e);
bw_status_t bw_store_put_snap_entry(bw_store_t *s, const char *message_id, gint64 date,
                                    bool learn, GBytes *entry);
/* Every entry (bw_store_snap_entry_t*, owning), by date then Message-ID
 * (the order of bw_store_load_items); BW_E_STATE, *out NULL, when one is
 * damaged. */
bw_status_t bw_store_load_snap_entries(bw_store_t *s, GPtrArray **out);
/* Each entry's bytes, checked by their sum and given in place (valid
 * during the call only), in no particular order,
 * to `each`, with the row's Message-ID, date and `learn`; `each` returns
 * FALSE to stop (then BW_E_STATE).  A damaged entry stops it too
 * (BW_E_STATE), and is dropped as bw_store_load_snap_entries drops one. */
typedef bool (*bw_store_snap_entry_fn)(void *data, const char *message_id, gint64 date,
                                       bool learn, const void *bytes, gsize len);
bw_status_t bw_store_each_snap_entry(bw_store_t *s, bw_store_snap_entry_fn each, void *data);
/* The whole stored item of `message_id` (its binary form, else its JSON);
 * BW_E_STATE, *out NULL, when there is no such row or it does not read. */
bw_status_t bw_store_load_item(bw_store_t *s, const char *message_id, bw_item_t **out);
/* The scanner found the entry of `message_id` unusable: it is deleted
 * (best effort), as a damaged one is. */
bw_status_t bw_store_snap_entry_refuse(bw_store_t *s, const char *message_id);
/* The Message-IDs (a set, owned keys) of the entries with `learn`, and of
 * every entry. */
bw_status_t bw_store_snap_learning(bw_store_t *s, GHashTable **out);
bw_status_t bw_store_snap_entry_ids(bw_store_t *s, GHashTable **out);
bw_status_t bw_store_count_snap_entries(bw_store_t *s, guint64 *count);
/* The sent row: put writes it only when it differs (*written, may be
 * NULL, says); get gives the bytes put, checked, else BW_E_STATE. */
bw_status_t bw_store_put_snap_sent(bw_store_t *s, GBytes *data, bool *written);
bw_status_t bw_store_get_snap_sent(bw_store_t *s, GBytes **out);

/* skipped: messages the scan could not read (bw_skipped_t, with the reader
 * build that failed on them).  Load gives them by date; put replaces the
 * row of that Message-ID; retry forgets the builds, so that the next scan
 * reads every one of them again. */
bw_status_t bw_store_load_skipped(bw_store_t *s, GPtrArray **out);
bw_status_t bw_store_put_skipped(bw_store_t *s, const bw_skipped_t *k);
bw_status_t bw_store_delete_skipped(bw_store_t *s, const char *message_id);
bw_status_t bw_store_retry_skipped(bw_store_t *s);

/* signal rows (SPEC 2b): what the signals stage read from mail, by kind
 * ("facts": a received message's bw_mailfacts_t, "sent": a sent message's
 * bw_sent_summary_t, "result": the signals and imitations of the last run)
 * and Message-ID, as JSON.  `json` NULL deletes the row. */
bw_status_t bw_store_put_signal_row(bw_store_t *s, const char *kind, const char *message_id,
                                    gint64 date, const char *json);
/* message-id -> JSON of every row of `kind` (g_hash_table_unref). */
bw_status_t bw_store_load_signal_rows(bw_store_t *s, const char *kind, GHashTable **out);
bw_status_t bw_store_clear_signal_rows(bw_store_t *s);
/* Whether a row of `kind` and `message_id` is stored (*has): a run that
 * reads few rows asks about the others one by one (the primary key). */
bw_status_t bw_store_has_signal_row(bw_store_t *s, const char *kind, const char *message_id,
                                    bool *has);
/* One row's JSON (g_free), or NULL in *json_out when there is none. */
bw_status_t bw_store_get_signal_row(bw_store_t *s, const char *kind, const char *message_id,
                                    char **json_out);

/* Campaign (de)serialisation used by the store, exposed for tests. */
JsonNode *bw_store_campaign_to_json(const bw_campaign_t *c);
bw_campaign_t *bw_store_campaign_from_json(JsonNode *node);
/* The checked binary form of the row (store.c): NULL when the campaign has
 * none (no id, a string that is not UTF-8); reading gives NULL for bytes
 * that are not one whole and intact. */
GBytes *bw_store_campaign_to_bin(const bw_campaign_t *c);
/* The row's JSON text (g_free): bw_store_campaign_to_json's as
 * bw_json_node_to_text writes it, written without json-glib. */
char *bw_store_campaign_to_text(const bw_campaign_t *c);
bw_campaign_t *bw_store_campaign_from_bin(const void *blob, gsize len);

G_END_DECLS

#endif /* BW_STORE_H */
