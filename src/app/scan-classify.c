/* scan-classify.c: the profile and classify stages, and the load of the
 * stored verdicts when nothing is new (scan-private.h). */
#include "config.h"
#include "scan-private.h"
#include "ops-record.h"
#include <string.h>

/* How far before "now" a full scan looks for the owner's newest sent
 * messages first (bw_scan_stage_profile). */
#define SENT_SAMPLE_GUESS_S (7 * 86400)

bw_status_t
bw_scan_stage_profile(bw_scan_t *s, bool *retry, char **detail)
{
    bw_nm_source_mailbox_ops(s->src, &s->ops);
    unsigned sample = bw_scan_setting_uint(s->src, "profile_sample", DEFAULT_PROFILE_SAMPLE,
                                           MAX_PROFILE_SAMPLE);
    s->sent = g_ptr_array_new_with_free_func((GDestroyNotify)bw_sent_mail_free);
    /* The profile learns from the newest sent messages.  When none of
     * the owner's mail changed (none in the lastmod range, none deleted:
     * the same count), they are the ones the last run learnt from: take
     * them from the snapshot instead of parsing the files again.  Not
     * when skipped messages are read again (one may be in the sample). */
    g_autofree char *saved_sent = NULL;
    bw_store_get_meta(s->store, "sent_messages", &saved_sent);
    /* Counting them walks every one (~40 ms at 26k): when none was added
     * (none from the owner in the range) and none removed, the count is
     * the saved one. */
    guint64 grown = 0;
    if (!s->full && !s->config_changed && !s->sent_changed && s->none_removed &&
        saved_sent != NULL)
        s->sent_total = g_ascii_strtoull(saved_sent, NULL, 10);
    else if (!s->full && !s->config_changed && s->none_removed && saved_sent != NULL &&
             bw_nm_source_sent_count_grown(s->src, g_ascii_strtoull(saved_sent, NULL, 10),
                                           &grown))
    {
        /* Some added, none removed (the owner sent mail): the saved count
         * and the new ones, counted by the read stage among the range's
         * (225 M instructions to count them all at 26k) */
        s->sent_total = grown;
        s->sent_grown = true;
    }
    else
        s->sent_total = bw_nm_source_count_sent(s->src);
    g_autoptr(GVariant) prev = NULL;
    if (!s->full && !s->config_changed && !s->sent_changed && s->retried->len == 0 &&
        saved_sent != NULL &&
        g_ascii_strtoull(saved_sent, NULL, 10) == s->sent_total &&
        !bw_nm_source_failed(s->src, NULL))
        prev = bw_snapshot_sent_variant(s->store);
    if (prev != NULL) {
        /* s->sent is left empty: the save keeps these bytes
         * (scan-store.c) */
        bw_snapshot_sent(prev, s->profile, NULL);
        s->sent_as_snapshot = true;
        s->sent_snap = g_variant_ref(prev);
        /* The same sent mail: the last run's answers about it hold. */
        g_autoptr(GBytes) answers = NULL;
        if (bw_store_get_sent_answers(s->store, &answers) == BW_OK)
            bw_nm_source_import_sent_answers(s->src, answers);
    } else {
        /* The owner's mail changed (most often: one more sent): the
         * sample is listed from the last one's oldest date on, when that
         * gives a whole sample (bw_nm_source_sent_sample). */
        gint64 since = 0;
        g_autoptr(GVariant) last = !s->full && !s->config_changed
                                   ? bw_snapshot_sent_variant(s->store) : NULL;
        if (last != NULL && bw_snapshot_sent_oldest(last, &since) < sample)
            since = 0;
        /* Without such a date (a full scan), the last week before "now"
         * first: any date gives the same sample (bw_nm_source_sent_sample
         * lists every message when those from it on are fewer than a
         * sample), and the full sorted listing cost ~320 M instructions at
         * 26k sent messages, the week's ~110 M at ~1,500 (mine-100); with
         * fewer in the week, the week's query is the waste (its cost
         * follows the owner's messages, as the full listing's). */
        if (since == 0 && s->opts->now > SENT_SAMPLE_GUESS_S)
            since = s->opts->now - SENT_SAMPLE_GUESS_S;
        bw_status_t st = bw_scan_learn_profile(s, s->profile, sample, since, s->sent, detail);
        if (st != BW_OK) {
            *retry = bw_nm_source_failed(s->src, NULL);
            return st;
        }
    }
    bw_scan_phase("profile");
    return BW_OK;
}

bw_status_t
bw_scan_stage_signals(bw_scan_t *s, bool *retry, char **detail)
{
    bw_signals_reading_t reading;
    bw_scan_signals_reading(s, &reading);
    bw_status_t st = bw_signals_stage_run(&s->sig, s->src, s->store, s->profile, NULL, &s->ops,
                                          &reading,
                                          s->full ? BW_SIGNALS_READ_ALL : BW_SIGNALS_READ_RANGE,
                                          s->after, detail);
    if (st != BW_OK) {
        *retry = bw_nm_source_failed(s->src, NULL);
        return st;
    }
    bw_scan_phase(bw_signals_phase(&s->sig));
    return BW_OK;
}

bw_scan_row_t *
bw_scan_row_new(bw_scan_t *s, const bw_item_t *it, char *questions)
{
    if (s->row_blocks == NULL || s->row_used == BW_SCAN_ROW_BLOCK) {
        if (s->row_blocks == NULL)
            s->row_blocks = g_ptr_array_new();
        g_ptr_array_add(s->row_blocks, g_new0(bw_scan_row_t, BW_SCAN_ROW_BLOCK));
        s->row_used = 0;
    }
    bw_scan_row_t *row =
        (bw_scan_row_t *)g_ptr_array_index(s->row_blocks, s->row_blocks->len - 1) + s->row_used++;
    row->questions = questions;
    row->kept = NULL;
    row->verdict.klass = it->klass;
    row->verdict.score = it->score;
    row->verdict.evidence = it->evidence ? it->evidence->len : 0;
    g_hash_table_replace(s->rows, (gpointer)it, row);
    return row;
}

void
bw_scan_rows_clear(bw_scan_t *s)
{
    g_clear_pointer(&s->rows, g_hash_table_unref);
    for (guint b = 0; s->row_blocks != NULL && b < s->row_blocks->len; b++) {
        bw_scan_row_t *block = g_ptr_array_index(s->row_blocks, b);
        guint used = b + 1 == s->row_blocks->len ? s->row_used : BW_SCAN_ROW_BLOCK;
        for (guint i = 0; i < used; i++)
            g_free(block[i].questions);
        g_free(block);
    }
    g_clear_pointer(&s->row_blocks, g_ptr_array_unref);
    s->row_used = 0;
    g_clear_pointer(&s->rows_names, g_string_chunk_free);
}

/* Classify a report, recording the questions it asks (its row record,
 * s->rows, with the verdict as classified). */
static bw_item_t *
classify_recorded(bw_scan_t *s, const char *message_id, const char *file, gint64 date,
                  bw_report_t *r)
{
    g_autoptr(bw_ops_record_t) rec = bw_ops_record_new(&s->ops);
    bw_item_t *item = NULL;
    if (bw_classify(s->profile, bw_ops_record_ops(rec), message_id, file, date, r, &item) != BW_OK)
        return NULL;
    bw_scan_row_new(s, item, bw_ops_record_to_text(rec));
    return item;
}

