/* check_gv_read.c: reading serialised GVariants in place (src/core/gv-read.c)
 * gives GLib's children on what g_variant_store() writes, and never reads
 * outside the bytes on anything else. */
#include "suites.h"
#include "gv-read.h"
#include "bw-scan.h"
#include <string.h>

/* The snapshot's tuple types (src/app/snapshot.c) and their members. */
#define SENT_TYPE "(ayayaayayayxaay)"
#define ITEM_TYPE "(ayxyyaybaya(ayayy)ayaay)"
static const bw_gv_member_t sent_members[] = {
    { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 8, 8 }, { 1, 0 },
};
static const bw_gv_member_t item_members[] = {
    { 1, 0 }, { 8, 8 }, { 1, 1 }, { 1, 1 }, { 1, 0 }, { 1, 1 }, { 1, 0 }, { 1, 0 }, { 1, 0 },
    { 1, 0 },
};

/* Random bytes, often empty, sometimes NUL-terminated, sometimes holding
 * a NUL, sometimes long (to cross the framing offsets' widths). */
static bool small_only;   /* no long ones (the damage test copies often) */

static GVariant *
rand_bytes(GRand *r)
{
    guint len = 0;
    switch (g_rand_int_range(r, 0, 6)) {
    case 0: len = 0; break;
    case 1: len = 1; break;
    case 2: len = (guint)g_rand_int_range(r, 200, 300); break;
    case 3: len = g_rand_boolean(r) ? (guint)g_rand_int_range(r, 65400, 65700) : 3; break;
    default: len = (guint)g_rand_int_range(r, 2, 40); break;
    }
    if (small_only && len > 40)
        len = 7;
    g_autofree guchar *b = g_malloc(len + 1);
    for (guint i = 0; i < len; i++)
        b[i] = (guchar)g_rand_int_range(r, 0, 256);
    if (len > 0 && g_rand_boolean(r))
        b[len - 1] = '\0';
    return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, b, len, 1);
}

static GVariant *
rand_aay(GRand *r)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("aay"));
    guint n = (guint)g_rand_int_range(r, 0, 5);
    for (guint i = 0; i < n; i++)
        g_variant_builder_add_value(&b, rand_bytes(r));
    return g_variant_builder_end(&b);
}

static GVariant *
rand_sent(GRand *r)
{
    GVariant *t[] = { rand_bytes(r), rand_bytes(r), rand_aay(r), rand_bytes(r), rand_bytes(r),
                      g_variant_new_int64((gint64)g_rand_int(r) << 20), rand_aay(r) };
    return g_variant_new_tuple(t, G_N_ELEMENTS(t));
}

static GVariant *
rand_item(GRand *r)
{
    GVariantBuilder rb;
    g_variant_builder_init(&rb, G_VARIANT_TYPE("a(ayayy)"));
    guint n = (guint)g_rand_int_range(r, 0, 3);
    for (guint i = 0; i < n; i++) {
        GVariant *t[] = { rand_bytes(r), rand_bytes(r),
                          g_variant_new_byte((guchar)g_rand_int_range(r, 0, 256)) };
        g_variant_builder_add_value(&rb, g_variant_new_tuple(t, G_N_ELEMENTS(t)));
    }
    GVariant *t[] = {
        rand_bytes(r), g_variant_new_int64(g_rand_int(r)),
        g_variant_new_byte((guchar)g_rand_int(r)), g_variant_new_byte((guchar)g_rand_int(r)),
        rand_bytes(r), g_variant_new_boolean(g_rand_boolean(r)), rand_bytes(r),
        g_variant_builder_end(&rb), rand_bytes(r), rand_aay(r),
    };
    return g_variant_new_tuple(t, G_N_ELEMENTS(t));
}

static bw_gv_span_t
span_of(GVariant *v)
{
    bw_gv_span_t s = { g_variant_get_data(v), g_variant_get_size(v) };
    return s;
}

/* The span is GLib's child: the same bytes, where they lie. */
static void
assert_same(bw_gv_span_t got, GVariant *child)
{
    gsize n = g_variant_get_size(child);
    ck_assert_uint_eq(got.n, n);
    if (n > 0)
        ck_assert_ptr_eq(got.p, g_variant_get_data(child));
}

