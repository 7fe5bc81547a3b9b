/* json.c: the shared/SPEC.md section 1 object of one parse result, and its
 * inverse for the state store (bw_report_from_json), which must rebuild a
 * report without the mail.  The SPEC keys come first (after
 * "format_version", BW_FORMAT_VERSION_CUR in bw.h) and keep their names
 * and types; the extra keys ("family", "feedback_type", "message", and the
 * original's extras) are additions the SPEC allows. */
#include "bw-parse.h"
#include "bw-scan.h"
#include "bw-reader.h"
#include <string.h>

char *
bw_json_node_to_text(JsonNode *n)
{
    char *s = json_to_string(n, FALSE);
    if (s == NULL || strchr(s, 0x1f) == NULL)
        return s;
    GString *out = g_string_sized_new(strlen(s) + 16);
    for (const char *p = s; *p; p++) {
        if (*p == 0x1f)
            g_string_append(out, "\\u001f");
        else
            g_string_append_c(out, *p);
    }
    g_free(s);
    return g_string_free(out, FALSE);
}

char *
bw_json_node_take_text(JsonNode *n)
{
    char *s = bw_json_node_to_text(n);
    json_node_unref(n);
    return s;
}

char *
bw_json_string_take(GString *out)
{
    gsize n = out->len;
    return g_realloc(g_string_free(out, FALSE), n + 1);
}

