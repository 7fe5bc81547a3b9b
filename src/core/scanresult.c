/* scanresult.c: names of the engine's enumerations, the free functions of
 * bw-scan.h, item (de)serialisation for the state store, and the
 * shared/SPEC.md section 2 document. */
#include "bw-engine.h"
#include "bw-signals.h"
#include "bw-reader.h"
#include <string.h>

const char *
bw_class_to_string(bw_class_t c)
{
    switch (c) {
    case BW_CLASS_LEGITIMATE: return "legitimate";
    case BW_CLASS_BACKSCATTER: return "backscatter";
    case BW_CLASS_UNDETERMINED: return "undetermined";
    }
    return "undetermined";
}

static bw_class_t
class_from_string(const char *s)
{
    if (s && strcmp(s, "legitimate") == 0)
        return BW_CLASS_LEGITIMATE;
    if (s && strcmp(s, "backscatter") == 0)
        return BW_CLASS_BACKSCATTER;
    return BW_CLASS_UNDETERMINED;
}

const char *
bw_origin_to_string(bw_origin_t o)
{
    switch (o) {
    case BW_ORIGIN_OWN_ACCOUNT: return "own-account";
    case BW_ORIGIN_FOREIGN: return "foreign";
    case BW_ORIGIN_UNKNOWN: break;
    }
    return "unknown";
}

static bw_origin_t
origin_from_string(const char *s)
{
    if (s && strcmp(s, "own-account") == 0)
        return BW_ORIGIN_OWN_ACCOUNT;
    if (s && strcmp(s, "foreign") == 0)
        return BW_ORIGIN_FOREIGN;
    return BW_ORIGIN_UNKNOWN;
}

const char *
bw_assessment_status_to_string(bw_assessment_status_t s)
{
    switch (s) {
    case BW_STATUS_CLEAR: return "clear";
    case BW_STATUS_SPOOFING: return "spoofing";
    case BW_STATUS_COMPROMISE_SUSPECTED: return "compromise-suspected";
    }
    return "clear";
}

/* ------------------------------------------------------------ free */

void
bw_item_free(bw_item_t *item)
{
    if (item == NULL)
        return;
    g_free(item->message_id);
    g_free(item->file);
    if (item->report)
        bw_report_free(item->report);
    if (item->evidence)
        g_ptr_array_unref(item->evidence);
    bw_fingerprint_clear(&item->fp);
    g_free(item->campaign);
    g_free(item->anomaly);
    g_free(item);
}

void
bw_campaign_free(bw_campaign_t *c)
{
    if (c == NULL)
        return;
    g_free(c->id);
    if (c->members)
        g_ptr_array_unref(c->members);
    if (c->subjects)
        g_ptr_array_unref(c->subjects);
    if (c->forged_senders)
        g_ptr_array_unref(c->forged_senders);
    if (c->reporting_domains)
        g_ptr_array_unref(c->reporting_domains);
    bw_fingerprint_clear(&c->fp);
    g_free(c);
}

void
bw_surge_free(bw_surge_t *s)
{
    if (s == NULL)
        return;
    if (s->campaigns)
        g_ptr_array_unref(s->campaigns);
    g_free(s->detector);
    g_free(s);
}

void
bw_assessment_free(bw_assessment_t *a)
{
    if (a == NULL)
        return;
    g_free(a->summary);
    if (a->advice)
        g_ptr_array_unref(a->advice);
    if (a->legit_remedies)
        g_ptr_array_unref(a->legit_remedies);
    if (a->hard_bouncing)
        g_ptr_array_unref(a->hard_bouncing);
    if (a->owner_senders)
        g_ptr_array_unref(a->owner_senders);
    g_free(a);
}

