/* scan-classify.c: the profile and classify stages, and the load of the
 * stored verdicts when nothing is new (scan-private.h). */
#include "config.h"
#include "scan-private.h"
#include <string.h>

bw_status_t
bw_scan_stage_profile(bw_scan_t *s, bool *retry, char **detail)
{
    bw_nm_source_mailbox_ops(s->src, &s->ops);
    unsigned sample = bw_scan_setting_uint(s->src, "profile_sample", DEFAULT_PROFILE_SAMPLE,
                                           MAX_PROFILE_SAMPLE);
    s->sent = g_ptr_array_new_with_free_func((GDestroyNotify)bw_sent_mail_free);
    /* The profile learns from the newest sent messages.  When none of
     * the owner's mail changed (none in the lastmod range, none deleted:
     * the same count), they are the ones the last run learnt from: take
     * them from the snapshot instead of parsing the files again.  Not
     * when skipped messages are read again (one may be in the sample). */
    s->sent_total = bw_nm_source_count_sent(s->src);
    g_autofree char *saved_sent = NULL;
    bw_store_get_meta(s->store, "sent_messages", &saved_sent);
    g_autoptr(GVariant) prev = NULL;
    if (!s->full && !s->config_changed && !s->sent_changed && s->retried->len == 0 &&
        saved_sent != NULL &&
        g_ascii_strtoull(saved_sent, NULL, 10) == s->sent_total &&
        !bw_nm_source_failed(s->src, NULL))
        prev = bw_snapshot_variant(s->store);
    if (prev != NULL) {
        bw_snapshot_sent(prev, s->profile, s->sent);
        /* The same sent mail: the last run's answers about it hold. */
        g_autoptr(GBytes) answers = NULL;
        if (bw_store_get_sent_answers(s->store, &answers) == BW_OK)
            bw_nm_source_import_sent_answers(s->src, answers);
    } else {
        bw_status_t st = bw_scan_learn_profile(s, s->profile, sample, s->sent, detail);
        if (st != BW_OK) {
            *retry = bw_nm_source_failed(s->src, NULL);
            return st;
        }
    }
    bw_scan_phase("profile");
    return BW_OK;
}

bw_status_t
bw_scan_stage_signals(bw_scan_t *s, bool *retry, char **detail)
{
    bw_signals_reading_t reading;
    bw_scan_signals_reading(s, &reading);
    bw_status_t st = bw_signals_stage_run(&s->sig, s->src, s->store, s->profile, &s->ops,
                                          &reading,
                                          s->full ? BW_SIGNALS_READ_ALL : BW_SIGNALS_READ_RANGE,
                                          s->after, detail);
    if (st != BW_OK) {
        *retry = bw_nm_source_failed(s->src, NULL);
        return st;
    }
    /* which memo the stage used (T320 checks that it is used) */
    bw_scan_phase(s->sig.facts_reused ? "signals+memo" : s->sig.runs_reused ? "signals+runs"
                                                                             : "signals");
    return BW_OK;
}

/* Classify a stored item again against the current mailbox. */
static bw_item_t *
reclassify(const bw_profile_t *profile, const bw_mailbox_ops_t *ops, bw_item_t *old)
{
    bw_report_t *r = old->report;
    old->report = NULL;
    bw_item_t *item = NULL;
    if (r == NULL || bw_classify(profile, ops, old->message_id, old->file, old->date_unix,
                                 r, &item) != BW_OK)
        return NULL;
    return item;
}

/* Classify a new item's report (taken). */
static bw_item_t *
classify_new(const bw_profile_t *profile, const bw_mailbox_ops_t *ops,
             const bw_nm_candidate_t *c, bw_report_t *r)
{
    bw_item_t *item = NULL;
    gint64 date = r->date_unix > 0 ? r->date_unix : c->date;
    if (bw_classify(profile, ops, c->message_id, c->file, date, r, &item) != BW_OK)
        return NULL;
    return item;
}

