/* snapshot.c: what a run with nothing new needs, without the items.
 *
 * (See the section comment below for what the snapshot holds and why.) */
#include "config.h"
#include "scan-private.h"
#include "gv-read.h"
#include "bw-reader.h"
#include <string.h>

/* ------------------------------------------------------------ snapshot
 *
 * A run with nothing new but another "now" (BOUNCEWATCH_NOW moved, or just
 * the wall clock) has to recompute only what depends on "now": the surges,
 * and the assessment that reads them (and --since, which may be relative).
 * Re-reading every stored item's JSON for that cost ~120 ms of CPU at 1.3k
 * reports.  So every save also writes a snapshot, one GVariant in the same
 * transaction as the items, holding:
 *   - the sent messages the profile learnt from, replayed through
 *     bw_profile_add_sent() (no mail file is opened again);
 *   - per item, in report-date order: what bw_surges_detect() and
 *     bw_assess() read (date, class, origin, campaign; the recipients'
 *     address, action and reason; the original's Received lines and DKIM
 *     domain, kept for reports bw_classify() or bw_assess() learn from),
 *     whether bw_classify_learn() learnt from its original, and the item's SPEC
 *     `bounces` entry as JSON text, written by the engine's own
 *     bw_scan_result_to_json().
 * Strings are byte strings ("ay", empty = NULL): mail text need not be UTF-8.
 *
 * The snapshot is kept as rows (store.c, "snapshot rows"): the sent
 * messages as one GVariant of SNAP_SENT_LIST_TYPE, and each item's entry
 * (SNAP_ITEM_TYPE) beside its row of `items`, written when that row is
 * written (or when whether it teaches changed), so a save writes only what
 * changed and reads no entry (one GVariant over every item cost a save
 * ~5 M instructions at 160k messages, re-encoded and compared part by part,
 * and its pages were most of what the hook wrote).  The store checks each
 * unit's bytes by a sum kept with them: a damaged one is refused
 * (GVariant's own normal-form check costs 65 ms at 1.3k items, the sums
 * 2), and dropped so the next save writes it again.  A reader uses the
 * entries only when they count as many as the items; else (one missing or
 * refused) it reads the items, as without a snapshot.
 * T210 checks that a run served from the snapshot equals a full rescan; if
 * surge.c or assess.c start to read more of an item, add it here and change
 * the store's SNAP_ENTRY_MAGIC (and STATE_PROGRAM's layout). */
#define SNAP_SENT_TYPE "(ayayaayayayxaay)"
#define SNAP_SENT_LIST_TYPE "a" SNAP_SENT_TYPE
#define SNAP_ITEM_TYPE BW_SNAP_ENTRY_TYPE
/* The members of the sent tuple for gv-read.h (alignment, fixed size); a
 * tuple is aligned as its most aligned member. */
static const bw_gv_member_t snap_sent_members[] = {
    { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 1, 0 }, { 8, 8 }, { 1, 0 },
};
#define SNAP_SENT_ALIGN 8u

/* A serialised GVariant's bytes, for gv-read.h. */
static bw_gv_span_t
gv_span(GVariant *v)
{
    bw_gv_span_t s = { g_variant_get_data(v), g_variant_get_size(v) };
    if (s.n == 0)
        s.p = NULL;
    return s;
}

static GVariant *
bs_new(const char *s)
{
    if (s == NULL)
        return g_variant_new_array(G_VARIANT_TYPE_BYTE, NULL, 0);
    return g_variant_new_bytestring(s);
}

/* A copy of a byte string, NULL for the empty array.  Safe on damaged data:
 * the copy stops at the first NUL and is always terminated. */
static char *
bs_dup(GVariant *v)
{
    gsize n = 0;
    const char *p = g_variant_get_fixed_array(v, &n, 1);
    return n == 0 || p == NULL ? NULL : g_strndup(p, n);
}

static GVariant *
bs_array(const GPtrArray *a)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("aay"));
    for (guint i = 0; a != NULL && i < a->len; i++)
        if (g_ptr_array_index(a, i) != NULL)
            g_variant_builder_add_value(&b, bs_new(g_ptr_array_index(a, i)));
    return g_variant_builder_end(&b);
}

static void
bs_array_into(GVariant *v, GPtrArray *out)
{
    gsize n = g_variant_n_children(v);
    for (gsize i = 0; i < n; i++) {
        g_autoptr(GVariant) c = g_variant_get_child_value(v, i);
        char *s = bs_dup(c);
        if (s)
            g_ptr_array_add(out, s);
    }
}

/* The SPEC `bounces` entry of each item as JSON text, by the engine's own
 * serialiser (a document of the items alone, cut into its elements). */
