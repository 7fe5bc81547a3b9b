/* nm-source.c: read-only access to the notmuch database (see nm-source.h). */
#include "config.h"
#include "nm-source.h"
#include "nm-exceptions.h"
#include "nm-query.h"
#include "nm-reopen.h"
#include "nm-xapian.h"
#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <glib/gi18n-lib.h>
#include <notmuch.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds on hostile or huge mailboxes. */
#define MAX_OWNERS         64u      /* owner addresses taken from the config */
#define MAX_QUERY_RETRIES  3u       /* reopen after "database modified" */
#define SENT_DATES_MAX     100000u  /* dates kept per correspondent */
#define SENT_COPIES_MIN    3u       /* own messages that show Sent copies are kept */

struct bw_nm_source {
    notmuch_database_t *db;
    char *path;
    char **owners;               /* NULL-terminated */
    char *primary_raw;           /* user.primary_email as notmuch gives it */
    char *owner_query;           /* (from:"a" or from:"b") or NULL */
    GHashTable *settings;        /* key (without "bouncewatch.") -> value */
    GHashTable *sent_by_id;      /* message-id -> gint64* date, or NULL if not sent */
    GHashTable *sent_to;         /* address -> GArray of gint64 dates (sorted) */
    GHashTable *known_ids;       /* message-id -> GINT_TO_POINTER(1 known, 2 unknown) */
    GHashTable *from_counts;     /* address -> GUINT_TO_POINTER(count + 1) */
    int has_sent;                /* -1 unknown, 0, 1 */
    gint64 sample_oldest;        /* date of the last message of the sent sample listed, or 0 */
    /* messages in the database, or -1: counting them through libnotmuch
     * walks every document (~40 ms at 160k; not through `xap`), and the
     * database this handle reads does not
     * change until it is reopened */
    gint64 total;
    gint64 owner_count;          /* messages of owner_query in this snapshot, or -1 */
    GHashTable *subject_near;    /* "key\x1ft\x1fwindow" -> GINT_TO_POINTER(1 yes, 2 no) */
    /* The answers about the sent mail (the four above) are exactly the
     * ones imported: set by a whole import, cleared by any answer added
     * or dropped since (bw_nm_source_sent_answers_as_imported). */
    bool sent_answers_as_imported;
    GHashTable *anomalies;       /* borrowed: message-id -> run key (SPEC 2b), or NULL */
    /* The messages changed after revision range_after (range_msg_t*, in
     * notmuch's unsorted order), or NULL: listed once per open and shared
     * by the candidates, the lists and the range keys (see range_list). */
    GPtrArray *range;
    guint64 range_after;
    char *range_terms;           /* their Message-IDs as a query, or NULL */
    char *range_owner_terms;     /* those the owner query matches, the same ("" none;
                                    NULL: not known) */
    bool range_owner_known;      /* range_owner_terms was asked in this open */
    bool range_has_old;          /* a message of the range was there at the last save */
    bool range_sorted;           /* range_has_old was told (bw_nm_source_range_known) */
    /* the owner's messages among the range's (candidates pass), or -1 */
    gint64 range_owner_count;
    /* The directories notmuch holds under the mail root (dir_entry_t*, the
     * walk's order), walked once per open, or NULL: not walked yet or too
     * many; dirs_walked: the walk was tried. */
    GPtrArray *dirs;
    bool dirs_walked;
    bool dirs_counted;           /* their counts are set (dir_counts) */
    GHashTable *walk_counts;     /* rel -> files + 1, from a walk of every file, or NULL */
    /* The first failed read since the last (re)open.  notmuch 0.37 turns
     * Xapian's DatabaseModifiedError (a writer committed twice while we
     * read) into NOTMUCH_STATUS_XAPIAN_EXCEPTION, or into NULL from the
     * message getters; the lookups below then answer "unknown" and set
     * this, and the scanner reopens and reads everything again. */
    notmuch_status_t failed;
    unsigned inject_failures;    /* BOUNCEWATCH_TEST_READ_FAILURES (tests only) */
    /* Our own read-only handle on notmuch's Xapian database, opened before
     * notmuch's handle was reopened (bw_nm_source_open), or NULL: it
     * answers the count and the listing of every message when it is of
     * this snapshot (nm-xapian.h); xap_answers/nm_answers: how many of
     * them it gave, and libnotmuch (bw_nm_source_answers). */
    bw_nm_xapian_t *xap;
    unsigned xap_answers, nm_answers;
    /* The snapshot this open read first: notmuch's revision and UUID then
     * (a copy), and whether the source reopened notmuch's handle since
     * (bw_nm_source_candidates, after a failed read): see
     * bw_nm_source_snapshot_held. */
    guint64 open_rev;
    char *open_uuid;
    bool reopened;
    /* bw_nm_reopen_calls() before the open: libnotmuch's own reopens are
     * counted from here (nm-reopen.h; ours are not counted). */
    unsigned long reopen_calls;
    /* bw_nm_source_snapshot_held found another writer's commit since the
     * open (no read failed): bw_nm_source_failed says so, not "a Xapian
     * exception occurred", which none did. */
    bool moved;
};

void
bw_nm_candidate_free(bw_nm_candidate_t *c)
{
    if (c == NULL)
        return;
    g_free(c->message_id);
    g_free(c->file);
    g_free(c);
}

static void
free_dates(gpointer p)
{
    if (p)
        g_array_unref(p);
}

/* Record a failed read (the first one wins). */
static void
mark_failed(bw_nm_source_t *src, notmuch_status_t st)
{
    if (src->failed == NOTMUCH_STATUS_SUCCESS)
        src->failed = st != NOTMUCH_STATUS_SUCCESS ? st : NOTMUCH_STATUS_XAPIAN_EXCEPTION;
}

/* One message of the lastmod range, as the range listing keeps it. */
typedef struct {
    bw_nm_candidate_t c;         /* what candidate_new gives */
    char *from;                  /* its From header as notmuch holds it ("" when absent) */
    guint files;                 /* its files (notmuch_message_count_files) */
    bool old;                    /* in the state's set of known ids (bw_nm_source_range_known) */
} range_msg_t;

static void
range_msg_free(gpointer p)
{
    range_msg_t *r = p;
    g_free(r->c.message_id);
    g_free(r->c.file);
    g_free(r->from);
    g_free(r);
}

/* Drop the range listing (a reopen gives another snapshot). */
/* One directory of the walk: where it is, its modification times, and
 * how many files notmuch holds in it. */
typedef struct {
    char *rel;                   /* path relative to the mail root ("" the root) */
    gint64 nm_mtime;             /* the mtime notmuch recorded */
    gint64 fs_sec;               /* its own, now (0 when it cannot be read) */
    long fs_nsec;
    gint64 files;                /* files notmuch holds in it, -1 unknown */
} dir_entry_t;

static void
dir_entry_free(gpointer p)
{
    dir_entry_t *d = p;
    g_free(d->rel);
    g_free(d);
}

/* Drop what was read of this snapshot (a reopen gives another one). */
static void
range_forget(bw_nm_source_t *src)
{
    g_clear_pointer(&src->range, g_ptr_array_unref);
    g_clear_pointer(&src->range_terms, g_free);
    g_clear_pointer(&src->range_owner_terms, g_free);
    src->range_owner_known = false;
    src->range_has_old = false;
    src->range_sorted = false;
    src->range_owner_count = -1;
    g_clear_pointer(&src->dirs, g_ptr_array_unref);
    src->dirs_walked = false;
    src->dirs_counted = false;
    g_clear_pointer(&src->walk_counts, g_hash_table_unref);
}

/* Tests cannot make Xapian throw on demand: BOUNCEWATCH_TEST_READ_FAILURES=N
 * makes the first lookup after each of the first N opens fail as a
 * "database modified" would, so the reopen-and-retry path runs in make
 * check.  Returns TRUE when this lookup must fail. */
static bool
injected_failure(bw_nm_source_t *src)
{
    if (src->inject_failures == 0 || src->failed != NOTMUCH_STATUS_SUCCESS)
        return false;
    static unsigned used;
    if (used >= src->inject_failures)
        return false;
    used++;
    mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
    return true;
}

static void
add_owner(GPtrArray *owners, const char *value)
{
    if (value == NULL || owners->len >= MAX_OWNERS)
        return;
    char *addr = bw_address_normalize(value);
    if (addr == NULL)
        return;
    for (guint i = 0; i < owners->len; i++)
        if (strcmp(g_ptr_array_index(owners, i), addr) == 0) {
            g_free(addr);
            return;
        }
    g_ptr_array_add(owners, addr);
}

static void
load_owners(bw_nm_source_t *src)
{
    const char *primary = notmuch_config_get(src->db, NOTMUCH_CONFIG_PRIMARY_EMAIL);
    src->primary_raw = g_strdup(primary ? primary : "");
    GPtrArray *owners = g_ptr_array_new();
    static const notmuch_config_key_t keys[] = {
        NOTMUCH_CONFIG_PRIMARY_EMAIL, NOTMUCH_CONFIG_OTHER_EMAIL,
    };
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        notmuch_config_values_t *vals = notmuch_config_get_values(src->db, keys[k]);
        for (; vals && notmuch_config_values_valid(vals); notmuch_config_values_move_to_next(vals))
            add_owner(owners, notmuch_config_values_get(vals));
        if (vals)
            notmuch_config_values_destroy(vals);
    }
    if (owners->len > 0) {
        GString *q = g_string_new("(");
        for (guint i = 0; i < owners->len; i++) {
            g_autofree char *t = bw_nm_quote_term(g_ptr_array_index(owners, i));
            g_string_append_printf(q, "%sfrom:%s", i ? " or " : "", t);
        }
        g_string_append_c(q, ')');
        src->owner_query = g_string_free(q, FALSE);
    }
    g_ptr_array_add(owners, NULL);
    src->owners = (char **)g_ptr_array_free(owners, FALSE);
}

static void
load_settings(bw_nm_source_t *src)
{
    src->settings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    notmuch_config_pairs_t *pairs = notmuch_config_get_pairs(src->db, "bouncewatch.");
    for (; pairs && notmuch_config_pairs_valid(pairs); notmuch_config_pairs_move_to_next(pairs)) {
        const char *key = notmuch_config_pairs_key(pairs);
        const char *val = notmuch_config_pairs_value(pairs);
        if (key && g_str_has_prefix(key, "bouncewatch.") && val)
            g_hash_table_replace(src->settings, g_strdup(key + strlen("bouncewatch.")),
                                 g_strdup(val));
    }
    if (pairs)
        notmuch_config_pairs_destroy(pairs);
}

/* Our Xapian handle (a new one), then notmuch's reopened: notmuch's
 * snapshot is at or after ours, the same one when no commit came between
 * our open and the moment our handle answers (bw_nm_xapian_usable).
 * Without our handle, notmuch's is reopened only when `always`.  FALSE
 * when the reopen failed (notmuch's handle is then not to be read: the
 * caller reads again). */
/* (Tests: BOUNCEWATCH_TEST_XAPIAN_GATE=PREFIX makes xap_then_reopen wait
 * between our handle's open and notmuch's reopen, bw_test_gate(), so that
 * T342 can commit in the window the revision guard of bw_nm_xapian_usable
 * is for.) */
static bool
xap_then_reopen(bw_nm_source_t *src, bool always)
{
    g_clear_pointer(&src->xap, bw_nm_xapian_close);
    if (g_getenv("NOTMUCH_DATABASE") == NULL)   /* (bw_nm_source_open) */
        src->xap = bw_nm_xapian_open(src->path);
    if (src->xap != NULL)
        bw_test_gate("BOUNCEWATCH_TEST_XAPIAN_GATE");
    if (src->xap == NULL && !always)
        return true;
    if (bw_nm_reopen_own(src->db, NOTMUCH_DATABASE_MODE_READ_ONLY) == NOTMUCH_STATUS_SUCCESS)
        return true;
    g_clear_pointer(&src->xap, bw_nm_xapian_close);
    return false;
}

/* May our Xapian handle answer for this snapshot (nm-xapian.h)?  Asked
 * when an answer is needed, not at the open: the fresh handle it takes is
 * paid only by the runs that need the count or the listing. */
static bool
xap_ready(bw_nm_source_t *src)
{
    if (src->xap == NULL || src->failed != NOTMUCH_STATUS_SUCCESS)
        return false;
    const char *uuid = NULL;
    guint64 revision = notmuch_database_get_revision(src->db, &uuid);
    return bw_nm_xapian_usable(src->xap, uuid, revision);
}

bw_status_t
bw_nm_source_open(const char *config_path, bw_nm_source_t **out, char **detail)
{
    *out = NULL;
    notmuch_database_t *db = NULL;
    char *msg = NULL;
    unsigned long reopen_calls = bw_nm_reopen_calls();
    notmuch_status_t st = notmuch_database_open_with_config(
        NULL, NOTMUCH_DATABASE_MODE_READ_ONLY, config_path, NULL, &db, &msg);
    if (st != NOTMUCH_STATUS_SUCCESS) {
        g_autofree char *m = msg ? g_strstrip(g_strdup(msg)) : NULL;
        free(msg);
        if (db)
            notmuch_database_destroy(db);
        /* No configuration file, or one naming no database: the user has a
         * setting to make (exit 78), not a database that is unavailable. */
        if (st == NOTMUCH_STATUS_NO_CONFIG)
            return bw_error_set(detail, BW_E_CONFIG, "%s",
                                _("no notmuch configuration found (NOTMUCH_CONFIG, "
                                  "$XDG_CONFIG_HOME/notmuch/<profile>/config or ~/.notmuch-config); "
                                  "set up notmuch first with 'notmuch setup'"));
        if (st == NOTMUCH_STATUS_NO_DATABASE)
            return bw_error_set(detail, BW_E_CONFIG,
                                _("the notmuch configuration names no mail database%s%s; "
                                  "set it with 'notmuch config set database.path ~/mail'"),
                                m && *m ? ": " : "", m ? m : "");
        return bw_error_set(detail, BW_E_DATABASE, _("cannot open the notmuch database: %s%s%s"),
                            notmuch_status_to_string(st), m && *m ? ": " : "", m ? m : "");
    }
    free(msg);
    bw_nm_source_t *src = g_new0(bw_nm_source_t, 1);
    src->db = db;
    src->path = g_strdup(notmuch_database_get_path(db));
    src->reopen_calls = reopen_calls;
    /* Nothing was read through notmuch's handle yet (the configuration it
     * cached at its open is read as before): it may move to a later
     * snapshot now.  Not with NOTMUCH_DATABASE: it chose the database,
     * and the configuration's path (notmuch_database_get_path) may then
     * name another one. */
    if (!xap_then_reopen(src, false))
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);   /* read again */
    const char *uuid = NULL;
    src->open_rev = notmuch_database_get_revision(db, &uuid);
    src->open_uuid = g_strdup(uuid);
    src->has_sent = -1;
    src->total = -1;
    src->owner_count = -1;
    src->range_owner_count = -1;
    const char *inject = g_getenv("BOUNCEWATCH_TEST_READ_FAILURES");
    if (inject)
        src->inject_failures = (unsigned)MIN(g_ascii_strtoull(inject, NULL, 10), 100u);
    src->sent_by_id = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, g_free);
    src->sent_to = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, free_dates);
    src->known_ids = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, NULL);
    src->subject_near = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, NULL);
    src->from_counts = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, NULL);
    load_owners(src);
    load_settings(src);
    *out = src;
    return BW_OK;
}