/* ------------------------------------------------------------ kept verdicts
 *
 * A stored verdict is a function of the report (stored), the profile and
 * the answers bw_classify got from the mailbox (bw_mailbox_ops_t), which
 * the row keeps with it (items.questions).  New mail can change an answer
 * only through what it is, so an incremental run keeps a stored verdict,
 * without computing it again, when:
 *   - the profile after the learning pass has the verdict digest the last
 *     save stored (bw_profile_verdict_digest: what bw_classify reads of
 *     it, the same owners, relays, key sets and lessons);
 *   - none of the owner's mail changed (no message from the owner in the
 *     lastmod range, the same count of them): the answers about sent mail
 *     (S C N H) hold; the last run's cache of them is used besides;
 *   - the runs in Sent are the memo's (the signals stage reused them): the
 *     sent-anomaly answers (A) hold;
 *   - each other question still gets its recorded answer.  Only those new
 *     mail can touch are asked again:
 *       M (a Message-ID is in the database): asked again when a changed
 *         message has that Message-ID, or when the answer was yes and a
 *         message may have been removed;
 *       R (messages from an address): asked again when the address could
 *         match the From of a changed message as notmuch's from: matches
 *         it (a phrase of its words: a message can match only if every word
 *         of the address is a word of its From; when a From notmuch may
 *         hold decoded or in another script is among them, notmuch is asked
 *         whether a changed message is from the address), or when the
 *         count was not 0 and a message may have been removed;
 *       S asked again when a changed message has that Message-ID;
 *       anything else is asked again.
 * And only a row the group stage left as bw_classify gave it is kept (the
 * stage promotes reports from the other items around them: a promoted
 * row is classified again by the next run, and grouped again).
 * Removed messages cannot turn a "no" into a "yes", and every "yes" is
 * asked again when a message may have been removed, so this is exact
 * whatever arrived or left.  T210 compares
 * such runs with full rescans. */
#define MAX_RANGE_KEYS 200000u
#define MAX_ITEM_QUESTIONS 4096u

#define MAX_ADDRESS_WORDS 64u
#define MAX_RANGE_FROM_COUNTS 65536u

typedef struct range_keys {
    GHashTable *ids;           /* Message-IDs of the changed messages */
    GPtrArray *from_words;     /* the words of each of their From headers (sets) */
    GHashTable *word_froms;    /* word -> GArray of indexes into from_words, ascending */
    bool any_from;             /* notmuch is asked (a From we cannot split, or
                                  From headers that are not all the range's From
                                  terms: range_keys_load) */
    bool none_removed;         /* no message left the database since the last save */
    bool sent_grown;           /* the owner's mail was only added (verdicts_keepable):
                                  S C N H A are checked against the range */
    bw_nm_source_t *src;       /* to ask it (bw_nm_source_range_from_count) */
    guint64 after;
    GHashTable *sent_zero;     /* 'C' or 'N' then the question's first argument:
                                  the C/N questions whose range count is 0
                                  (sent_batch), NULL when none was told */
    GHashTable *from_counts;   /* an R question's address -> its range count
                                  (bw_nm_source_range_from_count, + 1 so
                                  that -1 is not NULL), each asked once a
                                  run: the same query of the same range
                                  (many stored rows ask of one address) */
} range_keys_t;

static void
free_indexes(gpointer p)
{
    g_array_unref(p);
}

static void
range_keys_clear(range_keys_t *k)
{
    g_clear_pointer(&k->ids, g_hash_table_unref);
    g_clear_pointer(&k->from_words, g_ptr_array_unref);
    g_clear_pointer(&k->word_froms, g_hash_table_unref);
    g_clear_pointer(&k->sent_zero, g_hash_table_unref);
    g_clear_pointer(&k->from_counts, g_hash_table_unref);
}

/* Of the range's messages, how many are from `address`
 * (bw_nm_source_range_from_count, asked once a run for each address). */
static gint64
range_from_count(const range_keys_t *k, const char *address)
{
    if (k->from_counts != NULL) {
        gpointer v = NULL;
        if (g_hash_table_lookup_extended(k->from_counts, address, NULL, &v))
            return (gint64)GPOINTER_TO_SIZE(v) - 1;
    }
    gint64 n = bw_nm_source_range_from_count(k->src, k->after, address);
    /* (counts that do not fit a pointer are asked again each time) */
    if (k->from_counts != NULL && n >= -1 && (guint64)(n + 1) <= G_MAXUINT32 &&
        g_hash_table_size(k->from_counts) < MAX_RANGE_FROM_COUNTS)
        g_hash_table_insert(k->from_counts, g_strdup(address), GSIZE_TO_POINTER((gsize)(n + 1)));
    return n;
}

/* Each maximal run of ASCII letters and digits of `text`, lower-cased and
 * cut to 255 bytes (a word cut the same way on both sides: a match then
 * means "maybe", which is always safe), passed to `each` until it returns
 * FALSE (then FALSE).  Bounded by the text, which the caller bounds. */
static bool
for_words(const char *text, bool (*each)(void *data, const char *word), void *data)
{
    const char *p = text;
    char w[256];
    while (*p) {
        while (*p && !g_ascii_isalnum(*p))
            p++;
        size_t n = 0;
        while (g_ascii_isalnum(p[n]))
            n++;
        if (n == 0)
            break;
        size_t k = MIN(n, sizeof w - 1);
        for (size_t i = 0; i < k; i++)
            w[i] = g_ascii_tolower(p[i]);
        w[k] = '\0';
        if (!each(data, w))
            return false;
        p += n;
    }
    return true;
}

static bool
add_word(void *data, const char *word)
{
    g_hash_table_add(data, g_strdup(word));
    return true;
}

static bool
keep_word(void *data, const char *word)
{
    GPtrArray *words = data;
    if (words->len >= MAX_ADDRESS_WORDS)
        return false;
    g_ptr_array_add(words, g_strdup(word));
    return true;
}

static bool
range_keys_load(bw_scan_t *s, range_keys_t *k)
{
    g_autoptr(GPtrArray) froms = NULL;
    bool froms_whole = false;
    if (!bw_nm_source_range_keys(s->src, s->after, MAX_RANGE_KEYS, &k->ids, &froms, &froms_whole))
        return false;
    k->none_removed = s->none_removed;
    k->sent_grown = s->sent_grown && s->none_removed && bw_nm_source_range_all_new(s->src);
    /* The From headers tell what the range added to the index only when
     * every message of it is new and came as one file, which none_removed
     * proves of "new" (bw_nm_source_range_keys): else notmuch is asked
     * which of the range's messages are from the address (its From terms,
     * every file's). */
    k->any_from = !froms_whole || !s->none_removed;
    k->from_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    k->src = s->src;
    k->after = s->after;
    k->from_words = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
    k->word_froms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_indexes);
    for (guint i = 0; i < froms->len && !k->any_from; i++) {
        const char *f = g_ptr_array_index(froms, i);
        bool plain = strlen(f) < 4096 && strstr(f, "=?") == NULL;
        for (const char *c = f; plain && *c; c++)
            plain = (unsigned char)*c < 0x80;
        if (!plain) {
            k->any_from = true;
            break;
        }
        GHashTable *words = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for_words(f, add_word, words);
        guint index = k->from_words->len;
        g_ptr_array_add(k->from_words, words);
        GHashTableIter it;
        gpointer w;
        g_hash_table_iter_init(&it, words);
        while (g_hash_table_iter_next(&it, &w, NULL)) {
            GArray *at = g_hash_table_lookup(k->word_froms, w);
            if (at == NULL) {
                at = g_array_new(FALSE, FALSE, sizeof(guint));
                g_hash_table_insert(k->word_froms, g_strdup(w), at);
            }
            g_array_append_val(at, index);
        }
    }
    return true;
}

