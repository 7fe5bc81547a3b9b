/* scan-signals.c: the signals stage (see scan-signals.h). */
#include "config.h"
#include "scan-signals.h"
#include "ops-record.h"
#include "bw-reader.h"
#include <glib/gi18n-lib.h>
#include <string.h>

#define KIND_FACTS "facts"
#define KIND_SENT  "sent"

typedef struct {
    char *kind;
    char *message_id;
    gint64 date;
    char *json;               /* NULL: delete the row */
} pending_row_t;

static void
pending_row_free(pending_row_t *p)
{
    g_free(p->kind);
    g_free(p->message_id);
    g_free(p->json);
    g_free(p);
}

void
bw_signals_run_clear(bw_signals_run_t *r)
{
    g_clear_pointer(&r->account, bw_account_free);
    g_clear_pointer(&r->account_key, g_free);
    g_clear_pointer(&r->signals, g_ptr_array_unref);
    g_clear_pointer(&r->phishing, g_ptr_array_unref);
    g_clear_pointer(&r->members, g_hash_table_unref);
    g_clear_pointer(&r->pending, g_ptr_array_unref);
    g_clear_pointer(&r->memo, g_free);
}

static JsonNode *
json_parse(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    if (text == NULL || !json_parser_load_from_data(p, text, -1, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(p);
    return root ? json_node_copy(root) : NULL;
}

static void
pend(bw_signals_run_t *r, const char *kind, const char *id, gint64 date, char *json)
{
    pending_row_t *p = g_new0(pending_row_t, 1);
    p->kind = g_strdup(kind);
    p->message_id = g_strdup(id);
    p->date = date;
    p->json = json;
    g_ptr_array_add(r->pending, p);
    if (strcmp(kind, KIND_SENT) == 0)
        r->sent_rows_changed = true;
}

/* The stored form of a received message: its file and its facts (written
 * directly, as json-glib would write the object below; see
 * bw_mailfacts_json_append). */
static char *
facts_row(const bw_mailfacts_t *m, const char *file)
{
    GString *out = g_string_sized_new(1536);
    g_string_append(out, "{\"file\":");
    bool ok = bw_json_string_append(out, file ? file : "");
    g_string_append(out, ",\"facts\":");
    ok = ok && bw_mailfacts_json_append(out, m);
    g_string_append_c(out, '}');
    if (ok)
        return bw_json_string_take(out);   /* the run keeps every row */
    g_string_free(out, TRUE);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, file ? file : "");
    json_builder_set_member_name(b, "facts");
    json_builder_add_value(b, bw_mailfacts_to_json(m));
    json_builder_end_object(b);
    return bw_json_node_take_text(json_builder_get_root(b));
}

static bw_mailfacts_t *
facts_from_row(const char *text, char **file_out)
{
    g_autoptr(JsonNode) root = json_parse(text);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    JsonObject *o = json_node_get_object(root);
    JsonNode *f = json_object_get_member(o, "facts");
    JsonNode *file = json_object_get_member(o, "file");
    bw_mailfacts_t *m = NULL;
    if (f == NULL || bw_mailfacts_from_json(f, &m, NULL) != BW_OK)
        return NULL;
    if (file_out)
        *file_out = file && JSON_NODE_HOLDS_VALUE(file) &&
                    json_node_get_value_type(file) == G_TYPE_STRING
                  ? g_strdup(json_node_get_string(file)) : NULL;
    return m;
}

/* ------------------------------------------------------------ reading
 *
 * Every file goes through the reader process (bw_signals_reading_t): one
 * READ request per message, the answers taken in order.  The answer is
 * the JSON of what the core read, checked by the reader adapter
 * (bw_reader_payload_check: no NUL, UTF-8, within the caps); it is decoded
 * here by json-glib and the kind's *_from_json (a sent summary is offered
 * to its strict row reader first: decode_summary).  An answer that does
 * not decode is garbage from the reader, as a damaged report is: the
 * message is skipped. */

/* The checked answer (`json`, `len` bytes, NUL-terminated) decoded, or
 * NULL when it does not decode. */
typedef void *(*decode_fn)(const char *json, size_t len);
/* One message of a list, in the list's order: `got` (taken; NULL when it
 * gave nothing: not mail, not readable, not notable, held or skipped). */
typedef void (*take_fn)(void *data, const bw_nm_candidate_t *c, void *got);
/* A message the reader could not read (NULL: the reading's `skip`). */
typedef void (*fault_fn)(void *data, const bw_nm_candidate_t *c, const char *cause,
                         const char *why);

/* Requests queued at a time: the answers are taken as they come, so a
 * scan of a whole mailbox holds a window of it, not all of it. */
#define READ_CHUNK 2048u

static void *
decode_facts(const char *json, size_t len)
{
    g_autoptr(JsonNode) node = NULL;
    bw_mailfacts_t *m = NULL;
    if (bw_reader_payload_parse_checked(json, len, &node, NULL) != BW_OK)
        return NULL;
    return bw_mailfacts_from_json(node, &m, NULL) == BW_OK ? m : NULL;
}

/* A sent summary's answer is first offered to bw_sent_summary_from_row,
 * the strict reader of the stored sent rows: the reader writes its answer
 * with the same writer (bw_sent_summary_to_json_text), so nearly every
 * answer is in the one form it takes (a full scan at 160k: 20,000 of
 * 20,000; every one of the nine scenarios' too), for ~9 k instructions
 * instead of json-glib's and bw_sent_summary_from_json's ~100 k.
 * The reader is the process trusted least (6c4e292 reverted a
 * hand-written parser of its answers), and this one is acceptable there
 * because it is no JSON parser: it takes only that exact form (the members
 * in the writer's order, strings without any escape, integers of at most
 * 18 digits), it is bounded by the answer (already checked: no NUL, UTF-8,
 * within the caps), and it refuses everything else, which then goes to
 * json-glib exactly as before, with the same result and the same blame.
 * What it takes, it reads as json-glib and bw_sent_summary_from_json read
 * it: fuzz-signals drives it with arbitrary bytes, as a stored row and as
 * a checked answer, against json-glib. */
static void *
decode_summary(const char *json, size_t len)
{
    bw_sent_summary_t *m = strlen(json) == len ? bw_sent_summary_from_row(json) : NULL;
    if (m != NULL)
        return m;
    g_autoptr(JsonNode) node = NULL;
    if (bw_reader_payload_parse_checked(json, len, &node, NULL) != BW_OK)
        return NULL;
    return bw_sent_summary_from_json(node, &m, NULL) == BW_OK ? m : NULL;
}

/* Reads each message of `list` (bw_nm_candidate_t*; one without a
 * Message-ID is a file not known as a message yet, never held) and hands
 * what it gave to `take`, in the list's order; what could not be read goes
 * to `fault` first.  *count: files read. */
static bw_status_t
read_list(const bw_signals_reading_t *rd, GPtrArray *list, bw_reader_read_t what,
          decode_fn decode, take_fn take, fault_fn fault, void *data, guint64 *count,
          char **detail)
{
    g_autoptr(GArray) index = g_array_new(FALSE, FALSE, sizeof(guint));
    guint next = 0;   /* the first message not handed to `take` */
    while (next < list->len) {
        /* a chunk of requests, the held messages between them left out */
        g_array_set_size(index, 0);
        guint first = G_MAXUINT, end = next;
        for (; end < list->len && index->len < READ_CHUNK; end++) {
            const bw_nm_candidate_t *c = g_ptr_array_index(list, end);
            if (rd->held != NULL && c->message_id != NULL && rd->held(rd->ctx, c->message_id))
                continue;
            guint n = bw_reader_add_read(rd->reader, c->file, what);
            if (first == G_MAXUINT)
                first = n;
            g_array_append_val(index, end);
            (*count)++;
        }
        bw_reader_result_t res;
        while (first != G_MAXUINT && bw_reader_next(rd->reader, &res)) {
            if (res.end)
                continue;
            if (res.fault == BW_READER_FAULT_UNAVAILABLE)
                return bw_error_set(detail, BW_E_INTERNAL, _("cannot read the mail: %s"),
                                    res.detail);
            guint i = g_array_index(index, guint, res.request - first);
            for (; next < i; next++)   /* held */
                take(data, g_ptr_array_index(list, next), NULL);
            next = i + 1;
            const bw_nm_candidate_t *c = g_ptr_array_index(list, i);
            const char *cause = bw_reader_fault_to_string(res.fault);
            void *got = NULL;
            if (cause == NULL && res.status == BW_OK && res.json != NULL) {
                got = decode(res.json, res.json_len);
                if (got == NULL) {
                    cause = bw_reader_fault_to_string(BW_READER_FAULT_GARBAGE);
                    res.detail = "the reader answered garbage on this message (a damaged answer)";
                }
            }
            if (cause != NULL && fault != NULL)
                fault(data, c, cause, res.detail);
            else if (cause != NULL && rd->skip != NULL)
                rd->skip(rd->ctx, c, cause, res.detail);
            take(data, c, got);
        }
        for (; next < end; next++)   /* held, after the last one read */
            take(data, g_ptr_array_index(list, next), NULL);
    }
    return BW_OK;
}

/* Facts of received mail keyed by notmuch's Message-ID (the one every
 * other part of the scan uses), dated by notmuch when the mail is not. */
static void
facts_fix(const bw_nm_candidate_t *c, bw_mailfacts_t *m)
{
    g_free(m->message_id);
    m->message_id = g_strdup(c->message_id);
    if (m->date_unix == 0)
        m->date_unix = c->date;
}

/* The messages skipped before that are read again (bw_signals_reading_t:
 * retried), the owner's or the others' as `owner` says, added to `list`
 * (of the range) when not in it. */
static void
add_retried(GPtrArray *list, bw_nm_source_t *src, const bw_signals_reading_t *rd, bool owner)
{
    if (rd->retried == NULL || rd->retried->len == 0)
        return;
    g_autoptr(GHashTable) have = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < list->len; i++)
        g_hash_table_add(have, ((bw_nm_candidate_t *)g_ptr_array_index(list, i))->message_id);
    for (guint i = 0; i < rd->retried->len; i++) {
        const bw_nm_candidate_t *c = g_ptr_array_index(rd->retried, i);
        if (g_hash_table_contains(have, c->message_id) ||
            bw_nm_source_is_owners(src, c->message_id) != owner)
            continue;
        bw_nm_candidate_t *copy = g_new0(bw_nm_candidate_t, 1);
        copy->message_id = g_strdup(c->message_id);
        copy->file = g_strdup(c->file);
        copy->date = c->date;
        g_ptr_array_add(list, copy);
    }
}

