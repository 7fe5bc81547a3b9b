/* surge.c: hours in which backscatter arrives far above this mailbox's own
 * baseline.
 *
 * Counts are small (most hours hold no backscatter at all), so tests built
 * on normal approximations or on the median absolute deviation (zero on an
 * all-zero series) do not work.  Two detectors run on the hourly counts x_t
 * of BACKSCATTER reports (legitimate bounces never count: a newsletter's
 * sixty real bounces in an hour are not a surge):
 *
 * 1. Exact Poisson upper tail, per hour and per sliding 6-hour window,
 *    against the baseline rate lambda0 (reports per hour over the previous
 *    `baseline_days`, hours already alarmed left out, floored at
 *    `baseline_floor`):
 *        p = P(X >= x | lambda0) = sum_{i >= x} e^-l l^i / i!
 *    An hour alarms when x >= min_count and p < alpha_per_day / 48
 *    (Bonferroni over the 24 one-hour and 24 six-hour tests of a day), so
 *    that a mailbox at its baseline sees about alpha_per_day * 365 false
 *    alarms a year (one, with the default 1/365).  The minimum count keeps
 *    a near-zero baseline from turning three reports into a surge
 *    (20 vs lambda = 0.1 gives p ~ 1e-39: significance alone means little
 *    there).
 *
 * 2. Poisson CUSUM (Lucas 1985) for slow drips and ramps that never make
 *    one hour stand out:
 *        S_t = max(0, S_{t-1} + x_t - k),   alarm when S_t >= h,
 *        k = (lambda1 - lambda0) / ln(lambda1 / lambda0),
 *    tuned to detect a shift to lambda1 = max(3 lambda0, lambda0 + 1.5)
 *    per hour.  h is chosen so that the in-control average run length
 *    ARL0 = 8760 hours (one false alarm a year): the ARL is computed with
 *    the Markov-chain approximation of Brook & Evans (1972) over a grid on
 *    [0, h), and h found by bisection (check_surge.c simulates 30 years to
 *    confirm the rate).  lambda0 is the quiet rate of the whole history
 *    (hours the Poisson test alarmed left out).  After a signal the sum
 *    restarts at 0, and the hours of the excursion that crossed h (from
 *    the last time S was 0) are alarmed, provided they hold min_count
 *    reports.
 *
 * Alarmed hours less than three hours apart merge into one surge.  A surge
 * that continues an earlier one of the same campaign is the same surge (see
 * continues() below): backscatter of one spam run keeps trickling in for a
 * day or two as receivers retry and give up, and a few of those late
 * reports arriving together must not be reported (and alerted) as a new
 * surge. */
#include "bw-engine.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define HOUR 3600
#define MAX_HOURS (5 * 366 * 24)   /* the series covers at most five years */
#define ARL_GRID 120
#define MERGE_GAP 3                 /* hours */
/* The longest pause in a campaign's reports that still continues its
 * surge: servers retry for up to five days, but their reports of one run
 * come most within a day or two; a campaign silent for longer that comes
 * back is a new wave. */
#define CONTINUATION_PAUSE (48 * HOUR)

void
bw_surge_config_default(bw_surge_config_t *cfg)
{
    cfg->alpha_per_day = 1.0 / 365.0;
    cfg->min_count = 5;
    cfg->baseline_floor = 0.05;
    cfg->baseline_days = 28;
}

/* log P(X = x | l) */
static double
log_pois(unsigned x, double l)
{
    return -l + x * log(l) - lgamma((double)x + 1.0);
}

/* P(X >= x | l), accurate for tiny tails (summed in log space from x up). */

double
bw_poisson_upper_tail(unsigned x, double l)
{
    if (x == 0)
        return 1.0;
    if (l <= 0.0)
        return 0.0;
    if ((double)x <= l) {
        /* the bulk: 1 - P(X < x) */
        double s = 0.0;
        for (unsigned i = 0; i < x; i++)
            s += exp(log_pois(i, l));
        return s >= 1.0 ? 0.0 : 1.0 - s;
    }
    double t = exp(log_pois(x, l));
    double s = t;
    for (unsigned i = x + 1; i < x + 2000; i++) {
        t *= l / (double)i;
        s += t;
        if (t < s * 1e-15)
            break;
    }
    return MIN(s, 1.0);
}

/* Average run length of the Poisson CUSUM (k, h) at rate l, by the
 * Brook-Evans Markov chain on ARL_GRID states. */
