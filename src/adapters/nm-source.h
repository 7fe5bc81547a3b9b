/* nm-source.h: the notmuch database, read-only, as bouncewatch sees it.
 *
 * Opens the database exactly as notmuch would (open_with_config with NULL
 * path and config: NOTMUCH_DATABASE, NOTMUCH_CONFIG, NOTMUCH_PROFILE, XDG and
 * legacy locations), reads the owner's addresses (user.primary_email,
 * user.other_email) and the [bouncewatch] section (bouncewatch.* keys),
 * finds candidate reports, and answers the engine's questions about the
 * owner's sent mail (bw_mailbox_ops_t) with caching.  Only nm-*.c include
 * notmuch.h. */
#ifndef BW_NM_SOURCE_H
#define BW_NM_SOURCE_H

#include "bw.h"
#include "bw-scan.h"

G_BEGIN_DECLS

typedef struct bw_nm_source bw_nm_source_t;

/* A message that may be a report: worth parsing. */
typedef struct {
    char *message_id;
    char *file;
    gint64 date;
} bw_nm_candidate_t;

void bw_nm_candidate_free(bw_nm_candidate_t *c);

/* `config_path`: NULL for notmuch's own lookup.  BW_E_DATABASE with a
 * detail when there is no config/database. */
bw_status_t bw_nm_source_open(const char *config_path, bw_nm_source_t **out,
                              char **detail);
void bw_nm_source_close(bw_nm_source_t *src);
/* The same for a process that exits right after (the post-new hook's
 * worker, bw_scanner_leaves_memory): notmuch's handle and our Xapian handle
 * are closed, the answers and lists the source keeps are left to the exit
 * (freeing them item by item cost ~0.7 M instructions at 160k messages,
 * ~0.25 ms, just before exit gives them back at once). */
void bw_nm_source_close_at_exit(bw_nm_source_t *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_nm_source_t, bw_nm_source_close)

const char *bw_nm_source_path(const bw_nm_source_t *src);
/* The database revision and UUID (valid while src is open). */
guint64 bw_nm_source_revision(bw_nm_source_t *src, const char **uuid);
/* NULL-terminated, lower-cased owner addresses (primary first). */
const char *const *bw_nm_source_owners(const bw_nm_source_t *src);
/* Can the owner's primary address be trusted?  notmuch gives
 * user.primary_email when it is set; when it is not, notmuch makes one up
 * ($EMAIL, else the login name at the machine's host name: root@localhost),
 * and `primary_email=` gives an empty one.  Taken as the owner, such an
 * address matches none of the owner's sent mail, so every real bounce would
 * be called backscatter: the scan refuses to give verdicts (BW_E_CONFIG). */
typedef enum {
    BW_OWNER_TRUSTED = 0,
    BW_OWNER_EMPTY,          /* user.primary_email is empty (or no address) */
    BW_OWNER_MADE_UP,        /* notmuch's default: a local name at this host */
} bw_owner_trust_t;

/* The trust of the configured primary address; *value (may be NULL) gets
 * what notmuch answered ("" when empty; borrowed, valid while src is open). */
bw_owner_trust_t bw_nm_source_owner_trust(const bw_nm_source_t *src, const char **value);

/* Whether `address` (as notmuch gives it) looks like the address notmuch
 * makes up when user.primary_email is unset: no domain, a domain that is
 * not a mail domain (localhost, a single label, *.localdomain, "(none)"),
 * or the login name at this machine's own host name.  No network lookup. */
bool bw_owner_address_made_up(const char *address);

/* The owner's address as the sent mail shows it (Sent-like folders and
 * tag:sent), when one address clearly dominates (g_free), or NULL: only
 * ever offered to the user, never assumed.  `others` (may be NULL) gets
 * up to 3 further addresses (g_free'd char*) that sent several of those
 * messages.  Reads at most a few hundred messages; NULL too when reading
 * them failed (the source is then marked failed: bw_nm_source_failed). */
char *bw_nm_source_guess_owner(bw_nm_source_t *src, GPtrArray *others);

