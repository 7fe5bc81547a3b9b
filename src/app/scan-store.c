/* scan-store.c: the group, store, detect and tag stages (scan-private.h). */
#include "config.h"
#include "scan-private.h"
#include "nm-tagger.h"
#include <glib/gi18n-lib.h>
#include <string.h>

/* The group stage promoted it (campaign.c): its row is not the
 * classification the questions answer, and is not kept by a later run (no
 * questions stored). */
static bool
row_promoted(const bw_scan_row_t *row, const bw_item_t *it)
{
    const bw_scan_verdict_t *v = row != NULL ? &row->verdict : NULL;
    return v == NULL || v->klass != it->klass || v->score != it->score ||
           v->evidence != (it->evidence ? it->evidence->len : 0);
}

/* The row record of `it` (scan-private.h), or NULL: an item the classify
 * stage did not give (another run's, taken in). */
static const bw_scan_row_t *
row_of(const bw_scan_t *s, const bw_item_t *it)
{
    return s->rows != NULL ? g_hash_table_lookup(s->rows, it) : NULL;
}

/* The questions the row of `it` holds (or is written with here). */
static const char *
row_questions(const bw_scan_t *s, const bw_item_t *it)
{
    const bw_scan_row_t *row = row_of(s, it);
    return row_promoted(row, it) ? NULL : row->questions;
}

/* The snapshot entries of `items`, each with its row's questions; slim
 * items made whole first (their entries are written from the whole
 * report). */
static bw_status_t
put_entries(bw_scan_t *s, GPtrArray *items)
{
    g_autoptr(GPtrArray) questions = g_ptr_array_sized_new(items->len);
    for (guint i = 0; i < items->len; i++) {
        bw_item_t *it = g_ptr_array_index(items, i);
        if (it->slim && !bw_scan_item_unslim(s, it, NULL)) {
            s->unslim_failed = true;
            return BW_E_STATE;
        }
        g_ptr_array_add(questions, (gpointer)row_questions(s, it));
    }
    return bw_snapshot_put_entries(s->store, items, s->teaches, questions);
}