/* Whether some changed message's From holds every word of `address` (as
 * notmuch's from: needs of a message it matches): TRUE also when that
 * cannot be told (too many words, none). */
/* from_may_match's first look, through for_words(): how many words (it stops one
 * past MAX_ADDRESS_WORDS), and whether one of them is in no changed From. */
typedef struct {
    const range_keys_t *k;
    guint count;
    bool absent;
} absent_tally_t;

static bool
tally_word(void *data, const char *word)
{
    absent_tally_t *t = data;
    if (!t->absent)
        t->absent = !g_hash_table_contains(t->k->word_froms, word);
    return ++t->count <= MAX_ADDRESS_WORDS;
}

static bool
from_may_match(const range_keys_t *k, const char *address)
{
    /* The common answer first, without a copy: a word of the address that
     * no changed From holds (for_words() below would give the same words,
     * and the lookup below would say FALSE at it), unless there are too
     * many words or none (then TRUE below, as before). */
    absent_tally_t t = { k, 0, false };
    (void)for_words(address, tally_word, &t);
    if (t.count > 0 && t.count <= MAX_ADDRESS_WORDS && t.absent)
        return false;
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
    if (!for_words(address, keep_word, words) || words->len == 0)
        return true;
    /* the Froms that hold the rarest word, each asked for the others */
    GArray *fewest = NULL;
    for (guint i = 0; i < words->len; i++) {
        GArray *at = g_hash_table_lookup(k->word_froms, g_ptr_array_index(words, i));
        if (at == NULL)
            return false;
        if (fewest == NULL || at->len < fewest->len)
            fewest = at;
    }
    for (guint j = 0; j < fewest->len; j++) {
        GHashTable *from = g_ptr_array_index(k->from_words, g_array_index(fewest, guint, j));
        bool all = true;
        for (guint i = 0; i < words->len && all; i++)
            all = g_hash_table_contains(from, g_ptr_array_index(words, i));
        if (all)
            return true;
    }
    return false;
}

/* No run has saved since the read stage's read transaction (every save
 * moves the counter): what the state holds now is the save it read. */
static bool
no_save_since_read(bw_scan_t *s)
{
    g_autofree char *saves_now = NULL;
    bw_store_get_meta(s->store, "saves", &saves_now);
    return s->saves_read != NULL && g_strcmp0(saves_now, s->saves_read) == 0;
}

bool
bw_scan_from_count_kept(bw_scan_t *s, const char *address)
{
    if (s->full || !s->none_removed || address == NULL || *address == '\0')
        return false;
    if (!s->from_keys_tried) {
        s->from_keys_tried = true;
        /* The recorded counts are the save's this run read (the count and
         * the set of its read stage) only when no run has saved since:
         * asked once, after the caller has read them (the memo), as every
         * save writes the memo and moves the counter. */
        s->saves_same = no_save_since_read(s);
        range_keys_t *k = g_new0(range_keys_t, 1);
        if (range_keys_load(s, k)) {
            s->from_keys = k;
        } else {
            range_keys_clear(k);
            g_free(k);
        }
    }
    /* as must_ask keeps an R answer (below), with none removed */
    const range_keys_t *k = s->from_keys;
    return s->saves_same && k != NULL && !k->any_from && !from_may_match(k, address);
}

void
bw_scan_from_keys_free(bw_scan_t *s)
{
    if (s->from_keys != NULL) {
        range_keys_clear(s->from_keys);
        g_free(s->from_keys);
        s->from_keys = NULL;
    }
    s->from_keys_tried = false;
}

static bool sent_zero_told(const range_keys_t *k, char what, const char *arg);

static bool
must_ask(void *data, char what, const char *const *args, guint nargs, const char *answer)
{
    const range_keys_t *k = data;
    switch (what) {
    case 'C':
        /* The owner's messages to the address: with none removed and every
         * changed message new, the same set unless a changed message is
         * one of them (asked of the changed messages only). */
        if (!k->sent_grown)
            return false;
        if (nargs == 2 && sent_zero_told(k, 'C', args[0]))
            return false;
        return nargs != 2 || bw_nm_source_range_sent_to_count(k->src, k->after, args[0]) != 0;
    case 'N':
        /* The same for the owner's messages with the subject's words. */
        if (!k->sent_grown)
            return false;
        if (nargs == 3 && sent_zero_told(k, 'N', args[0]))
            return false;
        return nargs != 3 || bw_nm_source_range_sent_subject_count(k->src, k->after, args[0]) != 0;
    case 'H':
        /* Copies of sent mail only grow when none left and none changed:
         * a "yes" stays one (and the ops answer it so, without counting,
         * for a report classified again). */
        if (k->sent_grown && strcmp(answer, "1") == 0)
            bw_nm_source_sent_copies_kept(k->src);
        return k->sent_grown && strcmp(answer, "1") != 0;
    case 'A':
        /* The runs in Sent were found again: asked of them (a lookup). */
        return k->sent_grown;
    case 'S':
        return nargs == 1 && g_hash_table_contains(k->ids, args[0]);
    case 'M':
        if (!k->none_removed && strcmp(answer, "0") != 0)
            return true;
        return nargs != 1 || g_hash_table_contains(k->ids, args[0]);
    case 'R':
        if ((!k->none_removed && strcmp(answer, "0") != 0) || nargs != 1)
            return true;
        /* A From notmuch may hold decoded or in another script: notmuch
         * tells whether a changed message is from the address (-1: not
         * told, asked again). */
        if (k->any_from ? range_from_count(k, args[0]) == 0 : !from_may_match(k, args[0]))
            return false;
        /* Asked again.  With none removed and every changed message new,
         * the count is the recorded one (the count at the last save: each
         * run that kept it had it) plus the changed messages from the
         * address: the mailbox ops answer that instead of counting every
         * message from it again. */
        guint64 before = 0;
        if (k->none_removed && g_ascii_string_to_unsigned(answer, 10, 0, G_MAXUINT, &before, NULL))
            (void)bw_nm_source_from_count_grown(k->src, k->after, args[0], before);
        return true;
    default:
        return true;
    }
}

/* ------------------------------------------------------------ C/N range counts, batched
 *
 * Under sent_grown, must_ask asks of each recorded C and N question how
 * many of the range's owner messages match the op's query term (about
 * 170 k instructions each, 582 of them at 160k after one sent message).
 * Before the stored reports are rechecked, sent_batch gathers the distinct
 * C/N questions of the kept rows and asks them in chunks: one count of
 * "(owner messages of the range) and ((t1) or (t2) or ...)"
 * (bw_nm_source_range_sent_any).  The match set of an OR is the union of
 * its members' match sets, so the chunk counts 0 exactly when each member
 * alone counts 0: then every member is recorded as 0 (sent_zero), which is
 * what must_ask would have been told by asking it alone.  A chunk that
 * counts more is split in two and each half settled the same way; a single
 * member that counts more, a chunk that cannot be asked (-1: a term not of
 * the plain form prefix:"text", whose parse could depend on its
 * neighbours; a large range; notmuch failed) records nothing, and
 * must_ask asks those members one by one, as before.  So must_ask answers
 * from sent_zero only what the lone count would have said. */
#define SENT_BATCH 32u
#define MAX_SENT_BATCH_KEYS 65536u

static char *
sent_key(char what, const char *arg)
{
    return g_strdup_printf("%c%s", what, arg);
}

static bool
sent_zero_told(const range_keys_t *k, char what, const char *arg)
{
    if (k->sent_zero == NULL)
        return false;
    g_autofree char *key = sent_key(what, arg);
    return g_hash_table_contains(k->sent_zero, key);
}