/* The configuration file notmuch read, or NULL when none (borrowed). */
const char *bw_nm_source_config_file(const bw_nm_source_t *src);

/* notmuch's own hook directory, as notmuch chooses it: database.hook_dir,
 * else $XDG_CONFIG_HOME/notmuch/<profile>/hooks when that directory exists,
 * else <database>/.notmuch/hooks (borrowed; NULL when notmuch names none). */
const char *bw_nm_source_hook_dir(const bw_nm_source_t *src);

/* The value of `bouncewatch.<key>` from the config, or NULL (borrowed). */
const char *bw_nm_source_setting(const bw_nm_source_t *src, const char *key);

/* The notmuch query that selects obvious reports (exposed for measuring). */
char *bw_nm_source_prefilter_query(const bw_nm_source_t *src);

/* What an incremental scan needs to know of every message changed after
 * revision `after_rev` to tell which stored verdicts it can change: their
 * Message-IDs (a set) and From headers as notmuch holds them (no file is
 * opened).  *froms_whole: every one of them is new (not in the state's set
 * of known ids, bw_nm_source_range_known) and has a single file, so their
 * From headers are all the From terms the range added to the index.
 * (notmuch indexes every file of a message but keeps the first one's From
 * header: an old message given another copy, or a new one that came as two
 * files, can hold From terms its header does not show.)  FALSE when
 * notmuch failed or there are more than `max` of them (the caller then
 * classifies everything again). */
bool bw_nm_source_range_keys(bw_nm_source_t *src, guint64 after_rev, guint max,
                             GHashTable **ids_out, GPtrArray **froms_out, bool *froms_whole);

/* How many of the messages changed after revision `after_rev` are from
 * `address`, as the mailbox ops' received_from_count counts them (notmuch's
 * from:), asked of those messages only; -1 when that cannot be asked
 * cheaply (a large range) or notmuch failed. */
gint64 bw_nm_source_range_from_count(bw_nm_source_t *src, guint64 after_rev,
                                     const char *address);

/* How many of the range's messages are from one of `addresses` (n of
 * them, n <= 1024, each as bw_nm_source_range_from_count asks it): the
 * count of the union of their from: terms, which is 0 exactly when each
 * alone counts 0.  -1 when not told (an address whose term is not a plain
 * quoted one, notmuch failed: then no failure is left behind, and the
 * caller asks each alone). */
gint64 bw_nm_source_range_from_any(bw_nm_source_t *src, guint64 after_rev,
                                   const char *const *addresses, guint n);
/* How many of the messages changed after `after_rev` the mailbox ops'
 * sent_count_to (to `address`) and sent_subject_near (the owner's mail
 * with `subject`'s words as a phrase, before the exact comparison) would
 * look at, asked of those messages only: 0 also when the op asks notmuch
 * nothing for it; -1 when that cannot be asked cheaply (a large range) or
 * notmuch failed.  When every message of the range is new and none left,
 * 0 means the op's answer is the one it gave before the range. */
gint64 bw_nm_source_range_sent_to_count(bw_nm_source_t *src, guint64 after_rev,
                                        const char *address);
gint64 bw_nm_source_range_sent_subject_count(bw_nm_source_t *src, guint64 after_rev,
                                             const char *subject);
/* The query those two counts ask of the range's owner messages for a C
 * (`what` 'C', arg the address) or N ('N', the subject) question; NULL
 * when they answer 0 without asking. */
char *bw_nm_source_range_sent_query(bw_nm_source_t *src, char what, const char *arg);
/* How many of the range's owner messages match any of `queries` (each as
 * bw_nm_source_range_sent_query gives it): one count of
 * "(q1) or (q2) or ...", so 0 exactly when each of them alone counts 0.
 * -1 when that cannot be asked (a query not of the plain form
 * prefix:"text", more than 1024 of them, a large range, notmuch failed). */
gint64 bw_nm_source_range_sent_any(bw_nm_source_t *src, guint64 after_rev,
                                   const char *const *queries, guint n);
