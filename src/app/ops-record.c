/* ops-record.c: the recording proxy of the mailbox questions (ops-record.h). */
#include "config.h"
#include "ops-record.h"
#include <string.h>

/* One question: what (a letter per callback), up to three arguments, the
 * answer; all as text, so that they are stored and compared as they are. */
typedef struct {
    char what;
    char *arg[3];
    char *answer;
} question_t;

struct bw_ops_record {
    bw_mailbox_ops_t proxy;
    const bw_mailbox_ops_t *real;
    GHashTable *seen;        /* key -> question_t* */
    guint64 asked;
    /* sent_is_anomaly's run key is borrowed from `real`: handed on as is */
};

static void
question_free(question_t *q)
{
    for (int i = 0; i < 3; i++)
        g_free(q->arg[i]);
    g_free(q->answer);
    g_free(q);
}

/* The key joins what and the arguments with their lengths (an argument is
 * mail text and may hold any byte but NUL). */
static char *
question_key(char what, const char *a0, const char *a1, const char *a2)
{
    GString *k = g_string_new(NULL);
    g_string_append_c(k, what);
    const char *args[] = { a0, a1, a2 };
    for (int i = 0; i < 3 && args[i]; i++)
        g_string_append_printf(k, "|%zu:%s", strlen(args[i]), args[i]);
    return g_string_free(k, FALSE);
}

static void
keep(bw_ops_record_t *rec, char what, const char *a0, const char *a1, const char *a2,
     char *answer)
{
    rec->asked++;
    char *key = question_key(what, a0, a1, a2);
    if (g_hash_table_contains(rec->seen, key)) {
        g_free(key);
        g_free(answer);
        return;
    }
    question_t *q = g_new0(question_t, 1);
    q->what = what;
    q->arg[0] = g_strdup(a0);
    q->arg[1] = g_strdup(a1);
    q->arg[2] = g_strdup(a2);
    q->answer = answer;
    g_hash_table_insert(rec->seen, key, q);
}

static char *
int_text(gint64 v)
{
    return g_strdup_printf("%" G_GINT64_FORMAT, v);
}

/* ------------------------------------------------------------ asking */

/* Each callback asks `ops` and returns the answer as text; the proxy and
 * the replay share them, so a question is asked the same way both times. */

static char *
ask_sent_has_message_id(const bw_mailbox_ops_t *ops, const char *id, gint64 *date_out)
{
    gint64 date = 0;
    bool yes = ops->sent_has_message_id(ops->ctx, id, &date);
    if (date_out)
        *date_out = date;
    return yes ? g_strdup_printf("1:%" G_GINT64_FORMAT, date) : g_strdup("0");
}

static char *
ask_replies_to(const bw_mailbox_ops_t *ops, const char *id, unsigned *n_out, char **from_out)
{
    char *from = NULL;
    unsigned n = ops->replies_to(ops->ctx, id, &from);
    char *answer = g_strdup_printf("%u:%s", n, from ? from : "");
    *n_out = n;
    if (from_out)
        *from_out = from;
    else
        g_free(from);
    return answer;
}

static char *
ask_sent_is_anomaly(const bw_mailbox_ops_t *ops, const char *id, const char **run_out)
{
    const char *run = NULL;
    bool yes = ops->sent_is_anomaly(ops->ctx, id, &run);
    if (run_out)
        *run_out = run;
    return yes ? g_strconcat("1:", run ? run : "", NULL) : g_strdup("0");
}

/* ------------------------------------------------------------ the proxy */

static bool
p_sent_has_message_id(void *ctx, const char *id, gint64 *date_out)
{
    bw_ops_record_t *rec = ctx;
    char *a = ask_sent_has_message_id(rec->real, id, date_out);
    bool yes = a[0] == '1';
    keep(rec, 'S', id, NULL, NULL, a);
    return yes;
}

static unsigned
p_sent_count_to(void *ctx, const char *address, gint64 before)
{
    bw_ops_record_t *rec = ctx;
    unsigned n = rec->real->sent_count_to(rec->real->ctx, address, before);
    g_autofree char *b = int_text(before);
    keep(rec, 'C', address, b, NULL, int_text(n));
    return n;
}

static bool
p_sent_subject_near(void *ctx, const char *subject, gint64 t, gint64 window)
{
    bw_ops_record_t *rec = ctx;
    bool yes = rec->real->sent_subject_near(rec->real->ctx, subject, t, window);
    g_autofree char *ts = int_text(t), *ws = int_text(window);
    keep(rec, 'N', subject, ts, ws, g_strdup(yes ? "1" : "0"));
    return yes;
}

static bool
p_has_sent_mail(void *ctx)
{
    bw_ops_record_t *rec = ctx;
    bool yes = rec->real->has_sent_mail(rec->real->ctx);
    keep(rec, 'H', NULL, NULL, NULL, g_strdup(yes ? "1" : "0"));
    return yes;
}

static unsigned
p_received_from_count(void *ctx, const char *address)
{
    bw_ops_record_t *rec = ctx;
    unsigned n = rec->real->received_from_count(rec->real->ctx, address);
    keep(rec, 'R', address, NULL, NULL, int_text(n));
    return n;
}

