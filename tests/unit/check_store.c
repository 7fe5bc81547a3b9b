/* check_store.c: the SQLite state store (src/adapters/store.c). */
#include "suites.h"
#include "store.h"
#include "bw-reader.h"
#include "scanner.h"
#include "scan-private.h"
#include "nm-tagger.h"
#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmpdir;

static void
setup(void)
{
    tmpdir = g_dir_make_tmp("bw-store-XXXXXX", NULL);
    ck_assert_ptr_nonnull(tmpdir);
}

static void
rm_rf(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d)) != NULL) {
            g_autofree char *p = g_build_filename(path, n, NULL);
            if (g_file_test(p, G_FILE_TEST_IS_DIR))
                rm_rf(p);
            else
                g_unlink(p);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}

static void
teardown(void)
{
    rm_rf(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
}

static char *
state_path(void)
{
    return g_build_filename(tmpdir, "data", "bouncewatch", "state.sqlite", NULL);
}

START_TEST(test_open_modes)
{
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    /* A sentinel that bw_store_open must overwrite with NULL (it owns no
     * memory: the out-parameter is set, never freed). */
    char *rebuilt = (char *)"not touched";
    ck_assert_int_eq(bw_store_open(path, &s, &rebuilt, NULL), BW_OK);
    ck_assert_ptr_null(rebuilt);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    g_autofree char *dir = g_path_get_dirname(path);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
}
END_TEST

START_TEST(test_meta_roundtrip)
{
    g_autofree char *path = state_path();
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        ck_assert_int_eq(bw_store_set_meta(s, "revision", "42"), BW_OK);
        ck_assert_int_eq(bw_store_set_meta(s, "uuid", "abc-def"), BW_OK);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
        /* A rolled back change leaves no trace. */
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        ck_assert_int_eq(bw_store_set_meta(s, "revision", "99"), BW_OK);
        bw_store_rollback(s);
    }
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autofree char *rev = NULL, *uuid = NULL, *none = NULL;
    ck_assert_int_eq(bw_store_get_meta(s, "revision", &rev), BW_OK);
    ck_assert_str_eq(rev, "42");
    ck_assert_int_eq(bw_store_get_meta(s, "uuid", &uuid), BW_OK);
    ck_assert_str_eq(uuid, "abc-def");
    ck_assert_int_eq(bw_store_get_meta(s, "missing", &none), BW_OK);
    ck_assert_ptr_null(none);
}
END_TEST

static bw_campaign_t *
campaign_new(const char *id, const char *const *members, gint64 first)
{
    bw_campaign_t *c = g_new0(bw_campaign_t, 1);
    c->id = g_strdup(id);
    c->members = g_ptr_array_new_with_free_func(g_free);
    for (; *members; members++)
        g_ptr_array_add(c->members, g_strdup(*members));
    c->subjects = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(c->subjects, g_strdup("Your parcel \"7\" is waiting"));
    c->forged_senders = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(c->forged_senders, g_strdup("owner@example.org"));
    c->reporting_domains = g_ptr_array_new_with_free_func(g_free);
    c->first_seen = first;
    c->last_seen = first + 3600;
    c->origin = BW_ORIGIN_FOREIGN;
    c->fp.subject_template = G_GUINT64_CONSTANT(0xfedcba9876543210); /* > 2^63 */
    c->fp.body_simhash = 1;
    c->fp.subject_masked = g_strdup("your parcel # is waiting");
    return c;
}

/* SQLite's order of signed integers, as scan-read.c's known_sort gives. */
static gint
cmp_signed(gconstpointer a, gconstpointer b)
{
    gint64 x = (gint64)*(const guint64 *)a, y = (gint64)*(const guint64 *)b;
    return x < y ? -1 : x > y;
}

/* The whole set, as (h, files) pairs in key order, through lookups of the
 * keys in `probe` (every key any step used): the rows the set holds. */
static char *
known_dump(bw_store_t *s, GArray *probe)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < probe->len; i++) {
        guint64 h = g_array_index(probe, guint64, i);
        if (i > 0 && h == g_array_index(probe, guint64, i - 1))
            continue;
        bool found = false;
        guint files = 0;
        ck_assert_int_eq(bw_store_known_id(s, h, &found, &files), BW_OK);
        if (found)
            g_string_append_printf(out, "%" G_GINT64_FORMAT ":%u ", (gint64)h, files);
    }
    return g_string_free(out, FALSE);
}

/* BW_KNOWN_SYNC leaves exactly the set BW_KNOWN_REPLACE leaves, from any
 * set before: rows gone, rows new, files changed, equal keys in the
 * listing (the last counts), keys on both sides of the sign bit. */
START_TEST(test_known_ids_sync)
{
    g_autofree char *path = state_path();
    g_autofree char *path2 = g_strconcat(path, "-2", NULL);
    g_autoptr(bw_store_t) a = NULL, b = NULL;
    ck_assert_int_eq(bw_store_open(path, &a, NULL, NULL), BW_OK);
    ck_assert_int_eq(bw_store_open(path2, &b, NULL, NULL), BW_OK);
    g_autoptr(GArray) probe = g_array_new(FALSE, FALSE, sizeof(guint64));
    GRand *rnd = g_rand_new_with_seed(11);
    for (int round = 0; round < 40; round++) {
        /* the set before, the same in both stores */
        guint n0 = (guint)g_rand_int_range(rnd, 0, 300);
        g_autoptr(GArray) h0 = g_array_new(FALSE, FALSE, sizeof(guint64));
        g_autoptr(GArray) f0 = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint i = 0; i < n0; i++) {
            guint64 h = ((guint64)g_rand_int(rnd) << 32) | g_rand_int(rnd);
            if (g_rand_int_range(rnd, 0, 4) == 0)
                h = (guint64)g_rand_int_range(rnd, -20, 20);   /* near 0 and -1 */
            guint f = (guint)g_rand_int_range(rnd, 1, 4);
            g_array_append_val(h0, h);
            g_array_append_val(f0, f);
            g_array_append_val(probe, h);
        }
        for (int k = 0; k < 2; k++) {
            bw_store_t *s = k == 0 ? a : b;
            ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
            ck_assert_int_eq(bw_store_known_ids_put(s, BW_KNOWN_REPLACE, (guint64 *)(void *)h0->data,
                                                    (guint *)(void *)f0->data, h0->len), BW_OK);
            ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
        }
        /* the listing: most of the old keys, some new ones, some twice */
        g_autoptr(GArray) h1 = g_array_new(FALSE, FALSE, sizeof(guint64));
        for (guint i = 0; i < n0; i++)
            if (g_rand_int_range(rnd, 0, 10) != 0)
                g_array_append_val(h1, g_array_index(h0, guint64, i));
        guint added = (guint)g_rand_int_range(rnd, 0, 30);
        for (guint i = 0; i < added; i++) {
            guint64 h = ((guint64)g_rand_int(rnd) << 32) | g_rand_int(rnd);
            if (g_rand_int_range(rnd, 0, 3) == 0)
                h = (guint64)g_rand_int_range(rnd, -20, 20);
            g_array_append_val(h1, h);
            g_array_append_val(probe, h);
        }
        for (guint i = 0; i < 5 && h1->len > 0; i++) {
            guint64 h = g_array_index(h1, guint64, (guint)g_rand_int_range(rnd, 0, (gint32)h1->len));
            g_array_append_val(h1, h);
        }
        g_array_sort(h1, cmp_signed);
        g_autoptr(GArray) f1 = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint i = 0; i < h1->len; i++) {
            guint f = (guint)g_rand_int_range(rnd, 1, 3);
            g_array_append_val(f1, f);
        }
        ck_assert_int_eq(bw_store_begin(a, NULL), BW_OK);
        ck_assert_int_eq(bw_store_known_ids_put(a, BW_KNOWN_REPLACE, (guint64 *)(void *)h1->data,
                                                (guint *)(void *)f1->data, h1->len), BW_OK);
        ck_assert_int_eq(bw_store_commit(a, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(b, NULL), BW_OK);
        ck_assert_int_eq(bw_store_known_ids_put(b, BW_KNOWN_SYNC, (guint64 *)(void *)h1->data,
                                                (guint *)(void *)f1->data, h1->len), BW_OK);
        ck_assert_int_eq(bw_store_commit(b, NULL), BW_OK);
        g_array_sort(probe, cmp_signed);
        g_autofree char *da = known_dump(a, probe), *db = known_dump(b, probe);
        ck_assert_str_eq(db, da);
        ck_assert(h1->len == 0 || *da != '\0');
    }
    g_rand_free(rnd);
}
END_TEST

START_TEST(test_campaigns_keep_muted)
{
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    static const char *const m1[] = { "a@x", "b@x", NULL };
    static const char *const m2[] = { "c@y", NULL };
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(list, campaign_new("bw-00000001", m1, 1000));
    g_ptr_array_add(list, campaign_new("bw-00000002", m2, 2000));
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    ck_assert_int_eq(bw_store_set_muted(s, "bw-00000002", true), BW_OK);
    ck_assert_int_eq(bw_store_set_muted(s, "bw-unknown", true), BW_E_INVALID);

    /* Saving a new set keeps the user's mute of an id that remains. */
    g_autoptr(GPtrArray) again = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(again, campaign_new("bw-00000002", m2, 2000));
    ck_assert_int_eq(bw_store_save_campaigns(s, again, NULL), BW_OK);

    g_autoptr(GPtrArray) loaded = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &loaded, NULL), BW_OK);
    ck_assert_uint_eq(loaded->len, 1);
    bw_campaign_t *c = g_ptr_array_index(loaded, 0);
    ck_assert_str_eq(c->id, "bw-00000002");
    ck_assert(c->muted);
    ck_assert_uint_eq(c->members->len, 1);
    ck_assert_str_eq(g_ptr_array_index(c->members, 0), "c@y");
    ck_assert_int_eq(c->origin, BW_ORIGIN_FOREIGN);
    ck_assert(c->fp.subject_template == G_GUINT64_CONSTANT(0xfedcba9876543210));
    ck_assert_str_eq(c->fp.subject_masked, "your parcel # is waiting");
    ck_assert_str_eq(g_ptr_array_index(c->subjects, 0), "Your parcel \"7\" is waiting");
    ck_assert_int_eq(c->last_seen, 5600);
}
END_TEST

/* A campaign's text as its JSON form writes it: two campaigns with the
 * same text are the same campaign for everything that reads one. */
static char *
campaign_text(const bw_campaign_t *c)
{
    JsonNode *n = bw_store_campaign_to_json(c);
    char *t = json_to_string(n, FALSE);
    json_node_unref(n);
    return t;
}

/* The binary form gives back what the JSON form gives back, field for
 * field (and the same bytes again), on campaigns with every kind of
 * value; text that is not UTF-8 gets no binary form (its JSON is read). */
