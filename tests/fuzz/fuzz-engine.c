/* fuzz-engine.c: the scan engine on reports built from fuzzed mail and
 * fuzzed state.
 *
 * fuzz-options: -max_len=200000 -timeout=20
 * fuzz-dict: mail.dict
 * fuzz-sources: src/adapters/store.c
 * fuzz-packages: sqlite3
 *
 * The input is a small mailbox: pieces separated by lines holding only
 * "%%" (at most MAX_PIECES).  A piece starting with '{' is a row of the
 * state file as the state store keeps it: an item (bw_item_to_json) or,
 * when it has "members", a campaign (bw_store_campaign_to_json), read the
 * way a damaged state file would be (after the JSON caps).  Any other
 * piece is a mail, parsed by bw_parse_bytes:
 *   - a report (a bounce, auto-reply, complaint...) is classified;
 *   - other mail from the owner (owner@example.com, or the address the
 *     first reports were sent to) is the owner's sent mail: it feeds the
 *     profile and the mailbox's answers (sent Message-IDs, recipients,
 *     subjects);
 *   - other mail is mail from a correspondent (and a reply, when it has
 *     In-Reply-To).
 * The engine then runs as a scan does: bw_classify for each report (with
 * the mailbox answering from the pieces), bw_campaigns_build twice (the
 * second time with the first run's campaigns, as an incremental run),
 * bw_surges_detect, bw_assess and bw_scan_result_to_json.  Checked on
 * the way: every item and campaign survives the state store's round trip
 * (written, read back, written again: the same text), every item's
 * snapshot entry reads back as its slim item (and every piece, read as a
 * stored entry, gives an item or nothing), and the scan
 * document is valid UTF-8 JSON on one line. */
#include "fuzz-common.h"
#include "bw-engine.h"
#include "store.h"
#include "bw-reader.h"
#include <string.h>

#define MAX_PIECES 128
#define MAX_OWNERS 4

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bw_fuzz_init("fuzz-engine");
    return 0;
}

/* ------------------------------------------------------------ the mailbox */

typedef struct {
    GHashTable *sent_mids;      /* Message-ID -> date (gint64*) */
    GHashTable *sent_to;        /* address -> count */
    GPtrArray *sent_subjects;   /* subjects, bw_subject_strip()ed as the lookup is */
    GArray *sent_dates;         /* gint64, parallel to sent_subjects */
    GHashTable *received_from;  /* address -> count */
    GHashTable *all_mids;       /* any Message-ID in the mailbox */
    GHashTable *replies;        /* Message-ID -> From of a reply to it */
} mailbox_t;

static void
mailbox_init(mailbox_t *m)
{
    m->sent_mids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->sent_to = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    m->sent_subjects = g_ptr_array_new_with_free_func(g_free);
    m->sent_dates = g_array_new(FALSE, FALSE, sizeof(gint64));
    m->received_from = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    m->all_mids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    m->replies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void
mailbox_clear(mailbox_t *m)
{
    g_hash_table_unref(m->sent_mids);
    g_hash_table_unref(m->sent_to);
    g_ptr_array_unref(m->sent_subjects);
    g_array_unref(m->sent_dates);
    g_hash_table_unref(m->received_from);
    g_hash_table_unref(m->all_mids);
    g_hash_table_unref(m->replies);
}

static void
count(GHashTable *t, const char *key)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(t, key));
    g_hash_table_replace(t, g_strdup(key), GUINT_TO_POINTER(n + 1));
}

static bool
op_sent_has(void *ctx, const char *mid, gint64 *date_out)
{
    gint64 *t = g_hash_table_lookup(((mailbox_t *)ctx)->sent_mids, mid);
    if (t != NULL && date_out != NULL)
        *date_out = *t;
    return t != NULL;
}

static unsigned
op_sent_count_to(void *ctx, const char *address, gint64 before)
{
    (void)before;
    return GPOINTER_TO_UINT(g_hash_table_lookup(((mailbox_t *)ctx)->sent_to, address));
}

static bool
op_subject_near(void *ctx, const char *subject, gint64 t, gint64 window)
{
    mailbox_t *m = ctx;
    for (guint i = 0; i < m->sent_subjects->len; i++) {
        gint64 d = g_array_index(m->sent_dates, gint64, i);
        /* the window arithmetic of a real lookup: no overflow on any t */
        if (strcmp(g_ptr_array_index(m->sent_subjects, i), subject) == 0
            && (d >= t ? (guint64)d - (guint64)t : (guint64)t - (guint64)d) <= (guint64)window)
            return true;
    }
    return false;
}