static bool
p_has_message_id(void *ctx, const char *id)
{
    bw_ops_record_t *rec = ctx;
    bool yes = rec->real->has_message_id(rec->real->ctx, id);
    keep(rec, 'M', id, NULL, NULL, g_strdup(yes ? "1" : "0"));
    return yes;
}

static unsigned
p_replies_to(void *ctx, const char *id, char **from_out)
{
    bw_ops_record_t *rec = ctx;
    unsigned n = 0;
    char *a = ask_replies_to(rec->real, id, &n, from_out);
    keep(rec, 'P', id, NULL, NULL, a);
    return n;
}

static unsigned
p_received_from_domain_count(void *ctx, const char *domain)
{
    bw_ops_record_t *rec = ctx;
    unsigned n = rec->real->received_from_domain_count(rec->real->ctx, domain);
    keep(rec, 'D', domain, NULL, NULL, int_text(n));
    return n;
}

static bool
p_sent_is_anomaly(void *ctx, const char *id, const char **run_out)
{
    bw_ops_record_t *rec = ctx;
    char *a = ask_sent_is_anomaly(rec->real, id, run_out);
    bool yes = a[0] == '1';
    keep(rec, 'A', id, NULL, NULL, a);
    return yes;
}

bw_ops_record_t *
bw_ops_record_new(const bw_mailbox_ops_t *real)
{
    bw_ops_record_t *rec = g_new0(bw_ops_record_t, 1);
    rec->real = real;
    rec->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)question_free);
    bw_mailbox_ops_t *p = &rec->proxy;
    p->ctx = rec;
    p->sent_has_message_id = real->sent_has_message_id ? p_sent_has_message_id : NULL;
    p->sent_count_to = real->sent_count_to ? p_sent_count_to : NULL;
    p->sent_subject_near = real->sent_subject_near ? p_sent_subject_near : NULL;
    p->has_sent_mail = real->has_sent_mail ? p_has_sent_mail : NULL;
    p->received_from_count = real->received_from_count ? p_received_from_count : NULL;
    p->has_message_id = real->has_message_id ? p_has_message_id : NULL;
    p->replies_to = real->replies_to ? p_replies_to : NULL;
    p->received_from_domain_count = real->received_from_domain_count
                                  ? p_received_from_domain_count : NULL;
    p->sent_is_anomaly = real->sent_is_anomaly ? p_sent_is_anomaly : NULL;
    return rec;
}

void
bw_ops_record_free(bw_ops_record_t *rec)
{
    if (rec == NULL)
        return;
    g_hash_table_unref(rec->seen);
    g_free(rec);
}

const bw_mailbox_ops_t *
bw_ops_record_ops(bw_ops_record_t *rec)
{
    return &rec->proxy;
}

guint64
bw_ops_record_asked(const bw_ops_record_t *rec)
{
    return rec->asked;
}

static gint
cmp_key(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The questions' keys (borrowed), in a stable order. */
static GPtrArray *
sorted_keys(const bw_ops_record_t *rec)
{
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, rec->seen);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, cmp_key);
    return keys;
}

JsonNode *
bw_ops_record_to_json(const bw_ops_record_t *rec)
{
    g_autoptr(GPtrArray) keys = sorted_keys(rec);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < keys->len; i++) {
        const question_t *q = g_hash_table_lookup(rec->seen, g_ptr_array_index(keys, i));
        char what[2] = { q->what, '\0' };
        json_builder_begin_array(b);
        json_builder_add_string_value(b, what);
        for (int a = 0; a < 3 && q->arg[a]; a++)
            json_builder_add_string_value(b, q->arg[a]);
        json_builder_add_string_value(b, q->answer);
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}

/* ------------------------------------------------------------ replay */

static bool
arg_int(const char *s, gint64 *out)
{
    char *end = NULL;
    if (s == NULL || *s == '\0')
        return false;
    *out = g_ascii_strtoll(s, &end, 10);
    return *end == '\0';
}

/* The answer `real` gives now to one recorded question (NULL: malformed,
 * or a callback it lacks). */
static char *
answer_now(const bw_mailbox_ops_t *real, const char *what, const char *const *arg, guint nargs)
{
    gint64 x = 0, y = 0;
    if (strlen(what) != 1)
        return NULL;
    switch (what[0]) {
    case 'S':
        return nargs == 1 && real->sent_has_message_id
             ? ask_sent_has_message_id(real, arg[0], NULL) : NULL;
    case 'C':
        if (nargs != 2 || real->sent_count_to == NULL || !arg_int(arg[1], &x))
            return NULL;
        return int_text(real->sent_count_to(real->ctx, arg[0], x));
    case 'N':
        if (nargs != 3 || real->sent_subject_near == NULL || !arg_int(arg[1], &x) ||
            !arg_int(arg[2], &y))
            return NULL;
        return g_strdup(real->sent_subject_near(real->ctx, arg[0], x, y) ? "1" : "0");
    case 'H':
        return nargs == 0 && real->has_sent_mail
             ? g_strdup(real->has_sent_mail(real->ctx) ? "1" : "0") : NULL;
    case 'R':
        return nargs == 1 && real->received_from_count
             ? int_text(real->received_from_count(real->ctx, arg[0])) : NULL;
    case 'M':
        return nargs == 1 && real->has_message_id
             ? g_strdup(real->has_message_id(real->ctx, arg[0]) ? "1" : "0") : NULL;
    case 'P': {
        unsigned n = 0;
        return nargs == 1 && real->replies_to ? ask_replies_to(real, arg[0], &n, NULL) : NULL;
    }
    case 'D':
        return nargs == 1 && real->received_from_domain_count
             ? int_text(real->received_from_domain_count(real->ctx, arg[0])) : NULL;
    case 'A':
        return nargs == 1 && real->sent_is_anomaly
             ? ask_sent_is_anomaly(real, arg[0], NULL) : NULL;
    default:
        return NULL;
    }
}

