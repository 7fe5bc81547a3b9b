/* nm-tagger.h: writing bouncewatch's tags (shared/SPEC.md section 3).
 *
 * Tags: `bounce` on every report, `backscatter` on backscatter, and
 * `bw/<campaign-id>` on campaign members.  Only tags bouncewatch itself
 * wrote are ever removed (the caller passes what it wrote last time), and
 * only `backscatter` and `bw/...` ones; no other tag is touched, no file is
 * moved.  All changes happen in one atomic section of one read-write open.
 *
 * notmuch 0.37 blocks inside the read-write open while another writer
 * (`notmuch new`, afew...) holds the lock; the open runs in a helper thread
 * and the caller waits at most `timeout_ms`.  A late open is closed at once by
 * the helper, so an abandoned attempt never keeps the lock. */
#ifndef BW_NM_TAGGER_H
#define BW_NM_TAGGER_H

#include "bw.h"

G_BEGIN_DECLS

typedef struct {
    char *message_id;
    char **want;    /* NULL-terminated: the tags the report should carry from us */
    char **had;     /* NULL-terminated or NULL: what we wrote last time */
} bw_nm_tag_change_t;

void bw_nm_tag_change_free(bw_nm_tag_change_t *c);

/* What the database said around the changes: its UUID and revision when
 * the writer opened it (nobody else can write while it is open), and the
 * revision after its commit.  Every revision in (before, after] is this
 * writer's. */
typedef struct {
    char *uuid;
    guint64 before, after;
} bw_nm_tagger_revisions_t;

/* Apply the changes.  BW_E_DATABASE when the database stays locked past the
 * timeout (detail says so; nothing was changed) or cannot be opened.
 * *messages_changed (may be NULL): messages whose tags were modified.
 * `revisions` (may be NULL) is filled on success (uuid: g_free). */
bw_status_t bw_nm_tagger_apply(const char *config_path, unsigned timeout_ms,
                               GPtrArray *changes, unsigned *messages_changed,
                               bw_nm_tagger_revisions_t *revisions, char **detail);

/* A read-write open with the bounded wait, for callers that need one
 * (returns a notmuch_database_t* as void* to keep notmuch.h out). */
bw_status_t bw_nm_open_writable(const char *config_path, unsigned timeout_ms,
                                void **db_out, char **detail);

G_END_DECLS

#endif /* BW_NM_TAGGER_H */
