/* json-write.c: the SPEC section 1 object of one parse result written
 * straight into a string (GLib only: the parse front links this, and
 * json.c's JsonNode builders and reader need json-glib). */
#include "bw-parse.h"
#include "bw-scan.h"
#include "bw-reader.h"
#include "bw-signals-private.h"
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------ direct writer
 * The same object as bw_report_to_json, written straight into a string:
 * `parse` prints one per message, and building a JsonNode tree to serialise
 * it at once cost more than a tenth of a whole parse in profiles.  The unit
 * tests check that both give equal JSON.  Strings that are not valid UTF-8
 * (a diagnostic copied from an 8-bit part) are repaired, so the output is
 * always valid JSON. */

/* Appends without a library call when the string has room (GLib before
 * 2.76 has no inline g_string_append_len: a call and its checks per key
 * and per value were a third of the writer's cost). */
static inline void
put(GString *out, const char *s, size_t n)
{
    if (out->len + n < out->allocated_len) {
        memcpy(out->str + out->len, s, n);
        out->len += n;
        out->str[out->len] = '\0';
    } else {
        g_string_append_len(out, s, (gssize)n);
    }
}

#define PUT_LIT(out, lit) put((out), (lit), sizeof(lit) - 1)

static inline void
put_c(GString *out, char c)
{
    if (out->len + 1 < out->allocated_len) {
        out->str[out->len++] = c;
        out->str[out->len] = '\0';
    } else {
        g_string_append_c(out, c);
    }
}

/* A byte JSON wants escaped (or one the output never carries raw). */
static inline bool
needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c == 0x7f;
}

/* A decimal integer (printf costs a thousand instructions a number). */
static void
put_int(GString *out, gint64 v)
{
    char buf[24];
    size_t i = sizeof buf;
    guint64 u = v < 0 ? (guint64)0 - (guint64)v : (guint64)v;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[--i] = '-';
    put(out, buf + i, sizeof buf - i);
}

static void
w_str(GString *out, const char *s)
{
    if (s == NULL) {
        PUT_LIT(out, "null");
        return;
    }
    /* One look at the bytes: ASCII without anything to escape (nearly
     * every value) is copied as it is; anything else takes the general
     * way below, as before. */
    size_t n = strlen(s);
    bool plain = true;
    size_t i = 0;
#ifdef __SSE2__
    /* sixteen at a time: '"', '\\', DEL, or below 0x20 as a signed byte
     * (which takes 0x80-0xFF too) */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  del = _mm_set1_epi8(0x7f), space = _mm_set1_epi8(0x20);
    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmplt_epi8(v, space)));
        if (_mm_movemask_epi8(bad) != 0) {
            plain = false;
            break;
        }
    }
#endif
    /* eight bytes at a time: any byte >= 0x80, < 0x20, '"', '\\' or DEL */
    const guint64 ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; plain && n - i >= 8; i += 8) {
        guint64 w;
        memcpy(&w, s + i, 8);
        guint64 q = w ^ (ones * '"'), b = w ^ (ones * '\\'), d = w ^ (ones * 0x7f);
        if ((w & highs) != 0 || ((w - ones * 0x20) & ~w & highs) != 0 ||
            ((q - ones) & ~q & highs) != 0 || ((b - ones) & ~b & highs) != 0 ||
            ((d - ones) & ~d & highs) != 0)
            plain = false;
    }
    for (; plain && i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || needs_escape((unsigned char)s[i]))
            plain = false;
    if (plain) {
        put_c(out, '"');
        put(out, s, n);
        put_c(out, '"');
        return;
    }
    g_autofree char *fixed = NULL;
    if (!bw_utf8_validate(s, (gssize)n))
        s = fixed = g_utf8_make_valid(s, -1);
    put_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* Copy runs of characters that need no escape in one append. */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
            p++;
        if (p > run)
            put(out, (const char *)run, (size_t)(p - run));
        if (*p == '\0')
            break;
        switch (*p) {
        case '"': PUT_LIT(out, "\\\""); break;
        case '\\': PUT_LIT(out, "\\\\"); break;
        case '\n': PUT_LIT(out, "\\n"); break;
        case '\r': PUT_LIT(out, "\\r"); break;
        case '\t': PUT_LIT(out, "\\t"); break;
        case '\b': PUT_LIT(out, "\\b"); break;
        case '\f': PUT_LIT(out, "\\f"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                put_c(out, (char)*p);
        }
    }
    put_c(out, '"');
}

