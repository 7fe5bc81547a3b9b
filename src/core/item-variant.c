/* item-variant.c: a stored item in binary form (GVariant), for the scan
 * state's load.
 *
 * The state keeps each item as JSON (bw_item_to_json), the form people and
 * tools read.  Parsing it back costs json-glib ~425k instructions per item:
 * nearly half of an incremental hook at any mailbox size.  This form holds
 * exactly what bw_item_from_json restores, field for field, in the same
 * way (the same bounds, the same string forms for class, origin, kind and
 * reason, the dates parsed again from their text), so an item loaded from
 * either is the same item; check_parse's test_item_variant_roundtrip checks
 * it on every report of the parse fixtures.
 *
 * Layout "(dataiay)": the score; the numbers (the date, the fingerprint's
 * hashes, flags and the count of each list); one offset per string field
 * into the last member, -1 for NULL; the strings, each NUL-terminated.  A
 * GVariant per string cost more than json-glib saved (a child value, a
 * maybe, a type lookup each): these are two fixed arrays and one byte
 * array, read in place.  The fields come in one fixed order, which the
 * writer and the reader below share.  Mail text need not be UTF-8: the
 * strings are bytes.  The reader checks every offset and count, so any
 * bytes give an item or an error; the caller checks a hash of the bytes
 * (damage would read as other values).  The report read back is one
 * block (bw_report_t.strings): itself, its original and recipients, and
 * one copy of the string member their fields point into, not one
 * allocation each; the item's own strings are copies (later stages
 * replace its campaign and add to its evidence). */
#include "bw-scan.h"
#include "bw-private.h"
#include "gv-read.h"
#include <string.h>

#define ITEM_TYPE "(dataiay)"
#define ITEM_FORMAT 1u

enum {   /* the numbers, in order */
    N_FORMAT, N_DATE, N_FP0, N_FLAGS = N_FP0 + 8, N_EVIDENCE, N_RECIPIENTS, N_O_TO,
    N_O_RECEIVED, N_O_URLS, N_R_TO, N_R_REFERENCES, N_COUNT
};
#define F_REPORT       1u
#define F_ORIGINAL     2u
#define F_BOUNCE       4u
#define F_HEADERS_ONLY 8u

/* ------------------------------------------------------------ writing */

typedef struct {
    GArray *offsets;   /* gint32 */
    GString *blob;
} writer_t;

static void
w_str(writer_t *w, const char *s)
{
    gint32 off = -1;
    if (s != NULL && w->blob->len < G_MAXINT32 / 2) {
        off = (gint32)w->blob->len;
        g_string_append_len(w->blob, s, (gssize)strlen(s) + 1);
    }
    g_array_append_val(w->offsets, off);
}

/* The strings of a list (NULL entries left out, as the JSON form's reader
 * does), at most max; returns how many. */
static guint64
w_strv(writer_t *w, const GPtrArray *a, guint max)
{
    guint64 n = 0;
    for (guint i = 0; a != NULL && i < a->len && n < max; i++)
        if (g_ptr_array_index(a, i) != NULL) {
            w_str(w, g_ptr_array_index(a, i));
            n++;
        }
    return n;
}