/* has_sent_mail answered yes at the last save, the caller knows that no
 * message left the database since, and every message of the range is new
 * (checked here): no message it counted changed or left, so it still
 * answers yes (set, when not asked yet in this open). */
void bw_nm_source_sent_copies_kept(bw_nm_source_t *src);
/* Every message of the listed range is new (none was there at the last
 * save: bw_nm_source_range_known told so in this open). */
bool bw_nm_source_range_all_new(const bw_nm_source_t *src);

/* The count of messages from `address` (received_from_count) is `before`
 * plus those of the range: the caller knows that no message left the
 * database and every message of the range is new, and `before` is the
 * count at revision `after_rev`.  The mailbox ops then answer it without
 * counting every message from the address; FALSE when it cannot be told
 * cheaply (they count). */
bool bw_nm_source_from_count_grown(bw_nm_source_t *src, guint64 after_rev, const char *address,
                                   guint64 before);

/* The count of the owner's messages (bw_nm_source_count_sent) when it was
 * `before` at the revision the candidates' range starts after and the
 * caller knows that no message left the database since: `before` plus the
 * owner's messages in the range, when every message of the range is new
 * (bw_nm_source_range_known told so).  FALSE when it cannot be told so
 * (count them). */
bool bw_nm_source_sent_count_grown(bw_nm_source_t *src, guint64 before, guint64 *count);

/* The count of messages from `address` (received_from_count) is `count`:
 * the caller knows it (none left the database, none of the range can be
 * from the address, and `count` is the count at the last save).  The
 * mailbox ops then answer it without counting (unless they have already
 * answered it in this run). */
void bw_nm_source_from_count_known(bw_nm_source_t *src, const char *address, guint64 count);

/* Candidates among the messages changed after revision `after_rev`
 * (`all` = every message): the prefilter query only (no file is opened), the
 * owner's own mail left out.  *examined: messages in the range;
 * *sent_changed: messages from the owner are among them. */
bw_status_t bw_nm_source_candidates(bw_nm_source_t *src, bool all, guint64 after_rev,
                                    GPtrArray **out, guint64 *examined,
                                    bool *sent_changed, char **detail);

/* Messages of `query` (a notmuch query, NULL: all), in the lastmod range
 * after `after_rev` unless `all`; `owner` 1: only the owner's (From one of
 * the owner's addresses), 0: only others', -1: both; newest first and at
 * most `max` when max > 0.  *out: bw_nm_candidate_t*.  A failed read is
 * BW_E_DATABASE and marks the source failed (the scan retries). */
bw_status_t bw_nm_source_list(bw_nm_source_t *src, const char *query, bool all, guint64 after_rev,
                              int owner, unsigned max, GPtrArray **out, char **detail);
/* Every file in the database, by its path as notmuch_message_get_filename
 * gives it (g_free'd char*), read from notmuch's directory documents (a
 * term scan per directory; no message is opened): what a whole-mailbox
 * read costs instead of asking each message for its file.  *out NULL (and
 * BW_OK) when the tree is too large to walk (bounded). */
bw_status_t bw_nm_source_files(bw_nm_source_t *src, GPtrArray **out, char **detail);
/* The message a file belongs to, as bw_nm_source_list gives it (its
 * Message-ID, the file notmuch names first, the date), and whether it is
 * the owner's (as `owner` of bw_nm_source_list decides); *out NULL when
 * notmuch knows no such file. */
bw_status_t bw_nm_source_file_message(bw_nm_source_t *src, const char *path,
                                      bw_nm_candidate_t **out, bool *owners, char **detail);
/* Appends every file of the message with this Message-ID to `out`
 * (g_free'd char*): none when it is not in the database. */
bw_status_t bw_nm_source_message_files(bw_nm_source_t *src, const char *message_id,
                                       GPtrArray *out, char **detail);
/* The query term `thread:ID` of the thread of a message (g_free), or NULL
 * when the message is not in the database (or the read failed: then the
 * source is marked failed). */
char *bw_nm_source_thread_term(bw_nm_source_t *src, const char *message_id);
/* The sent anomalies the mailbox ops answer about (sent_is_anomaly):
 * Message-ID -> run key, borrowed until the next call (NULL: none). */