bw_status_t
bw_scan_stage_store(bw_scan_t *s, bool *retry, char **detail)
{
    bw_store_t *store = s->store;
    /* Everything derived is written in one transaction; BEGIN IMMEDIATE
     * serialises concurrent runs (hook and agent), and the previous
     * campaigns are read inside it so ids cannot fork. */
    bw_test_gate("BOUNCEWATCH_TEST_SAVE_GATE");
    bw_status_t st = bw_store_begin(store, detail);
    if (st != BW_OK)
        return st;
    /* Another run (the hook while the agent scans) may have committed
     * reports since we read the state: take them in, so that neither
     * run's campaigns and output miss them. */
    g_autofree char *rev_now = NULL;
    bw_store_get_meta(store, "revision", &rev_now);
    /* (Another run's save moves the save counter, even one of a snapshot
     * with the same revision: a removal does not move notmuch's.) */
    bool others_saved = bw_scan_others_saved(s, rev_now);
    if (!s->full && g_strcmp0(rev_now, s->saved_rev) != 0) {
        g_autoptr(GPtrArray) theirs = NULL;
        if (bw_store_load_items(store, &theirs, NULL) == BW_OK) {
            /* every item's Message-ID, and the stored reports that left
             * (not taken back from the concurrent run): made here, where
             * it is asked (rarely), not by the classify stage for every
             * stored row */
            if (s->have == NULL) {
                s->have = g_hash_table_new(bw_str_hash, g_str_equal);
                for (guint i = 0; i < s->items->len; i++)
                    g_hash_table_add(s->have,
                                     ((bw_item_t *)g_ptr_array_index(s->items, i))->message_id);
                for (guint i = 0; s->vanished != NULL && i < s->vanished->len; i++)
                    g_hash_table_add(s->have, g_ptr_array_index(s->vanished, i));
            }
            for (guint i = 0; i < theirs->len; i++) {
                bw_item_t *it = g_ptr_array_index(theirs, i);
                if (g_hash_table_contains(s->have, it->message_id))
                    continue;
                g_ptr_array_index(theirs, i) = NULL;
                g_hash_table_add(s->have, it->message_id);
                g_ptr_array_add(s->items, it);
                s->took_theirs = true;
            }
            g_ptr_array_sort(s->items, bw_scan_item_cmp);   /* taken ones are NULL in theirs */
        }
    }

    /* group: campaigns over all items, ids kept from the previous ones. */
    g_autoptr(GPtrArray) previous = NULL;
    g_autofree char *msg = NULL;
    if (bw_store_load_campaigns(store, &previous, &msg) != BW_OK)
        previous = NULL;   /* unreadable campaigns: new ids, not a failure */
    st = bw_campaigns_build(s->items, previous, &s->campaigns);

    /* store */
    if (st == BW_OK && s->full)
        st = bw_store_clear_items(store);
    /* A new database (another UUID) carries none of the tags we wrote
     * into the old one: forget them, so --tag writes them again. */
    if (st == BW_OK && s->saved_uuid != NULL && g_strcmp0(s->saved_uuid, s->uuid) != 0)
        st = bw_store_clear_tagged(store);
    for (guint i = 0; st == BW_OK && i < s->vanished->len; i++)
        st = bw_store_delete_item(store, g_ptr_array_index(s->vanished, i));
    /* (Not after another run committed since we read the rows: what
     * they say now is not what we read.) */
    bool rows_as_read = !s->full && g_strcmp0(rev_now, s->saved_rev) == 0;
    g_clear_pointer(&s->unchanged, g_free);
    s->unchanged_len = 0;
    if (rows_as_read && !s->took_theirs) {
        s->unchanged = g_malloc0(MAX(s->items->len, 1u));
        s->unchanged_len = s->items->len;
    }
    /* Slim items (scan-classify.c) are made whole from their rows where
     * they are written: only while the rows are the ones their entries
     * were read with (no other run saved since this one read them); else
     * the run starts again. */
    bool any_slim = false;
    for (guint i = 0; i < s->items->len && !any_slim; i++)
        any_slim = ((const bw_item_t *)g_ptr_array_index(s->items, i))->slim;
    if (any_slim && (!rows_as_read || others_saved || s->took_theirs)) {
        bw_store_rollback(store);
        *retry = true;
        return BW_E_DATABASE;
    }
    /* The snapshot's entries (snapshot.c) of the rows written here, and of
     * the rows kept whose report teaches otherwise than their stored entry
     * says; every other row keeps its entry.  When each stored report
     * teaches what it taught at the save whose entries these are
     * (teaches_as_stored), a kept row's entry says it rightly; else the
     * stored entries that say it teaches are read (`learning`). */
    bool learn_as_stored = rows_as_read && !s->took_theirs && s->teaches_as_stored;
    /* Which reports teach, asked once for the snapshot and the
     * assessment (the same question, the same answers); a slim item's
     * entry says it when each stored report teaches what it taught. */
    g_clear_pointer(&s->teaches, g_hash_table_unref);
    s->teaches = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < s->items->len; i++) {
        bw_item_t *it = g_ptr_array_index(s->items, i);
        if (it->slim && learn_as_stored ? it->slim_learn
                                        : it->report != NULL &&
                                          bw_classify_learn(NULL, &s->ops, it->report))
            g_hash_table_add(s->teaches, it);
    }
    g_autoptr(GHashTable) learning = NULL;
    if (st == BW_OK && rows_as_read && !learn_as_stored &&
        bw_store_snap_learning(store, &learning) != BW_OK)
        learning = NULL;
    /* (Tests: BOUNCEWATCH_TEST_UNSLIM=entries writes again the entry of
     * every slim item, each made whole from its row first.) */
    bool test_entries = any_slim && g_strcmp0(g_getenv("BOUNCEWATCH_TEST_UNSLIM"), "entries") == 0;
    g_autoptr(GPtrArray) entries_due = g_ptr_array_new();
    for (guint i = 0; st == BW_OK && i < s->items->len; i++) {
        bw_item_t *it = g_ptr_array_index(s->items, i);
        bool learn = g_hash_table_contains(s->teaches, it);
        bool entry_holds = (learn_as_stored ||
                            (learning != NULL &&
                             g_hash_table_contains(learning, it->message_id) == learn)) &&
                           !(test_entries && it->slim);
        /* The group stage promoted it (campaign.c): its row is not the
         * classification the questions answer, and is not kept by a later
         * run (no questions stored). */
        const bw_scan_row_t *row = row_of(s, it);
        bool promoted = row_promoted(row, it);
        /* A kept verdict (scan-classify.c) is the stored row's: only its
         * campaign can have moved. */
        const char *kept = rows_as_read && row != NULL ? row->kept : NULL;
        if (kept != NULL && !promoted && strcmp(kept, it->campaign ? it->campaign : "") == 0) {
            if (s->unchanged != NULL)
                s->unchanged[i] = 1;
            if (!entry_holds)
                g_ptr_array_add(entries_due, it);
            continue;
        }
        bool written = true;
        if (it->slim && !bw_scan_item_unslim(s, it, NULL)) {
            s->unslim_failed = true;
            st = BW_E_STATE;
            break;
        }
        st = bw_store_put_item_if_changed(store, it,
                                          promoted ? NULL : row->questions,
                                          rows_as_read, &written, detail);
        if (written || !entry_holds)
            g_ptr_array_add(entries_due, it);
    }
    if (st == BW_OK)
        st = put_entries(s, entries_due);
    /* An entry missing (dropped as damaged by a reader, or not built):
     * written again from its item, so that the entries count as the
     * items again. */
    guint64 n_entries = 0, n_rows = 0;
    if (st == BW_OK && bw_store_count_snap_entries(store, &n_entries) == BW_OK &&
        bw_store_count_items(store, &n_rows) == BW_OK && n_entries != n_rows) {
        g_autoptr(GHashTable) have_entry = NULL;
        if (bw_store_snap_entry_ids(store, &have_entry) == BW_OK) {
            g_autoptr(GPtrArray) missing = g_ptr_array_new();
            for (guint i = 0; i < s->items->len; i++) {
                bw_item_t *it = g_ptr_array_index(s->items, i);
                if (!g_hash_table_contains(have_entry, it->message_id))
                    g_ptr_array_add(missing, it);
            }
            st = put_entries(s, missing);
        }
    }
    if (st == BW_OK)
        st = bw_store_save_campaigns(store, s->campaigns, detail);
    if (st == BW_OK)
        st = bw_scan_skips_save(&s->skips, store);
    /* The sent messages the profile learnt from: the bytes read when they
     * came from the snapshot (the same messages), else made from them;
     * written only when they differ from the stored ones. */
    if (st == BW_OK) {
        g_autoptr(GBytes) sent = s->sent_snap != NULL ? g_variant_get_data_as_bytes(s->sent_snap)
                                                      : bw_snapshot_sent_bytes(s->sent);
        st = bw_store_put_snap_sent(store, sent, NULL);
    }
    /* The one-blob snapshot of states before (STATE_PROGRAM's state-3),
     * left by the first save of this layout (a full one). */
    if (st == BW_OK && s->full)
        st = bw_store_put_snapshot(store, NULL);
    /* The answers about the sent mail: not written again when they are
     * the stored ones, imported by this run and none added since (the
     * run that stored them saw the same revision: rows_as_read). */
    if (st == BW_OK && !(rows_as_read && bw_nm_source_sent_answers_as_imported(s->src))) {
        g_autoptr(GBytes) answers = bw_nm_source_export_sent_answers(s->src);
        st = bw_store_put_sent_answers(store, answers);
    }
    if (st == BW_OK)
        st = bw_signals_stage_save(&s->sig, store, detail);
    g_autofree char *rev_text = g_strdup_printf("%" G_GUINT64_FORMAT, s->revision);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "uuid", s->uuid);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "revision", rev_text);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "config", s->cfg);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "program", STATE_PROGRAM);
    g_autofree char *total_text = g_strdup_printf("%" G_GUINT64_FORMAT, s->total);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "messages", total_text);
    g_autofree char *sent_text = g_strdup_printf("%" G_GUINT64_FORMAT, s->sent_total);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "sent_messages", sent_text);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "dirs", s->dirs);   /* NULL: count next time */
    g_autofree char *dir_files = bw_nm_source_directory_table(s->src, s->revision,
                                                              s->saved_dir_files);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "dir_files", dir_files);
    /* (No run of this build reads profile_digest any more: verdicts go by
     * verdict_digest.  It is still written for an older build that opens
     * this state after a downgrade and decides by it.) */
    if (st == BW_OK)
        st = bw_store_set_meta(store, "profile_digest", s->profile_digest);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "verdict_digest", s->verdict_digest);
    /* For a later run with nothing new (bw_scan_quiet): the newest
     * backscatter report, and a counter of saves the tags must follow. */
    gint64 latest = 0;
    for (guint i = 0; i < s->items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(s->items, i);
        if (it->klass == BW_CLASS_BACKSCATTER)
            latest = MAX(latest, it->date_unix);
    }
    g_autofree char *latest_text = g_strdup_printf("%" G_GINT64_FORMAT, latest);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "latest_backscatter", latest_text);
    g_autofree char *saves_now = NULL;
    if (st == BW_OK)
        bw_store_get_meta(store, "saves", &saves_now);
    s->saves = (saves_now ? g_ascii_strtoull(saves_now, NULL, 10) : 0) + 1;
    g_autofree char *saves_text = g_strdup_printf("%" G_GUINT64_FORMAT, s->saves);
    if (st == BW_OK)
        st = bw_store_set_meta(store, "saves", saves_text);
    /* after the revision and the counter it is stamped with */
    if (st == BW_OK)
        st = bw_scan_known_ids_save(s, true, others_saved);
    /* What the profile learnt from the stored reports, for the next run
     * (scan-classify.c): only when the saved items are this run's, not
     * merged with another run's (rows_as_read), else none (an older list
     * names another save: not used). */
    g_autofree char *taught = s->full || rows_as_read ? bw_scan_taught_text(s, s->saves) : NULL;
    if (st == BW_OK)
        st = bw_store_set_meta(store, "profile_lessons", taught);
    if (st != BW_OK) {
        bw_store_rollback(store);
        return bw_error_set(detail, st, "%s", _("cannot save the scan state"));
    }
    /* After the last read of the database this save holds (the listing of
     * the known ids above), before anything is kept: every read of this run
     * (the read stage's, the classification's, this save's) was of the
     * snapshot whose revision it saves, or none of it is saved and the run
     * reads again (bw_nm_source_snapshot_held). */
    if (!bw_nm_source_snapshot_held(s->src)) {
        bw_store_rollback(store);
        *retry = bw_nm_source_failed(s->src, detail);
        return BW_E_DATABASE;
    }
    st = bw_store_commit(store, detail);
    if (st != BW_OK)
        return st;
    bw_scan_phase("campaigns+save");
    return BW_OK;
}

