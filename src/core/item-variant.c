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
    g_return_val_if_fail(!it->slim, NULL);   /* (bw-scan.h: its report is not whole) */
    guint64 num[N_COUNT] = { 0 };
    writer_t w = { g_array_new(FALSE, FALSE, sizeof(gint32)), g_string_new(NULL) };
    num[N_FORMAT] = ITEM_FORMAT;
    num[N_DATE] = (guint64)it->date_unix;
    const bw_fingerprint_t *fp = &it->fp;
    guint64 hashes[BW_FINGERPRINT_HASHES];
    bw_fingerprint_get_hashes(fp, hashes);
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
report_in_block_sharing(const char *bytes, gsize len, bool original, guint n_recipients,
                        char **strings, GPtrArray *empty);

static bw_report_t *
report_in_block(const char *bytes, gsize len, bool original, guint n_recipients, char **strings)
{
    return report_in_block_sharing(bytes, len, original, n_recipients, strings, NULL);
}

/* The same, each list but the recipients a reference to `empty` when it
 * is not NULL (a list nobody adds to: the caller replaces the ones it
 * fills). */
static bw_report_t *
report_in_block_sharing(const char *bytes, gsize len, bool original, guint n_recipients,
                        char **strings, GPtrArray *empty)
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
    r->references = empty ? g_ptr_array_ref(empty) : g_ptr_array_new();
    r->to = empty ? g_ptr_array_ref(empty) : g_ptr_array_new();
    if (original) {
        bw_original_t *o = r->original = (bw_original_t *)(void *)(block + sizeof(bw_report_t));
        o->to = empty ? g_ptr_array_ref(empty) : g_ptr_array_new();
        o->received = empty ? g_ptr_array_ref(empty) : g_ptr_array_new();
        o->url_domains = empty ? g_ptr_array_ref(empty) : g_ptr_array_new();
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
    bw_fingerprint_set_hashes(&it->fp, &num[N_FP0]);
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

/* ------------------------------------------------------------ snapshot entries
 *
 * The state keeps beside each item row its snapshot entry (src/app/snapshot.c:
 * what a run with nothing new needs, and, in its last member, what a hook
 * run reads of a kept item): BW_SNAP_ENTRY_TYPE.  A hook run after new mail
 * builds each stored item whose verdict it keeps from its entry alone
 * (~0.5 kB) instead of its whole stored report (~4 kB read, ~8 k instructions
 * decoded at 1M messages), as a slim item (bw-scan.h).
 *
 * Members: the Message-ID, the date, class, origin, campaign, whether its
 * report teaches, its SPEC `bounces` entry (JSON text), the recipients'
 * (address, action, reason), the original's DKIM domain and Received lines
 * (kept only when it teaches or is legitimate), then the slim tuple: the
 * score, the fingerprint's 8 hashes and masked subject, the evidence count,
 * the anomaly, flags (a report, an original), the original's Message-ID,
 * From, Subject, Return-Path and URL domains, the report's From, and the
 * questions its verdict asked (items.questions of its row).  Strings are
 * byte strings ("ay", with their NUL; empty = NULL). */
#define SLIM_F_REPORT   1u
#define SLIM_F_ORIGINAL 2u
#define SLIM_MAX_EVIDENCE 64u

static GVariant *
bs_new(const char *s)
{
    if (s == NULL)
        return g_variant_new_array(G_VARIANT_TYPE_BYTE, NULL, 0);
    return g_variant_new_bytestring(s);
}

static GVariant *
bs_array(const GPtrArray *a, guint max)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("aay"));
    guint n = 0;
    for (guint i = 0; a != NULL && i < a->len && n < max; i++)
        if (g_ptr_array_index(a, i) != NULL) {
            g_variant_builder_add_value(&b, bs_new(g_ptr_array_index(a, i)));
            n++;
        }
    return g_variant_builder_end(&b);
}

