/* scanner.c: one scan of the notmuch mailbox (see scanner.h).
 *
 * Exactness of incremental runs.  A verdict depends on the report (stored)
 * and on the mailbox (sent mail, correspondents): new mail can change it.
 * So items store the parsed report, and whenever anything in the database
 * changed besides our own tags, every stored report is classified again
 * against the current mailbox (no file is parsed again), and campaigns,
 * surges and the assessment are rebuilt over all of them.  Only a run that
 * finds nothing new reuses the stored verdicts and campaigns as they are
 * (from the snapshot below, recomputing what depends on "now").
 *
 * What a reclassification asks about the owner's sent mail depends on the
 * owner's messages only: while none of them changed (none in the lastmod
 * range, the same count) the sender profile and those answers are taken
 * from the last run instead of Xapian and the files (nm-source.h).  Only the
 * rows whose JSON changed are written again.  Removed messages do not move
 * notmuch's revision: the directory digest and the message count see them.
 *
 * Known limit: a verdict can depend on the order reports are classified in
 * (bw_classify() teaches the profile the provider of legitimate originals,
 * capped at 64 domains); runs classify stored reports by date, then new
 * ones, which T210 finds equal to a full rescan on the fixtures. */
#include "config.h"
#include "scanner.h"
#include "nm-source.h"
#include "nm-tagger.h"
#include "reader.h"
#include "scan-signals.h"
#include "store.h"
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <utime.h>
#include <fcntl.h>
#include <unistd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LOCK_TIMEOUT_MS 10000u
#define DEFAULT_PROFILE_SAMPLE  500u
#define MAX_PROFILE_SAMPLE      20000u
/* What wrote the state: another program version, engine version or state
 * layout (here: the snapshot) is not trusted, the mail is read again. */
#define STATE_PROGRAM PACKAGE_VERSION " " BW_ENGINE_VERSION " state-2"

void
bw_scanner_options_init(bw_scanner_options_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->now = g_get_real_time() / G_USEC_PER_SEC;
}

char *
bw_scanner_default_state_path(void)
{
    return g_build_filename(g_get_user_data_dir(), "bouncewatch", "state.sqlite", NULL);
}

static char *
last_scan_file(const char *state_path)
{
    g_autofree char *dflt = state_path ? NULL : bw_scanner_default_state_path();
    return g_strconcat(state_path ? state_path : dflt, ".last-scan", NULL);
}

/* A file whose mtime is the time of the last successful scan: no write to
 * the state for a run that found nothing new, a utime() only. */
