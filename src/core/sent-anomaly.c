/* sent-anomaly.c: runs of messages in the owner's sent mail that the owner
 * did not write.
 *
 * A hijacker using the provider's webmail leaves copies in Sent: dozens of
 * messages within an hour or two, written with another program (or the
 * webmail the owner rarely uses), in another time zone, at hours the owner
 * never writes, to strangers or with Bcc lists, the same few subjects
 * again and again.  The owner's real mail, even a newsletter to 400 Bcc
 * recipients, is one message written the owner's usual way; an owner who
 * sometimes uses the webmail is one message at a time.
 *
 * What the owner's mail looks like is learned from the sent mail itself,
 * robustly: each message weighs 1 / (messages within three hours of it),
 * so a burst of a hundred counts like one message and cannot teach the
 * baseline that it is normal.  Per feature (mail program, Message-ID shape,
 * Date time zone, content type, language, submission path, priority flag)
 * the owner's probability of a value is its share of that weight, smoothed;
 * a message's identity surprise is the sum of -ln P over the features,
 * measured against the history without its own burst.  The owner's own
 * unusual messages set the bar: the 95th percentile of the surprise of the
 * whole history (by weight).
 *
 * A run is a burst (messages closer than RUN_GAP) whose members do not fit
 * (surprise above the bar, a mail program under RARE_CLIENT of the owner's
 * mail, or an hour the owner never writes at), at least RUN_MIN of them,
 * far above the owner's busiest three hours, and behaving like spam (not
 * replies, to strangers or Bcc or undisclosed recipients, repeated
 * subjects) or written at hours the owner never writes at. */
#include "bw-signals-private.h"
#include "bw-reader.h"
#include "bw-parse.h"
#include <math.h>
#include <string.h>

#define RUN_GAP          (2 * 3600)   /* messages closer than this form a burst */
#define WINDOW           (3 * 3600)   /* the neighbourhood that sets a message's weight */
#define RUN_MIN          6            /* members of a run at least */
#define VOLUME_FACTOR    3.0          /* times the owner's busiest 3 hours */
#define RARE_CLIENT      0.15         /* share of the owner's mail below which a client is "another" */
#define MIN_HISTORY      8.0          /* weight of history needed to judge at all */
#define ALPHA            0.5          /* smoothing of the feature shares */
#define ID_MARGIN        1.0          /* nats above the owner's own 95th percentile */
#define MAX_SENT         200000       /* summaries looked at */

enum { F_MAILER, F_MSGID, F_TZ, F_CTYPE, F_LANG, F_PATH, F_PRIO, NF };
static const char *const feature_names[NF] = {
    "mail program", "Message-ID shape", "time zone", "format", "language", "submission path", "priority flag",
};

/* ------------------------------------------------------------ reading */

void
bw_sent_summary_free(bw_sent_summary_t *s)
{
    if (s == NULL)
        return;
    g_free(s->message_id);
    g_free(s->from);
    g_free(s->mailer);
    g_free(s->msgid_shape);
    g_free(s->content_shape);
    g_free(s->language);
    g_free(s->path);
    g_free(s->to_shape);
    if (s->recipients)
        g_ptr_array_unref(s->recipients);
    g_free(s->subject_key);
    g_free(s);
}

/* The shape of a Message-ID: its domain, the case of its letters, and the
 * local part as runs of letters/digits (their length, bucketed past 16)
 * and punctuation.  A client writes every id the same way: an upper-case
 * UUID is "U:w8-w4-w4-w4-w12@example.com" whatever its digits. */
static char *
msgid_shape(const char *mid)
{
    if (mid == NULL)
        return NULL;
    const char *at = strrchr(mid, '@');
    size_t ll = at ? (size_t)(at - mid) : strlen(mid);
    bool upper = false, lower = false;
    for (size_t i = 0; i < ll; i++) {
        upper |= g_ascii_isupper(mid[i]);
        lower |= g_ascii_islower(mid[i]);
    }
    GString *s = g_string_new(upper && lower ? "M:" : upper ? "U:" : lower ? "L:" : "D:");
    unsigned runs = 0;
    for (size_t i = 0; i < ll && runs < 12;) {
        if (g_ascii_isalnum(mid[i])) {
            size_t j = i;
            while (j < ll && g_ascii_isalnum(mid[j]))
                j++;
            size_t n = j - i;
            if (n > 16)
                n = 16 + (n - 16) / 8 * 8;
            g_string_append_printf(s, "w%zu", n);
            i = j;
        } else {
            char c = mid[i];
            g_string_append_c(s, (c == '.' || c == '-' || c == '_' || c == '$' || c == '+' || c == '=') ? c : '~');
            i++;
        }
        runs++;
    }
    if (runs >= 12)
        g_string_append_c(s, '+');
    if (at && at[1]) {
        g_autofree char *d = g_ascii_strdown(at + 1, -1);
        g_string_append_printf(s, "@%.80s", d);
    }
    return g_string_free(s, FALSE);
}

/* The mail program without versions: "Thunderbird/128.4" -> "thunderbird". */
static char *
mailer_key(const char *m)
{
    if (m == NULL)
        return g_strdup("(none)");
    GString *s = g_string_new(NULL);
    for (const char *c = m; *c && s->len < 40; c++) {
        if (g_ascii_isalpha(*c))
            g_string_append_c(s, g_ascii_tolower(*c));
        else if ((*c == ' ' || *c == '/' || *c == '(') && s->len > 0 && s->str[s->len - 1] != ' ')
            g_string_append_c(s, ' ');
    }
    g_strstrip(s->str);
    return g_string_free(s, FALSE);
}

typedef struct {
    bw_sent_summary_t *s;
    const char *ua, *xm;
    size_t ua_len, xm_len;
    const char *subject;
    size_t subject_len;
    const char *to_v;
    size_t to_len;
} sent_ctx_t;

