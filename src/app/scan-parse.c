/* scan-parse.c: the parse stage: each new item's file -> its report
 * (scan-private.h).  Mail is attacker text: it is read by the confined
 * reader process (reader.h), never in this one. */
#include "config.h"
#include "scan-private.h"
#include "reader.h"
#include <glib/gi18n-lib.h>

static void
reader_notice(void *data, const char *line)
{
    bw_scan_notice(data, line);
}

/* A message the reader crashed, hung or answered garbage on, or that the
 * parser refused by a cap: skipped, remembered, and said once per run. */
static void
skip_candidate(bw_scan_t *s, const bw_nm_candidate_t *c, const char *cause, const char *why)
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

/* Every fresh candidate goes through one reader process, its first message
 * only (notmuch keeps one message per file), bounces only.  A message that
 * reads now (a report or not) leaves the skipped list, whatever another
 * build did with it. */
bw_status_t
bw_scan_stage_parse(bw_scan_t *s, char **detail)
{
    s->parsed = g_ptr_array_new_full(s->fresh->len, (GDestroyNotify)bw_report_free);
    g_ptr_array_set_size(s->parsed, (gint)s->fresh->len);
    /* Skipped messages that left the mailbox leave the list. */
    for (guint i = s->skips.list->len; i-- > 0;) {
        const bw_skipped_t *e = g_ptr_array_index(s->skips.list, i);
        if (!s->ops.has_message_id(s->ops.ctx, e->message_id))
            bw_scan_skips_forget(&s->skips, e->message_id);
    }
    if (s->fresh->len == 0)
        return BW_OK;
    bw_reader_options_t ropts = { .mode = BW_READER_REPORTS, .log = reader_notice,
                                  .log_data = (void *)s->opts };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&ropts);
    for (guint i = 0; i < s->fresh->len; i++)
        bw_reader_add_file(reader, ((bw_nm_candidate_t *)g_ptr_array_index(s->fresh, i))->file,
                           1, true);
    bw_reader_result_t res;
    while (bw_reader_next(reader, &res)) {
        if (res.end)
            continue;
        const bw_nm_candidate_t *c = g_ptr_array_index(s->fresh, res.request);
        const char *cause = bw_reader_fault_to_string(res.fault);
        if (res.fault == BW_READER_FAULT_UNAVAILABLE)
            return bw_error_set(detail, BW_E_INTERNAL, _("cannot read the new mail: %s"),
                                res.detail);
        if (cause == NULL && res.status == BW_E_REFUSED)
            cause = "refused";
        if (cause != NULL) {
            skip_candidate(s, c, cause, res.detail);
            continue;
        }
        bw_scan_skips_forget(&s->skips, c->message_id);
        if (res.status != BW_OK || res.report == NULL)
            continue;
        if (!res.report->bounce || g_ptr_array_index(s->parsed, res.request) != NULL) {
            bw_report_free(res.report);
            continue;
        }
        g_ptr_array_index(s->parsed, res.request) = res.report;
    }
    bw_scan_phase("parse");
    return BW_OK;
}