/* The stored rows of one kind that a run does not load: looked up one by
 * one, by Message-ID, when a stage asks whether a row is there (an
 * incremental run asks about the few messages of its range and of the
 * runs' threads; loading every id cost 67 M instructions at 1M messages). */
typedef struct {
    bw_store_t *store;
    const char *kind;
    GHashTable *gone;            /* ids whose row this run deletes (set, owned) */
    GHashTable *absent;          /* ids found without a stored row (set, owned) */
    bool failed;                 /* a lookup failed: the run stops */
} rows_lazy_t;

static void
rows_lazy_clear(rows_lazy_t *l)
{
    g_clear_pointer(&l->gone, g_hash_table_unref);
    g_clear_pointer(&l->absent, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(rows_lazy_t, rows_lazy_clear)

/* The owner's sent mail: stored summaries plus what the range holds. */
typedef struct {
    bw_signals_run_t *r;
    GHashTable *rows;
    /* What this run read, as read, by Message-ID: bw_sent_summary_t* for
     * the sent rows, fact_read_t* for the facts.  The stages after the
     * read take it from here instead of decoding the rows' JSON again (a
     * summary or facts decoded from the row written from it are the same:
     * every member goes through the row as it is). */
    GHashTable *decoded;
    rows_lazy_t *lazy;           /* NULL: `rows` holds every row there is */
} rows_ctx_t;

/* Whether a row of `id` is there: in `rows` (this run's, or known to be
 * stored), else, when rows are looked up, in the store as the last save
 * left it and not deleted by this run. */
static bool
rows_have(const rows_ctx_t *x, const char *id)
{
    if (g_hash_table_contains(x->rows, id))
        return true;
    rows_lazy_t *l = x->lazy;
    if (l == NULL || g_hash_table_contains(l->gone, id) || g_hash_table_contains(l->absent, id))
        return false;
    bool has = false;
    if (bw_store_has_signal_row(l->store, l->kind, id, &has) != BW_OK) {
        l->failed = true;
        return false;
    }
    if (has)
        g_hash_table_replace(x->rows, g_strdup(id), NULL);
    else
        g_hash_table_add(l->absent, g_strdup(id));
    return has;
}

typedef struct {
    bw_mailfacts_t *m;
    char *file;              /* as the row holds it ("" for none) */
} fact_read_t;

static void
fact_read_free(fact_read_t *f)
{
    bw_mailfacts_free(f->m);
    g_free(f->file);
    g_free(f);
}

static void
take_summary(void *data, const bw_nm_candidate_t *c, void *got)
{
    rows_ctx_t *x = data;
    bw_sent_summary_t *s = got;
    if (s == NULL)
        return;
    g_free(s->message_id);
    s->message_id = g_strdup(c->message_id);
    if (!s->has_date || s->date_unix == 0)
        s->date_unix = c->date;
    char *json = bw_sent_summary_to_json_text(s);
    pend(x->r, KIND_SENT, c->message_id, s->date_unix, g_strdup(json));
    g_hash_table_replace(x->rows, g_strdup(c->message_id), json);
    g_hash_table_replace(x->decoded, g_strdup(c->message_id), s);
}

/* `owner_files` (a set) gets the file of each message listed: the
 * owner's, which the received mail leaves out. */
static bw_status_t
sent_rows(bw_signals_run_t *r, bw_nm_source_t *src, const bw_signals_reading_t *rd,
          GHashTable *rows, GHashTable *decoded, bool full, guint64 after,
          GHashTable *owner_files, char **detail)
{
    g_autoptr(GPtrArray) list = NULL;
    bw_status_t st = bw_nm_source_list(src, NULL, full, after, 1, BW_SIGNALS_MAX_SENT, &list,
                                       detail);
    if (st != BW_OK)
        return st;
    add_retried(list, src, rd, true);
    for (guint i = 0; i < list->len; i++)
        g_hash_table_add(owner_files,
                         g_strdup(((const bw_nm_candidate_t *)g_ptr_array_index(list, i))->file));
    rows_ctx_t x = { r, rows, decoded, NULL };
    return read_list(rd, list, BW_READER_READ_SENT_SUMMARY, decode_summary, take_summary, NULL, &x,
                     &r->read_sent, detail);
}

/* The row of a received message's facts, written by this run. */
static void
keep_facts(rows_ctx_t *x, const bw_nm_candidate_t *c, bw_mailfacts_t *m)
{
    facts_fix(c, m);
    char *row = facts_row(m, c->file);
    pend(x->r, KIND_FACTS, c->message_id, m->date_unix, g_strdup(row));
    if (x->lazy)
        g_hash_table_remove(x->lazy->gone, c->message_id);
    g_hash_table_replace(x->rows, g_strdup(c->message_id), row);
    fact_read_t *f = g_new0(fact_read_t, 1);
    f->m = m;
    f->file = g_strdup(c->file ? c->file : "");
    g_hash_table_replace(x->decoded, g_strdup(c->message_id), f);
}

/* Received mail of the range: read, kept when a judge can use it (the
 * reader answers only for notable facts). */
static void
take_received(void *data, const bw_nm_candidate_t *c, void *got)
{
    rows_ctx_t *x = data;
    g_autoptr(bw_mailfacts_t) m = got;
    if (m != NULL && bw_mailfacts_notable(m)) {
        keep_facts(x, c, g_steal_pointer(&m));
    } else if (rows_have(x, c->message_id)) {
        /* changed into something no judge uses (it stays a reply
         * candidate of a run: reply_rows reads it again) */
        g_hash_table_remove(x->rows, c->message_id);
        if (x->lazy)
            g_hash_table_add(x->lazy->gone, g_strdup(c->message_id));
        g_hash_table_remove(x->decoded, c->message_id);
        pend(x->r, KIND_FACTS, c->message_id, 0, NULL);
    }
}

/* ------------------------------------------------------------ the whole history
 *
 * A full run reads every message that is not the owner's.  Asking notmuch
 * each message for its file costs about as much as the reader's parsing
 * (Xapian decompresses the message's term list and fetches its
 * directory's document); notmuch's directory documents name every file
 * for a term scan per directory.  So a full run reads every file, and asks
 * notmuch about a file only when the reader found something in it
 * (notable facts) or could not read it: what the file gave counts only
 * when it is its message's first file (the one a list of the messages
 * reads) and the message is not the owner's.  That is exactly what the
 * list gives, read for read.  The owner's files the Sent read listed and
 * the files of held messages are not read at all. */

typedef struct {
    rows_ctx_t x;
    bw_nm_source_t *src;
    GPtrArray *files;            /* every file of the walk (borrowed) */
    GHashTable *walked;          /* the same as a set, made when first asked */
    GPtrArray *found;            /* bw_nm_candidate_t*: messages with notable facts */
    GPtrArray *facts;            /* bw_mailfacts_t*, one per found */
    GPtrArray *faults;           /* walk_fault_t*: messages the reader could not read */
    bool lost;                   /* a file named otherwise than notmuch names it */
    bool failed;                 /* a notmuch read failed */
} walk_ctx_t;

typedef struct {
    bw_nm_candidate_t *c;
    char *cause;
    char *why;
} walk_fault_t;

static void
walk_fault_free(walk_fault_t *f)
{
    bw_nm_candidate_free(f->c);
    g_free(f->cause);
    g_free(f->why);
    g_free(f);
}

/* The message a file of the walk stands for: NULL unless the file is the
 * first of a message that is not the owner's. */
static bw_nm_candidate_t *
walk_resolve(walk_ctx_t *w, const char *file)
{
    if (w->lost || w->failed)
        return NULL;
    bw_nm_candidate_t *c = NULL;
    bool owners = false;
    if (bw_nm_source_file_message(w->src, file, &c, &owners, NULL) != BW_OK) {
        w->failed = true;
        return NULL;
    }
    /* every message's first file is among the walk's, named as notmuch
     * names it: otherwise the walk cannot stand for the list */
    if (c != NULL && strcmp(c->file, file) != 0 && w->walked == NULL) {
        /* (a message with several files: rare, so the set is made then) */
        w->walked = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < w->files->len; i++)
            g_hash_table_add(w->walked, g_ptr_array_index(w->files, i));
    }
    if (c == NULL || (strcmp(c->file, file) != 0 && !g_hash_table_contains(w->walked, c->file))) {
        w->lost = true;
        bw_nm_candidate_free(c);
        return NULL;
    }
    if (owners || strcmp(c->file, file) != 0) {
        bw_nm_candidate_free(c);
        return NULL;
    }
    return c;
}

static void
walk_take(void *data, const bw_nm_candidate_t *f, void *got)
{
    walk_ctx_t *w = data;
    g_autoptr(bw_mailfacts_t) m = got;
    if (m == NULL || !bw_mailfacts_notable(m))
        return;
    bw_nm_candidate_t *c = walk_resolve(w, f->file);
    if (c == NULL)
        return;
    g_ptr_array_add(w->found, c);
    g_ptr_array_add(w->facts, g_steal_pointer(&m));
}

static void
walk_fault(void *data, const bw_nm_candidate_t *f, const char *cause, const char *why)
{
    walk_ctx_t *w = data;
    bw_nm_candidate_t *c = walk_resolve(w, f->file);
    if (c == NULL)
        return;
    walk_fault_t *e = g_new0(walk_fault_t, 1);
    e->c = c;
    e->cause = g_strdup(cause);
    e->why = g_strdup(why);
    g_ptr_array_add(w->faults, e);
}

/* The received mail of the whole history, read file by file.  *done false:
 * the walk cannot stand for a list of the messages here (a tree too large,
 * files notmuch names otherwise, held messages it cannot name): nothing
 * was kept, the caller lists the messages. */
static bw_status_t
received_walk(rows_ctx_t *x, bw_nm_source_t *src, const bw_signals_reading_t *rd,
              GHashTable *owner_files, bool *done, char **detail)
{
    bw_signals_run_t *r = x->r;
    *done = false;
    if (rd->held != NULL && rd->held_ids == NULL)
        return BW_OK;
    g_autoptr(GPtrArray) files = NULL;
    bw_status_t st = bw_nm_source_files(src, &files, detail);
    if (st != BW_OK || files == NULL)
        return st;
    /* every message has a file: fewer files than messages is a walk that
     * missed some */
    guint64 messages = bw_nm_source_count_messages(src);
    if (bw_nm_source_failed(src, detail))
        return BW_E_DATABASE;
    if (files->len < messages)
        return BW_OK;
    /* not read: the held messages' files, the owner's */
    g_autoptr(GHashTable) unread = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) held_files = g_ptr_array_new_with_free_func(g_free);
    if (rd->held_ids != NULL) {
        g_autoptr(GPtrArray) held = rd->held_ids(rd->ctx);
        for (guint i = 0; held != NULL && i < held->len; i++) {
            st = bw_nm_source_message_files(src, g_ptr_array_index(held, i), held_files, detail);
            if (st != BW_OK)
                return st;
        }
        for (guint i = 0; i < held_files->len; i++)
            g_hash_table_add(unread, g_ptr_array_index(held_files, i));
    }
    /* the requests borrow the walk's paths (a whole mailbox of them) */
    g_autoptr(GArray) reads = g_array_sized_new(FALSE, TRUE, sizeof(bw_nm_candidate_t), files->len);
    for (guint i = 0; i < files->len; i++) {
        char *file = g_ptr_array_index(files, i);
        if ((g_hash_table_size(unread) > 0 && g_hash_table_contains(unread, file)) ||
            g_hash_table_contains(owner_files, file))
            continue;
        bw_nm_candidate_t c = { .file = file };
        g_array_append_val(reads, c);
    }
    g_autoptr(GPtrArray) list = g_ptr_array_sized_new(reads->len);
    for (guint i = 0; i < reads->len; i++)
        g_ptr_array_add(list, &g_array_index(reads, bw_nm_candidate_t, i));
    walk_ctx_t w = { *x, src, files, NULL,
                     g_ptr_array_new_with_free_func((GDestroyNotify)bw_nm_candidate_free),
                     g_ptr_array_new_with_free_func((GDestroyNotify)bw_mailfacts_free),
                     g_ptr_array_new_with_free_func((GDestroyNotify)walk_fault_free),
                     false, false };
    guint64 count = 0;
    st = read_list(rd, list, BW_READER_READ_NOTABLE_FACTS, decode_facts, walk_take, walk_fault,
                   &w, &count, detail);
    /* a failed lookup marked the source, whose message says what to do */
    if (st == BW_OK && w.failed && !bw_nm_source_failed(src, detail))
        st = bw_error_set(detail, BW_E_DATABASE, "%s", _("reading the notmuch database failed"));
    if (st == BW_OK && w.failed)
        st = BW_E_DATABASE;
    if (st == BW_OK && !w.lost) {
        *done = true;
        r->read_received += count;
        for (guint i = 0; i < w.faults->len; i++) {
            const walk_fault_t *e = g_ptr_array_index(w.faults, i);
            if (rd->skip != NULL)
                rd->skip(rd->ctx, e->c, e->cause, e->why);
        }
        for (guint i = 0; i < w.found->len; i++) {
            bw_mailfacts_t *m = g_ptr_array_index(w.facts, i);
            g_ptr_array_index(w.facts, i) = NULL;   /* kept */
            keep_facts(&w.x, g_ptr_array_index(w.found, i), m);
        }
    }
    g_ptr_array_unref(w.found);
    g_ptr_array_unref(w.facts);
    g_ptr_array_unref(w.faults);
    if (w.walked != NULL)
        g_hash_table_unref(w.walked);
    return st;
}