START_TEST(test_campaign_bin_roundtrip)
{
    static const char *const m[] = { "a@x", "", "b@x", NULL };
    static const char *const none[] = { NULL };
    bw_campaign_t *cs[4];
    cs[0] = campaign_new("bw-00000001", m, 1000);
    cs[1] = campaign_new("bw-00000002", none, -5);
    cs[1]->origin = BW_ORIGIN_UNKNOWN;
    g_clear_pointer(&cs[1]->fp.subject_masked, g_free);
    memset(&cs[1]->fp, 0, sizeof cs[1]->fp);
    g_ptr_array_set_size(cs[1]->subjects, 0);
    cs[2] = campaign_new("bw-00000003", m, G_MAXINT64 - 3600);
    cs[2]->origin = BW_ORIGIN_OWN_ACCOUNT;
    g_free(cs[2]->fp.subject_masked);
    cs[2]->fp = (bw_fingerprint_t){ G_MAXUINT64, 2, 3, 4, 5, 6, 7, g_strdup(""), 9 };
    g_ptr_array_add(cs[2]->reporting_domains, g_strdup("mx.example.net"));
    g_ptr_array_add(cs[2]->subjects, g_strdup("\xe2\x9c\x93 \"quoted\" \\ \x1f tab\t"));
    cs[2]->muted = true;   /* (the row's column, not the form) */
    cs[3] = campaign_new("bw-00000004", m, 7);
    g_ptr_array_add(cs[3]->subjects, NULL);   /* left out, as the JSON reader does */
    g_ptr_array_add(cs[3]->forged_senders, g_strdup("x@y"));
    for (guint i = 0; i < G_N_ELEMENTS(cs); i++) {
        g_autoptr(GBytes) bin = bw_store_campaign_to_bin(cs[i]);
        ck_assert_ptr_nonnull(bin);
        gsize len;
        const guchar *b = g_bytes_get_data(bin, &len);
        bw_campaign_t *back = bw_store_campaign_from_bin(b, len);
        ck_assert_ptr_nonnull(back);
        ck_assert(!back->muted);
        JsonNode *n = bw_store_campaign_to_json(cs[i]);
        bw_campaign_t *viajson = bw_store_campaign_from_json(n);
        json_node_unref(n);
        ck_assert_ptr_nonnull(viajson);
        viajson->muted = false;   /* (the store sets it from the row's column) */
        g_autofree char *t_back = campaign_text(back);
        g_autofree char *t_json = campaign_text(viajson);
        ck_assert_str_eq(t_back, t_json);
        ck_assert_int_eq(back->first_seen, cs[i]->first_seen);
        ck_assert_int_eq(back->last_seen, cs[i]->last_seen);
        ck_assert_int_eq(back->origin, cs[i]->origin);
        ck_assert(back->fp.subject_template == cs[i]->fp.subject_template);
        ck_assert(back->fp.subject_names == cs[i]->fp.subject_names);
        ck_assert_str_eq(back->fp.subject_masked ? back->fp.subject_masked : "(null)",
                         cs[i]->fp.subject_masked ? cs[i]->fp.subject_masked : "(null)");
        ck_assert_uint_eq(back->members->len, cs[i]->members->len);
        /* the row's text, written directly, is json-glib's */
        JsonNode *jn = bw_store_campaign_to_json(cs[i]);
        g_autofree char *t_glib = bw_json_node_to_text(jn);
        json_node_unref(jn);
        g_autofree char *t_direct = bw_store_campaign_to_text(cs[i]);
        ck_assert_str_eq(t_direct, t_glib);
        g_autoptr(GBytes) again = bw_store_campaign_to_bin(back);
        ck_assert(g_bytes_equal(again, bin));
        bw_campaign_free(back);
        bw_campaign_free(viajson);
    }
    ck_assert_uint_eq(((bw_campaign_t *)cs[3])->subjects->len, 2);
    /* not UTF-8: no binary form */
    g_ptr_array_add(cs[0]->members, g_strdup("bad\xff@x"));
    ck_assert_ptr_null(bw_store_campaign_to_bin(cs[0]));
    JsonNode *jn = bw_store_campaign_to_json(cs[0]);
    g_autofree char *t_glib = bw_json_node_to_text(jn);
    json_node_unref(jn);
    g_autofree char *t_direct = bw_store_campaign_to_text(cs[0]);
    ck_assert_str_eq(t_direct, t_glib);
    for (guint i = 0; i < G_N_ELEMENTS(cs); i++)
        bw_campaign_free(cs[i]);
}
END_TEST

/* A damaged binary form is refused (every byte changed, every length cut
 * short, bytes added); the store then reads the row's JSON, and a row
 * with neither readable makes the load fail, as a damaged JSON did. */
START_TEST(test_campaign_bin_damage)
{
    static const char *const m[] = { "a@x", "b@x", NULL };
    bw_campaign_t *c = campaign_new("bw-00000001", m, 1000);
    g_autoptr(GBytes) bin = bw_store_campaign_to_bin(c);
    gsize len;
    const guchar *b = g_bytes_get_data(bin, &len);
    g_autofree guchar *copy = g_malloc(len + 1);
    for (gsize i = 0; i < len; i++) {
        memcpy(copy, b, len);
        copy[i] ^= 0x20;
        ck_assert_ptr_null(bw_store_campaign_from_bin(copy, len));
    }
    for (gsize n = 0; n < len; n++)
        ck_assert_ptr_null(bw_store_campaign_from_bin(b, n));
    memcpy(copy, b, len);
    copy[len] = 0;
    ck_assert_ptr_null(bw_store_campaign_from_bin(copy, len + 1));
    ck_assert_ptr_null(bw_store_campaign_from_bin(NULL, 0));

    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(list, c);
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    /* one byte of the stored form changed: refused, the JSON read */
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE campaigns SET bin = "
                                      "substr(bin, 1, 40) || x'00' || substr(bin, 42)",
                                  NULL, NULL, NULL), SQLITE_OK);
    g_autoptr(GPtrArray) loaded = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &loaded, NULL), BW_OK);
    ck_assert_uint_eq(loaded->len, 1);
    g_autofree char *t_saved = campaign_text(c);
    g_autofree char *t_loaded = campaign_text(g_ptr_array_index(loaded, 0));
    ck_assert_str_eq(t_loaded, t_saved);
    /* the JSON damaged too: unreadable */
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE campaigns SET json = '{\"id\":'", NULL, NULL, NULL),
                     SQLITE_OK);
    g_autoptr(GPtrArray) none = NULL;
    g_autofree char *why = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &none, &why), BW_E_STATE);
    ck_assert_ptr_null(none);
    ck_assert_ptr_nonnull(strstr(why, "unreadable campaign"));
    /* the next save writes the row whole again */
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    g_autoptr(GPtrArray) again = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &again, NULL), BW_OK);
    g_autofree char *t_again = campaign_text(g_ptr_array_index(again, 0));
    ck_assert_str_eq(t_again, t_saved);
    sqlite3_close(db);
}
END_TEST

/* Bytes whose sum holds but that are not a form the writer makes (a
 * foreign write with a matching sum, a writer's bug): the reader checks
 * every length and count against what is left, so each gives a campaign
 * or NULL, never a read outside them (under valgrind or ASan).  The
 * damage test above only reaches the sum check. */
static void
campaign_bin_resum(guchar *b, gsize len)
{
    guint64 sum = GUINT64_TO_LE(bw_xxh64(b + 16, len - 16, G_GUINT64_CONSTANT(0x62772d63616d7031)));
    memcpy(b + 8, &sum, 8);
}

START_TEST(test_campaign_bin_bounds)
{
    static const char *const m[] = { "a@x", "b@x", NULL };
    bw_campaign_t *c = campaign_new("bw-00000001", m, 1000);
    g_autoptr(GBytes) bin = bw_store_campaign_to_bin(c);
    bw_campaign_free(c);
    gsize len;
    const guchar *b = g_bytes_get_data(bin, &len);
    /* the sum recomputed over the writer's bytes: the same campaign */
    g_autofree guchar *copy = g_malloc(len);
    memcpy(copy, b, len);
    campaign_bin_resum(copy, len);
    ck_assert_mem_eq(copy, b, len);
    bw_campaign_t *same = bw_store_campaign_from_bin(copy, len);
    ck_assert_ptr_nonnull(same);
    bw_campaign_free(same);
    static const guchar values[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
    guint read = 0;
    for (gsize i = 16; i < len; i++) {
        for (gsize v = 0; v < G_N_ELEMENTS(values); v++) {
            /* each in a buffer of exactly its length */
            g_autofree guchar *x = g_memdup2(b, len);
            x[i] = values[v];
            campaign_bin_resum(x, len);
            bw_campaign_t *got = bw_store_campaign_from_bin(x, len);
            read += got != NULL;
            bw_campaign_free(got);
        }
    }
    /* (a changed hash or date still reads: the parser did run) */
    ck_assert_uint_gt(read, 0);
    for (gsize n = 16; n < len; n++) {
        g_autofree guchar *x = g_memdup2(b, n);
        campaign_bin_resum(x, n);
        ck_assert_ptr_null(bw_store_campaign_from_bin(x, n));
    }
    /* a long list count, a long string length, with the sum right */
    g_autofree guchar *big = g_malloc(len + 8);
    memcpy(big, b, len);
    memset(big + len, 0xff, 8);
    campaign_bin_resum(big, len + 8);
    ck_assert_ptr_null(bw_store_campaign_from_bin(big, len + 8));
}
END_TEST

/* A binary form whose sum holds but that names another row (a page of
 * another row, a foreign write) is not that row's campaign: refused, the
 * row's JSON read (as an item's form naming another row is), and the next
 * save writes the row's own form again. */
START_TEST(test_campaign_bin_other_row)
{
    static const char *const m1[] = { "a@x", "b@x", NULL };
    static const char *const m2[] = { "c@y", NULL };
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(list, campaign_new("bw-00000001", m1, 1000));
    g_ptr_array_add(list, campaign_new("bw-00000002", m2, 2000));
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    ck_assert_int_eq(bw_store_set_muted(s, "bw-00000001", true), BW_OK);
    g_autofree char *t1 = campaign_text(g_ptr_array_index(list, 0));
    g_autofree char *t2 = campaign_text(g_ptr_array_index(list, 1));
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE campaigns SET bin = (SELECT bin FROM campaigns"
                                      " WHERE id='bw-00000002') WHERE id='bw-00000001'",
                                  NULL, NULL, NULL), SQLITE_OK);
    g_autoptr(GPtrArray) loaded = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &loaded, NULL), BW_OK);
    ck_assert_uint_eq(loaded->len, 2);
    bw_campaign_t *c1 = g_ptr_array_index(loaded, 0), *c2 = g_ptr_array_index(loaded, 1);
    ck_assert_str_eq(c1->id, "bw-00000001");
    ck_assert(c1->muted);
    ck_assert_str_eq(c2->id, "bw-00000002");
    ck_assert(!c2->muted);
    /* (the texts compared muted as saved) */
    c1->muted = false;
    g_autofree char *l1 = campaign_text(c1);
    g_autofree char *l2 = campaign_text(c2);
    ck_assert_str_eq(l1, t1);
    ck_assert_str_eq(l2, t2);
    /* the next save of the same set writes row 1's own form again */
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM campaigns a, campaigns b"
                                            " WHERE a.id<>b.id AND a.bin=b.bin", -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

/* Two programs open a state of an older version at once: both find a
 * column missing, and the second must not fail when the first has added it
 * (it used to: "duplicate column name").  The child stops between its check
 * and its change (BOUNCEWATCH_TEST_COLUMN_GATE) while this process opens
 * the state and adds the columns. */
