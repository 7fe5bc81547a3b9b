/* scan-profile.c: how the stages of a scan read mail (scan-private.h).
 *
 * One reader process per scan attempt (reader.h) reads every message the
 * stages look at: the owner's sent mail for the profile and the signals,
 * the received mail the signals read, the candidates the parse stage reads.
 * What it cannot read is skipped (scan-skipped.c) and not read again by any
 * later stage or run of the same reader build. */
#include "config.h"
#include "scan-private.h"
#include "bw-reader.h"
#include <glib/gi18n-lib.h>

static void
reader_notice(void *data, const char *line)
{
    bw_scan_notice(data, line);
}

bw_reader_t *
bw_scan_reader(bw_scan_t *s)
{
    if (s->reader == NULL) {
        bw_reader_options_t ropts = { .mode = BW_READER_REPORTS, .log = reader_notice,
                                      .log_data = (void *)s->opts };
        s->reader = bw_reader_new(&ropts);
    }
    return s->reader;
}

static bool
reading_held(void *ctx, const char *message_id)
{
    bw_scan_t *s = ctx;
    return bw_scan_skips_holds(&s->skips, message_id);
}

static GPtrArray *
reading_held_ids(void *ctx)
{
    bw_scan_t *s = ctx;
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; s->skips.list != NULL && i < s->skips.list->len; i++) {
        const bw_skipped_t *e = g_ptr_array_index(s->skips.list, i);
        if (bw_scan_skips_holds(&s->skips, e->message_id))
            g_ptr_array_add(ids, g_strdup(e->message_id));
    }
    return ids;
}

static void
reading_skip(void *ctx, const bw_nm_candidate_t *c, const char *cause, const char *why)
{
    bw_scan_skip(ctx, c, cause, why);
}

static bool
reading_from_count_kept(void *ctx, const char *address)
{
    return bw_scan_from_count_kept(ctx, address);
}

void
bw_scan_signals_reading(bw_scan_t *s, bw_signals_reading_t *out)
{
    out->reader = bw_scan_reader(s);
    out->held = reading_held;
    out->held_ids = reading_held_ids;
    out->skip = reading_skip;
    out->ctx = s;
    out->retried = s->retried;
    out->from_count_kept = reading_from_count_kept;
}

bw_status_t
bw_scan_learn_profile(bw_scan_t *s, bw_profile_t *profile, unsigned max, gint64 since,
                      GPtrArray *sent_out, char **detail)
{
    g_autoptr(GPtrArray) sample = NULL;
    bw_status_t st = bw_nm_source_sent_sample(s->src, max, since, &sample, detail);
    if (st != BW_OK)
        return st;
    if (sample->len == 0)
        return BW_OK;
    bw_reader_t *reader = bw_scan_reader(s);
    g_autoptr(GArray) index = g_array_sized_new(FALSE, FALSE, sizeof(guint), sample->len);
    guint first = G_MAXUINT;
    for (guint i = 0; i < sample->len; i++) {
        const bw_nm_candidate_t *c = g_ptr_array_index(sample, i);
        if (bw_scan_skips_holds(&s->skips, c->message_id))
            continue;
        guint n = bw_reader_add_read(reader, c->file, BW_READER_READ_SENT_HEADERS);
        if (first == G_MAXUINT)
            first = n;
        g_array_append_val(index, i);
    }
    bw_reader_result_t res;
    while (first != G_MAXUINT && bw_reader_next(reader, &res)) {
        if (res.end)
            continue;
        if (res.fault == BW_READER_FAULT_UNAVAILABLE)
            return bw_error_set(detail, BW_E_INTERNAL, _("cannot read the mail: %s"),
                                res.detail);
        const bw_nm_candidate_t *c =
            g_ptr_array_index(sample, g_array_index(index, guint, res.request - first));
        const char *cause = bw_reader_fault_to_string(res.fault);
        bw_sent_mail_t *m = NULL;
        if (cause == NULL && res.status == BW_OK && res.json != NULL) {
            g_autoptr(JsonNode) node = NULL;
            if (bw_reader_payload_parse_checked(res.json, res.json_len, &node, NULL) != BW_OK ||
                bw_sent_mail_from_json(node, &m, NULL) != BW_OK) {
                cause = bw_reader_fault_to_string(BW_READER_FAULT_GARBAGE);
                res.detail = "the reader answered garbage on this message (a damaged answer)";
            }
        }
        if (cause != NULL) {
            bw_scan_skip(s, c, cause, res.detail);
            continue;
        }
        if (m == NULL)
            continue;   /* not readable: not a message to learn from */
        /* Message-ID and date: the mailbox's, not the mail's. */
        m->message_id = g_strdup(c->message_id);
        m->date = c->date;
        bw_sent_mail_feed(profile, m);
        if (sent_out)
            g_ptr_array_add(sent_out, m);
        else
            bw_sent_mail_free(m);
    }
    return BW_OK;
}
