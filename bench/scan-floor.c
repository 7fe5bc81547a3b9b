/* scan-floor.c: the floor of a full `bouncewatch scan` (bench only).
 *
 *   bench/scan-floor [--quiet] [--signals]   (NOTMUCH_CONFIG as for bouncewatch)
 *
 * Does what any full scan must do at the least, with the program's own
 * candidate query (bw_nm_source_prefilter_query(), so a wider query raises
 * the floor too): open the notmuch database read-only as notmuch would, run
 * the candidate query, read each candidate's Message-ID, file name, date
 * and From (the scan skips the owner's own mail by it), then parse every
 * candidate file with GMime and decode every leaf part (transfer encoding
 * undone, into a null stream), descending into attached messages.
 * Nothing is classified, stored or printed besides one summary line on
 * stderr.  bench/engine-figures.sh runs it beside `scan` in the same run:
 * the scan's goal is at most 2x this.
 *
 * With --signals, a second floor (printed apart by engine-figures): the
 * same, plus the mail the scan's signals stage must read by design (SPEC
 * 2b: every received message once, the newest BW_SIGNALS_MAX_SENT of the
 * owner's), listed as that stage lists it in a full run, through the same
 * functions: the owner's newest sent messages (bw_nm_source_list), then
 * every file of notmuch's directory documents (bw_nm_source_files) but
 * those, or, where the stage cannot walk the tree, every message not the
 * owner's (bw_nm_source_list).  Each file of the union with the candidates
 * is parsed and decoded once, as above: a scan that reads a file twice (a
 * report for the report and for the signals) pays above this floor. */
#include "config.h"
#include "nm-source.h"
#include "scan-signals.h"
#include <fcntl.h>
#include <gmime/gmime.h>
#include <notmuch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    guint64 parts;
    guint64 bytes;
} tally_t;

static void decode_object(GMimeObject *obj, tally_t *t, unsigned depth);

static void
decode_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    (void)parent;
    decode_object(part, data, 1);
}

static void
decode_object(GMimeObject *obj, tally_t *t, unsigned depth)
{
    if (obj == NULL || depth > 32)
        return;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner != NULL)
            g_mime_message_foreach(inner, decode_part, t);
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
    if (content == NULL)
        return;
    GMimeStream *null = g_mime_stream_null_new();
    gssize n = g_mime_data_wrapper_write_to_stream(content, null);
    g_object_unref(null);
    t->parts++;
    if (n > 0)
        t->bytes += (guint64)n;
}

static bool
parse_file(const char *file, tally_t *t)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    GMimeStream *stream = g_mime_stream_fs_new(fd);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    if (msg != NULL) {
        g_mime_message_foreach(msg, decode_part, t);
        g_object_unref(msg);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    return msg != NULL;
}

static bool
is_owner(const char *const *owners, const char *from)
{
    char *addr = bw_address_normalize(from);
    bool yes = false;
    for (const char *const *o = owners; addr && o && *o && !yes; o++)
        yes = strcmp(*o, addr) == 0;
    g_free(addr);
    return yes;
}

/* Adds to `files` (the candidates' files) the files the signals stage of a
 * full scan reads, each once (see the head of this file). */
static bool
add_signals_set(bw_nm_source_t *src, GPtrArray *files)
{
    g_autoptr(GHashTable) have = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < files->len; i++)
        g_hash_table_add(have, g_ptr_array_index(files, i));
    char *detail = NULL;
    g_autoptr(GPtrArray) sent = NULL;
    if (bw_nm_source_list(src, NULL, true, 0, 1, BW_SIGNALS_MAX_SENT, &sent, &detail) != BW_OK) {
        fprintf(stderr, "scan-floor: listing the sent mail failed: %s\n", detail ? detail : "");
        return false;
    }
    g_autoptr(GHashTable) owner_files = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < sent->len; i++) {
        const bw_nm_candidate_t *c = g_ptr_array_index(sent, i);
        g_hash_table_add(owner_files, c->file);
        if (g_hash_table_add(have, c->file))
            g_ptr_array_add(files, g_strdup(c->file));
    }
    g_autoptr(GPtrArray) walk = NULL;
    if (bw_nm_source_files(src, &walk, &detail) != BW_OK) {
        fprintf(stderr, "scan-floor: walking the files failed: %s\n", detail ? detail : "");
        return false;
    }
    if (walk != NULL && walk->len >= bw_nm_source_count_messages(src)) {
        for (guint i = 0; i < walk->len; i++) {
            char *file = g_ptr_array_index(walk, i);
            if (!g_hash_table_contains(owner_files, file) && g_hash_table_add(have, file))
                g_ptr_array_add(files, g_strdup(file));
        }
        return true;
    }
    g_autoptr(GPtrArray) received = NULL;
    if (bw_nm_source_list(src, NULL, true, 0, 0, 0, &received, &detail) != BW_OK) {
        fprintf(stderr, "scan-floor: listing the received mail failed: %s\n", detail ? detail : "");
        return false;
    }
    for (guint i = 0; i < received->len; i++) {
        const bw_nm_candidate_t *c = g_ptr_array_index(received, i);
        if (g_hash_table_add(have, c->file))
            g_ptr_array_add(files, g_strdup(c->file));
    }
    return true;
}

