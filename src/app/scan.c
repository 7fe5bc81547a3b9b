/* scan.c: one scan of the notmuch mailbox (see scanner.h): the stages of
 * scan-private.h, in order, with retries around them.
 *
 * Exactness of incremental runs.  A verdict depends on the report (stored)
 * and on the mailbox (sent mail, correspondents): new mail can change it.
 * So items store the parsed report, and whenever anything in the database
 * changed besides our own tags, every stored report is classified again
 * against the current mailbox (no file is parsed again), and campaigns,
 * surges and the assessment are rebuilt over all of them.  Only a run that
 * finds nothing new reuses the stored verdicts and campaigns as they are
 * (from the snapshot, recomputing what depends on "now").
 *
 * What a reclassification asks about the owner's sent mail depends on the
 * owner's messages only: while none of them changed (none in the lastmod
 * range, the same count) the sender profile and those answers are taken
 * from the last run instead of Xapian and the files (nm-source.h).  Only the
 * rows whose JSON changed are written again.  Removed messages do not move
 * notmuch's revision: the directory digest and the message count see them.
 *
 * Verdicts do not depend on the order reports are classified in: what the
 * owner's real mail teaches the profile (the provider of legitimate
 * originals, bw_classify_learn) is learnt from every report of the run
 * first, by date, and only then is each one classified (scan-classify.c). */
#include "config.h"
#include "scan-private.h"
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <utime.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
void
bw_scan_stamp_success(const char *state_path)
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
void
bw_scan_phase(const char *name)
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

void
bw_scan_notice(const bw_scanner_options_t *opts, const char *line)
{
    if (!opts->quiet && opts->notice && line)
        opts->notice(opts->notice_data, line);
}

unsigned
bw_scan_setting_uint(bw_nm_source_t *src, const char *key, unsigned dflt, unsigned max)
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
bw_status_t
bw_scan_check_owner(bw_nm_source_t *src, const bw_scanner_options_t *opts, char **detail)
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
char *
bw_scan_config_digest(bw_nm_source_t *src)
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

