/* engine-fixtures.h: an in-memory mailbox and report builders for the
 * engine's unit tests (check_classify.c, check_campaign.c, check_assess.c...).
 * Static functions: each test file gets its own copy. */
#ifndef BW_ENGINE_FIXTURES_H
#define BW_ENGINE_FIXTURES_H

#include "bw-engine.h"
#include <check.h>
#include <string.h>

typedef struct {
    bool has_sent;
    GHashTable *sent_mids;      /* mid -> date (gint64 boxed as pointer to slice) */
    GHashTable *sent_to;        /* addr -> count */
    GHashTable *received_from;  /* addr -> count */
    GPtrArray *sent_subjects;   /* "subject\tdate" strings */
    GHashTable *all_mids;       /* any message in the mailbox */
    GHashTable *replies;        /* mid -> From of a person's reply to it */
} fake_mailbox_t;

static G_GNUC_UNUSED fake_mailbox_t *
fake_new(bool has_sent)
{
    fake_mailbox_t *f = g_new0(fake_mailbox_t, 1);
    f->has_sent = has_sent;
    f->sent_mids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    f->sent_to = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->received_from = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->sent_subjects = g_ptr_array_new_with_free_func(g_free);
    f->all_mids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->replies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return f;
}

static G_GNUC_UNUSED void
fake_free(fake_mailbox_t *f)
{
    g_hash_table_unref(f->sent_mids);
    g_hash_table_unref(f->sent_to);
    g_hash_table_unref(f->received_from);
    g_ptr_array_unref(f->sent_subjects);
    g_hash_table_unref(f->all_mids);
    g_hash_table_unref(f->replies);
    g_free(f);
}

/* The owner sent `mid` to `to` with `subject` at time t. */
static G_GNUC_UNUSED void
fake_sent(fake_mailbox_t *f, const char *mid, const char *to, const char *subject, gint64 t)
{
    g_hash_table_replace(f->sent_mids, g_strdup(mid), g_memdup2(&t, sizeof t));
    g_hash_table_add(f->all_mids, g_strdup(mid));
    if (to) {
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(f->sent_to, to));
        g_hash_table_replace(f->sent_to, g_strdup(to), GUINT_TO_POINTER(n + 1));
    }
    if (subject)
        g_ptr_array_add(f->sent_subjects, g_strdup_printf("%s\t%" G_GINT64_FORMAT, subject, t));
}

static G_GNUC_UNUSED void
fake_received(fake_mailbox_t *f, const char *from, const char *mid)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(f->received_from, from));
    g_hash_table_replace(f->received_from, g_strdup(from), GUINT_TO_POINTER(n + 1));
    if (mid)
        g_hash_table_add(f->all_mids, g_strdup(mid));
}

/* `from` answered the message `mid` (their reply is in the mailbox). */
static G_GNUC_UNUSED void
fake_reply(fake_mailbox_t *f, const char *from, const char *mid)
{
    g_hash_table_replace(f->replies, g_strdup(mid), g_strdup(from));
    g_hash_table_add(f->all_mids, g_strdup(mid));   /* notmuch: a ghost */
    fake_received(f, from, NULL);
}

static bool
fake_op_sent_has(void *ctx, const char *mid, gint64 *date_out)
{
    fake_mailbox_t *f = ctx;
    gint64 *t = g_hash_table_lookup(f->sent_mids, mid);
    if (t && date_out)
        *date_out = *t;
    return t != NULL;
}

static unsigned
fake_op_sent_count_to(void *ctx, const char *addr, gint64 before)
{
    (void)before;
    return GPOINTER_TO_UINT(g_hash_table_lookup(((fake_mailbox_t *)ctx)->sent_to, addr));
}

static bool
fake_op_subject_near(void *ctx, const char *subject, gint64 t, gint64 window)
{
    fake_mailbox_t *f = ctx;
    for (guint i = 0; i < f->sent_subjects->len; i++) {
        const char *e = g_ptr_array_index(f->sent_subjects, i);
        const char *tab = strrchr(e, '\t');
        gint64 st = g_ascii_strtoll(tab + 1, NULL, 10);
        if ((size_t)(tab - e) == strlen(subject) && strncmp(e, subject, tab - e) == 0 &&
            st >= t - window && st <= t + window)
            return true;
    }
    return false;
}

static bool
fake_op_has_sent(void *ctx)
{
    return ((fake_mailbox_t *)ctx)->has_sent;
}