GVariant *
bw_item_to_variant(const bw_item_t *it)
{
    g_return_val_if_fail(it != NULL, NULL);
    guint64 num[N_COUNT] = { 0 };
    writer_t w = { g_array_new(FALSE, FALSE, sizeof(gint32)), g_string_new(NULL) };
    num[N_FORMAT] = ITEM_FORMAT;
    num[N_DATE] = (guint64)it->date_unix;
    const bw_fingerprint_t *fp = &it->fp;
    const guint64 hashes[8] = { fp->subject_template, fp->url_domains, fp->origin_network,
                                fp->msgid_shape, fp->mailer, fp->body_simhash,
                                fp->forged_sender, fp->subject_names };
    memcpy(&num[N_FP0], hashes, sizeof hashes);
    w_str(&w, it->message_id);
    w_str(&w, it->file);
    w_str(&w, bw_class_to_string(it->klass));
    w_str(&w, bw_origin_to_string(it->origin));
    num[N_EVIDENCE] = w_strv(&w, it->evidence, 64);
    w_str(&w, fp->subject_masked);
    w_str(&w, it->campaign);
    w_str(&w, it->anomaly);
    const bw_report_t *r = it->report;
    if (r != NULL) {
        num[N_FLAGS] |= F_REPORT | (r->bounce ? F_BOUNCE : 0);
        w_str(&w, r->bounce ? bw_kind_to_string(r->kind) : NULL);
        w_str(&w, r->bounce ? r->family : NULL);
        w_str(&w, r->feedback_type);
        for (guint i = 0; r->recipients && i < r->recipients->len && i < BW_MAX_RECIPIENTS; i++) {
            const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
            w_str(&w, rc->address);
            w_str(&w, rc->original_address);
            w_str(&w, rc->action);
            w_str(&w, rc->status);
            w_str(&w, rc->reply_code);
            w_str(&w, bw_reason_to_string(rc->reason));
            w_str(&w, rc->remote_mta);
            w_str(&w, rc->diagnostic);
            num[N_RECIPIENTS]++;
        }
        const bw_original_t *o = r->original;
        if (o != NULL) {
            num[N_FLAGS] |= F_ORIGINAL | (o->headers_only ? F_HEADERS_ONLY : 0);
            w_str(&w, o->message_id);
            w_str(&w, o->from);
            num[N_O_TO] = w_strv(&w, o->to, BW_KEEP_TO);
            w_str(&w, o->subject);
            w_str(&w, o->date);
            w_str(&w, o->return_path);
            num[N_O_RECEIVED] = w_strv(&w, o->received, BW_KEEP_RECEIVED);
            w_str(&w, o->dkim_domain);
            w_str(&w, o->x_mailer);
            w_str(&w, o->in_reply_to);
            num[N_O_URLS] = w_strv(&w, o->url_domains, BW_KEEP_URL_DOMAINS);
        }
        w_str(&w, r->message_id);
        w_str(&w, r->from);
        num[N_R_TO] = w_strv(&w, r->to, BW_KEEP_TO);
        w_str(&w, r->subject);
        w_str(&w, r->date);
        w_str(&w, r->in_reply_to);
        num[N_R_REFERENCES] = w_strv(&w, r->references, BW_KEEP_REFERENCES);
        w_str(&w, r->auto_submitted);
    }
    GVariant *t[] = {
        g_variant_new_double(it->score),
        g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, num, N_COUNT, sizeof(guint64)),
        g_variant_new_fixed_array(G_VARIANT_TYPE_INT32, w.offsets->data, w.offsets->len,
                                  sizeof(gint32)),
        g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, w.blob->str, w.blob->len, 1),
    };
    GVariant *v = g_variant_ref_sink(g_variant_new_tuple(t, G_N_ELEMENTS(t)));
    g_array_unref(w.offsets);
    g_string_free(w.blob, TRUE);
    return v;
}

/* ------------------------------------------------------------ reading */

typedef struct {
    const guint8 *off;        /* gint32 each, unaligned */
    gsize n_off, next;
    const char *blob;
    gsize blob_len;
    char *block;       /* the report's copy of the blob (bw_report_t.strings) */
    bool bad;          /* an offset or a count did not fit */
} reader_t;

/* The next string field in place (valid while the bytes are), or NULL:
 * for the fields only compared or interned (no copy to free). */
static const char *
r_peek(reader_t *r)
{
    if (r->next >= r->n_off) {
        r->bad = true;
        return NULL;
    }
    gint32 off;
    memcpy(&off, r->off + sizeof off * r->next++, sizeof off);
    if (off < 0)
        return NULL;
    if ((gsize)off >= r->blob_len) {
        r->bad = true;
        return NULL;
    }
    return r->blob + off;   /* the blob ends with a NUL (checked) */
}

/* The next string field: a copy, or NULL. */
static char *
r_str(reader_t *r)
{
    return g_strdup(r_peek(r));
}

/* The next string field of the report: in its block (r->block), or NULL. */
static char *
r_ref(reader_t *r)
{
    const char *p = r_peek(r);
    return p != NULL ? r->block + (p - r->blob) : NULL;
}

/* A list of strings: copies (the item's evidence, which later stages add
 * to), or in the report's block (`in_block`: the report's lists, which
 * have no free function). */
static void
r_strv(reader_t *r, guint64 count, GPtrArray *out, guint max, bool in_block)
{
    /* every string takes an offset: a count beyond them is damage */
    if (count > r->n_off - MIN(r->next, r->n_off) || count > max) {
        r->bad = true;
        return;
    }
    for (guint64 i = 0; i < count; i++) {
        char *s = in_block ? r_ref(r) : r_str(r);
        if (s != NULL)
            g_ptr_array_add(out, s);
    }
}

/* A report read back from the state, in one block that it owns
 * (bw_report_t.strings): the report itself first, then its original (with
 * `original`), its `n_recipients` recipients, and a copy of the `len`
 * string bytes, which the fields of all of them and their lists point
 * into (returned in *strings).  One allocation instead of ~30 per stored
 * report, and one free; the lists have no free function
 * (report.c: bw_report_free). */