GVariant *
bw_snap_entry_new(const bw_item_t *it, bool learn, const char *frag, const char *questions)
{
    g_return_val_if_fail(it != NULL && !it->slim, NULL);
    const bw_report_t *r = it->report;
    const bw_original_t *o = r ? r->original : NULL;
    bool keep_original = o && (learn || it->klass == BW_CLASS_LEGITIMATE);
    GVariantBuilder rb;
    g_variant_builder_init(&rb, G_VARIANT_TYPE("a(ayayy)"));
    for (guint k = 0; r && r->recipients && k < r->recipients->len && k < BW_MAX_RECIPIENTS;
         k++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, k);
        GVariant *t[] = { bs_new(rc->address), bs_new(rc->action),
                          g_variant_new_byte((guchar)rc->reason) };
        g_variant_builder_add_value(&rb, g_variant_new_tuple(t, G_N_ELEMENTS(t)));
    }
    const bw_fingerprint_t *fp = &it->fp;
    guint64 hashes[BW_FINGERPRINT_HASHES];
    bw_fingerprint_get_hashes(fp, hashes);
    guint evidence = 0;
    for (guint k = 0; it->evidence && k < it->evidence->len; k++)
        evidence++;
    GVariant *slim[] = {
        g_variant_new_double(it->score),
        g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, hashes, 8, sizeof(guint64)),
        bs_new(fp->subject_masked),
        g_variant_new_uint32(evidence),
        bs_new(it->anomaly),
        g_variant_new_byte((guchar)((r ? SLIM_F_REPORT : 0) | (o ? SLIM_F_ORIGINAL : 0))),
        bs_new(o ? o->message_id : NULL),
        bs_new(o ? o->from : NULL),
        bs_new(o ? o->subject : NULL),
        bs_new(o ? o->return_path : NULL),
        bs_array(o ? o->url_domains : NULL, BW_KEEP_URL_DOMAINS),
        bs_new(r ? r->from : NULL),
        bs_new(questions),
    };
    GVariant *t[] = {
        bs_new(it->message_id), g_variant_new_int64(it->date_unix),
        g_variant_new_byte((guchar)it->klass), g_variant_new_byte((guchar)it->origin),
        bs_new(it->campaign), g_variant_new_boolean(learn),
        bs_new(frag), g_variant_builder_end(&rb),
        bs_new(keep_original ? o->dkim_domain : NULL),
        bs_array(keep_original ? o->received : NULL, BW_KEEP_RECEIVED),
        g_variant_new_tuple(slim, G_N_ELEMENTS(slim)),
    };
    return g_variant_ref_sink(g_variant_new_tuple(t, G_N_ELEMENTS(t)));
}

/* The members of BW_SNAP_ENTRY_TYPE, of its slim tuple and of a recipient,
 * for gv-read.h (alignment, fixed size). */
static const bw_gv_member_t entry_members[] = {
    { 1, 0 }, { 8, 8 }, { 1, 1 }, { 1, 1 }, { 1, 0 }, { 1, 1 }, { 1, 0 }, { 1, 0 }, { 1, 0 },
    { 1, 0 }, { 8, 0 },
};
enum { E_ID, E_DATE, E_CLASS, E_ORIGIN, E_CAMPAIGN, E_LEARN, E_FRAG, E_RECIPIENTS, E_DKIM,
       E_RECEIVED, E_SLIM, E_COUNT };
static const bw_gv_member_t slim_members[] = {
    { 8, 8 }, { 8, 0 }, { 1, 0 }, { 4, 4 }, { 1, 0 }, { 1, 1 }, { 1, 0 }, { 1, 0 }, { 1, 0 },
    { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 },
};
enum { S_SCORE, S_FP, S_MASKED, S_EVIDENCE, S_ANOMALY, S_FLAGS, S_O_ID, S_O_FROM, S_O_SUBJECT,
       S_O_RETURN_PATH, S_O_URLS, S_R_FROM, S_QUESTIONS, S_COUNT };
static const bw_gv_member_t recipient_members[] = { { 1, 0 }, { 1, 0 }, { 1, 1 } };

G_STATIC_ASSERT(G_N_ELEMENTS(entry_members) == E_COUNT);
G_STATIC_ASSERT(G_N_ELEMENTS(slim_members) == S_COUNT);

/* A byte string of the entry in place: NULL for the empty one, else its
 * bytes, which must end with the NUL the writer put there (*bad set
 * otherwise: not our bytes).  The C string is up to its first NUL. */