static void
stamp_success(const char *state_path)
{
    g_autofree char *f = last_scan_file(state_path);
    if (g_utime(f, NULL) == 0)
        return;
    int fd = g_open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

gint64
bw_scanner_last_success(const char *state_path)
{
    g_autofree char *f = last_scan_file(state_path);
    GStatBuf sb;
    return g_stat(f, &sb) == 0 ? (gint64)sb.st_mtime : 0;
}

bool
bw_scanner_parse_since(const char *text, gint64 now, gint64 *out)
{
    if (text == NULL || *text == '\0')
        return false;
    char *end = NULL;
    guint64 n = g_ascii_strtoull(text, &end, 10);
    if (end != text && end != NULL && strcmp(end, "mo") == 0 && n < 10000) {
        *out = now - (gint64)n * 30 * 86400;
        return true;
    }
    if (end != text && end != NULL && end[0] != '\0' && end[1] == '\0' && n < 100000) {
        gint64 unit = 0;
        switch (end[0]) {
        case 'm': unit = 60; break;   /* minutes; months are "mo" */
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        case 'y': unit = 365 * 86400; break;
        default: break;
        }
        if (unit > 0) {
            *out = now - (gint64)n * unit;
            return true;
        }
    }
    /* A plain date means its midnight, UTC. */
    int y, mo, d;
    char tail;
    if (sscanf(text, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3) {
        g_autoptr(GDateTime) dt = g_date_time_new_utc(y, mo, d, 0, 0, 0);
        if (dt == NULL)
            return false;
        *out = g_date_time_to_unix(dt);
        return true;
    }
    return bw_time_parse(text, out, NULL);
}

/* BOUNCEWATCH_DEBUG_TIMING=1 prints the time of each phase to stderr: the
 * numbers bench/scan-speed.sh reports per phase. */
static void
phase(const char *name)
{
    static gint64 last;
    static int enabled = -1;
    if (enabled < 0)
        enabled = g_getenv("BOUNCEWATCH_DEBUG_TIMING") != NULL;
    gint64 t = g_get_monotonic_time();
    if (enabled && last != 0)
        fprintf(stderr, "bouncewatch: timing: %-12s %8.1f ms\n", name, (t - last) / 1000.0);
    last = t;
}

static void
notice(const bw_scanner_options_t *opts, const char *line)
{
    if (!opts->quiet && opts->notice && line)
        opts->notice(opts->notice_data, line);
}

static unsigned
setting_uint(bw_nm_source_t *src, const char *key, unsigned dflt, unsigned max)
{
    const char *v = bw_nm_source_setting(src, key);
    if (v == NULL)
        return dflt;
    char *end = NULL;
    guint64 n = g_ascii_strtoull(v, &end, 10);
    if (end == v || n > max)
        return dflt;
    return (unsigned)n;
}

void
bw_owner_problem_clear(bw_owner_problem_t *p)
{
    if (p == NULL)
        return;
    g_clear_pointer(&p->value, g_free);
    g_clear_pointer(&p->suggested, g_free);
    g_clear_pointer(&p->others, g_strfreev);
    p->empty = false;
}

/* An address offered in a command line the user may paste into a shell:
 * plain characters only (an address from a Sent folder is still mail). */
static bool
pasteable_address(const char *a)
{
    if (a == NULL || strlen(a) > 254)
        return false;
    const char *at = strchr(a, '@');
    if (at == NULL || at == a || strchr(at + 1, '@') != NULL || strchr(at, '.') == NULL)
        return false;
    for (const char *p = a; *p; p++)
        if (!g_ascii_isalnum(*p) && strchr("._%+-@", *p) == NULL)
            return false;
    return true;
}

char **
bw_owner_problem_lines(const bw_owner_problem_t *p)
{
    GPtrArray *lines = g_ptr_array_new();
    if (p->empty || p->value == NULL || *p->value == '\0')
        g_ptr_array_add(lines, g_strdup(_("Your own address is not set: notmuch's "
                                          "user.primary_email is empty.")));
    else {
        g_autofree char *shown = bw_text_sanitize(p->value, 100);
        g_ptr_array_add(lines, g_strdup_printf(_("Your own address is not set: notmuch's "
                                                 "user.primary_email is unset, and notmuch made "
                                                 "up \"%s\" from this computer's name."), shown));
    }
    g_ptr_array_add(lines, g_strdup(_("Without it bouncewatch cannot tell bounces of your own "
                                      "mail from mail forged in your name, so it gives no "
                                      "verdict.")));
    if (pasteable_address(p->suggested)) {
        g_ptr_array_add(lines, g_strdup_printf(_("Your sent mail is from %s; if that is your "
                                                 "address, set it with:"), p->suggested));
        g_ptr_array_add(lines, g_strdup_printf("    notmuch config set user.primary_email %s",
                                               p->suggested));
        GString *others = g_string_new(NULL);
        for (char **o = p->others; o && *o; o++)
            if (pasteable_address(*o))
                g_string_append_printf(others, " %s", *o);
        if (others->len > 0) {
            g_ptr_array_add(lines, g_strdup(_("Your sent mail also comes from other addresses; "
                                              "if they are yours too, add them with:")));
            g_ptr_array_add(lines, g_strdup_printf("    notmuch config set user.other_email%s",
                                                   others->str));
        }
        g_string_free(others, TRUE);
    } else {
        g_ptr_array_add(lines, g_strdup(_("Set it to your own address with:")));
        g_ptr_array_add(lines, g_strdup_printf("    notmuch config set user.primary_email %s",
                                               _("you@example.org")));
    }
    g_ptr_array_add(lines, NULL);
    return (char **)g_ptr_array_free(lines, FALSE);
}

/* BW_E_CONFIG when the owner's address cannot be trusted: classifying
 * against it would call every real bounce backscatter. */
static bw_status_t
check_owner(bw_nm_source_t *src, const bw_scanner_options_t *opts, char **detail)
{
    const char *value = NULL;
    bw_owner_trust_t trust = bw_nm_source_owner_trust(src, &value);
    if (trust == BW_OWNER_TRUSTED)
        return BW_OK;
    bw_owner_problem_t local = { 0 };
    bw_owner_problem_t *p = opts->owner_problem_out ? opts->owner_problem_out : &local;
    bw_owner_problem_clear(p);
    p->empty = trust == BW_OWNER_EMPTY;
    p->value = g_strdup(value ? value : "");
    g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func(g_free);
    p->suggested = bw_nm_source_guess_owner(src, others);
    if (others->len > 0) {
        g_ptr_array_add(others, NULL);
        p->others = (char **)g_ptr_array_steal(others, NULL);
    }
    g_auto(GStrv) lines = bw_owner_problem_lines(p);
    for (char **l = lines; *l; l++)
        g_strstrip(*l);
    g_autofree char *joined = g_strjoinv(" ", lines);
    bw_owner_problem_clear(&local);
    return bw_error_set(detail, BW_E_CONFIG, "%s", joined);
}

/* bouncewatch.relays: the owner's provider hosts/domains, ';'-separated. */
static char **
setting_list(bw_nm_source_t *src, const char *key)
{
    const char *v = bw_nm_source_setting(src, key);
    if (v == NULL)
        return NULL;
    char **parts = g_strsplit_set(v, ";,", 256);
    GPtrArray *a = g_ptr_array_new();
    for (char **p = parts; *p; p++) {
        char *t = g_strstrip(*p);
        if (*t)
            g_ptr_array_add(a, g_ascii_strdown(t, -1));
    }
    g_strfreev(parts);
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* A digest of everything besides the mail that a verdict depends on: owner
 * addresses and bouncewatch settings.  When it changes, stored verdicts are
 * recomputed. */
static char *
config_digest(bw_nm_source_t *src)
{
    g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);
    for (const char *const *o = bw_nm_source_owners(src); o && *o; o++) {
        g_checksum_update(ck, (const guchar *)*o, -1);
        g_checksum_update(ck, (const guchar *)"\n", 1);
    }
    static const char *const keys[] = { "relays", "profile_sample" };
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *v = bw_nm_source_setting(src, keys[i]);
        g_checksum_update(ck, (const guchar *)keys[i], -1);
        g_checksum_update(ck, (const guchar *)"=", 1);
        if (v)
            g_checksum_update(ck, (const guchar *)v, -1);
        g_checksum_update(ck, (const guchar *)"\n", 1);
    }
    return g_strdup(g_checksum_get_string(ck));
}

static gint
item_cmp(gconstpointer a, gconstpointer b)
{
    const bw_item_t *x = *(bw_item_t *const *)a, *y = *(bw_item_t *const *)b;
    if (x->date_unix != y->date_unix)
        return x->date_unix < y->date_unix ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

/* Classify a report the reader read from a candidate. */
static bw_item_t *
classify_new(const bw_profile_t *profile, const bw_mailbox_ops_t *ops,
             const bw_nm_candidate_t *c, bw_report_t *r)
{
    bw_item_t *item = NULL;
    gint64 date = r->date_unix > 0 ? r->date_unix : c->date;
    if (bw_classify(profile, ops, c->message_id, c->file, date, r, &item) != BW_OK)
        return NULL;
    return item;
}

/* ------------------------------------------------------------ skipped
 *
 * The messages the reader process could not read (it crashed, ran out of
 * time or answered garbage on them) or the parser refused by a structural
 * cap.  They are kept in the state with the reader build that failed
 * (bw_reader_identity()): later runs with that build do not read them
 * again, a new build (an upgrade, a rebuild) or `scan --retry-skipped`
 * reads them again, even when they are outside the new-mail range.  A run
 * that meets one in its read phase, then has to start that phase again
 * (notmuch committing), remembers it in `run_culprits` and does not read it
 * twice. */
typedef struct {
    GPtrArray *list;          /* bw_skipped_t*, owned: the state's, then this run's */
    GHashTable *by_id;        /* message-id -> bw_skipped_t* in list */
    GHashTable *changed;      /* message-ids whose row is written */
    GHashTable *cleared;      /* message-ids whose row is deleted (owned keys) */
    char *reader;             /* this reader build */
} skips_t;

static void
skips_clear(skips_t *k)
{
    g_clear_pointer(&k->by_id, g_hash_table_unref);
    g_clear_pointer(&k->changed, g_hash_table_unref);
    g_clear_pointer(&k->cleared, g_hash_table_unref);
    g_clear_pointer(&k->list, g_ptr_array_unref);
    g_clear_pointer(&k->reader, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(skips_t, skips_clear)

static void
skips_load(skips_t *k, bw_store_t *store)
{
    k->reader = bw_reader_identity();
    if (bw_store_load_skipped(store, &k->list) != BW_OK)
        k->list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_skipped_free);
    k->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < k->list->len; i++) {
        bw_skipped_t *e = g_ptr_array_index(k->list, i);
        g_hash_table_insert(k->by_id, e->message_id, e);
    }
    k->changed = g_hash_table_new(g_str_hash, g_str_equal);
    k->cleared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* Skipped by this reader build (so not to be read again). */
static bool
skips_holds(const skips_t *k, const char *message_id)
{
    const bw_skipped_t *e = g_hash_table_lookup(k->by_id, message_id);
    return e != NULL && g_strcmp0(e->reader, k->reader) == 0;
}

static void
skips_forget(skips_t *k, const char *message_id)
{
    bw_skipped_t *e = g_hash_table_lookup(k->by_id, message_id);
    if (e == NULL)
        return;
    g_hash_table_remove(k->by_id, message_id);
    g_hash_table_remove(k->changed, message_id);
    g_hash_table_add(k->cleared, g_strdup(message_id));
    g_ptr_array_remove_fast(k->list, e);   /* frees e: order is restored on output */
}

static bw_skipped_t *
skips_put(skips_t *k, const char *message_id, const char *file, gint64 date, const char *cause,
          const char *why)
{
    bw_skipped_t *e = g_hash_table_lookup(k->by_id, message_id);
    if (e == NULL) {
        e = g_new0(bw_skipped_t, 1);
        e->message_id = g_strdup(message_id);
        g_ptr_array_add(k->list, e);
        g_hash_table_insert(k->by_id, e->message_id, e);
    }
    g_free(e->file);
    e->file = g_utf8_make_valid(file ? file : "", -1);
    e->date = date;
    if (cause != NULL) {
        g_free(e->cause);
        e->cause = g_strdup(cause);
        g_free(e->why);
        e->why = g_utf8_make_valid(why ? why : "", -1);
        g_free(e->reader);
        e->reader = g_strdup(k->reader);
    }
    g_hash_table_remove(k->cleared, message_id);
    g_hash_table_add(k->changed, e->message_id);
    return e;
}

static gint
skipped_cmp(gconstpointer a, gconstpointer b)
{
    const bw_skipped_t *x = *(bw_skipped_t *const *)a, *y = *(bw_skipped_t *const *)b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

/* A copy of the list for a result, by date. */
static GPtrArray *
skips_result(const skips_t *k)
{
    GPtrArray *out = g_ptr_array_new_full(k->list->len, (GDestroyNotify)bw_skipped_free);
    for (guint i = 0; i < k->list->len; i++) {
        const bw_skipped_t *e = g_ptr_array_index(k->list, i);
        bw_skipped_t *c = g_new0(bw_skipped_t, 1);
        c->message_id = g_strdup(e->message_id);
        c->file = g_strdup(e->file);
        c->cause = g_strdup(e->cause);
        c->why = g_strdup(e->why);
        c->reader = g_strdup(e->reader);
        c->date = e->date;
        g_ptr_array_add(out, c);
    }
    g_ptr_array_sort(out, skipped_cmp);
    return out;
}

static bw_status_t
skips_save(skips_t *k, bw_store_t *store)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, k->cleared);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (bw_store_delete_skipped(store, key) != BW_OK)
            return BW_E_STATE;
    g_hash_table_iter_init(&it, k->changed);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const bw_skipped_t *e = g_hash_table_lookup(k->by_id, key);
        if (e != NULL && bw_store_put_skipped(store, e) != BW_OK)
            return BW_E_STATE;
    }
    return BW_OK;
}

/* One line for the user (said even with --quiet, as a failure to read):
 * which message, what happened, and when it is tried again.  The
 * Message-ID and file name come from the mail: made safe to print. */
static void
skip_notice(const bw_scanner_options_t *opts, const bw_skipped_t *e)
{
    if (opts->notice == NULL)
        return;
    g_autofree char *file = bw_text_sanitize(e->file ? e->file : "", 200);
    g_autofree char *id = bw_text_sanitize(e->message_id ? e->message_id : "", 200);
    g_autofree char *line = g_strdup_printf(
        _("skipped %s (Message-ID <%s>): %s; it is read again when bouncewatch is updated, "
          "or by 'bouncewatch scan --retry-skipped'"), file, id, e->why);
    opts->notice(opts->notice_data, line);
}

static void
reader_notice(void *data, const char *line)
{
    notice(data, line);
}

/* The read stage: every new candidate not held yet goes through one
 * confined reader process (reader.h), its first message only (notmuch
 * keeps one message per file), bounces only; each report is classified in
 * candidate order, as before.  A message the reader crashed, hung or
 * answered garbage on, or that the parser refused by a cap, is skipped
 * and remembered; one that reads now leaves the skipped list.  Fails only
 * when no reader can run at all (then nothing is saved and the next run
 * tries again). */
static bw_status_t
read_new_mail(const bw_scanner_options_t *opts, const bw_profile_t *profile,
              const bw_mailbox_ops_t *ops, GPtrArray *fresh, GHashTable *have, GPtrArray *items,
              skips_t *skips, GHashTable *run_culprits, char **detail)
{
    g_autoptr(GPtrArray) todo = g_ptr_array_new();
    for (guint i = 0; i < fresh->len; i++) {
        bw_nm_candidate_t *c = g_ptr_array_index(fresh, i);
        if (!g_hash_table_contains(have, c->message_id))
            g_ptr_array_add(todo, c);
    }
    if (todo->len == 0)
        return BW_OK;
    bw_reader_options_t ropts = { .mode = BW_READER_REPORTS, .log = reader_notice,
                                  .log_data = (void *)opts };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&ropts);
    for (guint i = 0; i < todo->len; i++)
        bw_reader_add_file(reader, ((bw_nm_candidate_t *)g_ptr_array_index(todo, i))->file, 1,
                           true);
    bw_reader_result_t res;
    while (bw_reader_next(reader, &res)) {
        if (res.end)
            continue;
        const bw_nm_candidate_t *c = g_ptr_array_index(todo, res.request);
        const char *cause = bw_reader_fault_to_string(res.fault);
        if (res.fault == BW_READER_FAULT_UNAVAILABLE)
            return bw_error_set(detail, BW_E_INTERNAL, _("cannot read the new mail: %s"),
                                res.detail);
        if (cause == NULL && res.status == BW_E_REFUSED)
            cause = "refused";
        if (cause != NULL) {
            bw_skipped_t *e = skips_put(skips, c->message_id, c->file, c->date, cause, res.detail);
            if (!g_hash_table_contains(run_culprits, e->message_id)) {
                bw_skipped_t *k = g_new0(bw_skipped_t, 1);
                k->message_id = g_strdup(e->message_id);
                k->file = g_strdup(e->file);
                k->cause = g_strdup(e->cause);
                k->why = g_strdup(e->why);
                k->date = e->date;
                g_hash_table_insert(run_culprits, k->message_id, k);
                skip_notice(opts, e);
            }
            continue;
        }
        /* Read (a report or not): whatever another build skipped reads now. */
        skips_forget(skips, c->message_id);
        if (res.status != BW_OK || res.report == NULL)
            continue;
        if (!res.report->bounce) {
            bw_report_free(res.report);
            continue;
        }
        bw_item_t *it = classify_new(profile, ops, c, res.report);
        if (it == NULL)
            continue;
        g_hash_table_add(have, it->message_id);
        g_ptr_array_add(items, it);
        if (opts->new_items_out)
            g_ptr_array_add(opts->new_items_out, g_strdup(it->message_id));
    }
    return BW_OK;
}