void
bw_nm_source_close_at_exit(bw_nm_source_t *src)
{
    if (src == NULL)
        return;
    if (src->db)
        notmuch_database_destroy(src->db);
    src->db = NULL;
    bw_nm_xapian_close(src->xap);
    src->xap = NULL;
}

void
bw_nm_source_close(bw_nm_source_t *src)
{
    if (src == NULL)
        return;
    bw_nm_source_close_at_exit(src);   /* the handles */
    g_free(src->open_uuid);
    g_free(src->path);
    g_strfreev(src->owners);
    g_free(src->primary_raw);
    g_free(src->owner_query);
    if (src->settings)
        g_hash_table_destroy(src->settings);
    g_hash_table_destroy(src->sent_by_id);
    g_hash_table_destroy(src->sent_to);
    g_hash_table_destroy(src->known_ids);
    g_hash_table_destroy(src->subject_near);
    g_hash_table_destroy(src->from_counts);
    range_forget(src);
    g_free(src);
}

const char *
bw_nm_source_path(const bw_nm_source_t *src)
{
    return src->path;
}

guint64
bw_nm_source_revision(bw_nm_source_t *src, const char **uuid)
{
    return notmuch_database_get_revision(src->db, uuid);
}

const char *const *
bw_nm_source_owners(const bw_nm_source_t *src)
{
    return (const char *const *)src->owners;
}

const char *
bw_nm_source_config_file(const bw_nm_source_t *src)
{
    const char *p = notmuch_config_path(src->db);
    return p != NULL && *p != '\0' ? p : NULL;
}

const char *
bw_nm_source_hook_dir(const bw_nm_source_t *src)
{
    const char *p = notmuch_config_get(src->db, NOTMUCH_CONFIG_HOOK_DIR);
    return p != NULL && *p != '\0' ? p : NULL;
}

/* The first label of a host name, lower-cased ("vm" of "vm.example.lan"). */
static char *
first_label(const char *host)
{
    const char *dot = strchr(host, '.');
    return g_ascii_strdown(host, dot ? (gssize)(dot - host) : -1);
}

bool
bw_owner_address_made_up(const char *address)
{
    g_autofree char *addr = address ? bw_address_normalize(address) : NULL;
    if (addr == NULL)
        return true;
    const char *at = strrchr(addr, '@');
    if (at == NULL || at == addr || at[1] == '\0')
        return true;
    const char *domain = at + 1;
    /* No mail is delivered to a single-label name (localhost, the bare host
     * name) or to a name made for the local machine only. */
    if (strchr(domain, '.') == NULL || strstr(domain, "(none)") != NULL ||
        strcmp(domain, "localhost.localdomain") == 0 || g_str_has_suffix(domain, ".localdomain") ||
        g_str_has_prefix(domain, "localhost."))
        return true;
    /* notmuch's default is the login name at the host's canonical name:
     * whatever the resolver calls this machine, its first label is the host
     * name.  A user's real address at the host's own domain stays trusted
     * when its local part is not the login name. */
    g_autofree char *local = g_strndup(addr, (gsize)(at - addr));
    const char *user = g_get_user_name();
    if (user == NULL || g_ascii_strcasecmp(local, user) != 0)
        return false;
    g_autofree char *host = first_label(g_get_host_name());
    g_autofree char *dom = first_label(domain);
    return strcmp(host, dom) == 0;
}

bw_owner_trust_t
bw_nm_source_owner_trust(const bw_nm_source_t *src, const char **value)
{
    if (value != NULL)
        *value = src->primary_raw;
    g_autofree char *addr = bw_address_normalize(src->primary_raw);
    if (addr == NULL)
        return BW_OWNER_EMPTY;
    return bw_owner_address_made_up(addr) ? BW_OWNER_MADE_UP : BW_OWNER_TRUSTED;
}

/* Folders where mail clients keep the copies of sent mail (maildir++ names
 * start with a dot, IMAP ones may sit under INBOX. or [Gmail]/). */
#define SENT_FOLDERS_QUERY \
    "(folder:\"/(^|[/.])([Ss]ent|SENT|Gesendet|Envoy|Enviad|Inviat|Verzonden|Skickat)/\"" \
    " or tag:sent)"
#define GUESS_SAMPLE_MAX 500u   /* newest sent messages read for the guess */
#define GUESS_MIN_COUNT  3u     /* ... of which the owner sent at least these */

typedef struct {
    char *address;
    unsigned count;
} guess_entry_t;

static gint
guess_cmp(gconstpointer a, gconstpointer b)
{
    const guess_entry_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->address, y->address);
}

char *
bw_nm_source_guess_owner(bw_nm_source_t *src, GPtrArray *others)
{
    notmuch_query_t *query = notmuch_query_create(src->db, SENT_FOLDERS_QUERY);
    if (query == NULL)
        return NULL;
    notmuch_query_set_sort(query, NOTMUCH_SORT_NEWEST_FIRST);
    notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
    notmuch_messages_t *msgs = NULL;
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    unsigned total = 0;
    notmuch_status_t nst = notmuch_query_search_messages(query, &msgs);
    if (nst != NOTMUCH_STATUS_SUCCESS)
        mark_failed(src, nst);
    else {
        for (; notmuch_messages_valid(msgs) && total < GUESS_SAMPLE_MAX;
             notmuch_messages_move_to_next(msgs)) {
            notmuch_message_t *m = bw_nm_messages_get(msgs);
            /* notmuch answers "" for a missing From, NULL when reading the
             * document failed: a guess from part of the sample is no guess. */
            const char *from = m ? notmuch_message_get_header(m, "from") : NULL;
            char *addr = from ? bw_address_normalize(from) : NULL;
            if (m)
                notmuch_message_destroy(m);
            if (from == NULL) {
                mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
                break;
            }
            if (addr == NULL)
                continue;
            total++;
            if (bw_owner_address_made_up(addr)) {   /* a cron mail's root@host */
                g_free(addr);
                continue;
            }
            gpointer n = g_hash_table_lookup(counts, addr);
            g_hash_table_replace(counts, addr, GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
        }
    }
    notmuch_query_destroy(query);
    if (src->failed != NOTMUCH_STATUS_SUCCESS)
        return NULL;
    GArray *entries = g_array_new(FALSE, FALSE, sizeof(guess_entry_t));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, counts);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        guess_entry_t e = { k, GPOINTER_TO_UINT(v) };
        g_array_append_val(entries, e);
    }
    g_array_sort(entries, guess_cmp);
    char *guess = NULL;
    /* Obvious: one address wrote most of it (at least 3 messages, and at
     * least 3 in 5 of those with a usable From), else no offer. */
    if (entries->len > 0) {
        const guess_entry_t *top = &g_array_index(entries, guess_entry_t, 0);
        if (top->count >= GUESS_MIN_COUNT && (guint64)top->count * 5 >= (guint64)total * 3)
            guess = g_strdup(top->address);
    }
    for (guint i = 1; guess != NULL && others != NULL && i < entries->len && others->len < 3; i++) {
        const guess_entry_t *e = &g_array_index(entries, guess_entry_t, i);
        if (e->count >= 2)
            g_ptr_array_add(others, g_strdup(e->address));
    }
    g_array_free(entries, TRUE);
    return guess;
}

const char *
bw_nm_source_setting(const bw_nm_source_t *src, const char *key)
{
    return g_hash_table_lookup(src->settings, key);
}

/* ------------------------------------------------------------ prefilter */

/* The candidate query: only what notmuch has indexed, so that a scan costs a
 * Xapian query plus one parse per candidate and never touches the other
 * files (a cold full scan of 160k messages that opened every file took
 * minutes).  The clauses, by what they catch:
 *   - daemon senders, and the MIME types of RFC 3464/5965/6533 reports and of
 *     returned originals (message/rfc822, text/rfc822-headers);
 *   - subjects of delivery failures, auto-replies, challenges, virus and abuse
 *     notices in English, German, French, Spanish, Italian, Dutch, Japanese:
 *     this also covers notices whose From notmuch could not record
 *     (`MAILER-DAEMON <>` has no address, so from: misses it);
 *   - body phrases of auto-replies and challenge requests whose subject is
 *     just "Re: <original subject>" (RFC 3834 replies keep the subject).
 * A clause that matches ordinary mail only costs a parse: the parser decides;
 * but clauses that match much ordinary mail are left out (subject
 * "confirmation" matched 8k order confirmations in a 160k mailbox: ~0.5 s).
 * bench/prefilter-recall.py measures what this misses on the scenarios.
 * Xapian indexes Japanese runs without word breaks as single terms, so the
 * Japanese subjects are whole words as they appear in notices. */
static const char *const prefilter_clauses[] = {
    "from:mailer-daemon", "from:postmaster", "from:mailerdaemon", "from:mailer_daemon",
    "from:mdaemon", "from:\"mail delivery\"", "from:\"delivery subsystem\"", "from:\"mail system\"",
    "from:\"mail administrator\"",
    "mimetype:message/delivery-status", "mimetype:message/global-delivery-status",
    "mimetype:message/feedback-report", "mimetype:text/rfc822-headers",
    "mimetype:message/rfc822", "mimetype:message/global",
    "mimetype:message/disposition-notification", "mimetype:multipart/report",
    /* delivery failures */
    "subject:undeliverable", "subject:undelivered", "subject:undeliver*",
    "subject:\"delivery status\"", "subject:\"delivery failure\"", "subject:\"delivery failed\"",
    "subject:\"delivery notification\"", "subject:\"failure notice\"", "subject:\"returned mail\"",
    "subject:\"mail delivery\"", "subject:\"not delivered\"", "subject:\"could not be delivered\"",
    "subject:\"non-delivery\"", "subject:nondeliverable", "subject:\"delivery problem\"",
    "subject:\"delivery delayed\"", "subject:\"delayed mail\"", "subject:\"delivery report\"",
    "subject:\"could not send\"", "subject:\"returned to sender\"", "subject:bounce",
    "subject:bounced", "subject:rejected", "subject:\"non remis\"",
    "subject:\"no entregado\"", "subject:\"mancato recapito\"", "subject:onbestelbaar",
    "subject:unzustellbar*", "subject:\"nicht zustellbar\"", "subject:\"non distribuable\"",
    "subject:\"non recapitabile\"", "subject:\"no se puede entregar\"", "subject:\"falha na entrega\"",
    "subject:\"niet afgeleverd\"", "subject:niedostarczon*", "subject:\"failed mail\"",
    "subject:\"mail failed\"", "subject:\"mail failure\"", "subject:\"delivery error\"",
    "subject:\"returned message\"", "subject:\"message returned\"",
    /* auto-replies */
    "subject:\"auto-reply\"", "subject:autoreply", "subject:\"auto reply\"",
    "subject:\"automatic reply\"", "subject:\"auto response\"", "subject:autoresponse",
    "subject:\"automatic response\"", "subject:autoresponder", "subject:\"out of office\"",
    "subject:\"out of the office\"", "subject:vacation", "subject:absence", "subject:absent",
    "subject:\"away from\"", "subject:abwesenheit", "subject:abwesenheitsnotiz",
    "subject:\"automatische antwort\"", "subject:\"r\xc3\xa9ponse automatique\"",
    "subject:\"respuesta autom\xc3\xa1tica\"", "subject:\"risposta automatica\"",
    "subject:\"automatisch antwoord\"", "subject:afwezig",
    /* challenges, virus and abuse notices */
    "subject:virus", "subject:infected", "subject:malware", "subject:quarantine",
    "subject:quarantined", "subject:abuse", "subject:complaint", "subject:\"spam report\"",
    "subject:confirm", "subject:verify", "subject:verification",
    "subject:challenge",
    /* Japanese: automatic reply, absence (notice), delivery error, non-arrival */
    "subject:\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94",
    "subject:\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1",
    "subject:\xe4\xb8\x8d\xe5\x9c\xa8",
    "subject:\xe4\xb8\x8d\xe5\x9c\xa8\xe9\x80\x9a\xe7\x9f\xa5",
    "subject:\xe9\x85\x8d\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",
    "subject:\xe6\x9c\xaa\xe9\x81\x94",
    /* body phrases of auto-replies, challenges and terse failure notices */
    "body:\"out of the office\"", "body:\"out of office\"", "body:\"automatic reply\"",
    "body:\"auto-reply\"", "body:\"automatically generated\"", "body:\"automated response\"",
    "body:\"automatic response\"", "body:\"on vacation\"", "body:\"on leave\"",
    "body:\"limited access to email\"", "body:\"limited access to e-mail\"",
    "body:\"will be back\"", "body:\"i am away\"", "body:\"i'm away\"", "body:\"currently away\"",
    "body:\"return on\"", "body:\"returning on\"", "body:\"delivery has failed\"",
    "body:\"could not be delivered\"", "body:\"permanent error\"", "body:\"verify that you\"",
    "body:\"was not delivered\"", "body:\"unable to deliver\"", "body:\"not be delivered\"",
    "body:\"confirm that you\"", "body:challenge", "body:whitelist",
};

char *
bw_nm_source_prefilter_query(const bw_nm_source_t *src)
{
    GString *q = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(prefilter_clauses); i++)
        g_string_append_printf(q, "%s%s", i ? " or " : "", prefilter_clauses[i]);
    /* With `[index] header.NAME=Auto-Submitted` in notmuch's config (and a
     * `notmuch reindex`), RFC 3834 mail is found whatever its wording. */
    notmuch_config_pairs_t *pairs = notmuch_config_get_pairs(src->db, "index.header.");
    for (; pairs && notmuch_config_pairs_valid(pairs); notmuch_config_pairs_move_to_next(pairs)) {
        const char *v = notmuch_config_pairs_value(pairs);
        const char *k = notmuch_config_pairs_key(pairs) + strlen("index.header.");
        if (v && g_ascii_strcasecmp(v, "Auto-Submitted") == 0 && *k &&
            strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(k)) {
            g_string_append_printf(q, " or %s:auto-replied or %s:auto-generated"
                                   " or %s:auto-notified", k, k, k);
            break;
        }
    }
    if (pairs)
        notmuch_config_pairs_destroy(pairs);
    return g_string_free(q, FALSE);
}