static bool
sent_field(const char *name, size_t nl, const char *v, size_t vl, unsigned index, void *data)
{
    (void)index;
    sent_ctx_t *c = data;
    bw_sent_summary_t *s = c->s;
#define IS(n) (strlen(n) == nl && g_ascii_strncasecmp(name, n, nl) == 0)
    if (IS("Message-ID")) {
        if (s->message_id == NULL) {
            g_autofree char *t = g_strndup(v, vl < 2048 ? vl : 2048);
            s->message_id = bw_msgid_normalize(t);
        }
    } else if (IS("Date")) {
        if (!s->has_date) {
            g_autofree char *t = bw_strdup_squeezed(v, vl < 256 ? vl : 256);
            gint64 u = 0;
            int off = 0;
            if (bw_time_parse(t, &u, &off)) {
                s->date_unix = u;
                s->date_offset = off;
                s->has_date = true;
            }
        }
    } else if (IS("From")) {
        if (s->from == NULL) {
            g_autofree char *t = g_strndup(v, vl < 4096 ? vl : 4096);
            s->from = bw_address_normalize(t);
        }
    } else if (IS("User-Agent")) {
        if (c->ua == NULL) {
            c->ua = v;
            c->ua_len = vl;
        }
    } else if (IS("X-Mailer")) {
        if (c->xm == NULL) {
            c->xm = v;
            c->xm_len = vl;
        }
    } else if (IS("Content-Type")) {
        if (s->content_shape == NULL) {
            size_t i = 0;
            while (i < vl && i < 80 && v[i] != ';' && !g_ascii_isspace(v[i]))
                i++;
            g_autofree char *type = g_ascii_strdown(v, (gssize)i);
            const char *cs = bw_memcasestr(v, vl < 1024 ? vl : 1024, "charset=");
            if (cs && g_str_has_prefix(type, "text/")) {
                cs += 8;
                if (*cs == '"')
                    cs++;
                size_t k = 0;
                while (cs + k < v + vl && k < 32 && (g_ascii_isalnum(cs[k]) || cs[k] == '-' || cs[k] == '_'))
                    k++;
                g_autofree char *csl = g_ascii_strdown(cs, (gssize)k);
                s->content_shape = g_strdup_printf("%s;%s", type, csl);
            } else {
                s->content_shape = g_steal_pointer(&type);
            }
        }
    } else if (IS("Content-Language")) {
        if (s->language == NULL)
            s->language = bw_strdup_squeezed(v, vl < 64 ? vl : 64);
    } else if (IS("X-Priority") || IS("Importance") || IS("Priority") || IS("X-MSMail-Priority")) {
        s->priority = true;
    } else if (IS("In-Reply-To")) {
        s->reply = true;
    } else if (IS("Received")) {
        g_autofree char *sq = bw_strdup_squeezed(v, vl < BW_ENGINE_MAX_HOP_BYTES ? vl : BW_ENGINE_MAX_HOP_BYTES);
        bw_hop_t h;
        if (bw_hop_parse(sq, &h)) {
            if (h.http) {
                g_free(s->path);
                s->path = g_strdup("webmail");
            } else if (h.authenticated && s->path == NULL) {
                s->path = g_strdup("smtp-auth");
            }
        }
    } else if (IS("To")) {
        if (c->to_v == NULL) {
            c->to_v = v;
            c->to_len = vl;
        }
        s->n_to += bw_sig_address_list(v, vl, s->recipients, BW_SIG_MAX_RECIPIENTS);
    } else if (IS("Cc")) {
        s->n_cc += bw_sig_address_list(v, vl, s->recipients, BW_SIG_MAX_RECIPIENTS);
    } else if (IS("Bcc")) {
        s->n_bcc += bw_sig_address_list(v, vl, s->recipients, BW_SIG_MAX_RECIPIENTS);
    } else if (IS("Subject")) {
        if (c->subject == NULL) {
            c->subject = v;
            c->subject_len = vl;
        }
    }
#undef IS
    return true;
}

bw_status_t
bw_sent_summary_read(const char *data, size_t len, bw_sent_summary_t **out, char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    bw_status_t st = bw_message_check(data, len, detail);
    if (st != BW_OK)
        return st;
    /* only the header block is needed: normalise just that much */
    size_t cap = len < BW_SIG_MAX_HEADER_BYTES ? len : BW_SIG_MAX_HEADER_BYTES;
    size_t hend = cap;
    for (size_t i = 0; i + 1 < cap; i++) {
        if (data[i] != '\n')
            continue;
        if (data[i + 1] == '\n' || (data[i + 1] == '\r' && i + 2 < cap && data[i + 2] == '\n')) {
            hend = i + 1;
            break;
        }
    }
    size_t nlen = 0;
    g_autofree char *norm = bw_message_normalize(data, hend, &nlen);
    size_t off = 0;
    while (off < nlen && off < 4096 && (norm[off] == '\n' || norm[off] == ' ' || norm[off] == '\t'))
        off++;
    bw_sent_summary_t *s = g_new0(bw_sent_summary_t, 1);
    s->recipients = g_ptr_array_new_with_free_func(g_free);
    sent_ctx_t c = { .s = s };
    bw_sig_fields(norm + off, bw_sig_header_len(norm + off, nlen - off), sent_field, &c);
    if (c.ua)
        s->mailer = bw_strdup_squeezed(c.ua, c.ua_len < 256 ? c.ua_len : 256);
    else if (c.xm)
        s->mailer = bw_strdup_squeezed(c.xm, c.xm_len < 256 ? c.xm_len : 256);
    s->msgid_shape = msgid_shape(s->message_id);
    if (c.to_v == NULL || s->n_to == 0)
        s->to_shape = g_strdup(c.to_v && memchr(c.to_v, ':', c.to_len) ? "undisclosed" : "none");
    else if (s->n_to == 1 && s->from && s->recipients->len > 0 &&
             strcmp(g_ptr_array_index(s->recipients, 0), s->from) == 0)
        s->to_shape = g_strdup("self");
    else
        s->to_shape = g_strdup("normal");
    if (c.subject) {
        g_autofree char *subj = bw_header_decode(c.subject, c.subject_len);
        const char *first = s->recipients->len ? g_ptr_array_index(s->recipients, 0) : NULL;
        g_autofree char *tmpl = subj ? bw_fp_subject_template(subj, first) : NULL;
        if (tmpl && *tmpl)
            s->subject_key = g_strdup_printf("%016" G_GINT64_MODIFIER "x", bw_fp_hash(tmpl, strlen(tmpl)));
    }
    char **one[] = { &s->message_id, &s->from, &s->mailer, &s->msgid_shape, &s->content_shape, &s->language };
    for (unsigned i = 0; i < G_N_ELEMENTS(one); i++)
        bw_sig_fix_utf8(one[i]);
    bw_sig_fix_utf8_all(s->recipients);
    *out = s;
    return BW_OK;
}