/* Every element's every member (and the inner arrays' elements) as GLib
 * reads them from `arr` (an array of tuples of `m`, aligned to `align`). */
static void
assert_array_reads_as_glib(GVariant *arr, const bw_gv_member_t *m, guint nm, guint align)
{
    bw_gv_array_t a;
    ck_assert(bw_gv_array_init(&a, span_of(arr), align));
    gsize n = g_variant_n_children(arr);
    bw_gv_span_t e;
    for (gsize i = 0; i < n; i++) {
        ck_assert_int_eq(bw_gv_array_next(&a, &e), 1);
        g_autoptr(GVariant) t = g_variant_get_child_value(arr, i);
        assert_same(e, t);
        bw_gv_span_t ms[16];
        ck_assert(bw_gv_tuple(e, m, nm, ms));
        /* the first members alone read the same */
        for (guint upto = 1; upto <= nm; upto++) {
            bw_gv_span_t some[16];
            ck_assert(bw_gv_tuple_upto(e, m, nm, upto, some));
            for (guint k = 0; k < upto; k++) {
                ck_assert_uint_eq(some[k].n, ms[k].n);
                ck_assert_ptr_eq(some[k].p, ms[k].p);
            }
        }
        for (guint k = 0; k < nm; k++) {
            g_autoptr(GVariant) c = g_variant_get_child_value(t, k);
            assert_same(ms[k], c);
            if (g_variant_is_of_type(c, G_VARIANT_TYPE("aay"))) {
                bw_gv_array_t inner;
                ck_assert(bw_gv_array_init(&inner, ms[k], 1));
                gsize ni = g_variant_n_children(c);
                for (gsize j = 0; j < ni; j++) {
                    bw_gv_span_t ie;
                    ck_assert_int_eq(bw_gv_array_next(&inner, &ie), 1);
                    g_autoptr(GVariant) ic = g_variant_get_child_value(c, j);
                    assert_same(ie, ic);
                }
                ck_assert_int_eq(bw_gv_array_next(&inner, &e), 0);
            }
        }
    }
    ck_assert_int_eq(bw_gv_array_next(&a, &e), 0);
}

static GVariant *
rand_array(GRand *r, bool sent, guint n)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE(sent ? "a" SENT_TYPE : "a" ITEM_TYPE));
    for (guint i = 0; i < n; i++)
        g_variant_builder_add_value(&b, sent ? rand_sent(r) : rand_item(r));
    /* serialised, as the snapshot is read: from its stored bytes */
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_builder_end(&b));
    g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes(v);
    return g_variant_ref_sink(g_variant_new_from_bytes(g_variant_get_type(v), bytes, TRUE));
}

START_TEST(test_reads_as_glib)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(20261207);
    for (guint round = 0; round < 60; round++) {
        guint n = round % 7 == 0 ? 0 : (guint)g_rand_int_range(r, 1, 12);
        g_autoptr(GVariant) sent = rand_array(r, true, n);
        assert_array_reads_as_glib(sent, sent_members, G_N_ELEMENTS(sent_members), 8);
        g_autoptr(GVariant) items = rand_array(r, false, n);
        assert_array_reads_as_glib(items, item_members, G_N_ELEMENTS(item_members), 8);
    }
}
END_TEST

/* The writers give g_variant_store()'s bytes: an array of the elements of
 * `arr` (GLib's children, written again), and the snapshot's tuple. */
static void
assert_writes_as_glib(GVariant *arr, guint align)
{
    gsize n = g_variant_n_children(arr);
    g_autofree bw_gv_span_t *el = g_new0(bw_gv_span_t, n + 1);
    g_autoptr(GPtrArray) kids = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
    for (gsize i = 0; i < n; i++) {
        GVariant *c = g_variant_get_child_value(arr, i);
        g_ptr_array_add(kids, c);
        el[i] = span_of(c);
    }
    gsize size = bw_gv_array_size(el, n, align);
    ck_assert_uint_eq(size, g_variant_get_size(arr));
    g_autofree guchar *out = g_malloc(size + 1);
    bw_gv_array_write(out, size, el, n, align);
    ck_assert(size == 0 || memcmp(out, g_variant_get_data(arr), size) == 0);
}