/* "key": after a comma unless first.  Inlined, as are the w_k* below, so
 * that the length of each key, a literal where it is called, is known
 * when compiling and the key copied without strlen or a memcpy call
 * (~15,000 keys over the 407 bounces). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void
w_key(GString *out, const char *key, bool *first)
{
    if (!*first)
        put_c(out, ',');
    *first = false;
    put_c(out, '"');
    put(out, key, strlen(key));
    PUT_LIT(out, "\":");
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void
w_kstr(GString *out, const char *key, const char *value, bool *first)
{
    w_key(out, key, first);
    w_str(out, value);
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void
w_kint(GString *out, const char *key, gint64 v, bool *first)
{
    w_key(out, key, first);
    put_int(out, v);
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void
w_kbool(GString *out, const char *key, bool v, bool *first)
{
    w_key(out, key, first);
    if (v)
        PUT_LIT(out, "true");
    else
        PUT_LIT(out, "false");
}

/* A string of the signals' facts (below): false, with nothing written, for
 * one that json-glib's way must write instead (NULL, invalid UTF-8). */
static bool
x_str(GString *out, const char *s)
{
    if (s == NULL || !bw_utf8_validate(s, -1))
        return false;
    w_str(out, s);
    return true;
}

/* "key":[...] of the strings of `v` (none when NULL): each as w_str writes
 * it, or, when `strict`, as x_str does, false at the first it refuses (the
 * list then left open).  Inlined where it is called, so that `strict`, a
 * constant there, costs no test per string (as the two copies it replaces
 * did not). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool
w_kstrv(GString *out, const char *key, const GPtrArray *v, bool strict, bool *first)
{
    w_key(out, key, first);
    put_c(out, '[');
    for (guint i = 0; v != NULL && i < v->len; i++) {
        if (i > 0)
            put_c(out, ',');
        const char *s = g_ptr_array_index(v, i);
        if (!strict)
            w_str(out, s);
        else if (!x_str(out, s))
            return false;
    }
    put_c(out, ']');
    return true;
}

static void
w_original(GString *out, const bw_original_t *o)
{
    bool f = true;
    put_c(out, '{');
    w_kstr(out, "message_id", o->message_id, &f);
    w_kstr(out, "from", o->from, &f);
    (void)w_kstrv(out, "to", o->to, false, &f);
    w_kstr(out, "subject", o->subject, &f);
    w_kstr(out, "date", o->date, &f);
    w_kstr(out, "return_path", o->return_path, &f);
    (void)w_kstrv(out, "received", o->received, false, &f);
    w_kstr(out, "dkim_domain", o->dkim_domain, &f);
    w_kstr(out, "x_mailer", o->x_mailer, &f);
    w_kstr(out, "in_reply_to", o->in_reply_to, &f);
    (void)w_kstrv(out, "url_domains", o->url_domains, false, &f);
    w_kbool(out, "headers_only", o->headers_only, &f);
    put_c(out, '}');
}

void
bw_report_json_head(GString *out, const char *file, int index)
{
    bool f = true;
    put_c(out, '{');
    w_kint(out, "format_version", BW_FORMAT_VERSION_CUR, &f);
    w_kstr(out, "file", file, &f);
    if (index >= 0)
        w_kint(out, "index", index, &f);
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
    w_kbool(out, "bounce", bounce, &f);
    w_kstr(out, "kind", bounce ? bw_kind_to_string(report->kind) : NULL, &f);
    w_kstr(out, "family", bounce ? report->family : NULL, &f);
    w_key(out, "recipients", &f);
    put_c(out, '[');
    for (guint i = 0; report != NULL && i < report->recipients->len; i++) {
        const bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        bool rf = true;
        if (i > 0)
            put_c(out, ',');
        put_c(out, '{');
        w_kstr(out, "address", r->address, &rf);
        w_kstr(out, "original_address", r->original_address, &rf);
        w_kstr(out, "action", r->action, &rf);
        w_kstr(out, "status", r->status, &rf);
        w_kstr(out, "reply_code", r->reply_code, &rf);
        w_kstr(out, "reason", bw_reason_to_string(r->reason), &rf);
        w_kstr(out, "remote_mta", r->remote_mta, &rf);
        w_kstr(out, "diagnostic", r->diagnostic, &rf);
        put_c(out, '}');
    }
    put_c(out, ']');
    w_key(out, "original", &f);
    if (report != NULL && report->original != NULL)
        w_original(out, report->original);
    else
        PUT_LIT(out, "null");
    w_kstr(out, "feedback_type", report != NULL ? report->feedback_type : NULL, &f);
    w_key(out, "message", &f);
    if (report == NULL) {
        PUT_LIT(out, "null");
    } else {
        bool mf = true;
        put_c(out, '{');
        w_kstr(out, "message_id", report->message_id, &mf);
        w_kstr(out, "from", report->from, &mf);
        (void)w_kstrv(out, "to", report->to, false, &mf);
        w_kstr(out, "subject", report->subject, &mf);
        w_kstr(out, "date", report->date, &mf);
        w_kstr(out, "in_reply_to", report->in_reply_to, &mf);
        (void)w_kstrv(out, "references", report->references, false, &mf);
        w_kstr(out, "auto_submitted", report->auto_submitted, &mf);
        put_c(out, '}');
    }
    w_kstr(out, "error", error, &f);
    put_c(out, '}');
}

/* ------------------------------------------------------------ the signals' facts
 * bw_mailfacts_to_json and bw_sent_summary_to_json serialised with
 * json_to_string(node, FALSE), written straight into a string: a full scan
 * writes one per notable received message and per sent message, in the
 * reader (its answer) and again in the parent (the stored row), and the
 * JsonBuilder tree and its generator cost ~75 k instructions a summary and
 * ~100 k a message's facts.  The same bytes for valid UTF-8 (every string
 * of both is made valid when read), and as bw_json_node_to_text() writes
 * U+001F (escaped, where json-glib 1.6 writes it raw, which is no JSON);
 * any other string (NULL in a list, invalid UTF-8: a Message-ID or a file
 * name as notmuch gives it) makes these return false, and the caller takes
 * json-glib's way (signal-read.c, sent-anomaly.c: this file stays GLib
 * only, for the parse front). */