static bw_report_t *
report_in_block(const char *bytes, gsize len, bool original, guint n_recipients, char **strings)
{
    gsize head = sizeof(bw_report_t) + (original ? sizeof(bw_original_t) : 0) +
                 n_recipients * sizeof(bw_recipient_t);
    char *block = g_malloc(head + len + 1);
    memset(block, 0, head);
    memcpy(block + head, bytes, len);
    block[head + len] = '\0';
    bw_report_t *r = (bw_report_t *)(void *)block;
    r->strings = block;
    r->recipients = g_ptr_array_sized_new(n_recipients);
    bw_recipient_t *rc = (bw_recipient_t *)(void *)(block + sizeof(bw_report_t) +
                                                     (original ? sizeof(bw_original_t) : 0));
    for (guint i = 0; i < n_recipients; i++)
        g_ptr_array_add(r->recipients, rc + i);
    r->references = g_ptr_array_new();
    r->to = g_ptr_array_new();
    if (original) {
        bw_original_t *o = r->original = (bw_original_t *)(void *)(block + sizeof(bw_report_t));
        o->to = g_ptr_array_new();
        o->received = g_ptr_array_new();
        o->url_domains = g_ptr_array_new();
    }
    *strings = block + head;
    return r;
}

/* The serialised tuple "(dataiay)" read in place (gv-read.h: GVariant's
 * framing, strictly; g_variant_new_from_bytes() and one child value per
 * member cost ~11k instructions per stored item, a third of its load).
 * Anything that does not fit (a start past an end, an end past the data,
 * an array not a whole number of elements) is damage. */
typedef struct {
    double score;
    const guint8 *num, *off, *blob;   /* unaligned: read with memcpy */
    gsize n_num, n_off, blob_len;
} item_parts_t;

static bool
split_item(const guint8 *data, gsize size, item_parts_t *out)
{
    static const bw_gv_member_t members[] = {
        { 8, sizeof(double) }, { 8, 0 }, { 4, 0 }, { 1, 0 },   /* d at ai ay */
    };
    bw_gv_span_t sp[G_N_ELEMENTS(members)];
    bw_gv_span_t v = { data, data != NULL ? size : 0 };
    if (data == NULL || !bw_gv_tuple(v, members, G_N_ELEMENTS(members), sp) ||
        sp[1].n % sizeof(guint64) != 0 || sp[2].n % sizeof(gint32) != 0)
        return false;
    /* an empty member is given as NULL: point it at the data instead (never
     * read: its count is 0), as the readers below expect a pointer */
    for (gsize k = 0; k < G_N_ELEMENTS(sp); k++)
        if (sp[k].p == NULL)
            sp[k].p = data;
    memcpy(&out->score, sp[0].p, sizeof out->score);
    out->num = sp[1].p;
    out->n_num = sp[1].n / sizeof(guint64);
    out->off = sp[2].p;
    out->n_off = sp[2].n / sizeof(gint32);
    out->blob = sp[3].p;
    out->blob_len = sp[3].n;
    return true;
}

bw_status_t
bw_item_from_variant(GBytes *data, bw_item_t **out)
{
    if (out == NULL || data == NULL)
        return BW_E_INVALID;
    gsize size = 0;
    const void *p = g_bytes_get_data(data, &size);
    return bw_item_from_variant_data(p, size, out);
}

