/* campaign.c: group backscatter into the spam runs that caused it.
 *
 * Everything is union-find and hash probes over blocking keys, linear in
 * the number of reports (30k reports group in well under a second).
 *
 * 1. Strong keys, things one run shares and other runs almost never do:
 *    the URL domains of the forged body, the domain of a forged From that
 *    is not the owner's (envelope-only forgery names a spam domain there),
 *    the first external sending network (/24).  Reports sharing one join.
 * 2. Weak keys: the masked subject template, the template with one token
 *    left out (a name part the masking missed, a random first name), and
 *    the body's SimHash.
 *    Themes recur across runs, so components that carry their own domains
 *    join through a template only when nothing contradicts it: their domain
 *    sets overlap or their arrival spans overlap (a run rotates its link
 *    domains within its own time), and their origins (own-account/foreign)
 *    agree.
 * 3. Components without domains of their own (headers only) and reports
 *    with only a subject go, as a unit, to the component that has their
 *    template and is busiest around their arrival time (same origin first).
 * 4. Reports that carry nothing of the original (the recipient only) join
 *    the component busiest around their arrival; with no campaign anywhere
 *    they form one group of envelope-only forgery.
 * Undetermined reports that share a key with backscatter, or that lean
 * towards backscatter and arrive inside a burst of one campaign, are
 * promoted to backscatter: the campaign-level evidence a mailbox without
 * Sent copies needs.
 *
 * Ids: "bw-" + 8 hex digits of the keyed hash of the earliest member's
 * Message-ID, unless the group shares members with a previous campaign: then
 * it keeps that campaign's id (greatest overlap first), so ids survive
 * rescans, incremental runs and growth.  Input order does not matter: the
 * reports are sorted by arrival and Message-ID first. */
#include "bw-engine.h"
#include <string.h>

#define MAX_SAMPLES   5
#define MAX_SENDERS   10
#define MAX_REPORTERS 10
/* A report looks for its campaign among the members arriving within these
 * distances (the busiest wins: bursts that run at the same time); beyond
 * them, the campaign with the nearest member wins (a drip report two days
 * from the last drip report belongs to the drip, not to a burst a week
 * away, however big). */
static const gint64 attach_windows[] = { 3600, 6 * 3600 };
/* A burst: this many members of one campaign within PROMOTE_WINDOW. */
#define PROMOTE_MIN     5
#define PROMOTE_WINDOW  (2 * 3600)
/* Runs with other link domains merge when their arrival spans, padded by
 * SPAN_PAD, overlap by this share of the longer one. */
#define SPAN_PAD          (2 * 3600)
#define MIN_SPAN_OVERLAP  0.10
/* "leaning towards backscatter": some evidence for, none against */
#define LEAN_BACKSCATTER 0.6
/* ... and "leaning towards the owner's mail": more evidence against */
#define LEAN_LEGITIMATE  0.35

/* (with their lengths: url_stopped compares only names of the same length) */
#define STOP(s) { s, sizeof s - 1 }
static const struct { const char *s; size_t n; } url_stoplist[] = {
    STOP("bit.ly"), STOP("t.co"), STOP("goo.gl"), STOP("tinyurl.com"), STOP("ow.ly"),
    STOP("google.com"), STOP("www.google.com"), STOP("w3.org"), STOP("www.w3.org"),
    STOP("schemas.microsoft.com"), STOP("youtube.com"), STOP("www.youtube.com"),
    STOP("facebook.com"), STOP("www.facebook.com"), STOP("twitter.com"), STOP("x.com"),
    STOP("linkedin.com"), STOP("www.linkedin.com"), STOP("instagram.com"), STOP("apple.com"),
    STOP("microsoft.com"),
};
#undef STOP

typedef struct {
    guint *parent;
    guint n;
} uf_t;

static guint
uf_find(uf_t *u, guint x)
{
    while (u->parent[x] != x) {
        u->parent[x] = u->parent[u->parent[x]];
        x = u->parent[x];
    }
    return x;
}

static void
uf_union(uf_t *u, guint a, guint b)
{
    a = uf_find(u, a);
    b = uf_find(u, b);
    if (a == b)
        return;
    /* the smaller index is the root: deterministic */
    if (a < b)
        u->parent[b] = a;
    else
        u->parent[a] = b;
}

/* The blocking keys' tables: 64-bit keys to pointers, open addressing.
 * A GHashTable cost a copy of each key and a call per hash and per
 * compare; these tables are only looked up, never walked, so their order
 * does not matter. */
typedef struct {
    guint64 *keys;
    gpointer *vals;
    guint8 *used;
    gsize cap, len;          /* cap: a power of two, at least twice len */
    GDestroyNotify free_val; /* or NULL */
} u64map_t;

static void
u64map_init(u64map_t *m, GDestroyNotify free_val)
{
    m->cap = 64;
    m->len = 0;
    m->keys = g_new(guint64, m->cap);
    m->vals = g_new(gpointer, m->cap);
    m->used = g_new0(guint8, m->cap);
    m->free_val = free_val;
}

static void
u64map_clear(u64map_t *m)
{
    for (gsize i = 0; m->free_val != NULL && i < m->cap; i++)
        if (m->used[i])
            m->free_val(m->vals[i]);
    g_free(m->keys);
    g_free(m->vals);
    g_free(m->used);
}

