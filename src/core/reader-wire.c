/* reader-wire.c: the report as the reader process sends it (bw-reader.h).
 *
 * A flat encoding in a fixed field order: strings as a u32 length and the
 * bytes (0xffffffff for NULL), lists as a u32 count and their strings.  It
 * carries everything bw_classify() and the fingerprints read, the
 * original's body text included (the SPEC line does not), so a report read
 * in the reader is classified exactly as one read in-process.  Cheap both
 * ways: one append per field, no tree, no recursion.  The decoder treats
 * its input as hostile: each read checks what is left, counts are capped,
 * text that is not UTF-8 is repaired. */
#include "bw-reader.h"
#include "bw-parse.h"

#define NULL_STRING 0xffffffffu
/* Lists the parser fills are bounded well below this. */
#define MAX_LIST 4096u

static void
put_str(GString *o, const char *s)
{
    if (s == NULL) {
        bw_wire_put_u32(o, NULL_STRING);
        return;
    }
    size_t n = strlen(s);
    bw_wire_put_u32(o, (guint32)n);
    g_string_append_len(o, s, (gssize)n);
}

static void
put_strv(GString *o, const GPtrArray *a)
{
    guint n = 0;
    for (guint i = 0; a != NULL && i < a->len && n < MAX_LIST; i++)
        n += g_ptr_array_index(a, i) != NULL;
    bw_wire_put_u32(o, n);
    for (guint i = 0, k = 0; a != NULL && i < a->len && k < n; i++) {
        const char *s = g_ptr_array_index(a, i);
        if (s != NULL) {
            put_str(o, s);
            k++;
        }
    }
}

static void
put_i64(GString *o, gint64 v)
{
    guint64 u = (guint64)v;
    bw_wire_put_u32(o, (guint32)(u & 0xffffffffu));
    bw_wire_put_u32(o, (guint32)(u >> 32));
}

void
bw_report_encode(GString *o, const bw_report_t *r)
{
    g_string_append_c(o, (char)(r->bounce ? 1 : 0));
    g_string_append_c(o, (char)r->kind);
    put_str(o, r->family);
    put_str(o, r->feedback_type);
    put_str(o, r->message_id);
    put_str(o, r->from);
    put_str(o, r->subject);
    put_str(o, r->date);
    put_i64(o, r->date_unix);
    put_str(o, r->in_reply_to);
    put_strv(o, r->references);
    put_strv(o, r->to);
    put_str(o, r->auto_submitted);
    guint n = r->recipients ? MIN(r->recipients->len, BW_MAX_RECIPIENTS) : 0;
    bw_wire_put_u32(o, n);
    for (guint i = 0; i < n; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        put_str(o, rc->address);
        put_str(o, rc->original_address);
        put_str(o, rc->action);
        put_str(o, rc->status);
        put_str(o, rc->reply_code);
        put_str(o, rc->remote_mta);
        put_str(o, rc->diagnostic);
        g_string_append_c(o, (char)rc->reason);
    }
    const bw_original_t *og = r->original;
    g_string_append_c(o, (char)(og != NULL));
    if (og == NULL)
        return;
    put_str(o, og->message_id);
    put_str(o, og->from);
    put_strv(o, og->to);
    put_str(o, og->subject);
    put_str(o, og->date);
    put_i64(o, og->date_unix);
    put_str(o, og->return_path);
    put_strv(o, og->received);
    put_str(o, og->dkim_domain);
    put_str(o, og->x_mailer);
    put_str(o, og->in_reply_to);
    put_str(o, og->body_text);
    put_strv(o, og->url_domains);
    g_string_append_c(o, (char)(og->headers_only ? 1 : 0));
}

/* ------------------------------------------------------------ decoding */

typedef struct {
    const guint8 *p;
    size_t left;
    const char *bad;   /* what was wrong first, or NULL */
} cursor_t;

static void
fail(cursor_t *c, const char *why)
{
    if (c->bad == NULL)
        c->bad = why;
    c->left = 0;
}

static guint8
get_u8(cursor_t *c)
{
    if (c->left < 1) {
        fail(c, "truncated");
        return 0;
    }
    c->left--;
    return *c->p++;
}

static guint32
get_u32(cursor_t *c)
{
    if (c->left < 4) {
        fail(c, "truncated");
        return 0;
    }
    guint32 v = bw_wire_get_u32(c->p);
    c->p += 4;
    c->left -= 4;
    return v;
}

static gint64
get_i64(cursor_t *c)
{
    guint64 lo = get_u32(c), hi = get_u32(c);
    return (gint64)(lo | (hi << 32));
}

static char *
get_str(cursor_t *c)
{
    guint32 n = get_u32(c);
    if (n == NULL_STRING || c->bad != NULL)
        return NULL;
    if (n > c->left) {
        fail(c, "a string longer than the data");
        return NULL;
    }
    const char *s = (const char *)c->p;
    c->p += n;
    c->left -= n;
    /* A NUL inside ends the string, as it would in C. */
    const char *nul = memchr(s, '\0', n);
    size_t len = nul ? (size_t)(nul - s) : n;
    if (!bw_utf8_validate(s, (gssize)len)) {
        g_autofree char *raw = g_strndup(s, len);
        return g_utf8_make_valid(raw, -1);
    }
    return g_strndup(s, len);
}