static unsigned
fake_op_received_from(void *ctx, const char *addr)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(((fake_mailbox_t *)ctx)->received_from, addr));
}

static bool
fake_op_has_mid(void *ctx, const char *mid)
{
    return g_hash_table_contains(((fake_mailbox_t *)ctx)->all_mids, mid);
}

static unsigned
fake_op_replies_to(void *ctx, const char *mid, char **from_out)
{
    const char *from = g_hash_table_lookup(((fake_mailbox_t *)ctx)->replies, mid);
    if (from && from_out)
        *from_out = g_strdup(from);
    return from != NULL;
}

static unsigned
fake_op_from_domain(void *ctx, const char *domain)
{
    fake_mailbox_t *f = ctx;
    GHashTableIter iter;
    gpointer k, v;
    unsigned n = 0;
    g_hash_table_iter_init(&iter, f->received_from);
    while (g_hash_table_iter_next(&iter, &k, &v)) {
        const char *at = strrchr(k, '@');
        if (at && g_ascii_strcasecmp(at + 1, domain) == 0)
            n += GPOINTER_TO_UINT(v);
    }
    return n;
}

static G_GNUC_UNUSED bw_mailbox_ops_t
fake_ops(fake_mailbox_t *f)
{
    bw_mailbox_ops_t ops = {
        .sent_has_message_id = fake_op_sent_has,
        .sent_count_to = fake_op_sent_count_to,
        .sent_subject_near = fake_op_subject_near,
        .has_sent_mail = fake_op_has_sent,
        .ctx = f,
        .received_from_count = fake_op_received_from,
        .has_message_id = fake_op_has_mid,
        .replies_to = fake_op_replies_to,
        .received_from_domain_count = fake_op_from_domain,
    };
    return ops;
}

static G_GNUC_UNUSED GPtrArray *
strv_array(const char *const *v)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; v && v[i]; i++)
        g_ptr_array_add(a, g_strdup(v[i]));
    return a;
}

/* A report about one recipient; the original is built when any of its
 * fields is given. */
typedef struct {
    bw_kind_t kind;
    const char *report_from;       /* the report's sender */
    const char *recipient;
    bw_reason_t reason;
    const char *orig_mid;
    const char *orig_from;
    const char *orig_subject;
    const char *const *received;   /* NULL-terminated, top first */
    const char *dkim;
    const char *const *urls;       /* URL domains */
    const char *body;
    const char *in_reply_to;       /* the report's own In-Reply-To */
    gint64 date;
} fake_report_t;

static G_GNUC_UNUSED bw_report_t *
fake_report(const fake_report_t *d)
{
    bw_report_t *r = bw_report_new();
    r->bounce = true;
    r->kind = d->kind ? d->kind : BW_KIND_DSN;
    r->from = g_strdup(d->report_from ? d->report_from : "mailer-daemon@mx.example.net");
    r->date_unix = d->date;
    r->in_reply_to = g_strdup(d->in_reply_to);
    if (d->recipient) {
        bw_recipient_t *rc = bw_recipient_new();
        rc->address = g_strdup(d->recipient);
        rc->action = g_strdup("failed");
        rc->status = g_strdup("5.1.1");
        rc->reason = d->reason ? d->reason : BW_REASON_USER_UNKNOWN;
        g_ptr_array_add(r->recipients, rc);
    }
    if (d->orig_mid || d->orig_from || d->orig_subject || d->received) {
        bw_original_t *o = bw_original_new();
        o->message_id = g_strdup(d->orig_mid);
        o->from = g_strdup(d->orig_from);
        o->subject = g_strdup(d->orig_subject);
        if (d->recipient)
            g_ptr_array_add(o->to, g_strdup(d->recipient));
        for (size_t i = 0; d->received && d->received[i]; i++)
            g_ptr_array_add(o->received, g_strdup(d->received[i]));
        o->dkim_domain = g_strdup(d->dkim);
        for (size_t i = 0; d->urls && d->urls[i]; i++)
            g_ptr_array_add(o->url_domains, g_strdup(d->urls[i]));
        o->body_text = g_strdup(d->body);
        r->original = o;
    }
    return r;
}

static G_GNUC_UNUSED bool
evidence_has(const bw_item_t *it, const char *needle)
{
    for (guint i = 0; it->evidence && i < it->evidence->len; i++)
        if (strstr(g_ptr_array_index(it->evidence, i), needle))
            return true;
    return false;
}

#endif