/* Classify a stored item again against the current mailbox. */
static bw_item_t *
reclassify(const bw_profile_t *profile, const bw_mailbox_ops_t *ops, bw_item_t *old)
{
    bw_report_t *r = old->report;
    old->report = NULL;
    bw_item_t *item = NULL;
    if (r == NULL || bw_classify(profile, ops, old->message_id, old->file, old->date_unix,
                                 r, &item) != BW_OK)
        return NULL;
    return item;
}

/* The tags of SPEC section 3 for one item, space-separated. */
static char *
wanted_tags(const bw_item_t *item)
{
    GString *g = g_string_new("bounce");
    if (item->klass == BW_CLASS_BACKSCATTER) {
        g_string_append(g, " backscatter");
        if (item->campaign)
            g_string_append_printf(g, " bw/%s", item->campaign);
    }
    return g_string_free(g, FALSE);
}

static void
bw_gstring_free_all(GString *g)
{
    g_string_free(g, TRUE);
}

static bw_status_t
do_tagging(const bw_scanner_options_t *opts, bw_store_t *store, GPtrArray *items,
           GHashTable *extra, char **detail)
{
    g_autoptr(GHashTable) tagged = NULL;
    if (bw_store_load_tagged(store, &tagged) != BW_OK)
        return bw_error_set(detail, BW_E_STATE, "%s",
                            _("cannot read which tags were written before"));
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(
        (GDestroyNotify)bw_nm_tag_change_free);
    g_autoptr(GPtrArray) wanted = g_ptr_array_new_with_free_func(g_free);
    /* Every message we tag: the reports, the messages behind the signals
     * and the imitations (extra: message-id -> GString of tags), and those
     * we tagged before as signals or imitations (their tags may go). */
    g_autoptr(GHashTable) want_of = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *item = g_ptr_array_index(items, i);
        if (g_hash_table_contains(want_of, item->message_id))
            continue;
        char *want = wanted_tags(item);
        GString *more = extra ? g_hash_table_lookup(extra, item->message_id) : NULL;
        if (more != NULL && more->len > 0) {
            char *both = g_strdup_printf("%s %s", want, more->str);
            g_free(want);
            want = both;
        }
        g_hash_table_insert(want_of, item->message_id, want);
        g_ptr_array_add(ids, item->message_id);
    }
    GHashTableIter hi;
    gpointer k, v;
    if (extra != NULL) {
        g_hash_table_iter_init(&hi, extra);
        while (g_hash_table_iter_next(&hi, &k, &v))
            if (!g_hash_table_contains(want_of, k)) {
                g_hash_table_insert(want_of, k, g_strdup(((GString *)v)->str));
                g_ptr_array_add(ids, k);
            }
    }
    g_hash_table_iter_init(&hi, tagged);
    while (g_hash_table_iter_next(&hi, &k, &v))
        if (!g_hash_table_contains(want_of, k) &&
            (strstr(v, "bw/signal") != NULL || strstr(v, "bw/phishing") != NULL)) {
            g_hash_table_insert(want_of, k, g_strdup(""));
            g_ptr_array_add(ids, k);
        }
    for (guint i = 0; i < ids->len; i++) {
        const char *id = g_ptr_array_index(ids, i);
        char *want = g_strdup(g_hash_table_lookup(want_of, id));
        const char *had = g_hash_table_lookup(tagged, id);
        /* Only reports whose tags from us differ: tagging is idempotent and
         * a run with nothing new writes nothing.  A tag of ours the user
         * removed by hand stays removed until our verdict changes. */
        if (had != NULL && strcmp(had, want) == 0) {
            g_free(want);
            continue;
        }
        bw_nm_tag_change_t *c = g_new0(bw_nm_tag_change_t, 1);
        c->message_id = g_strdup(id);
        c->want = g_strsplit(want, " ", 8);
        c->had = had ? g_strsplit(had, " ", 8) : NULL;
        g_ptr_array_add(changes, c);
        g_ptr_array_add(wanted, want);
    }
    if (changes->len == 0)
        return BW_OK;
    unsigned timeout = opts->lock_timeout_ms;
    const char *env = g_getenv("BOUNCEWATCH_LOCK_TIMEOUT_MS");
    if (timeout == 0 && env != NULL)
        timeout = (unsigned)g_ascii_strtoull(env, NULL, 10);
    if (timeout == 0)
        timeout = DEFAULT_LOCK_TIMEOUT_MS;
    unsigned changed = 0;
    bw_status_t st = bw_nm_tagger_apply(opts->config_path, timeout, changes, &changed, detail);
    if (st != BW_OK)
        return st;
    /* Remember what we wrote, so a later verdict change removes exactly our
     * own stale tags and nothing else. */
    st = bw_store_begin(store, detail);
    if (st != BW_OK)
        return st;
    for (guint i = 0; i < changes->len && st == BW_OK; i++) {
        const bw_nm_tag_change_t *c = g_ptr_array_index(changes, i);
        const char *w = g_ptr_array_index(wanted, i);
        st = bw_store_set_tagged(store, c->message_id, *w ? w : NULL);
    }
    if (st != BW_OK) {
        bw_store_rollback(store);
        return st;
    }
    return bw_store_commit(store, detail);
}

/* Restrict a result to reports dated at or after `since`; campaigns and
 * surges keep their ids and figures but only those still active then are
 * listed. */
static void
apply_since(bw_scan_result_t *r, gint64 since)
{
    for (guint i = r->items->len; i-- > 0;) {
        bw_item_t *it = g_ptr_array_index(r->items, i);
        if (it->date_unix < since)
            g_ptr_array_remove_index(r->items, i);
    }
    for (guint i = r->campaigns->len; i-- > 0;) {
        bw_campaign_t *c = g_ptr_array_index(r->campaigns, i);
        if (c->last_seen < since)
            g_ptr_array_remove_index(r->campaigns, i);
    }
    for (guint i = r->surges->len; i-- > 0;) {
        bw_surge_t *s = g_ptr_array_index(r->surges, i);
        if (s->end < since)
            g_ptr_array_remove_index(r->surges, i);
    }
}

/* Set item->campaign from the stored campaigns (the nothing-new path, where
 * campaigns are not rebuilt). */