START_TEST(test_open_adds_columns_once)
{
    g_autofree char *path = state_path();
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    }
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE campaigns DROP COLUMN pos", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    g_autofree char *gate = g_build_filename(tmpdir, "column-gate", NULL);
    g_autofree char *waiting = g_strconcat(gate, ".waiting", NULL);
    g_autofree char *go = g_strconcat(gate, ".go", NULL);
    (void)g_unlink(waiting);
    (void)g_unlink(go);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        g_setenv("BOUNCEWATCH_TEST_COLUMN_GATE", gate, TRUE);
        bw_store_t *s = NULL;
        bw_status_t st = bw_store_open(path, &s, NULL, NULL);
        if (s != NULL)
            bw_store_close(s);
        _exit(st == BW_OK ? 0 : 1);
    }
    for (int i = 0; i < 2000 && !g_file_test(waiting, G_FILE_TEST_EXISTS); i++)
        g_usleep(10000);
    ck_assert(g_file_test(waiting, G_FILE_TEST_EXISTS));
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    }
    ck_assert(g_file_set_contents(go, "", 0, NULL));
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* A read transaction asked for inside another is refused, and leaves the
 * open one as it was: its end commits it, and a save can begin after. */
START_TEST(test_read_transaction_nested)
{
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    ck_assert(bw_store_read_begin(s));
    ck_assert(!bw_store_read_begin(s));
    bw_store_read_end(s);
    ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
    ck_assert(!bw_store_read_begin(s));
    ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    ck_assert(bw_store_read_begin(s));
    bw_store_read_end(s);
}
END_TEST

/* The rowid of each campaign row, by id. */
static GHashTable *
campaign_rowids(sqlite3 *db)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT id, rowid FROM campaigns", -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        g_hash_table_insert(h, g_strdup((const char *)sqlite3_column_text(st, 0)),
                            GINT_TO_POINTER((gint)sqlite3_column_int64(st, 1)));
    sqlite3_finalize(st);
    return h;
}

static void
assert_loaded_ids(bw_store_t *s, const char *const *ids)
{
    g_autoptr(GPtrArray) loaded = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &loaded, NULL), BW_OK);
    guint n = 0;
    for (; ids[n]; n++) {
        ck_assert_uint_gt(loaded->len, n);
        ck_assert_str_eq(((bw_campaign_t *)g_ptr_array_index(loaded, n))->id, ids[n]);
    }
    ck_assert_uint_eq(loaded->len, n);
}

/* A save writes only the campaigns whose row does not hold them already;
 * a load gives them in the order of the last save, and rows of an older
 * version (no binary form, no place) from their JSON in rowid order. */
START_TEST(test_campaigns_save_changed_only)
{
    static const char *const m1[] = { "a@x", "b@x", NULL };
    static const char *const m2[] = { "c@y", NULL };
    static const char *const m3[] = { "d@z", NULL };
    static const char *const m3b[] = { "d@z", "e@z", "f@z", NULL };
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    g_ptr_array_add(list, campaign_new("bw-00000001", m1, 1000));
    g_ptr_array_add(list, campaign_new("bw-00000002", m2, 2000));
    g_ptr_array_add(list, campaign_new("bw-00000003", m3, 3000));
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    g_autoptr(GHashTable) r0 = campaign_rowids(db);
    ck_assert_uint_eq(g_hash_table_size(r0), 3);

    /* the same set: nothing written */
    int before = sqlite3_total_changes(db);
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    g_autoptr(GHashTable) r1 = campaign_rowids(db);
    ck_assert_int_eq(sqlite3_total_changes(db), before);
    for (guint i = 1; i <= 3; i++) {
        g_autofree char *id = g_strdup_printf("bw-0000000%u", i);
        ck_assert_ptr_eq(g_hash_table_lookup(r1, id), g_hash_table_lookup(r0, id));
    }
    static const char *const order1[] = { "bw-00000001", "bw-00000002", "bw-00000003", NULL };
    assert_loaded_ids(s, order1);

    /* the third grows to the front, the second is gone: only the third's
     * row is written again (the first keeps its row, its place moves) */
    g_ptr_array_remove_index(list, 2);
    g_ptr_array_remove_index(list, 1);
    g_ptr_array_insert(list, 0, campaign_new("bw-00000003", m3b, 3000));
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    g_autoptr(GHashTable) r2 = campaign_rowids(db);
    ck_assert_uint_eq(g_hash_table_size(r2), 2);
    ck_assert_ptr_eq(g_hash_table_lookup(r2, "bw-00000001"), g_hash_table_lookup(r0, "bw-00000001"));
    ck_assert_ptr_ne(g_hash_table_lookup(r2, "bw-00000003"), g_hash_table_lookup(r0, "bw-00000003"));
    static const char *const order2[] = { "bw-00000003", "bw-00000001", NULL };
    assert_loaded_ids(s, order2);
    g_autoptr(GPtrArray) loaded = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &loaded, NULL), BW_OK);
    ck_assert_uint_eq(((bw_campaign_t *)g_ptr_array_index(loaded, 0))->members->len, 3);

    /* a muted campaign stays muted, its row as it was */
    ck_assert_int_eq(bw_store_set_muted(s, "bw-00000001", true), BW_OK);
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    g_autoptr(GHashTable) r3 = campaign_rowids(db);
    ck_assert_ptr_eq(g_hash_table_lookup(r3, "bw-00000001"), g_hash_table_lookup(r0, "bw-00000001"));
    g_autoptr(GPtrArray) muted = NULL;
    ck_assert_int_eq(bw_store_load_campaigns(s, &muted, NULL), BW_OK);
    ck_assert(((bw_campaign_t *)g_ptr_array_index(muted, 1))->muted);
    ck_assert(!((bw_campaign_t *)g_ptr_array_index(muted, 0))->muted);

    /* rows as an older version leaves them: read from the JSON, by rowid */
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE campaigns SET bin = NULL, pos = NULL",
                                  NULL, NULL, NULL), SQLITE_OK);
    static const char *const by_rowid[] = { "bw-00000001", "bw-00000003", NULL };
    assert_loaded_ids(s, by_rowid);
    /* the next save writes them all, in its order */
    ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
    assert_loaded_ids(s, order2);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM campaigns WHERE bin IS NOT NULL"
                                            " AND pos IS NOT NULL", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_notified_and_tagged)
{
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    bool found = true;
    guint32 id = 0;
    unsigned count = 0;
    gint64 when = 0;
    ck_assert_int_eq(bw_store_get_notified(s, "surge:1", &found, &id, &count, &when), BW_OK);
    ck_assert(!found);
    ck_assert_int_eq(bw_store_set_notified(s, "surge:1", 77, 12, 1234567), BW_OK);
    ck_assert_int_eq(bw_store_set_notified(s, "surge:1", 77, 40, 1234999), BW_OK);
    ck_assert_int_eq(bw_store_get_notified(s, "surge:1", &found, &id, &count, &when), BW_OK);
    ck_assert(found);
    ck_assert_uint_eq(id, 77);
    ck_assert_uint_eq(count, 40);
    ck_assert_int_eq(when, 1234999);

    ck_assert_int_eq(bw_store_set_tagged(s, "r1@x", "bounce backscatter bw/bw-1"), BW_OK);
    ck_assert_int_eq(bw_store_set_tagged(s, "r2@x", "bounce"), BW_OK);
    ck_assert_int_eq(bw_store_set_tagged(s, "r2@x", NULL), BW_OK);
    g_autoptr(GHashTable) tagged = NULL;
    ck_assert_int_eq(bw_store_load_tagged(s, &tagged), BW_OK);
    ck_assert_uint_eq(g_hash_table_size(tagged), 1);
    ck_assert_str_eq(g_hash_table_lookup(tagged, "r1@x"), "bounce backscatter bw/bw-1");
}
END_TEST

START_TEST(test_corrupt_file_moved_aside)
{
    g_autofree char *path = state_path();
    g_autofree char *dir = g_path_get_dirname(path);
    ck_assert_int_eq(g_mkdir_with_parents(dir, 0700), 0);
    /* Not a database at all: what a crash of a foreign tool or a disk error
     * leaves. */
    const char junk[] = "this is not an SQLite file\n\x01\x02\x03 garbage garbage garbage";
    ck_assert(g_file_set_contents(path, junk, sizeof junk, NULL));
    g_autoptr(bw_store_t) s = NULL;
    g_autofree char *rebuilt = NULL;
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, &rebuilt, &detail), BW_OK);
    ck_assert_ptr_nonnull(rebuilt);
    ck_assert_ptr_null(detail);   /* a notice, not an error */
    ck_assert_ptr_nonnull(strstr(rebuilt, "moved"));
    ck_assert_ptr_null(strchr(rebuilt, '\n'));   /* one line */
    /* The damaged file is kept for inspection next to the new one. */
    GDir *d = g_dir_open(dir, 0, NULL);
    unsigned aside = 0;
    const char *n;
    while ((n = g_dir_read_name(d)) != NULL)
        aside += g_str_has_prefix(n, "state.sqlite.corrupt-");
    g_dir_close(d);
    ck_assert_uint_eq(aside, 1);
    /* And the fresh store works. */
    ck_assert_int_eq(bw_store_set_meta(s, "revision", "1"), BW_OK);
}
END_TEST

/* Count the backups next to `path` and check each holds one of `want`
 * (every damaged file kept, none overwritten). */
static unsigned
count_backups(const char *path, GHashTable *want)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *prefix = g_strconcat(base, ".corrupt-", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    ck_assert_ptr_nonnull(d);
    unsigned n = 0;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        if (!g_str_has_prefix(name, prefix) || g_str_has_suffix(name, "-wal") ||
            g_str_has_suffix(name, "-shm") || g_str_has_suffix(name, "-journal"))
            continue;
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_autofree char *data = NULL;
        ck_assert(g_file_get_contents(p, &data, NULL, NULL));
        ck_assert_msg(g_hash_table_remove(want, data), "backup %s holds unexpected data", name);
        n++;
    }
    g_dir_close(d);
    return n;
}

/* Issue 11 item 7: the backup name had seconds only, so a second corruption
 * in the same second replaced the first backup. */
START_TEST(test_corrupt_twice_same_second_keeps_both)
{
    g_autofree char *path = state_path();
    g_autofree char *dir = g_path_get_dirname(path);
    ck_assert_int_eq(g_mkdir_with_parents(dir, 0700), 0);
    GHashTable *want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* Backups already there under this second's and the next second's plain
     * names (left by an earlier run or kept by the user): never replaced,
     * whichever second the corruptions below fall in. */
    gint64 t = g_get_real_time() / G_USEC_PER_SEC;
    for (gint64 k = 0; k < 2; k++) {
        g_autofree char *old = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, path, t + k);
        g_autofree char *data = g_strdup_printf("older backup %" G_GINT64_FORMAT, k);
        ck_assert(g_file_set_contents(old, data, -1, NULL));
        g_hash_table_add(want, g_steal_pointer(&data));
    }
    for (unsigned round = 0; round < 3; round++) {
        g_autofree char *junk = g_strdup_printf("damaged state number %u, not SQLite", round);
        /* The file damaged with its write-ahead log gone (the rebuilt
         * store's close leaves a short log, whose pages would be read over
         * the file's: as T240 does). */
        g_autofree char *wal = g_strconcat(path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(path, "-shm", NULL);
        (void)g_unlink(wal);
        (void)g_unlink(shm);
        ck_assert(g_file_set_contents(path, junk, -1, NULL));
        g_hash_table_add(want, g_steal_pointer(&junk));
        g_autoptr(bw_store_t) s = NULL;
        g_autofree char *rebuilt = NULL;
        g_autofree char *detail = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, &rebuilt, &detail), BW_OK);
        ck_assert_ptr_nonnull(rebuilt);
        ck_assert_ptr_nonnull(strstr(rebuilt, "moved"));
    }
    ck_assert_uint_eq(count_backups(path, want), 5);
    ck_assert_uint_eq(g_hash_table_size(want), 0);   /* each one found */
    g_hash_table_destroy(want);
}
END_TEST