static gsize
u64map_slot(const u64map_t *m, guint64 key)
{
    guint64 h = key * 0x9E3779B97F4A7C15ull;
    gsize mask = m->cap - 1, i = (gsize)(h ^ (h >> 29)) & mask;
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

/* The value's place, or NULL when the key is not there. */
static gpointer *
u64map_lookup(const u64map_t *m, guint64 key)
{
    gsize i = u64map_slot(m, key);
    return m->used[i] ? &m->vals[i] : NULL;
}

/* Insert, or replace the value (freed) of a key that is there. */
static void
u64map_insert(u64map_t *m, guint64 key, gpointer val)
{
    if (2 * (m->len + 1) > m->cap) {
        u64map_t big = { g_new(guint64, 2 * m->cap), g_new(gpointer, 2 * m->cap),
                         g_new0(guint8, 2 * m->cap), 2 * m->cap, m->len, m->free_val };
        for (gsize i = 0; i < m->cap; i++) {
            if (!m->used[i])
                continue;
            gsize j = u64map_slot(&big, m->keys[i]);
            big.used[j] = 1;
            big.keys[j] = m->keys[i];
            big.vals[j] = m->vals[i];
        }
        g_free(m->keys);
        g_free(m->vals);
        g_free(m->used);
        *m = big;
    }
    gsize i = u64map_slot(m, key);
    if (m->used[i]) {
        if (m->free_val != NULL)
            m->free_val(m->vals[i]);
    } else {
        m->used[i] = 1;
        m->keys[i] = key;
        m->len++;
    }
    m->vals[i] = val;
}

/* Register key for item i; union with the first item that had it. */
static void
key_add(u64map_t *keys, uf_t *u, guint64 key, guint i)
{
    if (key == 0)
        return;
    gpointer *first = u64map_lookup(keys, key);
    if (first != NULL)
        uf_union(u, GPOINTER_TO_UINT(*first), i);
    else
        u64map_insert(keys, key, GUINT_TO_POINTER(i));
}

static guint
key_lookup(const u64map_t *keys, guint64 key, bool *found)
{
    gpointer *first = key != 0 ? u64map_lookup(keys, key) : NULL;
    *found = first != NULL;
    return first != NULL ? GPOINTER_TO_UINT(*first) : 0;
}

static guint
hash64(gconstpointer k)
{
    guint64 v = *(const guint64 *)k;
    return (guint)(v ^ (v >> 32));
}

static gboolean
equal64(gconstpointer a, gconstpointer b)
{
    return *(const guint64 *)a == *(const guint64 *)b;
}

static bool
url_stopped(const char *d)
{
    /* (names of another length cannot be equal: no comparison for them) */
    size_t n = strlen(d);
    for (size_t i = 0; i < G_N_ELEMENTS(url_stoplist); i++)
        if (url_stoplist[i].n == n && g_ascii_strcasecmp(d, url_stoplist[i].s) == 0)
            return true;
    return false;
}

/* The characters of t[0..len) that are not spaces or mask marks. */
static size_t
content_len(const char *t, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] != ' ' && t[i] != '#' && t[i] != '*')
            n++;
    return n;
}

static bool
generic_host(const char *h)
{
    /* names that many unrelated senders share: no evidence of one run */
#define COMMON(s) { s, sizeof s - 1 }
    static const struct { const char *s; size_t n; } common[] = {
        COMMON("gmail.com"), COMMON("google.com"), COMMON("googlemail.com"),
        COMMON("outlook.com"), COMMON("hotmail.com"), COMMON("yahoo.com"),
        COMMON("yahoo.co.jp"), COMMON("icloud.com"), COMMON("apple.com"),
        COMMON("amazonses.com"), COMMON("sendgrid.net"), COMMON("mailchimp.com"),
        COMMON("mandrillapp.com"), COMMON("localhost"), COMMON("localdomain"),
    };
#undef COMMON
    if (h == NULL || *h == '\0' || *h == '[' || strchr(h, '.') == NULL)
        return true;
    /* g_str_has_suffix() with the lengths known once */
    size_t n = strlen(h);
    for (size_t i = 0; i < G_N_ELEMENTS(common); i++)
        if (n >= common[i].n && memcmp(h + n - common[i].n, common[i].s, common[i].n) == 0)
            return true;
    return false;
}

static void
push_key(GArray *out, const char *s, guint64 ns)
{
    /* the hash of g_ascii_strdown(s), lowered on the stack when short */
    char buf[256];
    size_t n = strlen(s);
    g_autofree char *heap = NULL;
    char *low = buf;
    if (n >= sizeof buf)
        low = heap = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        low[i] = g_ascii_tolower(s[i]);
    low[n] = '\0';
    guint64 k = bw_fp_hash(low, n) ^ ns;
    g_array_append_val(out, k);
}

/* Strong keys: things one spam run has in common and other runs almost
 * never share: URL domains of the body, the domain of a non-owner forged
 * sender or of the Message-ID (spam tools put their link domains there),
 * the sending network and the relay's HELO name. */
static void
strong_keys(const bw_item_t *it, GArray *out, GArray *urls)
{
    guint64 k;
    guint start = out->len;
    const bw_original_t *o = it->report ? it->report->original : NULL;
    if (o && o->url_domains) {
        for (guint i = 0; i < o->url_domains->len && i < BW_ENGINE_MAX_URL_DOMAINS; i++) {
            const char *d = g_ptr_array_index(o->url_domains, i);
            if (d && !url_stopped(d) && !generic_host(d))
                push_key(out, d, 0x5501);
        }
    } else if (it->fp.url_domains) {
        k = it->fp.url_domains ^ 0x5502;
        g_array_append_val(out, k);
    }
    if (it->fp.forged_sender && o && o->from && strrchr(o->from, '@')) {
        /* fingerprint.c sets forged_sender only outside the owner's
         * addresses and domains */
        const char *d = strrchr(o->from, '@') + 1;
        if (!generic_host(d))
            push_key(out, d, 0x5501);
    }
    if (it->fp.forged_sender && (o == NULL || o->from == NULL)) {
        k = it->fp.forged_sender ^ 0x6601;
        g_array_append_val(out, k);
    }
    if (o && o->message_id && it->klass == BW_CLASS_BACKSCATTER) {
        const char *at = strrchr(o->message_id, '@');
        /* only a Message-ID domain that matches a URL or sender domain
         * of the run links anything: the same namespace */
        if (at && !generic_host(at + 1) && it->fp.forged_sender)
            push_key(out, at + 1, 0x5501);
    }
    /* everything so far names the run's own domains */
    for (guint i = start; urls && i < out->len; i++)
        g_array_append_val(urls, g_array_index(out, guint64, i));
    if (it->fp.origin_network) {
        k = it->fp.origin_network ^ 0x6e01;
        g_array_append_val(out, k);
    }
    /* the reports about one run in the owner's sent mail (SPEC 2b): one
     * campaign, whatever their subjects and links */
    if (it->anomaly)
        push_key(out, it->anomaly, 0x7a01);
}

/* Weak keys: the body SimHash, the masked subject template, and the template with one token
 * left out (a name part the masking missed, a random first name).  Runs of
 * the same spam theme share templates, so a weak key alone joins a report
 * to a run only when nothing stronger says otherwise. */
static void skip_keys(const char *masked, GArray *out);

/* The keys of weak_keys() but those of the templates with one token left
 * out; returns the masked subject those come from (NULL: none). */