static void
link_campaigns(GPtrArray *items, GPtrArray *campaigns)
{
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < items->len; i++) {
        bw_item_t *it = g_ptr_array_index(items, i);
        g_hash_table_insert(by_id, it->message_id, it);
    }
    for (guint i = 0; i < campaigns->len; i++) {
        bw_campaign_t *c = g_ptr_array_index(campaigns, i);
        for (guint j = 0; c->members && j < c->members->len; j++) {
            bw_item_t *it = g_hash_table_lookup(by_id, g_ptr_array_index(c->members, j));
            if (it && g_strcmp0(it->campaign, c->id) != 0) {
                g_free(it->campaign);
                it->campaign = g_strdup(c->id);
            }
        }
    }
}

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
 *     whether bw_classify() learnt from its original, and the item's SPEC
 *     `bounces` entry as JSON text, written by the engine's own
 *     bw_scan_result_to_json().
 * Strings are byte strings ("ay", empty = NULL): mail text need not be UTF-8.
 * The blob starts with a BLAKE2b-256 of the rest: a damaged blob is refused
 * (GVariant's own normal-form check costs 65 ms at 1.3k items, the hash 2).
 * T210 checks that a run served from the snapshot equals a full rescan; if
 * surge.c or assess.c start to read more of an item, add it here and bump
 * SNAP_VERSION. */
#define SNAP_VERSION 2u
#define SNAP_SENT_TYPE "(ayayaayayayxaay)"
#define SNAP_ITEM_TYPE "(ayxyyaybaya(ayayy)ayaay)"
#define SNAP_TYPE "(uua" SNAP_SENT_TYPE "a" SNAP_ITEM_TYPE ")"
#define SNAP_HASH_BYTES 32u

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
item_fragments(GPtrArray *items)
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
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, FALSE);
    for (guint i = 0; i < items->len; i++) {
        json_generator_set_root(gen, json_array_get_element(arr, i));
        g_ptr_array_add(out, json_generator_to_data(gen, NULL));
    }
    json_node_unref(root);
    return out;
}

/* The `bounces` entries of the items: those in `reuse` (message-id -> the
 * entry the last snapshot holds, for items whose stored row did not change:
 * the entry is a function of the item) are taken as they are, the others
 * written by the engine. */
static GPtrArray *
item_fragments_reusing(GPtrArray *items, GHashTable *reuse)
{
    if (reuse == NULL || g_hash_table_size(reuse) == 0)
        return item_fragments(items);
    g_autoptr(GPtrArray) todo = g_ptr_array_new();
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (!g_hash_table_contains(reuse, it->message_id))
            g_ptr_array_add(todo, (gpointer)it);
    }
    g_autoptr(GPtrArray) made = item_fragments(todo);
    if (made == NULL)
        return NULL;
    GPtrArray *out = g_ptr_array_new_full(items->len, g_free);
    for (guint i = 0, j = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        const char *old = g_hash_table_lookup(reuse, it->message_id);
        g_ptr_array_add(out, old ? g_strdup(old) : g_steal_pointer(&g_ptr_array_index(made, j++)));
    }
    return out;
}

/* message-id -> `bounces` entry, from a snapshot (owned strings). */
static GHashTable *
snapshot_fragments(GVariant *v)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (v == NULL)
        return h;
    g_autoptr(GVariant) vi = g_variant_get_child_value(v, 3);
    gsize n = g_variant_n_children(vi);
    for (gsize i = 0; i < n; i++) {
        g_autoptr(GVariant) t = g_variant_get_child_value(vi, i);
        g_autoptr(GVariant) c0 = g_variant_get_child_value(t, 0);
        g_autoptr(GVariant) c6 = g_variant_get_child_value(t, 6);
        char *id = bs_dup(c0), *frag = bs_dup(c6);
        if (id && frag)
            g_hash_table_replace(h, id, frag);
        else {
            g_free(id);
            g_free(frag);
        }
    }
    return h;
}

/* `reuse`: see item_fragments_reusing() (may be NULL). */
static GBytes *
snapshot_encode(GPtrArray *sent, GPtrArray *items, const bw_mailbox_ops_t *ops,
                GHashTable *reuse)
{
    g_autoptr(GPtrArray) frags = item_fragments_reusing(items, reuse);
    if (frags == NULL)
        return NULL;
    GVariantBuilder sb, ib;
    g_variant_builder_init(&sb, G_VARIANT_TYPE("a" SNAP_SENT_TYPE));
    for (guint i = 0; sent != NULL && i < sent->len; i++) {
        const bw_nm_sent_t *s = g_ptr_array_index(sent, i);
        GVariant *t[] = {
            bs_new(s->message_id), bs_new(s->from), bs_array(s->received),
            bs_new(s->dkim_domain), bs_new(s->x_mailer), g_variant_new_int64(s->date),
            bs_array(s->to),
        };
        g_variant_builder_add_value(&sb, g_variant_new_tuple(t, G_N_ELEMENTS(t)));
    }
    g_variant_builder_init(&ib, G_VARIANT_TYPE("a" SNAP_ITEM_TYPE));
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        const bw_report_t *r = it->report;
        const bw_original_t *o = r ? r->original : NULL;
        /* The condition under which bw_classify() learns from the original. */
        bool learn = o && o->message_id && ops->sent_has_message_id &&
                     ops->sent_has_message_id(ops->ctx, o->message_id, NULL);
        bool keep_original = o && (learn || it->klass == BW_CLASS_LEGITIMATE);
        GVariantBuilder rb;
        g_variant_builder_init(&rb, G_VARIANT_TYPE("a(ayayy)"));
        for (guint j = 0; r && r->recipients && j < r->recipients->len; j++) {
            const bw_recipient_t *rc = g_ptr_array_index(r->recipients, j);
            GVariant *t[] = { bs_new(rc->address), bs_new(rc->action),
                              g_variant_new_byte((guchar)rc->reason) };
            g_variant_builder_add_value(&rb, g_variant_new_tuple(t, G_N_ELEMENTS(t)));
        }
        GVariant *t[] = {
            bs_new(it->message_id), g_variant_new_int64(it->date_unix),
            g_variant_new_byte((guchar)it->klass), g_variant_new_byte((guchar)it->origin),
            bs_new(it->campaign), g_variant_new_boolean(learn),
            bs_new(g_ptr_array_index(frags, i)), g_variant_builder_end(&rb),
            bs_new(keep_original ? o->dkim_domain : NULL),
            bs_array(keep_original ? o->received : NULL),
        };
        g_variant_builder_add_value(&ib, g_variant_new_tuple(t, G_N_ELEMENTS(t)));
    }
    GVariant *top[] = {
        g_variant_new_uint32(SNAP_VERSION), g_variant_new_uint32(items->len),
        g_variant_builder_end(&sb), g_variant_builder_end(&ib),
    };
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_tuple(top, G_N_ELEMENTS(top)));
    gsize len = g_variant_get_size(v);
    guchar *blob = g_malloc(SNAP_HASH_BYTES + len);
    g_variant_store(v, blob + SNAP_HASH_BYTES);
    crypto_generichash(blob, SNAP_HASH_BYTES, blob + SNAP_HASH_BYTES, len, NULL, 0);
    return g_bytes_new_take(blob, SNAP_HASH_BYTES + len);
}

/* What a snapshot gives back. */
typedef struct {
    GPtrArray *items;        /* bw_item_t*, slim (see above), by date */
    GPtrArray *fragments;    /* char*: the SPEC entry of each item */
} snapshot_t;