bw_status_t
bw_item_from_variant_data(const void *data, gsize size, bw_item_t **out)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    /* Trusted as to normal form: the caller checked the bytes' hash (the
     * split reads any bytes safely; the hash says they are ours). */
    item_parts_t parts;
    if (!split_item(data, size, &parts) || parts.n_num != N_COUNT)
        return BW_E_INVALID;
    guint64 num[N_COUNT];
    memcpy(num, parts.num, sizeof num);
    reader_t r = { 0 };
    r.off = parts.off;
    r.n_off = parts.n_off;
    r.blob = (const char *)parts.blob;
    r.blob_len = parts.blob_len;
    if (num[N_FORMAT] != ITEM_FORMAT || (r.blob_len > 0 && r.blob[r.blob_len - 1] != '\0'))
        return BW_E_INVALID;
    g_autoptr(bw_item_t) it = g_new0(bw_item_t, 1);
    it->message_id = r_str(&r);
    if (it->message_id == NULL || *it->message_id == '\0')
        return BW_E_INVALID;
    it->file = r_str(&r);
    it->date_unix = (gint64)num[N_DATE];
    const char *klass = r_peek(&r), *origin = r_peek(&r);
    it->klass = g_strcmp0(klass, "legitimate") == 0    ? BW_CLASS_LEGITIMATE
              : g_strcmp0(klass, "backscatter") == 0   ? BW_CLASS_BACKSCATTER
                                                       : BW_CLASS_UNDETERMINED;
    it->origin = g_strcmp0(origin, "own-account") == 0 ? BW_ORIGIN_OWN_ACCOUNT
               : g_strcmp0(origin, "foreign") == 0     ? BW_ORIGIN_FOREIGN
                                                       : BW_ORIGIN_UNKNOWN;
    it->score = parts.score;
    if (it->score < 0.0 || it->score > 1.0 || it->score != it->score)
        it->score = 0.0;
    it->evidence = g_ptr_array_new_with_free_func(g_free);
    r_strv(&r, num[N_EVIDENCE], it->evidence, 64, false);
    it->fp.subject_template = num[N_FP0];
    it->fp.url_domains = num[N_FP0 + 1];
    it->fp.origin_network = num[N_FP0 + 2];
    it->fp.msgid_shape = num[N_FP0 + 3];
    it->fp.mailer = num[N_FP0 + 4];
    it->fp.body_simhash = num[N_FP0 + 5];
    it->fp.forged_sender = num[N_FP0 + 6];
    it->fp.subject_names = num[N_FP0 + 7];
    it->fp.subject_masked = r_str(&r);
    it->campaign = r_str(&r);
    it->anomaly = r_str(&r);
    guint64 flags = num[N_FLAGS];
    if (flags & F_REPORT) {
        if (num[N_RECIPIENTS] > BW_MAX_RECIPIENTS || num[N_RECIPIENTS] * 8 > r.n_off)
            return BW_E_INVALID;
        bw_report_t *rp = it->report =
            report_in_block(r.blob, r.blob_len, (flags & F_ORIGINAL) != 0,
                            (guint)num[N_RECIPIENTS], &r.block);
        rp->bounce = (flags & F_BOUNCE) != 0;
        const char *kind = r_peek(&r), *family = r_peek(&r);
        rp->kind = bw_kind_from_string(kind);
        rp->family = family ? g_intern_string(family) : NULL;
        rp->feedback_type = r_ref(&r);
        for (guint i = 0; i < rp->recipients->len && !r.bad; i++) {
            bw_recipient_t *rc = g_ptr_array_index(rp->recipients, i);
            rc->address = r_ref(&r);
            rc->original_address = r_ref(&r);
            rc->action = r_ref(&r);
            rc->status = r_ref(&r);
            rc->reply_code = r_ref(&r);
            const char *reason = r_peek(&r);
            rc->reason = bw_reason_from_string(reason);
            rc->remote_mta = r_ref(&r);
            rc->diagnostic = r_ref(&r);
        }
        if (flags & F_ORIGINAL) {
            bw_original_t *o = rp->original;
            o->message_id = r_ref(&r);
            o->from = r_ref(&r);
            r_strv(&r, num[N_O_TO], o->to, BW_KEEP_TO, true);
            o->subject = r_ref(&r);
            o->date = r_ref(&r);
            if (o->date != NULL)
                bw_time_parse(o->date, &o->date_unix, NULL);
            o->return_path = r_ref(&r);
            r_strv(&r, num[N_O_RECEIVED], o->received, BW_KEEP_RECEIVED, true);
            o->dkim_domain = r_ref(&r);
            o->x_mailer = r_ref(&r);
            o->in_reply_to = r_ref(&r);
            r_strv(&r, num[N_O_URLS], o->url_domains, BW_KEEP_URL_DOMAINS, true);
            o->headers_only = (flags & F_HEADERS_ONLY) != 0;
        }
        rp->message_id = r_ref(&r);
        rp->from = r_ref(&r);
        r_strv(&r, num[N_R_TO], rp->to, BW_KEEP_TO, true);
        rp->subject = r_ref(&r);
        rp->date = r_ref(&r);
        if (rp->date != NULL)
            bw_time_parse(rp->date, &rp->date_unix, NULL);
        rp->in_reply_to = r_ref(&r);
        r_strv(&r, num[N_R_REFERENCES], rp->references, BW_KEEP_REFERENCES, true);
        rp->auto_submitted = r_ref(&r);
    }
    /* every field read, none left over: the writer's order */
    if (r.bad || r.next != r.n_off)
        return BW_E_INVALID;
    *out = g_steal_pointer(&it);
    return BW_OK;
}