static bool
is_owner(const bw_nm_source_t *src, const char *from_header)
{
    g_autofree char *addr = bw_address_normalize(from_header);
    if (addr == NULL)
        return false;
    for (char **o = src->owners; o && *o; o++)
        if (strcmp(*o, addr) == 0)
            return true;
    return false;
}

static bw_nm_candidate_t *
candidate_new(notmuch_message_t *m)
{
    const char *id = notmuch_message_get_message_id(m);
    const char *file = notmuch_message_get_filename(m);
    if (id == NULL || file == NULL)
        return NULL;
    bw_nm_candidate_t *c = g_new0(bw_nm_candidate_t, 1);
    c->message_id = g_strdup(id);
    c->file = g_strdup(file);
    c->date = (gint64)notmuch_message_get_date(m);
    return c;
}

static notmuch_query_t *
query_new(bw_nm_source_t *src, const char *text)
{
    notmuch_query_t *query = notmuch_query_create(src->db, text);
    if (query) {
        /* Backscatter is often tagged spam: the user's search.exclude_tags
         * must not hide it (the library applies none unless asked). */
        notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
        notmuch_query_set_sort(query, NOTMUCH_SORT_UNSORTED);
    }
    return query;
}

/* The messages of `text` (query_new's settings, newest first when
 * `newest`): FALSE when notmuch failed, with nothing left to destroy. */
static bool
search_new(bw_nm_source_t *src, const char *text, bool newest, notmuch_query_t **query,
           notmuch_messages_t **msgs)
{
    *msgs = NULL;
    *query = query_new(src, text);
    if (*query == NULL)
        return false;
    if (newest)
        notmuch_query_set_sort(*query, NOTMUCH_SORT_NEWEST_FIRST);
    if (notmuch_query_search_messages(*query, msgs) != NOTMUCH_STATUS_SUCCESS) {
        g_clear_pointer(query, notmuch_query_destroy);
        return false;
    }
    return true;
}

/* The one message for a read that failed (usually Xapian's "database
 * modified" from a `notmuch new` committing while we read, after the
 * retries): what failed, and what to do. */
static bw_status_t
read_failed(const bw_nm_source_t *src, notmuch_status_t status, char **detail)
{
    /* notmuch's own string, stripped in a copy */
    const char *s = notmuch_database_status_string(src->db);
    g_autofree char *why = s != NULL ? g_strstrip(g_strdup(s)) : NULL;
    return bw_error_set(detail, BW_E_DATABASE, _("reading the notmuch database %s failed (%s%s%s); "
                                                 "if notmuch new was running, run the scan again"),
                        src->path, notmuch_status_to_string(status), why ? ": " : "",
                        why ? why : "");
}

static bool
count_query(bw_nm_source_t *src, const char *text, guint64 *count)
{
    notmuch_query_t *query = query_new(src, text);
    unsigned n = 0;
    notmuch_status_t nst = query ? notmuch_query_count_messages(query, &n)
                                 : NOTMUCH_STATUS_OUT_OF_MEMORY;
    if (query)
        notmuch_query_destroy(query);
    if (nst != NOTMUCH_STATUS_SUCCESS)
        mark_failed(src, nst);
    *count = n;
    return nst == NOTMUCH_STATUS_SUCCESS;
}

/* Every message of this snapshot (what notmuch_query_count_messages counts
 * for "*" without excluded tags): the documents of "Tmail", one
 * posting-list length through our Xapian handle when it is of this
 * snapshot, else a count by notmuch (a match over every document: ~236 M
 * instructions at 165k messages).  FALSE when notmuch failed. */
static bool
count_every(bw_nm_source_t *src, guint64 *count)
{
    if (xap_ready(src) && bw_nm_xapian_count_mail(src->xap, count)) {
        src->xap_answers++;
        return true;
    }
    src->nm_answers++;
    return count_query(src, "*", count);
}

/* ------------------------------------------------------------ the lastmod range
 *
 * A `lastmod:R..` query scans the lastmod value of every document (~45 M
 * instructions at 160k messages, whatever it is combined with: Xapian
 * estimates the range small and drives the AND from it), and an
 * incremental run asked it five times (the count, the candidates, the
 * owner's count, the received mail, the range keys).  The range is listed
 * once per open instead, and the other questions are asked of the listed
 * messages' `id:` terms (a posting each: a few documents whatever the
 * history), which select the same messages as the range in this snapshot
 * (range_restriction checks it).
 *
 * The one listing still costs ~290 instructions per message in the
 * database: Xapian keeps a slot's values in docid order, with no index by
 * value, and its own ValueIterator over the lastmod slot costs as much as
 * notmuch's query.  It cannot be learned from the directories either: a
 * tag alone (T210) and a thread merge (a new message joining two threads
 * gives old messages of one of them a new thread id) move old messages'
 * lastmod without touching a file or a directory. */
#define RANGE_ID_TERMS_MAX 1000u

static char *
range_query(guint64 after_rev)
{
    return g_strdup_printf("lastmod:%" G_GUINT64_FORMAT "..", after_rev + 1);
}

/* The messages changed after `after_rev` (range_msg_t*, borrowed until
 * the next reopen), listed once per open; NULL when notmuch failed (the
 * source is marked failed). */
static GPtrArray *
range_list(bw_nm_source_t *src, guint64 after_rev)
{
    if (src->range != NULL && src->range_after == after_rev)
        return src->range;
    range_forget(src);
    g_autofree char *text = range_query(after_rev);
    notmuch_query_t *query = NULL;
    notmuch_messages_t *msgs = NULL;
    if (!search_new(src, text, false, &query, &msgs)) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        return NULL;
    }
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(range_msg_free);
    bool ok = true;
    for (; notmuch_messages_valid(msgs); notmuch_messages_move_to_next(msgs)) {
        notmuch_message_t *m = bw_nm_messages_get(msgs);
        const char *id = m ? notmuch_message_get_message_id(m) : NULL;
        const char *file = m ? notmuch_message_get_filename(m) : NULL;
        /* From: "" when absent, NULL when reading the document failed (as
         * the id and the file); the file count: -1 then */
        const char *from = id && file ? notmuch_message_get_header(m, "from") : NULL;
        int files = from ? notmuch_message_count_files(m) : -1;
        if (files < 0) {   /* reading the document failed */
            ok = false;
            if (m)
                notmuch_message_destroy(m);
            break;
        }
        range_msg_t *r = g_new0(range_msg_t, 1);
        r->c.message_id = g_strdup(id);
        r->c.file = g_strdup(file);
        r->c.date = (gint64)notmuch_message_get_date(m);
        r->from = g_strdup(from);
        r->files = (guint)files;
        g_ptr_array_add(list, r);
        notmuch_message_destroy(m);
    }
    notmuch_query_destroy(query);
    if (!ok) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        return NULL;
    }
    src->range = g_steal_pointer(&list);
    src->range_after = after_rev;
    return src->range;
}

/* The Message-IDs of the messages `text` selects, into `ids` (a set of
 * g_strdup'd ids); false, the source marked failed, when notmuch failed
 * or a message's id could not be read. */
static bool
query_id_set(bw_nm_source_t *src, const char *text, GHashTable *ids)
{
    notmuch_query_t *query = NULL;
    notmuch_messages_t *msgs = NULL;
    if (!search_new(src, text, false, &query, &msgs)) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        return false;
    }
    bool ok = true;
    for (; notmuch_messages_valid(msgs) && ok; notmuch_messages_move_to_next(msgs)) {
        notmuch_message_t *m = bw_nm_messages_get(msgs);
        const char *id = m ? notmuch_message_get_message_id(m) : NULL;
        ok = id != NULL;
        if (ok)
            g_hash_table_add(ids, g_strdup(id));
        if (m)
            notmuch_message_destroy(m);
    }
    notmuch_query_destroy(query);
    if (!ok)
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
    return ok;
}

/* The `id:` terms of the listed messages (range_msg_t*) as one query
 * (g_free), quoted as notmuch quotes a boolean term (make_boolean_term:
 * the term in double quotes, a quote doubled), when they are few and
 * select exactly those messages; else NULL, with *failed when notmuch
 * failed. */
static char *
id_terms_query(bw_nm_source_t *src, GPtrArray *list, bool *failed)
{
    *failed = false;
    if (list->len == 0 || list->len > RANGE_ID_TERMS_MAX)
        return NULL;
    GString *q = g_string_new("(");
    for (guint i = 0; i < list->len; i++) {
        const range_msg_t *r = g_ptr_array_index(list, i);
        g_string_append(q, i ? " or id:\"" : "id:\"");
        for (const char *p = r->c.message_id; *p; p++) {
            if (*p == '"')
                g_string_append_c(q, '"');
            g_string_append_c(q, *p);
        }
        g_string_append_c(q, '"');
    }
    g_string_append_c(q, ')');
    g_autofree char *text = g_string_free(q, FALSE);
    /* A Message-ID the query language reads otherwise (the parser is
     * Xapian's, the IDs are strangers'): the terms must give back exactly
     * the listed messages (a listing holds each message once: as many
     * distinct ids as listed, each of them listed). */
    g_autoptr(GHashTable) got = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!query_id_set(src, text, got)) {
        *failed = true;
        return NULL;
    }
    if (g_hash_table_size(got) != list->len)
        return NULL;
    for (guint i = 0; i < list->len; i++)
        if (!g_hash_table_contains(got, ((const range_msg_t *)g_ptr_array_index(list, i))->c.message_id))
            return NULL;
    return g_steal_pointer(&text);
}

/* A query that selects exactly the listed messages (g_free): their `id:`
 * terms (id_terms_query); else the range query itself.  NULL when notmuch
 * failed. */
static char *
range_restriction(bw_nm_source_t *src, guint64 after_rev, GPtrArray *list)
{
    if (src->range_terms != NULL)
        return g_strdup(src->range_terms);
    bool failed = false;
    char *text = id_terms_query(src, list, &failed);
    if (failed)
        return NULL;
    if (text == NULL)
        return range_query(after_rev);
    src->range_terms = text;
    return g_strdup(src->range_terms);
}

/* One pass; returns FALSE when notmuch failed mid-way (typically Xapian's
 * DatabaseModifiedError while `notmuch new` commits): the caller reopens and
 * starts over. */
static bool
candidates_pass(bw_nm_source_t *src, bool all, guint64 after_rev, GPtrArray *out,
                guint64 *examined, bool *sent_changed)
{
    *sent_changed = false;
    src->range_owner_count = -1;
    g_autofree char *range = NULL;
    if (all) {
        if (!count_every(src, examined))
            return false;
        src->total = (gint64)*examined;   /* what bw_nm_source_count_messages counts */
    } else {
        /* The common incremental case, nothing changed: an empty list. */
        GPtrArray *list = range_list(src, after_rev);
        if (list == NULL)
            return false;
        *examined = list->len;
        if (list->len > 0 && (range = range_restriction(src, after_rev, list)) == NULL)
            return false;
    }
    if (*examined == 0)
        return true;
    g_autofree char *pre = bw_nm_source_prefilter_query(src);
    g_autofree char *q1 = range ? g_strdup_printf("(%s) and (%s)", range, pre) : g_strdup(pre);
    notmuch_query_t *query = NULL;
    notmuch_messages_t *msgs = NULL;
    if (!search_new(src, q1, false, &query, &msgs))
        return false;
    bool ok = true;
    for (; notmuch_messages_valid(msgs); notmuch_messages_move_to_next(msgs)) {
        notmuch_message_t *m = bw_nm_messages_get(msgs);
        if (m == NULL) {   /* reading the document failed */
            ok = false;
            break;
        }
        /* The owner's own mail is never a report (a forwarded bounce, a
         * message with an attachment...): skip it without parsing.  From
         * is "" when absent, NULL when reading the document failed. */
        const char *from = notmuch_message_get_header(m, "from");
        if (from == NULL) {
            notmuch_message_destroy(m);
            ok = false;
            break;
        }
        if (is_owner(src, from)) {
            notmuch_message_destroy(m);
            continue;
        }
        bw_nm_candidate_t *c = candidate_new(m);
        notmuch_message_destroy(m);
        if (c == NULL) {
            ok = false;
            break;
        }
        g_ptr_array_add(out, c);
    }
    notmuch_query_destroy(query);
    if (!ok)
        return false;

    /* What else changed in the range: new mail from the owner changes what
     * is known about sent mail; any other message may change a verdict
     * (correspondents).  Counts only: no message is fetched. */
    if (src->owner_query) {
        guint64 n = 0;
        g_autofree char *q2 = range ? g_strdup_printf("(%s) and %s", range, src->owner_query)
                                    : g_strdup(src->owner_query);
        if (!count_query(src, q2, &n))
            return false;
        *sent_changed = n > 0;
        if (range == NULL)
            src->owner_count = (gint64)n;   /* what bw_nm_source_count_sent counts */
        else
            src->range_owner_count = (gint64)n;   /* bw_nm_source_sent_count_grown */
    }
    return true;
}

bw_status_t
bw_nm_source_candidates(bw_nm_source_t *src, bool all, guint64 after_rev,
                        GPtrArray **out, guint64 *examined, bool *sent_changed,
                        char **detail)
{
    for (unsigned attempt = 0; attempt < MAX_QUERY_RETRIES; attempt++) {
        GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_nm_candidate_free);
        guint64 n = 0;
        bool sc = false;
        if (candidates_pass(src, all, after_rev, list, &n, &sc)) {
            *out = list;
            *examined = n;
            *sent_changed = sc;
            return BW_OK;
        }
        g_ptr_array_unref(list);
        /* notmuch 0.37 reports Xapian's DatabaseModifiedError as a generic
         * exception: reopening gives a fresh snapshot (and our Xapian
         * handle, opened before it, one that may answer for it: the old one
         * is of an older snapshot). */
        src->reopened = true;   /* another snapshot than the open's */
        if (!xap_then_reopen(src, true))
            break;
        g_hash_table_remove_all(src->sent_by_id);
        g_hash_table_remove_all(src->sent_to);
        g_hash_table_remove_all(src->known_ids);
        g_hash_table_remove_all(src->from_counts);
        g_hash_table_remove_all(src->subject_near);
        src->has_sent = -1;
        src->sent_answers_as_imported = false;
        src->total = -1;
        src->owner_count = -1;
        range_forget(src);
        src->failed = NOTMUCH_STATUS_SUCCESS;
    }
    return read_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION, detail);
}