/* The messages skipped before that notmuch no longer has: not in the walk,
 * but a list of the messages gets them from add_retried. */
static bw_status_t
retried_gone(bw_nm_source_t *src, const bw_signals_reading_t *rd, GPtrArray *out, char **detail)
{
    for (guint i = 0; rd->retried != NULL && i < rd->retried->len; i++) {
        const bw_nm_candidate_t *c = g_ptr_array_index(rd->retried, i);
        g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
        bw_status_t st = bw_nm_source_message_files(src, c->message_id, files, detail);
        if (st != BW_OK)
            return st;
        if (files->len > 0)
            continue;
        bw_nm_candidate_t *copy = g_new0(bw_nm_candidate_t, 1);
        copy->message_id = g_strdup(c->message_id);
        copy->file = g_strdup(c->file);
        copy->date = c->date;
        g_ptr_array_add(out, copy);
    }
    return BW_OK;
}

static bw_status_t
received_rows(rows_ctx_t *x, bw_nm_source_t *src, const bw_signals_reading_t *rd, bool full,
              guint64 after, GHashTable *owner_files, char **detail)
{
    bw_signals_run_t *r = x->r;
    if (full) {
        bool done = false;
        bw_status_t st = received_walk(x, src, rd, owner_files, &done, detail);
        if (st != BW_OK)
            return st;
        if (done) {
            g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func((GDestroyNotify)bw_nm_candidate_free);
            st = retried_gone(src, rd, gone, detail);
            if (st != BW_OK)
                return st;
            return read_list(rd, gone, BW_READER_READ_NOTABLE_FACTS, decode_facts, take_received,
                             NULL, x, &r->read_received, detail);
        }
    }
    g_autoptr(GPtrArray) list = NULL;
    bw_status_t st = bw_nm_source_list(src, NULL, full, after, 0, 0, &list, detail);
    if (st != BW_OK)
        return st;
    add_retried(list, src, rd, false);
    return read_list(rd, list, BW_READER_READ_NOTABLE_FACTS, decode_facts, take_received, NULL, x,
                     &r->read_received, detail);
}