static gint64 raw_sql(const char *path, const char *sql);

START_TEST(test_truncated_database)
{
    g_autofree char *path = state_path();
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        for (int i = 0; i < 300; i++) {
            g_autofree char *k = g_strdup_printf("key%d", i);
            g_autofree char *v = g_strnfill(200, 'v');
            ck_assert_int_eq(bw_store_set_meta(s, k, v), BW_OK);
        }
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    }
    /* The store's close left them in the write-ahead log: a plain SQLite
     * close copies them into the file and removes the log. */
    raw_sql(path, "SELECT count(*) FROM meta");
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    ck_assert(!g_file_test(wal, G_FILE_TEST_EXISTS));
    /* Keep the SQLite header but scribble over the pages after it. */
    gchar *data = NULL;
    gsize len = 0;
    ck_assert(g_file_get_contents(path, &data, &len, NULL));
    ck_assert_uint_gt(len, 8192);
    memset(data + 100, 0xA5, len - 100);
    ck_assert(g_file_set_contents(path, data, (gssize)len, NULL));
    g_free(data);
    g_autoptr(bw_store_t) s = NULL;
    g_autofree char *rebuilt = NULL;
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, &rebuilt, &detail), BW_OK);
    ck_assert_ptr_nonnull(rebuilt);
    g_autofree char *v = NULL;
    ck_assert_int_eq(bw_store_get_meta(s, "key1", &v), BW_OK);
    ck_assert_ptr_null(v);
}
END_TEST

/* Two processes writing at once: both keep their rows (BEGIN IMMEDIATE
 * serialises them, the busy timeout makes the second wait). */
START_TEST(test_two_writers)
{
    g_autofree char *path = state_path();
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    }
    enum { PER_CHILD = 200 };
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] == 0) {
            bw_store_t *s = NULL;
            if (bw_store_open(path, &s, NULL, NULL) != BW_OK)
                _exit(2);
            for (int i = 0; i < PER_CHILD; i++) {
                if (bw_store_begin(s, NULL) != BW_OK)
                    _exit(3);
                g_autofree char *key = g_strdup_printf("n%d:%d", k, i);
                if (bw_store_set_notified(s, key, (guint32)i, (unsigned)k, i) != BW_OK)
                    _exit(4);
                if (bw_store_commit(s, NULL) != BW_OK)
                    _exit(5);
            }
            bw_store_close(s);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
    }
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < PER_CHILD; i++) {
            g_autofree char *key = g_strdup_printf("n%d:%d", k, i);
            bool found = false;
            guint32 id = 0;
            ck_assert_int_eq(bw_store_get_notified(s, key, &found, &id, NULL, NULL), BW_OK);
            ck_assert_msg(found, "lost %s", key);
            ck_assert_uint_eq(id, (guint32)i);
        }
}
END_TEST

START_TEST(test_parse_since)
{
    const gint64 now = 1795183200; /* 2026-11-20T14:00:00Z */
    gint64 t = 0;
    ck_assert(bw_scanner_parse_since("2w", now, &t));
    ck_assert_int_eq(t, now - 14 * 86400);
    ck_assert(bw_scanner_parse_since("12h", now, &t));
    ck_assert_int_eq(t, now - 12 * 3600);
    ck_assert(bw_scanner_parse_since("2026-11-19", now, &t));
    ck_assert_int_eq(t, 1795046400);
    ck_assert(bw_scanner_parse_since("2026-11-20T13:00:00+00:00", now, &t));
    ck_assert_int_eq(t, now - 3600);
    ck_assert(!bw_scanner_parse_since("", now, &t));
    ck_assert(!bw_scanner_parse_since("3x", now, &t));
    ck_assert(!bw_scanner_parse_since("yesterday-ish", now, &t));
    ck_assert(!bw_scanner_parse_since("2026-13-45", now, &t));
}
END_TEST

/* Run a notmuch command with NOTMUCH_CONFIG=config; its stdout (g_free). */
static char *
notmuch_run(const char *config, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)"notmuch");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "NOTMUCH_CONFIG", config, TRUE);
    char *out = NULL;
    int status = -1;
    gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL);
    ck_assert_msg(ok && g_spawn_check_wait_status(status, NULL), "notmuch %s failed", args[0]);
    return out;
}

/* The tagger writes all of a run's tags or none: a change notmuch refuses
 * (here a tag longer than notmuch allows) discards the tags already added
 * to other messages in the same run. */
START_TEST(test_tagger_all_or_none)
{
    g_autofree char *nm = g_find_program_in_path("notmuch");
    if (nm == NULL)
        return;   /* no notmuch here: nothing to test against */
    g_autofree char *mail = g_build_filename(tmpdir, "mail", NULL);
    g_autofree char *cur = g_build_filename(mail, "cur", NULL);
    ck_assert_int_eq(g_mkdir_with_parents(cur, 0700), 0);
    for (int i = 0; i < 2; i++) {
        g_autofree char *f = g_strdup_printf("%s/m%d:2,S", cur, i);
        g_autofree char *text = g_strdup_printf(
            "From: a@example.org\nTo: b@example.org\nSubject: m%d\n"
            "Message-ID: <m%d@example.org>\nDate: Fri, 20 Nov 2026 10:00:00 +0000\n\nbody\n", i, i);
        ck_assert(g_file_set_contents(f, text, -1, NULL));
    }
    g_autofree char *config = g_build_filename(tmpdir, "notmuch-config", NULL);
    g_autofree char *cfg = g_strdup_printf("[database]\npath=%s\n[user]\nprimary_email=b@example.org\n"
                                           "[new]\ntags=inbox\n", mail);
    ck_assert(g_file_set_contents(config, cfg, -1, NULL));
    const char *const new_args[] = { "new", "--quiet", NULL };
    g_free(notmuch_run(config, new_args));

    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(
        (GDestroyNotify)bw_nm_tag_change_free);
    char too_long[400];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    const char *const want0[] = { "bounce", NULL };
    const char *const want1[] = { "bounce", too_long, NULL };
    const char *const *wants[] = { want0, want1 };
    for (int i = 0; i < 2; i++) {
        bw_nm_tag_change_t *c = g_new0(bw_nm_tag_change_t, 1);
        c->message_id = g_strdup_printf("m%d@example.org", i);
        c->want = g_strdupv((char **)wants[i]);
        g_ptr_array_add(changes, c);
    }
    unsigned changed = 99;
    g_autofree char *detail = NULL;
    bw_nm_tagger_revisions_t revs = { 0 };
    bw_status_t st = bw_nm_tagger_apply(config, 5000, changes, &changed, &revs, &detail);
    ck_assert_int_eq(st, BW_E_DATABASE);
    ck_assert_uint_eq(changed, 0);
    ck_assert_ptr_nonnull(detail);
    ck_assert_ptr_nonnull(strstr(detail, "no tag was changed"));
    const char *const count_args[] = { "count", "tag:bounce", NULL };
    g_autofree char *n = notmuch_run(config, count_args);
    ck_assert_str_eq(g_strstrip(n), "0");

    /* Without the refused tag the same run tags both. */
    g_strfreev(((bw_nm_tag_change_t *)g_ptr_array_index(changes, 1))->want);
    ((bw_nm_tag_change_t *)g_ptr_array_index(changes, 1))->want = g_strdupv((char **)want0);
    g_clear_pointer(&detail, g_free);
    ck_assert_ptr_null(revs.uuid);   /* nothing said on failure */
    ck_assert_int_eq(bw_nm_tagger_apply(config, 5000, changes, &changed, &revs, &detail), BW_OK);
    ck_assert_uint_eq(changed, 2);
    g_autofree char *n2 = notmuch_run(config, count_args);
    ck_assert_str_eq(g_strstrip(n2), "2");
    /* the revisions around the writes, as notmuch tells them */
    ck_assert_ptr_nonnull(revs.uuid);
    ck_assert_uint_gt(revs.after, revs.before);
    const char *const rev_args[] = { "count", "--lastmod", "*", NULL };
    g_autofree char *lm = notmuch_run(config, rev_args);
    g_auto(GStrv) parts = g_strsplit(g_strstrip(lm), "\t", 3);
    ck_assert_str_eq(parts[1], revs.uuid);
    ck_assert_uint_eq(g_ascii_strtoull(parts[2], NULL, 10), revs.after);
    g_free(revs.uuid);
}
END_TEST

START_TEST(test_skipped_roundtrip)
{
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    bw_skipped_t a = { "a@x", "/m/a", "crash", "the reader crashed", "build-1", 200 };
    bw_skipped_t b = { "b@x", "/m/b", "timeout", "took too long", "build-1", 100 };
    ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
    ck_assert_int_eq(bw_store_put_skipped(s, &a), BW_OK);
    ck_assert_int_eq(bw_store_put_skipped(s, &b), BW_OK);
    ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    g_autoptr(GPtrArray) list = NULL;
    ck_assert_int_eq(bw_store_load_skipped(s, &list), BW_OK);
    ck_assert_uint_eq(list->len, 2);
    const bw_skipped_t *first = g_ptr_array_index(list, 0);   /* by date */
    ck_assert_str_eq(first->message_id, "b@x");
    ck_assert_str_eq(first->cause, "timeout");
    ck_assert_str_eq(first->reader, "build-1");
    ck_assert_int_eq(first->date, 100);
    /* Retry forgets which build failed; delete forgets the message. */
    ck_assert_int_eq(bw_store_retry_skipped(s), BW_OK);
    ck_assert_int_eq(bw_store_delete_skipped(s, "b@x"), BW_OK);
    g_clear_pointer(&list, g_ptr_array_unref);
    ck_assert_int_eq(bw_store_load_skipped(s, &list), BW_OK);
    ck_assert_uint_eq(list->len, 1);
    const bw_skipped_t *left = g_ptr_array_index(list, 0);
    ck_assert_str_eq(left->message_id, "a@x");
    ck_assert_str_eq(left->reader, "");
    ck_assert_str_eq(left->why, "the reader crashed");
}
END_TEST

/* ------------------------------------------------------------ snapshot parts */

/* Bytes shaped like a snapshot: text with numbers and some binary, from a
 * fixed seed. */
static GBytes *
snapshot_like(guint32 seed, gsize len)
{
    GRand *r = g_rand_new_with_seed(seed);
    GByteArray *a = g_byte_array_sized_new((guint)len);
    while (a->len < len) {
        char line[96];
        int n = g_snprintf(line, sizeof line, "report-%08x@mx%u.example.net\x01%u;",
                           g_rand_int(r), g_rand_int_range(r, 0, 40), g_rand_int(r));
        g_byte_array_append(a, (const guint8 *)line, (guint)MIN((gsize)n, len - a->len));
    }
    g_rand_free(r);
    return g_byte_array_free_to_bytes(a);
}

/* `data` with `ins` inserted at `at`. */
static GBytes *
bytes_with_insert(GBytes *data, gsize at, const char *ins)
{
    gsize n = 0;
    const guint8 *p = g_bytes_get_data(data, &n);
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, p, (guint)at);
    g_byte_array_append(a, (const guint8 *)ins, (guint)strlen(ins));
    g_byte_array_append(a, p + at, (guint)(n - at));
    return g_byte_array_free_to_bytes(a);
}

static void
put_snapshot_committed(const char *path, GBytes *data, gboolean read_first)
{
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    if (read_first) {
        g_autoptr(GBytes) was = NULL;
        ck_assert_int_eq(bw_store_get_snapshot(s, &was, NULL), BW_OK);
    }
    ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
    ck_assert_int_eq(bw_store_put_snapshot(s, data), BW_OK);
    ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
}

