/* scan-skipped.c: the messages the reader could not read (scan-private.h).
 *
 * The messages the reader process could not read (it crashed, ran out of
 * time or answered garbage on them) or the parser refused by a structural
 * cap.  They are kept in the state with the reader build that failed
 * (bw_reader_identity()): later runs with that build do not read them
 * again, a new build (an upgrade, a rebuild) or `scan --retry-skipped`
 * reads them again, even when they are outside the new-mail range.  A run
 * that meets one in its read phase, then has to start that phase again
 * (notmuch committing), remembers it in `run_culprits` and does not read it
 * twice. */
#include "config.h"
#include "scan-private.h"
#include "reader.h"
#include <glib/gi18n-lib.h>

void
bw_scan_skips_clear(bw_scan_skips_t *k)
{
    g_clear_pointer(&k->by_id, g_hash_table_unref);
    g_clear_pointer(&k->changed, g_hash_table_unref);
    g_clear_pointer(&k->cleared, g_hash_table_unref);
    g_clear_pointer(&k->list, g_ptr_array_unref);
    g_clear_pointer(&k->reader, g_free);
}

void
bw_scan_skips_load(bw_scan_skips_t *k, bw_store_t *store)
{
    k->reader = bw_reader_identity();
    if (bw_store_load_skipped(store, &k->list) != BW_OK)
        k->list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_skipped_free);
    k->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < k->list->len; i++) {
        bw_skipped_t *e = g_ptr_array_index(k->list, i);
        g_hash_table_insert(k->by_id, e->message_id, e);
    }
    k->changed = g_hash_table_new(g_str_hash, g_str_equal);
    k->cleared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* Skipped by this reader build (so not to be read again). */
bool
bw_scan_skips_holds(const bw_scan_skips_t *k, const char *message_id)
{
    const bw_skipped_t *e = g_hash_table_lookup(k->by_id, message_id);
    return e != NULL && g_strcmp0(e->reader, k->reader) == 0;
}

void
bw_scan_skips_forget(bw_scan_skips_t *k, const char *message_id)
{
    bw_skipped_t *e = g_hash_table_lookup(k->by_id, message_id);
    if (e == NULL)
        return;
    g_hash_table_remove(k->by_id, message_id);
    g_hash_table_remove(k->changed, message_id);
    g_hash_table_add(k->cleared, g_strdup(message_id));
    g_ptr_array_remove_fast(k->list, e);   /* frees e: order is restored on output */
}

bw_skipped_t *
bw_scan_skips_put(bw_scan_skips_t *k, const char *message_id, const char *file, gint64 date,
                  const char *cause, const char *why)
{
    bw_skipped_t *e = g_hash_table_lookup(k->by_id, message_id);
    if (e == NULL) {
        e = g_new0(bw_skipped_t, 1);
        e->message_id = g_strdup(message_id);
        g_ptr_array_add(k->list, e);
        g_hash_table_insert(k->by_id, e->message_id, e);
    }
    g_free(e->file);
    e->file = g_utf8_make_valid(file ? file : "", -1);
    e->date = date;
    if (cause != NULL) {
        g_free(e->cause);
        e->cause = g_strdup(cause);
        g_free(e->why);
        e->why = g_utf8_make_valid(why ? why : "", -1);
        g_free(e->reader);
        e->reader = g_strdup(k->reader);
    }
    g_hash_table_remove(k->cleared, message_id);
    g_hash_table_add(k->changed, e->message_id);
    return e;
}

static gint
skipped_cmp(gconstpointer a, gconstpointer b)
{
    const bw_skipped_t *x = *(bw_skipped_t *const *)a, *y = *(bw_skipped_t *const *)b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

/* A copy of the list for a result, by date. */
GPtrArray *
bw_scan_skips_result(const bw_scan_skips_t *k)
{
    GPtrArray *out = g_ptr_array_new_full(k->list->len, (GDestroyNotify)bw_skipped_free);
    for (guint i = 0; i < k->list->len; i++) {
        const bw_skipped_t *e = g_ptr_array_index(k->list, i);
        bw_skipped_t *c = g_new0(bw_skipped_t, 1);
        c->message_id = g_strdup(e->message_id);
        c->file = g_strdup(e->file);
        c->cause = g_strdup(e->cause);
        c->why = g_strdup(e->why);
        c->reader = g_strdup(e->reader);
        c->date = e->date;
        g_ptr_array_add(out, c);
    }
    g_ptr_array_sort(out, skipped_cmp);
    return out;
}

bw_status_t
bw_scan_skips_save(bw_scan_skips_t *k, bw_store_t *store)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, k->cleared);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (bw_store_delete_skipped(store, key) != BW_OK)
            return BW_E_STATE;
    g_hash_table_iter_init(&it, k->changed);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const bw_skipped_t *e = g_hash_table_lookup(k->by_id, key);
        if (e != NULL && bw_store_put_skipped(store, e) != BW_OK)
            return BW_E_STATE;
    }
    return BW_OK;
}

/* One line for the user (said even with --quiet, as a failure to read):
 * which message, what happened, and when it is tried again.  The
 * Message-ID and file name come from the mail: made safe to print. */
void
bw_scan_skip_notice(const bw_scanner_options_t *opts, const bw_skipped_t *e)
{
    if (opts->notice == NULL)
        return;
    g_autofree char *file = bw_text_sanitize(e->file ? e->file : "", 200);
    g_autofree char *id = bw_text_sanitize(e->message_id ? e->message_id : "", 200);
    g_autofree char *line = g_strdup_printf(
        _("skipped %s (Message-ID <%s>): %s; it is read again when bouncewatch is updated, "
          "or by 'bouncewatch scan --retry-skipped'"), file, id, e->why);
    opts->notice(opts->notice_data, line);
}


void
bw_scan_skip(bw_scan_t *s, const bw_nm_candidate_t *c, const char *cause, const char *why)
{
    bw_skipped_t *e = bw_scan_skips_put(&s->skips, c->message_id, c->file, c->date, cause, why);
    if (g_hash_table_contains(s->run_culprits, e->message_id))
        return;
    bw_skipped_t *k = g_new0(bw_skipped_t, 1);
    k->message_id = g_strdup(e->message_id);
    k->file = g_strdup(e->file);
    k->cause = g_strdup(e->cause);
    k->why = g_strdup(e->why);
    k->date = e->date;
    g_hash_table_insert(s->run_culprits, k->message_id, k);
    bw_scan_skip_notice(s->opts, e);
}