bool
bw_json_string_append(GString *out, const char *s)
{
    return x_str(out, s);
}

static bool
x_kstr(GString *out, const char *key, const char *value, bool *first)
{
    w_key(out, key, first);
    return x_str(out, value);
}

/* a member only when there is a value (bw_sig_json_opt_str) */
static bool
x_opt(GString *out, const char *key, const char *value, bool *first)
{
    return value == NULL || x_kstr(out, key, value, first);
}

bool
bw_mailfacts_json_write(GString *out, const bw_mailfacts_t *m, const char *topic)
{
    bool f = true, ok = true;
    put_c(out, '{');
    ok = ok && x_opt(out, "message_id", m->message_id, &f);
    w_kint(out, "date", m->date_unix, &f);
    ok = ok && x_opt(out, "subject", m->subject, &f);
    ok = ok && x_opt(out, "from", m->from_addr, &f);
    ok = ok && x_opt(out, "display", m->from_display, &f);
    ok = ok && x_opt(out, "return_path", m->return_path, &f);
    ok = ok && w_kstrv(out, "to", m->to, true, &f);
    ok = ok && x_opt(out, "in_reply_to", m->in_reply_to, &f);
    ok = ok && w_kstrv(out, "references", m->references, true, &f);
    w_kint(out, "flags",
           (m->auto_submitted ? 1 : 0) | (m->list ? 2 : 0) | (m->report ? 4 : 0) |
               (m->bait ? 8 : 0) | (m->chatter ? 16 : 0) | (m->asks ? 32 : 0) |
               (m->quotes_intro ? 64 : 0) | (m->topic_strong ? 128 : 0), &f);
    ok = ok && w_kstrv(out, "dkim", m->dkim_domains, true, &f);
    w_key(out, "hops", &f);
    put_c(out, '[');
    for (guint i = 0; ok && i < m->hops->len; i++) {
        const bw_sig_hop_t *h = &g_array_index(m->hops, bw_sig_hop_t, i);
        bool hf = true;
        if (i > 0)
            put_c(out, ',');
        put_c(out, '{');
        w_kint(out, "pos", h->pos, &hf);
        ok = ok && x_opt(out, "by", h->by, &hf);
        ok = ok && x_opt(out, "helo", h->from_helo, &hf);
        ok = ok && x_opt(out, "rdns", h->from_rdns, &hf);
        ok = ok && x_opt(out, "ip", h->from_ip, &hf);
        w_kint(out, "flags", (h->authenticated ? 1 : 0) | (h->http ? 2 : 0) | (h->has_from ? 4 : 0),
               &hf);
        put_c(out, '}');
    }
    put_c(out, ']');
    w_key(out, "auths", &f);
    put_c(out, '[');
    for (guint i = 0; ok && i < m->auths->len; i++) {
        const bw_sig_auth_t *a = &g_array_index(m->auths, bw_sig_auth_t, i);
        bool af = true;
        if (i > 0)
            put_c(out, ',');
        put_c(out, '{');
        w_kint(out, "pos", a->pos, &af);
        ok = ok && x_opt(out, "id", a->authserv_id, &af);
        w_key(out, "results", &af);
        put_c(out, '[');
        for (unsigned k = 0; ok && k < a->n_results; k++) {
            if (k > 0)
                put_c(out, ',');
            put_c(out, '[');
            ok = ok && x_str(out, a->results[k].method);
            put_c(out, ',');
            ok = ok && x_str(out, a->results[k].result);
            put_c(out, ',');
            ok = ok && x_str(out, a->results[k].domain ? a->results[k].domain : "");
            put_c(out, ']');
        }
        put_c(out, ']');
        put_c(out, '}');
    }
    put_c(out, ']');
    w_kint(out, "fields", m->n_fields, &f);
    ok = ok && x_opt(out, "topic", topic, &f);
    w_kint(out, "topic_score", m->topic_score, &f);
    w_kint(out, "two_factor", m->two_factor, &f);
    ok = ok && x_opt(out, "device", m->device, &f);
    ok = ok && x_opt(out, "place", m->place, &f);
    ok = ok && x_opt(out, "ip", m->ip, &f);
    ok = ok && x_opt(out, "time", m->time, &f);
    ok = ok && x_opt(out, "limit", m->limit, &f);
    ok = ok && x_opt(out, "phone", m->phone, &f);
    ok = ok && w_kstrv(out, "topic_addresses", m->topic_addresses, true, &f);
    ok = ok && w_kstrv(out, "text_addresses", m->text_addresses, true, &f);
    ok = ok && w_kstrv(out, "url_domains", m->url_domains, true, &f);
    put_c(out, '}');
    return ok;
}