void bw_nm_source_set_anomalies(bw_nm_source_t *src, GHashTable *members);

/* A digest of every directory notmuch indexes, with the modification time
 * notmuch recorded for it and its own (nanosecond) one: adding or removing
 * a file changes them, while removing a message leaves the database
 * revision as it was.  NULL when the tree is too large to walk cheaply (or
 * a read failed). */
char *bw_nm_source_directory_digest(bw_nm_source_t *src);

/* Whether no message left the database since the save that stored
 * `saved_table` (bw_nm_source_directory_table's text for revision
 * `after_rev`) and counted `saved_messages` messages, told from the
 * directories notmuch holds and the files of the lastmod range, without
 * counting every message (nm-source.c, "removals"), when the caller knows
 * which messages of the range are new (bw_nm_source_range_known): `fresh`
 * of them, and `expected` the change in files the range explains
 * (G_MININT64: the directories cannot tell).  TRUE only when that is
 * certain: none removed, the count is saved_messages + fresh.  FALSE: not
 * known, the caller counts. */
bool bw_nm_source_none_removed_known(bw_nm_source_t *src, guint64 after_rev,
                                     const char *saved_table, guint64 saved_messages,
                                     guint64 fresh, gint64 expected);

/* After the count of messages proved that none was removed (the test
 * above could not tell: a directory too big to count): when exactly one
 * walked directory has no count, and the saved table knows every one, its
 * files are derived: the saved files plus `expected` (what the range
 * explains, bw_nm_source_range_known) less the other directories' files.
 * The table of directories (bw_nm_source_directory_table) then holds it.
 * (The argument, and why the result is never below the truth: scan-read.c,
 * "known ids".) */
bool bw_nm_source_dirs_derive(bw_nm_source_t *src, guint64 after_rev, const char *saved_table,
                              gint64 expected);

/* After the count of messages, when the sums could not give them: every
 * walked directory without a count is counted, whatever its size (as much
 * as the count itself at most), so that the table the save keeps knows
 * them all and the next run's directories can tell again. */
void bw_nm_source_dirs_fill(bw_nm_source_t *src, const char *saved_table);

/* Whether a Message-ID was in the mailbox at the last save (*found) and
 * its files then; FALSE: the set could not be read. */
typedef bool (*bw_nm_known_fn)(void *data, const char *message_id, bool *found, guint *files);
/* Sorts the messages of the lastmod range into old (`known` finds them;
 * NULL: none is) and new: *fresh the new ones, *expected the files the
 * new ones hold plus the files each old one gained since (G_MININT64 when
 * an old one holds fewer: then only the count tells).  Also tells the
 * range's lookups (bw_nm_source_from_count_grown) that old messages are in
 * the range.  FALSE when notmuch failed. */
bool bw_nm_source_range_known(bw_nm_source_t *src, guint64 after_rev, bw_nm_known_fn known,
                              void *data, guint64 *fresh, gint64 *expected);
/* Calls fn for every message of the lastmod range with its files now. */
bool bw_nm_source_range_each(bw_nm_source_t *src, guint64 after_rev,
                             void (*fn)(void *data, const char *message_id, guint files),
                             void *data);
/* Calls fn for every message of the database, with files 0 (not counted:
 * a value read per document, ~1 us; read from Xapian directly when
 * nm-xapian.h can answer for this snapshot); FALSE when a read failed (or
 * the database's id slot cannot be trusted). */
bool bw_nm_source_all_ids(bw_nm_source_t *src,
                          void (*fn)(void *data, const char *message_id, guint files),
                          void *data);
/* SipHash-2-4 of a Message-ID under a 16-byte key (the state's). */
guint64 bw_nm_id_hash(const guint8 key[16], const char *message_id);

/* The table of the directories for the state (g_free; NULL when the tree is
 * too large or a read failed), stored with the revision `revision` of the
 * same open: the counts bw_nm_source_none_removed_known made, or those of
 * `saved_table` (the state's) for the directories unchanged since. */