static double
cusum_arl(double l, double k, double h)
{
    const int n = ARL_GRID;
    double delta = h / n;
    /* (I - P) a = 1, P the transitions among the transient states */
    double *m = g_new0(double, (size_t)n * (n + 1));
    unsigned xmax = (unsigned)(l + 12.0 * sqrt(l) + h + 20.0);
    double *px = g_new(double, xmax + 1);
    for (unsigned x = 0; x <= xmax; x++)
        px[x] = exp(log_pois(x, l));
    for (int i = 0; i < n; i++) {
        double s = (i + 0.5) * delta;
        if (i == 0)
            s = 0.0;
        double *row = m + (size_t)i * (n + 1);
        row[i] += 1.0;
        for (unsigned x = 0; x <= xmax; x++) {
            double s2 = s + x - k;
            if (s2 >= h)
                continue;   /* absorbed: alarm */
            int j = s2 <= 0.0 ? 0 : (int)(s2 / delta);
            if (j >= n)
                continue;
            row[j] -= px[x];
        }
        row[n] = 1.0;
    }
    /* Gaussian elimination with partial pivoting */
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(m[(size_t)r * (n + 1) + c]) > fabs(m[(size_t)piv * (n + 1) + c]))
                piv = r;
        if (piv != c)
            for (int q = 0; q <= n; q++) {
                double t = m[(size_t)c * (n + 1) + q];
                m[(size_t)c * (n + 1) + q] = m[(size_t)piv * (n + 1) + q];
                m[(size_t)piv * (n + 1) + q] = t;
            }
        double d = m[(size_t)c * (n + 1) + c];
        if (fabs(d) < 1e-300) {
            g_free(m);
            g_free(px);
            return INFINITY;
        }
        for (int r = c + 1; r < n; r++) {
            double f = m[(size_t)r * (n + 1) + c] / d;
            if (f == 0.0)
                continue;
            for (int q = c; q <= n; q++)
                m[(size_t)r * (n + 1) + q] -= f * m[(size_t)c * (n + 1) + q];
        }
    }
    double *a = g_new0(double, n);
    for (int r = n - 1; r >= 0; r--) {
        double s = m[(size_t)r * (n + 1) + n];
        for (int q = r + 1; q < n; q++)
            s -= m[(size_t)r * (n + 1) + q] * a[q];
        a[r] = s / m[(size_t)r * (n + 1) + r];
    }
    double arl = a[0];
    g_free(a);
    g_free(m);
    g_free(px);
    return arl;
}

/* The decision interval h giving ARL0 >= target at rate l0.
 *
 * The bisection solves ~33 dense 120x120 systems (tens of millions of
 * instructions): most of a `hook post-new` run with nothing new, which
 * asks again for the same h as the run before.  So answers are memoised,
 * keyed by the exact bits of the inputs (a hit returns exactly what the
 * computation would: no result changes), in memory and in a small file
 * under $XDG_CACHE_HOME/bouncewatch/ shared by the short-lived runs.  The
 * file is only a cache: unreadable, malformed or implausible lines are
 * ignored and recomputed; it keeps the last CUSUM_CACHE_MAX answers. */

#define CUSUM_CACHE_MAX 16
#define CUSUM_CACHE_FILE "cusum-h-v1"   /* bump with ARL_GRID or the method */

typedef struct {
    guint64 l0, k, target, h;   /* IEEE-754 bits */
} cusum_entry_t;

static GMutex cusum_lock;
static cusum_entry_t cusum_mem[CUSUM_CACHE_MAX];
static guint cusum_mem_n;         /* entries in use */
static guint cusum_mem_next;      /* ring position for the next insert */
static char *cusum_path;          /* NULL: default location */
static gboolean cusum_path_set;   /* bw_cusum_cache_set_path() was called */

