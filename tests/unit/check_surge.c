/* check_surge.c: surge detection on simulated arrival series. */
#include "suites.h"
#include "engine-fixtures.h"
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#define HOUR 3600
#define T0 1735689600   /* 2025-01-01T00:00:00Z */

static void
add_items(GPtrArray *items, gint64 t, unsigned n, bw_class_t klass, const char *campaign)
{
    for (unsigned i = 0; i < n; i++) {
        bw_item_t *it = g_new0(bw_item_t, 1);
        it->message_id = g_strdup_printf("r%u-%" G_GINT64_FORMAT "@x", items->len, t);
        it->date_unix = t + (gint64)i * (HOUR / MAX(n, 1u) / 2);
        it->klass = klass;
        it->evidence = g_ptr_array_new_with_free_func(g_free);
        it->campaign = g_strdup(campaign);
        g_ptr_array_add(items, it);
    }
}

static unsigned
poisson_draw(GRand *r, double l)
{
    /* Knuth: fine for small rates */
    double L = exp(-l), p = 1.0;
    unsigned k = 0;
    do {
        k++;
        p *= g_rand_double(r);
    } while (p > L && k < 1000);
    return k - 1;
}

/* A year of quiet backscatter noise at `rate` per hour. */
static GPtrArray *
quiet_year(GRand *r, double rate)
{
    GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (gint64 h = 0; h < 365 * 24; h++) {
        unsigned n = poisson_draw(r, rate);
        if (n)
            add_items(items, T0 + h * HOUR, n, BW_CLASS_BACKSCATTER, "bw-00000001");
    }
    return items;
}

static guint
surges_overlapping(GPtrArray *surges, gint64 a, gint64 b)
{
    guint n = 0;
    for (guint i = 0; i < surges->len; i++) {
        bw_surge_t *s = g_ptr_array_index(surges, i);
        if (s->start <= b && a <= s->end)
            n++;
    }
    return n;
}

START_TEST(test_poisson_tail)
{
    ck_assert_double_eq_tol(bw_poisson_upper_tail(0, 2.0), 1.0, 1e-12);
    ck_assert_double_eq_tol(bw_poisson_upper_tail(1, 2.0), 1.0 - exp(-2.0), 1e-12);
    /* 20 reports when 0.1 are expected: about 1e-39 */
    double p = bw_poisson_upper_tail(20, 0.1);
    ck_assert(p > 1e-41 && p < 1e-37);
    ck_assert_double_eq_tol(bw_poisson_upper_tail(3, 3.0), 1.0 - exp(-3.0) * (1 + 3 + 4.5), 1e-12);
}
END_TEST

START_TEST(test_cusum_false_alarm_rate)
{
    /* h is set for ARL0 = 8760 h: simulate 30 years at the in-control rate
     * and count signals (expected about 30; the Markov-chain approximation
     * is within a factor of two) */
    double l0 = 0.05, l1 = 1.55;
    double k = (l1 - l0) / log(l1 / l0);
    double h = bw_cusum_threshold(l0, k, 8760.0);
    ck_assert(h > 0.5 && h < 50.0);
    GRand *r = g_rand_new_with_seed(42);
    unsigned alarms = 0;
    double s = 0.0;
    for (long t = 0; t < 30L * 8760; t++) {
        s = fmax(0.0, s + poisson_draw(r, l0) - k);
        if (s >= h) {
            alarms++;
            s = 0.0;
        }
    }
    g_rand_free(r);
    ck_assert_msg(alarms >= 8 && alarms <= 80, "%u alarms in 30 years", alarms);
}
END_TEST

