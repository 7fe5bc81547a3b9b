/* reader-read.c: the READ requests of the reader protocol (bw-reader.h):
 * what the reader process runs on a file's bytes, and the parent's checks
 * of what it answers. */
#include "bw-private.h"
#include "bw-reader.h"
#include "bw-signals.h"
#include <string.h>

size_t
bw_reader_read_max(guint32 read)
{
    switch (read) {
    case BW_READER_FACTS:
    case BW_READER_NOTABLE_FACTS: return BW_SIG_MAX_MESSAGE_BYTES;
    case BW_READER_SENT_SUMMARY: return BW_SIG_MAX_HEADER_BYTES;
    case BW_READER_SENT_HEADERS: return BW_SENT_MAIL_MAX_BYTES;
    default: return 0;
    }
}

static char *
json_text(JsonNode *n)
{
    char *s = json_to_string(n, FALSE);
    json_node_unref(n);
    return s;
}

bw_status_t
bw_reader_read_json(guint32 read, const char *data, size_t len, char **json, char **detail)
{
    *json = NULL;
    if (data == NULL || len == 0)
        return bw_error_set(detail, BW_E_NOT_MAIL, "%s", "the file is empty");
    bw_status_t st;
    switch (read) {
    case BW_READER_FACTS:
    case BW_READER_NOTABLE_FACTS: {
        g_autoptr(bw_mailfacts_t) m = NULL;
        st = read == BW_READER_FACTS ? bw_mailfacts_read(data, len, &m, detail)
                                     : bw_mailfacts_read_notable(data, len, &m, detail);
        if (st == BW_OK && m != NULL)
            *json = bw_mailfacts_to_json_text(m);
        return st;
    }
    case BW_READER_SENT_SUMMARY: {
        g_autoptr(bw_sent_summary_t) s = NULL;
        st = bw_sent_summary_read(data, len, &s, detail);
        if (st == BW_OK && s != NULL)
            *json = bw_sent_summary_to_json_text(s);
        return st;
    }
    case BW_READER_SENT_HEADERS: {
        g_autoptr(bw_sent_mail_t) s = NULL;
        st = bw_sent_mail_read(data, len, &s, detail);
        if (st == BW_OK && s != NULL)
            *json = json_text(bw_sent_mail_to_json(s));
        return st;
    }
    default:
        return bw_error_set(detail, BW_E_INVALID, "%s", "not a read request");
    }
}

bw_status_t
bw_reader_payload_parse(const char *json, size_t len, JsonNode **out, char **why)
{
    *out = NULL;
    bw_status_t st = bw_reader_payload_check(json, len, why);
    if (st != BW_OK)
        return st;
    return bw_reader_payload_parse_checked(json, len, out, why);
}

/* ------------------------------------------------------------ the quick way
 * A checked payload (strict JSON: bw_caps_check_json bounds its depth and
 * size) is what the reader's json_to_string() wrote: objects, arrays,
 * integers and plain strings.  Those are built here straight into the tree
 * json-glib's parser builds (its scanner cost ~120 k instructions an
 * answer, a fifth of a full scan's parent side).  Anything else (an escape
 * other than \" \\ \/ \b \f \n \r \t, a raw control character in a string,
 * a fraction or an exponent, an integer of 19 digits or more, a member
 * named twice, true, false or null) gives up, and json-glib reads the text
 * as before. */

typedef struct {
    const char *t;
    size_t len, i;
    GString *scratch;
} quick_t;

static void
quick_ws(quick_t *q)
{
    while (q->i < q->len && (q->t[q->i] == ' ' || q->t[q->i] == '\t' || q->t[q->i] == '\n' ||
                             q->t[q->i] == '\r'))
        q->i++;
}

