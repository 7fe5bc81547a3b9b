/* scan-json.c: `scan --json`, with the document of the last run kept in the
 * state for identical runs (see scanner.h, bw_scanner_run_json). */
#include "config.h"
#include "scan-private.h"
#include "reader.h"
#include "bw-reader.h"
#include <glib/gi18n-lib.h>
#include <string.h>

/* The inputs a scan document depends on, as one string.  The message
 * count is there because a deletion leaves notmuch's revision as it was;
 * the JSON format version because a document kept by a program that wrote
 * another version must not be served as this one. */
static char *
json_cache_key(const bw_scanner_options_t *opts, bw_nm_source_t *src, const guint64 *revision,
               const char *dirs)
{
    const char *uuid = NULL;
    guint64 rev = bw_nm_source_revision(src, &uuid);
    if (revision)
        rev = *revision;
    g_autofree char *fresh = dirs ? NULL : bw_nm_source_directory_digest(src);
    if (dirs == NULL)
        dirs = fresh;
    if (dirs == NULL)
        return NULL;   /* no cheap way to see removals: do not keep documents */
    g_autofree char *cfg = bw_scan_config_digest(src);
    /* A new reader build reads the skipped messages again. */
    g_autofree char *reader = bw_reader_identity();
    return g_strdup_printf(STATE_PROGRAM " format-%d %s %" G_GUINT64_FORMAT " %s %" G_GINT64_FORMAT
                           " %" G_GINT64_FORMAT " %s %s", BW_FORMAT_VERSION_CUR,
                           uuid ? uuid : "", rev, dirs, opts->now, opts->since, cfg, reader);
}

bw_status_t
bw_scanner_run_json(const bw_scanner_options_t *opts, char **json_out, char **detail)
{
    if (opts == NULL || json_out == NULL)
        return BW_E_INVALID;
    *json_out = NULL;
    g_autofree char *default_state = NULL;
    const char *state_path = opts->state_path;
    if (state_path == NULL)
        state_path = default_state = bw_scanner_default_state_path();
    bool cacheable = !opts->tag && !opts->full && !opts->retry_skipped;

    if (cacheable && g_file_test(state_path, G_FILE_TEST_EXISTS)) {
        g_autoptr(bw_nm_source_t) src = NULL;
        g_autoptr(bw_store_t) store = NULL;
        g_autofree char *rebuilt = NULL;
        if (bw_nm_source_open(opts->config_path, &src, NULL) == BW_OK &&
            bw_nm_source_owner_trust(src, NULL) == BW_OWNER_TRUSTED &&
            bw_store_open(state_path, &store, &rebuilt, NULL) == BW_OK) {
            if (rebuilt)
                bw_scan_notice(opts, rebuilt);   /* the run below rebuilds it from the mail */
            g_autofree char *key = json_cache_key(opts, src, NULL, NULL);   /* may be NULL */
            g_autofree char *saved_key = NULL;
            bw_store_get_meta(store, "json_key", &saved_key);
            if (key && saved_key && strcmp(saved_key, key) == 0) {
                char *json = NULL;
                if (bw_store_get_meta(store, "json", &json) == BW_OK && json) {
                    *json_out = json;
                    bw_scan_stamp_success(opts->state_path);
                    return BW_OK;
                }
            }
        }
        /* Any problem here is handled (and reported) by the full run. */
    }

    bw_scan_result_t *r = NULL;
    char *doc = NULL;
    guint64 scanned_revision = 0;
    bw_status_t st = bw_scan_run_retrying(opts, &r, &doc, &scanned_revision, detail);
    if (st != BW_OK)
        return st;
    char *json = doc;   /* served from the snapshot (nothing new, another now) */
    if (json == NULL) {
        json = bw_scan_result_text(r);   /* (U+001F escaped) */
        scanned_revision = r->revision;
        bw_scan_result_free(r);
        if (json == NULL)
            return BW_E_INTERNAL;
    }

    /* Keep it for the next identical run, under the revision the run saw:
     * mail indexed meanwhile changes the revision and misses the cache. */
    if (!opts->tag) {
        g_autoptr(bw_nm_source_t) src = NULL;
        g_autoptr(bw_store_t) store = NULL;
        if (bw_nm_source_open(opts->config_path, &src, NULL) == BW_OK &&
            bw_store_open(state_path, &store, NULL, NULL) == BW_OK &&
            bw_store_begin(store, NULL) == BW_OK) {
            /* The directories as the run saw them (it saved them). */
            g_autofree char *scanned_dirs = NULL;
            bw_store_get_meta(store, "dirs", &scanned_dirs);
            g_autofree char *key = scanned_dirs
                ? json_cache_key(opts, src, &scanned_revision, scanned_dirs) : NULL;
            if (key && bw_store_set_meta(store, "json_key", key) == BW_OK &&
                bw_store_set_meta(store, "json", json) == BW_OK)
                bw_store_commit(store, NULL);
            else
                bw_store_rollback(store);
        }
    }
    *json_out = json;
    return BW_OK;
}