static GPtrArray *
item_fragments_tree(GPtrArray *items)
{
    bw_scan_result_t doc = { 0 };
    doc.items = items;
    JsonNode *root = bw_scan_result_to_json(&doc);
    if (root == NULL)
        return NULL;
    JsonArray *arr = JSON_NODE_HOLDS_OBJECT(root)
                   ? json_object_get_array_member(json_node_get_object(root), "bounces") : NULL;
    if (arr == NULL || json_array_get_length(arr) != items->len) {
        json_node_unref(root);
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_full(items->len, g_free);
    for (guint i = 0; i < items->len; i++)
        g_ptr_array_add(out, bw_json_node_to_text(json_array_get_element(arr, i)));
    json_node_unref(root);
    return out;
}

/* Each entry as bw_item_entry_text writes it (the same bytes, without the
 * document's JsonBuilder tree: ~100 k instructions an item), and the
 * entries it leaves to json-glib by the document of those items alone
 * (an entry depends on its item only). */
static GPtrArray *
item_fragments(GPtrArray *items)
{
    GPtrArray *out = g_ptr_array_new_full(items->len, g_free);
    g_autoptr(GPtrArray) rest = g_ptr_array_new();
    g_autoptr(GArray) at = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < items->len; i++) {
        char *text = bw_item_entry_text(g_ptr_array_index(items, i));
        if (text == NULL) {
            g_ptr_array_add(rest, g_ptr_array_index(items, i));
            g_array_append_val(at, i);
        }
        g_ptr_array_add(out, text);
    }
    if (rest->len == 0)
        return out;
    g_autoptr(GPtrArray) made = item_fragments_tree(rest);
    if (made == NULL) {
        g_ptr_array_unref(out);
        return NULL;
    }
    for (guint k = 0; k < at->len; k++)
        g_ptr_array_index(out, g_array_index(at, guint, k)) = g_steal_pointer(&g_ptr_array_index(made, k));
    return out;
}

bw_status_t
bw_snapshot_put_entries(bw_store_t *store, GPtrArray *items, GHashTable *teaches,
                        GPtrArray *questions)
{
    if (items == NULL || items->len == 0)
        return BW_OK;
    g_autoptr(GPtrArray) made = item_fragments(items);
    if (made == NULL)
        return BW_OK;   /* none written: the readers read the items instead */
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        bool learn = g_hash_table_contains(teaches, it);
        g_autoptr(GVariant) v = bw_snap_entry_new(it, learn, g_ptr_array_index(made, i),
                                                  questions != NULL
                                                  ? g_ptr_array_index(questions, i) : NULL);
        if (v == NULL)
            return BW_E_INTERNAL;
        g_autoptr(GBytes) b = g_variant_get_data_as_bytes(v);
        bw_status_t st = bw_store_put_snap_entry(store, it->message_id, it->date_unix, learn, b);
        if (st != BW_OK)
            return st;
    }
    return BW_OK;
}

GBytes *
bw_snapshot_sent_bytes(GPtrArray *sent)
{
    GVariantBuilder sb;
    g_variant_builder_init(&sb, G_VARIANT_TYPE(SNAP_SENT_LIST_TYPE));
    for (guint i = 0; sent != NULL && i < sent->len; i++) {
        const bw_sent_mail_t *m = g_ptr_array_index(sent, i);
        GVariant *t[] = {
            bs_new(m->message_id), bs_new(m->from), bs_array(m->received),
            bs_new(m->dkim_domain), bs_new(m->x_mailer), g_variant_new_int64(m->date),
            bs_array(m->to),
        };
        g_variant_builder_add_value(&sb, g_variant_new_tuple(t, G_N_ELEMENTS(t)));
    }
    g_autoptr(GVariant) sv = g_variant_ref_sink(g_variant_builder_end(&sb));
    return g_variant_get_data_as_bytes(sv);
}

/* What a snapshot gives back. */
typedef struct {
    GPtrArray *items;        /* bw_item_t*, slim (see above), by date */
    GPtrArray *fragments;    /* char*: the SPEC entry of each item */
    /* the account of the profile fed the sent mail alone: the one the
     * saving run's signals stage judged against (scan-signals.h) */
    bw_account_t *account;
    /* the items (in `items`) whose originals the profile learnt from */
    GHashTable *learnt;
} snapshot_t;