static bool
collect_sent(void *data, char what, const char *const *args, guint nargs, const char *answer)
{
    (void)answer;
    GHashTable *seen = data;
    if (((what == 'C' && nargs == 2) || (what == 'N' && nargs == 3)) &&
        g_hash_table_size(seen) < MAX_SENT_BATCH_KEYS)
        g_hash_table_add(seen, sent_key(what, args[0]));
    return false;   /* only read: nothing is asked */
}

/* Settles keys[lo, hi): `n` is their count when known (the caller's
 * inference, see below), -1 to ask it. */
static void
sent_settle(range_keys_t *k, GPtrArray *keys, GPtrArray *queries, guint lo, guint hi, gint64 n)
{
    if (n < 0)
        n = bw_nm_source_range_sent_any(k->src, k->after,
                                        (const char *const *)queries->pdata + lo, hi - lo);
    if (n == 0) {
        for (guint i = lo; i < hi; i++)
            g_hash_table_add(k->sent_zero, g_strdup(g_ptr_array_index(keys, i)));
    } else if (n > 0 && hi - lo > 1) {
        /* Split in two (depth at most log2(SENT_BATCH)).  The union counts
         * more than 0: when the first half counts 0, the second half's own
         * count is more than 0 (its matches are the union's), which is all
         * that is used of it here, so it is not asked. */
        guint mid = lo + (hi - lo) / 2;
        gint64 first = bw_nm_source_range_sent_any(k->src, k->after,
                                                   (const char *const *)queries->pdata + lo,
                                                   mid - lo);
        sent_settle(k, keys, queries, lo, mid, first);
        sent_settle(k, keys, queries, mid, hi, first == 0 ? 1 : -1);
    }
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------ R range counts, batched
 *
 * When notmuch must be asked whether a changed message is from an address
 * (any_from: the range's From headers do not tell it), must_ask asked it
 * of each kept row's R question alone (bw_nm_source_range_from_count,
 * ~520 k instructions each: 294 distinct addresses, ~150 M, in a hook
 * after 10 new messages at 160k).  As sent_batch does for C and N: the
 * distinct addresses are asked in chunks, one count of "(the range) and
 * (from:a or from:b ...)"; a chunk that counts 0 records each member as
 * counting 0 (the union's matches are each member's: exactly what the
 * member alone counts then), one that counts more is split in two, and a
 * single member that counts more, or a chunk that cannot be asked (-1),
 * records nothing: must_ask asks those alone, as before
 * (range_from_count, which reads the recorded zeros). */
#define FROM_BATCH 32u
#define MAX_FROM_BATCH_KEYS 65536u

static bool
collect_from(void *data, char what, const char *const *args, guint nargs, const char *answer)
{
    GHashTable *seen = data;
    /* the R questions must_ask asks notmuch of (with none removed, or a
     * recorded 0; one argument, not empty) */
    if (what == 'R' && nargs == 1 && args[0] != NULL && *args[0] != '\0' && answer != NULL &&
        g_hash_table_size(seen) < MAX_FROM_BATCH_KEYS)
        g_hash_table_add(seen, g_strdup(args[0]));
    return false;   /* only read: nothing is asked */
}

/* Settles addrs[lo, hi): `n` is their count when known (see sent_settle),
 * -1 to ask it. */
static void
from_settle(range_keys_t *k, GPtrArray *addrs, guint lo, guint hi, gint64 n)
{
    if (n < 0)
        n = bw_nm_source_range_from_any(k->src, k->after,
                                        (const char *const *)addrs->pdata + lo, hi - lo);
    if (n == 0) {
        for (guint i = lo; i < hi; i++)
            if (g_hash_table_size(k->from_counts) < MAX_RANGE_FROM_COUNTS)
                g_hash_table_insert(k->from_counts, g_strdup(g_ptr_array_index(addrs, i)),
                                    GSIZE_TO_POINTER(1));   /* (0 + 1) */
    } else if (n > 0 && hi - lo > 1) {
        guint mid = lo + (hi - lo) / 2;
        gint64 first = bw_nm_source_range_from_any(k->src, k->after,
                                                   (const char *const *)addrs->pdata + lo,
                                                   mid - lo);
        from_settle(k, addrs, lo, mid, first);
        from_settle(k, addrs, mid, hi, first == 0 ? 1 : -1);
    }
}

/* The keys `collect` takes from the kept rows' recorded questions, into
 * `seen` (which owns them), and sorted in the array returned: one order, and
 * so the same batches, whatever the table's. */
static GPtrArray *
kept_question_keys(bw_scan_t *s, GArray *keep, bw_ops_recheck_fn collect, GHashTable *seen)
{
    for (guint j = 0; j < keep->len; j++) {
        const char *q = g_ptr_array_index(s->stored_questions, g_array_index(keep, guint, j));
        bool changed = false;
        if (q != NULL)
            (void)bw_ops_recheck_text(q, &s->ops, collect, seen, MAX_ITEM_QUESTIONS, &changed);
    }
    GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(seen));   /* borrowed */
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, seen);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(all, key);
    g_ptr_array_sort(all, cmp_str);
    return all;
}

static void
from_batch(bw_scan_t *s, range_keys_t *k, GArray *keep)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) all = kept_question_keys(s, keep, collect_from, seen);
    for (guint lo = 0; lo < all->len; lo += FROM_BATCH)
        from_settle(k, all, lo, MIN(lo + FROM_BATCH, all->len), -1);
}

static void
sent_batch(bw_scan_t *s, range_keys_t *k, GArray *keep)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) all = kept_question_keys(s, keep, collect_sent, seen);
    k->sent_zero = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    g_autoptr(GPtrArray) queries = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < all->len; i++) {
        const char *kk = g_ptr_array_index(all, i);
        char *q = bw_nm_source_range_sent_query(k->src, kk[0], kk + 1);
        if (q == NULL) {
            /* the lone count is 0 without asking */
            g_hash_table_add(k->sent_zero, g_strdup(kk));
            continue;
        }
        g_ptr_array_add(keys, (gpointer)kk);
        g_ptr_array_add(queries, q);
    }
    for (guint lo = 0; lo < keys->len; lo += SENT_BATCH)
        sent_settle(k, keys, queries, lo, MIN(lo + SENT_BATCH, keys->len), -1);
}

/* Whether stored verdicts may be kept at all in this run (see above). */
static bool
verdicts_keepable(bw_scan_t *s)
{
    if (s->full || s->config_changed || s->retried->len > 0 || s->verdict_digest == NULL)
        return false;
    /* The owner's mail changed: only when it was only added (none left,
     * every changed message new), and then its questions are checked
     * against the changed messages (must_ask, sent_grown). */
    bool grown = s->sent_changed && s->sent_grown && s->none_removed &&
                 bw_nm_source_range_all_new(s->src);
    if (s->sent_changed && !grown)
        return false;
    if (!s->sig.runs_reused && !grown)
        return false;
    g_autofree char *digest = NULL, *sent = NULL;
    bw_store_get_meta(s->store, "verdict_digest", &digest);
    bw_store_get_meta(s->store, "sent_messages", &sent);
    /* The stored answers are kept against what the read stage told of the
     * save it read (the range since, none removed): rows another run saved
     * since (loaded above, after its commit) answered for that run's
     * snapshot, older or newer than this one's, and none is kept then. */
    return no_save_since_read(s) && digest != NULL && strcmp(digest, s->verdict_digest) == 0 &&
           (grown || (sent != NULL && g_ascii_strtoull(sent, NULL, 10) == s->sent_total));
}