JsonNode *
bw_sent_summary_to_json(const bw_sent_summary_t *s)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    bw_sig_json_opt_str(b, "message_id", s->message_id);
    json_builder_set_member_name(b, "date");
    json_builder_add_int_value(b, s->date_unix);
    json_builder_set_member_name(b, "offset");
    json_builder_add_int_value(b, s->has_date ? s->date_offset : -1000000);
    bw_sig_json_opt_str(b, "from", s->from);
    bw_sig_json_opt_str(b, "mailer", s->mailer);
    bw_sig_json_opt_str(b, "msgid_shape", s->msgid_shape);
    bw_sig_json_opt_str(b, "content", s->content_shape);
    bw_sig_json_opt_str(b, "language", s->language);
    bw_sig_json_opt_str(b, "path", s->path);
    json_builder_set_member_name(b, "flags");
    json_builder_add_int_value(b, (s->priority ? 1 : 0) | (s->reply ? 2 : 0));
    bw_sig_json_opt_str(b, "to_shape", s->to_shape);
    json_builder_set_member_name(b, "n");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, s->n_to);
    json_builder_add_int_value(b, s->n_cc);
    json_builder_add_int_value(b, s->n_bcc);
    json_builder_end_array(b);
    bw_json_add_strv(b, "recipients", s->recipients);
    bw_sig_json_opt_str(b, "subject_key", s->subject_key);
    json_builder_end_object(b);
    JsonNode *n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

char *
bw_sent_summary_to_json_text(const bw_sent_summary_t *s)
{
    /* 500: GString allocates the next power of two above the size + 1,
     * 512 bytes here (a summary is ~400); 512 asked for 1024, a request
     * from malloc's large bins, which consolidates the fast bins first
     * (a full scan at 160k: malloc_consolidate 317 -> 231 M instructions,
     * take_summary 278 -> 175 M) */
    GString *out = g_string_sized_new(500);
    if (bw_sent_summary_json_append(out, s))
        return bw_json_string_take(out);
    g_string_free(out, TRUE);
    return bw_json_node_take_text(bw_sent_summary_to_json(s));
}

bw_status_t
bw_sent_summary_from_json(JsonNode *node, bw_sent_summary_t **out, char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
        return bw_error_set(detail, BW_E_STATE, "a stored sent-mail summary is not a JSON object");
    }
    JsonObject *o = json_node_get_object(node);
    bw_sent_summary_t *s = g_new0(bw_sent_summary_t, 1);
    s->message_id = bw_sig_json_get_str(o, "message_id");
    s->date_unix = bw_sig_json_get_int(o, "date", 0);
    gint64 off = bw_sig_json_get_int(o, "offset", -1000000);
    s->has_date = off != -1000000;
    s->date_offset = s->has_date ? (int)CLAMP(off, -86400, 86400) : 0;
    s->from = bw_sig_json_get_str(o, "from");
    s->mailer = bw_sig_json_get_str(o, "mailer");
    s->msgid_shape = bw_sig_json_get_str(o, "msgid_shape");
    s->content_shape = bw_sig_json_get_str(o, "content");
    s->language = bw_sig_json_get_str(o, "language");
    s->path = bw_sig_json_get_str(o, "path");
    gint64 f = bw_sig_json_get_int(o, "flags", 0);
    s->priority = f & 1;
    s->reply = f & 2;
    s->to_shape = bw_sig_json_get_str(o, "to_shape");
    JsonNode *nn = json_object_get_member(o, "n");
    if (nn && JSON_NODE_HOLDS_ARRAY(nn) && json_array_get_length(json_node_get_array(nn)) == 3) {
        JsonArray *a = json_node_get_array(nn);
        s->n_to = (unsigned)CLAMP(json_array_get_int_element(a, 0), 0, G_MAXUINT32);
        s->n_cc = (unsigned)CLAMP(json_array_get_int_element(a, 1), 0, G_MAXUINT32);
        s->n_bcc = (unsigned)CLAMP(json_array_get_int_element(a, 2), 0, G_MAXUINT32);
    }
    s->recipients = bw_sig_json_get_strv(o, "recipients", BW_SIG_MAX_RECIPIENTS);
    s->subject_key = bw_sig_json_get_str(o, "subject_key");
    *out = s;
    return BW_OK;
}

/* ------------------------------------------------------------ rows, fast
 * A history of 20,000 sent messages is read back whenever the runs are
 * looked for again (the owner sent mail): json-glib took ~90,000
 * instructions a row.  The rows this program writes have one form
 * (bw_sent_summary_json_append): that form alone is read here, anything
 * else is refused and goes to json-glib. */