/* A reply candidate: kept whatever it is (the reply judge decides). */
static void
take_reply(void *data, const bw_nm_candidate_t *c, void *got)
{
    rows_ctx_t *x = data;
    g_autoptr(bw_mailfacts_t) m = got;
    if (m != NULL && !rows_have(x, c->message_id))
        keep_facts(x, c, g_steal_pointer(&m));
}

/* People answering a run: the other messages in the threads of its
 * members (notmuch threads by References and In-Reply-To, whatever order
 * the mail came in).  Read once, then kept. */
static bw_status_t
reply_rows(rows_ctx_t *x, bw_nm_source_t *src, const bw_signals_reading_t *rd, GPtrArray *runs,
           char **detail)
{
    bw_signals_run_t *r = x->r;
    /* the threads of every member, each once */
    g_autoptr(GHashTable) threads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) terms = g_ptr_array_new();
    for (guint i = 0; i < runs->len; i++) {
        const bw_signal_t *run = g_ptr_array_index(runs, i);
        for (guint k = 0; run->members && k < run->members->len; k++) {
            char *term = bw_nm_source_thread_term(src, g_ptr_array_index(run->members, k));
            if (term == NULL || g_hash_table_contains(threads, term)) {
                g_free(term);
                continue;
            }
            g_hash_table_add(threads, term);
            g_ptr_array_add(terms, term);
        }
    }
    if (bw_nm_source_failed(src, NULL))
        return bw_error_set(detail, BW_E_DATABASE, "%s", _("cannot read the threads of the sent mail"));
    for (guint from = 0; from < terms->len; from += BW_SIGNALS_MAX_THREAD_IDS) {
        GString *q = g_string_new(NULL);
        for (guint k = from; k < terms->len && k < from + BW_SIGNALS_MAX_THREAD_IDS; k++)
            g_string_append_printf(q, "%s%s", k > from ? " or " : "",
                                   (const char *)g_ptr_array_index(terms, k));
        g_autoptr(GPtrArray) list = NULL;
        bw_status_t st = bw_nm_source_list(src, q->str, true, 0, 0, 0, &list, detail);
        g_string_free(q, TRUE);
        if (st != BW_OK)
            return st;
        /* those not read yet (a thread lists a message once) */
        g_autoptr(GPtrArray) unread = g_ptr_array_new();
        for (guint k = 0; k < list->len; k++) {
            const bw_nm_candidate_t *c = g_ptr_array_index(list, k);
            if (!rows_have(x, c->message_id))
                g_ptr_array_add(unread, (gpointer)c);
        }
        st = read_list(rd, unread, BW_READER_READ_FACTS, decode_facts, take_reply, NULL, x,
                       &r->read_replies, detail);
        if (st != BW_OK)
            return st;
    }
    return BW_OK;
}