char *bw_nm_source_directory_table(bw_nm_source_t *src, guint64 revision,
                                   const char *saved_table);

/* The file (g_free) and date of the message with this Message-ID now
 * (notmuch renames files as their flags change), or *file_out NULL when
 * there is none.  BW_E_DATABASE when the read failed (see
 * bw_nm_source_failed). */
bw_status_t bw_nm_source_find_file(bw_nm_source_t *src, const char *message_id,
                                   char **file_out, gint64 *date_out);

/* Whether the message with this Message-ID is from one of the owner's
 * addresses (as bw_nm_source_list's `owner` decides); false when it is not
 * in the database, or the read failed (see bw_nm_source_failed). */
bool bw_nm_source_is_owners(bw_nm_source_t *src, const char *message_id);

/* Number of messages from the owner's addresses (0 without addresses). */
guint64 bw_nm_source_count_sent(bw_nm_source_t *src);

/* Number of messages in the database (what a full scan examines; one
 * posting-list length through nm-xapian.h when it can answer for this
 * snapshot). */
guint64 bw_nm_source_count_messages(bw_nm_source_t *src);

/* How many counts and listings of every message (the two above) this
 * source answered through its own Xapian handle, and through libnotmuch
 * (tests and timings). */
void bw_nm_source_answers(const bw_nm_source_t *src, unsigned *xapian, unsigned *notmuch);

/* The engine's view of the mailbox (cached lookups); valid while src lives. */
void bw_nm_source_mailbox_ops(bw_nm_source_t *src, bw_mailbox_ops_t *ops);

/* The sample of the owner's sent mail the profile learns from: the `max`
 * most recent messages from the owner's addresses (excluded ones too),
 * newest first, as bw_nm_candidate_t* (file, Message-ID and date as notmuch
 * has them).  `since` (0: none) is a guess of the date of the oldest of
 * them (the last sample's oldest): only the messages from then on are
 * listed when there are `max` of them, all otherwise; the sample is the
 * same whatever the guess.  The files are read by the reader process
 * (bw_sent_mail_read), never here. */
bw_status_t bw_nm_source_sent_sample(bw_nm_source_t *src, unsigned max, gint64 since,
                                     GPtrArray **out, char **detail);

/* The lookups' answers about the owner's sent mail, to keep with the scan
 * state (NULL after a failed read), and to load them back into a fresh
 * source.  They depend on the owner's messages only: import them only
 * when none of those changed since they were exported. */
GBytes *bw_nm_source_export_sent_answers(bw_nm_source_t *src);
void bw_nm_source_import_sent_answers(bw_nm_source_t *src, GBytes *data);
/* TRUE when the source holds exactly the answers one import loaded into
 * it (none was asked or dropped since, no read failed): exporting them
 * gives back what was imported, so a caller need not write them again. */
bool bw_nm_source_sent_answers_as_imported(const bw_nm_source_t *src);

/* Whether any read since the open failed (notmuch 0.37 reports Xapian's
 * "database modified" as NOTMUCH_STATUS_XAPIAN_EXCEPTION, or as NULL from a
 * message getter).  The lookups of bw_nm_source_mailbox_ops() cannot return
 * an error: they answer "unknown" and record it here, and the caller must
 * then throw away what it read and start again with a fresh open.  *detail
 * (may be NULL) gets the explanation. */
bool bw_nm_source_failed(const bw_nm_source_t *src, char **detail);

/* Whether everything read through this source since its open is of the
 * snapshot it opened (the revision bw_nm_source_revision gave first):
 * libnotmuch can move its handle to a later snapshot by itself while we
 * read (nm-source.c says when, and how this tells).  When not, or when a
 * read already failed, it records a failed read (bw_nm_source_failed then
 * says so) and answers FALSE: the caller throws away what it read and
 * starts again on a fresh open.  Ask it after the last read whose answer
 * is kept, before saving or showing any of it.  Costs one open of the
 * Xapian database when our own handle is there. */
bool bw_nm_source_snapshot_held(bw_nm_source_t *src);

G_END_DECLS

#endif /* BW_NM_SOURCE_H */