static void
snapshot_clear(snapshot_t *s)
{
    g_clear_pointer(&s->items, g_ptr_array_unref);
    g_clear_pointer(&s->fragments, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(snapshot_t, snapshot_clear)

/* Decode the stored snapshot: feeds `profile` exactly as the save's run fed
 * it (sent mail, then the originals bw_classify() learnt from) and gives the
 * slim items.  FALSE when there is none, or it does not match the items
 * table (then the caller reads the items themselves). */
/* The stored snapshot, checked (hash, version, item count), or NULL. */
static GVariant *
snapshot_variant(bw_store_t *store)
{
    g_autoptr(GBytes) bytes = NULL;
    if (bw_store_get_snapshot(store, &bytes) != BW_OK || bytes == NULL)
        return NULL;
    gsize len = 0;
    const guchar *blob = g_bytes_get_data(bytes, &len);
    guchar hash[SNAP_HASH_BYTES];
    if (len <= SNAP_HASH_BYTES)
        return NULL;
    crypto_generichash(hash, sizeof hash, blob + SNAP_HASH_BYTES, len - SNAP_HASH_BYTES, NULL, 0);
    /* A damaged blob would decode to defaults silently: refuse it. */
    if (sodium_memcmp(hash, blob, SNAP_HASH_BYTES) != 0)
        return NULL;
    g_autoptr(GBytes) data = g_bytes_new_from_bytes(bytes, SNAP_HASH_BYTES,
                                                    len - SNAP_HASH_BYTES);
    /* Trusted: these are the very bytes g_variant_store() wrote. */
    g_autoptr(GVariant) v = g_variant_ref_sink(
        g_variant_new_from_bytes(G_VARIANT_TYPE(SNAP_TYPE), data, TRUE));
    g_autoptr(GVariant) vv = g_variant_get_child_value(v, 0);
    g_autoptr(GVariant) vc = g_variant_get_child_value(v, 1);
    g_autoptr(GVariant) vi = g_variant_get_child_value(v, 3);
    guint32 count = g_variant_get_uint32(vc);
    guint64 stored = 0;
    if (g_variant_get_uint32(vv) != SNAP_VERSION || g_variant_n_children(vi) != count ||
        bw_store_count_items(store, &stored) != BW_OK || stored != count)
        return NULL;
    return g_steal_pointer(&v);
}

/* Feed the profile the sent messages of the snapshot, in the order the
 * saving run fed them; `sent_out` (may be NULL) gets them as bw_nm_sent_t*. */
static void
snapshot_sent(GVariant *v, bw_profile_t *profile, GPtrArray *sent_out)
{
    g_autoptr(GVariant) vs = g_variant_get_child_value(v, 2);
    gsize ns = g_variant_n_children(vs);
    for (gsize i = 0; i < ns; i++) {
        g_autoptr(GVariant) t = g_variant_get_child_value(vs, i);
        g_autoptr(GVariant) c0 = g_variant_get_child_value(t, 0);
        g_autoptr(GVariant) c1 = g_variant_get_child_value(t, 1);
        g_autoptr(GVariant) c2 = g_variant_get_child_value(t, 2);
        g_autoptr(GVariant) c3 = g_variant_get_child_value(t, 3);
        g_autoptr(GVariant) c4 = g_variant_get_child_value(t, 4);
        g_autoptr(GVariant) c5 = g_variant_get_child_value(t, 5);
        g_autoptr(GVariant) c6 = g_variant_get_child_value(t, 6);
        bw_nm_sent_t *s = g_new0(bw_nm_sent_t, 1);
        s->to = g_ptr_array_new_with_free_func(g_free);
        bs_array_into(c6, s->to);
        s->message_id = bs_dup(c0);
        s->from = bs_dup(c1);
        s->received = g_ptr_array_new_with_free_func(g_free);
        bs_array_into(c2, s->received);
        s->dkim_domain = bs_dup(c3);
        s->x_mailer = bs_dup(c4);
        s->date = g_variant_get_int64(c5);
        bw_nm_sent_feed(profile, s);
        if (sent_out)
            g_ptr_array_add(sent_out, s);
        else
            bw_nm_sent_free(s);
    }
}

/* Decode the stored snapshot: feeds `profile` exactly as the save's run fed
 * it (sent mail, then the originals bw_classify() learnt from) and gives the
 * slim items.  FALSE when there is none, or it does not match the items
 * table (then the caller reads the items themselves). */
static bool
snapshot_load(bw_store_t *store, bw_profile_t *profile, snapshot_t *out)
{
    memset(out, 0, sizeof *out);
    g_autoptr(GVariant) v = snapshot_variant(store);
    if (v == NULL)
        return false;
    g_autoptr(GVariant) vi = g_variant_get_child_value(v, 3);
    guint32 count = (guint32)g_variant_n_children(vi);
    snapshot_sent(v, profile, NULL);

    out->items = g_ptr_array_new_full(count, (GDestroyNotify)bw_item_free);
    out->fragments = g_ptr_array_new_full(count, g_free);
    for (guint32 i = 0; i < count; i++) {
        g_autoptr(GVariant) t = g_variant_get_child_value(vi, i);
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
        if (it->message_id == NULL || frag == NULL) {
            g_free(frag);
            bw_item_free(it);
            snapshot_clear(out);
            return false;
        }
        if (learn && it->report->original)
            bw_profile_learn_original(profile, it->report->original);
        g_ptr_array_add(out->items, it);
        g_ptr_array_add(out->fragments, frag);
    }
    return true;
}

/* The SPEC document of a run with nothing new, from the snapshot: surges
 * and the assessment computed for this "now" and --since, the `bounces`
 * entries spliced in as stored.  NULL when the snapshot cannot be used. */
static char *
snapshot_document(const bw_scanner_options_t *opts, bw_nm_source_t *src, bw_store_t *store,
                  bw_profile_t *profile, guint64 revision, guint64 total, const skips_t *skips)
{
    g_auto(snapshot_t) snap = { 0 };
    if (!snapshot_load(store, profile, &snap))
        return NULL;
    phase("snap-load");
    g_autoptr(GPtrArray) campaigns = NULL;
    if (bw_store_load_campaigns(store, &campaigns, NULL) != BW_OK)
        return NULL;
    phase("campaigns");
    bw_surge_config_t scfg;
    bw_surge_config_default(&scfg);
    g_autoptr(GPtrArray) surges = NULL;
    if (bw_surges_detect(snap.items, opts->now, &scfg, &surges) != BW_OK)
        return NULL;
    phase("surges");
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
    r.database = (char *)bw_nm_source_path(src);
    r.revision = revision;
    r.messages_examined = total;
    r.items = none;
    r.campaigns = campaigns;
    r.surges = surges;
    g_autoptr(GPtrArray) skipped = skips_result(skips);
    r.skipped = skipped;
    if (opts->since > 0)
        apply_since(&r, opts->since);
    if (bw_assess(profile, kept, r.campaigns, r.surges, opts->now, &r.assessment) != BW_OK)
        return NULL;
    /* the signals as the stored rows give them (nothing new was read) */
    g_auto(bw_signals_run_t) sig = { 0 };
    bw_mailbox_ops_t ops;
    bw_nm_source_mailbox_ops(src, &ops);
    if (bw_signals_stage_run(&sig, src, store, profile, &ops, BW_SIGNALS_READ_NONE, 0, NULL) != BW_OK ||
        bw_signals_stage_assess(&sig, &r, NULL) != BW_OK) {
        bw_assessment_free(r.assessment);
        return NULL;
    }
    phase("assess");
    JsonNode *node = bw_scan_result_to_json(&r);
    bw_assessment_free(r.assessment);
    g_clear_pointer(&r.signals, g_ptr_array_unref);
    g_clear_pointer(&r.phishing, g_ptr_array_unref);
    g_clear_pointer(&r.signals_assessment, bw_signals_assessment_free);
    if (node == NULL)
        return NULL;
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, node);
    json_generator_set_pretty(gen, FALSE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    json_node_unref(node);
    /* Inside JSON strings every quote is escaped, so this can only be the
     * top-level member. */
    static const char hole[] = "\"bounces\":[]";
    const char *at = strstr(text, hole);
    if (at == NULL)
        return NULL;
    gsize head = (gsize)(at - text) + sizeof hole - 2;   /* up to and with '[' */
    GString *g = g_string_sized_new(strlen(text) + 1024 * kept_text->len);
    g_string_append_len(g, text, (gssize)head);
    for (guint i = 0; i < kept_text->len; i++) {
        if (i)
            g_string_append_c(g, ',');
        g_string_append(g, g_ptr_array_index(kept_text, i));
    }
    g_string_append(g, text + head);
    return g_string_free(g, FALSE);
}

/* Mail files stay where notmuch put them, but notmuch 0.37 can fail any read
 * while `notmuch new` commits (see nm-source.h): the whole read phase is
 * then done again on a fresh open, at most this many times.  A slow scan
 * (a big mailbox, a sanitizer build) can overlap several commits of a busy
 * `notmuch new`, so the waits between attempts grow, up to READ_RETRY_MAX_US
 * each (about 5 s of waiting in all before giving up). */
#define MAX_READ_ATTEMPTS 10u
#define READ_RETRY_MAX_US 800000u

/* A fresh profile of the owner (addresses and configured relays only). */
static bw_profile_t *
profile_new(bw_nm_source_t *src)
{
    g_auto(GStrv) relays = setting_list(src, "relays");
    return bw_profile_new(bw_nm_source_owners(src), (const char *const *)relays);
}

/* Nothing new, but the revision moved (only our own tags) or the directory
 * digest did (a file renamed, nothing removed): remember them, so the next
 * run does not look again. */
static void
account_unchanged(bw_store_t *store, guint64 after, guint64 revision, const char *dirs,
                  const char *saved_dirs)
{
    bool dirs_moved = dirs != NULL && g_strcmp0(dirs, saved_dirs) != 0;
    if ((after == revision && !dirs_moved) || bw_store_begin(store, NULL) != BW_OK)
        return;
    g_autofree char *rev_text = g_strdup_printf("%" G_GUINT64_FORMAT, revision);
    if (bw_store_set_meta(store, "revision", rev_text) == BW_OK &&
        (!dirs_moved || bw_store_set_meta(store, "dirs", dirs) == BW_OK))
        bw_store_commit(store, NULL);
    else
        bw_store_rollback(store);
}

/* One attempt.  *retry is set when a read failed before anything was
 * written: the caller runs it again.  With json_out non-NULL, a run with
 * nothing new may answer with the document (from the snapshot) and leave
 * *out NULL. */
static bw_status_t
scan_once(const bw_scanner_options_t *opts, bw_scan_result_t **out, char **json_out,
          guint64 *json_revision, GHashTable *run_culprits, bool *retry, char **detail)
{
    *out = NULL;
    g_autofree char *default_state = NULL;
    const char *state_path = opts->state_path;
    if (state_path == NULL)
        state_path = default_state = bw_scanner_default_state_path();

    phase("start");
    g_autoptr(bw_nm_source_t) src = NULL;
    bw_status_t st = bw_nm_source_open(opts->config_path, &src, detail);
    if (st != BW_OK)
        return st;
    /* Before the state is even opened: no verdict, nothing written. */
    st = check_owner(src, opts, detail);
    if (st != BW_OK)
        return st;
    phase("open");

    g_autoptr(bw_store_t) store = NULL;
    g_autofree char *rebuilt = NULL;
    st = bw_store_open(state_path, &store, &rebuilt, detail);
    if (st != BW_OK)
        return st;
    if (rebuilt)
        notice(opts, rebuilt);
    if (opts->retry_skipped && bw_store_retry_skipped(store) != BW_OK)
        return bw_error_set(detail, BW_E_STATE, "%s", _("cannot read which messages were skipped"));

    const char *uuid = NULL;
    guint64 revision = bw_nm_source_revision(src, &uuid);
    g_autofree char *saved_uuid = NULL, *saved_rev = NULL, *saved_cfg = NULL;
    bw_store_get_meta(store, "uuid", &saved_uuid);
    bw_store_get_meta(store, "revision", &saved_rev);
    bw_store_get_meta(store, "config", &saved_cfg);
    g_autofree char *cfg = config_digest(src);
    guint64 after = saved_rev ? g_ascii_strtoull(saved_rev, NULL, 10) : 0;
    /* Another version of bouncewatch or of the engine (BW_ENGINE_VERSION)
     * may classify, or store items, differently: start over from the mail
     * rather than trust its state. */
    g_autofree char *saved_program = NULL;
    bw_store_get_meta(store, "program", &saved_program);
    bool full = opts->full || saved_rev == NULL || g_strcmp0(saved_uuid, uuid) != 0 ||
                g_strcmp0(saved_program, STATE_PROGRAM) != 0;
    bool config_changed = g_strcmp0(saved_cfg, cfg) != 0;
    if (!full && after > revision)
        full = true;   /* the database was rebuilt under the same UUID */

    g_autoptr(GPtrArray) candidates = NULL;
    guint64 examined = 0;
    bool sent_changed = false;
    phase("state");
    if (!full && !config_changed && after == revision) {
        /* Not one write since the last run: no query at all. */
        candidates = g_ptr_array_new();
    } else {
        st = bw_nm_source_candidates(src, full, after, &candidates, &examined, &sent_changed,
                                     detail);
        if (st != BW_OK)
            return st;
    }
    phase("candidates");

    /* Skip reports already stored (dedupe: our own tagging bumps lastmod).
     * Anything else in the range is new mail (or a user's tag change) and
     * may change verdicts. */
    g_autoptr(GPtrArray) fresh = g_ptr_array_new();
    g_auto(skips_t) skips = { 0 };
    skips_load(&skips, store);
    /* Culprits an earlier attempt of this run met (its read phase was
     * started again): not read twice. */
    GHashTableIter ci;
    gpointer cv;
    g_hash_table_iter_init(&ci, run_culprits);
    while (g_hash_table_iter_next(&ci, NULL, &cv)) {
        const bw_skipped_t *e = cv;
        skips_put(&skips, e->message_id, e->file, e->date, e->cause, e->why);
    }
    g_autoptr(GHashTable) fresh_ids = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < candidates->len; i++) {
        bw_nm_candidate_t *c = g_ptr_array_index(candidates, i);
        bool found = false;
        if (!full && bw_store_has_item(store, c->message_id, &found) == BW_OK && found)
            continue;
        /* A message this reader build could not read is not read again
         * (only its file name follows notmuch's renames). */
        if (skips_holds(&skips, c->message_id)) {
            const bw_skipped_t *e = g_hash_table_lookup(skips.by_id, c->message_id);
            g_autofree char *file = g_utf8_make_valid(c->file, -1);
            if (g_strcmp0(e->file, file) != 0)
                skips_put(&skips, c->message_id, c->file, c->date, NULL, NULL);
            continue;
        }
        g_ptr_array_add(fresh, c);
        g_hash_table_add(fresh_ids, c->message_id);
    }
    /* What another reader build skipped is read again now, wherever it is
     * in the mailbox's history (where notmuch keeps it now). */
    g_autoptr(GPtrArray) retried = g_ptr_array_new_with_free_func(
        (GDestroyNotify)bw_nm_candidate_free);
    for (guint i = 0; i < skips.list->len; i++) {
        const bw_skipped_t *e = g_ptr_array_index(skips.list, i);
        if (skips_holds(&skips, e->message_id) || g_hash_table_contains(fresh_ids, e->message_id))
            continue;
        bw_nm_candidate_t *c = g_new0(bw_nm_candidate_t, 1);
        c->message_id = g_strdup(e->message_id);
        if (bw_nm_source_find_file(src, e->message_id, &c->file, &c->date) != BW_OK ||
            c->file == NULL)
            c->file = g_strdup(e->file);   /* gone: found out and forgotten below */
        g_ptr_array_add(retried, c);
        g_ptr_array_add(fresh, c);
        g_hash_table_add(fresh_ids, c->message_id);
    }
    /* Nothing new: every message written since the last run is a report we
     * already hold (our own tags bump lastmod), and none was deleted (a
     * deletion leaves no message in the range, but lowers the count). */
    g_autofree char *saved_count = NULL;
    bw_store_get_meta(store, "messages", &saved_count);
    guint64 total = 0;
    bool nothing_new = !full && !config_changed && !sent_changed && fresh->len == 0 &&
                       examined == candidates->len && saved_count != NULL;
    /* Removing a message does not bump notmuch's revision (0.37): the
     * count shows it, but counting 160k messages costs 40 ms.  notmuch new
     * records each directory's mtime when it adds or removes a file, so an
     * unchanged directory digest means nothing was removed that way. */
    g_autofree char *dirs = bw_nm_source_directory_digest(src);
    g_autofree char *saved_dirs = NULL;
    bw_store_get_meta(store, "dirs", &saved_dirs);
    if (nothing_new && dirs && saved_dirs && strcmp(dirs, saved_dirs) == 0) {
        total = g_ascii_strtoull(saved_count, NULL, 10);
    } else if (nothing_new) {
        total = bw_nm_source_count_messages(src);
        nothing_new = total == g_ascii_strtoull(saved_count, NULL, 10);
    }
    if (bw_nm_source_failed(src, detail)) {
        *retry = true;
        return BW_E_DATABASE;
    }

    g_autoptr(GPtrArray) items = NULL;
    g_autoptr(GPtrArray) campaigns = NULL;
    g_auto(bw_signals_run_t) sig = { 0 };
    g_autoptr(bw_profile_t) profile = profile_new(src);
    if (profile == NULL)
        return bw_error_set(detail, BW_E_NOMEM, "%s", _("cannot build the sender profile"));

    if (nothing_new && opts->skip_unchanged) {
        /* The caller (the post-new hook) only acts on new reports. */
        account_unchanged(store, after, revision, dirs, saved_dirs);
        phase("unchanged");
        return BW_OK;
    }
    if (nothing_new && json_out != NULL && !opts->tag) {
        /* Only "now" (or --since) can differ from the last run: the
         * snapshot has all the rest.  (--tag goes the long way: the tags
         * of a run that could not write them are still owed.) */
        g_autoptr(bw_profile_t) p = profile_new(src);
        char *doc = p ? snapshot_document(opts, src, store, p, revision, total, &skips) : NULL;
        if (doc != NULL) {
            account_unchanged(store, after, revision, dirs, saved_dirs);
            phase("snapshot");
            *json_out = doc;
            *json_revision = revision;
            return BW_OK;
        }
    }
    if (nothing_new) {
        g_autofree char *msg = NULL;
        st = bw_store_load_items(store, &items, &msg);
        if (st == BW_OK)
            st = bw_store_load_campaigns(store, &campaigns, &msg);
        if (st != BW_OK) {
            /* Damage shows only now: start over from the mail. */
            g_clear_pointer(&msg, g_free);
            st = bw_store_reset(store, &msg, detail);
            if (st != BW_OK)
                return st;
            notice(opts, msg);
            bw_scan_result_t *r = NULL;
            bw_scanner_options_t again = *opts;
            again.full = true;
            /* The store is reopened by the recursive run: close ours. */
            g_clear_pointer(&store, bw_store_close);
            g_clear_pointer(&src, bw_nm_source_close);
            st = bw_scanner_run(&again, &r, detail);
            *out = r;
            return st;
        }
        link_campaigns(items, campaigns);
        /* The profile as the saving run had it: the sent mail it learnt
         * from and the originals bw_classify() learnt from. */
        g_auto(snapshot_t) snap = { 0 };
        if (!snapshot_load(store, profile, &snap)) {
            g_clear_pointer(&profile, bw_profile_free);
            profile = profile_new(src);
            bw_mailbox_ops_t ops;
            bw_nm_source_mailbox_ops(src, &ops);
            unsigned sample = setting_uint(src, "profile_sample", DEFAULT_PROFILE_SAMPLE,
                                           MAX_PROFILE_SAMPLE);
            if (profile == NULL ||
                bw_nm_source_learn_profile(src, profile, sample, NULL, detail) != BW_OK) {
                *retry = bw_nm_source_failed(src, detail);
                return BW_E_DATABASE;
            }
            for (guint i = 0; i < items->len; i++) {
                const bw_item_t *it = g_ptr_array_index(items, i);
                const bw_original_t *o = it->report ? it->report->original : NULL;
                if (o && o->message_id && ops.sent_has_message_id(ops.ctx, o->message_id, NULL))
                    bw_profile_learn_original(profile, o);
            }
            if (bw_nm_source_failed(src, detail)) {
                *retry = true;
                return BW_E_DATABASE;
            }
        }
        /* the signals as the stored rows give them */
        bw_mailbox_ops_t ops;
        bw_nm_source_mailbox_ops(src, &ops);
        st = bw_signals_stage_run(&sig, src, store, profile, &ops, BW_SIGNALS_READ_NONE, after,
                                  detail);
        if (st != BW_OK) {
            *retry = bw_nm_source_failed(src, NULL);
            return st;
        }
        /* Only our own tags moved the revision: account for them, so the
         * next run does not look at those reports again. */
        account_unchanged(store, after, revision, dirs, saved_dirs);
        phase("load");
    } else {
        bw_mailbox_ops_t ops;
        bw_nm_source_mailbox_ops(src, &ops);
        unsigned sample = setting_uint(src, "profile_sample", DEFAULT_PROFILE_SAMPLE,
                                       MAX_PROFILE_SAMPLE);
        g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func((GDestroyNotify)bw_nm_sent_free);
        /* The profile learns from the newest sent messages.  When none of
         * the owner's mail changed (none in the lastmod range, none deleted:
         * the same count), they are the ones the last run learnt from: take
         * them from the snapshot instead of parsing the files again. */
        guint64 sent_total = bw_nm_source_count_sent(src);
        g_autofree char *saved_sent = NULL;
        bw_store_get_meta(store, "sent_messages", &saved_sent);
        g_autoptr(GVariant) prev = NULL;
        if (!full && !config_changed && !sent_changed && saved_sent != NULL &&
            g_ascii_strtoull(saved_sent, NULL, 10) == sent_total && !bw_nm_source_failed(src, NULL))
            prev = snapshot_variant(store);
        if (prev != NULL) {
            snapshot_sent(prev, profile, sent);
            /* The same sent mail: the last run's answers about it hold. */
            g_autoptr(GBytes) answers = NULL;
            if (bw_store_get_sent_answers(store, &answers) == BW_OK)
                bw_nm_source_import_sent_answers(src, answers);
        } else {
            st = bw_nm_source_learn_profile(src, profile, sample, sent, detail);
            if (st != BW_OK) {
                *retry = bw_nm_source_failed(src, NULL);
                return st;
            }
        }
        phase("profile");
        /* signals: before the classification, which asks about the runs
         * in Sent (sent_is_anomaly) */
        st = bw_signals_stage_run(&sig, src, store, profile, &ops,
                                  full ? BW_SIGNALS_READ_ALL : BW_SIGNALS_READ_RANGE, after, detail);
        if (st != BW_OK) {
            *retry = bw_nm_source_failed(src, NULL);
            return st;
        }
        phase("signals");

        items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
        g_autoptr(GHashTable) have = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) stored_text = NULL;   /* what the rows say now */
        g_autoptr(GPtrArray) vanished = g_ptr_array_new_with_free_func(g_free);
        if (!full) {
            g_autoptr(GPtrArray) stored = NULL;
            g_autofree char *msg = NULL;
            if (bw_store_load_items_text(store, &stored, &stored_text, &msg) != BW_OK) {
                g_clear_pointer(&msg, g_free);
                st = bw_store_reset(store, &msg, detail);
                if (st != BW_OK)
                    return st;
                notice(opts, msg);
                bw_scanner_options_t again = *opts;
                again.full = true;
                g_clear_pointer(&store, bw_store_close);
                g_clear_pointer(&src, bw_nm_source_close);
                return bw_scanner_run(&again, out, detail);
            }
            for (guint i = 0; i < stored->len; i++) {
                bw_item_t *old = g_ptr_array_index(stored, i);
                /* A report deleted from the mailbox leaves the state too,
                 * as a full rescan would not see it. */
                if (!ops.has_message_id(ops.ctx, old->message_id)) {
                    char *gone = g_strdup(old->message_id);
                    g_ptr_array_add(vanished, gone);
                    g_hash_table_add(have, gone);   /* not taken back from a concurrent run */
                    continue;
                }
                bw_item_t *it = reclassify(profile, &ops, old);
                if (it) {
                    g_hash_table_add(have, it->message_id);
                    g_ptr_array_add(items, it);
                }
            }
        }
        /* Skipped messages that left the mailbox leave the list. */
        for (guint i = skips.list->len; i-- > 0;) {
            const bw_skipped_t *e = g_ptr_array_index(skips.list, i);
            if (!ops.has_message_id(ops.ctx, e->message_id))
                skips_forget(&skips, e->message_id);
        }
        st = read_new_mail(opts, profile, &ops, fresh, have, items, &skips, run_culprits, detail);
        if (st != BW_OK)
            return st;
        g_ptr_array_sort(items, item_cmp);
        phase("classify");
        total = bw_nm_source_count_messages(src);
        /* A lookup that failed answered "unknown": verdicts may be wrong.
         * Nothing is written yet; start again on a fresh open. */
        if (bw_nm_source_failed(src, detail)) {
            *retry = true;
            return BW_E_DATABASE;
        }

        /* Everything derived is written in one transaction; BEGIN IMMEDIATE
         * serialises concurrent runs (hook and agent), and the previous
         * campaigns are read inside it so ids cannot fork. */
        st = bw_store_begin(store, detail);
        if (st != BW_OK)
            return st;
        /* Another run (the hook while the agent scans) may have committed
         * reports since we read the state: take them in, so that neither
         * run's campaigns and output miss them. */
        g_autofree char *rev_now = NULL;
        bw_store_get_meta(store, "revision", &rev_now);
        if (!full && g_strcmp0(rev_now, saved_rev) != 0) {
            g_autoptr(GPtrArray) theirs = NULL;
            if (bw_store_load_items(store, &theirs, NULL) == BW_OK) {
                for (guint i = 0; i < theirs->len; i++) {
                    bw_item_t *it = g_ptr_array_index(theirs, i);
                    if (g_hash_table_contains(have, it->message_id))
                        continue;
                    g_ptr_array_index(theirs, i) = NULL;
                    g_hash_table_add(have, it->message_id);
                    g_ptr_array_add(items, it);
                }
                g_ptr_array_sort(items, item_cmp);   /* taken ones are NULL in theirs */
            }
        }
        g_autoptr(GPtrArray) previous = NULL;
        g_autofree char *msg = NULL;
        if (bw_store_load_campaigns(store, &previous, &msg) != BW_OK)
            previous = NULL;   /* unreadable campaigns: new ids, not a failure */
        st = bw_campaigns_build(items, previous, &campaigns);
        if (st == BW_OK && full)
            st = bw_store_clear_items(store);
        /* A new database (another UUID) carries none of the tags we wrote
         * into the old one: forget them, so --tag writes them again. */
        if (st == BW_OK && saved_uuid != NULL && g_strcmp0(saved_uuid, uuid) != 0)
            st = bw_store_clear_tagged(store);
        for (guint i = 0; st == BW_OK && i < vanished->len; i++)
            st = bw_store_delete_item(store, g_ptr_array_index(vanished, i));
        /* Entries of the last snapshot for the items whose row stays as
         * it was: only the others are written again. */
        /* (Not after another run committed since we read the rows: what
         * they say now is not what we read.) */
        bool rows_as_read = !full && g_strcmp0(rev_now, saved_rev) == 0;
        g_autoptr(GVariant) last = rows_as_read ? snapshot_variant(store) : NULL;
        g_autoptr(GHashTable) reuse = snapshot_fragments(last);
        for (guint i = 0; st == BW_OK && i < items->len; i++) {
            const bw_item_t *it = g_ptr_array_index(items, i);
            bool written = true;
            st = bw_store_put_item_if_changed(store, it, rows_as_read ? stored_text : NULL,
                                              &written, detail);
            if (written)
                g_hash_table_remove(reuse, it->message_id);
        }
        if (st == BW_OK)
            st = bw_store_save_campaigns(store, campaigns, detail);
        if (st == BW_OK)
            st = skips_save(&skips, store);
        if (st == BW_OK) {
            /* Without a snapshot (it failed to build) the next run with
             * nothing new reads the items instead: an empty one says so. */
            g_autoptr(GBytes) snap = snapshot_encode(sent, items, &ops, reuse);
            st = bw_store_put_snapshot(store, snap);
        }
        if (st == BW_OK) {
            g_autoptr(GBytes) answers = bw_nm_source_export_sent_answers(src);
            st = bw_store_put_sent_answers(store, answers);
        }
        if (st == BW_OK)
            st = bw_signals_stage_save(&sig, store, detail);
        g_autofree char *rev_text = g_strdup_printf("%" G_GUINT64_FORMAT, revision);
        if (st == BW_OK)
            st = bw_store_set_meta(store, "uuid", uuid);
        if (st == BW_OK)
            st = bw_store_set_meta(store, "revision", rev_text);
        if (st == BW_OK)
            st = bw_store_set_meta(store, "config", cfg);
        if (st == BW_OK)
            st = bw_store_set_meta(store, "program", STATE_PROGRAM);
        g_autofree char *total_text = g_strdup_printf("%" G_GUINT64_FORMAT, total);
        if (st == BW_OK)
            st = bw_store_set_meta(store, "messages", total_text);
        g_autofree char *sent_text = g_strdup_printf("%" G_GUINT64_FORMAT, sent_total);
        if (st == BW_OK)
            st = bw_store_set_meta(store, "sent_messages", sent_text);
        if (st == BW_OK)
            st = bw_store_set_meta(store, "dirs", dirs);   /* NULL: count next time */
        if (st != BW_OK) {
            bw_store_rollback(store);
            return bw_error_set(detail, st, "%s", _("cannot save the scan state"));
        }
        st = bw_store_commit(store, detail);
        if (st != BW_OK)
            return st;
        phase("campaigns+save");
    }

    bw_surge_config_t scfg;
    bw_surge_config_default(&scfg);
    g_autoptr(GPtrArray) surges = NULL;
    st = bw_surges_detect(items, opts->now, &scfg, &surges);
    if (st != BW_OK)
        return bw_error_set(detail, st, "%s", _("surge detection failed"));
    if (!nothing_new && bw_store_begin(store, NULL) == BW_OK) {
        if (bw_store_save_surges(store, surges) == BW_OK)
            bw_store_commit(store, NULL);
        else
            bw_store_rollback(store);
    }

    phase("surges");
    if (opts->tag) {
        g_autofree char *msg = NULL;
        g_autoptr(GHashTable) extra = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                            (GDestroyNotify)bw_gstring_free_all);
        bw_signals_stage_tags(sig.signals, sig.phishing, extra);
        bw_status_t tst = do_tagging(opts, store, items, extra, &msg);
        if (tst != BW_OK) {
            /* The scan is saved; the tags follow on the next run. */
            if (opts->notice)
                opts->notice(opts->notice_data, msg ? msg : bw_status_to_string(tst));
            if (opts->tag_failed_out)
                *opts->tag_failed_out = true;
        }
    }

    bw_scan_result_t *r = g_new0(bw_scan_result_t, 1);
    r->database = g_strdup(bw_nm_source_path(src));
    r->revision = revision;
    r->messages_examined = total;
    r->items = g_steal_pointer(&items);
    r->campaigns = g_steal_pointer(&campaigns);
    r->surges = g_steal_pointer(&surges);
    r->skipped = skips_result(&skips);
    if (opts->since > 0)
        apply_since(r, opts->since);
    st = bw_assess(profile, r->items, r->campaigns, r->surges, opts->now, &r->assessment);
    if (st == BW_OK)
        st = bw_signals_stage_assess(&sig, r, NULL);
    if (st != BW_OK) {
        bw_scan_result_free(r);
        return bw_error_set(detail, st, "%s", _("the assessment failed"));
    }
    phase("assess");
    *out = r;
    return BW_OK;
}