static bool
op_has_sent(void *ctx)
{
    return g_hash_table_size(((mailbox_t *)ctx)->sent_mids) > 0;
}

static unsigned
op_received_from(void *ctx, const char *address)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(((mailbox_t *)ctx)->received_from, address));
}

static bool
op_has_mid(void *ctx, const char *mid)
{
    return g_hash_table_contains(((mailbox_t *)ctx)->all_mids, mid);
}

static unsigned
op_replies_to(void *ctx, const char *mid, char **from_out)
{
    const char *from = g_hash_table_lookup(((mailbox_t *)ctx)->replies, mid);
    if (from != NULL && from_out != NULL)
        *from_out = g_strdup(from);
    return from != NULL;
}

static unsigned
op_from_domain(void *ctx, const char *domain)
{
    GHashTableIter it;
    gpointer k, v;
    unsigned n = 0;
    g_hash_table_iter_init(&it, ((mailbox_t *)ctx)->received_from);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *at = strrchr(k, '@');
        if (at != NULL && g_ascii_strcasecmp(at + 1, domain) == 0)
            n += GPOINTER_TO_UINT(v);
    }
    return n;
}

/* ------------------------------------------------------------ state rows */

/* The state store's round trip of one item: written, read back, written
 * again, the same text (a run served from the state makes the same call
 * as a full scan). */
static void
check_item_roundtrip(const bw_item_t *item)
{
    JsonNode *n = bw_item_to_json(item);
    g_autofree char *text = bw_fuzz_json_text(n, "bw_item_to_json");
    json_node_unref(n);
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, -1, NULL))
        bw_fuzz_fail("an item's JSON does not read back: %.500s", text);
    bw_item_t *back = NULL;
    g_autofree char *detail = NULL;
    if (bw_item_from_json(json_parser_get_root(parser), &back, &detail) != BW_OK || back == NULL)
        bw_fuzz_fail("bw_item_from_json refused our own item (%s): %.500s", detail ? detail : "?", text);
    JsonNode *n2 = bw_item_to_json(back);
    g_autofree char *again = bw_fuzz_json_text(n2, "bw_item_to_json (reloaded)");
    json_node_unref(n2);
    if (strcmp(text, again) != 0)
        bw_fuzz_fail("the reloaded item differs:\n  %.800s\n  %.800s", text, again);
    bw_item_free(back);
}

/* The item's snapshot entry (bw_snap_entry_new) reads back as the slim
 * item a hook run keeps (bw_item_from_snap_entry): what it holds is the
 * item's. */