START_TEST(test_writes_as_glib)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(4242);
    static const bw_gv_member_t top_members[] = { { 4, 4 }, { 4, 4 }, { 8, 0 }, { 8, 0 } };
    for (guint round = 0; round < 60; round++) {
        guint n = round % 7 == 0 ? 0 : (guint)g_rand_int_range(r, 1, 12);
        g_autoptr(GVariant) sent = rand_array(r, true, n);
        assert_writes_as_glib(sent, 8);
        g_autoptr(GVariant) items = rand_array(r, false, round % 5 == 0 ? 0 : n);
        assert_writes_as_glib(items, 8);
        /* (version, count, sent, items) as the snapshot is */
        guint32 version = 2, count = (guint32)g_variant_n_children(items);
        GVariant *t[] = { g_variant_new_uint32(version), g_variant_new_uint32(count), sent, items };
        g_autoptr(GVariant) glib = g_variant_ref_sink(g_variant_new_tuple(t, G_N_ELEMENTS(t)));
        gsize want = g_variant_get_size(glib);
        g_autofree guchar *want_bytes = g_malloc(want + 1);
        g_variant_store(glib, want_bytes);
        const bw_gv_span_t v[] = { { (const guchar *)&version, 4 }, { (const guchar *)&count, 4 },
                                   span_of(sent), span_of(items) };
        gsize size = bw_gv_tuple_size(top_members, 4, v);
        ck_assert_uint_eq(size, want);
        g_autofree guchar *out = g_malloc(size + 1);
        bw_gv_tuple_write(out, size, top_members, 4, v);
        ck_assert(memcmp(out, want_bytes, size) == 0);
        /* the items' array written in its place afterwards */
        const bw_gv_span_t w[] = { v[0], v[1], v[2], { NULL, v[3].n } };
        g_autofree guchar *out2 = g_malloc0(size + 1);
        bw_gv_tuple_write(out2, size, top_members, 4, w);
        gsize at = bw_gv_tuple_member_at(top_members, 3, w);
        ck_assert_uint_le(at + v[3].n, size);
        if (v[3].n > 0)
            memcpy(out2 + at, v[3].p, v[3].n);
        ck_assert(memcmp(out2, want_bytes, size) == 0);
    }
}
END_TEST

/* Damaged bytes: whatever the readers say, every span lies inside the
 * bytes they were given. */
static void
walk_damaged(const guchar *p, gsize n)
{
    bw_gv_span_t all = { n ? p : NULL, n };
    bw_gv_array_t a;
    if (!bw_gv_array_init(&a, all, 8))
        return;
    bw_gv_span_t e;
    guint guard = 0;
    while (bw_gv_array_next(&a, &e) == 1 && guard++ < 100000) {
        ck_assert(e.n == 0 || (e.p >= p && e.p + e.n <= p + n));
        bw_gv_span_t ms[16];
        if (!bw_gv_tuple(e, sent_members, G_N_ELEMENTS(sent_members), ms))
            continue;
        for (guint k = 0; k < G_N_ELEMENTS(sent_members); k++) {
            ck_assert(ms[k].n == 0 || (ms[k].p >= e.p && ms[k].p + ms[k].n <= e.p + e.n));
            if (k == 5)
                ck_assert_uint_eq(ms[k].n, 8);
        }
        bw_gv_array_t inner;
        if (bw_gv_array_init(&inner, ms[2], 1)) {
            bw_gv_span_t ie;
            while (bw_gv_array_next(&inner, &ie) == 1)
                ck_assert(ie.n == 0 || (ie.p >= ms[2].p && ie.p + ie.n <= ms[2].p + ms[2].n));
        }
    }
}

START_TEST(test_damaged_stays_inside)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(7);
    small_only = true;
    for (guint round = 0; round < 40; round++) {
        g_autoptr(GVariant) sent = rand_array(r, true, (guint)g_rand_int_range(r, 1, 6));
        gsize n = g_variant_get_size(sent);
        g_autofree guchar *copy = g_memdup2(g_variant_get_data(sent), n);
        for (guint k = 0; k < 200; k++) {
            gsize at = (gsize)g_rand_int_range(r, 0, (gint32)n);
            guchar was = copy[at];
            copy[at] = (guchar)g_rand_int_range(r, 0, 256);
            /* the whole, and cut short (a heap copy: ASan sees the end) */
            walk_damaged(copy, n);
            gsize cut = (gsize)g_rand_int_range(r, 0, (gint32)n);
            g_autofree guchar *shorter = g_memdup2(copy, cut);
            walk_damaged(shorter, cut);
            if (g_rand_boolean(r))
                copy[at] = was;
        }
    }
}
END_TEST