bool
bw_nm_source_range_keys(bw_nm_source_t *src, guint64 after_rev, guint max, GHashTable **ids_out,
                        GPtrArray **froms_out, bool *froms_whole)
{
    *ids_out = NULL;
    *froms_out = NULL;
    *froms_whole = false;
    GPtrArray *list = range_list(src, after_rev);
    if (list == NULL || list->len > max)
        return false;   /* a failed read, or more than the caller checks */
    g_autoptr(GHashTable) ids = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) froms = g_ptr_array_new_with_free_func(g_free);
    bool whole = true;
    for (guint i = 0; i < list->len; i++) {
        const range_msg_t *r = g_ptr_array_index(list, i);
        g_hash_table_add(ids, g_strdup(r->c.message_id));
        g_ptr_array_add(froms, g_strdup(r->from));
        whole = whole && !r->old && r->files == 1;
    }
    *froms_whole = whole;
    *ids_out = g_steal_pointer(&ids);
    *froms_out = g_steal_pointer(&froms);
    return true;
}

/* The restriction a count about the range's messages is asked under: their
 * id: terms only (the range query itself would scan every document again).
 * NULL when the count is known without asking: *known is then 0 (an empty
 * range) or -1 (it cannot be told). */
static char *
range_count_restriction(bw_nm_source_t *src, guint64 after_rev, gint64 *known)
{
    GPtrArray *range = range_list(src, after_rev);
    *known = range != NULL && range->len == 0 ? 0 : -1;
    if (range == NULL || range->len == 0)
        return NULL;
    char *restriction = range_restriction(src, after_rev, range);
    if (restriction == NULL || src->range_terms == NULL) {
        g_free(restriction);
        return NULL;
    }
    return restriction;
}

gint64
bw_nm_source_range_from_count(bw_nm_source_t *src, guint64 after_rev, const char *address)
{
    if (address == NULL || *address == '\0')
        return -1;
    gint64 known;
    g_autofree char *restriction = range_count_restriction(src, after_rev, &known);
    if (restriction == NULL)
        return known;
    /* the term op_received_from_count asks */
    g_autofree char *addr = g_ascii_strdown(address, -1);
    g_autofree char *t = bw_nm_quote_term(addr);
    g_autofree char *q = g_strdup_printf("%s and from:%s", restriction, t);
    guint64 n = 0;
    if (!count_query(src, q, &n))
        return -1;
    return (gint64)MIN(n, (guint64)G_MAXINT64);
}

gint64
bw_nm_source_range_from_any(bw_nm_source_t *src, guint64 after_rev,
                            const char *const *addresses, guint n)
{
    if (n == 0 || n > 1024)
        return -1;
    gint64 known;
    g_autofree char *restriction = range_count_restriction(src, after_rev, &known);
    if (restriction == NULL)
        return known;
    /* each member the term bw_nm_source_range_from_count asks, between
     * parentheses beside the others: their union */
    g_autoptr(GString) g = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        if (addresses[i] == NULL || *addresses[i] == '\0')
            return -1;
        g_autofree char *addr = g_ascii_strdown(addresses[i], -1);
        g_autofree char *t = bw_nm_quote_term(addr);
        g_autofree char *term = g_strdup_printf("from:%s", t);
        if (!bw_nm_plain_quoted_term(term))
            return -1;
        g_string_append_printf(g, "%s(%s)", i ? " or " : "", term);
    }
    g_autofree char *q = g_strdup_printf("%s and (%s)", restriction, g->str);
    notmuch_status_t was = src->failed;
    guint64 count = 0;
    if (!count_query(src, q, &count)) {
        src->failed = was;
        return -1;
    }
    return (gint64)MIN(count, (guint64)G_MAXINT64);
}

/* The range's messages the owner query matches, as their id: terms
 * (id_terms_query), asked once per open: "" when there is none, NULL when
 * that cannot be told (a large range, notmuch failed). */
static const char *
range_owner_restriction(bw_nm_source_t *src, guint64 after_rev)
{
    if (src->range_owner_known && src->range_after == after_rev)
        return src->range_owner_terms;
    GPtrArray *range = range_list(src, after_rev);
    if (range == NULL || src->owner_query == NULL)
        return NULL;
    src->range_owner_known = true;
    g_autofree char *restriction = range_restriction(src, after_rev, range);
    if (restriction == NULL || src->range_terms == NULL)
        return NULL;
    g_autofree char *text = g_strdup_printf("%s and %s", restriction, src->owner_query);
    g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!query_id_set(src, text, ids))
        return NULL;
    g_autoptr(GPtrArray) owners = g_ptr_array_new();   /* range_msg_t*, borrowed */
    for (guint i = 0; i < range->len; i++) {
        range_msg_t *r = g_ptr_array_index(range, i);
        if (g_hash_table_contains(ids, r->c.message_id))
            g_ptr_array_add(owners, r);
    }
    if (owners->len != g_hash_table_size(ids))
        return NULL;   /* not the listed messages: not told */
    if (owners->len == 0) {
        src->range_owner_terms = g_strdup("");
        return src->range_owner_terms;
    }
    bool failed = false;
    src->range_owner_terms = id_terms_query(src, owners, &failed);
    return src->range_owner_terms;
}

/* How many of the range's messages from the owner match `query` (a
 * mailbox op's query without the owner query); -1 when that cannot be
 * asked cheaply or notmuch failed.  Asked of the owner's messages of the
 * range by their id: terms, else of all of them with the owner query. */
static gint64
range_count_of(bw_nm_source_t *src, guint64 after_rev, const char *query)
{
    GPtrArray *range = range_list(src, after_rev);
    if (range == NULL)
        return -1;
    if (range->len == 0)
        return 0;
    const char *owners = range_owner_restriction(src, after_rev);
    g_autofree char *q = NULL;
    if (owners != NULL && *owners == '\0')
        return 0;
    if (owners != NULL) {
        q = g_strdup_printf("%s and (%s)", owners, query);
    } else {
        g_autofree char *restriction = range_restriction(src, after_rev, range);
        if (restriction == NULL || src->range_terms == NULL || src->owner_query == NULL)
            return -1;
        q = g_strdup_printf("%s and %s and (%s)", restriction, src->owner_query, query);
    }
    guint64 n = 0;
    if (!count_query(src, q, &n))
        return -1;
    return (gint64)MIN(n, (guint64)G_MAXINT64);
}

char *
bw_nm_source_range_sent_query(bw_nm_source_t *src, char what, const char *arg)
{
    if (arg == NULL || src->owner_query == NULL)
        return NULL;   /* the op answers 0 without asking */
    if (what == 'C')
        return bw_nm_sent_to_term(arg);
    if (what != 'N')
        return NULL;
    g_autofree char *want = bw_nm_subject_key(arg);
    return *want ? bw_nm_sent_subject_term(want) : NULL;   /* NULL: nothing to ask either */
}

gint64
bw_nm_source_range_sent_to_count(bw_nm_source_t *src, guint64 after_rev, const char *address)
{
    g_autofree char *q = bw_nm_source_range_sent_query(src, 'C', address);
    return q == NULL ? 0 : range_count_of(src, after_rev, q);
}

gint64
bw_nm_source_range_sent_subject_count(bw_nm_source_t *src, guint64 after_rev,
                                      const char *subject)
{
    g_autofree char *q = bw_nm_source_range_sent_query(src, 'N', subject);
    return q == NULL ? 0 : range_count_of(src, after_rev, q);
}

gint64
bw_nm_source_range_sent_any(bw_nm_source_t *src, guint64 after_rev,
                            const char *const *queries, guint n)
{
    if (n == 0 || n > 1024)
        return -1;
    GString *g = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        if (!bw_nm_plain_quoted_term(queries[i])) {
            g_string_free(g, TRUE);
            return -1;
        }
        g_string_append_printf(g, "%s(%s)", i ? " or " : "", queries[i]);
    }
    g_autofree char *q = g_string_free(g, FALSE);
    /* A batch that fails leaves no failure behind: its members are asked
     * one by one again, and those mark a failure of notmuch as before. */
    notmuch_status_t was = src->failed;
    gint64 count = range_count_of(src, after_rev, q);
    if (count < 0)
        src->failed = was;
    return count;
}

void
bw_nm_source_sent_copies_kept(bw_nm_source_t *src)
{
    if (src->has_sent < 0 && src->owner_query != NULL && bw_nm_source_range_all_new(src))
        src->has_sent = 1;
}

bool
bw_nm_source_range_all_new(const bw_nm_source_t *src)
{
    return src->range != NULL && src->range_sorted && !src->range_has_old;
}

bool
bw_nm_source_sent_count_grown(bw_nm_source_t *src, guint64 before, guint64 *count)
{
    /* as bw_nm_source_from_count_grown: the range's messages from the
     * owner are new ones only when none of the range was there before */
    if (!src->range_sorted || src->range_has_old || src->range_owner_count < 0 ||
        before > G_MAXUINT64 / 2)
        return false;
    *count = before + (guint64)src->range_owner_count;
    return true;
}

bool
bw_nm_source_from_count_grown(bw_nm_source_t *src, guint64 after_rev, const char *address,
                              guint64 before)
{
    /* the range's messages from the address are the new ones only when
     * no message of the range was there before.  (Asking about the new
     * ones only would not do: notmuch indexes the headers of every file
     * of a message, so an old message's From terms can change with its
     * files, e.g. another copy under its Message-ID; then the count asked
     * of the ops is the exact one.  These counts cost ~3.5 M instructions
     * in a re-tag at 160k.) */
    if (src->range_has_old)
        return false;
    gint64 n = bw_nm_source_range_from_count(src, after_rev, address);
    if (n < 0 || before > G_MAXUINT - 2 || (guint64)n > G_MAXUINT - 2 - before)
        return false;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    if (!g_hash_table_contains(src->from_counts, addr) &&
        g_hash_table_size(src->from_counts) < 100000u)
        g_hash_table_insert(src->from_counts, g_steal_pointer(&addr),
                            GUINT_TO_POINTER((guint)(before + (guint64)n) + 1));
    return true;
}

void
bw_nm_source_from_count_known(bw_nm_source_t *src, const char *address, guint64 count)
{
    if (address == NULL || *address == '\0' || count > G_MAXUINT - 2)
        return;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    if (!g_hash_table_contains(src->from_counts, addr) &&
        g_hash_table_size(src->from_counts) < 100000u)
        g_hash_table_insert(src->from_counts, g_steal_pointer(&addr),
                            GUINT_TO_POINTER((guint)count + 1));
}

/* One pass of bw_nm_source_list; FALSE when notmuch failed mid-way. */
static bool
list_pass(bw_nm_source_t *src, const char *text, int owner, unsigned max, GPtrArray *out)
{
    notmuch_query_t *query = NULL;
    notmuch_messages_t *msgs = NULL;
    if (!search_new(src, text, max > 0, &query, &msgs))
        return false;
    bool ok = true;
    for (; notmuch_messages_valid(msgs) && (max == 0 || out->len < max);
         notmuch_messages_move_to_next(msgs)) {
        notmuch_message_t *m = bw_nm_messages_get(msgs);
        if (m == NULL) {
            ok = false;
            break;
        }
        if (owner >= 0) {
            const char *from = notmuch_message_get_header(m, "from");
            if (from == NULL) {   /* reading the document failed ("" when absent) */
                notmuch_message_destroy(m);
                ok = false;
                break;
            }
            if (is_owner(src, from) != (owner == 1)) {
                notmuch_message_destroy(m);
                continue;
            }
        }
        bw_nm_candidate_t *c = candidate_new(m);
        notmuch_message_destroy(m);
        if (c == NULL) {
            ok = false;
            break;
        }
        g_ptr_array_add(out, c);
    }
    notmuch_query_destroy(query);
    return ok;
}

/* The text of bw_nm_source_list's query (g_free), or NULL when notmuch
 * failed; *none when the owner has no address to ask for. */
static char *
list_query(bw_nm_source_t *src, const char *query, GPtrArray *range, guint64 after_rev,
           int owner, bool *none)
{
    *none = false;
    GString *q = g_string_new(NULL);
    if (range != NULL) {
        g_autofree char *restriction = range_restriction(src, after_rev, range);
        if (restriction == NULL) {
            g_string_free(q, TRUE);
            return NULL;
        }
        g_string_append(q, restriction);
    }
    if (owner == 1) {
        if (src->owner_query == NULL) {
            *none = true;
            g_string_free(q, TRUE);
            return NULL;
        }
        g_string_append_printf(q, "%s%s", q->len ? " and " : "", src->owner_query);
    }
    if (query != NULL && *query != '\0')
        g_string_append_printf(q, "%s(%s)", q->len ? " and " : "", query);
    if (q->len == 0)
        g_string_append_c(q, '*');
    return g_string_free(q, FALSE);
}

bw_status_t
bw_nm_source_list(bw_nm_source_t *src, const char *query, bool all, guint64 after_rev,
                  int owner, unsigned max, GPtrArray **out, char **detail)
{
    *out = NULL;
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_nm_candidate_free);
    if (owner == 1 && src->owner_query == NULL) {
        *out = list;   /* no address to ask for */
        return BW_OK;
    }
    GPtrArray *range = all ? NULL : range_list(src, after_rev);
    bool ok = all || range != NULL;
    if (ok && range != NULL && (query == NULL || *query == '\0') && owner != 1 && max == 0) {
        /* The range's messages as the listing holds them (in the same
         * order: notmuch's unsorted one). */
        for (guint i = 0; i < range->len; i++) {
            const range_msg_t *r = g_ptr_array_index(range, i);
            if (owner >= 0 && is_owner(src, r->from) != (owner == 1))
                continue;
            bw_nm_candidate_t *c = g_new0(bw_nm_candidate_t, 1);
            c->message_id = g_strdup(r->c.message_id);
            c->file = g_strdup(r->c.file);
            c->date = r->c.date;
            g_ptr_array_add(list, c);
        }
    } else if (ok) {
        bool none = false;
        g_autofree char *text = list_query(src, query, range, after_rev, owner, &none);
        /* One attempt: a failure marks the source, and the scan reopens
         * and reads everything again (its retry loop). */
        ok = none || (text != NULL && list_pass(src, text, owner, max, list));
    }
    if (ok && src->failed == NOTMUCH_STATUS_SUCCESS) {
        *out = list;
        return BW_OK;
    }
    g_ptr_array_unref(list);
    mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
    return read_failed(src, src->failed, detail);
}

char *
bw_nm_source_thread_term(bw_nm_source_t *src, const char *message_id)
{
    notmuch_message_t *m = NULL;
    if (message_id == NULL ||
        notmuch_database_find_message(src->db, message_id, &m) != NOTMUCH_STATUS_SUCCESS) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        return NULL;
    }
    if (m == NULL)
        return NULL;
    const char *tid = notmuch_message_get_thread_id(m);
    if (tid == NULL)   /* reading the document failed */
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
    char *term = NULL;
    /* notmuch's thread ids are hex digits: safe in a query as they are */
    if (tid != NULL && *tid != '\0' && strspn(tid, "0123456789abcdefABCDEF") == strlen(tid))
        term = g_strdup_printf("thread:%s", tid);
    notmuch_message_destroy(m);
    return term;
}

