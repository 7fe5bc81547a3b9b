/* scanner.h: one scan of the notmuch mailbox, shared by `scan`, `hook
 * post-new` and the `watch` agent.
 *
 * bw_scanner_run() opens the notmuch database read-only (as notmuch itself
 * would: NOTMUCH_CONFIG, NOTMUCH_PROFILE, XDG and legacy locations), opens the
 * state store, looks only at what changed since the last run (lastmod), parses
 * and classifies the new candidate reports, stores them, then rebuilds
 * campaigns, surges and the assessment over every stored item, so an
 * incremental run gives exactly what a full rescan gives.  With `tag` it then
 * writes the SPEC section 3 tags through a bounded read-write open.
 *
 * New candidates are read by the confined reader process (reader.h): a
 * message that crashes or hangs it, or that the parser refuses by a
 * structural cap, is skipped, named through `notice` (even when quiet),
 * listed in the result (`skipped`) and kept in the state, so that later
 * runs with the same reader build do not read it again.
 *
 * A run with nothing new answers from the state alone (see "snapshot" in
 * snapshot.c: only surges and the assessment depend on "now").  notmuch 0.37
 * can fail any read while `notmuch new` commits ("database modified"): the
 * whole read phase then starts again on a fresh open, up to 4 times, before
 * anything is written.
 *
 * Errors: BW_E_CONFIG (the owner's address, notmuch's user.primary_email,
 * is unset, empty or made up by notmuch: no verdict can be trusted, nothing
 * is read, written or tagged; see owner_problem_out), BW_E_DATABASE (no database, locked past the timeout, reads that
 * kept failing while notmuch wrote: the detail says which), BW_E_STATE (the state store cannot be used even after a
 * rebuild), BW_E_INVALID (bad options).  The adapters never print: anything
 * the user should know about (state rebuilt, tagging skipped...) goes to
 * `notice` as one translated line.
 *
 * Settings, from the `[bouncewatch]` section of notmuch's config file (read
 * through notmuch as bouncewatch.*):
 *   relays=host;domain...   the owner's provider (submission hosts, DKIM
 *                           domains), added to what is learnt from Sent;
 *                           default: none, learnt from the sent mail only
 *   profile_sample=N        how many of the newest sent messages the sender
 *                           profile learns from; default 500, at most 20000
 * Environment: BOUNCEWATCH_LOCK_TIMEOUT_MS, the bounded wait for notmuch's
 * write lock when tagging (default 10000). */
#ifndef BW_SCANNER_H
#define BW_SCANNER_H

#include "bw.h"
#include "bw-scan.h"

G_BEGIN_DECLS

typedef void (*bw_scanner_notice_fn)(void *data, const char *line);

/* Why a scan gave no verdict (BW_E_CONFIG): the owner's address cannot be
 * trusted (nm-source.h, bw_nm_source_owner_trust). */
typedef struct {
    bool empty;            /* user.primary_email is set but empty; else notmuch
                              made one up because it is unset */
    char *value;           /* what notmuch answered ("" when empty) */
    char *suggested;       /* the address the sent mail is from, or NULL: an
                              offer to the user, never assumed */
    char **others;         /* further addresses of the sent mail (NULL-terminated)
                              or NULL */
} bw_owner_problem_t;

void bw_owner_problem_clear(bw_owner_problem_t *p);

/* The problem told to the user, translated, one string per line: what is
 * missing, why no verdict, and the `notmuch config set` command to run
 * (g_strfreev).  Addresses taken from the mail are offered only when they
 * are plain addresses (safe to paste into a shell). */
char **bw_owner_problem_lines(const bw_owner_problem_t *p);