static void
snapshot_clear(snapshot_t *s)
{
    g_clear_pointer(&s->items, g_ptr_array_unref);
    g_clear_pointer(&s->fragments, g_ptr_array_unref);
    g_clear_pointer(&s->account, bw_account_free);
    g_clear_pointer(&s->learnt, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(snapshot_t, snapshot_clear)

/* The stored sent messages (SNAP_SENT_LIST_TYPE), checked by the store,
 * or NULL. */
GVariant *
bw_snapshot_sent_variant(bw_store_t *store)
{
    g_autoptr(GBytes) data = NULL;
    if (bw_store_get_snap_sent(store, &data) != BW_OK || data == NULL)
        return NULL;
    /* Trusted: these are the very bytes the save built (the store compared
     * them with their sum). */
    return g_variant_ref_sink(
        g_variant_new_from_bytes(G_VARIANT_TYPE(SNAP_SENT_LIST_TYPE), data, TRUE));
}

/* A byte string of the snapshot as bs_dup() would copy it, without the
 * copy: NULL for the empty array; else, when its bytes end with the NUL
 * bs_new() wrote, a pointer to them (the C string there is the bytes up
 * to the first NUL, bs_dup()'s copy); else a copy kept in `owned`.  The
 * pointer is into the serialised bytes, which the container `v` came from
 * holds: valid while that container lives. */
static const char *
bs_peek(GVariant *v, GPtrArray *owned)
{
    gsize n = 0;
    const char *p = g_variant_get_fixed_array(v, &n, 1);
    if (n == 0 || p == NULL)
        return NULL;
    if (p[n - 1] == '\0')
        return p;
    char *c = g_strndup(p, n);
    g_ptr_array_add(owned, c);
    return c;
}

/* bs_array_into() with bs_peek(): the same strings, not copied. */
static void
bs_array_peek(GVariant *v, GPtrArray *out, GPtrArray *owned)
{
    gsize n = g_variant_n_children(v);
    for (gsize i = 0; i < n; i++) {
        g_autoptr(GVariant) c = g_variant_get_child_value(v, i);
        const char *s = bs_peek(c, owned);
        if (s)
            g_ptr_array_add(out, (gpointer)s);
    }
}

/* The seven fields of the `i`th sent message of `vs` (message-id, from,
 * received, DKIM domain, X-Mailer, date, to), through GLib's accessors. */
typedef struct {
    GVariant *c[7];
} sent_fields_t;

static sent_fields_t
sent_fields(GVariant *vs, gsize i)
{
    sent_fields_t f;
    g_autoptr(GVariant) t = g_variant_get_child_value(vs, i);
    for (gsize k = 0; k < G_N_ELEMENTS(f.c); k++)
        f.c[k] = g_variant_get_child_value(t, k);
    return f;
}

static void
sent_fields_clear(sent_fields_t *f)
{
    for (gsize k = 0; k < G_N_ELEMENTS(f->c); k++)
        g_clear_pointer(&f->c[k], g_variant_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sent_fields_t, sent_fields_clear)

/* Feed the profile the sent messages of the snapshot's `vs` (its child 2),
 * in the order the saving run fed them: each as bw_snapshot_sent() builds
 * it, its strings borrowed from the snapshot's bytes (the profile copies
 * what it keeps). */
static void
feed_sent(GVariant *vs, bw_profile_t *profile)
{
    g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) received = g_ptr_array_new();
    g_autoptr(GPtrArray) to = g_ptr_array_new();
    gsize ns = g_variant_n_children(vs);
    for (gsize i = 0; i < ns; i++) {
        g_auto(sent_fields_t) f = sent_fields(vs, i);
        GVariant *c0 = f.c[0], *c1 = f.c[1], *c2 = f.c[2], *c3 = f.c[3], *c4 = f.c[4],
                 *c5 = f.c[5], *c6 = f.c[6];
        g_ptr_array_set_size(owned, 0);
        g_ptr_array_set_size(received, 0);
        g_ptr_array_set_size(to, 0);
        bs_array_peek(c6, to, owned);
        bw_sent_mail_t m = {
            .message_id = (char *)bs_peek(c0, owned),
            .from = (char *)bs_peek(c1, owned),
            .received = received,
            .dkim_domain = (char *)bs_peek(c3, owned),
            .x_mailer = (char *)bs_peek(c4, owned),
            .date = g_variant_get_int64(c5),
            .to = to,
        };
        bs_array_peek(c2, received, owned);
        bw_sent_mail_feed(profile, &m);
    }
}

/* bs_peek() of bytes read in place. */
static const char *
span_peek(bw_gv_span_t s, GPtrArray *owned)
{
    if (s.n == 0 || s.p == NULL)
        return NULL;
    if (s.p[s.n - 1] == '\0')
        return (const char *)s.p;
    char *c = g_strndup((const char *)s.p, s.n);
    g_ptr_array_add(owned, c);
    return c;
}

/* bs_array_peek() of an "aay" read in place: FALSE when it does not read. */
static bool
span_array_peek(bw_gv_span_t s, GPtrArray *out, GPtrArray *owned)
{
    bw_gv_array_t a;
    if (!bw_gv_array_init(&a, s, 1))
        return false;
    bw_gv_span_t e;
    int r;
    while ((r = bw_gv_array_next(&a, &e)) == 1) {
        const char *c = span_peek(e, owned);
        if (c != NULL && out != NULL)
            g_ptr_array_add(out, (gpointer)c);
    }
    return r == 0;
}

/* feed_sent() reading the messages in place (gv-read.h): the same
 * messages, fed in the same order.  Every message is read once first:
 * FALSE, nothing fed, when any does not read (then feed_sent() reads
 * them through GLib). */
static bool
feed_sent_in_place(GVariant *vs, bw_profile_t *profile)
{
    g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) received = g_ptr_array_new();
    g_autoptr(GPtrArray) to = g_ptr_array_new();
    for (int feed = 0; feed < 2; feed++) {
        bw_gv_array_t a;
        if (!bw_gv_array_init(&a, gv_span(vs), SNAP_SENT_ALIGN))
            return false;
        bw_gv_span_t e;
        int r;
        while ((r = bw_gv_array_next(&a, &e)) == 1) {
            bw_gv_span_t m[G_N_ELEMENTS(snap_sent_members)];
            if (!bw_gv_tuple(e, snap_sent_members, G_N_ELEMENTS(snap_sent_members), m))
                return false;
            g_ptr_array_set_size(owned, 0);
            g_ptr_array_set_size(received, 0);
            g_ptr_array_set_size(to, 0);
            if (!span_array_peek(m[6], feed ? to : NULL, owned) ||
                !span_array_peek(m[2], feed ? received : NULL, owned))
                return false;
            if (!feed)
                continue;
            gint64 date = 0;
            memcpy(&date, m[5].p, sizeof date);
            bw_sent_mail_t sm = {
                .message_id = (char *)span_peek(m[0], owned),
                .from = (char *)span_peek(m[1], owned),
                .received = received,
                .dkim_domain = (char *)span_peek(m[3], owned),
                .x_mailer = (char *)span_peek(m[4], owned),
                .date = date,
                .to = to,
            };
            bw_sent_mail_feed(profile, &sm);
        }
        if (r < 0)
            return false;
    }
    return true;
}

guint
bw_snapshot_sent_oldest(GVariant *vs, gint64 *oldest)
{
    *oldest = 0;
    bw_gv_array_t a;
    if (!bw_gv_array_init(&a, gv_span(vs), SNAP_SENT_ALIGN))
        return 0;
    bw_gv_span_t e;
    guint n = 0;
    gint64 least = G_MAXINT64;
    int r;
    while ((r = bw_gv_array_next(&a, &e)) == 1) {
        bw_gv_span_t m[G_N_ELEMENTS(snap_sent_members)];
        if (!bw_gv_tuple(e, snap_sent_members, G_N_ELEMENTS(snap_sent_members), m))
            return 0;
        gint64 date = 0;
        memcpy(&date, m[5].p, sizeof date);
        least = MIN(least, date);
        n++;
    }
    if (r < 0 || n == 0)
        return 0;
    *oldest = least;
    return n;
}

/* Feed the profile the sent messages of the snapshot (`vs`:
 * bw_snapshot_sent_variant), in the order the saving run fed them;
 * `sent_out` (may be NULL) gets them as bw_sent_mail_t*. */
void
bw_snapshot_sent(GVariant *vs, bw_profile_t *profile, GPtrArray *sent_out)
{
    if (sent_out == NULL) {
        if (!feed_sent_in_place(vs, profile))
            feed_sent(vs, profile);
        return;
    }
    gsize ns = g_variant_n_children(vs);
    for (gsize i = 0; i < ns; i++) {
        g_auto(sent_fields_t) f = sent_fields(vs, i);
        GVariant *c0 = f.c[0], *c1 = f.c[1], *c2 = f.c[2], *c3 = f.c[3], *c4 = f.c[4],
                 *c5 = f.c[5], *c6 = f.c[6];
        bw_sent_mail_t *s = g_new0(bw_sent_mail_t, 1);
        s->to = g_ptr_array_new_with_free_func(g_free);
        bs_array_into(c6, s->to);
        s->message_id = bs_dup(c0);
        s->from = bs_dup(c1);
        s->received = g_ptr_array_new_with_free_func(g_free);
        bs_array_into(c2, s->received);
        s->dkim_domain = bs_dup(c3);
        s->x_mailer = bs_dup(c4);
        s->date = g_variant_get_int64(c5);
        bw_sent_mail_feed(profile, s);
        g_ptr_array_add(sent_out, s);
    }
}

/* The profile's part of snapshot_load: the same checks of each entry
 * against its row (an id, a `bounces` entry, the row's id, date and
 * `learn`), the same originals learnt in the same order, without making
 * the items (the watch agent's and `scan`'s load of the stored reports
 * needs only the profile: ~1,300 items decoded and freed for nothing). */
static bool
replay_entries(bw_store_t *store, bw_profile_t *profile, GPtrArray *entries)
{
    const GVariantType *item_type = G_VARIANT_TYPE(SNAP_ITEM_TYPE);
    g_autoptr(GVariant) held = NULL;   /* (see snapshot_load) */
    for (guint i = 0; i < entries->len; i++) {
        const bw_store_snap_entry_t *e = g_ptr_array_index(entries, i);
        g_autoptr(GVariant) t = g_variant_ref_sink(
            g_variant_new_from_bytes(item_type, e->entry, TRUE));
        if (held == NULL)
            held = g_variant_ref(t);
        g_autoptr(GVariant) c0 = g_variant_get_child_value(t, 0);
        g_autoptr(GVariant) c1 = g_variant_get_child_value(t, 1);
        g_autoptr(GVariant) c5 = g_variant_get_child_value(t, 5);
        g_autoptr(GVariant) c6 = g_variant_get_child_value(t, 6);
        g_autofree char *id = bs_dup(c0);
        bool learn = g_variant_get_boolean(c5);
        gsize frag_len = 0;
        const char *frag = g_variant_get_fixed_array(c6, &frag_len, 1);
        if (id == NULL || frag == NULL || frag_len == 0 || strcmp(id, e->message_id) != 0 ||
            g_variant_get_int64(c1) != e->date || learn != e->learn) {
            /* not the entry of its row: refused as a damaged one */
            bw_store_snap_entry_refuse(store, e->message_id);
            return false;
        }
        if (!learn)
            continue;
        g_autoptr(GVariant) c8 = g_variant_get_child_value(t, 8);
        g_autoptr(GVariant) c9 = g_variant_get_child_value(t, 9);
        char *dkim = bs_dup(c8);
        if (dkim != NULL || g_variant_n_children(c9) > 0) {
            bw_original_t *o = bw_original_new();
            o->dkim_domain = dkim;
            bs_array_into(c9, o->received);
            bw_profile_learn_original(profile, o);
            bw_original_free(o);
        }
    }
    return true;
}

/* Decode the stored snapshot: feeds `profile` exactly as the save's run fed
 * it (sent mail, then the originals bw_classify_learn() learnt from) and gives the
 * slim items.  FALSE when there is none, or it does not match the items
 * table (then the caller reads the items themselves).  `profile_only`:
 * no item is made (`items`, `fragments` and `learnt` stay NULL), each
 * entry is checked against its row as it would be and only the originals
 * the profile learns from are read. */
static bool
snapshot_load(bw_store_t *store, bw_profile_t *profile, bool profile_only, snapshot_t *out)
{
    memset(out, 0, sizeof *out);
    /* The sent row, the entries and the count in one read transaction: all
     * of one save, whatever another run commits meanwhile (a save between
     * two of them would mix two states; the count catches only a change
     * in the number of items).  Damaged entries found are dropped at its
     * end. */
    bool one_read = bw_store_read_begin(store);
    g_autoptr(GVariant) vs = bw_snapshot_sent_variant(store);
    bw_test_gate("BOUNCEWATCH_TEST_SNAPSHOT_GATE");
    /* an entry per row of the items table, each checked by the store */
    g_autoptr(GPtrArray) entries = NULL;
    guint64 stored = 0;
    bool whole = vs != NULL && bw_store_load_snap_entries(store, &entries) == BW_OK &&
                 bw_store_count_items(store, &stored) == BW_OK && stored == entries->len;
    if (one_read)
        bw_store_read_end(store);
    if (!whole)
        return false;
    guint count = entries->len;
    bw_snapshot_sent(vs, profile, NULL);
    out->account = bw_account_from_profile(profile);
    if (out->account == NULL)
        return false;

    if (profile_only)
        return replay_entries(store, profile, entries);
    out->items = g_ptr_array_new_full(count, (GDestroyNotify)bw_item_free);
    out->fragments = g_ptr_array_new_full(count, g_free);
    out->learnt = g_hash_table_new(g_direct_hash, g_direct_equal);
    /* The type checked once; `held` keeps GLib's information of it alive
     * through the loop (freed with the last value of the type, it was made
     * again for each entry: ~10,000 instructions each). */
    const GVariantType *item_type = G_VARIANT_TYPE(SNAP_ITEM_TYPE);
    g_autoptr(GVariant) held = NULL;
    for (guint i = 0; i < count; i++) {
        const bw_store_snap_entry_t *e = g_ptr_array_index(entries, i);
        /* Trusted: the bytes the save built (the store checked their sum). */
        g_autoptr(GVariant) t = g_variant_ref_sink(
            g_variant_new_from_bytes(item_type, e->entry, TRUE));
        if (held == NULL)
            held = g_variant_ref(t);
        GVariant *c[10];
        for (gsize k = 0; k < G_N_ELEMENTS(c); k++)
            c[k] = g_variant_get_child_value(t, k);
        bw_item_t *it = g_new0(bw_item_t, 1);
        it->message_id = bs_dup(c[0]);
        it->date_unix = g_variant_get_int64(c[1]);
        guchar klass = g_variant_get_byte(c[2]), origin = g_variant_get_byte(c[3]);
        it->klass = klass <= BW_CLASS_UNDETERMINED ? (bw_class_t)klass : BW_CLASS_UNDETERMINED;
        it->origin = origin <= BW_ORIGIN_FOREIGN ? (bw_origin_t)origin : BW_ORIGIN_UNKNOWN;
        it->campaign = bs_dup(c[4]);
        bool learn = g_variant_get_boolean(c[5]);
        char *frag = bs_dup(c[6]);
        it->report = bw_report_new();
        gsize nr = g_variant_n_children(c[7]);
        for (gsize j = 0; j < nr; j++) {
            g_autoptr(GVariant) rt = g_variant_get_child_value(c[7], j);
            g_autoptr(GVariant) r0 = g_variant_get_child_value(rt, 0);
            g_autoptr(GVariant) r1 = g_variant_get_child_value(rt, 1);
            g_autoptr(GVariant) r2 = g_variant_get_child_value(rt, 2);
            bw_recipient_t *rc = bw_recipient_new();
            rc->address = bs_dup(r0);
            rc->action = bs_dup(r1);
            guchar reason = g_variant_get_byte(r2);
            rc->reason = reason < BW_REASON_LAST ? (bw_reason_t)reason : BW_REASON_UNKNOWN;
            g_ptr_array_add(it->report->recipients, rc);
        }
        char *dkim = bs_dup(c[8]);
        if (dkim != NULL || g_variant_n_children(c[9]) > 0) {
            bw_original_t *o = bw_original_new();
            o->dkim_domain = dkim;
            bs_array_into(c[9], o->received);
            it->report->original = o;
        }
        for (gsize k = 0; k < G_N_ELEMENTS(c); k++)
            g_variant_unref(c[k]);
        if (it->message_id == NULL || frag == NULL || strcmp(it->message_id, e->message_id) != 0 ||
            it->date_unix != e->date || learn != e->learn) {
            /* not the entry of its row: refused as a damaged one */
            bw_store_snap_entry_refuse(store, e->message_id);
            g_free(frag);
            bw_item_free(it);
            snapshot_clear(out);
            return false;
        }
        if (learn && it->report->original) {
            bw_profile_learn_original(profile, it->report->original);
            g_hash_table_add(out->learnt, it);
        }
        g_ptr_array_add(out->items, it);
        g_ptr_array_add(out->fragments, frag);
    }
    return true;
}

/* At most so many item structs allocated ahead (bw_snapshot_slim_items). */
#define SLIM_SPARE_MAX 1000000u

/* A stored item read from its entry (bw_snapshot_slim_items). */
typedef struct {
    bw_item_t *item;
    char *questions;
} slim_row_t;

typedef struct {
    GPtrArray *items;        /* bw_item_t*, as read */
    GPtrArray *questions;    /* char*, each its item's */
    char *refused;           /* the row whose entry is not its own */
    bool unsorted;           /* a row before one it follows */
    bw_item_t **spare;       /* item structs allocated before the rows are read */
    guint n_spare, next_spare;
} slim_load_t;

static void
slim_row_clear(gpointer p)
{
    slim_row_t *r = p;
    g_clear_pointer(&r->item, bw_item_free);
    g_clear_pointer(&r->questions, g_free);
}

/* By date, then Message-ID as SQLite's BINARY collation orders them (the
 * rows' order: store.c, cmp_loaded_row). */
static gint
cmp_slim_item(const bw_item_t *x, const bw_item_t *y)
{
    if (x->date_unix != y->date_unix)
        return x->date_unix < y->date_unix ? -1 : 1;
    return strcmp(x->message_id, y->message_id);
}

static gint
cmp_slim_row(gconstpointer a, gconstpointer b)
{
    return cmp_slim_item(((const slim_row_t *)a)->item, ((const slim_row_t *)b)->item);
}

static bool
slim_take(void *data, const char *message_id, gint64 date, bool learn, const void *bytes,
          gsize len)
{
    slim_load_t *l = data;
    bool entry_learn = false;
    slim_row_t row = { NULL, NULL };
    bw_item_t *into = l->next_spare < l->n_spare ? l->spare[l->next_spare++] : g_new0(bw_item_t, 1);
    row.item = bw_item_from_snap_entry_into(into, bytes, len, &entry_learn, &row.questions);
    if (row.item == NULL || strcmp(row.item->message_id, message_id) != 0 ||
        row.item->date_unix != date || entry_learn != learn) {
        /* not the entry of its row: refused as a damaged one */
        slim_row_clear(&row);
        l->refused = g_strdup(message_id);
        return false;
    }
    /* (in order so far: the table's order is most often the dates') */
    if (l->items->len > 0 &&
        cmp_slim_item(g_ptr_array_index(l->items, l->items->len - 1), row.item) >= 0)
        l->unsorted = true;
    /* straight into the lists handed out (one pair of lists, no copy) */
    g_ptr_array_add(l->items, row.item);
    g_ptr_array_add(l->questions, row.questions);
    return true;
}

/* `items` and their `questions` (index for index) sorted as the rows. */
static void
slim_sort(GPtrArray *items, GPtrArray *questions)
{
    g_autoptr(GArray) rows = g_array_sized_new(FALSE, FALSE, sizeof(slim_row_t), items->len);
    for (guint i = 0; i < items->len; i++) {
        slim_row_t r = { g_ptr_array_index(items, i), g_ptr_array_index(questions, i) };
        g_array_append_val(rows, r);
    }
    g_array_sort(rows, cmp_slim_row);
    for (guint i = 0; i < rows->len; i++) {
        g_ptr_array_index(items, i) = g_array_index(rows, slim_row_t, i).item;
        g_ptr_array_index(questions, i) = g_array_index(rows, slim_row_t, i).questions;
    }
}

bool
bw_snapshot_slim_items(bw_store_t *store, GPtrArray **items, GPtrArray **questions)
{
    *items = NULL;
    *questions = NULL;
    guint64 stored = 0;
    if (bw_store_count_items(store, &stored) != BW_OK || stored > G_MAXUINT)
        return false;
    g_autoptr(GPtrArray) its = g_ptr_array_new_full((guint)stored, (GDestroyNotify)bw_item_free);
    g_autoptr(GPtrArray) qs = g_ptr_array_new_full((guint)stored, g_free);
    /* Every item's struct first, one after the other (each its own
     * allocation, freed as any item): what each later pass over the items
     * reads of them first (class, report, campaign...) then lies in
     * neighbouring memory, in the order the passes go, not each beside its
     * own row's ~2 kB of strings and lists. */
    slim_load_t l = { its, qs, NULL, false, NULL, 0, 0 };
    l.n_spare = (guint)MIN(stored, (guint64)SLIM_SPARE_MAX);
    l.spare = g_new(bw_item_t *, MAX(l.n_spare, 1u));
    for (guint i = 0; i < l.n_spare; i++)
        l.spare[i] = g_new0(bw_item_t, 1);
    bw_status_t st = bw_store_each_snap_entry(store, slim_take, &l);
    for (guint i = l.next_spare; i < l.n_spare; i++)
        g_free(l.spare[i]);
    g_free(l.spare);
    if (l.refused != NULL) {
        bw_store_snap_entry_refuse(store, l.refused);
        g_free(l.refused);
    }
    if (st != BW_OK || its->len != stored)
        return false;
    if (l.unsorted)
        slim_sort(its, qs);
    *items = g_steal_pointer(&its);
    *questions = g_steal_pointer(&qs);
    return true;
}

bool
bw_snapshot_replay_profile(bw_store_t *store, bw_profile_t *profile, bw_account_t **account)
{
    g_auto(snapshot_t) snap = { 0 };
    if (!snapshot_load(store, profile, true, &snap))
        return false;
    if (account != NULL)
        *account = g_steal_pointer(&snap.account);
    return true;
}

/* `text`, a document whose `bounces` is empty, with the entries `texts`
 * in it, or NULL. */
static char *
splice_entries(const char *text, const GPtrArray *texts)
{
    /* Inside JSON strings every quote is escaped, so this can only be the
     * top-level member. */
    static const char hole[] = "\"bounces\":[]";
    const char *at = text != NULL ? strstr(text, hole) : NULL;
    if (at == NULL)
        return NULL;
    gsize head = (gsize)(at - text) + sizeof hole - 2;   /* up to and with '[' */
    GString *g = g_string_sized_new(strlen(text) + 1024 * texts->len);
    g_string_append_len(g, text, (gssize)head);
    for (guint i = 0; i < texts->len; i++) {
        if (i)
            g_string_append_c(g, ',');
        g_string_append(g, g_ptr_array_index(texts, i));
    }
    g_string_append(g, text + head);
    return g_string_free(g, FALSE);
}

/* The SPEC document of a run with nothing new, from the snapshot: surges
 * and the assessment computed for this "now" and --since, the `bounces`
 * entries spliced in as stored.  NULL when the snapshot cannot be used. */
char *
bw_snapshot_document(bw_scan_t *s, bw_profile_t *profile)
{
    const bw_scanner_options_t *opts = s->opts;
    bw_store_t *store = s->store;
    g_auto(snapshot_t) snap = { 0 };
    if (!snapshot_load(store, profile, false, &snap))
        return NULL;
    bw_scan_phase("snap-load");
    g_autoptr(GPtrArray) campaigns = NULL;
    if (bw_store_load_campaigns(store, &campaigns, NULL) != BW_OK)
        return NULL;
    bw_scan_phase("campaigns");
    bw_surge_config_t scfg;
    bw_surge_config_default(&scfg);
    g_autoptr(GPtrArray) surges = NULL;
    if (bw_surges_detect(snap.items, opts->now, &scfg, &surges) != BW_OK)
        return NULL;
    bw_scan_phase("surges");
    /* --since, as apply_since() does on a full result. */
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    g_autoptr(GPtrArray) kept_text = g_ptr_array_new();
    for (guint i = 0; i < snap.items->len; i++) {
        bw_item_t *it = g_ptr_array_index(snap.items, i);
        if (opts->since > 0 && it->date_unix < opts->since)
            continue;
        g_ptr_array_add(kept, it);
        g_ptr_array_add(kept_text, g_ptr_array_index(snap.fragments, i));
    }
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    bw_scan_result_t r = { 0 };
    r.database = (char *)bw_nm_source_path(s->src);
    r.revision = s->revision;
    r.messages_examined = s->total;
    r.items = none;
    r.campaigns = campaigns;
    r.surges = surges;
    g_autoptr(GPtrArray) skipped = bw_scan_skips_result(&s->skips);
    r.skipped = skipped;
    if (opts->since > 0)
        bw_scan_apply_since(&r, opts->since);
    /* The originals learnt from above are not learnt again (learning is
     * idempotent: scan.c passes the run's learnt ones the same way). */
    if (bw_assess_learnt(profile, kept, r.campaigns, r.surges, opts->now, snap.learnt,
                         &r.assessment) != BW_OK)
        return NULL;
    bw_scan_phase("assess");
    /* the signals as the stored rows give them (nothing new was read) */
    g_auto(bw_signals_run_t) sig = { 0 };
    bw_mailbox_ops_t ops;
    bw_nm_source_mailbox_ops(s->src, &ops);
    bw_signals_reading_t reading;
    bw_scan_signals_reading(s, &reading);
    if (bw_signals_stage_run(&sig, s->src, s->store, profile, g_steal_pointer(&snap.account),
                             &ops, &reading,
                             BW_SIGNALS_READ_NONE, 0, NULL) != BW_OK ||
        bw_signals_stage_assess(&sig, &r, NULL) != BW_OK) {
        bw_assessment_free(r.assessment);
        return NULL;
    }
    bw_scan_phase(bw_signals_phase(&sig));
    JsonNode *node = bw_scan_result_to_json(&r);
    bw_assessment_free(r.assessment);
    g_clear_pointer(&r.signals, g_ptr_array_unref);
    g_clear_pointer(&r.phishing, g_ptr_array_unref);
    g_clear_pointer(&r.signals_assessment, bw_signals_assessment_free);
    if (node == NULL)
        return NULL;
    g_autofree char *text = bw_json_node_to_text(node);   /* (U+001F escaped) */
    json_node_unref(node);
    return splice_entries(text, kept_text);
}

/* The text of bw_scan_result_to_json(r) (U+001F escaped, as
 * bw_json_node_to_text writes it), the `bounces` entries written as the
 * snapshot writes them (item_fragments: the same bytes) and spliced into
 * the document of the rest: building and freeing the tree of every entry
 * cost ~100 k instructions an item. */
char *
bw_scan_result_text(const bw_scan_result_t *r)
{
    g_autoptr(GPtrArray) entries = r->items != NULL && r->items->len > 0
                                   ? item_fragments(r->items) : g_ptr_array_new();
    bw_scan_result_t rest = *r;
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    rest.items = none;
    JsonNode *node = bw_scan_result_to_json(&rest);
    if (node == NULL)
        return NULL;
    g_autofree char *text = bw_json_node_to_text(node);   /* (U+001F escaped) */
    json_node_unref(node);
    if (entries == NULL) {
        /* (none could be made: the whole document by json-glib) */
        node = bw_scan_result_to_json(r);
        return node != NULL ? bw_json_node_take_text(node) : NULL;
    }
    return splice_entries(text, entries);
}