/* The string at q->i (its opening quote), unescaped into q->scratch. */
static bool
quick_string(quick_t *q)
{
    if (q->i >= q->len || q->t[q->i] != '"')
        return false;
    g_string_truncate(q->scratch, 0);
    size_t k = q->i + 1, run = k;
    for (;;) {
        if (k >= q->len)
            return false;
        unsigned char c = (unsigned char)q->t[k];
        if (c == '"')
            break;
        if (c < 0x20)
            return false;
        if (c != '\\') {
            k++;
            continue;
        }
        g_string_append_len(q->scratch, q->t + run, (gssize)(k - run));
        if (++k >= q->len)
            return false;
        char e;
        switch (q->t[k]) {
        case '"': case '\\': case '/': e = q->t[k]; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        default: return false;
        }
        g_string_append_c(q->scratch, e);
        run = ++k;
    }
    g_string_append_len(q->scratch, q->t + run, (gssize)(k - run));
    q->i = k + 1;
    return true;
}

static JsonNode *quick_value(quick_t *q, unsigned depth);

static JsonNode *
quick_object(quick_t *q, unsigned depth)
{
    q->i++;   /* { */
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);
    JsonObject *o = json_object_new();
    json_node_take_object(node, o);
    quick_ws(q);
    if (q->i < q->len && q->t[q->i] == '}') {
        q->i++;
        return node;
    }
    for (;;) {
        quick_ws(q);
        if (!quick_string(q))
            break;
        g_autofree char *name = g_strndup(q->scratch->str, q->scratch->len);
        quick_ws(q);
        if (q->i >= q->len || q->t[q->i] != ':' || json_object_has_member(o, name))
            break;
        q->i++;
        JsonNode *v = quick_value(q, depth + 1);
        if (v == NULL)
            break;
        json_object_set_member(o, name, v);
        quick_ws(q);
        if (q->i < q->len && q->t[q->i] == ',') {
            q->i++;
            continue;
        }
        if (q->i < q->len && q->t[q->i] == '}') {
            q->i++;
            return node;
        }
        break;
    }
    json_node_unref(node);
    return NULL;
}

static JsonNode *
quick_array(quick_t *q, unsigned depth)
{
    q->i++;   /* [ */
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);
    JsonArray *a = json_array_new();
    json_node_take_array(node, a);
    quick_ws(q);
    if (q->i < q->len && q->t[q->i] == ']') {
        q->i++;
        return node;
    }
    for (;;) {
        JsonNode *v = quick_value(q, depth + 1);
        if (v == NULL)
            break;
        json_array_add_element(a, v);
        quick_ws(q);
        if (q->i < q->len && q->t[q->i] == ',') {
            q->i++;
            continue;
        }
        if (q->i < q->len && q->t[q->i] == ']') {
            q->i++;
            return node;
        }
        break;
    }
    json_node_unref(node);
    return NULL;
}

static JsonNode *
quick_value(quick_t *q, unsigned depth)
{
    quick_ws(q);
    if (q->i >= q->len || depth > BW_MAX_JSON_DEPTH)
        return NULL;
    char c = q->t[q->i];
    if (c == '{')
        return quick_object(q, depth);
    if (c == '[')
        return quick_array(q, depth);
    if (c == '"') {
        if (!quick_string(q))
            return NULL;
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_string(n, q->scratch->str);
        return n;
    }
    /* an integer: -?(0|[1-9][0-9]*), at most 18 digits */
    size_t k = q->i;
    bool neg = k < q->len && q->t[k] == '-';
    if (neg)
        k++;
    size_t d = k;
    gint64 v = 0;
    while (k < q->len && q->t[k] >= '0' && q->t[k] <= '9') {
        v = v * 10 + (q->t[k] - '0');
        k++;
    }
    if (k == d || k - d > 18 || (q->t[d] == '0' && k - d > 1))
        return NULL;
    if (k < q->len && (q->t[k] == '.' || q->t[k] == 'e' || q->t[k] == 'E'))
        return NULL;
    q->i = k;
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_int(n, neg ? -v : v);
    return n;
}

/* The tree of a checked payload, or NULL when it is not one the quick way
 * reads (see above). */