/* scan_once() until it does not ask to be retried, each time on a fresh
 * open of the notmuch database. */
static bw_status_t
scan_retrying(const bw_scanner_options_t *opts, bw_scan_result_t **out, char **json_out,
              guint64 *json_revision, char **detail)
{
    if (opts == NULL || out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    guint new_len = opts->new_items_out ? opts->new_items_out->len : 0;
    g_autoptr(GHashTable) culprits = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                           (GDestroyNotify)bw_skipped_free);
    bw_status_t st = BW_E_DATABASE;
    for (unsigned attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
        bool retry = false;
        g_autofree char *msg = NULL;
        st = scan_once(opts, out, json_out, json_revision, culprits, &retry, &msg);
        /* Only the last attempt's error counts: the others were retried. */
        if (!retry || attempt + 1 == MAX_READ_ATTEMPTS) {
            if (st == BW_OK)
                stamp_success(opts->state_path);
            return msg ? bw_error_set(detail, st, "%s", msg) : st;
        }
        phase("retry");   /* BOUNCEWATCH_DEBUG_TIMING shows how often */
        /* What the failed attempt collected is thrown away with it. */
        if (opts->new_items_out)
            g_ptr_array_set_size(opts->new_items_out, new_len);
        /* let the writer finish its commit */
        g_usleep(MIN(100000u * (attempt + 1), READ_RETRY_MAX_US));
    }
    return st;
}