static guint64
dbl_bits(double d)
{
    guint64 u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double
bits_dbl(guint64 u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

void
bw_cusum_cache_set_path(const char *path)
{
    g_mutex_lock(&cusum_lock);
    g_free(cusum_path);
    cusum_path = g_strdup(path);
    cusum_path_set = TRUE;
    cusum_mem_n = 0;
    cusum_mem_next = 0;
    g_mutex_unlock(&cusum_lock);
}

/* the file in use (g_free) or NULL when the file cache is off */
static char *
cusum_file(void)
{
    if (cusum_path_set)
        return g_strdup(cusum_path);
    return g_build_filename(g_get_user_cache_dir(), "bouncewatch", CUSUM_CACHE_FILE, NULL);
}

static gboolean
cusum_mem_find(guint64 l0, guint64 k, guint64 t, double *h)
{
    for (guint i = 0; i < cusum_mem_n; i++)
        if (cusum_mem[i].l0 == l0 && cusum_mem[i].k == k && cusum_mem[i].target == t) {
            *h = bits_dbl(cusum_mem[i].h);
            return TRUE;
        }
    return FALSE;
}

static void
cusum_mem_add(guint64 l0, guint64 k, guint64 t, guint64 h)
{
    double dummy;
    if (cusum_mem_find(l0, k, t, &dummy))
        return;
    cusum_mem[cusum_mem_next] = (cusum_entry_t){ l0, k, t, h };
    cusum_mem_next = (cusum_mem_next + 1) % CUSUM_CACHE_MAX;
    if (cusum_mem_n < CUSUM_CACHE_MAX)
        cusum_mem_n++;
}

/* Lines "l0 k target h" of 16-digit hex bits; at most CUSUM_CACHE_MAX read.
 * An h is accepted only where the search could have produced it. */
static void
cusum_file_load(const char *file)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(file, &text, &len, NULL) || len > 64 * 1024)
        return;
    g_auto(GStrv) lines = g_strsplit(text, "\n", CUSUM_CACHE_MAX + 1);
    for (guint i = 0; lines[i] != NULL && i < CUSUM_CACHE_MAX; i++) {
        guint64 v[4];
        int used = 0;
        if (sscanf(lines[i], "%16" G_GINT64_MODIFIER "x %16" G_GINT64_MODIFIER "x %16"
                   G_GINT64_MODIFIER "x %16" G_GINT64_MODIFIER "x%n",
                   &v[0], &v[1], &v[2], &v[3], &used) != 4 || lines[i][used] != '\0')
            continue;
        double h = bits_dbl(v[3]);
        if (!isfinite(h) || h < 0.5 || h > 256.0)
            continue;
        cusum_mem_add(v[0], v[1], v[2], v[3]);
    }
}

/* Rewrites the file from memory (atomic replace; a concurrent run's write
 * may win, which loses at most a cache entry). */
static void
cusum_file_save(const char *file)
{
    g_autofree char *dir = g_path_get_dirname(file);
    if (g_mkdir_with_parents(dir, 0700) != 0)
        return;
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < cusum_mem_n; i++)
        g_string_append_printf(out, "%016" G_GINT64_MODIFIER "x %016" G_GINT64_MODIFIER "x %016"
                               G_GINT64_MODIFIER "x %016" G_GINT64_MODIFIER "x\n",
                               cusum_mem[i].l0, cusum_mem[i].k, cusum_mem[i].target, cusum_mem[i].h);
    (void)g_file_set_contents_full(file, out->str, (gssize)out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
    g_string_free(out, TRUE);
}