START_TEST(test_rejects_bad_framing)
{
    /* "(ayay)" of 3 bytes whose frame points past the bytes */
    const guchar bad[] = { 'a', 'b', 9 };
    bw_gv_span_t v = { bad, sizeof bad };
    const bw_gv_member_t m[] = { { 1, 0 }, { 1, 0 } };
    bw_gv_span_t out[2];
    ck_assert(!bw_gv_tuple(v, m, 2, out));
    /* the same, framed right: "a" then "b" */
    const guchar good[] = { 'a', 'b', 1 };
    bw_gv_span_t g = { good, sizeof good };
    ck_assert(bw_gv_tuple(g, m, 2, out));
    ck_assert_uint_eq(out[0].n, 1);
    ck_assert_uint_eq(out[1].n, 1);
    ck_assert_int_eq(out[1].p[0], 'b');
    /* an array whose last frame points past the bytes */
    const guchar arr[] = { 'a', 'b', 9 };
    bw_gv_array_t a;
    bw_gv_span_t av = { arr, sizeof arr };
    ck_assert(!bw_gv_array_init(&a, av, 1));
}
END_TEST

/* ------------------------------------------------------------ snapshot entries
 * (item-variant.c: bw_snap_entry_new, bw_item_from_snap_entry) */

static bw_item_t *
entry_item(void)
{
    bw_item_t *it = g_new0(bw_item_t, 1);
    it->message_id = g_strdup("<r1@mx.example>");
    it->file = g_strdup("/mail/cur/r1");
    it->date_unix = 1785499784;
    it->klass = BW_CLASS_LEGITIMATE;
    it->origin = BW_ORIGIN_FOREIGN;
    it->score = 0.25;
    it->evidence = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(it->evidence, g_strdup("one"));
    g_ptr_array_add(it->evidence, g_strdup("two"));
    it->fp.subject_template = 1;
    it->fp.url_domains = 2;
    it->fp.origin_network = 3;
    it->fp.msgid_shape = 4;
    it->fp.mailer = 5;
    it->fp.body_simhash = G_MAXUINT64;
    it->fp.forged_sender = 7;
    it->fp.subject_names = 8;
    it->fp.subject_masked = g_strdup("Hello #");
    it->campaign = g_strdup("c-1");
    it->anomaly = NULL;
    bw_report_t *r = it->report = bw_report_new();
    r->from = g_strdup("MAILER-DAEMON@mx.example");
    r->subject = g_strdup("Undelivered");   /* not in the entry */
    for (guint i = 0; i < 3; i++) {
        bw_recipient_t *rc = bw_recipient_new();
        rc->address = g_strdup_printf("user%u@dest.example", i);
        rc->action = i == 1 ? NULL : g_strdup("failed");
        rc->reason = i == 2 ? BW_REASON_MAILBOX_FULL : BW_REASON_USER_UNKNOWN;
        rc->diagnostic = g_strdup("550 no");   /* not in the entry */
        g_ptr_array_add(r->recipients, rc);
    }
    bw_original_t *o = r->original = bw_original_new();
    o->message_id = g_strdup("<o1@owner.example>");
    o->from = g_strdup("owner@owner.example");
    o->subject = g_strdup("");
    o->return_path = g_strdup("bounce@owner.example");
    g_ptr_array_add(o->url_domains, g_strdup("a.example"));
    g_ptr_array_add(o->url_domains, g_strdup("b.example"));
    o->dkim_domain = g_strdup("owner.example");
    g_ptr_array_add(o->received, g_strdup("from a by b"));
    return it;
}

static GBytes *
entry_bytes(const bw_item_t *it, bool learn, const char *questions)
{
    g_autoptr(GVariant) v = bw_snap_entry_new(it, learn, "{\"message_id\":1}", questions);
    ck_assert_ptr_nonnull(v);
    ck_assert(g_variant_is_of_type(v, G_VARIANT_TYPE(BW_SNAP_ENTRY_TYPE)));
    return g_variant_get_data_as_bytes(v);
}