/* A report of this scan, for the learning pass. */
typedef struct {
    gint64 date;
    const char *message_id;
    const bw_report_t *report;
} lesson_t;

static gint
cmp_lesson(gconstpointer a, gconstpointer b)
{
    const lesson_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

bw_status_t
bw_scan_stage_classify(bw_scan_t *s, bw_scan_result_t **out, bool *retry, char **detail)
{
    s->items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    s->have = g_hash_table_new(g_str_hash, g_str_equal);
    s->vanished = g_ptr_array_new_with_free_func(g_free);
    /* What is classified: the stored reports (no file is read) that are
     * still in the mailbox, and the new ones. */
    g_autoptr(GPtrArray) stored = NULL;
    g_autoptr(GPtrArray) keep = g_ptr_array_new();      /* bw_item_t* of stored */
    g_autoptr(GArray) fresh = g_array_new(FALSE, FALSE, sizeof(guint));   /* indexes */
    g_autoptr(GArray) lessons = g_array_new(FALSE, FALSE, sizeof(lesson_t));
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);   /* their ids */
    if (!s->full) {
        g_autofree char *msg = NULL;
        if (bw_store_load_items_text(s->store, &stored, &s->stored_text, &msg) != BW_OK)
            return bw_scan_restart_full(s, &msg, out, detail);
        for (guint i = 0; i < stored->len; i++) {
            bw_item_t *old = g_ptr_array_index(stored, i);
            /* A report deleted from the mailbox leaves the state too,
             * as a full rescan would not see it. */
            if (!s->ops.has_message_id(s->ops.ctx, old->message_id)) {
                char *gone = g_strdup(old->message_id);
                g_ptr_array_add(s->vanished, gone);
                g_hash_table_add(s->have, gone);   /* not taken back from a concurrent run */
                g_hash_table_add(seen, gone);
                continue;
            }
            if (old->report == NULL)
                continue;   /* nothing to classify it from (as a failed reclassify) */
            g_hash_table_add(seen, old->message_id);
            g_ptr_array_add(keep, old);
            lesson_t l = { old->date_unix, old->message_id, old->report };
            g_array_append_val(lessons, l);
        }
    }
    for (guint i = 0; i < s->fresh->len; i++) {
        bw_nm_candidate_t *c = g_ptr_array_index(s->fresh, i);
        const bw_report_t *r = g_ptr_array_index(s->parsed, i);
        if (r == NULL || g_hash_table_contains(seen, c->message_id))
            continue;
        g_hash_table_add(seen, c->message_id);
        g_array_append_val(fresh, i);
        lesson_t l = { r->date_unix > 0 ? r->date_unix : c->date, c->message_id, r };
        g_array_append_val(lessons, l);
    }
    /* What the owner's real mail teaches the profile, from every report
     * first, in one order: no verdict depends on which report came first
     * (in the mailbox, or into this run). */
    g_array_sort(lessons, cmp_lesson);
    for (guint i = 0; i < lessons->len; i++)
        bw_classify_learn(s->profile, &s->ops, g_array_index(lessons, lesson_t, i).report);

    /* The stored reports, classified again. */
    for (guint i = 0; i < keep->len; i++) {
        bw_item_t *it = reclassify(s->profile, &s->ops, g_ptr_array_index(keep, i));
        if (it) {
            g_hash_table_add(s->have, it->message_id);
            g_ptr_array_add(s->items, it);
        }
    }
    /* The new items. */
    for (guint k = 0; k < fresh->len; k++) {
        guint i = g_array_index(fresh, guint, k);
        bw_nm_candidate_t *c = g_ptr_array_index(s->fresh, i);
        bw_report_t *r = g_ptr_array_index(s->parsed, i);
        g_ptr_array_index(s->parsed, i) = NULL;   /* bw_classify takes it */
        bw_item_t *it = classify_new(s->profile, &s->ops, c, r);
        if (it == NULL)
            continue;
        g_hash_table_add(s->have, it->message_id);
        g_ptr_array_add(s->items, it);
        if (s->opts->new_items_out)
            g_ptr_array_add(s->opts->new_items_out, g_strdup(it->message_id));
    }
    g_ptr_array_sort(s->items, bw_scan_item_cmp);
    bw_scan_phase("classify");
    s->total = bw_nm_source_count_messages(s->src);
    /* A lookup that failed answered "unknown": verdicts may be wrong.
     * Nothing is written yet; start again on a fresh open. */
    if (bw_nm_source_failed(s->src, detail)) {
        *retry = true;
        return BW_E_DATABASE;
    }
    return BW_OK;
}