static double
cusum_threshold_compute(double l0, double k, double target_arl)
{
    double lo = 0.5, hi = 1.0;
    while (cusum_arl(l0, k, hi) < target_arl && hi < 200.0)
        hi *= 2.0;
    for (int it = 0; it < 30; it++) {
        double mid = 0.5 * (lo + hi);
        if (cusum_arl(l0, k, mid) < target_arl)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

double
bw_cusum_threshold(double l0, double k, double target_arl)
{
    guint64 bl = dbl_bits(l0), bk = dbl_bits(k), bt = dbl_bits(target_arl);
    double h;
    g_mutex_lock(&cusum_lock);
    if (cusum_mem_find(bl, bk, bt, &h)) {
        g_mutex_unlock(&cusum_lock);
        return h;
    }
    g_autofree char *file = cusum_file();
    if (file != NULL) {
        cusum_file_load(file);
        if (cusum_mem_find(bl, bk, bt, &h)) {
            g_mutex_unlock(&cusum_lock);
            return h;
        }
    }
    g_mutex_unlock(&cusum_lock);
    /* computed unlocked: a pure function, a racing thread at worst
     * computes the same value twice */
    h = cusum_threshold_compute(l0, k, target_arl);
    g_mutex_lock(&cusum_lock);
    cusum_mem_add(bl, bk, bt, dbl_bits(h));
    if (file != NULL)
        cusum_file_save(file);
    g_mutex_unlock(&cusum_lock);
    return h;
}

static gint
cmp_count_desc(gconstpointer a, gconstpointer b, gpointer counts)
{
    guint ca = GPOINTER_TO_UINT(g_hash_table_lookup(counts, *(const char *const *)a));
    guint cb = GPOINTER_TO_UINT(g_hash_table_lookup(counts, *(const char *const *)b));
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Count the backscatter in the surge's window and list its campaigns,
 * largest first. */
static void
fill_surge(bw_surge_t *sg, GPtrArray *items)
{
    sg->count = 0;
    if (sg->campaigns != NULL)
        g_ptr_array_unref(sg->campaigns);
    sg->campaigns = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) cc = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass != BW_CLASS_BACKSCATTER || it->date_unix < sg->start || it->date_unix > sg->end)
            continue;
        sg->count++;
        if (it->campaign) {
            gpointer old = g_hash_table_lookup(cc, it->campaign);
            if (old == NULL)
                g_ptr_array_add(sg->campaigns, g_strdup(it->campaign));
            g_hash_table_replace(cc, g_strdup(it->campaign), GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
        }
    }
    g_ptr_array_sort_with_data(sg->campaigns, cmp_count_desc, cc);
}

static gint
cmp_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* `cur` continues `prev`: the campaign holding most of cur's reports is one
 * of prev's, most of cur's reports belong to prev's campaigns, cur is no
 * larger than prev (a tail, not a new and bigger wave), and that campaign's
 * reports never paused for more than CONTINUATION_PAUSE from prev's start
 * to cur's end. */
static bool
continues(const bw_surge_t *prev, const bw_surge_t *cur, GPtrArray *items)
{
    if (cur->campaigns->len == 0 || prev->campaigns->len == 0 || cur->count > prev->count)
        return false;
    const char *main = g_ptr_array_index(cur->campaigns, 0);
    bool shared = false;
    for (guint j = 0; j < prev->campaigns->len && !shared; j++)
        shared = strcmp(g_ptr_array_index(prev->campaigns, j), main) == 0;
    if (!shared)
        return false;
    unsigned in_prev_campaigns = 0;
    g_autoptr(GArray) dates = g_array_new(FALSE, FALSE, sizeof(gint64));
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass != BW_CLASS_BACKSCATTER || it->campaign == NULL ||
            it->date_unix < prev->start || it->date_unix > cur->end)
            continue;
        if (it->date_unix >= cur->start) {
            for (guint j = 0; j < prev->campaigns->len; j++)
                if (strcmp(g_ptr_array_index(prev->campaigns, j), it->campaign) == 0) {
                    in_prev_campaigns++;
                    break;
                }
        }
        if (strcmp(it->campaign, main) == 0)
            g_array_append_val(dates, it->date_unix);
    }
    if (in_prev_campaigns * 2 < cur->count || dates->len < 2)
        return false;
    g_array_sort(dates, cmp_gint64);
    for (guint i = 1; i < dates->len; i++)
        if (g_array_index(dates, gint64, i) - g_array_index(dates, gint64, i - 1) > CONTINUATION_PAUSE)
            return false;
    return true;
}