/* ------------------------------------------------------------ sent-mail answers
 *
 * What the lookups learnt about the owner's sent mail (which Message-IDs are
 * sent mail, the dates of mail to each address, subjects sent near a time,
 * whether there is sent mail at all) depends on the owner's messages only.
 * The scanner keeps it across runs and imports it only when none of them
 * changed (none in the lastmod range, the same number): then every answer
 * is still what Xapian would say, without asking it (these queries were a
 * third of the CPU of an incremental run at 160k messages). */
/* The stored form: a checksum of the rest (damage would read as answers
 * never given), a magic with the format's version, has_sent, then the
 * three tables' counts and entries, each key as a length and its bytes:
 *   by id: key, date (G_MININT64: not sent mail);
 *   to:    key, the number of dates, the dates;
 *   near:  key, one byte (1 yes, 0 no).
 * Numbers are little-endian.  A GVariant of the same cost 21 M instructions
 * to build and 18 M to read back at ~2,000 answers (format strings, then
 * a child value per key and per answer); this is a copy of the bytes each
 * way, and its hash sees damage that a normal-form check does not. */
/* The head is the XXH64 of the rest (bw_xxh64, little-endian): a checksum
 * against accidental damage, as the state's rows (store.c says why it is not
 * a cryptographic hash); the second form's was its BLAKE2b-256 (~1.1 M
 * instructions a hook at 160k messages), and is refused as another format. */
#define SENT_ANSWERS_MAGIC "bwsa\003\0\0\0"
#define SENT_ANSWERS_HASH 8u
#define SENT_ANSWERS_SEED 0x62772d7361333031ull   /* "bw-sa301" */
#define SENT_ANSWERS_KEY_MAX 65536u

static void
sa_put_u32(GByteArray *b, guint32 v)
{
    guint32 le = GUINT32_TO_LE(v);
    g_byte_array_append(b, (const guint8 *)&le, 4);
}

static void
sa_put_i64(GByteArray *b, gint64 v)
{
    guint64 le = GUINT64_TO_LE((guint64)v);
    g_byte_array_append(b, (const guint8 *)&le, 8);
}

static void
sa_put_key(GByteArray *b, const char *k, gsize n)
{
    sa_put_u32(b, (guint32)n);
    g_byte_array_append(b, (const guint8 *)k, (guint)n);
}

static gint
cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys a table holds that fit the stored form (a key longer than
 * SENT_ANSWERS_KEY_MAX is asked again), sorted: the same answers give the
 * same bytes. */
static GPtrArray *
sa_keys(GHashTable *h)
{
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, h);
    while (g_hash_table_iter_next(&it, &k, NULL))
        if (strlen(k) <= SENT_ANSWERS_KEY_MAX)
            g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, cmp_str_ptr);
    return keys;
}

GBytes *
bw_nm_source_export_sent_answers(bw_nm_source_t *src)
{
    if (src->failed != NOTMUCH_STATUS_SUCCESS)
        return NULL;
    GByteArray *b = g_byte_array_new();
    g_byte_array_set_size(b, SENT_ANSWERS_HASH);
    g_byte_array_append(b, (const guint8 *)SENT_ANSWERS_MAGIC, 8);
    sa_put_u32(b, (guint32)(gint32)src->has_sent);
    g_autoptr(GPtrArray) by_id = sa_keys(src->sent_by_id);
    g_autoptr(GPtrArray) to = sa_keys(src->sent_to);
    g_autoptr(GPtrArray) near = sa_keys(src->subject_near);
    sa_put_u32(b, by_id->len);
    sa_put_u32(b, to->len);
    sa_put_u32(b, near->len);
    for (guint i = 0; i < by_id->len; i++) {
        const char *k = g_ptr_array_index(by_id, i);
        const gint64 *d = g_hash_table_lookup(src->sent_by_id, k);
        sa_put_key(b, k, strlen(k));
        sa_put_i64(b, d ? *d : G_MININT64);
    }
    for (guint i = 0; i < to->len; i++) {
        const char *k = g_ptr_array_index(to, i);
        const GArray *dates = g_hash_table_lookup(src->sent_to, k);
        sa_put_key(b, k, strlen(k));
        sa_put_u32(b, dates->len);
        for (guint j = 0; j < dates->len; j++)
            sa_put_i64(b, g_array_index(dates, gint64, j));
    }
    for (guint i = 0; i < near->len; i++) {
        const char *k = g_ptr_array_index(near, i);
        sa_put_key(b, k, strlen(k));
        guint8 yes = GPOINTER_TO_INT(g_hash_table_lookup(src->subject_near, k)) == 1;
        g_byte_array_append(b, &yes, 1);
    }
    guint64 sum = GUINT64_TO_LE(bw_xxh64(b->data + SENT_ANSWERS_HASH,
                                         b->len - SENT_ANSWERS_HASH, SENT_ANSWERS_SEED));
    memcpy(b->data, &sum, SENT_ANSWERS_HASH);
    return g_byte_array_free_to_bytes(b);
}

/* A reader of the stored form: every take checks the bytes left. */
typedef struct {
    const guint8 *p, *end;
    bool bad;
} sa_reader_t;

static guint32
sa_u32(sa_reader_t *r)
{
    guint32 v = 0;
    if (r->bad || r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p, 4);
    r->p += 4;
    return GUINT32_FROM_LE(v);
}

static gint64
sa_i64(sa_reader_t *r)
{
    guint64 v = 0;
    if (r->bad || r->end - r->p < 8) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p, 8);
    r->p += 8;
    return (gint64)GUINT64_FROM_LE(v);
}

/* A key: a copy (NUL-terminated; one holding a NUL is damage), or NULL. */
static char *
sa_key(sa_reader_t *r)
{
    guint32 n = sa_u32(r);
    if (r->bad || n > SENT_ANSWERS_KEY_MAX || (gsize)(r->end - r->p) < n ||
        memchr(r->p, '\0', n) != NULL) {
        r->bad = true;
        return NULL;
    }
    char *k = g_strndup((const char *)r->p, n);
    r->p += n;
    return k;
}

void
bw_nm_source_import_sent_answers(bw_nm_source_t *src, GBytes *data)
{
    if (data == NULL)
        return;
    gsize len = 0;
    const guint8 *blob = g_bytes_get_data(data, &len);
    /* Damage would read as answers that were never given: refuse it, and
     * a blob of another format (then the answers are asked again). */
    if (blob == NULL || len < SENT_ANSWERS_HASH + 8 ||
        memcmp(blob + SENT_ANSWERS_HASH, SENT_ANSWERS_MAGIC, 8) != 0)
        return;
    guint64 sum;
    memcpy(&sum, blob, SENT_ANSWERS_HASH);
    if (GUINT64_FROM_LE(sum) !=
        bw_xxh64(blob + SENT_ANSWERS_HASH, len - SENT_ANSWERS_HASH, SENT_ANSWERS_SEED))
        return;
    /* Only into a source that has no answer yet: then what it holds after
     * is exactly the imported set (what the caller may skip writing back). */
    bool whole = src->has_sent < 0 && g_hash_table_size(src->sent_by_id) == 0 &&
                 g_hash_table_size(src->sent_to) == 0 &&
                 g_hash_table_size(src->subject_near) == 0;
    sa_reader_t r = { blob + SENT_ANSWERS_HASH + 8, blob + len, false };
    gint32 has_sent = (gint32)sa_u32(&r);
    guint32 n_by_id = sa_u32(&r), n_to = sa_u32(&r), n_near = sa_u32(&r);
    /* Read whole into new tables first: nothing is taken from a blob
     * that does not read to its end. */
    g_autoptr(GHashTable) by_id = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) to = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, free_dates);
    g_autoptr(GHashTable) near = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, NULL);
    for (guint32 i = 0; i < n_by_id && !r.bad; i++) {
        char *k = sa_key(&r);
        gint64 date = sa_i64(&r);
        if (r.bad) {
            g_free(k);
            break;
        }
        gint64 *d = NULL;
        if (date != G_MININT64) {
            d = g_new(gint64, 1);
            *d = date;
        }
        g_hash_table_replace(by_id, k, d);
    }
    for (guint32 i = 0; i < n_to && !r.bad; i++) {
        char *k = sa_key(&r);
        guint32 n = sa_u32(&r);
        if (r.bad || n > SENT_DATES_MAX || (gsize)(r.end - r.p) / 8 < n) {
            r.bad = true;
            g_free(k);
            break;
        }
        GArray *dates = g_array_sized_new(FALSE, FALSE, sizeof(gint64), n);
        g_array_set_size(dates, n);
        for (guint32 j = 0; j < n; j++)
            g_array_index(dates, gint64, j) = sa_i64(&r);
        g_hash_table_replace(to, k, dates);
    }
    for (guint32 i = 0; i < n_near && !r.bad; i++) {
        char *k = sa_key(&r);
        if (r.bad || r.p >= r.end || *r.p > 1) {
            r.bad = true;
            g_free(k);
            break;
        }
        g_hash_table_replace(near, k, GINT_TO_POINTER(*r.p == 1 ? 1 : 2));
        r.p++;
    }
    if (r.bad || r.p != r.end)
        return;
    if (has_sent >= 0 && src->has_sent < 0)
        src->has_sent = has_sent > 0;
    if (whole) {
        /* The source's tables are empty: the new ones, made alike (keys,
         * values and their free functions), are what moving every entry
         * over would leave in them. */
        g_hash_table_unref(src->sent_by_id);
        src->sent_by_id = g_steal_pointer(&by_id);
        g_hash_table_unref(src->sent_to);
        src->sent_to = g_steal_pointer(&to);
        g_hash_table_unref(src->subject_near);
        src->subject_near = g_steal_pointer(&near);
        src->sent_answers_as_imported = true;
        return;
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, by_id);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_hash_table_iter_steal(&it);
        g_hash_table_replace(src->sent_by_id, k, v);
    }
    g_hash_table_iter_init(&it, to);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_hash_table_iter_steal(&it);
        g_hash_table_replace(src->sent_to, k, v);
    }
    g_hash_table_iter_init(&it, near);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_hash_table_iter_steal(&it);
        g_hash_table_replace(src->subject_near, k, v);
    }
    src->sent_answers_as_imported = whole;
}

bool
bw_nm_source_sent_answers_as_imported(const bw_nm_source_t *src)
{
    return src->sent_answers_as_imported && src->failed == NOTMUCH_STATUS_SUCCESS;
}

/* libnotmuch 0.37 moves its handle to the newest revision by itself when a
 * message getter (notmuch_message_get_message_id, _get_filename(s),
 * _get_tags, _get_thread_id...: _notmuch_message_ensure_metadata in
 * lib/message.cc) meets Xapian's DatabaseModifiedError, which takes two
 * commits by another writer while we read: notmuch_database_reopen(), which
 * reloads the revision and the UUID (open.cc, _load_database_state) and
 * tells no one.  What is read after it is of a later snapshot than the
 * revision the run recorded at the open.  Proof that it did not happen:
 *   - this source did not reopen notmuch's handle itself since the open
 *     (the candidates' retry), and notmuch's revision and UUID are still
 *     the open's (a reopen reloads them: any commit that wrote a message,
 *     a tag or a file moves the revision);
 *   - no call of notmuch_database_reopen was counted since the open
 *     (nm-reopen.h: the definition libnotmuch's own call reaches counts);
 *   - and either no commit at all since our Xapian handle's open
 *     (bw_nm_xapian_unchanged; the handle was opened between notmuch's open
 *     and its reopen at the open, so at or before notmuch's snapshot: then
 *     notmuch, reopened after it, is at its revision and cannot have met
 *     the error), or the count is proven to see every reopen libnotmuch
 *     makes (bw_nm_reopen_proven) and libnotmuch logged nothing since
 *     its open (notmuch_database_status_string is still NULL): then
 *     commits that did not move notmuch's handle are tolerated, however
 *     many.  (After two commits, a read of the older revision may also
 *     meet another Xapian error than DatabaseModifiedError, or that error
 *     outside _notmuch_message_ensure_metadata: libnotmuch 0.37 then
 *     returns NULL or an error status, which the reads here take for a
 *     failed read, or a default it cannot tell from a value, as
 *     notmuch_message_get_date's 0; every such catch in lib/ logs the
 *     exception, and the log is kept until the handle is destroyed.)
 *     The first also sees
 *     commits that only removed messages, which leave notmuch's revision
 *     as it was; the proven count sees moves over them too.
 * Without the handle (NOTMUCH_DATABASE, BOUNCEWATCH_TEST_XAPIAN=off, or it
 * could not be opened) or when Xapian cannot tell (the fresh open failed),
 * and the count not proven, only the first test is made: a move over
 * commits that only removed messages is then not seen.  Without the proof
 * (another libnotmuch build, another architecture), a writer's commit
 * during the read makes the caller read again, as a failed read does.
 * Our Xapian handle's answers are guarded apart, before each of them
 * (bw_nm_xapian_usable: no commit since its open), which also gives
 * notmuch's snapshot == the handle's whenever it answers. */
bool
bw_nm_source_snapshot_held(bw_nm_source_t *src)
{
    if (src->failed != NOTMUCH_STATUS_SUCCESS)
        return false;
    const char *uuid = NULL;
    guint64 rev = notmuch_database_get_revision(src->db, &uuid);
    bool held = !src->reopened && rev == src->open_rev && uuid != NULL &&
                g_strcmp0(uuid, src->open_uuid) == 0 &&
                bw_nm_reopen_calls() == src->reopen_calls;
    /* the fresh open first: without a commit the proof is never made */
    if (held && bw_nm_xapian_unchanged(src->xap, src->open_uuid) == 0 &&
        !(notmuch_database_status_string(src->db) == NULL && bw_nm_reopen_proven()))
        held = false;
    if (!held) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        src->moved = true;
    }
    return held;
}

bool
bw_nm_source_failed(const bw_nm_source_t *src, char **detail)
{
    if (src->failed == NOTMUCH_STATUS_SUCCESS)
        return false;
    if (src->moved) {
        /* Said when the last attempt met a commit too (bw_scan_run_retrying):
         * the writer is a mail client changing tags as often as not, which
         * `notmuch new` being over does not stop. */
        bw_error_set(detail, BW_E_DATABASE,
                     _("the notmuch database %s kept changing while it was read (another "
                       "program was writing to it: a mail client changing tags, or notmuch "
                       "new); nothing was saved: run the scan again when it is not writing"),
                     src->path);
        return true;
    }
    read_failed(src, src->failed, detail);
    return true;
}

/* ------------------------------------------------------------ mailbox ops */