bool
bw_ops_replay(JsonNode *recorded, const bw_mailbox_ops_t *real, guint max)
{
    if (recorded == NULL || !JSON_NODE_HOLDS_ARRAY(recorded))
        return false;
    JsonArray *all = json_node_get_array(recorded);
    guint n = json_array_get_length(all);
    if (n > max)
        return false;
    for (guint i = 0; i < n; i++) {
        JsonNode *qn = json_array_get_element(all, i);
        if (!JSON_NODE_HOLDS_ARRAY(qn))
            return false;
        JsonArray *q = json_node_get_array(qn);
        guint len = json_array_get_length(q);
        if (len < 2 || len > 5)
            return false;
        const char *part[5] = { NULL };
        for (guint k = 0; k < len; k++) {
            JsonNode *e = json_array_get_element(q, k);
            if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
                return false;
            part[k] = json_node_get_string(e);
        }
        g_autofree char *now = answer_now(real, part[0], part + 1, len - 2);
        if (now == NULL || strcmp(now, part[len - 1]) != 0)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ text form */

/* One question per line: the letter, the count of arguments, then each
 * argument and the answer as <length>:<bytes> (mail text may hold any byte
 * but NUL, newlines included: the lengths, not the separators, delimit). */
char *
bw_ops_record_to_text(const bw_ops_record_t *rec)
{
    g_autoptr(GPtrArray) keys = sorted_keys(rec);
    GString *g = g_string_new(NULL);
    for (guint i = 0; i < keys->len; i++) {
        const question_t *q = g_hash_table_lookup(rec->seen, g_ptr_array_index(keys, i));
        int nargs = 0;
        while (nargs < 3 && q->arg[nargs])
            nargs++;
        g_string_append_printf(g, "%c%d", q->what, nargs);
        for (int a = 0; a < nargs; a++)
            g_string_append_printf(g, "%zu:%s", strlen(q->arg[a]), q->arg[a]);
        g_string_append_printf(g, "%zu:%s\n", strlen(q->answer), q->answer);
    }
    return g_string_free(g, FALSE);
}

/* One <length>:<bytes> field at *p (before end): a copy at *buf (which
 * moves past it and its NUL), or NULL.  The copies of one line fit in as
 * many bytes as the line: each field has at least two bytes before it
 * ("0:") for its one NUL. */
static char *
take_field(const char **p, const char *end, char **buf)
{
    const char *s = *p;
    gsize n = 0;
    int digits = 0;
    while (s < end && g_ascii_isdigit(*s) && digits < 7) {
        n = n * 10 + (gsize)(*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || s >= end || *s != ':' || (gsize)(end - s - 1) < n)
        return NULL;
    s++;
    if (memchr(s, '\0', n) != NULL)
        return NULL;
    char *out = *buf;
    memcpy(out, s, n);
    out[n] = '\0';
    *buf += n + 1;
    *p = s + n;
    return out;
}

bool
bw_ops_recheck_text(const char *text, const bw_mailbox_ops_t *real,
                    bw_ops_recheck_fn must_ask, void *data, guint max, bool *changed)
{
    *changed = false;
    if (text == NULL)
        return false;
    const char *p = text, *end = text + strlen(text);
    /* the fields of the line being read, copied one after the other */
    g_autofree char *fields = g_malloc((gsize)(end - text) + 1);
    guint count = 0;
    while (p < end) {
        if (++count > max || end - p < 3)
            return false;
        char what = p[0];
        int nargs = p[1] - '0';
        if (nargs < 0 || nargs > 3)
            return false;
        p += 2;
        char *part[4] = { NULL };
        char *buf = fields;
        bool ok = true;
        for (int a = 0; a <= nargs && ok; a++)
            ok = (part[a] = take_field(&p, end, &buf)) != NULL;
        ok = ok && p < end && *p == '\n';
        p++;
        bool differs = false;
        if (ok && must_ask(data, what, (const char *const *)part, (guint)nargs, part[nargs])) {
            char w[2] = { what, '\0' };
            g_autofree char *now = answer_now(real, w, (const char *const *)part, (guint)nargs);
            ok = now != NULL;
            differs = ok && strcmp(now, part[nargs]) != 0;
        }
        if (!ok)
            return false;
        if (differs) {
            *changed = true;
            return true;
        }
    }
    return true;
}