static const char *
e_str(bw_gv_span_t s, bool *bad)
{
    if (s.n == 0)
        return NULL;
    if (s.p == NULL || s.p[s.n - 1] != '\0') {
        *bad = true;
        return NULL;
    }
    return (const char *)s.p;
}

/* The same, moved into the report's block (its copy of the entry bytes). */
typedef struct {
    const guchar *base;   /* the entry's bytes */
    char *copy;           /* their copy in the block */
    bool bad;
} slim_reader_t;

static char *
e_ref(slim_reader_t *sr, bw_gv_span_t s)
{
    const char *p = e_str(s, &sr->bad);
    return p != NULL ? sr->copy + ((const guchar *)p - sr->base) : NULL;
}

static GPtrArray *slim_empty(void);

/* The strings of an "aay" into a list of their own, `*out` (the shared
 * empty one, slim_empty, until then: left when there are none), in the
 * block; at most `max` (more is damage). */
static void
e_strv(slim_reader_t *sr, bw_gv_span_t s, GPtrArray **out, guint max)
{
    bw_gv_array_t a;
    if (!bw_gv_array_init(&a, s, 1) || a.count > max) {
        sr->bad = true;
        return;
    }
    if (a.count == 0)
        return;   /* (left the shared empty list) */
    g_ptr_array_unref(*out);
    *out = g_ptr_array_sized_new((guint)a.count);
    bw_gv_span_t e;
    int rc;
    while ((rc = bw_gv_array_next(&a, &e)) == 1) {
        char *c = e_ref(sr, e);
        if (c != NULL)
            g_ptr_array_add(*out, c);
    }
    if (rc < 0)
        sr->bad = true;
}

/* One empty list all slim reports share for the lists they never hold
 * (their To and References, their original's To): nobody adds to a slim
 * report's lists; bw_report_free drops each reference. */
static GPtrArray *
slim_empty(void)
{
    static GPtrArray *empty;
    if (g_once_init_enter(&empty)) {
        GPtrArray *e = g_ptr_array_new();
        g_once_init_leave(&empty, e);
    }
    return empty;
}

static char *
e_dup(bw_gv_span_t s, bool *bad)
{
    return g_strdup(e_str(s, bad));
}

bw_item_t *
bw_item_from_snap_entry(const void *data, gsize size, bool *learn_out, char **questions_out)
{
    return bw_item_from_snap_entry_into(g_new0(bw_item_t, 1), data, size, learn_out,
                                        questions_out);
}