static const char *
weak_keys_head(const bw_item_t *it, GArray *out)
{
    guint64 k;
    /* The body's SimHash, digits masked: one run's text with the names and
     * amounts changed hashes the same, whatever subject line the run
     * rotates to (and HTML-only spam, as text, too).  Weak like the
     * subject: a spam kit's text recurs across runs. */
    if (it->fp.body_simhash) {
        k = it->fp.body_simhash ^ 0x5b01;
        g_array_append_val(out, k);
    }
    if (it->fp.subject_names) {
        k = it->fp.subject_names ^ 0x7402;
        g_array_append_val(out, k);
    }
    if (it->fp.subject_template == 0)
        return NULL;
    k = it->fp.subject_template ^ 0x7401;
    g_array_append_val(out, k);
    return it->fp.subject_masked;
}

static void
weak_keys(const bw_item_t *it, GArray *out)
{
    const char *masked = weak_keys_head(it, out);
    if (masked != NULL)
        skip_keys(masked, out);
}

/* The keys of the masked subject with one token left out (depend on the
 * text alone). */
static void
skip_keys(const char *masked, GArray *out)
{
    guint64 k;
    /* The tokens as g_strsplit(masked, " ", BW_ENGINE_MAX_TOKENS) cuts
     * them, in place: none of an empty text; else cut at each space, up
     * to BW_ENGINE_MAX_TOKENS - 1 cuts, the rest (spaces and all) the
     * last token. */
    if (*masked == '\0')
        return;
    const char *tok[BW_ENGINE_MAX_TOKENS];
    size_t len[BW_ENGINE_MAX_TOKENS], content[BW_ENGINE_MAX_TOKENS];
    guint n = 0;
    const char *rest = masked;
    for (const char *sp; n + 1 < BW_ENGINE_MAX_TOKENS && (sp = strchr(rest, ' ')) != NULL;
         rest = sp + 1) {
        tok[n] = rest;
        len[n++] = (size_t)(sp - rest);
    }
    tok[n] = rest;
    len[n++] = strlen(rest);
    if (n < 4)
        return;
    /* Each template with token `skip` left out, built in one buffer (the
     * tokens joined by single spaces, none before the first non-empty
     * one): never longer than the masked subject.  The separators are not
     * content, so its content is the tokens' but the one left out. */
    gsize cap = (gsize)(tok[n - 1] - masked) + len[n - 1] + 1;
    g_autofree char *buf = g_malloc(cap);
    size_t total = 0;
    for (guint j = 0; j < n; j++) {
        content[j] = content_len(tok[j], len[j]);
        total += content[j];
    }
    for (guint skip = 0; skip < n; skip++) {
        if (total - content[skip] < 12)
            continue;
        gsize used = 0;
        for (guint j = 0; j < n; j++) {
            if (j == skip)
                continue;
            if (used)
                buf[used++] = ' ';
            memcpy(buf + used, tok[j], len[j]);
            used += len[j];
        }
        g_assert(used < cap);
        buf[used] = '\0';
        k = bw_fp_hash(buf, used) ^ 0x7401;
        g_array_append_val(out, k);
    }
}