static JsonNode *
quick_parse(const char *json, size_t len)
{
    quick_t q = { json, len, 0, g_string_sized_new(256) };
    JsonNode *root = quick_value(&q, 1);
    quick_ws(&q);
    if (root != NULL && q.i != len)
        g_clear_pointer(&root, json_node_unref);
    g_string_free(q.scratch, TRUE);
    if (root != NULL)
        json_node_seal(root);
    return root;
}

/* ------------------------------------------------------------ a summary, the quick way
 * A sent summary (20,000 of them in a full scan) read from the reader's
 * text straight into the struct: what bw_sent_summary_from_json makes of
 * json-glib's tree of the same text, member for member.  Anything the
 * quick parse above leaves to json-glib, a member named twice, and any
 * value but a string, an integer or (for "n" and "recipients") a list of
 * those, gives up: the caller takes the tree's way. */

enum {
    SK_MESSAGE_ID, SK_DATE, SK_OFFSET, SK_FROM, SK_MAILER, SK_MSGID_SHAPE, SK_CONTENT,
    SK_LANGUAGE, SK_PATH, SK_FLAGS, SK_TO_SHAPE, SK_N, SK_RECIPIENTS, SK_SUBJECT_KEY, SK_COUNT
};
static const char *const summary_keys[SK_COUNT] = {
    "message_id", "date", "offset", "from", "mailer", "msgid_shape", "content",
    "language", "path", "flags", "to_shape", "n", "recipients", "subject_key",
};

/* An integer as quick_value reads one. */
static bool
quick_int(quick_t *q, gint64 *out)
{
    size_t k = q->i;
    bool neg = k < q->len && q->t[k] == '-';
    if (neg)
        k++;
    size_t d = k;
    gint64 v = 0;
    while (k < q->len && q->t[k] >= '0' && q->t[k] <= '9') {
        v = v * 10 + (q->t[k] - '0');
        k++;
    }
    if (k == d || k - d > 18 || (q->t[d] == '0' && k - d > 1))
        return false;
    if (k < q->len && (q->t[k] == '.' || q->t[k] == 'e' || q->t[k] == 'E'))
        return false;
    q->i = k;
    *out = neg ? -v : v;
    return true;
}

/* A list of strings and integers: the strings into `strings` (up to
 * `max`), the integers into `ints` (up to 3), *count every element. */
static bool
quick_list(quick_t *q, GPtrArray *strings, guint max, gint64 *ints, bool *all_ints, guint *count)
{
    q->i++;   /* [ */
    *count = 0;
    *all_ints = true;
    quick_ws(q);
    if (q->i < q->len && q->t[q->i] == ']') {
        q->i++;
        return true;
    }
    for (;;) {
        quick_ws(q);
        if (q->i < q->len && q->t[q->i] == '"') {
            if (!quick_string(q))
                return false;
            *all_ints = false;
            if (strings != NULL && strings->len < max)
                g_ptr_array_add(strings, g_strndup(q->scratch->str, q->scratch->len));
        } else {
            gint64 v = 0;
            if (!quick_int(q, &v))
                return false;
            if (*count < 3)
                ints[*count] = v;
        }
        (*count)++;
        quick_ws(q);
        if (q->i < q->len && q->t[q->i] == ',') {
            q->i++;
            continue;
        }
        if (q->i < q->len && q->t[q->i] == ']') {
            q->i++;
            return true;
        }
        return false;
    }
}

static char **
summary_slot(bw_sent_summary_t *s, int key)
{
    switch (key) {
    case SK_MESSAGE_ID: return &s->message_id;
    case SK_FROM: return &s->from;
    case SK_MAILER: return &s->mailer;
    case SK_MSGID_SHAPE: return &s->msgid_shape;
    case SK_CONTENT: return &s->content_shape;
    case SK_LANGUAGE: return &s->language;
    case SK_PATH: return &s->path;
    case SK_TO_SHAPE: return &s->to_shape;
    case SK_SUBJECT_KEY: return &s->subject_key;
    default: return NULL;
    }
}

