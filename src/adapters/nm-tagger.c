/* nm-tagger.c: bounded read-write open and idempotent tagging. */
#include "config.h"
#include "nm-tagger.h"
#include "nm-exceptions.h"
#include <glib/gi18n-lib.h>
#include <notmuch.h>
#include <stdlib.h>
#include <string.h>

void
bw_nm_tag_change_free(bw_nm_tag_change_t *c)
{
    if (c == NULL)
        return;
    g_free(c->message_id);
    g_strfreev(c->want);
    g_strfreev(c->had);
    g_free(c);
}

/* State shared by the caller and the opener thread.  Whoever comes last
 * frees it: the caller when the open finished in time, the thread when the
 * caller gave up (it then also closes the database it got too late). */
typedef struct {
    GMutex lock;
    GCond cond;
    bool done;
    bool abandoned;
    char *config_path;
    notmuch_database_t *db;
    notmuch_status_t status;
    char *message;
} opener_t;

static void
opener_free(opener_t *o)
{
    g_mutex_clear(&o->lock);
    g_cond_clear(&o->cond);
    g_free(o->config_path);
    free(o->message);
    g_free(o);
}

static gpointer
opener_thread(gpointer data)
{
    opener_t *o = data;
    notmuch_database_t *db = NULL;
    char *msg = NULL;
    notmuch_status_t st = notmuch_database_open_with_config(
        NULL, NOTMUCH_DATABASE_MODE_READ_WRITE, o->config_path, NULL, &db, &msg);
    g_mutex_lock(&o->lock);
    if (o->abandoned) {
        g_mutex_unlock(&o->lock);
        /* Too late: release the lock we just took, untouched. */
        if (db)
            notmuch_database_destroy(db);
        free(msg);
        opener_free(o);
        return NULL;
    }
    o->db = db;
    o->status = st;
    o->message = msg;
    o->done = true;
    g_cond_signal(&o->cond);
    g_mutex_unlock(&o->lock);
    return NULL;
}

bw_status_t
bw_nm_open_writable(const char *config_path, unsigned timeout_ms, void **db_out,
                    char **detail)
{
    *db_out = NULL;
    opener_t *o = g_new0(opener_t, 1);
    g_mutex_init(&o->lock);
    g_cond_init(&o->cond);
    o->config_path = g_strdup(config_path);
    GError *err = NULL;
    GThread *t = g_thread_try_new("bw-nm-open", opener_thread, o, &err);
    if (t == NULL) {
        bw_error_set(detail, BW_E_INTERNAL, _("cannot start a thread: %s"), err->message);
        g_error_free(err);
        opener_free(o);
        return BW_E_INTERNAL;
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&o->lock);
    while (!o->done)
        if (!g_cond_wait_until(&o->cond, &o->lock, deadline))
            break;
    if (!o->done) {
        o->abandoned = true;
        g_mutex_unlock(&o->lock);
        g_thread_unref(t);   /* detached: it frees `o` when the open returns */
        return bw_error_set(detail, BW_E_DATABASE,
                            _("the notmuch database is locked by another program (notmuch new?) "
                              "and stayed locked for %u s; nothing was tagged, run again later"),
                            (timeout_ms + 999) / 1000);
    }
    g_mutex_unlock(&o->lock);
    g_thread_join(t);
    bw_status_t rc = BW_OK;
    if (o->status != NOTMUCH_STATUS_SUCCESS || o->db == NULL) {
        g_autofree char *m = o->message ? g_strstrip(g_strdup(o->message)) : NULL;
        rc = bw_error_set(detail, BW_E_DATABASE,
                          _("cannot open the notmuch database for writing: %s%s%s"),
                          notmuch_status_to_string(o->status), m && *m ? ": " : "", m ? m : "");
        if (o->db)
            notmuch_database_destroy(o->db);
    } else {
        *db_out = o->db;
    }
    opener_free(o);
    return rc;
}

static bool
strv_has(char **v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return true;
    return false;
}

/* Tags bouncewatch may take away again: only its verdict tags.  `bounce`
 * stays once given: a report remains a report. */
static bool
removable(const char *tag)
{
    return strcmp(tag, "backscatter") == 0 || g_str_has_prefix(tag, "bw/");
}

static bool
message_has_tag(notmuch_message_t *m, const char *tag)
{
    bool has = false;
    notmuch_tags_t *tags = notmuch_message_get_tags(m);
    for (; tags && notmuch_tags_valid(tags); notmuch_tags_move_to_next(tags))
        if (strcmp(notmuch_tags_get(tags), tag) == 0) {
            has = true;
            break;
        }
    if (tags)
        notmuch_tags_destroy(tags);
    return has;
}