bw_status_t
bw_scanner_run(const bw_scanner_options_t *opts, bw_scan_result_t **out, char **detail)
{
    return scan_retrying(opts, out, NULL, NULL, detail);
}

/* The inputs a scan document depends on, as one string.  The message
 * count is there because a deletion leaves notmuch's revision as it was;
 * the JSON format version because a document kept by a program that wrote
 * another version must not be served as this one. */
static char *
json_cache_key(const bw_scanner_options_t *opts, bw_nm_source_t *src, const guint64 *revision,
               const char *dirs)
{
    const char *uuid = NULL;
    guint64 rev = bw_nm_source_revision(src, &uuid);
    if (revision)
        rev = *revision;
    g_autofree char *fresh = dirs ? NULL : bw_nm_source_directory_digest(src);
    if (dirs == NULL)
        dirs = fresh;
    if (dirs == NULL)
        return NULL;   /* no cheap way to see removals: do not keep documents */
    g_autofree char *cfg = config_digest(src);
    /* A new reader build reads the skipped messages again. */
    g_autofree char *reader = bw_reader_identity();
    return g_strdup_printf(STATE_PROGRAM " format-%d %s %" G_GUINT64_FORMAT " %s %" G_GINT64_FORMAT
                           " %" G_GINT64_FORMAT " %s %s", BW_FORMAT_VERSION_CUR,
                           uuid ? uuid : "", rev, dirs, opts->now, opts->since, cfg, reader);
}