static void
assert_snapshot_is(const char *path, GBytes *want)
{
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(GBytes) got = NULL;
    guint8 head[BW_STORE_SNAPSHOT_HEAD], head2[BW_STORE_SNAPSHOT_HEAD];
    ck_assert_int_eq(bw_store_get_snapshot(s, &got, head), BW_OK);
    if (want == NULL) {
        ck_assert_ptr_null(got);
        return;
    }
    ck_assert_ptr_nonnull(got);
    ck_assert(g_bytes_equal(got, want));
    /* the head alone is the one read with the snapshot */
    ck_assert_int_eq(bw_store_get_snapshot_head(s, head2), BW_OK);
    ck_assert_mem_eq(head, head2, sizeof head);
}

/* A snapshot stored in an older form reads as `want`, its head the
 * leading bytes of the stored form `old` (the snapshot's own hash). */
static void
assert_older_snapshot_is(const char *path, GBytes *want, GBytes *old)
{
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(GBytes) got = NULL;
    guint8 head[BW_STORE_SNAPSHOT_HEAD], head2[BW_STORE_SNAPSHOT_HEAD];
    ck_assert_int_eq(bw_store_get_snapshot(s, &got, head), BW_OK);
    ck_assert_ptr_nonnull(got);
    ck_assert(g_bytes_equal(got, want));
    ck_assert_mem_eq(head, g_bytes_get_data(old, NULL), sizeof head);
    ck_assert_int_eq(bw_store_get_snapshot_head(s, head2), BW_OK);
    ck_assert_mem_eq(head2, head, sizeof head);
}

/* The stored snapshot's head (read alone). */
static void
snapshot_head_of(const char *path, guint8 *out)
{
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    ck_assert_int_eq(bw_store_get_snapshot_head(s, out), BW_OK);
}

/* Run one SQL statement on the state file behind the store's back; returns
 * the first column of the first row as an integer (0 without one). */
static gint64
raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int rc = sqlite3_step(st);
    ck_assert(rc == SQLITE_ROW || rc == SQLITE_DONE);
    gint64 v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static bw_item_t *
stored_item_new(const char *id, gint64 date)
{
    bw_item_t *it = g_new0(bw_item_t, 1);
    it->message_id = g_strdup(id);
    it->file = g_strdup_printf("/mail/cur/%s", id);
    it->date_unix = date;
    it->klass = BW_CLASS_BACKSCATTER;
    it->score = 0.75;
    it->evidence = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(it->evidence, g_strdup("the original was never sent"));
    it->report = bw_report_new();
    it->report->subject = g_strdup("Undelivered Mail Returned to Sender");
    return it;
}

/* The ids and questions bw_store_load_items_questions gives, "id=q id=q". */
static char *
loaded_order(const char *path, bw_status_t *status)
{
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(GPtrArray) items = NULL, questions = NULL;
    g_autofree char *detail = NULL;
    *status = bw_store_load_items_questions(s, &items, &questions, &detail);
    if (*status != BW_OK) {
        ck_assert_ptr_null(items);
        ck_assert_ptr_nonnull(detail);
        return NULL;
    }
    ck_assert_uint_eq(items->len, questions->len);
    GString *g = g_string_new(NULL);
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        const char *q = g_ptr_array_index(questions, i);
        ck_assert_str_eq(it->report->subject, "Undelivered Mail Returned to Sender");
        g_string_append_printf(g, "%s%s=%s", i ? " " : "", it->message_id, q ? q : "-");
    }
    return g_string_free(g, FALSE);
}

/* Rewrite the row's binary form in the older form (the BLAKE2b-256 of the
 * variant, then the variant), and its JSON as damaged: a load can then
 * read it only from that binary form. */
static void
bin_to_older_form(const char *path, const char *id)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT bin FROM items WHERE message_id=?1", -1,
                                        &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    gsize n = (gsize)sqlite3_column_bytes(st, 0);
    const guint8 *bin = sqlite3_column_blob(st, 0);
    ck_assert_uint_gt(n, 16);
    ck_assert_int_eq(memcmp(bin, "BWITEM2", 8), 0);
    guint8 *old = g_malloc(32 + n - 16);
    memcpy(old + 32, bin + 16, n - 16);
    crypto_generichash(old, 32, old + 32, n - 16, NULL, 0);
    sqlite3_finalize(st);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE items SET bin=?2, json='{' WHERE message_id=?1",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, old, (int)(32 + n - 16), g_free);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The stored reports come back by date, then message-id (SQLite's BINARY
 * order), with the questions of each at its index: read from the binary
 * form, from the JSON when the binary form is damaged, in SQLite's own
 * order when a date is not an integer, and refused when a row is
 * unreadable. */