bw_status_t
bw_scan_stage_detect(bw_scan_t *s, char **detail)
{
    bw_surge_config_t scfg;
    bw_surge_config_default(&scfg);
    bw_status_t st = bw_surges_detect(s->items, s->opts->now, &scfg, &s->surges);
    if (st != BW_OK)
        return bw_error_set(detail, st, "%s", _("surge detection failed"));
    if (!s->nothing_new && bw_store_begin(s->store, NULL) == BW_OK) {
        if (bw_store_save_surges(s->store, s->surges) == BW_OK)
            bw_store_commit(s->store, NULL);
        else
            bw_store_rollback(s->store);
    }
    bw_scan_phase("surges");
    return BW_OK;
}

/* The tags of SPEC section 3 for one item, space-separated. */
static char *
wanted_tags(const bw_item_t *item)
{
    if (item->klass != BW_CLASS_BACKSCATTER)
        return g_strdup("bounce");
    if (item->campaign == NULL)
        return g_strdup("bounce backscatter");
    return g_strconcat("bounce backscatter bw/", item->campaign, NULL);
}

static void
bw_gstring_free_all(GString *g)
{
    g_string_free(g, TRUE);
}

/* Queue the change of `id`'s tags to `want` (taken) unless they are the
 * ones we wrote before: tagging is idempotent and a run with nothing new
 * writes nothing.  A tag of ours the user removed by hand stays removed
 * until our verdict changes. */