bw_status_t
bw_scanner_run_json(const bw_scanner_options_t *opts, char **json_out, char **detail)
{
    if (opts == NULL || json_out == NULL)
        return BW_E_INVALID;
    *json_out = NULL;
    g_autofree char *default_state = NULL;
    const char *state_path = opts->state_path;
    if (state_path == NULL)
        state_path = default_state = bw_scanner_default_state_path();
    bool cacheable = !opts->tag && !opts->full && !opts->retry_skipped;

    if (cacheable && g_file_test(state_path, G_FILE_TEST_EXISTS)) {
        g_autoptr(bw_nm_source_t) src = NULL;
        g_autoptr(bw_store_t) store = NULL;
        g_autofree char *rebuilt = NULL;
        if (bw_nm_source_open(opts->config_path, &src, NULL) == BW_OK &&
            bw_nm_source_owner_trust(src, NULL) == BW_OWNER_TRUSTED &&
            bw_store_open(state_path, &store, &rebuilt, NULL) == BW_OK) {
            if (rebuilt)
                notice(opts, rebuilt);   /* the run below rebuilds it from the mail */
            g_autofree char *key = json_cache_key(opts, src, NULL, NULL);   /* may be NULL */
            g_autofree char *saved_key = NULL;
            bw_store_get_meta(store, "json_key", &saved_key);
            if (key && saved_key && strcmp(saved_key, key) == 0) {
                char *json = NULL;
                if (bw_store_get_meta(store, "json", &json) == BW_OK && json) {
                    *json_out = json;
                    stamp_success(opts->state_path);
                    return BW_OK;
                }
            }
        }
        /* Any problem here is handled (and reported) by the full run. */
    }

    bw_scan_result_t *r = NULL;
    char *doc = NULL;
    guint64 scanned_revision = 0;
    bw_status_t st = scan_retrying(opts, &r, &doc, &scanned_revision, detail);
    if (st != BW_OK)
        return st;
    char *json = doc;   /* served from the snapshot (nothing new, another now) */
    if (json == NULL) {
        JsonNode *node = bw_scan_result_to_json(r);
        scanned_revision = r->revision;
        bw_scan_result_free(r);
        if (node == NULL)
            return BW_E_INTERNAL;
        g_autoptr(JsonGenerator) gen = json_generator_new();
        json_generator_set_root(gen, node);
        json_generator_set_pretty(gen, FALSE);
        json = json_generator_to_data(gen, NULL);
        json_node_unref(node);
    }

    /* Keep it for the next identical run, under the revision the run saw:
     * mail indexed meanwhile changes the revision and misses the cache. */
    if (!opts->tag) {
        g_autoptr(bw_nm_source_t) src = NULL;
        g_autoptr(bw_store_t) store = NULL;
        if (bw_nm_source_open(opts->config_path, &src, NULL) == BW_OK &&
            bw_store_open(state_path, &store, NULL, NULL) == BW_OK &&
            bw_store_begin(store, NULL) == BW_OK) {
            /* The directories as the run saw them (it saved them). */
            g_autofree char *scanned_dirs = NULL;
            bw_store_get_meta(store, "dirs", &scanned_dirs);
            g_autofree char *key = scanned_dirs
                ? json_cache_key(opts, src, &scanned_revision, scanned_dirs) : NULL;
            if (key && bw_store_set_meta(store, "json_key", key) == BW_OK &&
                bw_store_set_meta(store, "json", json) == BW_OK)
                bw_store_commit(store, NULL);
            else
                bw_store_rollback(store);
        }
    }
    *json_out = json;
    return BW_OK;
}