bw_status_t
bw_nm_tagger_apply(const char *config_path, unsigned timeout_ms, GPtrArray *changes,
                   unsigned *messages_changed, bw_nm_tagger_revisions_t *revisions,
                   char **detail)
{
    if (messages_changed)
        *messages_changed = 0;
    if (revisions)
        memset(revisions, 0, sizeof *revisions);
    if (changes == NULL || changes->len == 0)
        return BW_OK;
    void *handle = NULL;
    bw_status_t rc = bw_nm_open_writable(config_path, timeout_ms, &handle, detail);
    if (rc != BW_OK)
        return rc;
    notmuch_database_t *db = handle;
    const char *uuid = NULL;
    guint64 rev_before = notmuch_database_get_revision(db, &uuid);
    g_autofree char *uuid_copy = g_strdup(uuid);
    /* One atomic section: a crash or kill leaves all or none of the tags. */
    if (notmuch_database_begin_atomic(db) != NOTMUCH_STATUS_SUCCESS) {
        notmuch_database_destroy(db);
        return bw_error_set(detail, BW_E_DATABASE, "%s",
                            _("cannot start an atomic section in the notmuch database"));
    }
    unsigned changed = 0;
    for (guint i = 0; i < changes->len && rc == BW_OK; i++) {
        const bw_nm_tag_change_t *c = g_ptr_array_index(changes, i);
        notmuch_message_t *m = NULL;
        notmuch_status_t fst = notmuch_database_find_message(db, c->message_id, &m);
        if (fst != NOTMUCH_STATUS_SUCCESS) {
            rc = bw_error_set(detail, BW_E_DATABASE,
                              _("looking up %s for tagging failed: %s; no tag was changed, "
                                "the next scan --tag tries again"),
                              c->message_id, notmuch_status_to_string(fst));
            break;
        }
        if (m == NULL)
            continue;   /* the report was deleted since the scan */
        bool touched = false;
        /* The message's changes written to the database once, at the thaw
         * (each add or remove alone rewrites the whole document: ~2 M
         * instructions for a report at 160k messages).  The revision is
         * the atomic section's either way.  (Not frozen: each is written
         * alone, as before.) */
        bool frozen = notmuch_message_freeze(m) == NOTMUCH_STATUS_SUCCESS;
        notmuch_status_t st = NOTMUCH_STATUS_SUCCESS;
        for (char **t = c->had; st == NOTMUCH_STATUS_SUCCESS && t && *t; t++)
            if (removable(*t) && !strv_has(c->want, *t) && message_has_tag(m, *t)) {
                st = notmuch_message_remove_tag(m, *t);
                touched = true;
            }
        for (char **t = c->want; st == NOTMUCH_STATUS_SUCCESS && t && *t; t++)
            if (!message_has_tag(m, *t)) {
                st = notmuch_message_add_tag(m, *t);
                touched = true;
            }
        if (frozen) {
            notmuch_status_t tst = bw_nm_message_thaw(m);
            if (st == NOTMUCH_STATUS_SUCCESS)
                st = tst;
        }
        notmuch_message_destroy(m);
        if (st != NOTMUCH_STATUS_SUCCESS) {
            rc = bw_error_set(detail, BW_E_DATABASE,
                              _("tagging %s failed: %s; no tag was changed, "
                                "the next scan --tag tries again"),
                              c->message_id, notmuch_status_to_string(st));
        }
        if (touched)
            changed++;
    }
    if (rc != BW_OK) {
        /* Closing inside the atomic section discards every change of this
         * run (notmuch.h, notmuch_database_close): all tags or none. */
        notmuch_database_destroy(db);
        if (messages_changed)
            *messages_changed = 0;
        return rc;
    }
    notmuch_status_t st = notmuch_database_end_atomic(db);
    if (st != NOTMUCH_STATUS_SUCCESS) {
        notmuch_database_destroy(db);   /* still inside: discarded */
        return bw_error_set(detail, BW_E_DATABASE,
                            _("committing the tags failed: %s; no tag was changed, "
                              "the next scan --tag tries again"),
                            notmuch_status_to_string(st));
    }
    guint64 rev_after = notmuch_database_get_revision(db, NULL);
    st = notmuch_database_close(db);
    if (revisions && st == NOTMUCH_STATUS_SUCCESS) {
        revisions->uuid = g_steal_pointer(&uuid_copy);
        revisions->before = rev_before;
        revisions->after = rev_after;
    }
    if (rc == BW_OK && st != NOTMUCH_STATUS_SUCCESS)
        rc = bw_error_set(detail, BW_E_DATABASE, _("closing the notmuch database failed: %s"),
                          notmuch_status_to_string(st));
    notmuch_database_destroy(db);
    if (messages_changed)
        *messages_changed = changed;
    return rc;
}