static void
tag_change_if_differs(GPtrArray *changes, GPtrArray *wanted, GHashTable *tagged,
                      const char *id, char *want)
{
    const char *had = g_hash_table_lookup(tagged, id);
    if (had != NULL && strcmp(had, want) == 0) {
        g_free(want);
        return;
    }
    bw_nm_tag_change_t *c = g_new0(bw_nm_tag_change_t, 1);
    c->message_id = g_strdup(id);
    c->want = g_strsplit(want, " ", 8);
    c->had = had ? g_strsplit(had, " ", 8) : NULL;
    g_ptr_array_add(changes, c);
    g_ptr_array_add(wanted, want);
}

/* The tags of an item the store stage left unchanged are the ones the last
 * save's tagging wrote, when that tagging was done (`unchanged`, by item
 * index, is passed only then): its verdict and campaign are the stored row's, and the
 * tagged table holds what that save wanted for every item of it.  So only
 * the other items, the messages of `extra` and the rows that hold tags of
 * the signals (which a run may take away) are read from the table and
 * compared: at 1M messages reading every row cost ~12 M instructions, and
 * comparing every item ~10 M, for the few that can change.  An unchanged
 * item is still compared when `extra` names it or its row holds such
 * tags. */
static bw_status_t
do_tagging(const bw_scanner_options_t *opts, bw_store_t *store, GPtrArray *items,
           GHashTable *extra, const guint8 *unchanged, bw_nm_tagger_revisions_t *revs,
           char **detail)
{
    g_autoptr(GHashTable) tagged = NULL;
    bw_status_t lst;
    if (unchanged != NULL) {
        g_autoptr(GPtrArray) ids = g_ptr_array_new();
        for (guint i = 0; i < items->len; i++) {
            const bw_item_t *item = g_ptr_array_index(items, i);
            if (!unchanged[i])
                g_ptr_array_add(ids, item->message_id);
        }
        if (extra != NULL) {
            GHashTableIter ei;
            gpointer ek;
            g_hash_table_iter_init(&ei, extra);
            while (g_hash_table_iter_next(&ei, &ek, NULL))
                g_ptr_array_add(ids, ek);
        }
        lst = bw_store_load_tagged_some(store, ids, &tagged);
    } else {
        lst = bw_store_load_tagged(store, &tagged);
    }
    if (lst != BW_OK)
        return bw_error_set(detail, BW_E_STATE, "%s",
                            _("cannot read which tags were written before"));
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(
        (GDestroyNotify)bw_nm_tag_change_free);
    g_autoptr(GPtrArray) wanted = g_ptr_array_new_with_free_func(g_free);
    /* Every message we tag: the reports, the messages behind the signals
     * and the imitations (extra: message-id -> GString of tags), and those
     * we tagged before as signals or imitations (their tags may go).  Each
     * is compared with what we wrote before as it comes (one lookup in
     * `tagged`), in that order; `seen` keeps the first of each id. */
    g_autoptr(GHashTable) seen = g_hash_table_new(bw_str_hash, g_str_equal);
    bool any_extra = extra != NULL && g_hash_table_size(extra) > 0;
    /* The few ids of `extra` and `tagged` asked of every item, in tables of
     * their own hashed with bw_str_hash (a Message-ID hashed by g_str_hash
     * cost ~250 instructions); the tables themselves stay as they are, for
     * the walks below and their order. */
    g_autoptr(GHashTable) extra_ids = any_extra ? g_hash_table_new(bw_str_hash, g_str_equal) : NULL;
    g_autoptr(GHashTable) tagged_ids = unchanged != NULL
                                     ? g_hash_table_new(bw_str_hash, g_str_equal) : NULL;
    GHashTableIter mi;
    gpointer mk, mv;
    if (extra_ids != NULL) {
        g_hash_table_iter_init(&mi, extra);
        while (g_hash_table_iter_next(&mi, &mk, &mv))
            g_hash_table_insert(extra_ids, mk, mv);
    }
    if (tagged_ids != NULL) {
        g_hash_table_iter_init(&mi, tagged);
        while (g_hash_table_iter_next(&mi, &mk, NULL))
            g_hash_table_add(tagged_ids, mk);
    }
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *item = g_ptr_array_index(items, i);
        GString *more = any_extra ? g_hash_table_lookup(extra_ids, item->message_id) : NULL;
        if (unchanged != NULL && more == NULL && unchanged[i] &&
            !g_hash_table_contains(tagged_ids, item->message_id))
            continue;   /* tagged as wanted by the last save (see above) */
        if (!g_hash_table_add(seen, item->message_id))
            continue;
        char *want = wanted_tags(item);
        if (more != NULL && more->len > 0) {
            char *both = g_strdup_printf("%s %s", want, more->str);
            g_free(want);
            want = both;
        }
        tag_change_if_differs(changes, wanted, tagged, item->message_id, want);
    }
    GHashTableIter hi;
    gpointer k, v;
    if (any_extra) {
        g_hash_table_iter_init(&hi, extra);
        while (g_hash_table_iter_next(&hi, &k, &v))
            if (g_hash_table_add(seen, k))
                tag_change_if_differs(changes, wanted, tagged, k,
                                      g_strdup(((GString *)v)->str));
    }
    g_hash_table_iter_init(&hi, tagged);
    while (g_hash_table_iter_next(&hi, &k, &v))
        if ((strstr(v, "bw/signal") != NULL || strstr(v, "bw/phishing") != NULL) &&
            g_hash_table_add(seen, k))
            tag_change_if_differs(changes, wanted, tagged, k, g_strdup(""));
    if (changes->len == 0)
        return BW_OK;
    unsigned timeout = opts->lock_timeout_ms;
    const char *env = g_getenv("BOUNCEWATCH_LOCK_TIMEOUT_MS");
    if (timeout == 0 && env != NULL)
        timeout = (unsigned)g_ascii_strtoull(env, NULL, 10);
    if (timeout == 0)
        timeout = DEFAULT_LOCK_TIMEOUT_MS;
    unsigned changed = 0;
    bw_status_t st = bw_nm_tagger_apply(opts->config_path, timeout, changes, &changed, revs,
                                        detail);
    if (st != BW_OK)
        return st;
    /* Remember what we wrote, so a later verdict change removes exactly our
     * own stale tags and nothing else (durable at its commit: the tags are
     * in notmuch already). */
    st = bw_store_begin_durable(store, detail);
    if (st != BW_OK)
        return st;
    for (guint i = 0; i < changes->len && st == BW_OK; i++) {
        const bw_nm_tag_change_t *c = g_ptr_array_index(changes, i);
        const char *w = g_ptr_array_index(wanted, i);
        st = bw_store_set_tagged(store, c->message_id, *w ? w : NULL);
    }
    if (st != BW_OK) {
        bw_store_rollback(store);
        return st;
    }
    return bw_store_commit(store, detail);
}