static void
count_critical(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain;
    (void)message;
    if (level & G_LOG_LEVEL_CRITICAL)
        (*(guint *)data)++;
}

START_TEST(test_snap_entry_slim)
{
    g_autoptr(bw_item_t) it = entry_item();
    g_autoptr(GBytes) b = entry_bytes(it, true, "M<x>=0\n");
    gsize n = 0;
    const guchar *p = g_bytes_get_data(b, &n);
    /* read at an odd address: any alignment */
    g_autofree guchar *odd = g_malloc(n + 1);
    memcpy(odd + 1, p, n);
    bool learn = false;
    g_autofree char *q = NULL;
    g_autoptr(bw_item_t) s = bw_item_from_snap_entry(odd + 1, n, &learn, &q);
    ck_assert_ptr_nonnull(s);
    ck_assert(s->slim);
    ck_assert(learn && s->slim_learn);
    ck_assert_str_eq(q, "M<x>=0\n");
    ck_assert_str_eq(s->message_id, it->message_id);
    ck_assert_ptr_null(s->file);
    ck_assert_int_eq(s->date_unix, it->date_unix);
    ck_assert_int_eq(s->klass, it->klass);
    ck_assert_int_eq(s->origin, it->origin);
    ck_assert(s->score == it->score);
    ck_assert_uint_eq(s->evidence->len, 2);
    ck_assert_ptr_null(g_ptr_array_index(s->evidence, 0));
    ck_assert(memcmp(&s->fp, &it->fp, offsetof(bw_fingerprint_t, subject_masked)) == 0);
    ck_assert_uint_eq(s->fp.subject_names, 8);
    ck_assert_str_eq(s->fp.subject_masked, "Hello #");
    ck_assert_str_eq(s->campaign, "c-1");
    ck_assert_ptr_null(s->anomaly);
    const bw_report_t *r = s->report;
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->from, "MAILER-DAEMON@mx.example");
    ck_assert_ptr_null(r->subject);
    ck_assert_uint_eq(r->recipients->len, 3);
    for (guint i = 0; i < 3; i++) {
        const bw_recipient_t *a = g_ptr_array_index(it->report->recipients, i);
        const bw_recipient_t *c = g_ptr_array_index(r->recipients, i);
        ck_assert_str_eq(c->address, a->address);
        ck_assert_pstr_eq(c->action, a->action);
        ck_assert_int_eq(c->reason, a->reason);
        ck_assert_ptr_null(c->diagnostic);
    }
    const bw_original_t *o = r->original;
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(o->message_id, "<o1@owner.example>");
    ck_assert_str_eq(o->from, "owner@owner.example");
    ck_assert_str_eq(o->subject, "");
    ck_assert_str_eq(o->return_path, "bounce@owner.example");
    ck_assert_uint_eq(o->url_domains->len, 2);
    ck_assert_str_eq(g_ptr_array_index(o->url_domains, 1), "b.example");
    ck_assert_str_eq(o->dkim_domain, "owner.example");
    ck_assert_uint_eq(o->received->len, 1);
    /* a slim item is never written or printed, and the refusal is loud */
    guint criticals = 0;
    GLogFunc was = g_log_set_default_handler(count_critical, &criticals);
    ck_assert_ptr_null(bw_item_to_variant(s));
    ck_assert_ptr_null(bw_item_to_json_text(s));
    ck_assert_ptr_null(bw_item_entry_text(s));
    ck_assert_ptr_null(bw_snap_entry_new(s, true, "{}", NULL));
    g_log_set_default_handler(was, NULL);
    ck_assert_uint_eq(criticals, 4);

    /* a backscatter report that does not teach: no DKIM, no Received; no
     * original, no report */
    it->klass = BW_CLASS_BACKSCATTER;
    g_clear_pointer(&q, g_free);   /* (the reader sets *q, it frees nothing) */
    g_autoptr(GBytes) b2 = entry_bytes(it, false, NULL);
    g_autoptr(bw_item_t) s2 = bw_item_from_snap_entry(g_bytes_get_data(b2, NULL),
                                                      g_bytes_get_size(b2), &learn, &q);
    ck_assert_ptr_nonnull(s2);
    ck_assert(!learn);
    ck_assert_ptr_null(q);
    ck_assert_ptr_null(s2->report->original->dkim_domain);
    ck_assert_uint_eq(s2->report->original->received->len, 0);
    g_clear_pointer(&it->report->original, bw_original_free);
    g_autoptr(GBytes) b3 = entry_bytes(it, false, NULL);
    g_autoptr(bw_item_t) s3 = bw_item_from_snap_entry(g_bytes_get_data(b3, NULL),
                                                      g_bytes_get_size(b3), NULL, NULL);
    ck_assert_ptr_nonnull(s3);
    ck_assert_ptr_null(s3->report->original);
    g_clear_pointer(&it->report, bw_report_free);
    g_autoptr(GBytes) b4 = entry_bytes(it, false, NULL);
    g_autoptr(bw_item_t) s4 = bw_item_from_snap_entry(g_bytes_get_data(b4, NULL),
                                                      g_bytes_get_size(b4), NULL, NULL);
    ck_assert_ptr_nonnull(s4);
    ck_assert_ptr_null(s4->report);
}
END_TEST