typedef struct {
    const char *p;
} row_cur_t;

static bool
row_lit(row_cur_t *c, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* "..." of valid UTF-8, no escape, no control byte, no DEL: a copy. */
static char *
row_str(row_cur_t *c)
{
    if (*c->p != '"')
        return NULL;
    const char *s = c->p + 1, *e = s;
    bool ascii = true;
    for (; *e != '"'; e++) {
        unsigned char b = (unsigned char)*e;
        if (b == '\0' || b < 0x20 || b == '\\' || b == 0x7f)
            return NULL;
        if (b >= 0x80)
            ascii = false;
    }
    if (!ascii && !bw_utf8_validate(s, e - s))
        return NULL;
    c->p = e + 1;
    return g_strndup(s, (gsize)(e - s));
}

/* -?[0-9]{1,18}, no leading zero, followed by ',' ']' or '}' */
static bool
row_int(row_cur_t *c, gint64 *v)
{
    const char *p = c->p;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (!g_ascii_isdigit(*p) || (p[0] == '0' && g_ascii_isdigit(p[1])))
        return false;
    gint64 x = 0;
    int n = 0;
    for (; g_ascii_isdigit(*p); p++) {
        if (++n > 18)
            return false;
        x = x * 10 + (*p - '0');
    }
    if (*p != ',' && *p != ']' && *p != '}')
        return false;
    *v = neg ? -x : x;
    c->p = p;
    return true;
}

/* `"key":` when it is the next member (`*first`: no comma before it) */
static bool
row_key(row_cur_t *c, const char *key, bool *first)
{
    const char *save = c->p;
    if (!*first && !row_lit(c, ","))
        return false;
    if (!row_lit(c, "\"") || !row_lit(c, key) || !row_lit(c, "\":")) {
        c->p = save;
        return false;
    }
    *first = false;
    return true;
}

/* An optional string member: absent (NULL), or a string; false when the
 * member is there but not readable here. */
static bool
row_opt_str(row_cur_t *c, const char *key, bool *first, char **out)
{
    *out = NULL;
    if (!row_key(c, key, first))
        return true;
    *out = row_str(c);
    return *out != NULL;
}

static bool
row_opt_int(row_cur_t *c, const char *key, bool *first, gint64 *v)
{
    if (!row_key(c, key, first))
        return true;
    return row_int(c, v);
}

bw_sent_summary_t *
bw_sent_summary_from_row(const char *text)
{
    if (text == NULL)
        return NULL;
    row_cur_t c = { text };
    if (!row_lit(&c, "{"))
        return NULL;
    g_autoptr(bw_sent_summary_t) s = g_new0(bw_sent_summary_t, 1);
    s->recipients = g_ptr_array_new_with_free_func(g_free);
    bool first = true;
    /* the defaults are bw_sent_summary_from_json's for a missing member */
    gint64 date = 0, off = -1000000, flags = 0;
    if (!row_opt_str(&c, "message_id", &first, &s->message_id) ||
        !row_opt_int(&c, "date", &first, &date) ||
        !row_opt_int(&c, "offset", &first, &off) ||
        !row_opt_str(&c, "from", &first, &s->from) ||
        !row_opt_str(&c, "mailer", &first, &s->mailer) ||
        !row_opt_str(&c, "msgid_shape", &first, &s->msgid_shape) ||
        !row_opt_str(&c, "content", &first, &s->content_shape) ||
        !row_opt_str(&c, "language", &first, &s->language) ||
        !row_opt_str(&c, "path", &first, &s->path) ||
        !row_opt_int(&c, "flags", &first, &flags) ||
        !row_opt_str(&c, "to_shape", &first, &s->to_shape))
        return NULL;
    if (row_key(&c, "n", &first)) {
        gint64 n[3];
        if (!row_lit(&c, "[") || !row_int(&c, &n[0]) || !row_lit(&c, ",") ||
            !row_int(&c, &n[1]) || !row_lit(&c, ",") || !row_int(&c, &n[2]) ||
            !row_lit(&c, "]"))
            return NULL;
        s->n_to = (unsigned)CLAMP(n[0], 0, G_MAXUINT32);
        s->n_cc = (unsigned)CLAMP(n[1], 0, G_MAXUINT32);
        s->n_bcc = (unsigned)CLAMP(n[2], 0, G_MAXUINT32);
    }
    if (row_key(&c, "recipients", &first)) {
        if (!row_lit(&c, "["))
            return NULL;
        for (guint i = 0; !row_lit(&c, "]"); i++) {
            if (i > 0 && !row_lit(&c, ","))
                return NULL;
            char *r = row_str(&c);
            if (r == NULL)
                return NULL;
            if (s->recipients->len < BW_SIG_MAX_RECIPIENTS)
                g_ptr_array_add(s->recipients, r);
            else
                g_free(r);
        }
    }
    if (!row_opt_str(&c, "subject_key", &first, &s->subject_key) || !row_lit(&c, "}") ||
        *c.p != '\0')
        return NULL;
    s->date_unix = date;
    s->has_date = off != -1000000;
    s->date_offset = s->has_date ? (int)CLAMP(off, -86400, 86400) : 0;
    s->priority = flags & 1;
    s->reply = flags & 2;
    return g_steal_pointer(&s);
}

/* ------------------------------------------------------------ the baseline */

/* The values of each feature, interned: a message holds their ids, and a
 * baseline's weights are arrays by id.  Every weight is still the sum of
 * the same messages' weights in the same order, and a surprise the same
 * expression of the same numbers: the doubles are the ones a table of
 * strings gave. */
typedef struct {
    GHashTable *ids[NF];     /* value -> id + 1 (keys owned by names) */
    GPtrArray *names[NF];    /* id -> value */
} vals_t;

static void
vals_init(vals_t *v)
{
    for (int f = 0; f < NF; f++) {
        v->ids[f] = g_hash_table_new(g_str_hash, g_str_equal);
        v->names[f] = g_ptr_array_new_with_free_func(g_free);
    }
}

static void
vals_clear(vals_t *v)
{
    for (int f = 0; f < NF; f++) {
        g_hash_table_unref(v->ids[f]);
        g_ptr_array_unref(v->names[f]);
    }
}

/* The id of `value` (taken: freed when already known). */
static guint
vals_take(vals_t *v, int f, char *value)
{
    gpointer id = g_hash_table_lookup(v->ids[f], value);
    if (id != NULL) {
        g_free(value);
        return GPOINTER_TO_UINT(id) - 1;
    }
    guint n = v->names[f]->len;
    g_ptr_array_add(v->names[f], value);
    g_hash_table_insert(v->ids[f], value, GUINT_TO_POINTER(n + 1));
    return n;
}

typedef struct {
    const bw_sent_summary_t *s;
    const char *f[NF];       /* the values (vals_t's) */
    guint v[NF];             /* their ids */
    double w;                /* 1 / messages within WINDOW */
    unsigned near;           /* messages within WINDOW */
    int hour;                /* local hour in the owner's main time zone */
    double id_all;           /* identity surprise against the whole history */
} msg_t;

typedef struct {
    double *share[NF];       /* value id -> weight */
    guint values[NF];        /* distinct values of the whole history */
    double total;
    double hours[24];
} base_t;

static gint
cmp_msg(gconstpointer a, gconstpointer b)
{
    const msg_t *x = a, *y = b;
    if (x->s->date_unix != y->s->date_unix)
        return x->s->date_unix < y->s->date_unix ? -1 : 1;
    return strcmp(x->s->message_id ? x->s->message_id : "", y->s->message_id ? y->s->message_id : "");
}

static double
weight_of(GHashTable *t, const char *v)
{
    gpointer p = g_hash_table_lookup(t, v);
    return p ? *(double *)p : 0.0;
}

static void
weight_add(GHashTable *t, const char *v, double w)
{
    double *p = g_hash_table_lookup(t, v);
    if (p == NULL) {
        p = g_new0(double, 1);
        g_hash_table_insert(t, g_strdup(v), p);
    }
    *p += w;
}

/* -ln P(value) for feature f against the baseline minus `out` (the burst
 * being judged; may be NULL).  (b->values[f]: every value of the history
 * is b's, as every message is.) */
static double
surprise(const base_t *b, const base_t *out, int f, guint v)
{
    double w = b->share[f][v] - (out ? out->share[f][v] : 0.0);
    double tot = b->total - (out ? out->total : 0.0);
    double k = (double)b->values[f] + 1.0;
    if (w < 0)
        w = 0;
    if (tot < 0)
        tot = 0;
    return -log((w + ALPHA) / (tot + ALPHA * k));
}

static double
share(const base_t *b, const base_t *out, int f, guint v)
{
    double w = b->share[f][v] - (out ? out->share[f][v] : 0.0);
    double tot = b->total - (out ? out->total : 0.0);
    return tot > 0 ? MAX(w, 0.0) / tot : 0.0;
}

static double
hour_weight(const base_t *b, const base_t *out, int h)
{
    double x = 0;
    for (int d = -1; d <= 1; d++) {
        int hh = (h + d + 24) % 24;
        double v = b->hours[hh] - (out ? out->hours[hh] : 0.0);
        x += (d == 0 ? 1.0 : 0.5) * MAX(v, 0.0);
    }
    return x;
}

static void
base_init(base_t *b, const vals_t *vals)
{
    memset(b, 0, sizeof *b);
    for (int f = 0; f < NF; f++) {
        b->values[f] = vals->names[f]->len;
        b->share[f] = g_new0(double, MAX(b->values[f], 1));
    }
}

static void
base_clear(base_t *b)
{
    for (int f = 0; f < NF; f++)
        g_free(b->share[f]);
}

static void
base_add(base_t *b, const msg_t *m)
{
    for (int f = 0; f < NF; f++)
        b->share[f][m->v[f]] += m->w;
    b->total += m->w;
    if (m->hour >= 0)
        b->hours[m->hour] += m->w;
}

static double
id_surprise(const base_t *b, const base_t *out, const msg_t *m)
{
    double x = 0;
    for (int f = 0; f < NF; f++)
        x += surprise(b, out, f, m->v[f]);
    return x;
}

typedef struct {
    double v, w;
} vw_t;

static gint
cmp_vw(gconstpointer a, gconstpointer b)
{
    const vw_t *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}

/* The weighted q-quantile of (value, weight) pairs (sorted in place). */
static double
wquantile(GArray *vw, double q)
{
    if (vw->len == 0)
        return 0;
    g_array_sort(vw, cmp_vw);
    double tot = 0;
    for (guint i = 0; i < vw->len; i++)
        tot += g_array_index(vw, vw_t, i).w;
    double acc = 0;
    for (guint i = 0; i < vw->len; i++) {
        acc += g_array_index(vw, vw_t, i).w;
        if (acc >= q * tot)
            return g_array_index(vw, vw_t, i).v;
    }
    return g_array_index(vw, vw_t, vw->len - 1).v;
}

/* ------------------------------------------------------------ runs */

typedef struct {
    const bw_mailbox_ops_t *ops;
    GHashTable *rcpt_weight;    /* recipient -> weight of the owner's mail to them */
    GHashTable *asked;          /* recipient -> 1 known, 2 unknown (received_from_count cache) */
} people_t;

static bool
is_known(people_t *p, const char *addr, GHashTable *run_rcpt)
{
    double w = weight_of(p->rcpt_weight, addr) - (run_rcpt ? weight_of(run_rcpt, addr) : 0.0);
    if (w >= 0.5)
        return true;
    gpointer v = g_hash_table_lookup(p->asked, addr);
    if (v == NULL) {
        bool known = p->ops && p->ops->received_from_count &&
                     p->ops->received_from_count(p->ops->ctx, addr) > 0;
        v = GINT_TO_POINTER(known ? 1 : 2);
        if (g_hash_table_size(p->asked) < 100000)
            g_hash_table_insert(p->asked, g_strdup(addr), v);
    }
    return GPOINTER_TO_INT(v) == 1;
}

/* The most common value of feature f among the members (by count). */
static const char *
common_value(msg_t *msgs, GArray *members, int f, unsigned *count_out, guint *id_out)
{
    g_autoptr(GHashTable) c = g_hash_table_new(g_str_hash, g_str_equal);
    const char *best = NULL;
    guint best_id = 0;
    unsigned bn = 0;
    for (guint i = 0; i < members->len; i++) {
        const msg_t *m = &msgs[g_array_index(members, guint, i)];
        const char *v = m->f[f];
        unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(c, v)) + 1;
        g_hash_table_insert(c, (gpointer)v, GUINT_TO_POINTER(n));
        if (n > bn || (n == bn && strcmp(v, best) < 0)) {
            bn = n;
            best = v;
            best_id = m->v[f];
        }
    }
    if (count_out)
        *count_out = bn;
    if (id_out)
        *id_out = best_id;
    return best;
}

