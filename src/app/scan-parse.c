/* scan-parse.c: the parse stage: each new item's file -> its report
 * (scan-private.h).  Mail is attacker text: it is read by the confined
 * reader process (reader.h), never in this one. */
#include "config.h"
#include "scan-private.h"
#include "reader.h"
#include <glib/gi18n-lib.h>

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
    bw_reader_t *reader = bw_scan_reader(s);
    /* Request numbers go on from the stages before (one reader). */
    g_autoptr(GArray) request = g_array_sized_new(FALSE, FALSE, sizeof(guint), s->fresh->len);
    guint first = G_MAXUINT;
    for (guint i = 0; i < s->fresh->len; i++) {
        const bw_nm_candidate_t *c = g_ptr_array_index(s->fresh, i);
        /* skipped by an earlier stage of this run (the signals' reads) */
        if (bw_scan_skips_holds(&s->skips, c->message_id))
            continue;
        guint n = bw_reader_add_file(reader, c->file, 1, true);
        if (first == G_MAXUINT)
            first = n;
        g_array_append_val(request, i);
    }
    bw_reader_result_t res;
    while (first != G_MAXUINT && bw_reader_next(reader, &res)) {
        if (res.end)
            continue;
        guint i = g_array_index(request, guint, res.request - first);
        const bw_nm_candidate_t *c = g_ptr_array_index(s->fresh, i);
        const char *cause = bw_reader_fault_to_string(res.fault);
        if (res.fault == BW_READER_FAULT_UNAVAILABLE)
            return bw_error_set(detail, BW_E_INTERNAL, _("cannot read the new mail: %s"),
                                res.detail);
        if (cause == NULL && res.status == BW_E_REFUSED)
            cause = "refused";
        if (cause != NULL) {
            bw_scan_skip(s, c, cause, res.detail);
            continue;
        }
        bw_scan_skips_forget(&s->skips, c->message_id);
        if (res.status != BW_OK || res.report == NULL)
            continue;
        if (!res.report->bounce || g_ptr_array_index(s->parsed, i) != NULL) {
            bw_report_free(res.report);
            continue;
        }
        g_ptr_array_index(s->parsed, i) = res.report;
    }
    bw_scan_phase("parse");
    return BW_OK;
}