/* A report of this scan, for the learning pass. */
typedef struct {
    gint64 date;
    const char *message_id;
    const bw_report_t *report;
    bool stored;               /* a stored report (else new in this run) */
} lesson_t;

/* ------------------------------------------------------------ what the profile learnt
 *
 * The learning pass teaches the profile, after the sent sample, what the
 * originals of the owner's real mail say (bw_classify_learn), from every
 * report in one order: by date, then Message-ID.  Reading that from every
 * stored report cost each run the report's Received lines (84 M
 * instructions at 1M messages).  What it learns is a list of lessons
 * (bw_profile_original_lessons), and a lesson learnt again changes nothing
 * while the profile only grows (bw-scan.h): so the pass is the same as
 * learning each distinct lesson once, at its first place in that order.
 * The state keeps that list (`bw_scan_t.taught`, meta "profile_lessons":
 * each lesson with the date, Message-ID and place in its report where it
 * is first taught), and a run whose stored reports teach what they taught
 * before merges in the new reports' lessons instead of reading the stored
 * ones:
 *   - the stored reports are the ones whose lessons the list holds: it was
 *     written by the save the state is at (meta "saves", checked after the
 *     reports are loaded), and no report that left the mailbox holds a
 *     lesson's first place in it (the others left change no first place);
 *   - each teaches what it taught: whether a report teaches depends on
 *     whether its original is the owner's sent mail and not a sent anomaly;
 *     none of the owner's mail changed (no message from the owner in the
 *     range, their count the saved one, the same owners) and the runs in
 *     Sent are the memo's (the signals stage reused them).
 * The first place of a lesson in the merged list is the earlier of its
 * place in the stored list and its first place among the new reports: the
 * result is the list a full pass makes, whatever order the reports came
 * in.  Any doubt: every report is read, as before, and the list rebuilt. */
#define MAX_TAUGHT 4096u

typedef struct {
    gint64 date;
    char *message_id;
    guint32 place;             /* the lesson's index among its report's */
    char *lesson;
} taught_t;

static void
taught_free(taught_t *t)
{
    if (t == NULL)
        return;
    g_free(t->message_id);
    g_free(t->lesson);
    g_free(t);
}

static gint
cmp_taught(gconstpointer a, gconstpointer b)
{
    const taught_t *x = *(taught_t *const *)a, *y = *(taught_t *const *)b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    int c = g_strcmp0(x->message_id, y->message_id);
    if (c != 0)
        return c;
    return x->place < y->place ? -1 : x->place > y->place;
}

static void
add_taught(GPtrArray *list, gint64 date, const char *message_id, GPtrArray *lessons)
{
    for (guint j = 0; j < lessons->len; j++) {
        taught_t *t = g_new(taught_t, 1);
        t->date = date;
        t->message_id = g_strdup(message_id);
        t->place = j;
        t->lesson = g_strdup(g_ptr_array_index(lessons, j));
        g_ptr_array_add(list, t);
    }
}

/* The stored list, when it was written by the save the state is at
 * (`saves`), else NULL. */
static GPtrArray *
taught_load(bw_store_t *store, guint64 saves)
{
    g_autofree char *text = NULL;
    bw_store_get_meta(store, "profile_lessons", &text);
    if (text == NULL || saves == 0)
        return NULL;
    gsize len = 0;
    g_autofree guchar *raw = g_base64_decode(text, &len);
    if (raw == NULL || len == 0)
        return NULL;
    g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&raw), len);
    g_autoptr(GVariant) v = g_variant_ref_sink(
        g_variant_new_from_bytes(G_VARIANT_TYPE("(ta(xsus))"), bytes, FALSE));
    if (!g_variant_is_normal_form(v))
        return NULL;
    guint64 at = 0;
    g_autoptr(GVariant) list = NULL;
    g_variant_get(v, "(t@a(xsus))", &at, &list);
    gsize n = g_variant_n_children(list);
    if (at != saves || n > MAX_TAUGHT)
        return NULL;
    GPtrArray *out = g_ptr_array_new_full((guint)n, (GDestroyNotify)taught_free);
    for (gsize i = 0; i < n; i++) {
        taught_t *t = g_new(taught_t, 1);
        g_variant_get_child(list, i, "(xsus)", &t->date, &t->message_id, &t->place, &t->lesson);
        g_ptr_array_add(out, t);
    }
    return out;
}

/* The list as meta "profile_lessons" of the save numbered `saves`. */
static char *
taught_text(GPtrArray *list, guint64 saves)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a(xsus)"));
    for (guint i = 0; i < list->len; i++) {
        const taught_t *t = g_ptr_array_index(list, i);
        g_variant_builder_add(&b, "(xsus)", t->date, t->message_id, t->place, t->lesson);
    }
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new("(ta(xsus))", saves, &b));
    return g_base64_encode(g_variant_get_data(v), g_variant_get_size(v));
}

char *
bw_scan_taught_text(const bw_scan_t *s, guint64 saves)
{
    return s->taught != NULL ? taught_text(s->taught, saves) : NULL;
}

/* Sort the list, keep each lesson's first place only, and teach the
 * profile each in that order. */
static void
taught_learn(bw_scan_t *s, GPtrArray *list)
{
    g_ptr_array_sort(list, cmp_taught);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *kept = g_ptr_array_new_with_free_func((GDestroyNotify)taught_free);
    for (guint i = 0; i < list->len; i++) {
        taught_t *t = g_ptr_array_index(list, i);
        if (g_hash_table_contains(seen, t->lesson))
            continue;
        g_hash_table_add(seen, t->lesson);
        bw_profile_learn_lesson(s->profile, t->lesson);
        g_ptr_array_index(list, i) = NULL;
        g_ptr_array_add(kept, t);
    }
    g_ptr_array_set_free_func(list, (GDestroyNotify)taught_free);
    g_clear_pointer(&s->taught, g_ptr_array_unref);
    /* Too many to keep: the next run reads every report. */
    if (kept->len <= MAX_TAUGHT)
        s->taught = kept;
    else
        g_ptr_array_unref(kept);
}

/* The learning pass from every report: in the order of the reports, the
 * first time a lesson comes is its first place; it is learnt then and kept
 * in the list, the others change nothing and are dropped.  Neither sorted
 * nor copied: this costs no more than learning every report did. */
static void
learn_every_report(bw_scan_t *s, GArray *lessons)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) these = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *kept = g_ptr_array_new_with_free_func((GDestroyNotify)taught_free);
    bool too_many = false;
    for (guint i = 0; i < lessons->len; i++) {
        const lesson_t *l = &g_array_index(lessons, lesson_t, i);
        g_ptr_array_set_size(these, 0);
        if (!bw_classify_lessons(&s->ops, l->report, these))
            continue;
        for (guint j = 0; j < these->len; j++) {
            const char *lesson = g_ptr_array_index(these, j);
            if (g_hash_table_contains(seen, lesson))
                continue;
            bw_profile_learn_lesson(s->profile, lesson);
            taught_t *t = g_new(taught_t, 1);
            t->date = l->date;
            t->message_id = g_strdup(l->message_id);
            t->place = j;
            t->lesson = g_ptr_array_index(these, j);   /* taken */
            g_ptr_array_index(these, j) = NULL;
            g_hash_table_add(seen, t->lesson);
            /* Too many to keep: the next run reads every report. */
            too_many = too_many || kept->len >= MAX_TAUGHT;
            if (too_many)
                taught_free(t);
            else
                g_ptr_array_add(kept, t);
        }
    }
    g_clear_pointer(&s->taught, g_ptr_array_unref);
    if (too_many)
        g_ptr_array_unref(kept);
    else
        s->taught = kept;
}