static bool
op_sent_has_message_id(void *ctx, const char *message_id, gint64 *date_out)
{
    bw_nm_source_t *src = ctx;
    if (message_id == NULL || *message_id == '\0')
        return false;
    gpointer val = NULL;
    if (!g_hash_table_lookup_extended(src->sent_by_id, message_id, NULL, &val)) {
        gint64 *date = NULL;
        notmuch_message_t *m = NULL;
        if (injected_failure(src))
            return false;
        notmuch_status_t nst = notmuch_database_find_message(src->db, message_id, &m);
        if (nst != NOTMUCH_STATUS_SUCCESS) {
            mark_failed(src, nst);   /* not cached: the retry asks again */
            return false;
        }
        if (m != NULL) {
            /* notmuch answers "" for a missing header, NULL when reading
             * the document failed. */
            const char *from = notmuch_message_get_header(m, "from");
            if (from == NULL) {
                mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
                notmuch_message_destroy(m);
                return false;
            }
            if (from && is_owner(src, from)) {
                date = g_new(gint64, 1);
                *date = (gint64)notmuch_message_get_date(m);
            }
            notmuch_message_destroy(m);
        }
        /* Attacker-chosen ids could grow the cache without bound: cap it. */
        if (g_hash_table_size(src->sent_by_id) > 1000000u)
            g_hash_table_remove_all(src->sent_by_id);
        g_hash_table_insert(src->sent_by_id, g_strdup(message_id), date);
        src->sent_answers_as_imported = false;
        val = date;
    }
    if (val && date_out)
        *date_out = *(gint64 *)val;
    return val != NULL;
}

static gint
cmp_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static unsigned
op_sent_count_to(void *ctx, const char *address, gint64 before)
{
    bw_nm_source_t *src = ctx;
    if (address == NULL || src->owner_query == NULL)
        return 0;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    GArray *dates = g_hash_table_lookup(src->sent_to, addr);
    if (dates == NULL) {
        dates = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autofree char *term = bw_nm_sent_to_term(addr);
        g_autofree char *q = g_strdup_printf("%s and %s", src->owner_query, term);
        notmuch_query_t *query = notmuch_query_create(src->db, q);
        notmuch_messages_t *msgs = NULL;
        if (query) {
            notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
            notmuch_query_set_sort(query, NOTMUCH_SORT_UNSORTED);
        }
        notmuch_status_t nst = query ? notmuch_query_search_messages(query, &msgs)
                                     : NOTMUCH_STATUS_OUT_OF_MEMORY;
        if (nst != NOTMUCH_STATUS_SUCCESS)
            mark_failed(src, nst);
        else {
            for (; notmuch_messages_valid(msgs) && dates->len < SENT_DATES_MAX;
                 notmuch_messages_move_to_next(msgs)) {
                notmuch_message_t *m = bw_nm_messages_get(msgs);
                /* NULL only when reading the document failed. */
                if (m == NULL) {
                    mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
                    break;
                }
                gint64 d = (gint64)notmuch_message_get_date(m);
                g_array_append_val(dates, d);
                notmuch_message_destroy(m);
            }
        }
        if (query)
            notmuch_query_destroy(query);
        g_array_sort(dates, cmp_gint64);
        if (g_hash_table_size(src->sent_to) > 100000u)
            g_hash_table_remove_all(src->sent_to);
        g_hash_table_insert(src->sent_to, g_strdup(addr), dates);
        src->sent_answers_as_imported = false;
    }
    if (before <= 0)
        return dates->len;
    unsigned n = 0;
    for (guint i = 0; i < dates->len && g_array_index(dates, gint64, i) < before; i++)
        n++;
    return n;
}

static bool
op_sent_subject_near(void *ctx, const char *subject, gint64 t, gint64 window)
{
    bw_nm_source_t *src = ctx;
    if (subject == NULL || src->owner_query == NULL || window < 0)
        return false;
    g_autofree char *want = bw_nm_subject_key(subject);
    if (*want == '\0')
        return false;
    g_autofree char *ckey = g_strdup_printf("%s\x1f%" G_GINT64_FORMAT "\x1f%" G_GINT64_FORMAT,
                                            want, t, window);
    gpointer cached = g_hash_table_lookup(src->subject_near, ckey);
    if (cached != NULL)
        return GPOINTER_TO_INT(cached) == 1;
    g_autofree char *term = bw_nm_sent_subject_term(want);
    if (term == NULL)
        return false;
    g_autofree char *q = g_strdup_printf("%s and %s", src->owner_query, term);
    notmuch_query_t *query = notmuch_query_create(src->db, q);
    if (query == NULL)
        return false;
    notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
    notmuch_query_set_sort(query, NOTMUCH_SORT_UNSORTED);
    notmuch_messages_t *msgs = NULL;
    bool found = false;
    notmuch_status_t nst = notmuch_query_search_messages(query, &msgs);
    if (nst != NOTMUCH_STATUS_SUCCESS) {
        mark_failed(src, nst);
    } else {
        unsigned guard = 0;
        for (; !found && notmuch_messages_valid(msgs) && guard < 100000u;
             notmuch_messages_move_to_next(msgs), guard++) {
            notmuch_message_t *m = bw_nm_messages_get(msgs);
            const char *s = m ? notmuch_message_get_header(m, "subject") : NULL;
            if (s == NULL) {   /* "" when absent: NULL is a failed read */
                mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
                if (m)
                    notmuch_message_destroy(m);
                break;
            }
            gint64 d = (gint64)notmuch_message_get_date(m);
            if (s && d >= t - window && d <= t + window) {
                g_autofree char *k = bw_nm_subject_key(s);
                found = strcmp(k, want) == 0;
            }
            notmuch_message_destroy(m);
        }
    }
    notmuch_query_destroy(query);
    if (src->failed == NOTMUCH_STATUS_SUCCESS) {
        if (g_hash_table_size(src->subject_near) > 100000u)
            g_hash_table_remove_all(src->subject_near);
        g_hash_table_insert(src->subject_near, g_steal_pointer(&ckey), GINT_TO_POINTER(found ? 1 : 2));
        src->sent_answers_as_imported = false;
    }
    return found;
}

static bool
op_has_sent_mail(void *ctx)
{
    bw_nm_source_t *src = ctx;
    if (src->has_sent < 0) {
        src->has_sent = 0;
        src->sent_answers_as_imported = false;
        if (src->owner_query) {
            /* Copies of the owner's own mail, not anything From the owner:
             * reports can carry the owner in From (challenge requests,
             * some bounce templates), and forged spam "from" the owner
             * lands in the owner's junk folder.  Counting those would make
             * a mailbox without Sent copies look as if it kept them, and
             * every real bounce would then be "never sent from here".
             * Notices the prefilter cannot see (a list server's loop alert
             * written in the owner's name) remain, so it takes a few
             * messages, SENT_COPIES_MIN, to say that copies are kept. */
            g_autofree char *pre = bw_nm_source_prefilter_query(src);
            g_autofree char *q = g_strdup_printf(
                "(%s) and not (%s) and not (tag:spam or folder:Junk or folder:Spam or "
                "folder:.Junk or folder:.Spam or folder:INBOX.Junk or folder:INBOX.Spam)",
                src->owner_query, pre);
            /* Counting them all cost ~250 M instructions at 26k sent
             * messages: first only those from the sent sample's oldest
             * date on (some of the same messages: when they are enough,
             * all of them are); too few, or no answer: all counted. */
            if (src->sample_oldest > 0) {
                g_autofree char *since = g_strdup_printf("(%s) and date:@%" G_GINT64_FORMAT "..",
                                                         q, src->sample_oldest);
                notmuch_query_t *sq = notmuch_query_create(src->db, since);
                unsigned n = 0;
                if (sq) {
                    notmuch_query_set_omit_excluded(sq, NOTMUCH_EXCLUDE_FALSE);
                    if (notmuch_query_count_messages(sq, &n) == NOTMUCH_STATUS_SUCCESS &&
                        n >= SENT_COPIES_MIN)
                        src->has_sent = 1;
                    notmuch_query_destroy(sq);
                }
                if (src->has_sent == 1)
                    return true;
            }
            notmuch_query_t *query = notmuch_query_create(src->db, q);
            unsigned count = 0;
            if (query) {
                notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
                notmuch_status_t nst = notmuch_query_count_messages(query, &count);
                if (nst == NOTMUCH_STATUS_SUCCESS)
                    src->has_sent = count >= SENT_COPIES_MIN;
                else {
                    mark_failed(src, nst);
                    src->has_sent = -1;
                }
                notmuch_query_destroy(query);
            }
        }
    }
    return src->has_sent == 1;
}

static bool
op_has_message_id(void *ctx, const char *message_id)
{
    bw_nm_source_t *src = ctx;
    if (message_id == NULL || *message_id == '\0')
        return false;
    gpointer v = g_hash_table_lookup(src->known_ids, message_id);
    if (v == NULL) {
        notmuch_message_t *m = NULL;
        if (injected_failure(src))
            return false;
        notmuch_status_t nst = notmuch_database_find_message(src->db, message_id, &m);
        if (nst != NOTMUCH_STATUS_SUCCESS) {
            mark_failed(src, nst);
            return false;
        }
        bool known = m != NULL;
        if (m)
            notmuch_message_destroy(m);
        if (g_hash_table_size(src->known_ids) > 1000000u)
            g_hash_table_remove_all(src->known_ids);
        v = GINT_TO_POINTER(known ? 1 : 2);
        g_hash_table_insert(src->known_ids, g_strdup(message_id), v);
    }
    return GPOINTER_TO_INT(v) == 1;
}

bool
bw_nm_source_is_owners(bw_nm_source_t *src, const char *message_id)
{
    notmuch_message_t *m = NULL;
    if (message_id == NULL)
        return false;
    notmuch_status_t nst = notmuch_database_find_message(src->db, message_id, &m);
    if (nst != NOTMUCH_STATUS_SUCCESS) {
        mark_failed(src, nst);
        return false;
    }
    if (m == NULL)
        return false;
    /* "" when absent, NULL when reading the document failed */
    const char *from = notmuch_message_get_header(m, "from");
    if (from == NULL)
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
    bool owners = from != NULL && is_owner(src, from);
    notmuch_message_destroy(m);
    return owners;
}

bw_status_t
bw_nm_source_find_file(bw_nm_source_t *src, const char *message_id, char **file_out,
                       gint64 *date_out)
{
    *file_out = NULL;
    if (message_id == NULL || *message_id == '\0')
        return BW_OK;
    notmuch_message_t *m = NULL;
    if (injected_failure(src))
        return BW_E_DATABASE;
    notmuch_status_t nst = notmuch_database_find_message(src->db, message_id, &m);
    if (nst != NOTMUCH_STATUS_SUCCESS) {
        mark_failed(src, nst);
        return BW_E_DATABASE;
    }
    if (m == NULL)
        return BW_OK;
    const char *file = notmuch_message_get_filename(m);
    if (file == NULL) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        notmuch_message_destroy(m);
        return BW_E_DATABASE;
    }
    *file_out = g_strdup(file);
    if (date_out)
        *date_out = (gint64)notmuch_message_get_date(m);
    notmuch_message_destroy(m);
    return BW_OK;
}

static unsigned
op_received_from_count(void *ctx, const char *address)
{
    bw_nm_source_t *src = ctx;
    if (address == NULL || *address == '\0')
        return 0;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    gpointer v = g_hash_table_lookup(src->from_counts, addr);
    if (v == NULL) {
        g_autofree char *t = bw_nm_quote_term(addr);
        g_autofree char *q = g_strdup_printf("from:%s", t);
        unsigned count = 0;
        notmuch_query_t *query = notmuch_query_create(src->db, q);
        if (query) {
            notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
            notmuch_status_t nst = notmuch_query_count_messages(query, &count);
            notmuch_query_destroy(query);
            if (nst != NOTMUCH_STATUS_SUCCESS) {
                mark_failed(src, nst);
                return 0;
            }
        }
        if (g_hash_table_size(src->from_counts) > 100000u)
            g_hash_table_remove_all(src->from_counts);
        v = GUINT_TO_POINTER(MIN(count, G_MAXUINT - 1) + 1);
        g_hash_table_insert(src->from_counts, g_strdup(addr), v);
    }
    return GPOINTER_TO_UINT(v) - 1;
}

static bool
op_sent_is_anomaly(void *ctx, const char *message_id, const char **run_out)
{
    bw_nm_source_t *src = ctx;
    const char *run = src->anomalies && message_id
                    ? g_hash_table_lookup(src->anomalies, message_id) : NULL;
    if (run_out)
        *run_out = run;
    return run != NULL;
}

void
bw_nm_source_set_anomalies(bw_nm_source_t *src, GHashTable *members)
{
    src->anomalies = members;
}

void
bw_nm_source_mailbox_ops(bw_nm_source_t *src, bw_mailbox_ops_t *ops)
{
    memset(ops, 0, sizeof *ops);
    ops->sent_has_message_id = op_sent_has_message_id;
    ops->sent_count_to = op_sent_count_to;
    ops->sent_subject_near = op_sent_subject_near;
    ops->has_sent_mail = op_has_sent_mail;
    ops->has_message_id = op_has_message_id;
    ops->received_from_count = op_received_from_count;
    ops->sent_is_anomaly = op_sent_is_anomaly;
    /* Not offered: received_from_domain_count (a phrase query per reported
     * domain cost 16% of a full scan at 160k messages and left every
     * scenario score unchanged) and replies_to (notmuch 0.37 cannot search
     * In-Reply-To/References, and a forged original is at most a ghost). */
    ops->ctx = src;
}

/* ------------------------------------------------------------ profile */

/* Keep the date of the last (oldest) message of the sample just listed:
 * op_has_sent_mail counts from then on first. */
static void
sample_listed(bw_nm_source_t *src, const GPtrArray *sample)
{
    src->sample_oldest = 0;
    if (sample->len > 0) {
        const bw_nm_candidate_t *c = g_ptr_array_index(sample, sample->len - 1);
        src->sample_oldest = c->date;
    }
}

/* The first `max` messages of `q` (the owner's from a date on), newest
 * first, into `out`: FALSE when notmuch did not answer them all (nothing
 * marked: the caller lists every message then, which marks it). */
static bool
sent_sample_since(bw_nm_source_t *src, const char *q, unsigned max, GPtrArray *out)
{
    notmuch_query_t *query = notmuch_query_create(src->db, q);
    if (query == NULL)
        return false;
    notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
    notmuch_query_set_sort(query, NOTMUCH_SORT_NEWEST_FIRST);
    notmuch_messages_t *msgs = NULL;
    bool ok = notmuch_query_search_messages(query, &msgs) == NOTMUCH_STATUS_SUCCESS;
    for (; ok && notmuch_messages_valid(msgs) && out->len < max;
         notmuch_messages_move_to_next(msgs)) {
        notmuch_message_t *m = bw_nm_messages_get(msgs);
        bw_nm_candidate_t *c = m ? candidate_new(m) : NULL;
        if (m)
            notmuch_message_destroy(m);
        if (c == NULL)
            ok = false;   /* notmuch swallowed a Xapian exception */
        else
            g_ptr_array_add(out, c);
    }
    notmuch_query_destroy(query);
    return ok;
}