static void
get_strv(cursor_t *c, GPtrArray *out)
{
    guint32 n = get_u32(c);
    if (n > MAX_LIST || (guint64)n * 4 > c->left) {
        fail(c, "a list longer than allowed");
        return;
    }
    for (guint32 i = 0; i < n && c->bad == NULL; i++) {
        char *s = get_str(c);
        if (s != NULL)
            g_ptr_array_add(out, s);
    }
}

/* A family name the reader sends maps to an interned string (report->family
 * is static), but only when it is a plain name: a bounded alphabet keeps a
 * broken reader from interning arbitrary text in the parent. */
static const char *
family_intern(char *s)
{
    if (s == NULL)
        return NULL;
    bool plain = *s != '\0' && strlen(s) <= 32;
    for (const char *p = s; plain && *p; p++)
        plain = g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.';
    const char *out = plain ? g_intern_string(s) : NULL;
    g_free(s);
    return out;
}

bw_status_t
bw_report_decode(const void *data, size_t len, bw_report_t **out, char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    cursor_t c = { data, data ? len : 0, NULL };
    g_autoptr(bw_report_t) r = bw_report_new();
    r->bounce = get_u8(&c) != 0;
    guint8 kind = get_u8(&c);
    r->kind = kind <= BW_KIND_FEEDBACK ? (bw_kind_t)kind : BW_KIND_NONE;
    r->family = family_intern(get_str(&c));
    r->feedback_type = get_str(&c);
    r->message_id = get_str(&c);
    r->from = get_str(&c);
    r->subject = get_str(&c);
    r->date = get_str(&c);
    r->date_unix = get_i64(&c);
    r->in_reply_to = get_str(&c);
    get_strv(&c, r->references);
    get_strv(&c, r->to);
    r->auto_submitted = get_str(&c);
    guint32 n = get_u32(&c);
    if (n > BW_MAX_RECIPIENTS || (guint64)n * 29 > c.left)
        fail(&c, "more recipients than allowed");
    for (guint32 i = 0; i < n && c.bad == NULL; i++) {
        bw_recipient_t *rc = bw_recipient_new();
        rc->address = get_str(&c);
        rc->original_address = get_str(&c);
        rc->action = get_str(&c);
        rc->status = get_str(&c);
        rc->reply_code = get_str(&c);
        rc->remote_mta = get_str(&c);
        rc->diagnostic = get_str(&c);
        guint8 reason = get_u8(&c);
        rc->reason = reason < BW_REASON_LAST ? (bw_reason_t)reason : BW_REASON_UNKNOWN;
        g_ptr_array_add(r->recipients, rc);
    }
    if (get_u8(&c) != 0) {
        bw_original_t *o = bw_original_new();
        r->original = o;
        o->message_id = get_str(&c);
        o->from = get_str(&c);
        get_strv(&c, o->to);
        o->subject = get_str(&c);
        o->date = get_str(&c);
        o->date_unix = get_i64(&c);
        o->return_path = get_str(&c);
        get_strv(&c, o->received);
        o->dkim_domain = get_str(&c);
        o->x_mailer = get_str(&c);
        o->in_reply_to = get_str(&c);
        o->body_text = get_str(&c);
        get_strv(&c, o->url_domains);
        o->headers_only = get_u8(&c) != 0;
    }
    if (c.bad == NULL && c.left != 0)
        fail(&c, "bytes after the report");
    if (c.bad != NULL)
        return bw_error_set(detail, BW_E_INVALID, "the reader sent a damaged report (%s)", c.bad);
    *out = g_steal_pointer(&r);
    return BW_OK;
}

/* The parent's check of an answer's JSON, before anything reads it
 * (GLib only: the parse front passes answers on without json-glib). */
bw_status_t
bw_reader_payload_check(const char *json, size_t len, char **why)
{
    if (json == NULL || len == 0)
        return bw_error_set(why, BW_E_INVALID, "%s", "an empty answer");
    if (memchr(json, '\0', len) != NULL)
        return bw_error_set(why, BW_E_INVALID, "%s", "a NUL in the answer");
    if (!bw_utf8_validate(json, (gssize)len))
        return bw_error_set(why, BW_E_INVALID, "%s", "an answer that is not UTF-8");
    g_autofree char *cap = NULL;
    bw_status_t st = bw_caps_check_json(json, len, &cap);
    if (st == BW_E_REFUSED)
        return bw_error_set(why, BW_E_INVALID, "an answer past a cap (%s)", cap ? cap : "?");
    if (st != BW_OK)
        return bw_error_set(why, BW_E_INVALID, "%s", "an answer that is not JSON");
    return BW_OK;
}