void
bw_scan_stage_tag(bw_scan_t *s)
{
    const bw_scanner_options_t *opts = s->opts;
    if (!opts->tag)
        return;
    g_autofree char *msg = NULL;
    g_autoptr(GHashTable) extra = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify)bw_gstring_free_all);
    bw_signals_stage_tags(s->sig.signals, s->sig.phishing, extra);
    bw_nm_tagger_revisions_t revs = { 0 };
    /* Only the items that can need other tags are compared when the last
     * save's tagging was done, in this same database (do_tagging). */
    const guint8 *unchanged = !s->tags_owed && !s->full && !s->took_theirs &&
                              s->saved_uuid != NULL && g_strcmp0(s->saved_uuid, s->uuid) == 0 &&
                              s->unchanged_len == s->items->len
                              ? s->unchanged : NULL;
    bw_status_t tst = do_tagging(opts, s->store, s->items, extra, unchanged, &revs, &msg);
    if (tst == BW_OK && s->saves > 0 && bw_store_begin(s->store, NULL) == BW_OK) {
        /* The tags follow every item of that save (another run's later
         * save leaves the counters apart: its tags are owed). */
        g_autofree char *saves_text = g_strdup_printf("%" G_GUINT64_FORMAT, s->saves);
        bool ok = bw_store_set_meta(s->store, "tagged_saves", saves_text) == BW_OK;
        /* Our own tags move notmuch's revision: the next run would look at
         * every tagged message again (a second of Xapian after a 20,000-
         * report flood) only to find it holds them all.  When nobody wrote
         * between the revision this run read and the tagger's (it holds the
         * only write lock while it writes), the revisions up to the
         * tagger's are ours: the saved one moves past them, unless another
         * run saved since. */
        g_autofree char *stored_rev = NULL, *stored_uuid = NULL;
        bw_store_get_meta(s->store, "revision", &stored_rev);
        bw_store_get_meta(s->store, "uuid", &stored_uuid);
        g_autofree char *read_rev = g_strdup_printf("%" G_GUINT64_FORMAT, s->revision);
        if (ok && revs.uuid != NULL && revs.before == s->revision && revs.after > revs.before &&
            g_strcmp0(revs.uuid, s->uuid) == 0 && g_strcmp0(stored_uuid, s->uuid) == 0 &&
            g_strcmp0(stored_rev, read_rev) == 0) {
            g_autofree char *after = g_strdup_printf("%" G_GUINT64_FORMAT, revs.after);
            ok = bw_store_set_meta(s->store, "revision", after) == BW_OK;
            /* the table of directories goes with the revision: the tagger
             * adds and removes no file (nm-source.c, "removals") */
            g_autofree char *dir_files = bw_nm_source_directory_table(s->src, revs.after,
                                                                      s->saved_dir_files);
            if (ok)
                ok = bw_store_set_meta(s->store, "dir_files", dir_files) == BW_OK;
            /* and so does the set of known ids kept with this save: the
             * tagger adds and removes no message either.  (Left at the
             * revision read, the stamp would no longer match the saved
             * revision, and the next run would list every id again.) */
            g_autofree char *known_at = NULL;
            bw_store_get_meta(s->store, "known_ids_at", &known_at);
            g_autofree char *read_stamp = bw_scan_known_stamp(s->revision, s->saves);
            if (ok && g_strcmp0(known_at, read_stamp) == 0) {
                g_autofree char *stamp = bw_scan_known_stamp(revs.after, s->saves);
                ok = bw_store_set_meta(s->store, "known_ids_at", stamp) == BW_OK;
            }
        }
        if (ok)
            bw_store_commit(s->store, NULL);
        else
            bw_store_rollback(s->store);
    }
    g_free(revs.uuid);
    bw_scan_phase("tag");
    if (tst != BW_OK) {
        /* The scan is saved; the tags follow on the next run. */
        if (opts->notice)
            opts->notice(opts->notice_data, msg ? msg : bw_status_to_string(tst));
        if (opts->tag_failed_out)
            *opts->tag_failed_out = true;
    }
}