gint
bw_scan_item_cmp(gconstpointer a, gconstpointer b)
{
    const bw_item_t *x = *(bw_item_t *const *)a, *y = *(bw_item_t *const *)b;
    if (x->date_unix != y->date_unix)
        return x->date_unix < y->date_unix ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

/* Restrict a result to reports dated at or after `since`; campaigns and
 * surges keep their ids and figures but only those still active then are
 * listed. */
void
bw_scan_apply_since(bw_scan_result_t *r, gint64 since)
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

/* A fresh profile of the owner (addresses and configured relays only). */
bw_profile_t *
bw_scan_profile_new(bw_nm_source_t *src)
{
    g_auto(GStrv) relays = setting_list(src, "relays");
    return bw_profile_new(bw_nm_source_owners(src), (const char *const *)relays);
}

void
bw_scan_account_unchanged(bw_scan_t *s)
{
    /* Nothing new, but the revision moved (only our own tags) or the
     * directory digest did (a file renamed, nothing removed): remember them,
     * so the next run does not look again. */
    bool dirs_moved = s->dirs != NULL && g_strcmp0(s->dirs, s->saved_dirs) != 0;
    if (s->after == s->revision && !dirs_moved)
        return;
    bw_test_gate("BOUNCEWATCH_TEST_SAVE_GATE");
    if (bw_store_begin(s->store, NULL) != BW_OK)
        return;
    /* Not over another run's save: the revision, the table of directories
     * and the files of the known ids (scan-read.c) would be this older
     * snapshot's under that save's count and set, whose sums could then
     * cancel a removal.  That save's state is whole: it stays. */
    g_autofree char *rev_now = NULL;
    bw_store_get_meta(s->store, "revision", &rev_now);
    if (bw_scan_others_saved(s, rev_now)) {
        bw_store_rollback(s->store);
        return;
    }
    g_autofree char *rev_text = g_strdup_printf("%" G_GUINT64_FORMAT, s->revision);
    /* the table of directories goes with the revision (nm-source.h) */
    g_autofree char *dir_files = bw_nm_source_directory_table(s->src, s->revision,
                                                              s->saved_dir_files);
    /* the files of the range's messages go with the table (scan-read.c,
     * "known ids"); all of it read of this run's snapshot (the table and
     * the range may be read only now: bw_nm_source_snapshot_held), else
     * nothing is written and the next run accounts for them */
    if (bw_store_set_meta(s->store, "revision", rev_text) == BW_OK &&
        bw_store_set_meta(s->store, "dir_files", dir_files) == BW_OK &&
        (!s->known_ready || bw_scan_known_ids_save(s, false, false) == BW_OK) &&
        (!dirs_moved || bw_store_set_meta(s->store, "dirs", s->dirs) == BW_OK) &&
        bw_nm_source_snapshot_held(s->src))
        bw_store_commit(s->store, NULL);
    else
        bw_store_rollback(s->store);
}

bw_status_t
bw_scan_restart_full(bw_scan_t *s, char **msg, bw_scan_result_t **out, char **detail)
{
    g_clear_pointer(msg, g_free);
    bw_status_t st = bw_store_reset(s->store, msg, detail);
    if (st != BW_OK)
        return st;
    bw_scan_notice(s->opts, *msg);
    bw_scanner_options_t again = *s->opts;
    again.full = true;
    /* The store is reopened by the recursive run: close ours. */
    g_clear_pointer(&s->store, bw_store_close);
    g_clear_pointer(&s->src, bw_nm_source_close);
    bw_scan_result_t *r = NULL;
    st = bw_scanner_run(&again, &r, detail);
    *out = r;
    return st;
}

#if defined(__SANITIZE_ADDRESS__)
#define FREE_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define FREE_AT_EXIT 1
#endif
#endif

/* At 160k messages freeing the hook's result and scan item by item cost
 * ~15 M instructions (~8k per stored report: its strings, recipients and
 * lists), just before exit() gives all of it back at once. */
bool
bw_scanner_leaves_memory(const bw_scanner_options_t *opts)
{
#ifdef FREE_AT_EXIT
    (void)opts;
    return false;
#else
    return opts != NULL && opts->process_exits;
#endif
}

void
bw_scan_clear(bw_scan_t *s)
{
    if (s->leave_memory) {
        /* only what is more than memory: the reader process, the state's
         * and the database's handles (their writes and locks) */
        g_clear_pointer(&s->reader, bw_reader_free);
        g_clear_pointer(&s->store, bw_store_close);
        g_clear_pointer(&s->src, bw_nm_source_close_at_exit);
        return;
    }
    g_clear_pointer(&s->reader, bw_reader_free);
    g_clear_pointer(&s->items, g_ptr_array_unref);
    g_clear_pointer(&s->campaigns, g_ptr_array_unref);
    g_clear_pointer(&s->surges, g_ptr_array_unref);
    g_clear_pointer(&s->have, g_hash_table_unref);
    g_clear_pointer(&s->stored_questions, g_ptr_array_unref);
    bw_scan_rows_clear(s);
    g_clear_pointer(&s->unchanged, g_free);
    g_clear_pointer(&s->profile_digest, g_free);
    g_clear_pointer(&s->verdict_digest, g_free);
    g_clear_pointer(&s->taught, g_ptr_array_unref);
    g_clear_pointer(&s->pass_reports, g_hash_table_unref);
    g_clear_pointer(&s->teaches, g_hash_table_unref);
    bw_scan_from_keys_free(s);
    g_clear_pointer(&s->vanished, g_ptr_array_unref);
    g_clear_pointer(&s->parsed, g_ptr_array_unref);
    g_clear_pointer(&s->sent, g_ptr_array_unref);
    g_clear_pointer(&s->sent_snap, g_variant_unref);
    bw_signals_run_clear(&s->sig);
    g_clear_pointer(&s->profile, bw_profile_free);
    g_clear_pointer(&s->fresh, g_ptr_array_unref);
    g_clear_pointer(&s->retried, g_ptr_array_unref);
    g_clear_pointer(&s->moved, g_hash_table_unref);
    bw_scan_skips_clear(&s->skips);
    g_clear_pointer(&s->candidates, g_ptr_array_unref);
    g_clear_pointer(&s->saved_uuid, g_free);
    g_clear_pointer(&s->saved_rev, g_free);
    g_clear_pointer(&s->saves_read, g_free);
    g_clear_pointer(&s->saved_dirs, g_free);
    g_clear_pointer(&s->cfg, g_free);
    g_clear_pointer(&s->dirs, g_free);
    g_clear_pointer(&s->saved_dir_files, g_free);
    g_clear_pointer(&s->store, bw_store_close);
    g_clear_pointer(&s->src, bw_nm_source_close);
}

/* Mail files stay where notmuch put them, but notmuch 0.37 can fail any read
 * while `notmuch new` commits (see nm-source.h): the whole read phase is
 * then done again on a fresh open, at most this many times.  A slow scan
 * (a big mailbox, a sanitizer build) can overlap several commits of a busy
 * `notmuch new`, so the waits between attempts grow, up to READ_RETRY_MAX_US
 * each (about 5 s of waiting in all before giving up). */
#define MAX_READ_ATTEMPTS 10u
#define READ_RETRY_MAX_US 800000u

/* For a later run with nothing new (bw_scan_quiet): the newest signal of
 * the signals' incident, which alerts while it is recent (notify.h), or 0
 * without one.  Written only when it changed. */
static void
remember_incident(bw_scan_t *s, const bw_scan_result_t *r)
{
    const bw_signals_assessment_t *sa = r->signals_assessment;
    gint64 last = sa != NULL && sa->compromise && sa->incident_key != NULL
                      ? MAX(sa->incident_last, sa->incident_start) : 0;
    g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, last);
    g_autofree char *stored = NULL;
    bw_store_get_meta(s->store, "incident_last", &stored);
    if (g_strcmp0(stored, text) == 0 || bw_store_begin(s->store, NULL) != BW_OK)
        return;
    if (bw_store_set_meta(s->store, "incident_last", text) == BW_OK)
        bw_store_commit(s->store, NULL);
    else
        bw_store_rollback(s->store);
}