static gint
cmp_phish(gconstpointer a, gconstpointer b)
{
    const bw_phish_t *x = *(bw_phish_t *const *)a, *y = *(bw_phish_t *const *)b;
    if (x->date_unix != y->date_unix)
        return x->date_unix < y->date_unix ? -1 : 1;
    return g_strcmp0(x->message_id, y->message_id);
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a table, sorted: every decision below goes through the rows
 * in one order, whatever order the hash table or the mail had. */
static GPtrArray *
sorted_keys(GHashTable *h)
{
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, h);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, cmp_str);
    return keys;
}

/* ------------------------------------------------------------ the memo
 *
 * Judging every stored row again on every run costs what the history
 * holds (20,000 sent summaries and thousands of facts decoded from JSON,
 * a notmuch lookup per fact), not what arrived.  Yet the result is a
 * function of: the account, the sent summaries, the facts, and the
 * answers of the mailbox questions the judges asked (bw_mailbox_ops_t).
 * So each saving run keeps, beside the rows:
 *   - the runs in Sent it found, with the account, the version of the sent
 *     rows (bumped whenever one is written or removed) and the questions
 *     the search asked with their answers;
 *   - the Message-IDs of the "relevant" facts: those judged a signal, an
 *     imitation or a reply, or whose judging asked a question, with the
 *     digest of the runs they were judged against and those questions.
 * The next run uses the runs when the account and the sent rows are the
 * same and every question gets the same answer now (ops-record.h); and
 * judges only the relevant facts and the facts written by this run when,
 * in addition, the runs are the same: any other stored fact was judged
 * ordinary without asking anything, from data that did not change, so it
 * is ordinary again.  Otherwise it decodes and judges everything, as a
 * full run does.  The result is the full run's, byte for byte (T210). */

#define MEMO_VERSION 1
/* Questions asked again before a memo is used, at most (each is a notmuch
 * point query, cached): past this, judging again costs no more. */
#define MEMO_MAX_QUESTIONS 20000u

typedef struct {
    JsonNode *root;          /* the stored memo, or NULL */
    const char *account;
    gint64 sent_version;
    JsonNode *runs_calls, *runs, *facts_calls;
    const char *runs_digest;
    JsonArray *relevant;
} memo_t;

