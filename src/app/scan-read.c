/* scan-read.c: the read stage: open the notmuch database and the state,
 * and find what arrived since the last run (scan-private.h). */
#include "config.h"
#include "scan-private.h"
#include "notify.h"
#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ known ids
 *
 * notmuch 0.37 removes a message without bumping the revision and keeps
 * no creation revision: a message of the lastmod range may be new, or an
 * old one whose tags changed (with synchronize_flags, a tag change renames
 * its file).  The state keeps, with each save, a set K of keyed 64-bit
 * hashes (SipHash-2-4 under a random key of the state's) of Message-IDs,
 * each with a number of files.  S is the snapshot the save counted (meta
 * "messages"), N this run's snapshot (one open of the database: the count,
 * the range and any listing are all of it; our own Xapian handle answers
 * only for it, nm-xapian.h), R the range (the messages written after the
 * save's revision).  libnotmuch may move its handle to a later snapshot by
 * itself, when a message getter meets Xapian's DatabaseModifiedError (two
 * commits by another writer while we read, lib/message.cc): a listing read
 * after that could put into K a message added after this run's revision,
 * under this run's count, and the next run would take it for old.  So
 * nothing of a run is saved unless bw_nm_source_snapshot_held says,
 * after its last read, that the open's snapshot was held throughout (the
 * store stage; every run asks at the end of this stage too, and a run with
 * nothing new again after any later read it answers or saves from); else
 * the run reads again on a fresh open (T343).  What the tests below need
 * of K:
 *
 *   (a) no id of K is outside S (ids of S may be missing from K);
 *   (b) the files K gives a message are at most the files it had in S.
 *
 * Count.  Every message of N not in S is in R (adding a message writes
 * it).  By (a), a message whose hash is not in K may be old or new, but a
 * message of R whose hash is in K is in S (no collision).  So F, the
 * messages of R not in K, holds N \ S, and |N| = |S| - removed +
 * |N \ S| <= |S| - removed + |F|: when the count is |S| + |F|, none was
 * removed (and F is exactly N \ S).  A collision (a new message hashing
 * as an old one: p ~ |F| |S| / 2^64, ~1e-13 per run at 160k; the key is
 * the state's, so it cannot be aimed at) makes F one short and could hide
 * one removal of the same run.  Two ids of S with the same hash share one
 * entry of K (the store's INSERT OR REPLACE keeps the files last written):
 * (a) still holds, and (b) may give one of them the other's files, which at
 * worst hides a removal in the same way, at the same odds.
 *
 * Directories.  Over the walked directories, files(N) - files(S) =
 * sum over N \ S of files now + sum over the old messages of R of (files
 * now - files in S) - files in S of the removed (a message outside R kept
 * its files: adding or removing a file writes it; every file notmuch holds
 * is under the walked tree: the directory test's own premise).  `expected`
 * puts K's files for "files in S": by (b) it is at least the true sum
 * with nothing removed, so equality means none removed (every message has
 * a file).  An old message with fewer files than K says, or none known,
 * leaves it to the count (bw_nm_source_range_known).
 *
 * A folder too big to count (more files than the budget, INBOX/cur at
 * 160k) leaves that test to the count.  When the count has proved none
 * removed, files(N) = files(S) + the true sum <= files(S) + expected: with
 * every directory of the saved table known and exactly one walked
 * directory without a count, that one is given files(S) + expected - the
 * others (bw_nm_source_dirs_derive).  It is never below the truth, and a
 * table too high only makes a later test fail where it could have passed
 * (the delta comes out lower: the count decides), never the reverse.
 * When the sums cannot give it (a removal, an old message that lost a
 * file) the directories without a count are counted once
 * (bw_nm_source_dirs_fill).  Either way the next run's table knows every
 * folder, and only a folder that changes again needs the count.
 *
 * Keeping (a) and (b).  K changes only in a save, in its transaction:
 *   - a save that found none removed adds R (and sets the files of R's
 *     messages to their files now): K u R is in N by (a), and R holds the
 *     only messages whose files changed;
 *   - any other save lists every message of N again (a full scan, a
 *     removal found, no usable set, or another run saved since this run
 *     read the state: its K may hold a later snapshot's ids), each with
 *     1 file: at most what it holds.  The listing reads the id from
 *     notmuch's value slot, which notmuch writes from the same string as
 *     the id term when it creates the message (the first 64 are checked
 *     against notmuch_message_get_message_id, and the listing is given up
 *     on a difference; read through our own Xapian handle, with the same
 *     checks, when that handle is of this run's snapshot: nm-xapian.h);
 *   - a run with nothing new (bw_scan_account_unchanged) only sets the
 *     files of R's messages, and writes nothing when another run saved
 *     since it read the state (its older revision and directory table
 *     would go under that save's count and set);
 *   - "another run saved": the revision or the save counter moved (a
 *     removal does not move notmuch's revision); the set is stamped with
 *     the revision and save counter of the save that kept it (meta
 *     known_ids_at), and is not used under any other (an older program's
 *     save, a partial copy), nor after a failed listing (no key).
 * A message removed and added again under the same Message-ID is in S and
 * N: old, as it should be.  The tagger's revision bump changes neither
 * membership nor files. */
static bool
known_lookup(void *data, const char *message_id, bool *found, guint *files)
{
    bw_scan_t *s = data;
    return bw_store_known_id(s->store, bw_nm_id_hash(s->known_key, message_id), found, files) ==
           BW_OK;
}

char *
bw_scan_known_stamp(guint64 revision, guint64 saves)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, revision, saves);
}

static bool
known_key_parse(const char *hex, guint8 key[16])
{
    if (hex == NULL || strlen(hex) != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        key[i] = (guint8)(hi * 16 + lo);
    }
    return true;
}

typedef struct {
    const guint8 *key;
    GArray *h;
    GArray *files;
} known_acc_t;

/* Sorts the keys as SQLite orders INTEGER keys (signed): a radix sort on
 * the key with its sign bit flipped, a byte a pass (glib's merge sort of
 * 165k keys cost ~790 M instructions, this ~15 M). */
static void
known_sort(GArray *h)
{
    guint n = h->len;
    if (n < 2)
        return;
    guint64 *a = (guint64 *)(void *)h->data;
    g_autofree guint64 *tmp = g_new(guint64, n);
    guint64 *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        guint count[257] = { 0 };
        for (guint i = 0; i < n; i++)
            count[(((src[i] ^ G_GUINT64_CONSTANT(0x8000000000000000)) >> shift) & 0xff) + 1]++;
        for (int k = 0; k < 256; k++)
            count[k + 1] += count[k];
        for (guint i = 0; i < n; i++)
            dst[count[((src[i] ^ G_GUINT64_CONSTANT(0x8000000000000000)) >> shift) & 0xff]++] =
                src[i];
        guint64 *t = src;
        src = dst;
        dst = t;
    }
    /* eight passes: the sorted keys are back in `a` */
}

static void
known_add(void *data, const char *message_id, guint files)
{
    known_acc_t *a = data;
    guint64 h = bw_nm_id_hash(a->key, message_id);
    g_array_append_val(a->h, h);
    g_array_append_val(a->files, files);
}

bool
bw_scan_others_saved(bw_scan_t *s, const char *rev_now)
{
    if (g_strcmp0(rev_now, s->saved_rev) != 0)
        return true;
    g_autofree char *saves_now = NULL;
    bw_store_get_meta(s->store, "saves", &saves_now);
    return (saves_now ? g_ascii_strtoull(saves_now, NULL, 10) : 0) != s->saves;
}

bw_status_t
bw_scan_known_ids_save(bw_scan_t *s, bool full_save, bool others_saved)
{
    g_autoptr(GArray) h = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_autoptr(GArray) files = g_array_new(FALSE, FALSE, sizeof(guint));
    /* Added to only when the set is the one this run read (another run's
     * save may hold a later snapshot's ids: this save's count is of this
     * run's snapshot, and an id too many would make a later new message
     * look old, hiding a removal from the count). */
    bool incremental = s->known_ready && !s->full && !others_saved &&
                       (!full_save || s->none_removed || s->nothing_new);
    bool key_kept = s->known_ready;
    if (!incremental && !s->known_ready) {
        /* a new key with a new set */
        if (getentropy(s->known_key, sizeof s->known_key) != 0)
            return bw_store_set_meta(s->store, "known_ids_key", NULL);
    }
    if (full_save)
        bw_scan_phase("save");
    known_acc_t a = { s->known_key, h, files };
    bool ok = incremental ? bw_nm_source_range_each(s->src, s->after, known_add, &a)
                          : bw_nm_source_all_ids(s->src, known_add, &a);
    if (ok && !incremental) {
        /* in key order: SQLite appends to its B-tree instead of inserting
         * at random pages.  The listing does not count files: every
         * message holds at least one, so 1 is never more than it holds
         * (the bound the sums need, "known ids" above), and is what
         * almost every message holds.  The two arrays stay paired. */
        known_sort(h);
        for (guint i = 0; i < files->len; i++)
            g_array_index(files, guint, i) = 1;
    }
    if (!ok) {
        /* not known: the next run lists them again */
        s->known_ready = false;
        return bw_store_set_meta(s->store, "known_ids_key", NULL);
    }
    /* A listing again under the key the set already has (a removal, or
     * another run's save) changes few rows: only those are written. */
    bw_known_put_t how = incremental ? BW_KNOWN_ADD : key_kept ? BW_KNOWN_SYNC : BW_KNOWN_REPLACE;
    bw_status_t st = bw_store_known_ids_put(s->store, how, (const guint64 *)h->data,
                                            (const guint *)files->data, h->len);
    if (st != BW_OK)
        return st;
    bw_scan_phase(incremental ? "known-ids:add" : "known-ids:list");   /* T341 tells them apart */
    char hex[33];
    for (int i = 0; i < 16; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", s->known_key[i]);
    s->known_ready = true;
    st = bw_store_set_meta(s->store, "known_ids_key", hex);
    /* the save the set goes with (the revision and the save counter it
     * writes, or, with nothing new, keeps): a set another program's save
     * did not keep (an older bouncewatch, a partial copy) is not used */
    g_autofree char *at = bw_scan_known_stamp(s->revision, s->saves);
    return st == BW_OK ? bw_store_set_meta(s->store, "known_ids_at", at) : st;
}

char *
bw_scanner_settled_value(guint64 saves, gint64 at, gint64 until)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                           saves, at, until);
}

bool
bw_scanner_settled_parse(const char *value, guint64 *saves, gint64 *at, gint64 *until)
{
    if (value == NULL || strlen(value) > 80)
        return false;
    g_auto(GStrv) f = g_strsplit(value, " ", 4);
    if (g_strv_length(f) != 3)
        return false;
    guint64 n = 0;
    gint64 a = 0, u = 0;
    if (!g_ascii_string_to_unsigned(f[0], 10, 1, G_MAXUINT64, &n, NULL) ||
        !g_ascii_string_to_signed(f[1], 10, G_MININT64, G_MAXINT64, &a, NULL) ||
        !g_ascii_string_to_signed(f[2], 10, G_MININT64, G_MAXINT64, &u, NULL) || u < a)
        return false;
    *saves = n;
    *at = a;
    *until = u;
    return true;
}

bw_status_t
bw_scan_stage_read(bw_scan_t *s, bool *retry, char **detail)
{
    const bw_scanner_options_t *opts = s->opts;
    g_autofree char *default_state = NULL;
    const char *state_path = opts->state_path;
    if (state_path == NULL)
        state_path = default_state = bw_scanner_default_state_path();

    bw_scan_phase("start");
    bw_status_t st = bw_nm_source_open(opts->config_path, &s->src, detail);
    if (st != BW_OK)
        return st;
    /* Before the state is even opened: no verdict, nothing written. */
    st = bw_scan_check_owner(s->src, opts, detail);
    if (st != BW_OK)
        return st;
    bw_scan_phase("open");

    g_autofree char *rebuilt = NULL;
    st = bw_store_open(state_path, &s->store, &rebuilt, detail);
    if (st != BW_OK)
        return st;
    if (rebuilt)
        bw_scan_notice(opts, rebuilt);
    if (opts->retry_skipped && bw_store_retry_skipped(s->store) != BW_OK)
        return bw_error_set(detail, BW_E_STATE, "%s",
                            _("cannot read which messages were skipped"));

    /* The state as the last run left it. */
    s->revision = bw_nm_source_revision(s->src, &s->uuid);
    g_autofree char *saved_cfg = NULL;
    bw_store_get_meta(s->store, "uuid", &s->saved_uuid);
    bw_store_get_meta(s->store, "revision", &s->saved_rev);
    bw_store_get_meta(s->store, "config", &saved_cfg);
    s->cfg = bw_scan_config_digest(s->src);
    s->after = s->saved_rev ? g_ascii_strtoull(s->saved_rev, NULL, 10) : 0;
    /* Another version of bouncewatch or of the engine (BW_ENGINE_VERSION)
     * may classify, or store items, differently: start over from the mail
     * rather than trust its state. */
    g_autofree char *saved_program = NULL;
    bw_store_get_meta(s->store, "program", &saved_program);
    s->full = opts->full || s->saved_rev == NULL || g_strcmp0(s->saved_uuid, s->uuid) != 0 ||
              g_strcmp0(saved_program, STATE_PROGRAM) != 0;
    s->config_changed = g_strcmp0(saved_cfg, s->cfg) != 0;
    if (!s->full && s->after > s->revision)
        s->full = true;   /* the database was rebuilt under the same UUID */

    /* What arrived: the candidate reports of the lastmod range. */
    bw_scan_phase("state");
    bool no_writes = !s->full && !s->config_changed && s->after == s->revision;
    if (no_writes) {
        /* Not one write since the last run: no query at all. */
        s->candidates = g_ptr_array_new();
    } else {
        st = bw_nm_source_candidates(s->src, s->full, s->after, &s->candidates, &s->examined,
                                     &s->sent_changed, detail);
        if (st != BW_OK)
            return st;
    }
    bw_scan_phase(no_writes ? "no-writes" : "candidates");   /* T220 tells them apart */

    /* The new items: candidates not stored yet (dedupe: our own tagging
     * bumps lastmod).  Anything else in the range is new mail (or a user's
     * tag change) and may change verdicts. */
    s->fresh = g_ptr_array_new();
    bw_scan_skips_load(&s->skips, s->store);
    /* Culprits an earlier attempt of this run met (its read phase was
     * started again): not read twice. */
    GHashTableIter ci;
    gpointer cv;
    g_hash_table_iter_init(&ci, s->run_culprits);
    while (g_hash_table_iter_next(&ci, NULL, &cv)) {
        const bw_skipped_t *e = cv;
        bw_scan_skips_put(&s->skips, e->message_id, e->file, e->date, e->cause, e->why);
    }
    g_autoptr(GHashTable) fresh_ids = g_hash_table_new(g_str_hash, g_str_equal);
    s->moved = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < s->candidates->len; i++) {
        bw_nm_candidate_t *c = g_ptr_array_index(s->candidates, i);
        bool found = false;
        g_autofree char *stored_file = NULL;
        if (!s->full &&
            bw_store_has_item(s->store, c->message_id, &found, &stored_file) == BW_OK && found) {
            /* A stored report under another file now (moved to another
             * folder, renamed by a client's flag, its first copy removed
             * or another copy added: notmuch 0.37 gives each of these a new
             * lastmod, so it is in the range) is read again from that
             * file, as a full scan reads it: a copy under the same
             * Message-ID need not hold the same bytes. */
            if (g_strcmp0(stored_file, c->file) == 0)
                continue;
            g_hash_table_add(s->moved, c->message_id);
        }
        /* A message this reader build could not read is not read again
         * (only its file name follows notmuch's renames). */
        if (bw_scan_skips_holds(&s->skips, c->message_id)) {
            const bw_skipped_t *e = g_hash_table_lookup(s->skips.by_id, c->message_id);
            g_autofree char *file = g_utf8_make_valid(c->file, -1);
            if (g_strcmp0(e->file, file) != 0)
                bw_scan_skips_put(&s->skips, c->message_id, c->file, c->date, NULL, NULL);
            continue;
        }
        g_ptr_array_add(s->fresh, c);
        g_hash_table_add(fresh_ids, c->message_id);
    }
    /* What another reader build skipped is read again now, wherever it is
     * in the mailbox's history (where notmuch keeps it now). */
    s->retried = g_ptr_array_new_with_free_func((GDestroyNotify)bw_nm_candidate_free);
    for (guint i = 0; i < s->skips.list->len; i++) {
        const bw_skipped_t *e = g_ptr_array_index(s->skips.list, i);
        if (bw_scan_skips_holds(&s->skips, e->message_id) ||
            g_hash_table_contains(fresh_ids, e->message_id))
            continue;
        bw_nm_candidate_t *c = g_new0(bw_nm_candidate_t, 1);
        c->message_id = g_strdup(e->message_id);
        if (bw_nm_source_find_file(s->src, e->message_id, &c->file, &c->date) != BW_OK ||
            c->file == NULL)
            c->file = g_strdup(e->file);   /* gone: found out and forgotten in parse */
        g_ptr_array_add(s->retried, c);
        g_ptr_array_add(s->fresh, c);
        g_hash_table_add(fresh_ids, c->message_id);
    }
    /* Nothing new: every message written since the last run is a report we
     * already hold under the same file (our own tags bump lastmod), and
     * none was deleted (a deletion leaves no message in the range, but
     * lowers the count). */
    /* The count, the directory table, the set of known ids and its stamp
     * are read in one read transaction, with the lookups in the set: all
     * of one save, whatever another run commits meanwhile (a later save's
     * set may hold ids the count and the table below do not count). */
    bool one_read = bw_store_read_begin(s->store);
    g_autofree char *saved_count = NULL, *rev_again = NULL;
    bw_store_get_meta(s->store, "messages", &saved_count);
    bw_store_get_meta(s->store, "revision", &rev_again);
    s->nothing_new = !s->full && !s->config_changed && !s->sent_changed && s->fresh->len == 0 &&
                     s->examined == s->candidates->len && saved_count != NULL;
    /* The last save counted the messages after reading its revision, so
     * every message added since is in the lastmod range: when the count
     * grew by the whole range, every message in it is new and none was
     * removed.  The directories notmuch holds tell it first, without
     * counting every message (bw_nm_source_none_removed_known); the count
     * decides when they cannot.  (What the later stages know without
     * asking again: the owner's sent mail, stored verdicts.  A message
     * added and another removed in the moment between this run's two
     * counts escape the count, as they escape the nothing-new test.) */
    bw_store_get_meta(s->store, "dir_files", &s->saved_dir_files);
    g_autofree char *known_key = NULL;
    bw_store_get_meta(s->store, "known_ids_key", &known_key);
    g_autofree char *known_at = NULL, *saves_then = NULL;
    bw_store_get_meta(s->store, "known_ids_at", &known_at);
    bw_store_get_meta(s->store, "saves", &saves_then);
    g_free(s->saves_read);
    s->saves_read = one_read ? g_strdup(saves_then) : NULL;
    g_autofree char *stamp = bw_scan_known_stamp(s->after, saves_then ? g_ascii_strtoull(saves_then, NULL, 10) : 0);
    s->known_ready = !s->full && one_read && g_strcmp0(rev_again, s->saved_rev) == 0 &&
                     g_strcmp0(known_at, stamp) == 0 && known_key_parse(known_key, s->known_key);
    if (!s->nothing_new && !s->full && saved_count != NULL) {
        guint64 saved = g_ascii_strtoull(saved_count, NULL, 10);
        /* the new messages of the range ("known ids" above; without the
         * set, every one is taken for new) */
        guint64 fresh = 0;
        gint64 expected = 0;
        bw_test_gate("BOUNCEWATCH_TEST_READ_GATE");
        bool sorted = bw_nm_source_range_known(s->src, s->after,
                                               s->known_ready ? known_lookup : NULL, s, &fresh,
                                               &expected);
        if (one_read) {
            bw_store_read_end(s->store);
            one_read = false;
        }
        s->none_removed = sorted && bw_nm_source_none_removed_known(s->src, s->after,
                                                                    s->saved_dir_files, saved,
                                                                    fresh, expected);
        bool told = s->none_removed;
        if (!s->none_removed && sorted) {
            guint64 total = bw_nm_source_count_messages(s->src);   /* kept for classify */
            s->none_removed = !bw_nm_source_failed(s->src, NULL) && total == saved + fresh;
            /* none removed: a directory too big to count gets its files
             * from the sums ("known ids" above), so that the next run's
             * directories can tell again */
            if (!s->none_removed ||
                !bw_nm_source_dirs_derive(s->src, s->after, s->saved_dir_files, expected))
                bw_nm_source_dirs_fill(s->src, s->saved_dir_files);
        }
        bw_scan_phase(told ? "removals:dirs" : "removals:count");   /* T340 tells them apart */
    }
    if (one_read)
        bw_store_read_end(s->store);
    /* Removing a message does not bump notmuch's revision (0.37): the
     * count shows it, but counting 160k messages costs 40 ms through
     * libnotmuch (one posting-list length through our own Xapian handle,
     * when that is of this snapshot: nm-xapian.h).  notmuch new
     * records each directory's mtime when it adds or removes a file, so an
     * unchanged directory digest means nothing was removed that way. */
    s->dirs = bw_nm_source_directory_digest(s->src);
    bw_store_get_meta(s->store, "dirs", &s->saved_dirs);
    if (s->nothing_new && s->dirs && s->saved_dirs && strcmp(s->dirs, s->saved_dirs) == 0) {
        s->total = g_ascii_strtoull(saved_count, NULL, 10);
    } else if (s->nothing_new) {
        s->total = bw_nm_source_count_messages(s->src);
        s->nothing_new = s->total == g_ascii_strtoull(saved_count, NULL, 10);
    }
    /* What a run with nothing new needs to know whether it can stop here
     * (bw_scan_quiet). */
    g_autofree char *saves = NULL, *tagged = NULL, *latest = NULL, *incident = NULL;
    bw_store_get_meta(s->store, "saves", &saves);
    bw_store_get_meta(s->store, "tagged_saves", &tagged);
    bw_store_get_meta(s->store, "latest_backscatter", &latest);
    s->saves = saves ? g_ascii_strtoull(saves, NULL, 10) : 0;
    s->tags_owed = saves == NULL || g_strcmp0(saves, tagged) != 0;
    s->latest_backscatter = latest ? g_ascii_strtoll(latest, NULL, 10) : -1;
    bw_store_get_meta(s->store, "incident_last", &incident);
    s->incident_last = incident ? g_ascii_strtoll(incident, NULL, 10) : -1;
    g_autofree char *settled = NULL;
    bw_store_get_meta(s->store, BW_SCANNER_SETTLED_META, &settled);
    if (!bw_scanner_settled_parse(settled, &s->settled_saves, &s->settled_at,
                                  &s->settled_until))
        s->settled_saves = 0;
    /* A run with nothing new stops soon, or answers from the state: what
     * it read here decides it, so it must be of this run's snapshot (libnotmuch
     * may have moved its handle meanwhile: bw_nm_source_snapshot_held).  Any
     * other run reads on, and its save asks again after its last read
     * (bw_scan_stage_store); asked here too, an attempt whose reads were
     * moved already reads again now, not after parsing and classifying
     * what it read (review12).  Cost without a move: one fresh Xapian
     * open (~64 k instructions) per run that has new mail. */
    (void)bw_nm_source_snapshot_held(s->src);   /* else recorded as a failed read */
    if (bw_nm_source_failed(s->src, detail)) {
        *retry = true;
        return BW_E_DATABASE;
    }
    return BW_OK;
}

/* A surge alerts while it is under way: its last alarmed hour ends at most
 * an hour before now (surge.c: `ongoing`), and an alarmed hour holds a
 * backscatter report.  So with the newest backscatter report more than two
 * hours old (the start of its hour more than 7,199 s before now) no surge
 * can alert, whatever the history before it. */
#define QUIET_AFTER_S 7200

bool
bw_scan_quiet(const bw_scan_t *s)
{
    if (!s->nothing_new || s->latest_backscatter < 0 || s->incident_last < 0)
        return false;
    /* The signals' incident alerts while its newest signal is recent. */
    if (s->incident_last >= s->opts->now - BW_ALERT_INCIDENT_RECENT_SECONDS)
        return false;
    if (s->opts->tag && s->tags_owed)
        return false;
    return s->latest_backscatter < s->opts->now - QUIET_AFTER_S;
}

/* Why stopping here is exact.  A run with nothing new computes its result
 * from the stored state (items, campaigns, signals, the profile: what the
 * save numbered `saves` left) and "now".  Its alerts (the hook's:
 * bw_alerts_from_result, then bw_agent_alert, which shows an alert only
 * when the state records none under its key, or a smaller count) depend on
 * "now" in these ways only:
 *   - surges: within bw_surges_same_until() the same windows, counts and
 *     campaigns, `ongoing` only turning false (surge.c); so the same
 *     assessment (bw_assess reads the surges, not "now") and the same
 *     signals' incident (signal-assess.c reads no clock);
 *   - an alert is due while its surge is ongoing or its incident recent:
 *     a later "now" drops alerts, never adds one; an incident's count adds
 *     the counts of the surges due, so it can only shrink; keys (a surge's
 *     start, the incident's key) stay.
 * The caller writes the marker (bw_agent_settle) only when, in one
 * transaction with the state still at that save, every alert due at
 * `settled_at` is recorded as shown under its own key with at least its
 * count.  A later run with the same save and a "now" in [settled_at,
 * settled_until] therefore finds every due alert recorded and shows
 * nothing: it would only read, so it stops here.  Mail that arrived, a
 * save in between, a clock set back or a new hour make it go the long
 * way, as do tags still owed.  An alert that could not be recorded (the
 * state busy, --no-notify) leaves no marker: the next run retries it. */
bool
bw_scan_settled(const bw_scan_t *s)
{
    if (!s->nothing_new || s->settled_saves == 0 || s->settled_saves != s->saves)
        return false;
    if (s->opts->tag && s->tags_owed)
        return false;
    return s->opts->now >= s->settled_at && s->opts->now <= s->settled_until;
}