START_TEST(test_cusum_cache_exact)
{
    /* the memoised h is bit for bit the computed one, survives a new
     * process (memory reset by set_path), and a damaged cache file is
     * ignored rather than believed */
    double l0 = 0.07, l1 = 1.57;
    double k = (l1 - l0) / log(l1 / l0);
    g_autofree char *dir = g_dir_make_tmp("bw-cusum-XXXXXX", NULL);
    ck_assert_ptr_nonnull(dir);
    g_autofree char *file = g_build_filename(dir, "sub", "cusum-h", NULL);

    bw_cusum_cache_set_path(NULL);
    double h_plain = bw_cusum_threshold(l0, k, 8760.0);

    bw_cusum_cache_set_path(file);
    double h1 = bw_cusum_threshold(l0, k, 8760.0);
    ck_assert(memcmp(&h1, &h_plain, sizeof h1) == 0);
    ck_assert(g_file_test(file, G_FILE_TEST_IS_REGULAR));
    GStatBuf st;
    ck_assert_int_eq(g_stat(file, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);

    bw_cusum_cache_set_path(file);      /* as a new run would start */
    double h2 = bw_cusum_threshold(l0, k, 8760.0);
    ck_assert(memcmp(&h2, &h_plain, sizeof h2) == 0);
    /* other inputs get their own answer */
    double h3 = bw_cusum_threshold(l0, k, 100.0);
    ck_assert(h3 < h_plain);

    /* a cache line with an absurd h, and garbage: recomputed */
    guint64 bl, bk;
    memcpy(&bl, &l0, sizeof bl);
    memcpy(&bk, &k, sizeof bk);
    g_autofree char *bad = g_strdup_printf("%016" G_GINT64_MODIFIER "x %016" G_GINT64_MODIFIER "x "
                                           "40c11c0000000000 7ff0000000000000\nzz 1 2\n",
                                           bl, bk);
    ck_assert(g_file_set_contents(file, bad, -1, NULL));
    bw_cusum_cache_set_path(file);
    double h4 = bw_cusum_threshold(l0, k, 8760.0);
    ck_assert(memcmp(&h4, &h_plain, sizeof h4) == 0);

    bw_cusum_cache_set_path(NULL);
    g_remove(file);
    g_autofree char *sub = g_path_get_dirname(file);
    g_rmdir(sub);
    g_rmdir(dir);
}
END_TEST

START_TEST(test_quiet_year_no_alarm)
{
    /* a mailbox with a little backscatter noise all year long, at rates
     * from none to a report every ten hours: no surge */
    static const double rates[] = { 0.0, 0.01, 0.04, 0.1 };
    for (size_t i = 0; i < G_N_ELEMENTS(rates); i++) {
        GRand *r = g_rand_new_with_seed(1000 + (guint32)i);
        g_autoptr(GPtrArray) items = quiet_year(r, rates[i]);
        g_rand_free(r);
        bw_surge_config_t cfg;
        bw_surge_config_default(&cfg);
        g_autoptr(GPtrArray) surges = NULL;
        ck_assert_int_eq(bw_surges_detect(items, T0 + 365 * 24 * HOUR, &cfg, &surges), BW_OK);
        ck_assert_msg(surges->len <= 1, "rate %g: %u surges in a quiet year", rates[i], surges->len);
    }
}
END_TEST

START_TEST(test_flood_alarms)
{
    GRand *r = g_rand_new_with_seed(5);
    g_autoptr(GPtrArray) items = quiet_year(r, 0.02);
    g_rand_free(r);
    gint64 f0 = T0 + 200 * 24 * HOUR;
    add_items(items, f0, 18, BW_CLASS_BACKSCATTER, "bw-flood");
    add_items(items, f0 + HOUR, 12, BW_CLASS_BACKSCATTER, "bw-flood");
    g_autoptr(GPtrArray) surges = NULL;
    ck_assert_int_eq(bw_surges_detect(items, T0 + 365 * 24 * HOUR, NULL, &surges), BW_OK);
    ck_assert_uint_eq(surges_overlapping(surges, f0, f0 + 2 * HOUR), 1);
    for (guint i = 0; i < surges->len; i++) {
        bw_surge_t *s = g_ptr_array_index(surges, i);
        if (s->start <= f0 + 2 * HOUR && f0 <= s->end) {
            ck_assert_uint_ge(s->count, 30);
            ck_assert_str_eq(g_ptr_array_index(s->campaigns, 0), "bw-flood");
            ck_assert(!s->ongoing);
            ck_assert(s->baseline_per_hour > 0.0 && s->baseline_per_hour < 1.0);
        }
    }
}
END_TEST

START_TEST(test_ramp_alarms)
{
    /* 5 to 8 reports an hour over two days, never a big hour */
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    add_items(items, T0, 1, BW_CLASS_BACKSCATTER, "bw-drip");
    gint64 r0 = T0 + 60 * 24 * HOUR;
    for (int h = 0; h < 48; h++)
        add_items(items, r0 + h * HOUR, 5 + h % 4, BW_CLASS_BACKSCATTER, "bw-ramp");
    g_autoptr(GPtrArray) surges = NULL;
    ck_assert_int_eq(bw_surges_detect(items, r0 + 80 * 24 * HOUR, NULL, &surges), BW_OK);
    ck_assert_uint_ge(surges_overlapping(surges, r0, r0 + 48 * HOUR), 1);
    /* a slow drip of 2 an hour for a day, under the per-hour minimum */
    g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    add_items(slow, T0, 1, BW_CLASS_BACKSCATTER, "bw-x");
    for (int h = 0; h < 24; h++)
        add_items(slow, r0 + h * HOUR, 2, BW_CLASS_BACKSCATTER, "bw-slow");
    g_autoptr(GPtrArray) s2 = NULL;
    ck_assert_int_eq(bw_surges_detect(slow, r0 + 80 * 24 * HOUR, NULL, &s2), BW_OK);
    ck_assert_uint_ge(surges_overlapping(s2, r0, r0 + 24 * HOUR), 1);
}
END_TEST

START_TEST(test_legitimate_bounces_do_not_count)
{
    /* a newsletter: 60 real bounces in an hour, and earlier mailings */
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    for (int m = 0; m < 4; m++)
        add_items(items, T0 + m * 30 * 24 * HOUR, m == 3 ? 60 : 25, BW_CLASS_LEGITIMATE, NULL);
    add_items(items, T0 + 5 * HOUR, 3, BW_CLASS_UNDETERMINED, NULL);
    g_autoptr(GPtrArray) surges = NULL;
    ck_assert_int_eq(bw_surges_detect(items, T0 + 200 * 24 * HOUR, NULL, &surges), BW_OK);
    ck_assert_uint_eq(surges->len, 0);
    /* empty input, and reports after "now" are not counted */
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    g_autoptr(GPtrArray) s2 = NULL;
    ck_assert_int_eq(bw_surges_detect(none, T0, NULL, &s2), BW_OK);
    ck_assert_uint_eq(s2->len, 0);
}
END_TEST

START_TEST(test_ongoing)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    add_items(items, T0, 1, BW_CLASS_BACKSCATTER, "bw-a");
    gint64 now = T0 + 30 * 24 * HOUR;
    add_items(items, now - HOUR + 60, 40, BW_CLASS_BACKSCATTER, "bw-b");
    g_autoptr(GPtrArray) surges = NULL;
    ck_assert_int_eq(bw_surges_detect(items, now, NULL, &surges), BW_OK);
    ck_assert_uint_eq(surges->len, 1);
    ck_assert(((bw_surge_t *)g_ptr_array_index(surges, 0))->ongoing);
}
END_TEST