static void
memo_clear(memo_t *m)
{
    g_clear_pointer(&m->root, json_node_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(memo_t, memo_clear)

static const char *
member_str(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
         ? json_node_get_string(n) : NULL;
}

/* The memo's questions "how many messages are from this address" (R),
 * answered from what they recorded where that is exact, before the memo is
 * checked against the mailbox (bw_ops_replay asks each again, a count over
 * every message: ~110k instructions each at 160k messages).  The memo is
 * written by every save, in the transaction that writes the revision the
 * next run starts after, and its answers are the counts that save's run
 * got from the database at that revision; the runs with nothing new
 * between (bw_scan_account_unchanged moves the revision alone) added and
 * removed no message.  So when no message left the database since and no
 * message of the lastmod range can be from the address (`from_count_kept`,
 * the test the kept verdicts' R questions use: scan-classify.c), the count
 * now is the recorded one, which becomes the source's answer.  Any other
 * question, or an answer that does not read as a count, is asked. */
static void
prime_from_counts(JsonNode *calls, bw_nm_source_t *src, const bw_signals_reading_t *reading)
{
    if (calls == NULL || !JSON_NODE_HOLDS_ARRAY(calls) || reading->from_count_kept == NULL)
        return;
    JsonArray *all = json_node_get_array(calls);
    guint n = json_array_get_length(all);
    for (guint i = 0; i < n && i < MEMO_MAX_QUESTIONS; i++) {
        JsonNode *qn = json_array_get_element(all, i);
        if (!JSON_NODE_HOLDS_ARRAY(qn))
            return;
        JsonArray *q = json_node_get_array(qn);
        if (json_array_get_length(q) != 3)
            continue;
        const char *part[3] = { NULL };
        for (guint k = 0; k < 3; k++) {
            JsonNode *e = json_array_get_element(q, k);
            if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
                return;
            part[k] = json_node_get_string(e);
        }
        guint64 before = 0;
        if (strcmp(part[0], "R") == 0 && *part[1] != '\0' &&
            g_ascii_string_to_unsigned(part[2], 10, 0, G_MAXUINT, &before, NULL) &&
            reading->from_count_kept(reading->ctx, part[1]))
            bw_nm_source_from_count_known(src, part[1], before);
    }
}

/* The stored memo, when it is whole and of this version. */
static bool
memo_load(bw_store_t *store, memo_t *m)
{
    g_autofree char *text = NULL;
    if (bw_store_get_meta(store, "signals_memo", &text) != BW_OK || text == NULL)
        return false;
    m->root = json_parse(text);
    if (m->root == NULL || !JSON_NODE_HOLDS_OBJECT(m->root))
        return false;
    JsonObject *o = json_node_get_object(m->root);
    JsonNode *rel = json_object_get_member(o, "relevant");
    m->account = member_str(o, "account");
    m->runs_digest = member_str(o, "runs_digest");
    m->runs_calls = json_object_get_member(o, "runs_calls");
    m->runs = json_object_get_member(o, "runs");
    m->facts_calls = json_object_get_member(o, "facts_calls");
    m->sent_version = json_object_get_int_member_with_default(o, "sent_version", -1);
    m->relevant = rel && JSON_NODE_HOLDS_ARRAY(rel) ? json_node_get_array(rel) : NULL;
    return json_object_get_int_member_with_default(o, "version", 0) == MEMO_VERSION &&
           m->account && m->runs_digest && m->runs && JSON_NODE_HOLDS_ARRAY(m->runs) &&
           m->runs_calls && m->facts_calls && m->relevant;
}

static gint64
sent_rows_version(bw_store_t *store)
{
    g_autofree char *v = NULL;
    if (bw_store_get_meta(store, "signals_sent_version", &v) != BW_OK || v == NULL)
        return 0;
    return g_ascii_strtoll(v, NULL, 10);
}

/* The runs as stored (and hashed): an array of their JSON, UTC. */
static char *
runs_text(GPtrArray *runs)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < runs->len; i++)
        json_builder_add_value(b, bw_signal_to_json(g_ptr_array_index(runs, i), 0));
    json_builder_end_array(b);
    return bw_json_node_take_text(json_builder_get_root(b));
}

static GPtrArray *
runs_from_json(JsonNode *array)
{
    GPtrArray *runs = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    JsonArray *a = json_node_get_array(array);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        bw_signal_t *sig = NULL;
        if (bw_signal_from_json(json_array_get_element(a, i), &sig, NULL) != BW_OK ||
            sig == NULL || sig->kind != BW_SIGNAL_SENT_ANOMALY) {
            bw_signal_free(sig);
            g_ptr_array_unref(runs);
            return NULL;
        }
        g_ptr_array_add(runs, sig);
    }
    return runs;
}

/* The stored rows of `kind` put into `rows`: those it holds without their
 * JSON (loaded with the ids only), and with `add_missing` those it lacks;
 * what this run read stays. */
static bool
fill_rows(bw_store_t *store, const char *kind, GHashTable *rows, bool add_missing,
          GHashTable *skip)
{
    g_autoptr(GHashTable) all = NULL;
    if (bw_store_load_signal_rows(store, kind, &all) != BW_OK)
        return false;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, all);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        gpointer have = NULL;
        bool there = g_hash_table_lookup_extended(rows, k, NULL, &have);
        if ((there && have == NULL) ||
            (!there && add_missing && (skip == NULL || !g_hash_table_contains(skip, k)))) {
            g_hash_table_replace(rows, k, v);
            g_hash_table_iter_steal(&it);
        }
    }
    return true;
}

static char *
digest_text(const char *text)
{
    return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
}

/* Judges one stored fact, `read` when this run read it (its row is
 * `text`); true when it is relevant (see the memo). */
static bool
judge_fact(bw_signals_run_t *r, const char *text, const fact_read_t *read,
           const bw_reply_context_t *rctx, bw_ops_record_t *rec)
{
    g_autofree char *file = NULL;
    g_autoptr(bw_mailfacts_t) decoded = read == NULL ? facts_from_row(text, &file) : NULL;
    const bw_mailfacts_t *m = read != NULL ? read->m : decoded;
    if (read != NULL)
        file = g_strdup(read->file);
    if (m == NULL)
        return false;
    bw_signal_t *sig = NULL;
    bw_phish_t *ph = NULL;
    switch (bw_notice_judge(m, r->account, file, &sig, &ph)) {
    case BW_NOTICE_SIGNAL:
        g_ptr_array_add(r->signals, sig);
        return true;
    case BW_NOTICE_PHISHING:
        g_ptr_array_add(r->phishing, ph);
        return true;
    case BW_NOTICE_ORDINARY:
        break;
    }
    guint64 asked = bw_ops_record_asked(rec);
    bw_signal_t *reply = NULL;
    if (bw_reply_judge(m, r->account, rctx, file, &reply)) {
        g_ptr_array_add(r->signals, reply);
        return true;
    }
    return bw_ops_record_asked(rec) != asked;
}

static char *
memo_text(const bw_signals_run_t *r, gint64 sent_version, const char *runs_json,
          const char *runs_digest, JsonNode *runs_calls, JsonNode *facts_calls,
          GPtrArray *relevant)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, MEMO_VERSION);
    json_builder_set_member_name(b, "account");
    json_builder_add_string_value(b, r->account_key);
    json_builder_set_member_name(b, "sent_version");
    json_builder_add_int_value(b, sent_version);
    json_builder_set_member_name(b, "runs_digest");
    json_builder_add_string_value(b, runs_digest);
    json_builder_set_member_name(b, "runs");
    json_builder_add_value(b, json_parse(runs_json));
    json_builder_set_member_name(b, "runs_calls");
    json_builder_add_value(b, json_node_copy(runs_calls));
    json_builder_set_member_name(b, "facts_calls");
    json_builder_add_value(b, json_node_copy(facts_calls));
    json_builder_set_member_name(b, "relevant");
    json_builder_begin_array(b);
    for (guint i = 0; i < relevant->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(relevant, i));
    json_builder_end_array(b);
    json_builder_end_object(b);
    return bw_json_node_take_text(json_builder_get_root(b));
}