int
main(int argc, char **argv)
{
    bool quiet = false, signals = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (strcmp(argv[i], "--signals") == 0)
            signals = true;
        else {
            fprintf(stderr, "usage: scan-floor [--quiet] [--signals]\n");
            return 64;
        }
    }
    g_mime_init();
    bw_nm_source_t *src = NULL;
    char *detail = NULL;
    if (bw_nm_source_open(NULL, &src, &detail) != BW_OK) {
        fprintf(stderr, "scan-floor: %s\n", detail ? detail : "cannot open the database");
        return 1;
    }
    /* The same database handle type the scan uses; the query text is the
     * scan's own. */
    char *pre = bw_nm_source_prefilter_query(src);
    const char *const *owners = bw_nm_source_owners(src);
    notmuch_database_t *db = NULL;
    char *msg = NULL;
    if (notmuch_database_open_with_config(NULL, NOTMUCH_DATABASE_MODE_READ_ONLY, NULL, NULL,
                                          &db, &msg) != NOTMUCH_STATUS_SUCCESS) {
        fprintf(stderr, "scan-floor: %s\n", msg ? msg : "cannot open the database");
        return 1;
    }
    notmuch_query_t *q = notmuch_query_create(db, pre);
    notmuch_query_set_omit_excluded(q, NOTMUCH_EXCLUDE_FALSE);
    notmuch_query_set_sort(q, NOTMUCH_SORT_UNSORTED);
    notmuch_messages_t *msgs = NULL;
    if (notmuch_query_search_messages(q, &msgs) != NOTMUCH_STATUS_SUCCESS) {
        fprintf(stderr, "scan-floor: the candidate query failed\n");
        return 1;
    }
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    for (; notmuch_messages_valid(msgs); notmuch_messages_move_to_next(msgs)) {
        notmuch_message_t *m = notmuch_messages_get(msgs);
        const char *id = notmuch_message_get_message_id(m);
        const char *file = notmuch_message_get_filename(m);
        (void)notmuch_message_get_date(m);
        const char *from = notmuch_message_get_header(m, "from");
        if (id && file && !(from && is_owner(owners, from)))
            g_ptr_array_add(files, g_strdup(file));
        notmuch_message_destroy(m);
    }
    notmuch_query_destroy(q);
    guint candidates = files->len;
    if (signals && !add_signals_set(src, files))
        return 1;
    tally_t t = { 0, 0 };
    guint parsed = 0;
    for (guint i = 0; i < files->len; i++)
        parsed += parse_file(g_ptr_array_index(files, i), &t);
    if (!quiet && !signals)
        fprintf(stderr, "scan-floor: %u candidates, %u parsed, %" G_GUINT64_FORMAT
                " parts, %" G_GUINT64_FORMAT " bytes decoded\n",
                files->len, parsed, t.parts, t.bytes);
    else if (!quiet)
        fprintf(stderr, "scan-floor --signals: %u candidates + the signals' set: %u files, "
                "%u parsed, %" G_GUINT64_FORMAT " parts, %" G_GUINT64_FORMAT " bytes decoded\n",
                candidates, files->len, parsed, t.parts, t.bytes);
    g_ptr_array_unref(files);
    notmuch_database_destroy(db);
    bw_nm_source_close(src);
    g_free(pre);
    free(msg);
    g_free(detail);
    return 0;
}