START_TEST(test_items_load_order)
{
    g_autofree char *path = state_path();
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        /* ties at 200, put in no order; "id-b" is also a prefix of "id-bb" */
        const struct { const char *id; gint64 date; const char *q; } rows[] = {
            { "id-c", 200, "q3" }, { "late", 900, NULL }, { "id-bb", 200, "q2b" },
            { "id-a", 200, "q1" }, { "first", 50, "q0" }, { "id-b", 200, NULL },
            { "mid", 100, "qm" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
            g_autoptr(bw_item_t) it = stored_item_new(rows[i].id, rows[i].date);
            ck_assert_int_eq(bw_store_put_item_if_changed(s, it, rows[i].q, false, NULL, NULL),
                             BW_OK);
        }
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    }
    const char *want = "first=q0 mid=qm id-a=q1 id-b=- id-bb=q2b id-c=q3 late=-";
    bw_status_t st;
    g_autofree char *got = loaded_order(path, &st);
    ck_assert_int_eq(st, BW_OK);
    ck_assert_str_eq(got, want);
    /* a binary form of the older form (BLAKE2b-256) is still read (its JSON
     * is damaged: only the binary form can give it) */
    bin_to_older_form(path, "id-c");
    g_autofree char *got1 = loaded_order(path, &st);
    ck_assert_int_eq(st, BW_OK);
    ck_assert_str_eq(got1, want);
    /* and a damaged one of that form is refused as well: with its JSON
     * damaged too, the load is refused */
    raw_sql(path, "UPDATE items SET bin = substr(bin, 1, 40) || X'ee' || substr(bin, 42)"
                  " WHERE message_id = 'id-c'");
    g_autofree char *got1b = loaded_order(path, &st);
    ck_assert_int_eq(st, BW_E_STATE);
    ck_assert_ptr_null(got1b);
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        g_autoptr(bw_item_t) it = stored_item_new("id-c", 200);
        ck_assert_int_eq(bw_store_put_item_if_changed(s, it, "q3", false, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    }
    /* a damaged binary form: that row is read from its JSON, same place */
    raw_sql(path, "UPDATE items SET bin = substr(bin, 1, 40) || X'ee' || substr(bin, 42)"
                  " WHERE message_id = 'id-bb'");
    g_autofree char *got2 = loaded_order(path, &st);
    ck_assert_int_eq(st, BW_OK);
    ck_assert_str_eq(got2, want);
    /* a date stored as text (no integer): SQLite's ORDER BY puts it after
     * every number */
    raw_sql(path, "UPDATE items SET date = 'soon' WHERE message_id = 'mid'");
    ck_assert_int_eq(raw_sql(path, "SELECT typeof(date) = 'text' FROM items"
                                   " WHERE message_id = 'mid'"), 1);
    g_autofree char *got3 = loaded_order(path, &st);
    ck_assert_int_eq(st, BW_OK);
    ck_assert_str_eq(got3, "first=q0 id-a=q1 id-b=- id-bb=q2b id-c=q3 late=- mid=qm");
    /* a row unreadable in both forms: the load is refused */
    raw_sql(path, "UPDATE items SET bin = NULL, json = '{' WHERE message_id = 'id-a'");
    g_autofree char *got4 = loaded_order(path, &st);
    ck_assert_int_eq(st, BW_E_STATE);
    ck_assert_ptr_null(got4);
}
END_TEST

START_TEST(test_snapshot_parts)
{
    g_autofree char *path = state_path();
    g_autoptr(GBytes) first = snapshot_like(7, 400000);
    put_snapshot_committed(path, first, FALSE);
    assert_snapshot_is(path, first);
    gint64 parts = raw_sql(path, "SELECT count(*) FROM snapshot_parts");
    ck_assert_int_gt(parts, 20);
    ck_assert_int_eq(raw_sql(path, "SELECT sum(length(data)) FROM snapshot_parts"), 400000);

    /* A few bytes added in the middle: the read parts are kept, a few
     * written, and those no longer used are gone. */
    gint64 top = raw_sql(path, "SELECT max(id) FROM snapshot_parts");
    g_autoptr(GBytes) second = bytes_with_insert(first, 200000, "a new report\x02");
    put_snapshot_committed(path, second, TRUE);
    assert_snapshot_is(path, second);
    g_autofree char *newer = g_strdup_printf("SELECT count(*) FROM snapshot_parts WHERE id > %"
                                             G_GINT64_FORMAT, top);
    gint64 written = raw_sql(path, newer);
    ck_assert_int_ge(written, 1);
    ck_assert_int_le(written, 3);
    ck_assert_int_eq(raw_sql(path, "SELECT sum(length(data)) FROM snapshot_parts"),
                     (gint64)g_bytes_get_size(second));

    /* Changes at the start, in the middle and at the end (as a snapshot
     * after new mail: its count, new items, the offsets at its end): the
     * parts between are kept (found in order, with their hashes), a few
     * written.  Every part read back matches its hash (assert_snapshot_is
     * reads through the checks). */
    {
        guint8 head_before[BW_STORE_SNAPSHOT_HEAD], head_after[BW_STORE_SNAPSHOT_HEAD];
        snapshot_head_of(path, head_before);
        g_autoptr(GBytes) a = bytes_with_insert(second, 3, "\x07");
        g_autoptr(GBytes) b = bytes_with_insert(a, 123457, "another report\x03");
        g_autoptr(GBytes) third = bytes_with_insert(b, g_bytes_get_size(b) - 10, "end\x04");
        gint64 top2 = raw_sql(path, "SELECT max(id) FROM snapshot_parts");
        put_snapshot_committed(path, third, TRUE);
        assert_snapshot_is(path, third);
        snapshot_head_of(path, head_after);
        ck_assert(memcmp(head_before, head_after, sizeof head_after) != 0);
        g_autofree char *newer2 = g_strdup_printf(
            "SELECT count(*) FROM snapshot_parts WHERE id > %" G_GINT64_FORMAT, top2);
        gint64 written2 = raw_sql(path, newer2);
        ck_assert_int_ge(written2, 3);
        ck_assert_int_le(written2, 8);
        ck_assert_int_eq(raw_sql(path, "SELECT sum(length(data)) FROM snapshot_parts"),
                         (gint64)g_bytes_get_size(third));
        /* the same bytes saved again: no part written, the head moves */
        gint64 top3 = raw_sql(path, "SELECT max(id) FROM snapshot_parts");
        put_snapshot_committed(path, third, TRUE);
        assert_snapshot_is(path, third);
        ck_assert_int_eq(raw_sql(path, "SELECT max(id) FROM snapshot_parts"), top3);
        snapshot_head_of(path, head_before);
        ck_assert(memcmp(head_before, head_after, sizeof head_after) != 0);
        /* back to `second` for what follows */
        put_snapshot_committed(path, second, TRUE);
        assert_snapshot_is(path, second);
    }

    /* Not read first (or another process saved since the read): every part
     * is written again, and none of the old ones stays (the lengths add up
     * to the snapshot's). */
    put_snapshot_committed(path, first, FALSE);
    assert_snapshot_is(path, first);
    ck_assert_int_eq(raw_sql(path, "SELECT sum(length(data)) FROM snapshot_parts"), 400000);
    {
        g_autoptr(bw_store_t) a = NULL;
        ck_assert_int_eq(bw_store_open(path, &a, NULL, NULL), BW_OK);
        g_autoptr(GBytes) was = NULL;
        ck_assert_int_eq(bw_store_get_snapshot(a, &was, NULL), BW_OK);
        put_snapshot_committed(path, second, TRUE);   /* another process */
        ck_assert_int_eq(bw_store_begin(a, NULL), BW_OK);
        ck_assert_int_eq(bw_store_put_snapshot(a, first), BW_OK);
        ck_assert_int_eq(bw_store_commit(a, NULL), BW_OK);
    }
    assert_snapshot_is(path, first);
    ck_assert_int_eq(raw_sql(path, "SELECT sum(length(data)) FROM snapshot_parts"), 400000);

    /* A rolled back save leaves the stored snapshot, and the next save by
     * the same connection does not count on what it had written. */
    {
        g_autoptr(bw_store_t) a = NULL;
        ck_assert_int_eq(bw_store_open(path, &a, NULL, NULL), BW_OK);
        g_autoptr(GBytes) was = NULL;
        ck_assert_int_eq(bw_store_get_snapshot(a, &was, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(a, NULL), BW_OK);
        ck_assert_int_eq(bw_store_put_snapshot(a, second), BW_OK);
        bw_store_rollback(a);
        ck_assert_int_eq(bw_store_begin(a, NULL), BW_OK);
        ck_assert_int_eq(bw_store_put_snapshot(a, second), BW_OK);
        ck_assert_int_eq(bw_store_commit(a, NULL), BW_OK);
    }
    assert_snapshot_is(path, second);

    /* Empty: no snapshot and no parts. */
    {
        g_autoptr(bw_store_t) a = NULL;
        ck_assert_int_eq(bw_store_open(path, &a, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(a, NULL), BW_OK);
        ck_assert_int_eq(bw_store_put_snapshot(a, NULL), BW_OK);
        ck_assert_int_eq(bw_store_commit(a, NULL), BW_OK);
    }
    assert_snapshot_is(path, NULL);
    ck_assert_int_eq(raw_sql(path, "SELECT count(*) FROM snapshot_parts"), 0);
}
END_TEST

/* A snapshot of an older form: the blob starts with the BLAKE2b-256 of the
 * rest. */
static GBytes *
older_form(GBytes *data)
{
    gsize n = 0;
    const guint8 *p = g_bytes_get_data(data, &n);
    guint8 *blob = g_malloc(32 + n);
    memcpy(blob + 32, p, n);
    crypto_generichash(blob, 32, p, n, NULL, 0);
    return g_bytes_new_take(blob, 32 + n);
}

START_TEST(test_snapshot_parts_damage)
{
    g_autofree char *path = state_path();
    g_autoptr(GBytes) data = snapshot_like(11, 200000);
    put_snapshot_committed(path, data, FALSE);
    gint64 parts = raw_sql(path, "SELECT count(*) FROM snapshot_parts");

    /* A part damaged on disk (same length, one byte): its hash refuses it,
     * the snapshot reads as none (the items are read), and the next save,
     * which read it, writes every part again. */
    raw_sql(path, "UPDATE snapshot_parts SET data = "
                  "substr(data, 1, 99) || X'ee' || substr(data, 101) "
                  "WHERE id = (SELECT min(id) + 3 FROM snapshot_parts)");
    assert_snapshot_is(path, NULL);
    put_snapshot_committed(path, data, TRUE);
    assert_snapshot_is(path, data);
    ck_assert_int_eq(raw_sql(path, "SELECT count(*) FROM snapshot_parts"), parts);

    /* A damaged hash in the list: refused the same way, and healed. */
    raw_sql(path, "UPDATE snapshot SET data = substr(data, 1, 100) || X'00' || "
                  "substr(data, 102) WHERE id = 0 AND substr(data, 101, 1) != X'00'");
    raw_sql(path, "UPDATE snapshot SET data = substr(data, 1, 100) || X'01' || "
                  "substr(data, 102) WHERE id = 0 AND substr(data, 101, 1) = X'00'");
    assert_snapshot_is(path, NULL);
    put_snapshot_committed(path, data, TRUE);
    assert_snapshot_is(path, data);

    /* A missing part, or a cut list: no snapshot (the items are read); the
     * next save writes every part. */
    raw_sql(path, "DELETE FROM snapshot_parts WHERE id = (SELECT max(id) FROM snapshot_parts)");
    assert_snapshot_is(path, NULL);
    put_snapshot_committed(path, data, TRUE);
    assert_snapshot_is(path, data);
    raw_sql(path, "UPDATE snapshot SET data = substr(data, 1, length(data) - 5) WHERE id = 0");
    assert_snapshot_is(path, NULL);
    put_snapshot_committed(path, data, TRUE);
    assert_snapshot_is(path, data);
    ck_assert_int_eq(raw_sql(path, "SELECT sum(length(data)) FROM snapshot_parts"), 200000);

    /* A snapshot stored whole (an older version) is read, its leading hash
     * checked and cut off (the head), and the next save stores it in
     * parts; damaged, it is refused. */
    g_autoptr(GBytes) old = older_form(data);
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        sqlite3 *db = NULL;
        ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM snapshot_parts", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_stmt *st = NULL;
        ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE snapshot SET data=?1 WHERE id=0", -1,
                                            &st, NULL), SQLITE_OK);
        sqlite3_bind_blob(st, 1, g_bytes_get_data(old, NULL), (int)g_bytes_get_size(old),
                          SQLITE_STATIC);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    assert_older_snapshot_is(path, data, old);
    raw_sql(path, "UPDATE snapshot SET data = substr(data, 1, 999) || X'ee' || "
                  "substr(data, 1001) WHERE id = 0");
    assert_snapshot_is(path, NULL);
    put_snapshot_committed(path, data, TRUE);
    assert_snapshot_is(path, data);

    /* A list of the first parts form (no hashes per part; the bytes start
     * with the BLAKE2b-256 of the rest): read and checked, then stored in
     * the current form by the next save. */
    {
        raw_sql(path, "DELETE FROM snapshot_parts");
        gsize n = 0;
        const guint8 *p = g_bytes_get_data(old, &n);
        sqlite3 *db = NULL;
        ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *ins = NULL;
        ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO snapshot_parts(id, data) "
                                            "VALUES(?1, ?2)", -1, &ins, NULL), SQLITE_OK);
        const gsize cut = 5000;
        guint count = (guint)((n + cut - 1) / cut);
        GByteArray *list = g_byte_array_new();
        g_byte_array_append(list, (const guint8 *)"BWSNAPP1", 8);
        guint8 nonce[16] = { 9 };
        g_byte_array_append(list, nonce, sizeof nonce);
        for (int i = 0; i < 8; i++) {
            guint8 b = (guint8)((guint64)n >> (8 * i));
            g_byte_array_append(list, &b, 1);
        }
        for (int i = 0; i < 4; i++) {
            guint8 b = (guint8)(count >> (8 * i));
            g_byte_array_append(list, &b, 1);
        }
        for (guint k = 0; k < count; k++) {
            gsize len = MIN(cut, n - k * cut);
            sqlite3_reset(ins);
            sqlite3_bind_int64(ins, 1, 100 + k);
            sqlite3_bind_blob(ins, 2, p + k * cut, (int)len, SQLITE_STATIC);
            ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
            guint64 id = 100 + k;
            for (int i = 0; i < 8; i++) {
                guint8 b = (guint8)(id >> (8 * i));
                g_byte_array_append(list, &b, 1);
            }
            for (int i = 0; i < 4; i++) {
                guint8 b = (guint8)((guint32)len >> (8 * i));
                g_byte_array_append(list, &b, 1);
            }
        }
        sqlite3_finalize(ins);
        sqlite3_stmt *st = NULL;
        ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE snapshot SET data=?1 WHERE id=0", -1,
                                            &st, NULL), SQLITE_OK);
        sqlite3_bind_blob(st, 1, list->data, (int)list->len, SQLITE_TRANSIENT);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
        g_byte_array_unref(list);
    }
    assert_older_snapshot_is(path, data, old);
    raw_sql(path, "UPDATE snapshot_parts SET data = X'00' || substr(data, 2) WHERE id = 102");
    assert_snapshot_is(path, NULL);
    raw_sql(path, "UPDATE snapshot_parts SET data = zeroblob(0) WHERE id = 102");
    assert_snapshot_is(path, NULL);
    put_snapshot_committed(path, data, TRUE);
    assert_snapshot_is(path, data);
    ck_assert_int_eq(raw_sql(path, "SELECT count(*) FROM snapshot_parts WHERE id >= 100 "
                                   "AND id < 200"), 0);
}
END_TEST

/* How many of `keys` the database file itself holds, the log ignored
 * (immutable=1 reads only the main file). */
static int
keys_in_main_file(const char *path, const char *keys)
{
    g_autofree char *uri = g_strdup_printf("file:%s?immutable=1", path);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL),
                     SQLITE_OK);
    g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM meta WHERE key IN (%s)", keys);
    sqlite3_stmt *q = NULL;
    int n = 0;
    /* (no table at all: the file holds no page of the schema yet) */
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
        ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
        n = sqlite3_column_int(q, 0);
    } else {
        ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(db), "no such table"));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

static void
commit_meta(bw_store_t *s, const char *key, const char *value)
{
    ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
    ck_assert_int_eq(bw_store_set_meta(s, key, value), BW_OK);
    ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
}

/* A close leaves a short write-ahead log as it is (what was committed is
 * read back by the next open, as after a crash): no checkpoint, no sync.  A
 * close that finds the log long (over 1 MiB) copies it into the database
 * and removes it. */
START_TEST(test_checkpoint_when_long)
{
    g_autofree char *path = state_path();
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    GStatBuf st;
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        commit_meta(s, "left", "in the log");
    }
    ck_assert_int_eq(g_stat(wal, &st), 0);
    ck_assert_int_gt(st.st_size, 0);
    ck_assert_int_eq(keys_in_main_file(path, "'left'"), 0);
    /* 1.5 MiB more: this close finds the log long, into the database it goes */
    g_autofree char *big = g_strnfill(1536 * 1024, 'x');
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        g_autofree char *v = NULL;
        ck_assert_int_eq(bw_store_get_meta(s, "left", &v), BW_OK);
        ck_assert_str_eq(v, "in the log");
        commit_meta(s, "big", big);
    }
    ck_assert_int_ne(g_stat(wal, &st), 0);
    ck_assert_int_eq(keys_in_main_file(path, "'left','big'"), 2);
    /* and a short log again afterwards stays a log */
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        commit_meta(s, "after", "short");
    }
    ck_assert_int_eq(g_stat(wal, &st), 0);
    ck_assert_int_eq(keys_in_main_file(path, "'after'"), 0);
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        g_autofree char *v = NULL;
        ck_assert_int_eq(bw_store_get_meta(s, "after", &v), BW_OK);
        ck_assert_str_eq(v, "short");
    }
}
END_TEST