bw_status_t
bw_signals_stage_run(bw_signals_run_t *r, bw_nm_source_t *src, bw_store_t *store,
                     const bw_profile_t *profile, bw_account_t *account,
                     const bw_mailbox_ops_t *ops,
                     const bw_signals_reading_t *reading, bw_signals_read_t read,
                     guint64 after, char **detail)
{
    bool full = read == BW_SIGNALS_READ_ALL;
    memset(r, 0, sizeof *r);
    r->pending = g_ptr_array_new_with_free_func((GDestroyNotify)pending_row_free);
    r->signals = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    r->phishing = g_ptr_array_new_with_free_func((GDestroyNotify)bw_phish_free);
    r->members = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, g_free);
    r->account = account != NULL ? account : bw_account_from_profile(profile);
    if (r->account == NULL)
        return bw_error_set(detail, BW_E_NOMEM, "%s", _("cannot build the account's description"));
    r->account_key = bw_account_key(r->account);
    r->clear = full;

    /* A memo of this account: the stored rows are loaded only as far as
     * it says they are needed (the facts' ids, no sent row). */
    g_auto(memo_t) memo = { 0 };
    bool memo_ok = !full && memo_load(store, &memo) && strcmp(memo.account, r->account_key) == 0;
    if (memo_ok && read == BW_SIGNALS_READ_RANGE) {
        prime_from_counts(memo.runs_calls, src, reading);
        prime_from_counts(memo.facts_calls, src, reading);
    }
    gint64 sent_version = full ? 0 : sent_rows_version(store);
    bool sent_loaded = full, facts_loaded = full;
    g_autoptr(GHashTable) sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) facts = NULL;
    if (!full && !memo_ok) {
        g_clear_pointer(&sent, g_hash_table_unref);
        if (bw_store_load_signal_rows(store, KIND_SENT, &sent) != BW_OK ||
            bw_store_load_signal_rows(store, KIND_FACTS, &facts) != BW_OK)
            return bw_error_set(detail, BW_E_STATE, "%s", _("cannot read the stored signals"));
        sent_loaded = facts_loaded = true;
    }
    /* Otherwise the facts' rows are looked up by Message-ID as they are
     * asked about (rows_lazy_t). */
    g_auto(rows_lazy_t) lazy = { store, KIND_FACTS, NULL, NULL, false };
    if (!full && !facts_loaded) {
        lazy.gone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        lazy.absent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    rows_lazy_t *lazy_facts = lazy.gone != NULL ? &lazy : NULL;
    if (facts == NULL)
        facts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    g_autoptr(GHashTable) sent_read = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                            (GDestroyNotify)bw_sent_summary_free);
    g_autoptr(GHashTable) facts_read = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                             (GDestroyNotify)fact_read_free);
    rows_ctx_t facts_x = { r, facts, facts_read, lazy_facts };
    bw_status_t st = BW_OK;
    if (read != BW_SIGNALS_READ_NONE) {
        /* asked once for each file of the walk: bw_str_hash reads 8
         * bytes a step (165,503 paths at 160k: g_hash_table_contains
         * 110 -> 36 M instructions) */
        g_autoptr(GHashTable) owner_files = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, NULL);
        st = sent_rows(r, src, reading, sent, sent_read, full, after, owner_files, detail);
        if (st == BW_OK)
            st = received_rows(&facts_x, src, reading, full, after, owner_files, detail);
        if (st == BW_OK && lazy.failed)
            st = bw_error_set(detail, BW_E_STATE, "%s", _("cannot read the stored signals"));
        if (st != BW_OK)
            return st;
    }

    /* The runs in Sent: the memo's, or found again over every stored
     * summary. */
    g_autoptr(GPtrArray) runs = NULL;
    g_autoptr(JsonNode) runs_calls = NULL;
    g_autofree char *runs_json = NULL;
    if (memo_ok && !r->sent_rows_changed && memo.sent_version == sent_version &&
        bw_ops_replay(memo.runs_calls, ops, MEMO_MAX_QUESTIONS))
        runs = runs_from_json(memo.runs);
    r->runs_reused = runs != NULL;
    if (runs != NULL) {
        runs_calls = json_node_copy(memo.runs_calls);
    } else {
        if (!sent_loaded && !fill_rows(store, KIND_SENT, sent, true, NULL))
            return bw_error_set(detail, BW_E_STATE, "%s", _("cannot read the stored signals"));
        g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func((GDestroyNotify)bw_sent_summary_free);
        g_autoptr(GPtrArray) sent_ids = sorted_keys(sent);
        for (guint i = 0; i < sent_ids->len; i++) {
            gpointer read_id = NULL, read_now = NULL;
            if (g_hash_table_steal_extended(sent_read, g_ptr_array_index(sent_ids, i), &read_id,
                                            &read_now)) {
                g_free(read_id);
                g_ptr_array_add(summaries, read_now);
                continue;
            }
            /* the rows this program writes are read without json-glib */
            const char *text = g_hash_table_lookup(sent, g_ptr_array_index(sent_ids, i));
            bw_sent_summary_t *sm = bw_sent_summary_from_row(text);
            if (sm != NULL) {
                g_ptr_array_add(summaries, sm);
                continue;
            }
            g_autoptr(JsonNode) n = json_parse(text);
            if (n != NULL && bw_sent_summary_from_json(n, &sm, NULL) == BW_OK && sm != NULL)
                g_ptr_array_add(summaries, sm);
        }
        g_autoptr(bw_ops_record_t) rec = bw_ops_record_new(ops);
        st = bw_sent_anomalies_find(summaries, r->account, bw_ops_record_ops(rec), &runs);
        if (st != BW_OK)
            return bw_error_set(detail, st, "%s", _("cannot look for runs in the sent mail"));
        runs_calls = bw_ops_record_to_json(rec);
    }
    runs_json = runs_text(runs);
    g_autofree char *runs_digest = digest_text(runs_json);
    for (guint i = 0; i < runs->len; i++) {
        const bw_signal_t *run = g_ptr_array_index(runs, i);
        if (run->members == NULL || run->members->len == 0)
            continue;
        const char *key = g_ptr_array_index(run->members, 0);
        for (guint k = 0; k < run->members->len; k++)
            g_hash_table_replace(r->members, g_strdup(g_ptr_array_index(run->members, k)),
                                 g_strdup(key));
    }
    st = reply_rows(&facts_x, src, reading, runs, detail);
    if (st == BW_OK && lazy.failed)
        st = bw_error_set(detail, BW_E_STATE, "%s", _("cannot read the stored signals"));
    if (st != BW_OK)
        return st;

    /* The facts: the memo's relevant ones and those this run wrote, or
     * every stored one judged again (the account or the runs may differ
     * from the run that stored them). */
    g_autoptr(bw_ops_record_t) rec = bw_ops_record_new(ops);
    bw_reply_context_t rctx = { runs, bw_ops_record_ops(rec) };
    g_autoptr(GPtrArray) judge = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) texts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    bool few = memo_ok && strcmp(memo.runs_digest, runs_digest) == 0 &&
               bw_ops_replay(memo.facts_calls, ops, MEMO_MAX_QUESTIONS);
    if (few) {
        g_autoptr(GHashTable) want = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < json_array_get_length(memo.relevant); i++) {
            JsonNode *e = json_array_get_element(memo.relevant, i);
            if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                g_hash_table_add(want, (gpointer)json_node_get_string(e));
        }
        for (guint i = 0; i < r->pending->len; i++) {
            const pending_row_t *p = g_ptr_array_index(r->pending, i);
            if (strcmp(p->kind, KIND_FACTS) == 0)
                g_hash_table_add(want, p->message_id);
        }
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, want);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            gpointer have = NULL;
            if (!rows_have(&facts_x, k)) {
                if (lazy.failed)
                    return bw_error_set(detail, BW_E_STATE, "%s",
                                        _("cannot read the stored signals"));
                continue;   /* no row any more */
            }
            have = g_hash_table_lookup(facts, k);
            char *text = g_strdup(have);
            if (text == NULL &&
                bw_store_get_signal_row(store, KIND_FACTS, k, &text) != BW_OK)
                return bw_error_set(detail, BW_E_STATE, "%s", _("cannot read the stored signals"));
            if (text == NULL)
                continue;
            g_ptr_array_add(judge, g_strdup(k));
            g_hash_table_insert(texts, g_ptr_array_index(judge, judge->len - 1), text);
        }
    } else {
        if (!facts_loaded && !fill_rows(store, KIND_FACTS, facts, true, lazy.gone))
            return bw_error_set(detail, BW_E_STATE, "%s", _("cannot read the stored signals"));
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, facts);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            if (v == NULL)
                continue;
            g_ptr_array_add(judge, g_strdup(k));
            g_hash_table_insert(texts, g_ptr_array_index(judge, judge->len - 1), g_strdup(v));
        }
    }
    r->facts_reused = few;
    g_ptr_array_sort(judge, cmp_str);
    g_autoptr(GPtrArray) relevant = g_ptr_array_new();
    for (guint i = 0; i < judge->len; i++) {
        /* a message deleted since it was read says nothing any more (a
         * full run would not see it) */
        const char *id = g_ptr_array_index(judge, i);
        if (ops->has_message_id != NULL && !ops->has_message_id(ops->ctx, id)) {
            if (read != BW_SIGNALS_READ_ALL)
                pend(r, KIND_FACTS, id, 0, NULL);
            continue;
        }
        if (judge_fact(r, g_hash_table_lookup(texts, id), g_hash_table_lookup(facts_read, id),
                       &rctx, rec))
            g_ptr_array_add(relevant, (gpointer)id);
    }
    g_autoptr(JsonNode) facts_calls = bw_ops_record_to_json(rec);
    r->memo = memo_text(r, sent_version + (r->sent_rows_changed || full ? 1 : 0), runs_json,
                        runs_digest, runs_calls, facts_calls, relevant);

    while (runs->len > 0)
        g_ptr_array_add(r->signals, g_ptr_array_steal_index(runs, 0));
    g_ptr_array_sort(r->signals, bw_signal_compare);
    g_ptr_array_sort(r->phishing, cmp_phish);
    bw_nm_source_set_anomalies(src, r->members);
    return BW_OK;
}