void
bw_scan_result_free(bw_scan_result_t *r)
{
    if (r == NULL)
        return;
    g_free(r->database);
    if (r->items)
        g_ptr_array_unref(r->items);
    if (r->campaigns)
        g_ptr_array_unref(r->campaigns);
    if (r->surges)
        g_ptr_array_unref(r->surges);
    if (r->skipped)
        g_ptr_array_unref(r->skipped);
    bw_assessment_free(r->assessment);
    if (r->signals)
        g_ptr_array_unref(r->signals);
    if (r->phishing)
        g_ptr_array_unref(r->phishing);
    bw_signals_assessment_free(r->signals_assessment);
    g_free(r);
}

void
bw_skipped_free(bw_skipped_t *k)
{
    if (k == NULL)
        return;
    g_free(k->message_id);
    g_free(k->file);
    g_free(k->cause);
    g_free(k->why);
    g_free(k->reader);
    g_free(k);
}

/* ------------------------------------------------------------ JSON helpers */

static void
add_time_or_null(JsonBuilder *b, const char *name, gint64 t)
{
    json_builder_set_member_name(b, name);
    if (t > 0) {
        g_autofree char *s = bw_time_format(t, 0);
        json_builder_add_string_value(b, s);
    } else {
        json_builder_add_null_value(b);
    }
}

/* Hashes travel as 16-digit hex strings: JSON numbers lose 64-bit precision. */
static void
add_hash(JsonBuilder *b, const char *name, guint64 h)
{
    char buf[17];
    g_snprintf(buf, sizeof buf, "%016" G_GINT64_MODIFIER "x", h);
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, buf);
}

static guint64
get_hash(JsonObject *o, const char *name)
{
    if (!json_object_has_member(o, name))
        return 0;
    JsonNode *n = json_object_get_member(o, name);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return 0;
    return g_ascii_strtoull(json_node_get_string(n), NULL, 16);
}

static const char *
get_str(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name))
        return NULL;
    JsonNode *n = json_object_get_member(o, name);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gint64
get_int(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name))
        return 0;
    JsonNode *n = json_object_get_member(o, name);
    if (!JSON_NODE_HOLDS_VALUE(n))
        return 0;
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64)
        return json_node_get_int(n);
    if (t == G_TYPE_DOUBLE)
        return (gint64)json_node_get_double(n);
    return 0;
}