/* assess: the result of the run, the assessment computed over it. */
static bw_status_t
stage_assess(bw_scan_t *s, bw_scan_result_t **out, char **detail)
{
    bw_scan_result_t *r = g_new0(bw_scan_result_t, 1);
    r->database = g_strdup(bw_nm_source_path(s->src));
    r->revision = s->revision;
    r->messages_examined = s->total;
    r->items = g_steal_pointer(&s->items);
    r->campaigns = g_steal_pointer(&s->campaigns);
    r->surges = g_steal_pointer(&s->surges);
    r->skipped = bw_scan_skips_result(&s->skips);
    if (s->opts->since > 0)
        bw_scan_apply_since(r, s->opts->since);
    /* The legitimate reports whose originals the learning pass learnt
     * from (bw_assess_learnt does not read them again): each report the
     * pass went over that teaches (the same question, the same cached
     * answers: the store stage asked it of every item, s->teaches)
     * had all its lessons learnt then, and the profile has only grown
     * since.  Reports are told by their address: every item here holds a
     * report the pass went over (classify hands each on to its item),
     * unless the store stage took in another run's items; then none is
     * told. */
    g_autoptr(GHashTable) learnt = NULL;
    if (s->pass_reports != NULL && !s->took_theirs) {
        learnt = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (guint i = 0; i < r->items->len; i++) {
            bw_item_t *it = g_ptr_array_index(r->items, i);
            if (it->klass == BW_CLASS_LEGITIMATE && it->report != NULL &&
                g_hash_table_contains(s->pass_reports, it->report) &&
                (s->teaches != NULL ? g_hash_table_contains(s->teaches, it)
                                    : bw_classify_learn(NULL, &s->ops, it->report)))
                g_hash_table_add(learnt, it);
        }
    }
    bw_status_t st = bw_assess_learnt(s->profile, r->items, r->campaigns, r->surges,
                                      s->opts->now, learnt, &r->assessment);
    if (st == BW_OK)
        st = bw_signals_stage_assess(&s->sig, r, NULL);
    if (st == BW_OK && s->opts->since == 0)
        remember_incident(s, r);
    if (st != BW_OK) {
        bw_scan_result_free(r);
        return bw_error_set(detail, st, "%s", _("the assessment failed"));
    }
    bw_scan_phase("assess");
    *out = r;
    return BW_OK;
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
    g_auto(bw_scan_t) s = { 0 };
    s.opts = opts;
    s.run_culprits = run_culprits;
    bw_status_t st = bw_scan_stage_read(&s, retry, detail);
    if (st != BW_OK)
        return st;
    s.profile = bw_scan_profile_new(s.src);
    if (s.profile == NULL)
        return bw_error_set(detail, BW_E_NOMEM, "%s", _("cannot build the sender profile"));

    if (opts->skip_unchanged && bw_scan_quiet(&s)) {
        /* The caller (the post-new hook) only acts on new reports and
         * surges under way: there are none, and no tags are owed. */
        bw_scan_account_unchanged(&s);
        bw_scan_phase("unchanged");
        return BW_OK;
    }
    if (opts->skip_unchanged && bw_scan_settled(&s)) {
        /* A surge or an incident may be under way, but every alert it
         * calls for at this "now" is already recorded as shown, by a run
         * that saw this same state (scan-read.c: bw_scan_settled). */
        bw_scan_account_unchanged(&s);
        bw_scan_phase("settled");
        return BW_OK;
    }
    if (s.nothing_new && json_out != NULL && !opts->tag) {
        /* Only "now" (or --since) can differ from the last run: the
         * snapshot has all the rest.  (--tag goes the long way: the tags
         * of a run that could not write them are still owed.) */
        g_autoptr(bw_profile_t) p = bw_scan_profile_new(s.src);
        char *doc = p ? bw_snapshot_document(&s, p) : NULL;
        /* (it asks the database about the stored signals: still the
         * read stage's snapshot?) */
        if (doc != NULL && !bw_nm_source_snapshot_held(s.src)) {
            g_free(doc);
            *retry = bw_nm_source_failed(s.src, detail);
            return BW_E_DATABASE;
        }
        if (doc != NULL) {
            bw_scan_account_unchanged(&s);
            bw_scan_phase("snapshot");
            *json_out = doc;
            *json_revision = s.revision;
            return BW_OK;
        }
    }
    if (s.nothing_new) {
        st = bw_scan_stage_load(&s, out, retry, detail);
        if (st != BW_OK || *out != NULL)
            return st;
    } else {
        st = bw_scan_stage_profile(&s, retry, detail);
        if (st == BW_OK)
            st = bw_scan_stage_signals(&s, retry, detail);
        if (st == BW_OK)
            st = bw_scan_stage_parse(&s, detail);
        if (st == BW_OK)
            st = bw_scan_stage_classify(&s, out, retry, detail);
        if (st != BW_OK || *out != NULL)
            return st;
        st = bw_scan_stage_store(&s, retry, detail);
        if (st != BW_OK && s.unslim_failed) {
            /* (rolled back) a stored row does not read: rebuilt from the
             * mail, as the classify stage does */
            if (detail != NULL)
                g_clear_pointer(detail, g_free);
            g_autofree char *msg = NULL;
            return bw_scan_restart_full(&s, &msg, out, detail);
        }
        if (st != BW_OK)
            return st;
    }
    st = bw_scan_stage_detect(&s, detail);
    if (st != BW_OK)
        return st;
    bw_scan_stage_tag(&s);
    st = stage_assess(&s, out, detail);
    if (st == BW_OK && opts->state_save_out != NULL)
        *opts->state_save_out = s.saves;
    if (st == BW_OK && opts->store_out != NULL && *opts->store_out == NULL)
        *opts->store_out = g_steal_pointer(&s.store);
    s.leave_memory = st == BW_OK && bw_scanner_leaves_memory(opts);
    return st;
}

/* scan_once() until it does not ask to be retried, each time on a fresh
 * open of the notmuch database. */
bw_status_t
bw_scan_run_retrying(const bw_scanner_options_t *opts, bw_scan_result_t **out, char **json_out,
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
                bw_scan_stamp_success(opts->state_path);
            return msg ? bw_error_set(detail, st, "%s", msg) : st;
        }
        bw_scan_phase("retry");   /* BOUNCEWATCH_DEBUG_TIMING shows how often */
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
    return bw_scan_run_retrying(opts, out, NULL, NULL, detail);
}