/* The learning pass over `lessons` (sorted), from `stored_taught` (the
 * stored list, taken) for the stored reports when it is not NULL. */
static void
learn_pass(bw_scan_t *s, GArray *lessons, GPtrArray *stored_taught)
{
    if (stored_taught == NULL) {
        learn_every_report(s, lessons);
        return;
    }
    GPtrArray *list = stored_taught;
    g_autoptr(GPtrArray) these = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < lessons->len; i++) {
        const lesson_t *l = &g_array_index(lessons, lesson_t, i);
        if (l->stored)
            continue;
        g_ptr_array_set_size(these, 0);
        if (bw_classify_lessons(&s->ops, l->report, these))
            add_taught(list, l->date, l->message_id, these);
    }
    taught_learn(s, list);
    g_ptr_array_unref(list);
}

/* Whether the stored reports teach what they taught when the stored list
 * was made (see above); the list itself is checked by taught_load, the
 * reports that left by taught_holders_stay.  The owner's mail is the same
 * when none of it is in the range and its count is the saved one (as for
 * kept verdicts): a message removed from elsewhere changes no answer of
 * sent_has_message_id. */
static bool
taught_reusable(const bw_scan_t *s)
{
    if (s->full || s->config_changed || s->sent_changed || s->retried->len > 0 ||
        !s->sig.runs_reused)
        return false;
    if (s->none_removed)
        return true;   /* the count is the saved one (profile stage) */
    g_autofree char *sent = NULL;
    bw_store_get_meta(s->store, "sent_messages", &sent);
    return sent != NULL && g_ascii_strtoull(sent, NULL, 10) == s->sent_total;
}

/* Whether every lesson of the stored list is still taught at its place:
 * no report that left the mailbox (s->vanished) or is read again from
 * another file (s->moved: it may teach something else now) holds a first
 * place.  The first place of a lesson is the least over the reports that
 * teach it; the reports that stay as they were are some of those, the
 * holder among them: the least is the same.  A holder that left or
 * changed: its lesson's next place is unknown without reading every
 * report. */
static bool
taught_holders_stay(const bw_scan_t *s, const GPtrArray *list)
{
    if (s->vanished->len == 0 && (s->moved == NULL || g_hash_table_size(s->moved) == 0))
        return true;
    g_autoptr(GHashTable) gone = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < s->vanished->len; i++)
        g_hash_table_add(gone, g_ptr_array_index(s->vanished, i));
    for (guint i = 0; i < list->len; i++) {
        const taught_t *t = g_ptr_array_index(list, i);
        if (g_hash_table_contains(gone, t->message_id) ||
            (s->moved != NULL && g_hash_table_contains(s->moved, t->message_id)))
            return false;
    }
    return true;
}