JsonNode *
bw_fingerprint_to_json(const bw_fingerprint_t *fp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_hash(b, "subject_template", fp->subject_template);
    add_hash(b, "url_domains", fp->url_domains);
    add_hash(b, "origin_network", fp->origin_network);
    add_hash(b, "msgid_shape", fp->msgid_shape);
    add_hash(b, "mailer", fp->mailer);
    add_hash(b, "body_simhash", fp->body_simhash);
    add_hash(b, "forged_sender", fp->forged_sender);
    bw_json_add_str(b, "subject_masked", fp->subject_masked);
    add_hash(b, "subject_names", fp->subject_names);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

void
bw_fingerprint_from_json(JsonNode *node, bw_fingerprint_t *fp)
{
    memset(fp, 0, sizeof *fp);
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return;
    JsonObject *o = json_node_get_object(node);
    fp->subject_template = get_hash(o, "subject_template");
    fp->url_domains = get_hash(o, "url_domains");
    fp->origin_network = get_hash(o, "origin_network");
    fp->msgid_shape = get_hash(o, "msgid_shape");
    fp->mailer = get_hash(o, "mailer");
    fp->body_simhash = get_hash(o, "body_simhash");
    fp->forged_sender = get_hash(o, "forged_sender");
    fp->subject_masked = g_strdup(get_str(o, "subject_masked"));
    fp->subject_names = get_hash(o, "subject_names");
}

/* ------------------------------------------------------------ items */

JsonNode *
bw_item_to_json(const bw_item_t *item)
{
    g_return_val_if_fail(item != NULL, NULL);
    g_return_val_if_fail(!item->slim, NULL);   /* (bw-scan.h: its report is not whole) */
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    bw_json_add_str(b, "message_id", item->message_id);
    bw_json_add_str(b, "file", item->file);
    json_builder_set_member_name(b, "date_unix");
    json_builder_add_int_value(b, item->date_unix);
    bw_json_add_str(b, "class", bw_class_to_string(item->klass));
    json_builder_set_member_name(b, "score");
    json_builder_add_double_value(b, item->score);
    bw_json_add_strv(b, "evidence", item->evidence);
    bw_json_add_str(b, "origin", bw_origin_to_string(item->origin));
    json_builder_set_member_name(b, "fingerprint");
    json_builder_add_value(b, bw_fingerprint_to_json(&item->fp));
    bw_json_add_str(b, "campaign", item->campaign);
    if (item->anomaly)
        bw_json_add_str(b, "anomaly", item->anomaly);
    json_builder_set_member_name(b, "report");
    if (item->report)
        json_builder_add_value(b, bw_report_to_json(item->report, item->file, -1, NULL));
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* ------------------------------------------------------------ item text
 * bw_json_node_to_text(bw_item_to_json(item)) written straight into a
 * string: the store writes one per report it saves (a full scan: every
 * report), and the JsonBuilder tree, its generator and its free cost ~300 k
 * instructions a report (~400 M of a full scan at 160k messages).  The
 * same bytes whenever every string of the item is NULL or valid UTF-8 and
 * no list holds a NULL: json-glib 1.6 escapes what json-write.c's writer
 * escapes (the quote, the backslash, the controls but U+001F, DEL) in the
 * same way, and bw_json_node_to_text escapes U+001F as that writer does.
 * Any other item (a diagnostic copied from an 8-bit part, which json-glib
 * writes raw and the direct writer repairs) goes json-glib's way, as
 * before.  check_parse's test_item_text compares both. */

static bool
text_plain(const char *s)
{
    return s == NULL || bw_utf8_validate(s, -1);
}

static bool
list_plain(const GPtrArray *v)
{
    for (guint i = 0; v != NULL && i < v->len; i++) {
        const char *s = g_ptr_array_index(v, i);
        if (s == NULL || !bw_utf8_validate(s, -1))
            return false;
    }
    return true;
}

/* Every string bw_report_json_append writes of `r` (with `file`). */
static bool
report_plain(const bw_report_t *r)
{
    if (r->recipients == NULL)
        return false;
    if (!text_plain(r->family) || !text_plain(r->feedback_type) || !text_plain(r->message_id) ||
        !text_plain(r->from) || !list_plain(r->to) || !text_plain(r->subject) ||
        !text_plain(r->date) || !text_plain(r->in_reply_to) || !list_plain(r->references) ||
        !text_plain(r->auto_submitted))
        return false;
    for (guint i = 0; i < r->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        if (rc == NULL || !text_plain(rc->address) || !text_plain(rc->original_address) ||
            !text_plain(rc->action) || !text_plain(rc->status) || !text_plain(rc->reply_code) ||
            !text_plain(rc->remote_mta) || !text_plain(rc->diagnostic))
            return false;
    }
    const bw_original_t *o = r->original;
    return o == NULL ||
           (text_plain(o->message_id) && text_plain(o->from) && list_plain(o->to) &&
            text_plain(o->subject) && text_plain(o->date) && text_plain(o->return_path) &&
            list_plain(o->received) && text_plain(o->dkim_domain) && text_plain(o->x_mailer) &&
            text_plain(o->in_reply_to) && list_plain(o->url_domains));
}

static bool
item_plain(const bw_item_t *it)
{
    return text_plain(it->message_id) && text_plain(it->file) && list_plain(it->evidence) &&
           text_plain(it->fp.subject_masked) && text_plain(it->campaign) &&
           text_plain(it->anomaly) && (it->report == NULL || report_plain(it->report));
}

/* A string already known plain (above). */
static void
put_text(GString *out, const char *s)
{
    if (s == NULL || !bw_json_string_append(out, s))
        g_string_append(out, "null");
}

static void
put_key_text(GString *out, const char *key, const char *s)
{
    g_string_append(out, key);
    put_text(out, s);
}

static void
put_key_hash(GString *out, const char *key, guint64 h)
{
    static const char hex[] = "0123456789abcdef";
    char buf[19];
    buf[0] = '"';
    for (int i = 0; i < 16; i++)
        buf[1 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
    buf[17] = '"';
    g_string_append(out, key);
    g_string_append_len(out, buf, 18);
}

/* A double as json-glib 1.6 writes it: g_ascii_dtostr's text, with ".0"
 * after one that holds digits only; anything else (an exponent, a NaN)
 * by json-glib itself. */
static void
put_double(GString *out, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(buf, sizeof buf, v);
    bool dot = false, plain = buf[0] != '\0';
    for (const char *p = buf; *p && plain; p++) {
        if (*p == '.')
            dot = true;
        else if (!g_ascii_isdigit(*p) && !(*p == '-' && p == buf))
            plain = false;
    }
    if (plain) {
        g_string_append(out, buf);
        if (!dot)
            g_string_append(out, ".0");
        return;
    }
    JsonNode *n = json_node_init_double(json_node_alloc(), v);
    g_autofree char *t = json_to_string(n, FALSE);
    json_node_unref(n);
    g_string_append(out, t ? t : "null");
}

char *
bw_item_to_json_text(const bw_item_t *item)
{
    g_return_val_if_fail(item != NULL, NULL);
    g_return_val_if_fail(!item->slim, NULL);
    if (!item_plain(item))
        return bw_json_node_take_text(bw_item_to_json(item));
    GString *out = g_string_sized_new(4096);
    put_key_text(out, "{\"message_id\":", item->message_id);
    put_key_text(out, ",\"file\":", item->file);
    g_string_append_printf(out, ",\"date_unix\":%" G_GINT64_FORMAT, item->date_unix);
    put_key_text(out, ",\"class\":", bw_class_to_string(item->klass));
    g_string_append(out, ",\"score\":");
    put_double(out, item->score);
    g_string_append(out, ",\"evidence\":[");
    for (guint i = 0; item->evidence != NULL && i < item->evidence->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        put_text(out, g_ptr_array_index(item->evidence, i));
    }
    g_string_append_c(out, ']');
    put_key_text(out, ",\"origin\":", bw_origin_to_string(item->origin));
    const bw_fingerprint_t *fp = &item->fp;
    put_key_hash(out, ",\"fingerprint\":{\"subject_template\":", fp->subject_template);
    put_key_hash(out, ",\"url_domains\":", fp->url_domains);
    put_key_hash(out, ",\"origin_network\":", fp->origin_network);
    put_key_hash(out, ",\"msgid_shape\":", fp->msgid_shape);
    put_key_hash(out, ",\"mailer\":", fp->mailer);
    put_key_hash(out, ",\"body_simhash\":", fp->body_simhash);
    put_key_hash(out, ",\"forged_sender\":", fp->forged_sender);
    put_key_text(out, ",\"subject_masked\":", fp->subject_masked);
    put_key_hash(out, ",\"subject_names\":", fp->subject_names);
    put_key_text(out, "},\"campaign\":", item->campaign);
    if (item->anomaly)
        put_key_text(out, ",\"anomaly\":", item->anomaly);
    g_string_append(out, ",\"report\":");
    if (item->report)
        bw_report_json_append(out, item->report, item->file, -1, NULL);
    else
        g_string_append(out, "null");
    g_string_append_c(out, '}');
    return g_string_free(out, FALSE);
}

bw_status_t
bw_item_from_json(JsonNode *node, bw_item_t **out, char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
        return bw_error_set(detail, BW_E_INVALID, "item is not a JSON object");
    }
    JsonObject *o = json_node_get_object(node);
    const char *mid = get_str(o, "message_id");
    if (mid == NULL) {
        return bw_error_set(detail, BW_E_INVALID, "item has no message_id");
    }
    g_autoptr(bw_item_t) it = g_new0(bw_item_t, 1);
    it->message_id = g_strdup(mid);
    it->file = g_strdup(get_str(o, "file"));
    it->date_unix = get_int(o, "date_unix");
    it->klass = class_from_string(get_str(o, "class"));
    if (json_object_has_member(o, "score")) {
        JsonNode *n = json_object_get_member(o, "score");
        if (JSON_NODE_HOLDS_VALUE(n))
            it->score = json_node_get_double(n);
    }
    if (it->score < 0.0 || it->score > 1.0 || it->score != it->score)
        it->score = 0.0;
    it->evidence = g_ptr_array_new_with_free_func(g_free);
    if (json_object_has_member(o, "evidence")) {
        JsonNode *n = json_object_get_member(o, "evidence");
        if (JSON_NODE_HOLDS_ARRAY(n)) {
            JsonArray *a = json_node_get_array(n);
            for (guint i = 0; i < json_array_get_length(a) && i < 64; i++) {
                JsonNode *e = json_array_get_element(a, i);
                if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                    g_ptr_array_add(it->evidence, g_strdup(json_node_get_string(e)));
            }
        }
    }
    it->origin = origin_from_string(get_str(o, "origin"));
    bw_fingerprint_from_json(json_object_get_member(o, "fingerprint"), &it->fp);
    it->campaign = g_strdup(get_str(o, "campaign"));
    it->anomaly = g_strdup(get_str(o, "anomaly"));
    if (json_object_has_member(o, "report") &&
        JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "report"))) {
        bw_report_t *r = NULL;
        bw_status_t st = bw_report_from_json(json_object_get_member(o, "report"), &r, detail);
        if (st != BW_OK)
            return st;
        it->report = r;
    }
    *out = g_steal_pointer(&it);
    return BW_OK;
}

