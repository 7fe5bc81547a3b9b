/* json-write.c: the SPEC section 1 object of one parse result written
 * straight into a string (GLib only: the parse front links this, and
 * json.c's JsonNode builders and reader need json-glib). */
#include "bw-parse.h"
#include "bw-scan.h"
#include "bw-reader.h"
#include <string.h>

/* ------------------------------------------------------------ direct writer
 * The same object as bw_report_to_json, written straight into a string:
 * `parse` prints one per message, and building a JsonNode tree to serialise
 * it at once cost more than a tenth of a whole parse in profiles.  The unit
 * tests check that both give equal JSON.  Strings that are not valid UTF-8
 * (a diagnostic copied from an 8-bit part) are repaired, so the output is
 * always valid JSON. */

static void
w_str(GString *out, const char *s)
{
    if (s == NULL) {
        g_string_append(out, "null");
        return;
    }
    g_autofree char *fixed = NULL;
    if (!bw_utf8_validate(s, -1))
        s = fixed = g_utf8_make_valid(s, -1);
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* Copy runs of characters that need no escape in one append. */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
            p++;
        if (p > run)
            g_string_append_len(out, (const char *)run, (gssize)(p - run));
        if (*p == '\0')
            break;
        switch (*p) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

static void
w_key(GString *out, const char *key, bool *first)
{
    if (!*first)
        g_string_append_c(out, ',');
    *first = false;
    g_string_append_c(out, '"');
    g_string_append(out, key);
    g_string_append(out, "\":");
}

static void
w_kstr(GString *out, const char *key, const char *value, bool *first)
{
    w_key(out, key, first);
    w_str(out, value);
}

static void
w_kstrv(GString *out, const char *key, const GPtrArray *v, bool *first)
{
    w_key(out, key, first);
    g_string_append_c(out, '[');
    for (guint i = 0; v != NULL && i < v->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        w_str(out, g_ptr_array_index(v, i));
    }
    g_string_append_c(out, ']');
}

static void
w_original(GString *out, const bw_original_t *o)
{
    bool f = true;
    g_string_append_c(out, '{');
    w_kstr(out, "message_id", o->message_id, &f);
    w_kstr(out, "from", o->from, &f);
    w_kstrv(out, "to", o->to, &f);
    w_kstr(out, "subject", o->subject, &f);
    w_kstr(out, "date", o->date, &f);
    w_kstr(out, "return_path", o->return_path, &f);
    w_kstrv(out, "received", o->received, &f);
    w_kstr(out, "dkim_domain", o->dkim_domain, &f);
    w_kstr(out, "x_mailer", o->x_mailer, &f);
    w_kstr(out, "in_reply_to", o->in_reply_to, &f);
    w_kstrv(out, "url_domains", o->url_domains, &f);
    w_key(out, "headers_only", &f);
    g_string_append(out, o->headers_only ? "true" : "false");
    g_string_append_c(out, '}');
}

void
bw_report_json_head(GString *out, const char *file, int index)
{
    bool f = true;
    g_string_append_c(out, '{');
    w_key(out, "format_version", &f);
    g_string_append_printf(out, "%d", BW_FORMAT_VERSION_CUR);
    w_kstr(out, "file", file, &f);
    if (index >= 0) {
        w_key(out, "index", &f);
        g_string_append_printf(out, "%d", index);
    }
}

char *
bw_report_to_json_string(const bw_report_t *report, const char *file, int index, const char *error)
{
    GString *out = g_string_sized_new(1024);
    bw_report_json_append(out, report, file, index, error);
    return g_string_free(out, FALSE);
}

void
bw_report_json_append(GString *out, const bw_report_t *report, const char *file, int index,
                      const char *error)
{
    if (error != NULL)
        report = NULL;
    bw_report_json_head(out, file, index);
    bool f = false;
    bool bounce = report != NULL && report->bounce;
    w_key(out, "bounce", &f);
    g_string_append(out, bounce ? "true" : "false");
    w_kstr(out, "kind", bounce ? bw_kind_to_string(report->kind) : NULL, &f);
    w_kstr(out, "family", bounce ? report->family : NULL, &f);
    w_key(out, "recipients", &f);
    g_string_append_c(out, '[');
    for (guint i = 0; report != NULL && i < report->recipients->len; i++) {
        const bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        bool rf = true;
        if (i > 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        w_kstr(out, "address", r->address, &rf);
        w_kstr(out, "original_address", r->original_address, &rf);
        w_kstr(out, "action", r->action, &rf);
        w_kstr(out, "status", r->status, &rf);
        w_kstr(out, "reply_code", r->reply_code, &rf);
        w_kstr(out, "reason", bw_reason_to_string(r->reason), &rf);
        w_kstr(out, "remote_mta", r->remote_mta, &rf);
        w_kstr(out, "diagnostic", r->diagnostic, &rf);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    w_key(out, "original", &f);
    if (report != NULL && report->original != NULL)
        w_original(out, report->original);
    else
        g_string_append(out, "null");
    w_kstr(out, "feedback_type", report != NULL ? report->feedback_type : NULL, &f);
    w_key(out, "message", &f);
    if (report == NULL) {
        g_string_append(out, "null");
    } else {
        bool mf = true;
        g_string_append_c(out, '{');
        w_kstr(out, "message_id", report->message_id, &mf);
        w_kstr(out, "from", report->from, &mf);
        w_kstrv(out, "to", report->to, &mf);
        w_kstr(out, "subject", report->subject, &mf);
        w_kstr(out, "date", report->date, &mf);
        w_kstr(out, "in_reply_to", report->in_reply_to, &mf);
        w_kstrv(out, "references", report->references, &mf);
        w_kstr(out, "auto_submitted", report->auto_submitted, &mf);
        g_string_append_c(out, '}');
    }
    w_kstr(out, "error", error, &f);
    g_string_append_c(out, '}');
}