/* A handle that recorded an effect outside the state (tags written, a
 * campaign muted, a notification shown) checkpoints at its close however
 * short the log: under synchronous=NORMAL only a checkpoint makes a commit
 * survive a power loss.  Other short logs stay logs. */
START_TEST(test_outside_effects_checkpoint)
{
    g_autofree char *path = state_path();
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    GStatBuf st;
    for (int k = 0; k < 3; k++) {
        {
            g_autoptr(bw_store_t) s = NULL;
            ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
            commit_meta(s, "derived", "only");
        }
        ck_assert_int_eq(g_stat(wal, &st), 0);   /* a short log stays */
        {
            g_autoptr(bw_store_t) s = NULL;
            ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
            ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
            if (k == 0)
                ck_assert_int_eq(bw_store_set_tagged(s, "m@x", "bounce"), BW_OK);
            else if (k == 1)
                ck_assert_int_eq(bw_store_set_notified(s, "surge", 7, 1, 100), BW_OK);
            else {
                static const char *const m[] = { "a@x", NULL };
                g_autoptr(GPtrArray) list =
                    g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
                g_ptr_array_add(list, campaign_new("bw-00000001", m, 1000));
                ck_assert_int_eq(bw_store_save_campaigns(s, list, NULL), BW_OK);
                ck_assert_int_eq(bw_store_set_muted(s, "bw-00000001", true), BW_OK);
            }
            ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
        }
        ck_assert_int_ne(g_stat(wal, &st), 0);   /* checkpointed, removed */
        ck_assert_int_eq(keys_in_main_file(path, "'derived'"), 1);
    }
}
END_TEST

/* ------------------------------------------------------------ power loss
 * A VFS over the default one that remembers how long the state's
 * write-ahead log was at its last sync: what a power loss leaves of it (a
 * log is only appended to until a checkpoint restarts it, and the writes
 * not synced are lost with the page cache). */
typedef struct {
    sqlite3_file base;
    sqlite3_file *real;   /* the default VFS's file, right after this */
    bool watched;         /* the log of `shim_wal_name` */
} shim_file_t;

static sqlite3_vfs *shim_real;
static sqlite3_vfs shim_vfs;
static char *shim_wal_name;
static sqlite3_int64 shim_wal_synced = -1;
static int shim_wal_syncs;

#define SHIM_REAL(f) (((shim_file_t *)(f))->real)
static int shim_close(sqlite3_file *f)
{
    return SHIM_REAL(f)->pMethods->xClose(SHIM_REAL(f));
}
static int shim_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return SHIM_REAL(f)->pMethods->xRead(SHIM_REAL(f), b, n, o);
}
static int shim_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    return SHIM_REAL(f)->pMethods->xWrite(SHIM_REAL(f), b, n, o);
}
static int shim_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return SHIM_REAL(f)->pMethods->xTruncate(SHIM_REAL(f), n);
}
static int shim_sync(sqlite3_file *f, int flags)
{
    int rc = SHIM_REAL(f)->pMethods->xSync(SHIM_REAL(f), flags);
    shim_file_t *p = (shim_file_t *)f;
    if (rc == SQLITE_OK && p->watched) {
        shim_wal_syncs++;
        ck_assert_int_eq(p->real->pMethods->xFileSize(p->real, &shim_wal_synced), SQLITE_OK);
    }
    return rc;
}
static int shim_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return SHIM_REAL(f)->pMethods->xFileSize(SHIM_REAL(f), n);
}
static int shim_lock(sqlite3_file *f, int l)
{
    return SHIM_REAL(f)->pMethods->xLock(SHIM_REAL(f), l);
}
static int shim_unlock(sqlite3_file *f, int l)
{
    return SHIM_REAL(f)->pMethods->xUnlock(SHIM_REAL(f), l);
}
static int shim_reserved(sqlite3_file *f, int *out)
{
    return SHIM_REAL(f)->pMethods->xCheckReservedLock(SHIM_REAL(f), out);
}
static int shim_control(sqlite3_file *f, int op, void *arg)
{
    return SHIM_REAL(f)->pMethods->xFileControl(SHIM_REAL(f), op, arg);
}
static int shim_sector(sqlite3_file *f)
{
    return SHIM_REAL(f)->pMethods->xSectorSize(SHIM_REAL(f));
}
static int shim_device(sqlite3_file *f)
{
    return SHIM_REAL(f)->pMethods->xDeviceCharacteristics(SHIM_REAL(f));
}
static int shim_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **out)
{
    return SHIM_REAL(f)->pMethods->xShmMap(SHIM_REAL(f), pg, sz, extend, out);
}
static int shim_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return SHIM_REAL(f)->pMethods->xShmLock(SHIM_REAL(f), off, n, flags);
}
static void shim_shm_barrier(sqlite3_file *f)
{
    SHIM_REAL(f)->pMethods->xShmBarrier(SHIM_REAL(f));
}
static int shim_shm_unmap(sqlite3_file *f, int del)
{
    return SHIM_REAL(f)->pMethods->xShmUnmap(SHIM_REAL(f), del);
}
static int shim_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **out)
{
    return SHIM_REAL(f)->pMethods->xFetch(SHIM_REAL(f), o, n, out);
}
static int shim_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return SHIM_REAL(f)->pMethods->xUnfetch(SHIM_REAL(f), o, p);
}
static const sqlite3_io_methods shim_methods = {
    3, shim_close, shim_read, shim_write, shim_truncate, shim_sync, shim_size, shim_lock,
    shim_unlock, shim_reserved, shim_control, shim_sector, shim_device, shim_shm_map,
    shim_shm_lock, shim_shm_barrier, shim_shm_unmap, shim_fetch, shim_unfetch,
};

static int
shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    shim_file_t *p = (shim_file_t *)f;
    p->real = (sqlite3_file *)(p + 1);
    p->watched = name != NULL && shim_wal_name != NULL && strcmp(name, shim_wal_name) == 0;
    int rc = shim_real->xOpen(shim_real, name, p->real, flags, out_flags);
    p->base.pMethods = p->real->pMethods != NULL ? &shim_methods : NULL;
    return rc;
}

/* The shim becomes the default VFS, watching the log of `path`. */
static void
shim_install(const char *path)
{
    shim_real = sqlite3_vfs_find(NULL);
    ck_assert_int_ge(shim_real->iVersion, 3);
    ck_assert_int_ge(shim_real->szOsFile, 1);
    shim_vfs = *shim_real;
    shim_vfs.zName = "bw-test-power-loss";
    shim_vfs.szOsFile = (int)sizeof(shim_file_t) + shim_real->szOsFile;
    shim_vfs.xOpen = shim_open;
    shim_vfs.pNext = NULL;
    shim_wal_name = g_strconcat(path, "-wal", NULL);
    ck_assert_int_eq(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

static void
shim_remove(void)
{
    sqlite3_vfs_unregister(&shim_vfs);
    g_clear_pointer(&shim_wal_name, g_free);
}

static gint64
file_size(const char *path)
{
    GStatBuf st;
    return g_stat(path, &st) == 0 ? (gint64)st.st_size : -1;
}

/* The state as a power loss now would leave it: the database file as it
 * is (no checkpoint ran since it was synced) and the log up to its last
 * sync, copied to `to`. */
static void
power_loss_copy(const char *path, const char *to)
{
    g_autofree char *dir = g_path_get_dirname(to);
    ck_assert_int_eq(g_mkdir_with_parents(dir, 0700), 0);
    g_autofree char *db = NULL, *wal = NULL;
    gsize n = 0;
    ck_assert(g_file_get_contents(path, &db, &n, NULL));
    ck_assert(g_file_set_contents(to, db, (gssize)n, NULL));
    g_autofree char *wal_path = g_strconcat(path, "-wal", NULL);
    ck_assert(g_file_get_contents(wal_path, &wal, &n, NULL));
    ck_assert_int_ge(shim_wal_synced, 0);
    ck_assert_int_le(shim_wal_synced, (gint64)n);
    g_autofree char *to_wal = g_strconcat(to, "-wal", NULL);
    ck_assert(g_file_set_contents(to_wal, wal, (gssize)shim_wal_synced, NULL));
}

/* A durable transaction (the tags written, the notifications shown) is
 * synced at its commit: a power loss right after keeps it, and everything
 * committed before it, with no checkpoint at the close; the commits after
 * it are back to unsynced (synchronous=NORMAL), and a power loss may
 * undo them. */
START_TEST(test_durable_commit_survives_power_loss)
{
    g_autofree char *path = state_path();
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    shim_install(path);
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        commit_meta(s, "derived", "before");
        int syncs = shim_wal_syncs;
        ck_assert_int_eq(bw_store_begin_durable(s, NULL), BW_OK);
        ck_assert_int_eq(bw_store_set_tagged(s, "m@x", "bounce"), BW_OK);
        ck_assert_int_eq(bw_store_set_notified(s, "surge", 7, 3, 100), BW_OK);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
        ck_assert_int_eq(shim_wal_syncs, syncs + 1);          /* one sync, at the commit */
        ck_assert_int_eq(shim_wal_synced, file_size(wal));    /* of the whole log */
        commit_meta(s, "derived", "after");
        ck_assert_int_eq(shim_wal_syncs, syncs + 1);          /* NORMAL again: none */
        ck_assert_int_gt(file_size(wal), shim_wal_synced);
    }
    /* the close did not checkpoint: the log is still there, the database
     * file holds neither commit */
    ck_assert_int_gt(file_size(wal), 0);
    ck_assert_int_eq(keys_in_main_file(path, "'derived'"), 0);
    g_autofree char *lost = g_build_filename(tmpdir, "lost", "state.sqlite", NULL);
    power_loss_copy(path, lost);
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(lost, &s, NULL, NULL), BW_OK);
        g_autoptr(GHashTable) tagged = NULL;
        ck_assert_int_eq(bw_store_load_tagged(s, &tagged), BW_OK);
        ck_assert_str_eq(g_hash_table_lookup(tagged, "m@x"), "bounce");
        bool found = false;
        unsigned count = 0;
        ck_assert_int_eq(bw_store_get_notified(s, "surge", &found, NULL, &count, NULL), BW_OK);
        ck_assert(found);
        ck_assert_uint_eq(count, 3);
        g_autofree char *v = NULL;
        ck_assert_int_eq(bw_store_get_meta(s, "derived", &v), BW_OK);
        ck_assert_str_eq(v, "before");   /* the later commit was not synced */
    }
    /* and with the whole log (no power loss) the later commit is there */
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        g_autofree char *v = NULL;
        ck_assert_int_eq(bw_store_get_meta(s, "derived", &v), BW_OK);
        ck_assert_str_eq(v, "after");
    }
    shim_remove();
}
END_TEST

/* A handle reset inside a durable transaction (bw_store_reset: the file
 * moved aside, a new connection, which starts at NORMAL) is durable no
 * more: tagged rows written after it in an ordinary transaction make the
 * close checkpoint, as any such rows outside a durable one. */
START_TEST(test_durable_ends_at_reset)
{
    g_autofree char *path = state_path();
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin_durable(s, NULL), BW_OK);
        g_autofree char *moved = NULL;
        ck_assert_int_eq(bw_store_reset(s, &moved, NULL), BW_OK);
        ck_assert_ptr_nonnull(moved);
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        ck_assert_int_eq(bw_store_set_meta(s, "derived", "x"), BW_OK);
        ck_assert_int_eq(bw_store_set_tagged(s, "m@x", "bounce"), BW_OK);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    }
    /* the close checkpointed: the commit is in the database file itself */
    ck_assert_int_eq(keys_in_main_file(path, "'derived'"), 1);
}
END_TEST