bw_status_t
bw_nm_source_sent_sample(bw_nm_source_t *src, unsigned max, gint64 since, GPtrArray **out,
                         char **detail)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify)bw_nm_candidate_free);
    if (src->owner_query == NULL || max == 0)
        return BW_OK;
    /* Listing every message from the owner, sorted, cost ~320 M
     * instructions at 26k of them: first only those dated `since` or
     * later.  They are the full listing's first messages, in its order (it
     * sorts by date: every other message is older, after them), so when
     * there are `max` of them, they are its first `max`.  Fewer, or no
     * answer: the full listing, as without `since`. */
    if (since > 0) {
        g_autofree char *q = g_strdup_printf("%s and date:@%" G_GINT64_FORMAT "..",
                                             src->owner_query, since);
        if (sent_sample_since(src, q, max, *out) && (*out)->len >= max) {
            sample_listed(src, *out);
            return BW_OK;
        }
        g_ptr_array_set_size(*out, 0);
    }
    notmuch_query_t *query = notmuch_query_create(src->db, src->owner_query);
    if (query == NULL)
        return BW_E_NOMEM;
    notmuch_query_set_omit_excluded(query, NOTMUCH_EXCLUDE_FALSE);
    notmuch_query_set_sort(query, NOTMUCH_SORT_NEWEST_FIRST);
    notmuch_messages_t *msgs = NULL;
    notmuch_status_t nst = notmuch_query_search_messages(query, &msgs);
    if (nst != NOTMUCH_STATUS_SUCCESS) {
        notmuch_query_destroy(query);
        src->failed = nst;
        return bw_error_set(detail, BW_E_DATABASE, _("cannot list the sent mail: %s"),
                            notmuch_status_to_string(nst));
    }
    for (; notmuch_messages_valid(msgs) && (*out)->len < max; notmuch_messages_move_to_next(msgs)) {
        notmuch_message_t *m = bw_nm_messages_get(msgs);
        bw_nm_candidate_t *c = m ? candidate_new(m) : NULL;
        if (m)
            notmuch_message_destroy(m);
        if (c == NULL) {
            /* A NULL here is notmuch swallowing a Xapian exception. */
            mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
            break;
        }
        g_ptr_array_add(*out, c);
    }
    notmuch_query_destroy(query);
    if (src->failed != NOTMUCH_STATUS_SUCCESS)
        return bw_error_set(detail, BW_E_DATABASE, "%s",
                            _("reading the sent mail from the notmuch database failed"));
    sample_listed(src, *out);
    return BW_OK;
}

/* Bounds of the directory walk (a maildir tree has tens to hundreds). */
#define MAX_DIRECTORIES  20000u
#define MAX_DIR_DEPTH    64u

/* The mail root: where notmuch_message_get_filename's paths start
 * (database.mail_root, which notmuch_database_get_path does not give when
 * the database lives elsewhere). */
static const char *
mail_root(bw_nm_source_t *src)
{
    const char *root = notmuch_config_get(src->db, NOTMUCH_CONFIG_MAIL_ROOT);
    return root != NULL && *root != '\0' ? root : notmuch_database_get_path(src->db);
}

typedef enum { WALK_DONE, WALK_TOO_BIG, WALK_FAILED } walk_t;

/* Every directory notmuch holds under `root`, depth first: visit(data, its
 * path relative to root ("" for root), its path, its document).  Bounded:
 * WALK_TOO_BIG past MAX_DIRECTORIES directories or MAX_DIR_DEPTH levels;
 * WALK_FAILED (the source marked failed) when notmuch could not answer. */
static walk_t
walk_directories(bw_nm_source_t *src, const char *root,
                 void (*visit)(void *data, const char *rel, const char *path,
                               notmuch_directory_t *dir),
                 void *data)
{
    g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) depth = g_array_new(FALSE, FALSE, sizeof(unsigned));
    g_ptr_array_add(todo, g_strdup(""));
    unsigned zero = 0;
    g_array_append_val(depth, zero);
    unsigned seen = 0;
    while (todo->len > 0) {
        g_autofree char *rel = g_ptr_array_steal_index(todo, todo->len - 1);
        unsigned d = g_array_index(depth, unsigned, depth->len - 1);
        g_array_set_size(depth, depth->len - 1);
        if (++seen > MAX_DIRECTORIES || d > MAX_DIR_DEPTH)
            return WALK_TOO_BIG;
        g_autofree char *path = *rel ? g_strconcat(root, "/", rel, NULL) : g_strdup(root);
        notmuch_directory_t *dir = NULL;
        notmuch_status_t nst = notmuch_database_get_directory(src->db, path, &dir);
        if (nst != NOTMUCH_STATUS_SUCCESS) {
            mark_failed(src, nst);
            return WALK_FAILED;
        }
        if (dir == NULL)
            continue;
        visit(data, rel, path, dir);
        notmuch_filenames_t *kids = notmuch_directory_get_child_directories(dir);
        for (; kids && notmuch_filenames_valid(kids); notmuch_filenames_move_to_next(kids)) {
            const char *name = notmuch_filenames_get(kids);
            if (name == NULL || todo->len >= MAX_DIRECTORIES)
                continue;
            g_ptr_array_add(todo, *rel ? g_strconcat(rel, "/", name, NULL) : g_strdup(name));
            unsigned nd = d + 1;
            g_array_append_val(depth, nd);
        }
        if (kids)
            notmuch_filenames_destroy(kids);
        notmuch_directory_destroy(dir);
    }
    return src->failed == NOTMUCH_STATUS_SUCCESS ? WALK_DONE : WALK_FAILED;
}

static void
collect_directory(void *data, const char *rel, const char *path, notmuch_directory_t *dir)
{
    /* notmuch's mtime alone misses a removal indexed in the same second
     * (notmuch new then keeps the old one, to rescan next time); the
     * directory's own nanosecond mtime catches it. */
    GPtrArray *dirs = data;
    struct stat sb;
    if (stat(path, &sb) != 0)
        memset(&sb, 0, sizeof sb);
    dir_entry_t *d = g_new0(dir_entry_t, 1);
    d->rel = g_strdup(rel);
    d->nm_mtime = (gint64)notmuch_directory_get_mtime(dir);
    d->fs_sec = (gint64)sb.st_mtim.tv_sec;
    d->fs_nsec = (long)sb.st_mtim.tv_nsec;
    d->files = -1;
    g_ptr_array_add(dirs, d);
}

/* The directories under the mail root, walked once per open (src->dirs);
 * FALSE when there are too many to be cheap, or a read failed. */
static bool
dirs_walk(bw_nm_source_t *src)
{
    if (src->dirs_walked)
        return src->dirs != NULL;
    src->dirs_walked = true;
    const char *root = mail_root(src);
    if (root == NULL)
        return false;
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(dir_entry_free);
    if (walk_directories(src, root, collect_directory, dirs) != WALK_DONE)
        return false;
    src->dirs = g_steal_pointer(&dirs);
    return true;
}

char *
bw_nm_source_directory_digest(bw_nm_source_t *src)
{
    /* too many directories to be cheap, or a failure: the caller counts */
    if (!dirs_walk(src))
        return NULL;
    g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);
    for (guint i = 0; i < src->dirs->len; i++) {
        const dir_entry_t *d = g_ptr_array_index(src->dirs, i);
        char buf[96];
        g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT ".%09ld",
                   d->nm_mtime, d->fs_sec, d->fs_nsec);
        g_checksum_update(ck, (const guchar *)d->rel, (gssize)strlen(d->rel) + 1);
        g_checksum_update(ck, (const guchar *)buf, -1);
        g_checksum_update(ck, (const guchar *)"\n", 1);
    }
    return g_strdup(g_checksum_get_string(ck));
}

/* ------------------------------------------------------------ removals
 *
 * Removing a message leaves notmuch's revision as it was, and counting
 * every message to see it costs a walk of every document (~230 M
 * instructions at 160k).  The state keeps instead, with each save, a table
 * of the directories notmuch holds (dir_entry_t: modification times and,
 * where known, the number of files notmuch holds in each) as this
 * snapshot has them, under the revision read at open (notmuch's newest
 * lastmod when the handle opened: the snapshot holds at least that).
 *
 * A directory is unchanged since the save when its two modification times
 * are those of the table and the table's were equal (notmuch's mtime is
 * the second the directory was last changed when notmuch new looked at it
 * in a later second: every change of that second was seen, and any later
 * change gives the directory a later mtime of its own; notmuch new keeps
 * the old mtime when it looks within the same second, and then the two
 * differ).  Its files are the table's.  The other directories are counted
 * now (a term scan each: what a small budget allows).
 *
 * Then, with F the files of the messages changed since the table's
 * revision (the lastmod range): a file in the database now that was not
 * there at the save belongs to a message of the range (adding a file to a
 * message writes it), so files(now) <= files(save) - removed + F.  When
 * files(now) == files(save) + F, no file was removed, and every file of
 * the range is new: no message left the database and every message of the
 * range is new (an old one would still have its old file), so the count of
 * messages is the saved one plus the range.  Any doubt (a directory not
 * counted, one the table does not know, a vanished one without a count, a
 * file outside the walked tree, a tag changed on an old message) makes the
 * sums differ or unknown, and the caller counts the messages. */
#define DIR_TABLE_HEADER "bouncewatch-dirs 1"
#define DIR_TABLE_MAX_LINE 8192u
#define DIR_TABLE_SMALL 256u      /* files counted when no removal is asked about */

/* Files notmuch holds in the directory `rel` under `root`, or -1 when
 * there are more than `max` (not worth counting) or the read failed. */
static gint64
count_directory_files(bw_nm_source_t *src, const char *root, const char *rel, guint64 max)
{
    g_autofree char *path = *rel ? g_strconcat(root, "/", rel, NULL) : g_strdup(root);
    notmuch_directory_t *dir = NULL;
    notmuch_status_t nst = notmuch_database_get_directory(src->db, path, &dir);
    if (nst != NOTMUCH_STATUS_SUCCESS) {
        mark_failed(src, nst);
        return -1;
    }
    if (dir == NULL)
        return -1;
    guint64 n = 0;
    notmuch_filenames_t *names = notmuch_directory_get_child_files(dir);
    for (; names && notmuch_filenames_valid(names) && n <= max;
         notmuch_filenames_move_to_next(names))
        n++;
    if (names)
        notmuch_filenames_destroy(names);
    notmuch_directory_destroy(dir);
    return n <= max ? (gint64)n : -1;
}

/* A table written by bw_nm_source_directory_table: rel -> dir_entry_t*
 * (owned), and its revision; NULL when there is none or it is damaged. */
static GHashTable *
dir_table_parse(const char *text, guint64 *rev)
{
    if (text == NULL || !g_str_has_prefix(text, DIR_TABLE_HEADER " "))
        return NULL;
    g_autoptr(GHashTable) t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dir_entry_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", MAX_DIRECTORIES + 2);
    if (!g_ascii_string_to_unsigned(lines[0] + strlen(DIR_TABLE_HEADER " "), 10, 0, G_MAXUINT64,
                                    rev, NULL))
        return NULL;
    for (guint i = 1; lines[i] != NULL; i++) {
        const char *l = lines[i];
        if (*l == '\0')
            continue;
        if (strlen(l) > DIR_TABLE_MAX_LINE || i > MAX_DIRECTORIES)
            return NULL;
        g_auto(GStrv) f = g_strsplit(l, " ", 5);
        gint64 files = 0, nm = 0, sec = 0, nsec = 0;
        if (g_strv_length(f) != 5 ||
            !g_ascii_string_to_signed(f[0], 10, -1, G_MAXINT64, &files, NULL) ||
            !g_ascii_string_to_signed(f[1], 10, G_MININT64, G_MAXINT64, &nm, NULL) ||
            !g_ascii_string_to_signed(f[2], 10, G_MININT64, G_MAXINT64, &sec, NULL) ||
            !g_ascii_string_to_signed(f[3], 10, 0, 999999999, &nsec, NULL))
            return NULL;
        dir_entry_t *d = g_new0(dir_entry_t, 1);
        d->rel = g_strcompress(f[4]);
        d->nm_mtime = nm;
        d->fs_sec = sec;
        d->fs_nsec = (long)nsec;
        d->files = files;
        if (g_hash_table_contains(t, d->rel)) {
            dir_entry_free(d);
            return NULL;
        }
        g_hash_table_insert(t, d->rel, d);
    }
    return g_steal_pointer(&t);
}

/* The saved directory is this one, unchanged since (see above). */
static bool
dir_unchanged(const dir_entry_t *old, const dir_entry_t *now)
{
    return old->nm_mtime == old->fs_sec && now->fs_sec != 0 && old->nm_mtime == now->nm_mtime &&
           old->fs_sec == now->fs_sec && old->fs_nsec == now->fs_nsec;
}

/* Sets the count of each walked directory: the saved one when unchanged,
 * counted within `budget` files otherwise (-1 past it, or with no table).
 * *known: every changed, new or vanished directory has both counts; then
 * *delta is files(now) - files(saved). */
static void
dir_counts(bw_nm_source_t *src, GHashTable *old, guint64 budget, bool *known, gint64 *delta)
{
    *known = old != NULL;
    *delta = 0;
    const char *root = mail_root(src);
    guint64 spent = 0;
    for (guint i = 0; i < src->dirs->len; i++) {
        dir_entry_t *d = g_ptr_array_index(src->dirs, i);
        dir_entry_t *o = old ? g_hash_table_lookup(old, d->rel) : NULL;
        if (o != NULL && dir_unchanged(o, d)) {
            d->files = o->files;
            g_hash_table_remove(old, d->rel);
            continue;
        }
        d->files = -1;
        /* notmuch lists every file of a directory before the first is
         * counted: one that held more than the budget at the save is not
         * worth it (~230 M instructions for 75k files), it stays unknown */
        bool big = o != NULL && o->files >= 0 && spent < budget &&
                   (guint64)o->files > budget - spent;
        if (old != NULL && spent < budget && !big) {
            d->files = count_directory_files(src, root, d->rel, budget - spent);
            if (d->files >= 0)
                spent += (guint64)d->files;
            else
                spent = budget;
        }
        if (d->files < 0 || (o != NULL && o->files < 0))
            *known = false;
        else
            *delta += d->files - (o ? o->files : 0);
        if (o != NULL)
            g_hash_table_remove(old, d->rel);
    }
    if (old == NULL)
        return;
    /* directories gone since */
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, old);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const dir_entry_t *o = v;
        if (o->files < 0)
            *known = false;
        else
            *delta -= o->files;
    }
}