bool
bw_sent_summary_from_text(const char *json, size_t len, bw_sent_summary_t **out)
{
    *out = NULL;
    quick_t q = { json, len, 0, g_string_sized_new(256) };
    bw_sent_summary_t *s = g_new0(bw_sent_summary_t, 1);
    s->recipients = g_ptr_array_new_with_free_func(g_free);
    gint64 date = 0, off = -1000000, flags = 0, n[3] = { 0, 0, 0 };
    guint seen = 0;
    bool ok = false;
    quick_ws(&q);
    if (q.i >= q.len || q.t[q.i] != '{')
        goto done;
    q.i++;
    quick_ws(&q);
    if (q.i < q.len && q.t[q.i] == '}') {
        q.i++;
    } else {
        for (;;) {
            quick_ws(&q);
            if (!quick_string(&q))
                goto done;
            int key = -1;
            for (int k = 0; k < SK_COUNT && key < 0; k++)
                if (strcmp(q.scratch->str, summary_keys[k]) == 0 &&
                    q.scratch->len == strlen(summary_keys[k]))
                    key = k;
            if (key >= 0) {
                if (seen & (1u << key))
                    goto done;
                seen |= 1u << key;
            }
            quick_ws(&q);
            if (q.i >= q.len || q.t[q.i] != ':')
                goto done;
            q.i++;
            quick_ws(&q);
            if (q.i >= q.len)
                goto done;
            char c = q.t[q.i];
            if (c == '"') {
                if (!quick_string(&q))
                    goto done;
                char **slot = key >= 0 ? summary_slot(s, key) : NULL;
                if (slot != NULL)
                    *slot = g_strndup(q.scratch->str, q.scratch->len);
            } else if (c == '[') {
                if (key != SK_N && key != SK_RECIPIENTS)
                    goto done;
                gint64 ints[3] = { 0, 0, 0 };
                bool all_ints = true;
                guint count = 0;
                if (!quick_list(&q, key == SK_RECIPIENTS ? s->recipients : NULL,
                                BW_SIG_MAX_RECIPIENTS, ints, &all_ints, &count))
                    goto done;
                if (key == SK_N && count == 3) {
                    if (!all_ints)
                        goto done;
                    memcpy(n, ints, sizeof n);
                }
            } else {
                gint64 v = 0;
                if (c == '{' || !quick_int(&q, &v))
                    goto done;
                if (key == SK_DATE)
                    date = v;
                else if (key == SK_OFFSET)
                    off = v;
                else if (key == SK_FLAGS)
                    flags = v;
                /* (an integer "n" or "recipients" is no list: from_json
                 * reads none) */
            }
            quick_ws(&q);
            if (q.i < q.len && q.t[q.i] == ',') {
                q.i++;
                continue;
            }
            if (q.i < q.len && q.t[q.i] == '}') {
                q.i++;
                break;
            }
            goto done;
        }
    }
    quick_ws(&q);
    if (q.i != q.len)
        goto done;
    s->date_unix = date;
    s->has_date = off != -1000000;
    s->date_offset = s->has_date ? (int)CLAMP(off, -86400, 86400) : 0;
    s->priority = flags & 1;
    s->reply = flags & 2;
    s->n_to = (unsigned)CLAMP(n[0], 0, G_MAXUINT32);
    s->n_cc = (unsigned)CLAMP(n[1], 0, G_MAXUINT32);
    s->n_bcc = (unsigned)CLAMP(n[2], 0, G_MAXUINT32);
    ok = true;
done:
    g_string_free(q.scratch, TRUE);
    if (!ok) {
        bw_sent_summary_free(s);
        return false;
    }
    *out = s;
    return true;
}

bw_status_t
bw_reader_payload_parse_checked(const char *json, size_t len, JsonNode **out, char **why)
{
    *out = quick_parse(json, len);
    if (*out != NULL)
        return BW_OK;
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    if (!json_parser_load_from_data(p, json, (gssize)len, NULL) || json_parser_get_root(p) == NULL)
        return bw_error_set(why, BW_E_INVALID, "%s", "an answer that is not JSON");
    *out = json_node_copy(json_parser_get_root(p));
    return BW_OK;
}