/* Issue 11: one campaign's tail (a trickle, then 5 reports in an hour the
 * next day) was a surge of its own; it continues the flood.  Another
 * campaign, or the same one back after days of silence, is a new surge. */
static GPtrArray *
flood_and_tail(const char *tail_campaign, gint64 tail_at)
{
    GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    add_items(items, T0, 1, BW_CLASS_BACKSCATTER, "bw-old");
    gint64 f0 = T0 + 30 * 24 * HOUR;
    for (int h = 0; h < 8; h++)
        add_items(items, f0 + h * HOUR, 40 - 4 * h, BW_CLASS_BACKSCATTER, "bw-flood");
    if (strcmp(tail_campaign, "bw-flood") == 0 && tail_at - f0 < 48 * HOUR)
        for (int h = 13; f0 + h * HOUR < tail_at - 3 * HOUR; h += 4)
            add_items(items, f0 + h * HOUR, 1, BW_CLASS_BACKSCATTER, "bw-flood");
    add_items(items, tail_at, 5, BW_CLASS_BACKSCATTER, tail_campaign);
    return items;
}

START_TEST(test_tail_continues_surge)
{
    gint64 f0 = T0 + 30 * 24 * HOUR;
    gint64 now = f0 + 20 * 24 * HOUR;
    g_autoptr(GPtrArray) items = flood_and_tail("bw-flood", f0 + 31 * HOUR);
    g_autoptr(GPtrArray) surges = NULL;
    ck_assert_int_eq(bw_surges_detect(items, now, NULL, &surges), BW_OK);
    ck_assert_uint_eq(surges->len, 1);
    bw_surge_t *s = g_ptr_array_index(surges, 0);
    ck_assert_int_eq(s->start, f0);
    ck_assert_int_ge(s->end, f0 + 31 * HOUR);
    /* the flood, the trickle between and the tail */
    unsigned all = 0;
    for (guint i = 0; i < items->len; i++)
        all += ((bw_item_t *)g_ptr_array_index(items, i))->date_unix >= f0;
    ck_assert_uint_eq(s->count, all);
    ck_assert_uint_eq(s->campaigns->len, 1);

    /* the same, still arriving now: the flood's surge is ongoing (one alert,
     * updated) */
    g_autoptr(GPtrArray) s2 = NULL;
    ck_assert_int_eq(bw_surges_detect(items, f0 + 31 * HOUR + 1800, NULL, &s2), BW_OK);
    ck_assert_uint_eq(s2->len, 1);
    ck_assert(((bw_surge_t *)g_ptr_array_index(s2, 0))->ongoing);
    ck_assert_int_eq(((bw_surge_t *)g_ptr_array_index(s2, 0))->start, f0);
}
END_TEST