bool
bw_nm_source_none_removed_known(bw_nm_source_t *src, guint64 after_rev, const char *saved_table,
                                guint64 saved_messages, guint64 fresh, gint64 expected)
{
    GPtrArray *range = range_list(src, after_rev);
    if (range == NULL || !dirs_walk(src) || src->dirs_counted || expected == G_MININT64)
        return false;
    guint64 rev = 0;
    g_autoptr(GHashTable) old = dir_table_parse(saved_table, &rev);
    bool known = false;
    gint64 delta = 0;
    /* Counting files costs about twice what counting messages does per
     * item: a quarter of the messages at most. */
    dir_counts(src, old, saved_messages / 4 + 256, &known, &delta);
    src->dirs_counted = true;
    if (old == NULL || rev != after_rev || !known || delta != expected ||
        src->failed != NOTMUCH_STATUS_SUCCESS)
        return false;
    src->total = (gint64)(saved_messages + fresh);
    return true;
}

bool
bw_nm_source_dirs_derive(bw_nm_source_t *src, guint64 after_rev, const char *saved_table,
                         gint64 expected)
{
    if (!src->dirs_counted || src->dirs == NULL || expected == G_MININT64 ||
        src->failed != NOTMUCH_STATUS_SUCCESS)
        return false;
    guint64 rev = 0;
    g_autoptr(GHashTable) old = dir_table_parse(saved_table, &rev);
    if (old == NULL || rev != after_rev)
        return false;
    /* the files of the save: every directory of its table known */
    gint64 saved = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, old);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const dir_entry_t *o = v;
        if (o->files < 0 || o->files > G_MAXINT32)
            return false;
        saved += o->files;
    }
    /* the walked directories now: one unknown, the others known */
    dir_entry_t *unknown = NULL;
    gint64 others = 0;
    for (guint i = 0; i < src->dirs->len; i++) {
        dir_entry_t *d = g_ptr_array_index(src->dirs, i);
        if (d->files >= 0) {
            others += d->files;
            continue;
        }
        if (unknown != NULL)
            return false;
        unknown = d;
    }
    if (unknown == NULL || expected > G_MAXINT32 || expected < -(gint64)G_MAXINT32)
        return false;
    gint64 files = saved + expected - others;
    if (files < 0)
        return false;
    unknown->files = files;
    return true;
}

/* The files of the changed directories of this open, counted once (those
 * holding more than `budget` files at the save stay unknown). */
static void
dirs_count_once(bw_nm_source_t *src, const char *saved_table, guint64 budget)
{
    if (src->dirs_counted)
        return;
    guint64 rev = 0;
    g_autoptr(GHashTable) old = dir_table_parse(saved_table, &rev);
    bool known = false;
    gint64 delta = 0;
    dir_counts(src, old, budget, &known, &delta);
    src->dirs_counted = true;
}

void
bw_nm_source_dirs_fill(bw_nm_source_t *src, const char *saved_table)
{
    if (!dirs_walk(src) || src->failed != NOTMUCH_STATUS_SUCCESS)
        return;
    dirs_count_once(src, saved_table, G_MAXUINT64);   /* no budget: every one */
    const char *root = mail_root(src);
    for (guint i = 0; root != NULL && i < src->dirs->len; i++) {
        dir_entry_t *d = g_ptr_array_index(src->dirs, i);
        if (d->files < 0)
            d->files = count_directory_files(src, root, d->rel, G_MAXUINT64 - 1);
    }
}

bool
bw_nm_source_range_known(bw_nm_source_t *src, guint64 after_rev, bw_nm_known_fn known,
                         void *data, guint64 *fresh, gint64 *expected)
{
    *fresh = 0;
    *expected = 0;
    GPtrArray *range = range_list(src, after_rev);
    if (range == NULL)
        return false;
    bool lost = false;
    src->range_has_old = false;
    for (guint i = 0; i < range->len; i++) {
        range_msg_t *r = g_ptr_array_index(range, i);
        bool found = false;
        guint before = 0;
        if (known != NULL && !known(data, r->c.message_id, &found, &before))
            return false;
        r->old = found;
        if (!found) {
            (*fresh)++;
            *expected += r->files;
            continue;
        }
        src->range_has_old = true;
        /* an old message with fewer files than it had (its loss could
         * hide a removed message's in the sums), or whose files the set
         * does not know (0: listed without them): the directories cannot
         * tell, the count does */
        if (r->files < before || before == 0)
            lost = true;
        *expected += (gint64)r->files - (gint64)before;
    }
    if (lost)
        *expected = G_MININT64;
    src->range_sorted = true;
    return true;
}

bool
bw_nm_source_range_each(bw_nm_source_t *src, guint64 after_rev,
                        void (*fn)(void *data, const char *message_id, guint files), void *data)
{
    GPtrArray *range = range_list(src, after_rev);
    if (range == NULL)
        return false;
    for (guint i = 0; i < range->len; i++) {
        const range_msg_t *r = g_ptr_array_index(range, i);
        fn(data, r->c.message_id, r->files);
    }
    return true;
}

void
bw_nm_source_answers(const bw_nm_source_t *src, unsigned *xapian, unsigned *notmuch)
{
    *xapian = src->xap_answers;
    *notmuch = src->nm_answers;
}

typedef struct {
    void (*fn)(void *data, const char *message_id, guint files);
    void *data;
} ids_call_t;

static void
ids_call(void *data, const char *message_id)
{
    ids_call_t *c = data;
    c->fn(c->data, message_id, 0);
}

bool
bw_nm_source_all_ids(bw_nm_source_t *src, void (*fn)(void *data, const char *message_id,
                                                     guint files), void *data)
{
    /* The value slot read in one stream (nm-xapian.h: the same strings as
     * below, the same checks, ~25x cheaper), when our handle is of this
     * snapshot; else, or when Xapian failed, through libnotmuch. */
    if (xap_ready(src)) {
        ids_call_t c = { fn, data };
        int r = bw_nm_xapian_each_id(src->xap, ids_call, &c);
        if (r >= 0) {
            src->xap_answers++;
            return r == 1 && src->failed == NOTMUCH_STATUS_SUCCESS;
        }
    }
    src->nm_answers++;
    notmuch_query_t *query = NULL;
    notmuch_messages_t *msgs = NULL;
    if (!search_new(src, "*", false, &query, &msgs)) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        return false;
    }
    /* Through libnotmuch: notmuch_message_get_message_id reads every term
     * of the document (~10 us each: 1.7 s at 160k); the Message-ID
     * notmuch keeps in a value
     * slot for sorting is one read (0.17 s), and is the same string (the
     * slot is set where the id is: the first messages are checked, and a
     * database without the slot makes notmuch read the file: then the
     * listing is given up).  An id read differently would only make an old
     * message look new: the count then finds one too many and the next
     * save lists again.  Files: not counted here (0; the caller stores
     * what the set may say: scan-read.c, "known ids"). */
    bool ok = true, unreadable = false;
    guint n = 0;
    for (; notmuch_messages_valid(msgs); notmuch_messages_move_to_next(msgs), n++) {
        notmuch_message_t *m = bw_nm_messages_get(msgs);
        /* NULL (of either getter) when reading the document failed */
        const char *id = m ? notmuch_message_get_header(m, "message-id") : NULL;
        const char *term = id != NULL && n < 64 ? notmuch_message_get_message_id(m) : id;
        bool failed = term == NULL;
        if (!failed && strcmp(id, term) != 0)
            id = NULL;
        if (failed || id == NULL || *id == '\0') {   /* unreadable, or not the id term */
            ok = false;
            unreadable = failed;
            if (m)
                notmuch_message_destroy(m);
            break;
        }
        fn(data, id, 0);
        notmuch_message_destroy(m);
    }
    notmuch_query_destroy(query);
    /* (a slot that is not the id is a reason to give the listing up, not a
     * failure of the database) */
    if (unreadable)
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
    return ok && src->failed == NOTMUCH_STATUS_SUCCESS;
}

/* SipHash-2-4 (Aumasson and Bernstein) through libsodium's crypto_shorthash:
 * a keyed 64-bit hash; without the key, Message-IDs that collide cannot be
 * made on purpose.  Its 8 bytes are read little-endian, as the reference
 * implementation returns the value (the stored sets hold these values). */
guint64
bw_nm_id_hash(const guint8 key[16], const char *message_id)
{
    G_STATIC_ASSERT(crypto_shorthash_siphash24_KEYBYTES == 16);
    unsigned char out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, (const unsigned char *)message_id, strlen(message_id), key);
    guint64 v = 0;
    for (int i = (int)sizeof out - 1; i >= 0; i--)
        v = (v << 8) | out[i];
    return v;
}

char *
bw_nm_source_directory_table(bw_nm_source_t *src, guint64 revision, const char *saved_table)
{
    if (!dirs_walk(src))
        return NULL;
    /* the saved counts of the unchanged directories; of the others, only
     * the small ones are counted (a folder's parent, whose mtime moves when
     * a folder is added) */
    dirs_count_once(src, saved_table, DIR_TABLE_SMALL);
    /* what a walk of every file of this snapshot counted (a full scan) */
    for (guint i = 0; src->walk_counts && i < src->dirs->len; i++) {
        dir_entry_t *d = g_ptr_array_index(src->dirs, i);
        gpointer n = g_hash_table_lookup(src->walk_counts, d->rel);
        if (d->files < 0 && n != NULL)
            d->files = (gint64)GPOINTER_TO_UINT(n) - 1;
    }
    GString *t = g_string_new(NULL);
    g_string_append_printf(t, DIR_TABLE_HEADER " %" G_GUINT64_FORMAT "\n", revision);
    for (guint i = 0; i < src->dirs->len; i++) {
        const dir_entry_t *d = g_ptr_array_index(src->dirs, i);
        g_autofree char *rel = g_strescape(d->rel, NULL);
        g_string_append_printf(t, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                               " %ld %s\n", d->files, d->nm_mtime, d->fs_sec, d->fs_nsec, rel);
    }
    return g_string_free(t, FALSE);
}

typedef struct {
    GPtrArray *files;            /* every file's path */
    GHashTable *counts;          /* rel -> files in it (GINT_TO_POINTER(n + 1)) */
} file_walk_t;

static void
list_directory_files(void *data, const char *rel, const char *path, notmuch_directory_t *dir)
{
    file_walk_t *w = data;
    guint before = w->files->len;
    notmuch_filenames_t *names = notmuch_directory_get_child_files(dir);
    for (; names && notmuch_filenames_valid(names); notmuch_filenames_move_to_next(names)) {
        const char *name = notmuch_filenames_get(names);
        if (name != NULL)
            g_ptr_array_add(w->files, g_strconcat(path, "/", name, NULL));
    }
    if (names)
        notmuch_filenames_destroy(names);
    g_hash_table_insert(w->counts, g_strdup(rel), GUINT_TO_POINTER(w->files->len - before + 1));
}

bw_status_t
bw_nm_source_files(bw_nm_source_t *src, GPtrArray **out, char **detail)
{
    *out = NULL;
    /* a file's path as notmuch_message_get_filename builds it: the mail
     * root, the directory's path relative to it, the name */
    const char *root = mail_root(src);
    if (root == NULL)
        return BW_OK;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    file_walk_t w = { files, counts };
    switch (walk_directories(src, root, list_directory_files, &w)) {
    case WALK_TOO_BIG:
        return BW_OK;   /* not a tree to walk: the caller lists messages */
    case WALK_FAILED:
        return read_failed(src, src->failed, detail);
    case WALK_DONE:
        break;
    }
    /* what each directory holds, for the state's table of directories
     * (this snapshot's: a name NULL above would make it short, then the
     * table does not take it) */
    if (src->walk_counts == NULL) {
        guint listed = 0;
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, counts);
        while (g_hash_table_iter_next(&it, NULL, &v))
            listed += GPOINTER_TO_UINT(v) - 1;
        if (listed == files->len)
            src->walk_counts = g_steal_pointer(&counts);
    }
    *out = g_steal_pointer(&files);
    return BW_OK;
}

bw_status_t
bw_nm_source_file_message(bw_nm_source_t *src, const char *path, bw_nm_candidate_t **out,
                          bool *owners, char **detail)
{
    *out = NULL;
    *owners = false;
    notmuch_message_t *m = NULL;
    notmuch_status_t nst = notmuch_database_find_message_by_filename(src->db, path, &m);
    if (nst != NOTMUCH_STATUS_SUCCESS) {
        mark_failed(src, nst);
        return read_failed(src, src->failed, detail);
    }
    if (m == NULL)
        return BW_OK;
    /* "" when absent, NULL when reading the document failed */
    const char *from = notmuch_message_get_header(m, "from");
    *owners = from != NULL && is_owner(src, from);
    *out = from != NULL ? candidate_new(m) : NULL;
    notmuch_message_destroy(m);
    if (*out == NULL) {
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        return read_failed(src, src->failed, detail);
    }
    return BW_OK;
}

bw_status_t
bw_nm_source_message_files(bw_nm_source_t *src, const char *message_id, GPtrArray *out,
                           char **detail)
{
    notmuch_message_t *m = NULL;
    if (message_id == NULL)
        return BW_OK;
    notmuch_status_t nst = notmuch_database_find_message(src->db, message_id, &m);
    if (nst != NOTMUCH_STATUS_SUCCESS) {
        mark_failed(src, nst);
        return read_failed(src, src->failed, detail);
    }
    if (m == NULL)
        return BW_OK;
    notmuch_filenames_t *names = notmuch_message_get_filenames(m);
    if (names == NULL) {   /* reading the document failed */
        notmuch_message_destroy(m);
        mark_failed(src, NOTMUCH_STATUS_XAPIAN_EXCEPTION);
        return read_failed(src, src->failed, detail);
    }
    for (; notmuch_filenames_valid(names); notmuch_filenames_move_to_next(names)) {
        const char *name = notmuch_filenames_get(names);
        if (name != NULL)
            g_ptr_array_add(out, g_strdup(name));
    }
    notmuch_filenames_destroy(names);
    notmuch_message_destroy(m);
    return BW_OK;
}

guint64
bw_nm_source_count_sent(bw_nm_source_t *src)
{
    guint64 n = 0;
    if (src->owner_query != NULL && src->owner_count >= 0)
        return (guint64)src->owner_count;   /* counted by a full candidates pass */
    if (src->owner_query != NULL)
        (void)count_query(src, src->owner_query, &n);   /* failures are recorded */
    return n;
}

guint64
bw_nm_source_count_messages(bw_nm_source_t *src)
{
    if (src->total >= 0)
        return (guint64)src->total;
    guint64 count = 0;
    if (!count_every(src, &count))
        return 0;   /* the failure is recorded */
    src->total = (gint64)count;
    return count;
}