bool
bw_sent_summary_json_append(GString *out, const bw_sent_summary_t *s)
{
    bool f = true, ok = true;
    put_c(out, '{');
    ok = ok && x_opt(out, "message_id", s->message_id, &f);
    w_kint(out, "date", s->date_unix, &f);
    w_kint(out, "offset", s->has_date ? s->date_offset : -1000000, &f);
    ok = ok && x_opt(out, "from", s->from, &f);
    ok = ok && x_opt(out, "mailer", s->mailer, &f);
    ok = ok && x_opt(out, "msgid_shape", s->msgid_shape, &f);
    ok = ok && x_opt(out, "content", s->content_shape, &f);
    ok = ok && x_opt(out, "language", s->language, &f);
    ok = ok && x_opt(out, "path", s->path, &f);
    w_kint(out, "flags", (s->priority ? 1 : 0) | (s->reply ? 2 : 0), &f);
    ok = ok && x_opt(out, "to_shape", s->to_shape, &f);
    w_key(out, "n", &f);
    put_c(out, '[');
    put_int(out, s->n_to);
    put_c(out, ',');
    put_int(out, s->n_cc);
    put_c(out, ',');
    put_int(out, s->n_bcc);
    put_c(out, ']');
    ok = ok && w_kstrv(out, "recipients", s->recipients, true, &f);
    ok = ok && x_opt(out, "subject_key", s->subject_key, &f);
    put_c(out, '}');
    return ok;
}