static void
check_entry_roundtrip(const bw_item_t *item)
{
    g_autoptr(GVariant) v = bw_snap_entry_new(item, item->klass == BW_CLASS_LEGITIMATE,
                                              "{}", "M<q>=0");
    if (v == NULL)
        bw_fuzz_fail("bw_snap_entry_new refused an item");
    bool learn = false;
    g_autofree char *q = NULL;
    g_autoptr(bw_item_t) s = bw_item_from_snap_entry(g_variant_get_data(v), g_variant_get_size(v),
                                                     &learn, &q);
    if (s == NULL) {
        /* only what the reader bounds: an empty key, too much evidence */
        if (item->message_id != NULL && *item->message_id != '\0' &&
            (item->evidence == NULL || item->evidence->len <= 64))
            bw_fuzz_fail("the entry of an item does not read back: %.200s", item->message_id);
        return;
    }
    const bw_report_t *r = item->report, *sr = s->report;
    const bw_original_t *o = r ? r->original : NULL, *so = sr ? sr->original : NULL;
    if (!s->slim || strcmp(s->message_id, item->message_id) != 0 ||
        s->date_unix != item->date_unix || s->klass != item->klass ||
        s->origin != item->origin || s->score != item->score ||
        g_strcmp0(s->campaign, item->campaign) != 0 || g_strcmp0(s->anomaly, item->anomaly) != 0 ||
        s->evidence->len != (item->evidence ? item->evidence->len : 0) ||
        s->fp.body_simhash != item->fp.body_simhash || s->fp.subject_names != item->fp.subject_names ||
        g_strcmp0(s->fp.subject_masked, item->fp.subject_masked) != 0 ||
        learn != (item->klass == BW_CLASS_LEGITIMATE) || g_strcmp0(q, "M<q>=0") != 0 ||
        (r == NULL) != (sr == NULL) || (o == NULL) != (so == NULL))
        bw_fuzz_fail("the slim item of an entry differs: %.200s", item->message_id);
    if (r == NULL)
        return;
    if (g_strcmp0(r->from, sr->from) != 0 || sr->recipients->len != MIN(r->recipients->len, BW_MAX_RECIPIENTS))
        bw_fuzz_fail("the slim report of an entry differs: %.200s", item->message_id);
    for (guint i = 0; i < sr->recipients->len; i++) {
        const bw_recipient_t *a = g_ptr_array_index(r->recipients, i);
        const bw_recipient_t *b = g_ptr_array_index(sr->recipients, i);
        if (g_strcmp0(a->address, b->address) != 0 || g_strcmp0(a->action, b->action) != 0 ||
            a->reason != b->reason)
            bw_fuzz_fail("a slim recipient differs: %.200s", item->message_id);
    }
    if (o != NULL && (g_strcmp0(o->message_id, so->message_id) != 0 ||
                      g_strcmp0(o->from, so->from) != 0 || g_strcmp0(o->subject, so->subject) != 0 ||
                      g_strcmp0(o->return_path, so->return_path) != 0 ||
                      so->url_domains->len != o->url_domains->len))
        bw_fuzz_fail("the slim original differs: %.200s", item->message_id);
}

static void
check_campaign_roundtrip(const bw_campaign_t *c)
{
    JsonNode *n = bw_store_campaign_to_json(c);
    g_autofree char *text = bw_fuzz_json_text(n, "bw_store_campaign_to_json");
    bw_campaign_t *back = bw_store_campaign_from_json(n);
    json_node_unref(n);
    if (back == NULL)
        bw_fuzz_fail("bw_store_campaign_from_json refused our own campaign: %.500s", text);
    JsonNode *n2 = bw_store_campaign_to_json(back);
    g_autofree char *again = bw_fuzz_json_text(n2, "bw_store_campaign_to_json (reloaded)");
    json_node_unref(n2);
    if (strcmp(text, again) != 0)
        bw_fuzz_fail("the reloaded campaign differs:\n  %.800s\n  %.800s", text, again);
    bw_campaign_free(back);
    /* The row's text, written without json-glib, is json-glib's. */
    n = bw_store_campaign_to_json(c);
    g_autofree char *glib_text = bw_json_node_to_text(n);
    json_node_unref(n);
    g_autofree char *direct = bw_store_campaign_to_text(c);
    if (g_strcmp0(direct, glib_text) != 0)
        bw_fuzz_fail("bw_store_campaign_to_text differs from json-glib:\n  %.800s\n  %.800s",
                     direct, glib_text);
    /* The binary form (none for text that is not UTF-8) reads back as the
     * same campaign (the muted flag is the row's column). */
    g_autoptr(GBytes) bin = bw_store_campaign_to_bin(c);
    if (bin == NULL)
        return;
    gsize len = 0;
    const void *data = g_bytes_get_data(bin, &len);
    back = bw_store_campaign_from_bin(data, len);
    if (back == NULL)
        bw_fuzz_fail("bw_store_campaign_from_bin refused our own campaign: %.500s", text);
    back->muted = c->muted;
    n2 = bw_store_campaign_to_json(back);
    g_autofree char *from_bin = bw_fuzz_json_text(n2, "bw_store_campaign_to_json (from bin)");
    json_node_unref(n2);
    if (strcmp(text, from_bin) != 0)
        bw_fuzz_fail("the campaign read from its binary form differs:\n  %.800s\n  %.800s", text,
                     from_bin);
    bw_campaign_free(back);
}