typedef struct {
    gint64 since;          /* list only reports dated at or after this (0 = all) */
    bool tag;              /* write the notmuch tags of SPEC section 3 */
    bool full;             /* ignore the saved revision: rescan every candidate */
    gint64 now;            /* "now" (BOUNCEWATCH_NOW or the wall clock) */
    bool quiet;            /* no notices at all */
    /* Optional, zero/NULL for the defaults: */
    const char *config_path;     /* notmuch config file; NULL = notmuch's lookup */
    const char *state_path;      /* state file; NULL = $XDG_DATA_HOME/bouncewatch/state.sqlite */
    unsigned lock_timeout_ms;    /* bounded wait for the write lock (0 = 10 s,
                                    or BOUNCEWATCH_LOCK_TIMEOUT_MS) */
    bw_scanner_notice_fn notice; /* one-line messages for the user, or NULL */
    void *notice_data;
    /* Optional outputs (may be NULL): */
    GPtrArray *new_items_out;    /* if non-NULL, receives char* (g_strdup'd)
                                    Message-IDs of the reports first seen in
                                    this run: the hook alerts on those.  Give
                                    it g_free as free function: a read phase
                                    that is retried drops what it added */
    bool skip_unchanged;         /* when nothing changed since the last run,
                                    no surge can be under way (no backscatter
                                    report in the last two hours) and, with
                                    `tag`, no tags are owed: return BW_OK with
                                    *out = NULL instead of loading the stored
                                    state (the hook's common case: nothing
                                    new, nothing to alert on, nothing to do);
                                    likewise when nothing changed since a
                                    save whose alerts are all shown
                                    (BW_SCANNER_SETTLED_META) */
    bw_owner_problem_t *owner_problem_out; /* if non-NULL, filled when the run
                                    returns BW_E_CONFIG (clear it with
                                    bw_owner_problem_clear) */
    bool retry_skipped;          /* read again the messages earlier runs skipped
                                    (the reader crashed or hung on them, or a
                                    cap refused them); by default only a new
                                    reader build reads them again */
    guint64 *state_save_out;     /* if non-NULL, receives the number of the
                                    save (meta "saves") the result was made
                                    from, 0 unknown: what bw_agent_settle
                                    marks as settled.  With skip_unchanged,
                                    a run with nothing new since a settled
                                    save stops early too (BW_OK, *out NULL:
                                    see bw_scanner_settled_value) */
    struct bw_store **store_out; /* if non-NULL (and *store_out NULL), a run
                                    that succeeded hands its open state over
                                    instead of closing it (the caller closes
                                    it, bw_store_close): the caller's own
                                    transactions right after the run
                                    (bw_agent_settle) need no second open of
                                    the state, which read the write-ahead
                                    log back and set the connection up again */
    bool *tag_failed_out;        /* if non-NULL, set when `tag` was asked but the
                                    tags could not be written (e.g. the database
                                    stayed locked): the scan itself still
                                    succeeds and is saved, the detail goes to
                                    `notice` (even when quiet) and the next run
                                    with `tag` writes the tags */
    bool process_exits;          /* the process exits right after this run
                                    and its result (the post-new hook's
                                    worker): the run's memory is left to the
                                    exit instead of freed block by block
                                    (see bw_scanner_leaves_memory); the
                                    state and the database are closed and
                                    the reader stopped as always */
    bool slim_kept;              /* the caller reads no item's whole report
                                    (the post-new hook: alerts, tags and
                                    the state only): the stored items whose
                                    verdicts are kept may be slim, built
                                    from their snapshot entries (bw-scan.h:
                                    bw_item_t.slim); every other caller
                                    (printing items, their JSON) gets whole
                                    items */
} bw_scanner_options_t;

/* Initialise options to their defaults (now = wall clock). */
void bw_scanner_options_init(bw_scanner_options_t *opts);

/* Whether a run with these options leaves its memory to the process's
 * exit (opts->process_exits), the result's included: not in a sanitizer
 * build, whose LeakSanitizer wants every block freed. */
bool bw_scanner_leaves_memory(const bw_scanner_options_t *opts);

/* Run one scan; *out gets the result (free with bw_scan_result_free); NULL
 * only with `skip_unchanged` when nothing changed. */
bw_status_t bw_scanner_run(const bw_scanner_options_t *opts,
                           bw_scan_result_t **out, char **detail);

/* The SPEC section 2 document as text (g_free), for `scan --json`.  The
 * document of the last run is kept in the state with everything it depends
 * on (database UUID and revision, now, since, settings); when none of them
 * changed it is returned without loading anything, otherwise this runs
 * bw_scanner_run() and keeps the new document.  With `tag` or `full` it
 * always runs. */
bw_status_t bw_scanner_run_json(const bw_scanner_options_t *opts, char **json_out,
                                char **detail);

/* Parse a --since value: an RFC 3339 time, a date (YYYY-MM-DD, midnight UTC)
 * or a relative age before `now`: "30m" (minutes), "12h", "3d", "2w",
 * "6mo" (months of 30 days), "1y" (years of 365 days).  FALSE when
 * malformed. */
bool bw_scanner_parse_since(const char *text, gint64 now, gint64 *out);

/* A save whose alerts are settled: with nothing new since save `saves`,
 * a hook run at a "now" in [at, until] has nothing to alert that it has
 * not alerted (scan-read.c says why), and stops after reading the state
 * (skip_unchanged).  Kept in the state's meta under this key, written by
 * the caller that records the alerts (bw_agent_settle), in the transaction
 * that checks them. */
#define BW_SCANNER_SETTLED_META "alerts_settled"
/* The meta value (g_free). */
char *bw_scanner_settled_value(guint64 saves, gint64 at, gint64 until);
/* FALSE when `value` is NULL or not a value of bw_scanner_settled_value. */
bool bw_scanner_settled_parse(const char *value, guint64 *saves, gint64 *at,
                              gint64 *until);

/* The default state file path (g_free). */
char *bw_scanner_default_state_path(void);

/* When a scan last succeeded with the state at `state_path` (NULL: the
 * default), wall-clock Unix time, or 0 when never.  Every successful run
 * touches `<state>.last-scan`: `bouncewatch doctor` tells the user whether
 * the hook or the agent really run. */
gint64 bw_scanner_last_success(const char *state_path);

G_END_DECLS

#endif /* BW_SCANNER_H */