START_TEST(test_other_campaign_or_new_wave_is_new_surge)
{
    gint64 f0 = T0 + 30 * 24 * HOUR;
    gint64 now = f0 + 20 * 24 * HOUR;
    /* another campaign a day later */
    g_autoptr(GPtrArray) other = flood_and_tail("bw-other", f0 + 31 * HOUR);
    g_autoptr(GPtrArray) s1 = NULL;
    ck_assert_int_eq(bw_surges_detect(other, now, NULL, &s1), BW_OK);
    ck_assert_uint_eq(s1->len, 2);
    /* the same campaign back after six silent days */
    g_autoptr(GPtrArray) later = flood_and_tail("bw-flood", f0 + 6 * 24 * HOUR);
    g_autoptr(GPtrArray) s2 = NULL;
    ck_assert_int_eq(bw_surges_detect(later, now, NULL, &s2), BW_OK);
    ck_assert_uint_eq(s2->len, 2);
    /* a bigger wave of the same campaign a day later is a wave of its own */
    g_autoptr(GPtrArray) wave = flood_and_tail("bw-flood", f0 + 31 * HOUR);
    add_items(wave, f0 + 32 * HOUR, 400, BW_CLASS_BACKSCATTER, "bw-flood");
    g_autoptr(GPtrArray) s3 = NULL;
    ck_assert_int_eq(bw_surges_detect(wave, now, NULL, &s3), BW_OK);
    ck_assert_uint_eq(s3->len, 2);
}
END_TEST