static gint
cmp_item_time(gconstpointer a, gconstpointer b)
{
    const bw_item_t *x = *(bw_item_t *const *)a, *y = *(bw_item_t *const *)b;
    if (x->date_unix != y->date_unix)
        return x->date_unix < y->date_unix ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

static gint
cmp_campaign_size(gconstpointer a, gconstpointer b)
{
    const bw_campaign_t *x = *(bw_campaign_t *const *)a, *y = *(bw_campaign_t *const *)b;
    if (x->members->len != y->members->len)
        return x->members->len > y->members->len ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void
add_distinct(GPtrArray *a, const char *s, guint max)
{
    if (s == NULL || *s == '\0' || a->len >= max)
        return;
    for (guint i = 0; i < a->len; i++)
        if (strcmp(g_ptr_array_index(a, i), s) == 0)
            return;
    g_ptr_array_add(a, g_strdup(s));
}

static const char *
reporting_domain(const bw_report_t *r)
{
    const char *at = r->from ? strrchr(r->from, '@') : NULL;
    if (at && at[1])
        return at + 1;
    for (guint i = 0; r->recipients && i < r->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        const char *a2 = rc->address ? strrchr(rc->address, '@') : NULL;
        if (a2 && a2[1])
            return a2 + 1;
    }
    return NULL;
}

/* Number of members of group g (sorted times) within [t - w, t + w]. */
static guint
count_near(GArray *times, gint64 t, gint64 w)
{
    gint64 *v = (gint64 *)(void *)times->data;
    guint lo = 0, hi = times->len;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (v[mid] < t - w)
            lo = mid + 1;
        else
            hi = mid;
    }
    guint n = 0;
    for (guint i = lo; i < times->len && v[i] <= t + w; i++)
        n++;
    return n;
}

static char *
make_id(const char *seed, GHashTable *used)
{
    for (unsigned salt = 0; salt < 1000; salt++) {
        g_autofree char *s = salt ? g_strdup_printf("%s#%u", seed, salt) : g_strdup(seed);
        guint64 h = bw_fp_hash(s, strlen(s));
        char *id = g_strdup_printf("bw-%08x", (guint32)(h >> 32));
        if (!g_hash_table_contains(used, id))
            return id;
        g_free(id);
    }
    return NULL;
}

/* What a component (union-find root) knows about its run. */
typedef struct {
    GHashTable **urls;     /* the run's own domains (url-namespace keys) or NULL */
    guint *own, *foreign;  /* members by origin */
    gint64 *first, *last;  /* arrival span */
} roots_t;

static bw_origin_t
root_origin(const roots_t *rt, guint r)
{
    return rt->own[r] > rt->foreign[r] ? BW_ORIGIN_OWN_ACCOUNT
         : rt->foreign[r] ? BW_ORIGIN_FOREIGN : BW_ORIGIN_UNKNOWN;
}

/* Share of the longer of the two arrival spans (padded by SPAN_PAD) that
 * both cover: the parts of one burst overlap almost wholly; a burst inside
 * a months-long drip covers a tiny share of it. */
static double
span_overlap(const roots_t *rt, guint a, guint b)
{
    gint64 a0 = rt->first[a] - SPAN_PAD, a1 = rt->last[a] + SPAN_PAD;
    gint64 b0 = rt->first[b] - SPAN_PAD, b1 = rt->last[b] + SPAN_PAD;
    gint64 lo = MAX(a0, b0), hi = MIN(a1, b1);
    if (hi <= lo)
        return 0.0;
    gint64 longer = MAX(a1 - a0, b1 - b0);
    return (double)(hi - lo) / (double)longer;
}

static bool
roots_compatible(const roots_t *rt, guint a, guint b)
{
    bw_origin_t oa = root_origin(rt, a), ob = root_origin(rt, b);
    if (oa != BW_ORIGIN_UNKNOWN && ob != BW_ORIGIN_UNKNOWN && oa != ob)
        return false;
    if (rt->urls[a] == NULL || rt->urls[b] == NULL)
        return true;
    GHashTable *small = g_hash_table_size(rt->urls[a]) < g_hash_table_size(rt->urls[b]) ? rt->urls[a] : rt->urls[b];
    GHashTable *big = small == rt->urls[a] ? rt->urls[b] : rt->urls[a];
    GHashTableIter hi;
    gpointer k;
    g_hash_table_iter_init(&hi, small);
    while (g_hash_table_iter_next(&hi, &k, NULL))
        if (g_hash_table_contains(big, k))
            return true;
    /* Other link domains: the same run only when it ran at the same time
     * (a run rotates its domains; another run of the theme comes at
     * another time or with another rhythm). */
    return span_overlap(rt, a, b) >= MIN_SPAN_OVERLAP;
}

/* Union of the components of a and b, merging their attributes into the
 * new root. */
static void
root_union(uf_t *u, roots_t *rt, guint a, guint b)
{
    a = uf_find(u, a);
    b = uf_find(u, b);
    if (a == b)
        return;
    uf_union(u, a, b);
    guint r = uf_find(u, a), o = r == a ? b : a;
    rt->own[r] += rt->own[o];
    rt->foreign[r] += rt->foreign[o];
    rt->first[r] = MIN(rt->first[r], rt->first[o]);
    rt->last[r] = MAX(rt->last[r], rt->last[o]);
    if (rt->urls[o]) {
        if (rt->urls[r] == NULL) {
            rt->urls[r] = rt->urls[o];
        } else {
            GHashTableIter hi;
            gpointer k;
            g_hash_table_iter_init(&hi, rt->urls[o]);
            while (g_hash_table_iter_next(&hi, &k, NULL))
                if (g_hash_table_size(rt->urls[r]) < 256)
                    g_hash_table_add(rt->urls[r], g_memdup2(k, sizeof(guint64)));
            g_hash_table_unref(rt->urls[o]);
        }
        rt->urls[o] = NULL;
    }
}

/* ------------------------------------------------------------ groups */

typedef struct {
    GPtrArray *groups;   /* GPtrArray* of bw_item_t* (borrowed) */
    GPtrArray *times;    /* GArray* of gint64, sorted, per group (index) */
    GArray *origin;      /* bw_origin_t majority per group (index) */
    GArray *indexed;     /* guint: each group's size when indexed (groups only grow) */
} group_set_t;

static void
group_set_init(group_set_t *gs)
{
    gs->groups = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    gs->times = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
    gs->origin = g_array_new(FALSE, TRUE, sizeof(bw_origin_t));
    gs->indexed = g_array_new(FALSE, FALSE, sizeof(guint));
}

static void
group_set_clear(group_set_t *gs)
{
    g_ptr_array_unref(gs->groups);
    g_ptr_array_unref(gs->times);
    g_array_unref(gs->origin);
    g_array_unref(gs->indexed);
}

static gint
group_set_new(group_set_t *gs)
{
    g_ptr_array_add(gs->groups, g_ptr_array_new());
    return (gint)gs->groups->len - 1;
}

static void
group_set_add(group_set_t *gs, gint g, bw_item_t *it)
{
    g_ptr_array_add(g_ptr_array_index(gs->groups, g), it);
}

static gint
cmp_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* (Re)build the sorted arrival times and majority origins of the groups:
 * of those new or grown since the last call (members are only added, and
 * their dates and origins do not change while grouping). */
static void
group_set_index(group_set_t *gs)
{
    g_array_set_size(gs->origin, gs->groups->len);
    for (guint g = 0; g < gs->groups->len; g++) {
        GPtrArray *grp = g_ptr_array_index(gs->groups, g);
        if (g < gs->times->len && g_array_index(gs->indexed, guint, g) == grp->len)
            continue;
        GArray *t = g_array_sized_new(FALSE, FALSE, sizeof(gint64), grp->len);
        guint own = 0, foreign = 0;
        for (guint i = 0; i < grp->len; i++) {
            const bw_item_t *it = g_ptr_array_index(grp, i);
            g_array_append_val(t, it->date_unix);
            own += it->origin == BW_ORIGIN_OWN_ACCOUNT;
            foreign += it->origin == BW_ORIGIN_FOREIGN;
        }
        g_array_sort(t, cmp_gint64);
        if (g < gs->times->len) {
            g_array_unref(g_ptr_array_index(gs->times, g));
            g_ptr_array_index(gs->times, g) = t;
            g_array_index(gs->indexed, guint, g) = grp->len;
        } else {
            g_ptr_array_add(gs->times, t);
            g_array_append_val(gs->indexed, grp->len);
        }
        g_array_index(gs->origin, bw_origin_t, g) = own > foreign ? BW_ORIGIN_OWN_ACCOUNT
                                                  : foreign ? BW_ORIGIN_FOREIGN : BW_ORIGIN_UNKNOWN;
    }
}

static guint
group_set_count_near(group_set_t *gs, gint g, gint64 t, gint64 w)
{
    if (g < 0 || (guint)g >= gs->times->len)
        return 0;
    return count_near(g_ptr_array_index(gs->times, g), t, w);
}

/* Distance from t to the nearest member of group g (G_MAXINT64 if none). */
static gint64
group_set_distance(group_set_t *gs, gint g, gint64 t)
{
    if (g < 0 || (guint)g >= gs->times->len)
        return G_MAXINT64;
    GArray *a = g_ptr_array_index(gs->times, g);
    gint64 *v = (gint64 *)(void *)a->data;
    guint lo = 0, hi = a->len;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (v[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    gint64 best = G_MAXINT64;
    if (lo < a->len)
        best = MIN(best, v[lo] - t);
    if (lo > 0)
        best = MIN(best, t - v[lo - 1]);
    return best;
}

/* Of the candidate groups, the one that fits the item: same origin when
 * the item's is known and some candidate has it; then the most members
 * within the smallest window around its arrival that holds any; then the
 * nearest in time.  Deterministic (ties go to the lower index). */
static gint
group_set_choose(group_set_t *gs, GArray *cands, const bw_item_t *it)
{
    bool filter = false;
    if (it->origin != BW_ORIGIN_UNKNOWN)
        for (guint i = 0; i < cands->len; i++) {
            gint g = g_array_index(cands, gint, i);
            if ((guint)g < gs->origin->len && g_array_index(gs->origin, bw_origin_t, g) == it->origin)
                filter = true;
        }
    for (size_t w = 0; w < G_N_ELEMENTS(attach_windows); w++) {
        gint best = -1;
        guint best_n = 0;
        for (guint i = 0; i < cands->len; i++) {
            gint g = g_array_index(cands, gint, i);
            if (filter && ((guint)g >= gs->origin->len || g_array_index(gs->origin, bw_origin_t, g) != it->origin))
                continue;
            guint c = group_set_count_near(gs, g, it->date_unix, attach_windows[w]);
            if (c > best_n) {
                best_n = c;
                best = g;
            }
        }
        if (best >= 0)
            return best;
    }
    gint best = -1;
    gint64 best_d = G_MAXINT64;
    for (guint i = 0; i < cands->len; i++) {
        gint g = g_array_index(cands, gint, i);
        if (filter && ((guint)g >= gs->origin->len || g_array_index(gs->origin, bw_origin_t, g) != it->origin))
            continue;
        gint64 d = group_set_distance(gs, g, it->date_unix);
        if (best < 0 || d < best_d) {
            best_d = d;
            best = g;
        }
    }
    return best >= 0 ? best : g_array_index(cands, gint, 0);
}

static void
wmap_add(u64map_t *wmap, guint64 key, gint g)
{
    gpointer *v = u64map_lookup(wmap, key);
    GArray *a = v != NULL ? *v : NULL;
    if (a == NULL) {
        a = g_array_new(FALSE, FALSE, sizeof(gint));
        u64map_insert(wmap, key, a);
    }
    for (guint i = 0; i < a->len; i++)
        if (g_array_index(a, gint, i) == g)
            return;
    if (a->len < 64)
        g_array_append_val(a, g);
}

/* The distinct strong groups holding any of the keys. */
static void
wmap_candidates(const u64map_t *wmap, GArray *keys, GArray *out)
{
    g_array_set_size(out, 0);
    for (guint k = 0; k < keys->len; k++) {
        gpointer *v = u64map_lookup(wmap, g_array_index(keys, guint64, k));
        GArray *a = v != NULL ? *v : NULL;
        for (guint i = 0; a && i < a->len; i++) {
            gint g = g_array_index(a, gint, i);
            bool dup = false;
            for (guint j = 0; j < out->len; j++)
                dup |= g_array_index(out, gint, j) == g;
            if (!dup && out->len < 64)
                g_array_append_val(out, g);
        }
    }
}

/* The keys of one item, computed once per build (they depend on the item
 * alone: its report and fingerprint, and for the strong keys its class,
 * which does not change while they are read): item i's are
 * all[off[i] .. off[i + 1]). */
typedef struct {
    GArray *all;   /* guint64 */
    guint *off;    /* n + 1 */
} item_keys_t;

static void
item_keys_clear(item_keys_t *k)
{
    g_array_unref(k->all);
    g_free(k->off);
}

/* Item i's keys appended to dst. */
static void
item_keys_append(GArray *dst, const item_keys_t *k, guint i)
{
    guint n = k->off[i + 1] - k->off[i];
    if (n > 0)
        g_array_append_vals(dst, &g_array_index(k->all, guint64, k->off[i]), n);
}

/* dst holds item i's keys only. */
static void
item_keys_get(GArray *dst, const item_keys_t *k, guint i)
{
    g_array_set_size(dst, 0);
    item_keys_append(dst, k, i);
}

bw_status_t
bw_campaigns_build(GPtrArray *items, GPtrArray *previous, GPtrArray **out)
{
    if (items == NULL || out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    /* Work on the backscatter items in time order (deterministic whatever
     * the input order); undetermined ones are candidates for promotion. */
    g_autoptr(GPtrArray) bs = g_ptr_array_new();
    g_autoptr(GPtrArray) undet = g_ptr_array_new();
    for (guint i = 0; i < items->len; i++) {
        bw_item_t *it = g_ptr_array_index(items, i);
        g_clear_pointer(&it->campaign, g_free);
        if (it->klass == BW_CLASS_BACKSCATTER)
            g_ptr_array_add(bs, it);
        else if (it->klass == BW_CLASS_UNDETERMINED)
            g_ptr_array_add(undet, it);
    }
    g_ptr_array_sort(bs, cmp_item_time);
    g_ptr_array_sort(undet, cmp_item_time);

    /* 1. strong components: union-find over strong keys */
    guint n = bs->len;
    uf_t u = { g_new(guint, MAX(n, 1)), n };
    for (guint i = 0; i < n; i++)
        u.parent[i] = i;
    u64map_t skeys;
    u64map_init(&skeys, NULL);
    g_autoptr(GArray) kbuf = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_autoptr(GArray) ubuf = g_array_new(FALSE, FALSE, sizeof(guint64));
    guint8 *strong = g_new0(guint8, MAX(n, 1));
    /* per root: the run's r_own domains (url-namespace keys) and origins */
    GHashTable **urls = g_new0(GHashTable *, MAX(n, 1));
    guint *r_own = g_new0(guint, MAX(n, 1)), *r_foreign = g_new0(guint, MAX(n, 1));
    gint64 *r_first = g_new0(gint64, MAX(n, 1)), *r_last = g_new0(gint64, MAX(n, 1));
    roots_t rt = { urls, r_own, r_foreign, r_first, r_last };
    item_keys_t sk = { g_array_new(FALSE, FALSE, sizeof(guint64)), g_new(guint, n + 1) };
    item_keys_t wk = { g_array_new(FALSE, FALSE, sizeof(guint64)), g_new(guint, n + 1) };
    sk.off[0] = wk.off[0] = 0;
    g_autoptr(GHashTable) skip_memo = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GArray) skip_all = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_autoptr(GArray) skip_span = g_array_new(FALSE, FALSE, sizeof(guint));   /* start, length */
    for (guint i = 0; i < n; i++) {
        bw_item_t *it = g_ptr_array_index(bs, i);
        g_array_set_size(kbuf, 0);
        g_array_set_size(ubuf, 0);
        strong_keys(it, kbuf, ubuf);
        g_array_append_vals(sk.all, kbuf->data, kbuf->len);
        sk.off[i + 1] = sk.all->len;
        /* (one run's reports share their masked subject: its keys are
         * computed once) */
        const char *masked = weak_keys_head(it, wk.all);
        if (masked != NULL) {
            gpointer m;
            if (!g_hash_table_lookup_extended(skip_memo, masked, NULL, &m)) {
                guint span[2] = { skip_all->len, 0 };
                skip_keys(masked, skip_all);
                span[1] = skip_all->len - span[0];
                g_array_append_vals(skip_span, span, 2);
                m = GUINT_TO_POINTER(skip_span->len / 2);   /* (index + 1) */
                g_hash_table_insert(skip_memo, (gpointer)masked, m);
            }
            const guint *span = &g_array_index(skip_span, guint, 2 * (GPOINTER_TO_UINT(m) - 1));
            if (span[1] > 0)
                g_array_append_vals(wk.all, &g_array_index(skip_all, guint64, span[0]), span[1]);
        }
        wk.off[i + 1] = wk.all->len;
        strong[i] = kbuf->len > 0;
        r_own[i] = it->origin == BW_ORIGIN_OWN_ACCOUNT;
        r_first[i] = r_last[i] = it->date_unix;
        r_foreign[i] = it->origin == BW_ORIGIN_FOREIGN;
        if (ubuf->len) {
            urls[i] = g_hash_table_new_full(hash64, equal64, g_free, NULL);
            for (guint k = 0; k < ubuf->len; k++)
                g_hash_table_add(urls[i], g_memdup2(&g_array_index(ubuf, guint64, k), sizeof(guint64)));
        }
    }
    for (guint i = 0; i < n; i++) {
        item_keys_get(kbuf, &sk, i);
        for (guint k = 0; k < kbuf->len; k++) {
            bool found;
            guint first = key_lookup(&skeys, g_array_index(kbuf, guint64, k), &found);
            if (found)
                root_union(&u, &rt, first, i);
            else
                u64map_insert(&skeys, g_array_index(kbuf, guint64, k), GUINT_TO_POINTER(i));
        }
    }
    /* 2. components that share a subject template join when nothing
     * contradicts it: their r_own domains overlap (or one has none) and
     * their origins agree (or one is unknown).  Runs of the same spam theme
     * (same templates, other links, other path) stay apart. */
    u64map_t wroots;
    u64map_init(&wroots, (GDestroyNotify)g_array_unref);
    /* Only components that know their own domains merge here: one without
     * (headers only, linked by a sending network) would be compatible with
     * every run of its theme; it is placed below, by time. */
    guint8 *anchored = g_new0(guint8, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        anchored[i] = strong[i] && urls[uf_find(&u, i)] != NULL;
    for (guint i = 0; i < n; i++) {
        if (!anchored[i])
            continue;
        item_keys_get(kbuf, &wk, i);
        for (guint k = 0; k < kbuf->len; k++) {
            guint64 key = g_array_index(kbuf, guint64, k);
            gpointer *v = u64map_lookup(&wroots, key);
            GArray *list = v != NULL ? *v : NULL;
            if (list == NULL) {
                list = g_array_new(FALSE, FALSE, sizeof(guint));
                u64map_insert(&wroots, key, list);
            }
            bool placed = false;
            for (guint q = 0; q < list->len; q++) {
                guint other = uf_find(&u, g_array_index(list, guint, q));
                guint me = uf_find(&u, i);
                if (other == me) {
                    placed = true;
                    break;
                }
                if (roots_compatible(&rt, me, other)) {
                    root_union(&u, &rt, me, other);
                    placed = true;
                    break;
                }
            }
            if (!placed && list->len < 64)
                g_array_append_val(list, i);
        }
    }
    group_set_t gs;
    group_set_init(&gs);
    g_autoptr(GHashTable) root_group = g_hash_table_new(g_direct_hash, g_direct_equal);
    gint *group_of = g_new(gint, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        group_of[i] = -1;
        if (!anchored[i])
            continue;
        guint r = uf_find(&u, i);
        gpointer gi;
        if (!g_hash_table_lookup_extended(root_group, GUINT_TO_POINTER(r + 1), NULL, &gi)) {
            gi = GINT_TO_POINTER(group_set_new(&gs));
            g_hash_table_insert(root_group, GUINT_TO_POINTER(r + 1), gi);
        }
        group_of[i] = GPOINTER_TO_INT(gi);
        group_set_add(&gs, group_of[i], g_ptr_array_index(bs, i));
    }
    for (guint i = 0; i < n; i++)
        if (urls[i])
            g_hash_table_unref(urls[i]);
    g_free(urls);
    g_free(r_own);
    g_free(r_foreign);
    g_free(r_first);
    g_free(r_last);
    /* weak key -> groups holding it */
    u64map_clear(&wroots);
    u64map_t wmap;
    u64map_init(&wmap, (GDestroyNotify)g_array_unref);
    for (guint i = 0; i < n; i++) {
        if (!anchored[i])
            continue;
        item_keys_get(kbuf, &wk, i);
        for (guint k = 0; k < kbuf->len; k++)
            wmap_add(&wmap, g_array_index(kbuf, guint64, k), group_of[i]);
    }
    group_set_index(&gs);
    g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(gint));

    /* floating components (strong keys, but no domains of their own): the
     * group that has their templates, chosen as a unit by their median
     * arrival; else a group of their own */
    {
        g_autoptr(GHashTable) comp = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                           (GDestroyNotify)g_array_unref);
        g_autoptr(GArray) order = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint i = 0; i < n; i++) {
            if (!strong[i] || anchored[i])
                continue;
            guint r = uf_find(&u, i);
            GArray *m = g_hash_table_lookup(comp, GUINT_TO_POINTER(r + 1));
            if (m == NULL) {
                m = g_array_new(FALSE, FALSE, sizeof(guint));
                g_hash_table_insert(comp, GUINT_TO_POINTER(r + 1), m);
                g_array_append_val(order, r);
            }
            g_array_append_val(m, i);
        }
        g_autoptr(GArray) allk = g_array_new(FALSE, FALSE, sizeof(guint64));
        for (guint c = 0; c < order->len; c++) {
            GArray *m = g_hash_table_lookup(comp, GUINT_TO_POINTER(g_array_index(order, guint, c) + 1));
            g_array_set_size(allk, 0);
            for (guint j = 0; j < m->len && allk->len < 4096; j++)
                item_keys_append(allk, &wk, g_array_index(m, guint, j));
            wmap_candidates(&wmap, allk, cand);
            const bw_item_t *median = g_ptr_array_index(bs, g_array_index(m, guint, m->len / 2));
            gint g = cand->len > 0 ? group_set_choose(&gs, cand, median) : group_set_new(&gs);
            for (guint j = 0; j < m->len; j++) {
                guint i = g_array_index(m, guint, j);
                group_of[i] = g;
                group_set_add(&gs, g, g_ptr_array_index(bs, i));
            }
            if (cand->len == 0)
                for (guint k = 0; k < allk->len; k++)
                    wmap_add(&wmap, g_array_index(allk, guint64, k), g);
        }
    }
    g_free(anchored);
    group_set_index(&gs);

    /* reports with only a subject: the group with that template (the
     * busiest around their arrival when several have it); the rest group
     * among themselves by template */
    uf_t wu = { g_new(guint, MAX(n, 1)), n };
    for (guint i = 0; i < n; i++)
        wu.parent[i] = i;
    u64map_t wkeys;
    u64map_init(&wkeys, NULL);
    guint8 *weak_only = g_new0(guint8, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        if (strong[i])
            continue;
        bw_item_t *it = g_ptr_array_index(bs, i);
        item_keys_get(kbuf, &wk, i);
        if (kbuf->len == 0)
            continue;
        wmap_candidates(&wmap, kbuf, cand);
        if (cand->len > 0) {
            group_of[i] = group_set_choose(&gs, cand, it);
            group_set_add(&gs, group_of[i], it);
            continue;
        }
        weak_only[i] = 1;
        for (guint k = 0; k < kbuf->len; k++)
            key_add(&wkeys, &wu, g_array_index(kbuf, guint64, k), i);
    }
    g_autoptr(GHashTable) wroot_group = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < n; i++) {
        if (!weak_only[i])
            continue;
        guint r = uf_find(&wu, i);
        gpointer gi;
        if (!g_hash_table_lookup_extended(wroot_group, GUINT_TO_POINTER(r + 1), NULL, &gi)) {
            gi = GINT_TO_POINTER(group_set_new(&gs));
            g_hash_table_insert(wroot_group, GUINT_TO_POINTER(r + 1), gi);
        }
        group_of[i] = GPOINTER_TO_INT(gi);
        group_set_add(&gs, group_of[i], g_ptr_array_index(bs, i));
    }

    /* 3. promotion: undetermined reports that share a key with backscatter,
     * unless their own evidence leans clearly towards the owner's mail */
    for (guint j = 0; j < undet->len; j++) {
        bw_item_t *it = g_ptr_array_index(undet, j);
        gint g = -1;
        if (it->score < LEAN_LEGITIMATE)
            continue;
        g_array_set_size(kbuf, 0);
        strong_keys(it, kbuf, NULL);
        for (guint k = 0; k < kbuf->len && g < 0; k++) {
            bool found;
            guint first = key_lookup(&skeys, g_array_index(kbuf, guint64, k), &found);
            if (found)
                g = group_of[first];
        }
        if (g < 0) {
            g_array_set_size(kbuf, 0);
            weak_keys(it, kbuf);
            wmap_candidates(&wmap, kbuf, cand);
            if (cand->len > 0) {
                g = group_set_choose(&gs, cand, it);
            } else {
                for (guint k = 0; k < kbuf->len && g < 0; k++) {
                    bool found;
                    guint first = key_lookup(&wkeys, g_array_index(kbuf, guint64, k), &found);
                    if (found)
                        g = group_of[first];
                }
            }
        }
        if (g < 0)
            continue;
        it->klass = BW_CLASS_BACKSCATTER;
        it->score = MAX(it->score, 0.9);
        const bw_campaign_t *dummy = NULL;
        (void)dummy;
        g_ptr_array_add(it->evidence, g_strdup(
            "it has the subject, links or sending network of other backscatter: the same spam run"));
        group_set_add(&gs, g, it);
    }
    group_set_index(&gs);

    /* 4. featureless backscatter (and undetermined reports leaning towards
     * backscatter inside a burst) join the busiest group around them */
    GPtrArray *orphans = NULL;
    guint n_groups = gs.groups->len;
    g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(gint));
    for (guint g = 0; g < n_groups; g++) {
        gint gg = (gint)g;
        g_array_append_val(all, gg);
    }
    for (guint pass = 0; pass < 2; pass++) {
        GPtrArray *cands = pass == 0 ? bs : undet;
        for (guint i = 0; i < cands->len; i++) {
            bw_item_t *it = g_ptr_array_index(cands, i);
            if (pass == 0 && group_of[i] >= 0)
                continue;
            if (pass == 1 && (it->klass != BW_CLASS_UNDETERMINED || it->score <= LEAN_BACKSCATTER))
                continue;
            gint best = n_groups ? group_set_choose(&gs, all, it) : -1;
            if (pass == 1) {
                if (best < 0 || group_set_count_near(&gs, best, it->date_unix, PROMOTE_WINDOW) < PROMOTE_MIN)
                    continue;
                it->klass = BW_CLASS_BACKSCATTER;
                it->score = MAX(it->score, 0.85);
                g_ptr_array_add(it->evidence, g_strdup(
                    "it arrived in the middle of a burst of backscatter from one spam run"));
            }
            if (best < 0) {
                if (orphans == NULL)
                    orphans = g_ptr_array_new();
                g_ptr_array_add(orphans, it);
            } else {
                g_ptr_array_add(g_ptr_array_index(gs.groups, best), it);
            }
        }
    }
    GPtrArray *groups = gs.groups;
    if (orphans) {
        /* nothing but recipients, and no campaign anywhere: one group of
         * envelope-only forgery */
        g_ptr_array_add(groups, orphans);
    }
    item_keys_clear(&sk);
    item_keys_clear(&wk);
    u64map_clear(&skeys);
    u64map_clear(&wkeys);
    u64map_clear(&wmap);
    g_free(group_of);
    g_free(strong);
    g_free(weak_only);
    g_free(u.parent);
    g_free(wu.parent);

    /* 5. campaigns, ids */
    g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) prev_of = g_hash_table_new(g_str_hash, g_str_equal); /* member -> prev campaign */
    for (guint i = 0; previous && i < previous->len; i++) {
        bw_campaign_t *pc = g_ptr_array_index(previous, i);
        for (guint m = 0; pc->members && m < pc->members->len; m++)
            g_hash_table_insert(prev_of, g_ptr_array_index(pc->members, m), pc);
    }
    GPtrArray *res = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    /* previous ids go to the groups with the greatest overlap first */
    typedef struct { guint group; bw_campaign_t *prev; guint overlap; } claim_t;
    g_autoptr(GArray) claims = g_array_new(FALSE, FALSE, sizeof(claim_t));
    for (guint g = 0; g < groups->len; g++) {
        GPtrArray *grp = g_ptr_array_index(groups, g);
        g_autoptr(GHashTable) cnt = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (guint i = 0; i < grp->len; i++) {
            bw_item_t *it = g_ptr_array_index(grp, i);
            bw_campaign_t *pc = it->message_id ? g_hash_table_lookup(prev_of, it->message_id) : NULL;
            if (pc)
                g_hash_table_insert(cnt, pc, GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(cnt, pc)) + 1));
        }
        GHashTableIter hi;
        gpointer k, val;
        g_hash_table_iter_init(&hi, cnt);
        while (g_hash_table_iter_next(&hi, &k, &val)) {
            claim_t c = { g, k, GPOINTER_TO_UINT(val) };
            g_array_append_val(claims, c);
        }
    }
    /* sort claims by overlap, then by ids for determinism (insertion sort:
     * the number of claims is at most the number of groups times few) */
    for (guint i = 1; i < claims->len; i++) {
        claim_t c = g_array_index(claims, claim_t, i);
        guint j = i;
        while (j > 0) {
            claim_t *pj = &g_array_index(claims, claim_t, j - 1);
            bool before = pj->overlap > c.overlap ||
                          (pj->overlap == c.overlap && (pj->group < c.group ||
                           (pj->group == c.group && g_strcmp0(pj->prev->id, c.prev->id) <= 0)));
            if (before)
                break;
            g_array_index(claims, claim_t, j) = *pj;
            j--;
        }
        g_array_index(claims, claim_t, j) = c;
    }
    char **ids = g_new0(char *, MAX(groups->len, 1));
    for (guint i = 0; i < claims->len; i++) {
        claim_t *c = &g_array_index(claims, claim_t, i);
        if (ids[c->group] || c->prev->id == NULL || g_hash_table_contains(used, c->prev->id))
            continue;
        ids[c->group] = g_strdup(c->prev->id);
        g_hash_table_add(used, g_strdup(c->prev->id));
    }
    /* previous ids not carried over stay reserved: a new campaign must not
     * take the id of an old one */
    for (guint i = 0; previous && i < previous->len; i++) {
        bw_campaign_t *pc = g_ptr_array_index(previous, i);
        if (pc->id && !g_hash_table_contains(used, pc->id))
            g_hash_table_add(used, g_strdup(pc->id));
    }
    for (guint g = 0; g < groups->len; g++) {
        GPtrArray *grp = g_ptr_array_index(groups, g);
        if (grp->len == 0)
            continue;
        g_ptr_array_sort(grp, cmp_item_time);
        bw_item_t *first = g_ptr_array_index(grp, 0);
        if (ids[g] == NULL) {
            ids[g] = make_id(first->message_id ? first->message_id : "", used);
            if (ids[g] == NULL)
                continue;
            g_hash_table_add(used, g_strdup(ids[g]));
        }
        bw_campaign_t *c = g_new0(bw_campaign_t, 1);
        c->id = ids[g];
        ids[g] = NULL;
        c->members = g_ptr_array_new_with_free_func(g_free);
        c->subjects = g_ptr_array_new_with_free_func(g_free);
        c->forged_senders = g_ptr_array_new_with_free_func(g_free);
        c->reporting_domains = g_ptr_array_new_with_free_func(g_free);
        c->first_seen = first->date_unix;
        c->last_seen = ((bw_item_t *)g_ptr_array_index(grp, grp->len - 1))->date_unix;
        guint own = 0, foreign = 0;
        g_autoptr(GHashTable) tcount = g_hash_table_new(g_direct_hash, g_direct_equal);
        const bw_item_t *rep = NULL;
        guint rep_n = 0;
        for (guint i = 0; i < grp->len; i++) {
            bw_item_t *it = g_ptr_array_index(grp, i);
            g_free(it->campaign);
            it->campaign = g_strdup(c->id);
            g_ptr_array_add(c->members, g_strdup(it->message_id ? it->message_id : ""));
            const bw_report_t *r = it->report;
            const bw_original_t *o = r ? r->original : NULL;
            if (o) {
                add_distinct(c->subjects, o->subject, MAX_SAMPLES);
                add_distinct(c->forged_senders, o->from, MAX_SENDERS);
                /* envelope-only forgery: the forged address is the
                 * envelope sender, not the From of the spam */
                if (o->return_path && g_strcmp0(o->return_path, o->from) != 0)
                    add_distinct(c->forged_senders, o->return_path, MAX_SENDERS);
            }
            if (r)
                add_distinct(c->reporting_domains, reporting_domain(r), MAX_REPORTERS);
            if (it->origin == BW_ORIGIN_OWN_ACCOUNT)
                own++;
            else if (it->origin == BW_ORIGIN_FOREIGN)
                foreign++;
            if (it->fp.subject_template) {
                gpointer key = GSIZE_TO_POINTER((gsize)it->fp.subject_template);
                guint v = GPOINTER_TO_UINT(g_hash_table_lookup(tcount, key)) + 1;
                g_hash_table_insert(tcount, key, GUINT_TO_POINTER(v));
                if (v > rep_n) {
                    rep_n = v;
                    rep = it;
                }
            }
        }
        /* Origin by majority of the members whose path could be read: a
         * few misread paths do not flip a campaign. */
        c->origin = own > foreign ? BW_ORIGIN_OWN_ACCOUNT
                  : foreign > 0 ? BW_ORIGIN_FOREIGN : BW_ORIGIN_UNKNOWN;
        if (rep == NULL)
            rep = first;
        bw_fingerprint_copy(&c->fp, &rep->fp);
        g_ptr_array_add(res, c);
    }
    g_free(ids);
    group_set_clear(&gs);
    g_ptr_array_sort(res, cmp_campaign_size);
    *out = res;
    return BW_OK;
}