/* A state row of a damaged (or older) state file. */
static void
read_state_row(const char *text, size_t len, GPtrArray *items, GPtrArray *previous)
{
    JsonNode *root = bw_fuzz_json_parse(text, len);
    if (root == NULL)
        return;
    if (JSON_NODE_HOLDS_OBJECT(root) && json_object_has_member(json_node_get_object(root), "members")) {
        bw_campaign_t *c = bw_store_campaign_from_json(root);
        if (c != NULL)
            g_ptr_array_add(previous, c);
    } else {
        bw_item_t *item = NULL;
        g_autofree char *detail = NULL;
        if (bw_item_from_json(root, &item, &detail) == BW_OK) {
            if (item == NULL)
                bw_fuzz_fail("bw_item_from_json: BW_OK without an item");
            g_ptr_array_add(items, item);
        }
    }
    json_node_unref(root);
}

/* ------------------------------------------------------------ the run */

static bool
is_report(const bw_report_t *r)
{
    return r->bounce || r->kind != BW_KIND_NONE;
}

static bool
is_owner(char *const *owners, const char *address)
{
    for (size_t i = 0; address != NULL && owners[i] != NULL; i++)
        if (strcmp(owners[i], address) == 0)
            return true;
    return false;
}

/* Ordinary mail: the owner's sent mail, or mail from a correspondent. */
static void
add_mail(bw_profile_t *profile, mailbox_t *box, char *const *owners, const bw_report_t *r)
{
    if (r->message_id != NULL)
        g_hash_table_add(box->all_mids, g_strdup(r->message_id));
    if (is_owner(owners, r->from)) {
        bw_sent_t sent = {
            .message_id = r->message_id,
            .from = r->from,
            .received = NULL,
            .dkim_domain = NULL,
            .x_mailer = NULL,
            .date_unix = r->date_unix,
        };
        bw_profile_add_sent(profile, &sent);
        if (r->message_id != NULL)
            g_hash_table_replace(box->sent_mids, g_strdup(r->message_id), g_memdup2(&r->date_unix, sizeof r->date_unix));
        for (guint i = 0; i < r->to->len; i++) {
            count(box->sent_to, g_ptr_array_index(r->to, i));
            bw_profile_add_correspondent(profile, g_ptr_array_index(r->to, i));
        }
        if (r->subject != NULL) {
            g_ptr_array_add(box->sent_subjects, bw_subject_strip(r->subject, BW_SUBJECT_ALL, NULL));
            g_array_append_val(box->sent_dates, r->date_unix);
        }
    } else if (r->from != NULL) {
        count(box->received_from, r->from);
        bw_profile_add_correspondent(profile, r->from);
        if (r->in_reply_to != NULL)
            g_hash_table_replace(box->replies, g_strdup(r->in_reply_to), g_strdup(r->from));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bw_fuzz_piece_t pieces[MAX_PIECES];
    size_t np = bw_fuzz_split((const char *)data, size, "%%", pieces, MAX_PIECES);

    GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)bw_item_free);
    GPtrArray *previous = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    GPtrArray *mails = g_ptr_array_new_with_free_func((GDestroyNotify)bw_report_free);

    /* 1. read every piece; the owners are whom the reports were sent to */
    char *owners[MAX_OWNERS + 2] = {g_strdup("owner@example.com")};
    size_t nowners = 1;
    for (size_t i = 0; i < np; i++) {
        if (pieces[i].len > 0 && pieces[i].data[0] == '{') {
            read_state_row(pieces[i].data, pieces[i].len, items, previous);
            continue;
        }
        /* any bytes as a stored snapshot entry: an item or nothing */
        bw_item_free(bw_item_from_snap_entry(pieces[i].data, pieces[i].len, NULL, NULL));
        bw_report_t *r = NULL;
        if (bw_parse_bytes(pieces[i].data, pieces[i].len, &r, NULL) != BW_OK) {
            bw_report_free(r);
            continue;
        }
        if (is_report(r) && r->to->len > 0 && nowners < MAX_OWNERS
            && !is_owner(owners, g_ptr_array_index(r->to, 0)))
            owners[nowners++] = g_strdup(g_ptr_array_index(r->to, 0));
        g_ptr_array_add(mails, r);
    }

    /* 2. the profile and the mailbox from the ordinary mail */
    static const char *const relays[] = {"*.mail.example.com", NULL};
    bw_profile_t *profile = bw_profile_new((const char *const *)owners, relays);
    mailbox_t box;
    mailbox_init(&box);
    for (guint i = 0; i < mails->len; i++)
        if (!is_report(g_ptr_array_index(mails, i)))
            add_mail(profile, &box, owners, g_ptr_array_index(mails, i));
    bw_mailbox_ops_t ops = {
        .sent_has_message_id = op_sent_has,
        .sent_count_to = op_sent_count_to,
        .sent_subject_near = op_subject_near,
        .has_sent_mail = op_has_sent,
        .ctx = &box,
        .received_from_count = op_received_from,
        .has_message_id = op_has_mid,
        .replies_to = op_replies_to,
        .received_from_domain_count = op_from_domain,
    };

    /* 3. what the reports teach the profile (all first, as the scan does),
     * then classify them (each taken by its item) */
    for (guint i = 0; i < mails->len; i++) {
        const bw_report_t *r = g_ptr_array_index(mails, i);
        if (is_report(r))
            bw_classify_learn(profile, &ops, r);
    }
    for (guint i = 0; i < mails->len; i++) {
        bw_report_t *r = g_ptr_array_index(mails, i);
        if (!is_report(r))
            continue;
        g_ptr_array_index(mails, i) = NULL;
        /* the mailbox key of a report: notmuch's id, never missing */
        g_autofree char *mid = r->message_id != NULL ? g_strdup(r->message_id)
                                                     : g_strdup_printf("fuzz-%u@fuzz.invalid", i);
        g_autofree char *file = g_strdup_printf("cur/fuzz-%u", i);
        bw_item_t *item = NULL;
        if (bw_classify(profile, &ops, mid, file, r->date_unix, r, &item) != BW_OK)
            bw_fuzz_fail("bw_classify failed on a parsed report");
        if (item == NULL)
            bw_fuzz_fail("bw_classify: BW_OK without an item");
        if (!(item->score >= 0.0 && item->score <= 1.0))
            bw_fuzz_fail("bw_classify: score %g outside 0..1", item->score);
        check_item_roundtrip(item);
        check_entry_roundtrip(item);
        g_ptr_array_add(items, item);
    }

    /* 4. over all items, as a scan does; "now" just after the last report */
    gint64 now = 0;
    for (guint i = 0; i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->date_unix > now && it->date_unix < G_GINT64_CONSTANT(253402300799))
            now = it->date_unix;
    }
    now = now > 0 ? now + 3600 : G_GINT64_CONSTANT(1790000000);

    GPtrArray *campaigns = NULL;
    if (bw_campaigns_build(items, previous, &campaigns) != BW_OK || campaigns == NULL)
        bw_fuzz_fail("bw_campaigns_build failed");
    for (guint i = 0; i < campaigns->len; i++)
        check_campaign_roundtrip(g_ptr_array_index(campaigns, i));
    /* an incremental run: the same items, the last run's campaigns */
    GPtrArray *again = NULL;
    if (bw_campaigns_build(items, campaigns, &again) != BW_OK || again == NULL)
        bw_fuzz_fail("bw_campaigns_build failed on its own campaigns");
    g_ptr_array_unref(campaigns);
    campaigns = again;
    for (guint i = 0; i < items->len; i++)
        check_item_roundtrip(g_ptr_array_index(items, i));

    bw_surge_config_t cfg;
    bw_surge_config_default(&cfg);
    GPtrArray *surges = NULL;
    if (bw_surges_detect(items, now, &cfg, &surges) != BW_OK || surges == NULL)
        bw_fuzz_fail("bw_surges_detect failed");
    bw_assessment_t *assessment = NULL;
    if (bw_assess(profile, items, campaigns, surges, now, &assessment) != BW_OK || assessment == NULL)
        bw_fuzz_fail("bw_assess failed");

    bw_scan_result_t *result = g_new0(bw_scan_result_t, 1);
    result->database = g_strdup("/fuzz/mail");
    result->revision = 1;
    result->messages_examined = np;
    result->items = items;
    result->campaigns = campaigns;
    result->surges = surges;
    result->assessment = assessment;
    JsonNode *doc = bw_scan_result_to_json(result);
    g_free(bw_fuzz_json_text(doc, "bw_scan_result_to_json"));
    json_node_unref(doc);
    bw_scan_result_free(result);     /* items, campaigns, surges, assessment */

    mailbox_clear(&box);
    bw_profile_free(profile);
    g_ptr_array_unref(previous);
    g_ptr_array_unref(mails);
    for (size_t i = 0; i < nowners; i++)
        g_free(owners[i]);
    return 0;
}
