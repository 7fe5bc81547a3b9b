/* nm-xapian.h: two questions that libnotmuch 0.37 answers by walking every
 * message, asked of notmuch's Xapian database directly (read-only).
 *
 * How many mail messages the database holds (notmuch_query_count_messages
 * on "*", excludes off) is the number of documents holding notmuch's type
 * term "Tmail": one posting-list length.  Their Message-IDs, as
 * notmuch_message_get_header(m, "message-id") gives them, are the value
 * slot 1 (NOTMUCH_VALUE_MESSAGE_ID) of those documents: one stream of the
 * slot, merged with the docids of "Tmail" (ghosts and directories are not
 * mail).  At 160k messages libnotmuch takes ~236 M instructions for the
 * count and ~1.45 G for the listing; this handle a few hundred and ~60 M.
 *
 * The answers must be of the snapshot the rest of the run reads through
 * libnotmuch (scan-read.c, "known ids").  The caller (nm-source.c) opens
 * this handle after notmuch's, then has notmuch reopen its own
 * (notmuch_database_reopen: to the latest revision, at or after this
 * handle's), and asks bw_nm_xapian_usable() before any answer: a second,
 * fresh handle at the same revision as this one means no commit happened
 * since this one was opened, so notmuch's handle (reopened in between) is
 * at this revision too.  A pure removal does not move notmuch's own
 * revision (its lastmod), Xapian's moves on every commit.  libnotmuch
 * may also reopen its handle by itself, when a read meets Xapian's
 * DatabaseModifiedError (lib/message.cc, _notmuch_message_ensure_metadata):
 * that takes commits since our open, so the check is made again before
 * every answer.  What libnotmuch reads after our last answer may still be
 * of a later snapshot, as it may without this handle: the scan asks, after
 * its last read, whether any commit came since this handle's open at all
 * (bw_nm_xapian_unchanged, through bw_nm_source_snapshot_held), and reads
 * again when one did, unless the calls of notmuch's reopen are counted and
 * that count is proven to see libnotmuch's own (nm-reopen.h): then only a
 * counted reopen makes it read again (scan-read.c).
 *
 * Xapian's exceptions never leave this file: every entry point catches
 * them and answers "cannot tell" (the caller then asks libnotmuch). */
#ifndef BW_NM_XAPIAN_H
#define BW_NM_XAPIAN_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bw_nm_xapian bw_nm_xapian_t;

/* A read-only handle on the Xapian database of the notmuch database at
 * `database_path` (notmuch_database_get_path), found as notmuch 0.37
 * finds it (open.cc, _notmuch_choose_xapian_path: <path>/xapian when a
 * database opens there, else <path>/.notmuch/xapian), or NULL (none,
 * any error, or BOUNCEWATCH_TEST_XAPIAN=off). */
bw_nm_xapian_t *bw_nm_xapian_open(const char *database_path);

void bw_nm_xapian_close(bw_nm_xapian_t *x);

/* May `x` answer for a notmuch handle that was (re)opened after `x` and
 * reports `uuid` and revision `lastmod` (notmuch_database_get_revision)?
 * TRUE only when, all checked again at every call (ask it right before
 * each answer):
 *   - the schema is one notmuch 0.37 writes (metadata "version" 3,
 *     "features" only lines it knows, among them the header values, the
 *     ghosts and modification tracking: the Message-ID slot, the
 *     "Tmail"/"Tghost" type terms, the lastmod slot; a database created
 *     by an older notmuch and upgraded qualifies when it has those);
 *   - the same database: the same UUID, and notmuch's revision is the
 *     highest lastmod value of `x`'s snapshot;
 *   - a fresh handle opened now is at `x`'s revision (no commit since `x`
 *     was opened; BOUNCEWATCH_TEST_XAPIAN=stale makes this test fail). */
bool bw_nm_xapian_usable(bw_nm_xapian_t *x, const char *uuid, uint64_t lastmod);

/* Has no writer committed to the database since `x` was opened?  1 when a
 * fresh handle opened now is of the database `uuid` names (x's too) and at
 * x's revision (Xapian's revision moves on every commit, a pure removal
 * included); 0 when not; -1 when Xapian failed (cannot tell).  Unlike
 * bw_nm_xapian_usable, it asks nothing of the schema: any database notmuch
 * reads qualifies.  Cost: one open of the database (~80 k instructions).
 * nm-source.c asks it to prove that libnotmuch did not move its own handle
 * (bw_nm_source_snapshot_held). */
int bw_nm_xapian_unchanged(bw_nm_xapian_t *x, const char *uuid);

/* The mail documents of x's snapshot: FALSE when Xapian failed. */
bool bw_nm_xapian_count_mail(bw_nm_xapian_t *x, uint64_t *count);

/* Calls fn for the Message-ID of every mail document of x's snapshot, in
 * docid order (the order of notmuch's unsorted "*" search), with what
 * notmuch_message_get_header(m, "message-id") gives (the value up to its
 * first NUL).  Returns 1 when every id was given; 0 when an id is empty or
 * one of the first 64 is not its document's id term (where libnotmuch's
 * listing in nm-source.c gives up too: no call was made); -1 when Xapian
 * failed (no call was made: ask libnotmuch). */
int bw_nm_xapian_each_id(bw_nm_xapian_t *x, void (*fn)(void *data, const char *message_id),
                         void *data);

#ifdef __cplusplus
}
#endif

#endif