/* ------------------------------------------------------------ the document */

static void
original_summary(JsonBuilder *b, const bw_original_t *o)
{
    json_builder_set_member_name(b, "original");
    if (o == NULL) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    bw_json_add_str(b, "message_id", o->message_id);
    bw_json_add_str(b, "from", o->from);
    bw_json_add_strv(b, "to", o->to);
    bw_json_add_str(b, "subject", o->subject);
    bw_json_add_str(b, "date", o->date);
    json_builder_end_object(b);
}

/* A `bounces` entry's score: rounded to three decimals.  A score whose
 * thousandfold is not a gint64 (NaN, infinite, beyond +-9.2e15: no
 * classification gives one, a damaged or hand-made item might) is written
 * as it is: converting it would be undefined behaviour (UBSan caught it
 * with test_item_text's 1e21). */
static double
entry_score(double score)
{
    double x = score * 1000.0 + 0.5;
    if (!(x > -9.2e18 && x < 9.2e18))
        return score;
    return (double)(gint64)x / 1000.0;
}

static void
item_entry(JsonBuilder *b, const bw_item_t *it)
{
    json_builder_begin_object(b);
    bw_json_add_str(b, "message_id", it->message_id);
    bw_json_add_str(b, "file", it->file);
    add_time_or_null(b, "date", it->date_unix);
    bw_json_add_str(b, "kind", it->report ? bw_kind_to_string(it->report->kind) : NULL);
    bw_json_add_str(b, "class", bw_class_to_string(it->klass));
    json_builder_set_member_name(b, "score");
    json_builder_add_double_value(b, entry_score(it->score));
    bw_json_add_str(b, "campaign", it->klass == BW_CLASS_BACKSCATTER ? it->campaign : NULL);
    bw_json_add_strv(b, "evidence", it->evidence);
    json_builder_set_member_name(b, "recipients");
    json_builder_begin_array(b);
    for (guint i = 0; it->report && it->report->recipients && i < it->report->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(it->report->recipients, i);
        json_builder_begin_object(b);
        bw_json_add_str(b, "address", rc->address);
        bw_json_add_str(b, "status", rc->status);
        bw_json_add_str(b, "reason", bw_reason_to_string(rc->reason));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    if (it->klass == BW_CLASS_BACKSCATTER) {
        bw_json_add_str(b, "origin", bw_origin_to_string(it->origin));
    }
    original_summary(b, it->report ? it->report->original : NULL);
    json_builder_end_object(b);
}

/* The text of item_entry's object (bw_json_node_to_text of it) written
 * straight into a string, as bw_item_to_json_text writes the row's (see
 * there: the same bytes for strings that are NULL or valid UTF-8, lists
 * without a NULL); NULL for any other item: the caller takes json-glib's
 * way.  The snapshot writes one per saved report (snapshot.c). */
char *
bw_item_entry_text(const bw_item_t *it)
{
    g_return_val_if_fail(it != NULL && !it->slim, NULL);
    const bw_report_t *r = it->report;
    const bw_original_t *o = r ? r->original : NULL;
    if (!text_plain(it->message_id) || !text_plain(it->file) || !list_plain(it->evidence) ||
        !text_plain(it->campaign))
        return NULL;
    for (guint i = 0; r && r->recipients && i < r->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        if (rc == NULL || !text_plain(rc->address) || !text_plain(rc->status))
            return NULL;
    }
    if (o != NULL && (!text_plain(o->message_id) || !text_plain(o->from) || !list_plain(o->to) ||
                      !text_plain(o->subject) || !text_plain(o->date)))
        return NULL;
    g_autofree char *date = it->date_unix > 0 ? bw_time_format(it->date_unix, 0) : NULL;
    if (it->date_unix > 0 && (date == NULL || !text_plain(date)))
        return NULL;
    GString *out = g_string_sized_new(1024);
    put_key_text(out, "{\"message_id\":", it->message_id);
    put_key_text(out, ",\"file\":", it->file);
    put_key_text(out, ",\"date\":", date);
    put_key_text(out, ",\"kind\":", r ? bw_kind_to_string(r->kind) : NULL);
    put_key_text(out, ",\"class\":", bw_class_to_string(it->klass));
    g_string_append(out, ",\"score\":");
    put_double(out, entry_score(it->score));
    put_key_text(out, ",\"campaign\":", it->klass == BW_CLASS_BACKSCATTER ? it->campaign : NULL);
    g_string_append(out, ",\"evidence\":[");
    for (guint i = 0; it->evidence != NULL && i < it->evidence->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        put_text(out, g_ptr_array_index(it->evidence, i));
    }
    g_string_append(out, "],\"recipients\":[");
    for (guint i = 0; r && r->recipients && i < r->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        if (i > 0)
            g_string_append_c(out, ',');
        put_key_text(out, "{\"address\":", rc->address);
        put_key_text(out, ",\"status\":", rc->status);
        put_key_text(out, ",\"reason\":", bw_reason_to_string(rc->reason));
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    if (it->klass == BW_CLASS_BACKSCATTER)
        put_key_text(out, ",\"origin\":", bw_origin_to_string(it->origin));
    g_string_append(out, ",\"original\":");
    if (o == NULL) {
        g_string_append(out, "null");
    } else {
        put_key_text(out, "{\"message_id\":", o->message_id);
        put_key_text(out, ",\"from\":", o->from);
        g_string_append(out, ",\"to\":[");
        for (guint i = 0; o->to != NULL && i < o->to->len; i++) {
            if (i > 0)
                g_string_append_c(out, ',');
            put_text(out, g_ptr_array_index(o->to, i));
        }
        g_string_append_c(out, ']');
        put_key_text(out, ",\"subject\":", o->subject);
        put_key_text(out, ",\"date\":", o->date);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, '}');
    return g_string_free(out, FALSE);
}

static void
campaign_entry(JsonBuilder *b, const bw_campaign_t *c)
{
    json_builder_begin_object(b);
    bw_json_add_str(b, "id", c->id);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, c->members ? c->members->len : 0);
    add_time_or_null(b, "first_seen", c->first_seen);
    add_time_or_null(b, "last_seen", c->last_seen);
    bw_json_add_strv(b, "subjects", c->subjects);
    bw_json_add_strv(b, "forged_senders", c->forged_senders);
    bw_json_add_strv(b, "reporting_domains", c->reporting_domains);
    bw_json_add_str(b, "origin", bw_origin_to_string(c->origin));
    bw_json_add_str(b, "template", c->fp.subject_masked);
    json_builder_set_member_name(b, "muted");
    json_builder_add_boolean_value(b, c->muted);
    bw_json_add_strv(b, "members", c->members);
    json_builder_end_object(b);
}

static void
surge_entry(JsonBuilder *b, const bw_surge_t *s)
{
    json_builder_begin_object(b);
    add_time_or_null(b, "start", s->start);
    add_time_or_null(b, "end", s->end);
    json_builder_set_member_name(b, "count");
    json_builder_add_int_value(b, s->count);
    json_builder_set_member_name(b, "baseline_per_hour");
    json_builder_add_double_value(b, (double)(gint64)(s->baseline_per_hour * 10000.0 + 0.5) / 10000.0);
    bw_json_add_strv(b, "campaigns", s->campaigns);
    json_builder_set_member_name(b, "ongoing");
    json_builder_add_boolean_value(b, s->ongoing);
    bw_json_add_str(b, "detector", s->detector);
    json_builder_end_object(b);
}

JsonNode *
bw_scan_result_to_json(const bw_scan_result_t *r)
{
    g_return_val_if_fail(r != NULL, NULL);
    /* a slim item's report is not whole (bw-scan.h): never printed */
    for (guint i = 0; r->items && i < r->items->len; i++)
        g_return_val_if_fail(!((const bw_item_t *)g_ptr_array_index(r->items, i))->slim, NULL);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "format_version");
    json_builder_add_int_value(b, BW_FORMAT_VERSION_CUR);
    bw_json_add_str(b, "database", r->database);
    json_builder_set_member_name(b, "revision");
    json_builder_add_int_value(b, (gint64)r->revision);
    json_builder_set_member_name(b, "messages_examined");
    json_builder_add_int_value(b, (gint64)r->messages_examined);
    json_builder_set_member_name(b, "bounces");
    json_builder_begin_array(b);
    for (guint i = 0; r->items && i < r->items->len; i++)
        item_entry(b, g_ptr_array_index(r->items, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "campaigns");
    json_builder_begin_array(b);
    for (guint i = 0; r->campaigns && i < r->campaigns->len; i++)
        campaign_entry(b, g_ptr_array_index(r->campaigns, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "surges");
    json_builder_begin_array(b);
    for (guint i = 0; r->surges && i < r->surges->len; i++)
        surge_entry(b, g_ptr_array_index(r->surges, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "skipped");
    json_builder_begin_array(b);
    for (guint i = 0; r->skipped && i < r->skipped->len; i++) {
        const bw_skipped_t *k = g_ptr_array_index(r->skipped, i);
        json_builder_begin_object(b);
        bw_json_add_str(b, "file", k->file);
        bw_json_add_str(b, "message_id", k->message_id);
        bw_json_add_str(b, "why", k->why);
        bw_json_add_str(b, "cause", k->cause);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "assessment");
    json_builder_begin_object(b);
    const bw_assessment_t *a = r->assessment;
    bw_json_add_str(b, "status",
                       bw_assessment_status_to_string(a ? a->status : BW_STATUS_CLEAR));
    bw_json_add_str(b, "summary", a ? a->summary : "");
    bw_json_add_strv(b, "advice", a ? a->advice : NULL);
    bw_json_add_strv(b, "legitimate_remedies", a ? a->legit_remedies : NULL);
    bw_json_add_strv(b, "hard_bouncing", a ? a->hard_bouncing : NULL);
    json_builder_end_object(b);
    /* SPEC 2b; dates in UTC like the rest of the document */
    json_builder_set_member_name(b, "signals");
    json_builder_begin_array(b);
    for (guint i = 0; r->signals && i < r->signals->len; i++)
        json_builder_add_value(b, bw_signal_to_json(g_ptr_array_index(r->signals, i), 0));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "phishing");
    json_builder_begin_array(b);
    for (guint i = 0; r->phishing && i < r->phishing->len; i++)
        json_builder_add_value(b, bw_phish_to_json(g_ptr_array_index(r->phishing, i), 0));
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