/* Set item->campaign from the stored campaigns (the nothing-new path, where
 * campaigns are not rebuilt). */
static void
link_campaigns(GPtrArray *items, GPtrArray *campaigns)
{
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < items->len; i++) {
        bw_item_t *it = g_ptr_array_index(items, i);
        g_hash_table_insert(by_id, it->message_id, it);
    }
    for (guint i = 0; i < campaigns->len; i++) {
        bw_campaign_t *c = g_ptr_array_index(campaigns, i);
        for (guint j = 0; c->members && j < c->members->len; j++) {
            bw_item_t *it = g_hash_table_lookup(by_id, g_ptr_array_index(c->members, j));
            if (it && g_strcmp0(it->campaign, c->id) != 0) {
                g_free(it->campaign);
                it->campaign = g_strdup(c->id);
            }
        }
    }
}

bw_status_t
bw_scan_stage_load(bw_scan_t *s, bw_scan_result_t **out, bool *retry, char **detail)
{
    g_autofree char *msg = NULL;
    bw_status_t st = bw_store_load_items(s->store, &s->items, &msg);
    if (st == BW_OK)
        st = bw_store_load_campaigns(s->store, &s->campaigns, &msg);
    if (st != BW_OK) {
        /* Damage shows only now: start over from the mail. */
        return bw_scan_restart_full(s, &msg, out, detail);
    }
    link_campaigns(s->items, s->campaigns);
    /* The profile as the saving run had it: the sent mail it learnt
     * from and the originals bw_classify_learn() learnt from. */
    if (!bw_snapshot_replay_profile(s->store, s->profile)) {
        g_clear_pointer(&s->profile, bw_profile_free);
        s->profile = bw_scan_profile_new(s->src);
        bw_mailbox_ops_t ops;
        bw_nm_source_mailbox_ops(s->src, &ops);
        unsigned sample = bw_scan_setting_uint(s->src, "profile_sample", DEFAULT_PROFILE_SAMPLE,
                                               MAX_PROFILE_SAMPLE);
        if (s->profile == NULL ||
            bw_scan_learn_profile(s, s->profile, sample, NULL, detail) != BW_OK) {
            *retry = bw_nm_source_failed(s->src, detail);
            return BW_E_DATABASE;
        }
        for (guint i = 0; i < s->items->len; i++) {
            const bw_item_t *it = g_ptr_array_index(s->items, i);
            bw_classify_learn(s->profile, &ops, it->report);
        }
        if (bw_nm_source_failed(s->src, detail)) {
            *retry = true;
            return BW_E_DATABASE;
        }
    }
    /* the signals as the stored rows give them */
    bw_mailbox_ops_t ops;
    bw_nm_source_mailbox_ops(s->src, &ops);
    bw_signals_reading_t reading;
    bw_scan_signals_reading(s, &reading);
    bw_status_t sst = bw_signals_stage_run(&s->sig, s->src, s->store, s->profile, &ops, &reading,
                                           BW_SIGNALS_READ_NONE, s->after, detail);
    if (sst != BW_OK) {
        *retry = bw_nm_source_failed(s->src, NULL);
        return sst;
    }
    /* Only our own tags moved the revision: account for them, so the
     * next run does not look at those reports again. */
    bw_scan_account_unchanged(s);
    bw_scan_phase("load");
    return BW_OK;
}