static bw_signal_t *
judge_burst(msg_t *msgs, guint from, guint to, const base_t *b, const vals_t *vals, double t_id,
            double busy, const bw_account_t *a, people_t *people)
{
    /* the history without this burst */
    base_t out;
    base_init(&out, vals);
    for (guint i = from; i < to; i++)
        base_add(&out, &msgs[i]);
    bw_signal_t *result = NULL;
    double hist = b->total - out.total;
    g_autoptr(GArray) members = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GHashTable) run_rcpt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) subj = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) contacts = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *t0 = NULL, *t1 = NULL;
    if (hist < MIN_HISTORY)
        goto done;
    double hist_busy_floor = MAX((double)RUN_MIN, VOLUME_FACTOR * busy);
    unsigned n_rare = 0, n_hour = 0, n_strong = 0;
    for (guint i = from; i < to; i++) {
        const msg_t *m = &msgs[i];
        double id = id_surprise(b, &out, m);
        bool rare = share(b, &out, F_MAILER, m->v[F_MAILER]) < RARE_CLIENT;
        bool hour = m->hour >= 0 && hour_weight(b, &out, m->hour) <= MAX(0.5, 0.01 * hist);
        if (id > t_id + ID_MARGIN || rare || hour) {
            g_array_append_val(members, i);
            n_rare += rare;
            n_hour += hour;
            n_strong += id > t_id + 4.0;
        }
    }
    /* A run is one program's work: on a feature where nearly all members
     * agree (multipart/alternative, no Content-Language), a member that
     * differs and has the owner's usual value instead is the owner's own
     * message written during the run (with the webmail the hijacker uses
     * too, say).  Two such features, or one and a reply or mail only to
     * people the owner knows, and it is the owner's. */
    if (members->len >= RUN_MIN) {
        const char *dominant[NF] = { 0 };
        for (int f = 0; f < NF; f++) {
            unsigned c = 0;
            const char *v = common_value(msgs, members, f, &c, NULL);
            if (c * 5 >= members->len * 4)
                dominant[f] = v;
        }
        g_autoptr(GArray) keep = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint k = 0; k < members->len; k++) {
            guint i = g_array_index(members, guint, k);
            const msg_t *m = &msgs[i];
            unsigned owner_like = 0;
            for (int f = 0; f < NF; f++)
                if (dominant[f] && strcmp(m->f[f], dominant[f]) != 0 && share(b, &out, f, m->v[f]) >= 0.2)
                    owner_like++;
            bool known_only = m->s->recipients && m->s->recipients->len > 0;
            for (guint r = 0; known_only && r < m->s->recipients->len; r++)
                known_only = is_known(people, g_ptr_array_index(m->s->recipients, r), NULL);
            if (owner_like >= 2 || (owner_like == 1 && (m->s->reply || known_only)))
                continue;
            g_array_append_val(keep, i);
        }
        g_array_set_size(members, 0);
        g_array_append_vals(members, keep->data, keep->len);
    }
    if (members->len < hist_busy_floor || members->len < RUN_MIN)
        goto done;
    n_rare = n_hour = n_strong = 0;
    for (guint k = 0; k < members->len; k++) {
        const msg_t *m = &msgs[g_array_index(members, guint, k)];
        n_rare += share(b, &out, F_MAILER, m->v[F_MAILER]) < RARE_CLIENT;
        n_hour += m->hour >= 0 && hour_weight(b, &out, m->hour) <= MAX(0.5, 0.01 * hist);
        n_strong += id_surprise(b, &out, m) > t_id + 4.0;
    }
    /* how they behave */
    for (guint k = 0; k < members->len; k++) {
        const bw_sent_summary_t *s = msgs[g_array_index(members, guint, k)].s;
        for (guint r = 0; s->recipients && r < s->recipients->len; r++)
            weight_add(run_rcpt, g_ptr_array_index(s->recipients, r), msgs[g_array_index(members, guint, k)].w);
        if (s->subject_key) {
            unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(subj, s->subject_key)) + 1;
            g_hash_table_insert(subj, s->subject_key, GUINT_TO_POINTER(n));
        }
    }
    unsigned strange = 0, n_bcc = 0, n_reply = 0, rcpt_total = 0, known_total = 0, top_subject = 0;
    GHashTableIter it;
    gpointer kk, vv;
    g_hash_table_iter_init(&it, subj);
    while (g_hash_table_iter_next(&it, &kk, &vv))
        top_subject = MAX(top_subject, GPOINTER_TO_UINT(vv));
    for (guint k = 0; k < members->len; k++) {
        const bw_sent_summary_t *s = msgs[g_array_index(members, guint, k)].s;
        unsigned strangers = 0, n = 0;
        for (guint r = 0; s->recipients && r < s->recipients->len; r++) {
            const char *addr = g_ptr_array_index(s->recipients, r);
            if (bw_account_is_owner(a, addr))
                continue;
            n++;
            if (is_known(people, addr, run_rcpt))
                g_hash_table_add(contacts, (gpointer)addr);
            else
                strangers++;
        }
        bool repeated = s->subject_key && GPOINTER_TO_UINT(g_hash_table_lookup(subj, s->subject_key)) >= 3;
        bool odd_to = s->to_shape && (strcmp(s->to_shape, "undisclosed") == 0 || strcmp(s->to_shape, "self") == 0 ||
                                      strcmp(s->to_shape, "none") == 0);
        if (!s->reply && ((n > 0 && strangers * 2 >= n) || s->n_bcc >= 3 || odd_to || repeated))
            strange++;
        n_bcc += s->n_bcc > 0;
        n_reply += s->reply;
    }
    g_hash_table_iter_init(&it, run_rcpt);
    while (g_hash_table_iter_next(&it, &kk, &vv)) {
        if (bw_account_is_owner(a, kk))
            continue;
        rcpt_total++;
    }
    known_total = g_hash_table_size(contacts);
    unsigned nm = members->len;
    bool behaves = strange * 2 >= nm || n_hour * 2 >= nm || n_strong * 5 >= nm * 4;
    if (!behaves)
        goto done;

    result = g_new0(bw_signal_t, 1);
    result->kind = BW_SIGNAL_SENT_ANOMALY;
    result->two_factor = -1;
    result->evidence = g_ptr_array_new_with_free_func(g_free);
    result->members = g_ptr_array_new_with_free_func(g_free);
    for (guint k = 0; k < nm; k++) {
        const bw_sent_summary_t *s = msgs[g_array_index(members, guint, k)].s;
        if (s->message_id)
            g_ptr_array_add(result->members, g_strdup(s->message_id));
    }
    result->start = msgs[g_array_index(members, guint, 0)].s->date_unix;
    result->end = msgs[g_array_index(members, guint, nm - 1)].s->date_unix;
    result->count = nm;
    result->recipient_count = rcpt_total;
    result->contact_count = known_total;
    const char *owner = bw_account_primary(a);
    result->account = g_strdup(owner);
    result->summary = g_strdup_printf("%u messages in Sent that %s did not write, to %u recipients", nm,
                                      owner ? owner : "the owner", rcpt_total);
    t0 = bw_time_format(result->start, 0);
    t1 = bw_time_format(result->end, 0);
    g_ptr_array_add(result->evidence,
                    g_strdup_printf("%u messages in Sent between %s and %s; the owner's own busiest three hours "
                                    "hold %.0f", nm, t0, t1, busy));
    unsigned cn = 0;
    guint client_id = 0;
    const char *client = common_value(msgs, members, F_MAILER, &cn, &client_id);
    if (n_rare * 2 >= nm)
        g_ptr_array_add(result->evidence,
                        g_strdup_printf("%u of them written with \"%s\", which %.0f%% of the owner's other sent "
                                        "mail uses", n_rare, client, 100.0 * share(b, &out, F_MAILER, client_id)));
    for (int f = F_MSGID; f < NF; f++) {
        unsigned fc = 0;
        guint vid = 0;
        const char *v = common_value(msgs, members, f, &fc, &vid);
        double sh = share(b, &out, f, vid);
        if (fc * 2 >= nm && sh < 0.05)
            g_ptr_array_add(result->evidence,
                            g_strdup_printf("%u of them with the %s \"%s\", which %.0f%% of the owner's other "
                                            "sent mail has", fc, feature_names[f], v, 100.0 * sh));
    }
    if (n_hour * 2 >= nm)
        g_ptr_array_add(result->evidence,
                        g_strdup_printf("%u of them at hours the owner never writes at", n_hour));
    g_ptr_array_add(result->evidence,
                    g_strdup_printf("%u recipients, %u of them the owner's correspondents; %u messages with Bcc, "
                                    "%u replies", rcpt_total, known_total, n_bcc, n_reply));
    if (top_subject >= 3)
        g_ptr_array_add(result->evidence, g_strdup_printf("the same subject %u times", top_subject));