static gint
cmp_lesson(gconstpointer a, gconstpointer b)
{
    const lesson_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

/* Put `n` elements of `size` bytes at `base` in the order of `cmp` when
 * the first `prefix` of them are in it already (the stored reports, loaded
 * by date then Message-ID: bw_store_load_items_questions) and the rest
 * (the new ones, a few) in any order: each of the rest is put at its place
 * by a binary search, instead of a comparison sort of every stored report
 * (~3 M instructions at 1M messages for the lessons, ~1 M for the items).
 * FALSE, nothing moved, when the prefix is not strictly ascending or the
 * rest is more than MAX_INSERTED (a flood, a full scan: each insertion
 * moves the elements after it): the caller sorts as before.  The keys
 * compared (date, Message-ID) are distinct here (one element per
 * Message-ID), so both give the one order. */
#define MAX_INSERTED 64u

static bool
insert_after_prefix(void *base, guint n, gsize size, guint prefix, GCompareFunc cmp)
{
    guint8 *b = base;
    if (prefix > n || n - prefix > MAX_INSERTED)
        return false;
    for (guint i = 1; i < prefix; i++)
        if (cmp(b + (i - 1) * size, b + i * size) >= 0)
            return false;
    guint8 tmp[64];
    if (size > sizeof tmp)
        return false;
    for (guint k = prefix; k < n; k++) {
        /* b[0..k) is in order: the first place whose element is greater */
        guint lo = 0, hi = k;
        while (lo < hi) {
            guint mid = lo + (hi - lo) / 2;
            if (cmp(b + mid * size, b + k * size) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < k) {
            memcpy(tmp, b + k * size, size);
            memmove(b + (lo + 1) * size, b + lo * size, (k - lo) * size);
            memcpy(b + lo * size, tmp, size);
        }
    }
    return true;
}

bool
bw_scan_item_unslim(bw_scan_t *s, bw_item_t *it, bw_item_t *full)
{
    if (!it->slim) {
        bw_item_free(full);
        return true;
    }
    g_autoptr(bw_item_t) whole = full;
    if (whole == NULL && bw_store_load_item(s->store, it->message_id, &whole) != BW_OK)
        return false;
    /* the row the entry was written with (the same save): its verdict is
     * the slim one's, with the evidence it counted: the texts a slim item
     * holds as NULL, first; the texts a later stage added come after them
     * (campaign.c promotes a kept item in the store stage's group step) */
    guint counted = 0;
    while (it->evidence && counted < it->evidence->len &&
           g_ptr_array_index(it->evidence, counted) == NULL)
        counted++;
    if (whole == NULL || strcmp(whole->message_id, it->message_id) != 0 ||
        whole->date_unix != it->date_unix || (whole->report == NULL) != (it->report == NULL) ||
        whole->evidence == NULL || it->evidence == NULL || whole->evidence->len != counted)
        return false;
    bw_report_t *slim_report = it->report;
    it->report = g_steal_pointer(&whole->report);
    if (slim_report != NULL && s->pass_reports != NULL &&
        g_hash_table_remove(s->pass_reports, slim_report))
        g_hash_table_add(s->pass_reports, it->report);
    bw_report_free(slim_report);
    g_free(it->file);
    it->file = g_steal_pointer(&whole->file);
    /* the stored texts first, then those a later stage added (campaign.c
     * promotes: they come after the stored count) */
    for (guint i = 0; i < counted; i++) {
        g_free(g_ptr_array_index(it->evidence, i));
        g_ptr_array_index(it->evidence, i) = g_steal_pointer(&g_ptr_array_index(whole->evidence, i));
    }
    it->slim = false;
    return true;
}

/* Every slim item of `stored` made whole, from the rows loaded at once (the
 * caller's read transaction: the same rows, in the same order). */
static bool
unslim_stored(bw_scan_t *s, GPtrArray *stored)
{
    g_autoptr(GPtrArray) full = NULL;
    g_autofree char *msg = NULL;
    if (bw_store_load_items_questions(s->store, &full, NULL, &msg) != BW_OK ||
        full->len != stored->len)
        return false;
    for (guint i = 0; i < stored->len; i++) {
        bw_item_t *it = g_ptr_array_index(stored, i);
        bw_item_t *whole = g_ptr_array_index(full, i);
        g_ptr_array_index(full, i) = NULL;
        if (it == NULL) {
            bw_item_free(whole);
            continue;
        }
        if (!bw_scan_item_unslim(s, it, whole))
            return false;
    }
    return true;
}

bw_status_t
bw_scan_stage_classify(bw_scan_t *s, bw_scan_result_t **out, bool *retry, char **detail)
{
    s->items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    /* (s->have: made by the store stage, only when it asks it) */
    g_clear_pointer(&s->have, g_hash_table_unref);
    s->vanished = g_ptr_array_new_with_free_func(g_free);
    /* keyed by the item (in s->items, which it outlives: no string is
     * hashed, no string read) */
    bw_scan_rows_clear(s);
    s->rows = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->rows_names = g_string_chunk_new(4096);
    /* What is classified: the stored reports (no file is read) that are
     * still in the mailbox, and the new ones. */
    g_autoptr(GPtrArray) stored = NULL;
    g_autoptr(GArray) keep = g_array_new(FALSE, FALSE, sizeof(guint));    /* indexes of stored */
    g_autoptr(GArray) fresh = g_array_new(FALSE, FALSE, sizeof(guint));   /* indexes of fresh */
    g_autoptr(GArray) lessons = g_array_new(FALSE, FALSE, sizeof(lesson_t));
    g_autoptr(GHashTable) seen = g_hash_table_new(bw_str_hash, g_str_equal);   /* their ids */
    /* The new candidates' ids: `seen` is asked only of them (below), so a
     * stored id goes into it only when one of them names it too (not
     * every stored row's id into a table of all of them). */
    g_autoptr(GHashTable) fresh_ids = g_hash_table_new(bw_str_hash, g_str_equal);
    for (guint i = 0; i < s->fresh->len; i++)
        g_hash_table_add(fresh_ids,
                         ((bw_nm_candidate_t *)g_ptr_array_index(s->fresh, i))->message_id);
    bool any_fresh = g_hash_table_size(fresh_ids) > 0;
    g_autoptr(GPtrArray) stored_taught = NULL;
    /* The stored items as slim ones (bw-scan.h), from their snapshot
     * entries, when the caller reads no whole report of a kept item and
     * the stored reports are not all read for the learning pass: each made
     * whole where it is classified again (bw_scan_item_unslim), its row
     * read in the same read transaction as the entries (`reading`, to the
     * end of the classification), so of the same save. */
    bool slim = false, reading = false;
    if (!s->full) {
        g_autofree char *msg = NULL;
        bool reusable = taught_reusable(s);
        reading = s->opts->slim_kept && reusable && bw_store_read_begin(s->store);
        /* read before the reports, checked after them: both of one save */
        stored_taught = reusable ? taught_load(s->store, s->saves) : NULL;
        slim = reading && bw_snapshot_slim_items(s->store, &stored, &s->stored_questions);
        if (!slim && bw_store_load_items_questions(s->store, &stored, &s->stored_questions,
                                                   &msg) != BW_OK) {
            if (reading)
                bw_store_read_end(s->store);
            return bw_scan_restart_full(s, &msg, out, detail);
        }
        /* how the stored items were read (T210 checks that both are used) */
        bw_scan_phase(slim ? "stored+slim" : "stored");
        g_autofree char *saves_now = NULL;
        bw_store_get_meta(s->store, "saves", &saves_now);
        bool same_save = saves_now != NULL && g_ascii_strtoull(saves_now, NULL, 10) == s->saves;
        if (!same_save)
            g_clear_pointer(&stored_taught, g_ptr_array_unref);
        s->teaches_as_stored = same_save && taught_reusable(s);
        bool any_moved = g_hash_table_size(s->moved) > 0;
        for (guint i = 0; i < stored->len; i++) {
            bw_item_t *old = g_ptr_array_index(stored, i);
            if (any_moved && g_hash_table_contains(s->moved, old->message_id))
                continue;   /* read again from its file now: in `fresh` */
            /* A report deleted from the mailbox leaves the state too,
             * as a full rescan would not see it.  (None can be when no
             * message left the database since the save that stored it:
             * not asked then.) */
            if (!s->none_removed && !s->ops.has_message_id(s->ops.ctx, old->message_id)) {
                char *gone = g_strdup(old->message_id);
                g_ptr_array_add(s->vanished, gone);
                g_hash_table_add(seen, gone);
                continue;
            }
            if (old->report == NULL)
                continue;   /* nothing to classify it from (as a failed reclassify) */
            if (any_fresh && g_hash_table_contains(fresh_ids, old->message_id))
                g_hash_table_add(seen, old->message_id);
            g_array_append_val(keep, i);
            lesson_t l = { old->date_unix, old->message_id, old->report, true };
            g_array_append_val(lessons, l);
        }
    }
    guint stored_lessons = lessons->len;   /* in the stored rows' order */
    for (guint i = 0; i < s->fresh->len; i++) {
        bw_nm_candidate_t *c = g_ptr_array_index(s->fresh, i);
        const bw_report_t *r = g_ptr_array_index(s->parsed, i);
        if (r == NULL && g_hash_table_contains(s->moved, c->message_id) &&
            !g_hash_table_contains(seen, c->message_id)) {
            /* a stored report whose file now is no report (or skipped):
             * its row goes, as a full scan would not hold it */
            char *gone = g_strdup(c->message_id);
            g_ptr_array_add(s->vanished, gone);
            g_hash_table_add(seen, gone);
            continue;
        }
        if (r == NULL || g_hash_table_contains(seen, c->message_id))
            continue;
        g_hash_table_add(seen, c->message_id);
        g_array_append_val(fresh, i);
        lesson_t l = { r->date_unix > 0 ? r->date_unix : c->date, c->message_id, r, false };
        g_array_append_val(lessons, l);
    }
    if (stored_taught != NULL && !taught_holders_stay(s, stored_taught))
        g_clear_pointer(&stored_taught, g_ptr_array_unref);
    /* (Tests: BOUNCEWATCH_TEST_UNSLIM=learn reads every stored report
     * after a slim load, as when the stored lessons cannot be used.) */
    if (slim && g_strcmp0(g_getenv("BOUNCEWATCH_TEST_UNSLIM"), "learn") == 0)
        g_clear_pointer(&stored_taught, g_ptr_array_unref);
    /* The learning pass reads every stored report: whole ones (the
     * lessons of the stored reports are the first, in their order). */
    if (slim && stored_taught == NULL) {
        if (!unslim_stored(s, stored)) {
            bw_store_read_end(s->store);
            g_autofree char *msg = g_strdup_printf("%s", "the stored reports do not read");
            return bw_scan_restart_full(s, &msg, out, detail);
        }
        for (guint j = 0; j < stored_lessons; j++) {
            const bw_item_t *old = g_ptr_array_index(stored, g_array_index(keep, guint, j));
            g_array_index(lessons, lesson_t, j).report = old->report;
        }
        slim = false;
    }
    /* What the owner's real mail teaches the profile, from every report
     * first, in one order: no verdict depends on which report came first
     * (in the mailbox, or into this run). */
    if (!insert_after_prefix(lessons->data, lessons->len, sizeof(lesson_t), stored_lessons,
                             cmp_lesson))
        g_array_sort(lessons, cmp_lesson);
    bool reused = stored_taught != NULL;
    learn_pass(s, lessons, g_steal_pointer(&stored_taught));
    g_clear_pointer(&s->pass_reports, g_hash_table_unref);
    s->pass_reports = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < lessons->len; i++)
        g_hash_table_add(s->pass_reports,
                         (gpointer)g_array_index(lessons, lesson_t, i).report);
    s->profile_digest = bw_profile_digest(s->profile);
    s->verdict_digest = bw_profile_verdict_digest(s->profile);
    /* which path the learning took (T210 checks that both are used) */
    bw_scan_phase(reused ? "learn+stored" : "learn");

    /* The stored reports: their verdicts kept where nothing they depend on
     * changed, classified again otherwise. */
    range_keys_t keys = { 0 };
    bool keepable = keep->len > 0 && verdicts_keepable(s) && range_keys_load(s, &keys);
    if (keepable && keys.sent_grown)
        sent_batch(s, &keys, keep);
    if (keepable && keys.any_from)
        from_batch(s, &keys, keep);
    /* every stored report classified again: all read at once */
    if (slim && !keepable) {
        if (!unslim_stored(s, stored)) {
            range_keys_clear(&keys);
            bw_store_read_end(s->store);
            g_autofree char *msg = g_strdup_printf("%s", "the stored reports do not read");
            return bw_scan_restart_full(s, &msg, out, detail);
        }
        slim = false;
    }
    guint again = 0;
    for (guint k = 0; k < keep->len; k++) {
        guint i = g_array_index(keep, guint, k);
        bw_item_t *old = g_ptr_array_index(stored, i);
        char *q = keepable ? g_ptr_array_index(s->stored_questions, i) : NULL;
        bool changed = true;
        if (q != NULL && bw_ops_recheck_text(q, &s->ops, must_ask, &keys, MAX_ITEM_QUESTIONS,
                                             &changed) && !changed) {
            g_ptr_array_index(stored, i) = NULL;   /* taken as it is */
            g_ptr_array_index(s->stored_questions, i) = NULL;   /* and its questions */
            bw_scan_row_t *row = bw_scan_row_new(s, old, q);
            row->kept = g_string_chunk_insert(s->rows_names, old->campaign ? old->campaign : "");
            g_ptr_array_add(s->items, old);
            continue;
        }
        if (old->slim && !bw_scan_item_unslim(s, old, NULL)) {
            range_keys_clear(&keys);
            bw_store_read_end(s->store);
            g_autofree char *msg = g_strdup_printf("the state holds an unreadable item (%s)",
                                                   old->message_id);
            return bw_scan_restart_full(s, &msg, out, detail);
        }
        bw_report_t *r = old->report;
        old->report = NULL;
        /* The stored report keeps no body text (only its SimHash, in the
         * item's fingerprint): the hash the report's own text gave, as a
         * full rescan computes it from the file, is kept.  Without it a
         * stored report classified again lost it, and campaigns were built
         * with a weak key fewer than a full rescan's. */
        bool no_text = r->original == NULL || r->original->body_text == NULL;
        guint64 body_simhash = old->fp.body_simhash;
        bw_item_t *it = classify_recorded(s, old->message_id, old->file, old->date_unix, r);
        again++;
        if (it && no_text && it->fp.body_simhash == 0)
            it->fp.body_simhash = body_simhash;
        if (it)
            g_ptr_array_add(s->items, it);
    }
    range_keys_clear(&keys);
    if (reading)
        bw_store_read_end(s->store);
    guint stored_items = s->items->len;   /* in the stored rows' order */
    /* The new items. */
    for (guint k = 0; k < fresh->len; k++) {
        guint i = g_array_index(fresh, guint, k);
        bw_nm_candidate_t *c = g_ptr_array_index(s->fresh, i);
        bw_report_t *r = g_ptr_array_index(s->parsed, i);
        g_ptr_array_index(s->parsed, i) = NULL;   /* bw_classify takes it */
        gint64 date = r->date_unix > 0 ? r->date_unix : c->date;
        bw_item_t *it = classify_recorded(s, c->message_id, c->file, date, r);
        if (it == NULL)
            continue;
        g_ptr_array_add(s->items, it);
        if (s->opts->new_items_out && !g_hash_table_contains(s->moved, c->message_id))
            g_ptr_array_add(s->opts->new_items_out, g_strdup(it->message_id));
    }
    if (!insert_after_prefix(s->items->pdata, s->items->len, sizeof(gpointer), stored_items,
                             bw_scan_item_cmp))
        g_ptr_array_sort(s->items, bw_scan_item_cmp);
    /* (Each verdict as classified, before the group stage may promote it,
     * is in its row record: a row the group stage changed is not kept by
     * a later run; its promotion depends on the other items: it is decided
     * again.) */
    /* which path the stored verdicts took (T210 checks that both are used) */
    bw_scan_phase(keep->len > 0 && again == 0 ? "classify+kept"
                  : again < keep->len ? "classify+some" : "classify");
    s->total = bw_nm_source_count_messages(s->src);
    /* A lookup that failed answered "unknown": verdicts may be wrong.
     * Nothing is written yet; start again on a fresh open. */
    if (bw_nm_source_failed(s->src, detail)) {
        *retry = true;
        return BW_E_DATABASE;
    }
    return BW_OK;
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

bw_status_t
bw_scan_stage_load(bw_scan_t *s, bw_scan_result_t **out, bool *retry, char **detail)
{
    g_autofree char *msg = NULL;
    bw_status_t st = bw_store_load_items(s->store, &s->items, &msg);
    if (st == BW_OK)
        st = bw_store_load_campaigns(s->store, &s->campaigns, &msg);
    if (st != BW_OK) {
        /* Damage shows only now: start over from the mail. */
        return bw_scan_restart_full(s, &msg, out, detail);
    }
    link_campaigns(s->items, s->campaigns);
    /* The profile as the saving run had it: the sent mail it learnt
     * from and the originals bw_classify_learn() learnt from. */
    g_autoptr(bw_account_t) account = NULL;
    if (!bw_snapshot_replay_profile(s->store, s->profile, &account)) {
        g_clear_pointer(&s->profile, bw_profile_free);
        s->profile = bw_scan_profile_new(s->src);
        bw_mailbox_ops_t ops;
        bw_nm_source_mailbox_ops(s->src, &ops);
        unsigned sample = bw_scan_setting_uint(s->src, "profile_sample", DEFAULT_PROFILE_SAMPLE,
                                               MAX_PROFILE_SAMPLE);
        if (s->profile == NULL ||
            bw_scan_learn_profile(s, s->profile, sample, 0, NULL, detail) != BW_OK) {
            *retry = bw_nm_source_failed(s->src, detail);
            return BW_E_DATABASE;
        }
        g_clear_pointer(&account, bw_account_free);
        account = bw_account_from_profile(s->profile);
        for (guint i = 0; i < s->items->len; i++) {
            const bw_item_t *it = g_ptr_array_index(s->items, i);
            bw_classify_learn(s->profile, &ops, it->report);
        }
        if (bw_nm_source_failed(s->src, detail)) {
            *retry = true;
            return BW_E_DATABASE;
        }
    }
    /* the signals as the stored rows give them */
    bw_mailbox_ops_t ops;
    bw_nm_source_mailbox_ops(s->src, &ops);
    bw_signals_reading_t reading;
    bw_scan_signals_reading(s, &reading);
    bw_status_t sst = bw_signals_stage_run(&s->sig, s->src, s->store, s->profile,
                                           g_steal_pointer(&account), &ops, &reading,
                                           BW_SIGNALS_READ_NONE, s->after, detail);
    if (sst != BW_OK) {
        *retry = bw_nm_source_failed(s->src, NULL);
        return sst;
    }
    bw_scan_phase(bw_signals_phase(&s->sig));
    /* What was read since the read stage (the profile, the signals) is of
     * its snapshot too (bw_nm_source_snapshot_held), or the run reads
     * again. */
    if (!bw_nm_source_snapshot_held(s->src)) {
        *retry = bw_nm_source_failed(s->src, detail);
        return BW_E_DATABASE;
    }
    /* Only our own tags moved the revision: account for them, so the
     * next run does not look at those reports again. */
    bw_scan_account_unchanged(s);
    bw_scan_phase("load");
    return BW_OK;
}