void
bw_json_add_str(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
bw_json_add_strv(JsonBuilder *b, const char *key, const GPtrArray *values)
{
    json_builder_set_member_name(b, key);
    json_builder_begin_array(b);
    for (guint i = 0; values != NULL && i < values->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(values, i));
    json_builder_end_array(b);
}

static void
build_original(JsonBuilder *b, const bw_original_t *o)
{
    json_builder_begin_object(b);
    bw_json_add_str(b, "message_id", o->message_id);
    bw_json_add_str(b, "from", o->from);
    bw_json_add_strv(b, "to", o->to);
    bw_json_add_str(b, "subject", o->subject);
    bw_json_add_str(b, "date", o->date);
    bw_json_add_str(b, "return_path", o->return_path);
    /* extras for the backscatter verdict */
    bw_json_add_strv(b, "received", o->received);
    bw_json_add_str(b, "dkim_domain", o->dkim_domain);
    bw_json_add_str(b, "x_mailer", o->x_mailer);
    bw_json_add_str(b, "in_reply_to", o->in_reply_to);
    bw_json_add_strv(b, "url_domains", o->url_domains);
    json_builder_set_member_name(b, "headers_only");
    json_builder_add_boolean_value(b, o->headers_only);
    json_builder_end_object(b);
}

JsonNode *
bw_original_to_json(const bw_original_t *o)
{
    if (o == NULL)
        return json_node_new(JSON_NODE_NULL);
    g_autoptr(JsonBuilder) b = json_builder_new();
    build_original(b, o);
    return json_builder_get_root(b);
}

static void
build_recipient(JsonBuilder *b, const bw_recipient_t *r)
{
    json_builder_begin_object(b);
    bw_json_add_str(b, "address", r->address);
    bw_json_add_str(b, "original_address", r->original_address);
    bw_json_add_str(b, "action", r->action);
    bw_json_add_str(b, "status", r->status);
    bw_json_add_str(b, "reply_code", r->reply_code);
    bw_json_add_str(b, "reason", bw_reason_to_string(r->reason));
    bw_json_add_str(b, "remote_mta", r->remote_mta);
    bw_json_add_str(b, "diagnostic", r->diagnostic);
    json_builder_end_object(b);
}

static void
build_report_fields(JsonBuilder *b, const bw_report_t *report)
{
    json_builder_set_member_name(b, "bounce");
    json_builder_add_boolean_value(b, report != NULL && report->bounce);
    bw_json_add_str(b, "kind", report != NULL && report->bounce ? bw_kind_to_string(report->kind) : NULL);
    bw_json_add_str(b, "family", report != NULL && report->bounce ? report->family : NULL);
    json_builder_set_member_name(b, "recipients");
    json_builder_begin_array(b);
    for (guint i = 0; report != NULL && i < report->recipients->len; i++)
        build_recipient(b, g_ptr_array_index(report->recipients, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "original");
    if (report != NULL && report->original != NULL)
        build_original(b, report->original);
    else
        json_builder_add_null_value(b);
    bw_json_add_str(b, "feedback_type", report != NULL ? report->feedback_type : NULL);
    /* The report's own headers (the scan engine uses them). */
    json_builder_set_member_name(b, "message");
    if (report == NULL) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    bw_json_add_str(b, "message_id", report->message_id);
    bw_json_add_str(b, "from", report->from);
    bw_json_add_strv(b, "to", report->to);
    bw_json_add_str(b, "subject", report->subject);
    bw_json_add_str(b, "date", report->date);
    bw_json_add_str(b, "in_reply_to", report->in_reply_to);
    bw_json_add_strv(b, "references", report->references);
    bw_json_add_str(b, "auto_submitted", report->auto_submitted);
    json_builder_end_object(b);
}

JsonNode *
bw_report_to_json(const bw_report_t *report, const char *file, int index, const char *error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "format_version");
    json_builder_add_int_value(b, BW_FORMAT_VERSION_CUR);
    bw_json_add_str(b, "file", file);
    if (index >= 0) {
        json_builder_set_member_name(b, "index");
        json_builder_add_int_value(b, index);
    }
    build_report_fields(b, error == NULL ? report : NULL);
    bw_json_add_str(b, "error", error);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* ------------------------------------------------------------ reading back */

static char *
get_str(JsonObject *o, const char *key)
{
    if (o == NULL || !json_object_has_member(o, key))
        return NULL;
    JsonNode *n = json_object_get_member(o, key);
    if (n == NULL || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return g_strdup(json_node_get_string(n));
}

static void
get_strv(JsonObject *o, const char *key, GPtrArray *out, guint max)
{
    if (o == NULL || !json_object_has_member(o, key))
        return;
    JsonNode *n = json_object_get_member(o, key);
    if (n == NULL || JSON_NODE_TYPE(n) != JSON_NODE_ARRAY)
        return;
    JsonArray *a = json_node_get_array(n);
    guint len = json_array_get_length(a);
    for (guint i = 0; i < len && out->len < max; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (JSON_NODE_TYPE(e) == JSON_NODE_VALUE && json_node_get_value_type(e) == G_TYPE_STRING)
            g_ptr_array_add(out, g_strdup(json_node_get_string(e)));
    }
}

static JsonObject *
get_obj(JsonObject *o, const char *key)
{
    if (o == NULL || !json_object_has_member(o, key))
        return NULL;
    JsonNode *n = json_object_get_member(o, key);
    return n != NULL && JSON_NODE_TYPE(n) == JSON_NODE_OBJECT ? json_node_get_object(n) : NULL;
}

static bw_original_t *
original_from_object(JsonObject *oo)
{
    bw_original_t *o = bw_original_new();
    o->message_id = get_str(oo, "message_id");
    o->from = get_str(oo, "from");
    get_strv(oo, "to", o->to, BW_KEEP_TO);
    o->subject = get_str(oo, "subject");
    o->date = get_str(oo, "date");
    if (o->date != NULL)
        bw_time_parse(o->date, &o->date_unix, NULL);
    o->return_path = get_str(oo, "return_path");
    get_strv(oo, "received", o->received, BW_KEEP_RECEIVED);
    o->dkim_domain = get_str(oo, "dkim_domain");
    o->x_mailer = get_str(oo, "x_mailer");
    o->in_reply_to = get_str(oo, "in_reply_to");
    get_strv(oo, "url_domains", o->url_domains, BW_KEEP_URL_DOMAINS);
    /* A damaged row may hold anything there: only a boolean is read
     * (json-glib's member getters assert on other node types). */
    JsonNode *ho = json_object_get_member(oo, "headers_only");
    o->headers_only = ho != NULL && JSON_NODE_HOLDS_VALUE(ho)
                      && json_node_get_value_type(ho) == G_TYPE_BOOLEAN && json_node_get_boolean(ho);
    return o;
}

/* The static family names a report may carry: reloading maps the JSON
 * string back to a static string (report->family is not owned). */
static const char *
intern_family(const char *s)
{
    if (s == NULL)
        return NULL;
    return g_intern_string(s);
}

bw_status_t
bw_report_from_json(JsonNode *node, bw_report_t **out, char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    if (node == NULL || JSON_NODE_TYPE(node) != JSON_NODE_OBJECT) {
        return bw_error_set(detail, BW_E_INVALID, "report JSON is not an object");
    }
    JsonObject *o = json_node_get_object(node);
    bw_report_t *r = bw_report_new();
    if (json_object_has_member(o, "bounce")) {
        JsonNode *n = json_object_get_member(o, "bounce");
        r->bounce = JSON_NODE_TYPE(n) == JSON_NODE_VALUE && json_node_get_boolean(n);
    }
    g_autofree char *kind = get_str(o, "kind");
    r->kind = bw_kind_from_string(kind);
    g_autofree char *family = get_str(o, "family");
    r->family = intern_family(family);
    r->feedback_type = get_str(o, "feedback_type");
    if (json_object_has_member(o, "recipients")) {
        JsonNode *n = json_object_get_member(o, "recipients");
        if (JSON_NODE_TYPE(n) == JSON_NODE_ARRAY) {
            JsonArray *a = json_node_get_array(n);
            guint len = json_array_get_length(a);
            for (guint i = 0; i < len && i < BW_MAX_RECIPIENTS; i++) {
                JsonNode *e = json_array_get_element(a, i);
                if (JSON_NODE_TYPE(e) != JSON_NODE_OBJECT)
                    continue;
                JsonObject *ro = json_node_get_object(e);
                bw_recipient_t *rc = bw_recipient_new();
                rc->address = get_str(ro, "address");
                rc->original_address = get_str(ro, "original_address");
                rc->action = get_str(ro, "action");
                rc->status = get_str(ro, "status");
                rc->reply_code = get_str(ro, "reply_code");
                g_autofree char *reason = get_str(ro, "reason");
                rc->reason = bw_reason_from_string(reason);
                rc->remote_mta = get_str(ro, "remote_mta");
                rc->diagnostic = get_str(ro, "diagnostic");
                g_ptr_array_add(r->recipients, rc);
            }
        }
    }
    JsonObject *oo = get_obj(o, "original");
    if (oo != NULL)
        r->original = original_from_object(oo);
    JsonObject *mo = get_obj(o, "message");
    if (mo != NULL) {
        r->message_id = get_str(mo, "message_id");
        r->from = get_str(mo, "from");
        get_strv(mo, "to", r->to, BW_KEEP_TO);
        r->subject = get_str(mo, "subject");
        r->date = get_str(mo, "date");
        if (r->date != NULL)
            bw_time_parse(r->date, &r->date_unix, NULL);
        r->in_reply_to = get_str(mo, "in_reply_to");
        get_strv(mo, "references", r->references, BW_KEEP_REFERENCES);
        r->auto_submitted = get_str(mo, "auto_submitted");
    }
    *out = r;
    return BW_OK;
}