done:
    base_clear(&out);
    return result;
}

bw_status_t
bw_sent_anomalies_find(GPtrArray *sent, const bw_account_t *a, const bw_mailbox_ops_t *ops,
                       GPtrArray **out)
{
    if (out == NULL || a == NULL)
        return BW_E_INVALID;
    *out = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    if (sent == NULL || sent->len == 0)
        return BW_OK;
    /* the owner's messages with a date, sorted, distinct ids */
    g_autoptr(GArray) all = g_array_new(FALSE, TRUE, sizeof(msg_t));
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < sent->len && all->len < MAX_SENT; i++) {
        const bw_sent_summary_t *s = g_ptr_array_index(sent, i);
        if (s == NULL || s->date_unix == 0 || s->from == NULL || !bw_account_is_owner(a, s->from))
            continue;
        msg_t m = { 0 };
        m.s = s;
        g_array_append_val(all, m);
    }
    g_array_sort(all, cmp_msg);
    msg_t *msgs = (msg_t *)(void *)all->data;
    guint n = 0;
    for (guint i = 0; i < all->len; i++) {
        const char *id = msgs[i].s->message_id;
        if (id && g_hash_table_contains(seen, id))
            continue;
        if (id)
            g_hash_table_add(seen, (gpointer)id);
        msgs[n++] = msgs[i];
    }
    g_array_set_size(all, n);
    msgs = (msg_t *)(void *)all->data;
    if (n < RUN_MIN)
        return BW_OK;

    /* weights: 1 / messages within WINDOW (two pointers) */
    for (guint i = 0, lo = 0, hi = 0; i < n; i++) {
        gint64 t = msgs[i].s->date_unix;
        while (msgs[lo].s->date_unix < t - WINDOW)
            lo++;
        while (hi < n && msgs[hi].s->date_unix <= t + WINDOW)
            hi++;
        msgs[i].near = hi - lo;
        msgs[i].w = 1.0 / (double)(hi - lo);
    }
    /* features; the owner's main time zone by weight */
    vals_t vals;
    vals_init(&vals);
    /* offset + 100000 -> the id of its zone's value + 1: the same offset
     * writes the same text, whose id vals_take gives */
    g_autoptr(GHashTable) tz_ids = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GHashTable) tzw = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    for (guint i = 0; i < n; i++) {
        const bw_sent_summary_t *s = msgs[i].s;
        char *f[NF];
        guint tz_id = 0;
        f[F_MAILER] = mailer_key(s->mailer);
        f[F_MSGID] = g_strdup(s->msgid_shape ? s->msgid_shape : "(none)");
        if (s->has_date) {
            int off = s->date_offset;
            tz_id = GPOINTER_TO_UINT(g_hash_table_lookup(tz_ids, GINT_TO_POINTER(off + 100000)));
            f[F_TZ] = tz_id != 0 ? NULL
                                 : g_strdup_printf("%c%02d%02d", off < 0 ? '-' : '+', ABS(off) / 3600,
                                                   (ABS(off) / 60) % 60);
            double *p = g_hash_table_lookup(tzw, GINT_TO_POINTER(off + 100000));
            if (p == NULL) {
                p = g_new0(double, 1);
                g_hash_table_insert(tzw, GINT_TO_POINTER(off + 100000), p);
            }
            *p += msgs[i].w;
        } else {
            f[F_TZ] = g_strdup("(none)");
        }
        f[F_CTYPE] = g_strdup(s->content_shape ? s->content_shape : "(none)");
        f[F_LANG] = s->language ? g_ascii_strdown(s->language, -1) : g_strdup("(none)");
        f[F_PATH] = g_strdup(s->path ? s->path : "(none)");
        f[F_PRIO] = g_strdup(s->priority ? "priority" : "(none)");
        for (int k = 0; k < NF; k++) {
            msgs[i].v[k] = k == F_TZ && tz_id != 0 ? tz_id - 1 : vals_take(&vals, k, f[k]);
            msgs[i].f[k] = g_ptr_array_index(vals.names[k], msgs[i].v[k]);
        }
        if (s->has_date && tz_id == 0)
            g_hash_table_insert(tz_ids, GINT_TO_POINTER(s->date_offset + 100000),
                                GUINT_TO_POINTER(msgs[i].v[F_TZ] + 1));
    }
    int main_off = 0;
    double best = -1;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, tzw);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        int off = GPOINTER_TO_INT(k) - 100000;
        double w = *(double *)v;
        if (w > best || (w == best && off < main_off)) {
            best = w;
            main_off = off;
        }
    }
    base_t b;
    base_init(&b, &vals);
    for (guint i = 0; i < n; i++) {
        gint64 local = msgs[i].s->date_unix + main_off;
        msgs[i].hour = (int)(((local % 86400) + 86400) % 86400 / 3600);
        base_add(&b, &msgs[i]);
    }
    /* the owner's own bar: 95th percentile of identity surprise, and of
     * the messages within three hours (each by weight) */
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(vw_t));
    g_autoptr(GArray) busy = g_array_new(FALSE, FALSE, sizeof(vw_t));
    /* against the whole history a value's surprise is the value's alone:
     * worked out once a value, then summed as id_surprise sums them */
    double *s_all[NF];
    for (int f = 0; f < NF; f++) {
        s_all[f] = g_new(double, MAX(b.values[f], 1));
        for (guint id = 0; id < b.values[f]; id++)
            s_all[f][id] = surprise(&b, NULL, f, id);
    }
    for (guint i = 0; i < n; i++) {
        double x = 0;
        for (int f = 0; f < NF; f++)
            x += s_all[f][msgs[i].v[f]];
        msgs[i].id_all = x;
        vw_t xw = { msgs[i].id_all, msgs[i].w };
        g_array_append_val(ids, xw);
        vw_t y = { (double)msgs[i].near, msgs[i].w };
        g_array_append_val(busy, y);
    }
    for (int f = 0; f < NF; f++)
        g_free(s_all[f]);
    double t_id = wquantile(ids, 0.95);
    double busy95 = wquantile(busy, 0.95);

    people_t people = { ops, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
    for (guint i = 0; i < n; i++) {
        const bw_sent_summary_t *s = msgs[i].s;
        for (guint r = 0; s->recipients && r < s->recipients->len; r++)
            weight_add(people.rcpt_weight, g_ptr_array_index(s->recipients, r), msgs[i].w);
    }
    /* bursts */
    for (guint i = 0; i < n;) {
        guint j = i + 1;
        while (j < n && msgs[j].s->date_unix - msgs[j - 1].s->date_unix <= RUN_GAP)
            j++;
        if (j - i >= RUN_MIN) {
            bw_signal_t *s = judge_burst(msgs, i, j, &b, &vals, t_id, busy95, a, &people);
            if (s)
                g_ptr_array_add(*out, s);
        }
        i = j;
    }
    g_hash_table_unref(people.rcpt_weight);
    g_hash_table_unref(people.asked);
    base_clear(&b);
    vals_clear(&vals);
    return BW_OK;
}