const char *
bw_signals_phase(const bw_signals_run_t *r)
{
    return r->facts_reused ? "signals+memo" : r->runs_reused ? "signals+runs" : "signals";
}

bw_status_t
bw_signals_stage_save(const bw_signals_run_t *r, bw_store_t *store, char **detail)
{
    if (r->pending == NULL)
        return BW_OK;
    if (r->clear && bw_store_clear_signal_rows(store) != BW_OK)
        return bw_error_set(detail, BW_E_STATE, "%s", _("cannot save the signals"));
    for (guint i = 0; i < r->pending->len; i++) {
        const pending_row_t *p = g_ptr_array_index(r->pending, i);
        if (bw_store_put_signal_row(store, p->kind, p->message_id, p->date, p->json) != BW_OK)
            return bw_error_set(detail, BW_E_STATE, "%s", _("cannot save the signals"));
    }
    /* The sent rows' version moves with them (a full run starts over). */
    gint64 version = r->clear ? 1 : sent_rows_version(store) + (r->sent_rows_changed ? 1 : 0);
    g_autofree char *v = g_strdup_printf("%" G_GINT64_FORMAT, version);
    if ((r->clear || r->sent_rows_changed) &&
        bw_store_set_meta(store, "signals_sent_version", v) != BW_OK)
        return bw_error_set(detail, BW_E_STATE, "%s", _("cannot save the signals"));
    if (r->memo != NULL && bw_store_set_meta(store, "signals_memo", r->memo) != BW_OK)
        return bw_error_set(detail, BW_E_STATE, "%s", _("cannot save the signals"));
    return BW_OK;
}

bw_status_t
bw_signals_stage_assess(bw_signals_run_t *r, bw_scan_result_t *result, char **detail)
{
    if (r->signals == NULL || result->assessment == NULL)
        return BW_OK;
    bool own = result->assessment->status == BW_STATUS_COMPROMISE_SUSPECTED;
    bw_signals_assessment_t *sa = NULL;
    bw_status_t st = bw_signals_assess(r->signals, bw_account_primary(r->account), own, &sa);
    if (st != BW_OK)
        return bw_error_set(detail, st, "%s", _("the assessment failed"));
    bw_signals_assessment_apply(sa, result->assessment);
    result->signals_assessment = sa;
    result->signals = g_steal_pointer(&r->signals);
    result->phishing = g_steal_pointer(&r->phishing);
    return BW_OK;
}

static void
want_tag(GHashTable *wanted, const char *id, const char *tag)
{
    if (id == NULL)
        return;
    GString *g = g_hash_table_lookup(wanted, id);
    if (g == NULL) {
        g = g_string_new(NULL);
        g_hash_table_insert(wanted, g_strdup(id), g);
    }
    if (strstr(g->str, tag) != NULL)
        return;
    g_string_append_printf(g, "%s%s", g->len ? " " : "", tag);
}

void
bw_signals_stage_tags(GPtrArray *signals, GPtrArray *phishing, GHashTable *wanted)
{
    for (guint i = 0; signals && i < signals->len; i++) {
        const bw_signal_t *s = g_ptr_array_index(signals, i);
        if (s->kind == BW_SIGNAL_SENT_ANOMALY) {
            for (guint k = 0; s->members && k < s->members->len; k++)
                want_tag(wanted, g_ptr_array_index(s->members, k), "bw/signal");
        } else {
            want_tag(wanted, s->message_id, "bw/signal");
        }
    }
    for (guint i = 0; phishing && i < phishing->len; i++)
        want_tag(wanted, ((const bw_phish_t *)g_ptr_array_index(phishing, i))->message_id,
                 "bw/phishing");
}