/* The same surges, but for `ongoing`, which may only have turned false. */
static void
assert_same_surges(GPtrArray *a, GPtrArray *b)
{
    ck_assert_uint_eq(a->len, b->len);
    for (guint i = 0; i < a->len; i++) {
        const bw_surge_t *x = g_ptr_array_index(a, i), *y = g_ptr_array_index(b, i);
        ck_assert_int_eq(x->start, y->start);
        ck_assert_int_eq(x->end, y->end);
        ck_assert_uint_eq(x->count, y->count);
        ck_assert(x->baseline_per_hour == y->baseline_per_hour);
        ck_assert_str_eq(x->detector, y->detector);
        ck_assert_uint_eq(x->campaigns->len, y->campaigns->len);
        for (guint j = 0; j < x->campaigns->len; j++)
            ck_assert_str_eq(g_ptr_array_index(x->campaigns, j),
                             g_ptr_array_index(y->campaigns, j));
        ck_assert(x->ongoing || !y->ongoing);
    }
}

/* What the hook's early stop rests on (scan-read.c, bw_scan_settled): up to
 * bw_surges_same_until a later "now" changes no surge but its `ongoing`.
 * Random histories with a background above the baseline floor (so the
 * CUSUM's quiet rate counts the hours), floods ending near "now", and
 * reports dated in the minutes after it. */
START_TEST(test_same_until)
{
    GRand *r = g_rand_new_with_seed(20000);
    for (int round = 0; round < 12; round++) {
        GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
        double rate = round % 3 == 0 ? 0.01 : 0.2 + 0.1 * (round % 4);
        for (gint64 h = 0; h < 60 * 24; h++) {
            unsigned n = poisson_draw(r, rate);
            if (n)
                add_items(items, T0 + h * HOUR + g_rand_int_range(r, 0, HOUR / 2), n,
                          BW_CLASS_BACKSCATTER, "bw-00000001");
        }
        gint64 now = T0 + 60 * 24 * HOUR + g_rand_int_range(r, 0, HOUR);
        add_items(items, now - g_rand_int_range(r, 0, 3 * HOUR), 30 + round * 7,
                  BW_CLASS_BACKSCATTER, round % 2 ? "bw-flood" : "bw-00000001");
        if (round % 4 == 1)
            add_items(items, now + 600, 20, BW_CLASS_BACKSCATTER, "bw-late");
        gint64 until = bw_surges_same_until(items, now);
        ck_assert_int_ge(until, now);
        ck_assert_int_le(until, (now / HOUR + 1) * HOUR - 1);
        if (round % 4 == 1)
            ck_assert_int_le(until, now + 599);
        g_autoptr(GPtrArray) at_now = NULL;
        ck_assert_int_eq(bw_surges_detect(items, now, NULL, &at_now), BW_OK);
        for (gint64 t = now; t <= until; t += 97) {
            g_autoptr(GPtrArray) later = NULL;
            ck_assert_int_eq(bw_surges_detect(items, t, NULL, &later), BW_OK);
            assert_same_surges(at_now, later);
        }
        g_autoptr(GPtrArray) last = NULL;
        ck_assert_int_eq(bw_surges_detect(items, until, NULL, &last), BW_OK);
        assert_same_surges(at_now, last);
        g_ptr_array_unref(items);
    }
    g_rand_free(r);
}
END_TEST

Suite *
suite_surge(void)
{
    Suite *s = suite_create("surge");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_poisson_tail);
    tcase_add_test(tc, test_cusum_false_alarm_rate);
    tcase_add_test(tc, test_cusum_cache_exact);
    tcase_add_test(tc, test_quiet_year_no_alarm);
    tcase_add_test(tc, test_flood_alarms);
    tcase_add_test(tc, test_ramp_alarms);
    tcase_add_test(tc, test_legitimate_bounces_do_not_count);
    tcase_add_test(tc, test_ongoing);
    tcase_add_test(tc, test_tail_continues_surge);
    tcase_add_test(tc, test_other_campaign_or_new_wave_is_new_surge);
    tcase_add_test(tc, test_same_until);
    suite_add_tcase(s, tc);
    return s;
}
