/* check_gv_read.c: reading serialised GVariants in place (src/core/gv-read.c)
 * gives GLib's children on what g_variant_store() writes, and never reads
 * outside the bytes on anything else. */
#include "suites.h"
#include "gv-read.h"
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
    suite_add_tcase(s, tc);
    return s;
}