/* ------------------------------------------------------------ slim items */

/* A slim item (bw-scan.h: a kept item built from its snapshot entry) that
 * the group stage promoted (campaign.c: one more evidence text after the
 * stored ones) is made whole from its row before it is written: the
 * stored texts go in their places, the added one stays after them.  (A
 * stored undetermined report that new backscatter around it promotes, in
 * a post-new hook: the save failed, "cannot save the scan state", at every
 * hook run until some other command saved the state.) */
START_TEST(test_unslim_promoted_keeps_added_evidence)
{
    g_autofree char *path = state_path();
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(bw_item_t) it = stored_item_new("p@x", 100);
    it->klass = BW_CLASS_UNDETERMINED;
    it->score = 0.7;
    g_ptr_array_add(it->evidence, g_strdup("the bounce names no recipient of the owner"));
    ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
    ck_assert_int_eq(bw_store_put_item_if_changed(s, it, "q", false, NULL, NULL), BW_OK);
    ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    g_autoptr(GVariant) v = bw_snap_entry_new(it, false, "{}", "q");
    ck_assert_ptr_nonnull(v);
    g_autoptr(bw_item_t) slim = bw_item_from_snap_entry(g_variant_get_data(v),
                                                        g_variant_get_size(v), NULL, NULL);
    ck_assert_ptr_nonnull(slim);
    ck_assert(slim->slim);
    ck_assert_uint_eq(slim->evidence->len, 2);
    /* as campaign.c promotes it */
    slim->klass = BW_CLASS_BACKSCATTER;
    slim->score = 0.9;
    g_ptr_array_add(slim->evidence, g_strdup("the same spam run"));
    bw_scan_t scan = { 0 };
    scan.store = s;
    ck_assert(bw_scan_item_unslim(&scan, slim, NULL));
    ck_assert(!slim->slim);
    ck_assert_int_eq(slim->klass, BW_CLASS_BACKSCATTER);   /* its verdict kept */
    ck_assert_uint_eq(slim->evidence->len, 3);
    ck_assert_str_eq(g_ptr_array_index(slim->evidence, 0), "the original was never sent");
    ck_assert_str_eq(g_ptr_array_index(slim->evidence, 1),
                     "the bounce names no recipient of the owner");
    ck_assert_str_eq(g_ptr_array_index(slim->evidence, 2), "the same spam run");
    ck_assert_str_eq(slim->file, "/mail/cur/p@x");
    ck_assert_str_eq(slim->report->subject, "Undelivered Mail Returned to Sender");
    /* a row that does not hold the entry's count is still refused */
    g_autoptr(bw_item_t) other = bw_item_from_snap_entry(g_variant_get_data(v),
                                                         g_variant_get_size(v), NULL, NULL);
    g_ptr_array_set_size(other->evidence, 1);
    ck_assert(!bw_scan_item_unslim(&scan, other, NULL));
}
END_TEST

/* ------------------------------------------------------------ snapshot rows */

/* "id:learn id:learn ..." of bw_store_load_snap_entries, each entry's bytes
 * checked against `want_bytes(id)`; "refused" when the load refuses. */
static char *
snap_entries_text(const char *path)
{
    g_autoptr(bw_store_t) s = NULL;
    ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
    g_autoptr(GPtrArray) list = NULL;
    if (bw_store_load_snap_entries(s, &list) != BW_OK) {
        ck_assert_ptr_null(list);
        return g_strdup("refused");
    }
    GString *g = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++) {
        const bw_store_snap_entry_t *e = g_ptr_array_index(list, i);
        g_autofree char *want = g_strdup_printf("entry of %s, long enough to damage", e->message_id);
        gsize n = 0;
        const char *p = g_bytes_get_data(e->entry, &n);
        ck_assert_uint_eq(n, strlen(want));
        ck_assert(memcmp(p, want, n) == 0);
        g_string_append_printf(g, "%s%s:%d", i ? " " : "", e->message_id, e->learn);
    }
    return g_string_free(g, FALSE);
}

static void
put_snap_entry_of(bw_store_t *s, const char *id, gint64 date, bool learn)
{
    g_autofree char *text = g_strdup_printf("entry of %s, long enough to damage", id);
    g_autoptr(GBytes) b = g_bytes_new(text, strlen(text));
    ck_assert_int_eq(bw_store_put_snap_entry(s, id, date, learn, b), BW_OK);
}

/* The snapshot as rows: each entry comes back as put, by date then id; an
 * item row written or deleted drops its entry; a damaged entry (its bytes,
 * its sum, its date) is refused and dropped, never read as another; a
 * damaged sent row is refused, and written again by a put of the same
 * bytes (a put of the stored bytes writes nothing). */
START_TEST(test_snap_rows)
{
    g_autofree char *path = state_path();
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        const struct { const char *id; gint64 date; bool learn; } rows[] = {
            { "c", 200, false }, { "b", 100, true }, { "a", 200, false }, { "d", 300, true },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
            g_autoptr(bw_item_t) it = stored_item_new(rows[i].id, rows[i].date);
            ck_assert_int_eq(bw_store_put_item(s, it, NULL), BW_OK);
            put_snap_entry_of(s, rows[i].id, rows[i].date, rows[i].learn);
        }
        g_autoptr(GBytes) sent = g_bytes_new_static("the sent messages", 17);
        bool written = false;
        ck_assert_int_eq(bw_store_put_snap_sent(s, sent, &written), BW_OK);
        ck_assert(written);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
    }
    g_autofree char *t0 = snap_entries_text(path);
    ck_assert_str_eq(t0, "b:1 a:0 c:0 d:1");
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        g_autoptr(GHashTable) learning = NULL;
        ck_assert_int_eq(bw_store_snap_learning(s, &learning), BW_OK);
        ck_assert_uint_eq(g_hash_table_size(learning), 2);
        ck_assert(g_hash_table_contains(learning, "b") && g_hash_table_contains(learning, "d"));
        /* a row written again drops its entry, a row deleted too */
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        g_autoptr(bw_item_t) it = stored_item_new("a", 200);
        ck_assert_int_eq(bw_store_put_item(s, it, NULL), BW_OK);
        ck_assert_int_eq(bw_store_delete_item(s, "d"), BW_OK);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
        guint64 n = 0;
        ck_assert_int_eq(bw_store_count_snap_entries(s, &n), BW_OK);
        ck_assert_uint_eq(n, 2);
        g_autoptr(GHashTable) ids = NULL;
        ck_assert_int_eq(bw_store_snap_entry_ids(s, &ids), BW_OK);
        ck_assert(g_hash_table_contains(ids, "b") && g_hash_table_contains(ids, "c"));
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        put_snap_entry_of(s, "a", 200, false);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
        g_autoptr(GBytes) got = NULL;
        ck_assert_int_eq(bw_store_get_snap_sent(s, &got), BW_OK);
        ck_assert_uint_eq(g_bytes_get_size(got), 17);
        ck_assert(memcmp(g_bytes_get_data(got, NULL), "the sent messages", 17) == 0);
    }
    g_autofree char *t1 = snap_entries_text(path);
    ck_assert_str_eq(t1, "b:1 a:0 c:0");
    /* one byte of an entry's bytes: refused, and that entry dropped */
    raw_sql(path, "UPDATE snap_items SET data = substr(data, 1, 20) || X'ee' || substr(data, 22)"
                  " WHERE message_id = 'a'");
    g_autofree char *t2 = snap_entries_text(path);
    ck_assert_str_eq(t2, "refused");
    ck_assert_int_eq(raw_sql(path, "SELECT count(*) FROM snap_items WHERE message_id = 'a'"), 0);
    g_autofree char *t3 = snap_entries_text(path);
    ck_assert_str_eq(t3, "b:1 c:0");
    /* one byte of its sum */
    raw_sql(path, "UPDATE snap_items SET data = substr(data, 1, 9) || X'ee' || substr(data, 11)"
                  " WHERE message_id = 'c'");
    g_autofree char *t4 = snap_entries_text(path);
    ck_assert_str_eq(t4, "refused");
    ck_assert_int_eq(raw_sql(path, "SELECT count(*) FROM snap_items"), 1);
    /* its date not an integer */
    raw_sql(path, "UPDATE snap_items SET date = 'soon' WHERE message_id = 'b'");
    g_autofree char *t5 = snap_entries_text(path);
    ck_assert_str_eq(t5, "refused");
    ck_assert_int_eq(raw_sql(path, "SELECT count(*) FROM snap_items"), 0);
    /* the sent row: damaged, refused; the same bytes put: written again */
    raw_sql(path, "UPDATE snapshot SET data = substr(data, 1, 20) || X'ee' || substr(data, 22)"
                  " WHERE id = 2");
    {
        g_autoptr(bw_store_t) s = NULL;
        ck_assert_int_eq(bw_store_open(path, &s, NULL, NULL), BW_OK);
        g_autoptr(GBytes) got = NULL;
        ck_assert_int_eq(bw_store_get_snap_sent(s, &got), BW_E_STATE);
        ck_assert_ptr_null(got);
        g_autoptr(GBytes) sent = g_bytes_new_static("the sent messages", 17);
        bool written = false;
        ck_assert_int_eq(bw_store_begin(s, NULL), BW_OK);
        ck_assert_int_eq(bw_store_put_snap_sent(s, sent, &written), BW_OK);
        ck_assert(written);
        ck_assert_int_eq(bw_store_put_snap_sent(s, sent, &written), BW_OK);
        ck_assert(!written);
        ck_assert_int_eq(bw_store_commit(s, NULL), BW_OK);
        ck_assert_int_eq(bw_store_get_snap_sent(s, &got), BW_OK);
        ck_assert_uint_eq(g_bytes_get_size(got), 17);
    }
}
END_TEST

Suite *
suite_store(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_open_modes);
    tcase_add_test(tc, test_meta_roundtrip);
    tcase_add_test(tc, test_skipped_roundtrip);
    tcase_add_test(tc, test_campaigns_keep_muted);
    tcase_add_test(tc, test_campaign_bin_roundtrip);
    tcase_add_test(tc, test_campaign_bin_damage);
    tcase_add_test(tc, test_campaign_bin_other_row);
    tcase_add_test(tc, test_open_adds_columns_once);
    tcase_add_test(tc, test_read_transaction_nested);
    tcase_add_test(tc, test_campaign_bin_bounds);
    tcase_add_test(tc, test_campaigns_save_changed_only);
    tcase_add_test(tc, test_notified_and_tagged);
    tcase_add_test(tc, test_corrupt_file_moved_aside);
    tcase_add_test(tc, test_corrupt_twice_same_second_keeps_both);
    tcase_add_test(tc, test_truncated_database);
    tcase_add_test(tc, test_two_writers);
    tcase_add_test(tc, test_parse_since);
    tcase_add_test(tc, test_tagger_all_or_none);
    tcase_add_test(tc, test_items_load_order);
    tcase_add_test(tc, test_snapshot_parts);
    tcase_add_test(tc, test_snapshot_parts_damage);
    tcase_add_test(tc, test_checkpoint_when_long);
    tcase_add_test(tc, test_outside_effects_checkpoint);
    tcase_add_test(tc, test_durable_commit_survives_power_loss);
    tcase_add_test(tc, test_durable_ends_at_reset);
    tcase_add_test(tc, test_known_ids_sync);
    tcase_add_test(tc, test_snap_rows);
    tcase_add_test(tc, test_unslim_promoted_keeps_added_evidence);
    suite_add_tcase(s, tc);
    return s;
}