/* Damaged entries (a byte changed, cut short, a string without its NUL):
 * each reads as an item or as nothing, never outside its bytes (ASan and
 * valgrind builds see it), and every item read holds what its checks bound. */
static void
read_damaged(const guchar *p, gsize n)
{
    g_autofree guchar *copy = g_memdup2(p, n);   /* a heap copy: ASan sees the end */
    bool learn = false;
    g_autofree char *q = NULL;
    g_autoptr(bw_item_t) s = bw_item_from_snap_entry(n ? copy : NULL, n, &learn, &q);
    if (s == NULL)
        return;
    ck_assert(s->slim);
    ck_assert(s->message_id != NULL && *s->message_id != '\0');
    ck_assert(s->score >= 0.0 && s->score <= 1.0);
    ck_assert_uint_le(s->evidence->len, 64);
    ck_assert_int_le(s->klass, BW_CLASS_UNDETERMINED);
    for (guint i = 0; s->report && i < s->report->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(s->report->recipients, i);
        ck_assert_int_lt(rc->reason, BW_REASON_LAST);
        if (rc->address)
            (void)strlen(rc->address);
    }
}

START_TEST(test_snap_entry_damaged)
{
    g_autoptr(bw_item_t) it = entry_item();
    g_autoptr(GBytes) b = entry_bytes(it, true, "M<x>=0\n");
    gsize n = 0;
    const guchar *p = g_bytes_get_data(b, &n);
    g_autofree guchar *d = g_memdup2(p, n);
    guint read_back = 0;
    for (gsize at = 0; at < n; at++) {
        read_damaged(p, at);   /* cut short */
        const guchar values[] = { 0x00, 0xff, 0x01, (guchar)(p[at] ^ 0x80), (guchar)(p[at] + 1) };
        for (guint k = 0; k < G_N_ELEMENTS(values); k++) {
            memcpy(d, p, n);
            d[at] = values[k];
            read_damaged(d, n);
            bool learn;
            g_autofree char *q = NULL;
            g_autoptr(bw_item_t) s = bw_item_from_snap_entry(d, n, &learn, &q);
            read_back += s != NULL;
        }
    }
    /* not everything reads (the checks refuse), not nothing (a changed
     * letter of a string is still an entry: the store's sum is what tells) */
    ck_assert_uint_gt(read_back, 0);
    ck_assert_uint_lt(read_back, (guint)(n * 5));
    /* random bytes */
    g_autoptr(GRand) r = g_rand_new_with_seed(15);
    for (guint round = 0; round < 2000; round++) {
        gsize len = (gsize)g_rand_int_range(r, 0, 300);
        g_autofree guchar *rb = g_malloc(len + 1);
        for (gsize i = 0; i < len; i++)
            rb[i] = (guchar)g_rand_int_range(r, 0, 256);
        read_damaged(rb, len);
    }
}
END_TEST

Suite *
suite_gv_read(void)
{
    Suite *s = suite_create("gv-read");
    TCase *tc = tcase_create("in-place");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reads_as_glib);
    tcase_add_test(tc, test_writes_as_glib);
    tcase_add_test(tc, test_damaged_stays_inside);
    tcase_add_test(tc, test_rejects_bad_framing);
    tcase_add_test(tc, test_snap_entry_slim);
    tcase_add_test(tc, test_snap_entry_damaged);
    suite_add_tcase(s, tc);
    return s;
}