bw_item_t *
bw_item_from_snap_entry_into(bw_item_t *into, const void *data, gsize size, bool *learn_out,
                             char **questions_out)
{
    /* (taken: freed on every way out but the last) */
    g_autoptr(bw_item_t) it = into;
    if (questions_out)
        *questions_out = NULL;
    bw_gv_span_t v = { data, data != NULL ? size : 0 };
    bw_gv_span_t m[E_COUNT], sl[S_COUNT];
    if (data == NULL || size == 0 || !bw_gv_tuple(v, entry_members, E_COUNT, m) ||
        !bw_gv_tuple(m[E_SLIM], slim_members, S_COUNT, sl) ||
        sl[S_FP].n != 8 * sizeof(guint64))
        return NULL;
    bw_gv_array_t ra;
    if (!bw_gv_array_init(&ra, m[E_RECIPIENTS], 1) || ra.count > BW_MAX_RECIPIENTS)
        return NULL;
    guint8 klass = m[E_CLASS].p[0], origin = m[E_ORIGIN].p[0], learn = m[E_LEARN].p[0];
    guint8 flags = sl[S_FLAGS].p[0];
    guint32 evidence;
    memcpy(&evidence, sl[S_EVIDENCE].p, sizeof evidence);
    if (klass > BW_CLASS_UNDETERMINED || origin > BW_ORIGIN_FOREIGN || learn > 1 ||
        flags > (SLIM_F_REPORT | SLIM_F_ORIGINAL) ||
        (flags & (SLIM_F_REPORT | SLIM_F_ORIGINAL)) == SLIM_F_ORIGINAL ||
        evidence > SLIM_MAX_EVIDENCE || (ra.count > 0 && !(flags & SLIM_F_REPORT)))
        return NULL;
    bool bad = false;
    it->slim = true;
    it->slim_learn = learn != 0;
    it->message_id = e_dup(m[E_ID], &bad);
    if (it->message_id == NULL || *it->message_id == '\0')
        return NULL;
    memcpy(&it->date_unix, m[E_DATE].p, sizeof it->date_unix);
    it->klass = (bw_class_t)klass;
    it->origin = (bw_origin_t)origin;
    it->campaign = e_dup(m[E_CAMPAIGN], &bad);
    memcpy(&it->score, sl[S_SCORE].p, sizeof it->score);
    if (it->score < 0.0 || it->score > 1.0 || it->score != it->score)
        return NULL;
    guint64 h[BW_FINGERPRINT_HASHES];
    memcpy(h, sl[S_FP].p, sizeof h);
    bw_fingerprint_set_hashes(&it->fp, h);
    it->fp.subject_masked = e_dup(sl[S_MASKED], &bad);
    it->anomaly = e_dup(sl[S_ANOMALY], &bad);
    /* only the count: a text read is a NULL, which nothing may print */
    it->evidence = g_ptr_array_new_full(evidence, g_free);
    g_ptr_array_set_size(it->evidence, (gint)evidence);
    if (flags & SLIM_F_REPORT) {
        /* the block holds a copy of the entry's bytes from the recipients
         * on (the report's strings are all there: not the key, the
         * campaign or the `bounces` entry before them) */
        gsize from = m[E_RECIPIENTS].p != NULL ? (gsize)(m[E_RECIPIENTS].p - v.p)
                   : m[E_DKIM].p != NULL       ? (gsize)(m[E_DKIM].p - v.p)
                   : m[E_RECEIVED].p != NULL   ? (gsize)(m[E_RECEIVED].p - v.p)
                                               : (gsize)(m[E_SLIM].p - v.p);
        slim_reader_t sr = { v.p + from, NULL, false };
        bool original = (flags & SLIM_F_ORIGINAL) != 0;
        bw_report_t *rp = it->report =
            report_in_block_sharing((const char *)v.p + from, size - from, original,
                                    (guint)ra.count, &sr.copy, slim_empty());
        bw_gv_span_t e;
        int rc;
        for (guint i = 0; (rc = bw_gv_array_next(&ra, &e)) == 1 && !sr.bad; i++) {
            bw_gv_span_t rm[3];
            if (!bw_gv_tuple(e, recipient_members, 3, rm) || rm[2].p[0] >= BW_REASON_LAST) {
                sr.bad = true;
                break;
            }
            bw_recipient_t *rc_ = g_ptr_array_index(rp->recipients, i);
            rc_->address = e_ref(&sr, rm[0]);
            rc_->action = e_ref(&sr, rm[1]);
            rc_->reason = (bw_reason_t)rm[2].p[0];
        }
        if (rc < 0)
            sr.bad = true;
        rp->from = e_ref(&sr, sl[S_R_FROM]);
        if (original) {
            bw_original_t *o = rp->original;
            o->message_id = e_ref(&sr, sl[S_O_ID]);
            o->from = e_ref(&sr, sl[S_O_FROM]);
            o->subject = e_ref(&sr, sl[S_O_SUBJECT]);
            o->return_path = e_ref(&sr, sl[S_O_RETURN_PATH]);
            e_strv(&sr, sl[S_O_URLS], &o->url_domains, BW_KEEP_URL_DOMAINS);
            o->dkim_domain = e_ref(&sr, m[E_DKIM]);
            e_strv(&sr, m[E_RECEIVED], &o->received, BW_KEEP_RECEIVED);
        } else if (m[E_DKIM].n > 0 || m[E_RECEIVED].n > 0) {
            sr.bad = true;
        }
        bad = bad || sr.bad;
    } else if (m[E_DKIM].n > 0 || m[E_RECEIVED].n > 0 || sl[S_R_FROM].n > 0) {
        bad = true;
    }
    /* the members only checked here (read by the snapshot's own path) */
    (void)e_str(m[E_FRAG], &bad);
    const char *q = e_str(sl[S_QUESTIONS], &bad);
    if (bad)
        return NULL;
    if (learn_out)
        *learn_out = learn != 0;
    if (questions_out && q != NULL)
        *questions_out = g_strdup(q);
    return g_steal_pointer(&it);
}