bw_status_t
bw_surges_detect(GPtrArray *items, gint64 now, const bw_surge_config_t *cfg, GPtrArray **out)
{
    if (items == NULL || out == NULL)
        return BW_E_INVALID;
    bw_surge_config_t def;
    if (cfg == NULL) {
        bw_surge_config_default(&def);
        cfg = &def;
    }
    GPtrArray *res = g_ptr_array_new_with_free_func((GDestroyNotify)bw_surge_free);
    *out = res;

    gint64 now_h = now / HOUR;
    gint64 first_h = G_MAXINT64;
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass != BW_CLASS_BACKSCATTER || it->date_unix <= 0 || it->date_unix > now)
            continue;
        first_h = MIN(first_h, it->date_unix / HOUR);
    }
    if (first_h == G_MAXINT64)
        return BW_OK;
    if (now_h - first_h + 1 > MAX_HOURS)
        first_h = now_h - MAX_HOURS + 1;
    gsize nh = (gsize)(now_h - first_h + 1);
    guint *x = g_new0(guint, nh);
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass != BW_CLASS_BACKSCATTER || it->date_unix <= 0 || it->date_unix > now)
            continue;
        gint64 h = it->date_unix / HOUR;
        if (h >= first_h)
            x[h - first_h]++;
    }

    double alpha_test = cfg->alpha_per_day / 48.0;
    double floor = cfg->baseline_floor > 0 ? cfg->baseline_floor : 0.05;
    gsize win = (gsize)MAX(cfg->baseline_days, 1u) * 24;
    guint8 *alarm = g_new0(guint8, nh);     /* 1 poisson, 2 cusum */
    guint8 *counted = g_new0(guint8, nh);   /* in the baseline window sum */
    double *base = g_new(double, nh);

    /* 1. Poisson, with a trailing baseline that leaves alarmed hours out */
    double wsum = 0.0;
    gsize wn = 0;
    guint sum6 = 0;
    for (gsize t = 0; t < nh; t++) {
        double l0 = wn >= 24 ? MAX(floor, wsum / (double)wn) : floor;
        /* a young history says little: do not trust a low rate learned
         * from a few days more than the floor */
        base[t] = l0;
        sum6 += x[t];
        if (t >= 6)
            sum6 -= x[t - 6];
        bool a1 = x[t] >= cfg->min_count && bw_poisson_upper_tail(x[t], l0) < alpha_test;
        bool a6 = sum6 >= cfg->min_count * 2 && bw_poisson_upper_tail(sum6, 6.0 * l0) < alpha_test;
        if (a1)
            alarm[t] |= 1;
        if (a6 && !a1) {
            /* mark the busy hours of the window */
            for (gsize q = t >= 5 ? t - 5 : 0; q <= t; q++)
                if (x[q] > 0)
                    alarm[q] |= 1;
        }
        if (!alarm[t]) {
            wsum += x[t];
            wn++;
            counted[t] = 1;
        }
        /* slide: drop the hour leaving the window (if it was counted) */
        if (t >= win && counted[t - win]) {
            wsum -= x[t - win];
            wn--;
        }
    }

    /* 2. CUSUM at the mailbox's overall quiet rate */
    double qsum = 0.0;
    gsize qn = 0;
    for (gsize t = 0; t < nh; t++)
        if (!alarm[t]) {
            qsum += x[t];
            qn++;
        }
    double l0 = MAX(floor, qn ? qsum / (double)qn : floor);
    double l1 = MAX(3.0 * l0, l0 + 1.5);
    double k = (l1 - l0) / log(l1 / l0);
    double hthr = bw_cusum_threshold(l0, k, 8760.0);
    double s = 0.0;
    gsize exc_start = 0;
    guint exc_count = 0;
    for (gsize t = 0; t < nh; t++) {
        if (s <= 0.0) {
            exc_start = t;
            exc_count = 0;
        }
        s = MAX(0.0, s + x[t] - k);
        exc_count += x[t];
        if (s >= hthr && exc_count >= cfg->min_count) {
            /* the excursion that crossed h, from its start to here; then
             * restart, as after any signal, so that the tail of a surge
             * does not keep single reports alarmed */
            for (gsize q = exc_start; q <= t; q++)
                if (x[q] > 0)
                    alarm[q] |= 2;
            s = 0.0;
        }
    }

    /* 3. merge alarmed hours into surges */
    gsize t = 0;
    while (t < nh) {
        if (!alarm[t]) {
            t++;
            continue;
        }
        gsize a = t, b = t;
        guint8 det = alarm[t];
        gsize q = t + 1;
        while (q < nh && q <= b + MERGE_GAP) {
            if (alarm[q]) {
                b = q;
                det |= alarm[q];
            }
            q++;
        }
        bw_surge_t *sg = g_new0(bw_surge_t, 1);
        sg->start = (first_h + (gint64)a) * HOUR;
        sg->end = (first_h + (gint64)b + 1) * HOUR - 1;
        sg->baseline_per_hour = base[a];
        sg->ongoing = sg->end >= now - HOUR;
        sg->detector = g_strdup((det & 1) && (det & 2) ? "poisson+cusum" : (det & 1) ? "poisson" : "cusum");
        fill_surge(sg, items);
        /* 4. the tail of the surge before, of the same campaign */
        bw_surge_t *prev = res->len ? g_ptr_array_index(res, res->len - 1) : NULL;
        if (prev != NULL && continues(prev, sg, items)) {
            prev->end = sg->end;
            prev->ongoing = sg->ongoing;
            if (strcmp(prev->detector, sg->detector) != 0) {
                g_free(prev->detector);
                prev->detector = g_strdup("poisson+cusum");
            }
            fill_surge(prev, items);   /* the reports between the two belong to it */
            bw_surge_free(sg);
        } else {
            g_ptr_array_add(res, sg);
        }
        t = b + 1;
    }
    g_free(x);
    g_free(alarm);
    g_free(counted);
    g_free(base);
    return BW_OK;
}

/* bw_surges_detect() reads `now` in three places only: the reports it
 * counts (dated at most now), the hours of the series (up to now's hour,
 * at most MAX_HOURS of them: both fixed within one hour) and `ongoing`
 * (end >= now - HOUR, which a later now can only make false).  Everything
 * else (the Poisson baselines, the CUSUM's quiet rate over the series'
 * hours, the merging and the continuations) is a function of the series
 * and the items. */
gint64
bw_surges_same_until(GPtrArray *items, gint64 now)
{
    gint64 until = (now / HOUR + 1) * HOUR - 1;
    if (now < 0)
        return now;   /* not a date this detector sees; no promise */
    for (guint i = 0; items != NULL && i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass == BW_CLASS_BACKSCATTER && it->date_unix > now && it->date_unix <= until)
            until = it->date_unix - 1;
    }
    return until;
}
