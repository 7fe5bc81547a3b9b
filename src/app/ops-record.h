/* ops-record.h: what a computation asked about the mailbox, and whether
 * the mailbox still answers the same.
 *
 * The engine's judges are functions of their data and of the answers of
 * bw_mailbox_ops_t (bw-scan.h).  A stage that wants to keep a result from
 * one run to the next (the signals stage's runs in Sent and judged facts,
 * scan-signals.c) runs the computation through a recording proxy of the
 * ops: every question and its answer are kept.  The next run asks the same
 * questions again (bw_ops_replay): when every answer is the same and the
 * data is the same, the computation would give the same result, so the
 * stored one is used instead of computing it again.  Exact, whatever new
 * mail arrived or left, as long as the questions are cheap next to the
 * computation (they are notmuch point queries, cached by the adapter). */
#ifndef BW_OPS_RECORD_H
#define BW_OPS_RECORD_H

#include "bw-scan.h"
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct bw_ops_record bw_ops_record_t;

/* A proxy of `real` (which must outlive it): a callback that `real` lacks
 * stays NULL, as the engine expects. */
bw_ops_record_t *bw_ops_record_new(const bw_mailbox_ops_t *real);
void bw_ops_record_free(bw_ops_record_t *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_ops_record_t, bw_ops_record_free)

/* The ops to hand to the computation. */
const bw_mailbox_ops_t *bw_ops_record_ops(bw_ops_record_t *rec);

/* Questions asked so far (repeats included): a caller compares the count
 * before and after a piece of the computation to know whether it asked. */
guint64 bw_ops_record_asked(const bw_ops_record_t *rec);

/* The distinct questions and answers, in a stable order: a JSON array of
 * [what, argument..., answer] arrays. */
JsonNode *bw_ops_record_to_json(const bw_ops_record_t *rec);

/* Asks `real` every question of `recorded` (bw_ops_record_to_json's form)
 * again: TRUE when each answer is the one recorded.  FALSE on any
 * difference, on anything malformed, or when more than `max` questions
 * would be asked (then computing again is as cheap). */
bool bw_ops_replay(JsonNode *recorded, const bw_mailbox_ops_t *real, guint max);

/* The distinct questions and answers as compact text (one per line,
 * length-delimited fields, in a stable order): what a stored item keeps
 * of its classification. */
char *bw_ops_record_to_text(const bw_ops_record_t *rec);

/* Whether a recorded question must be asked again (the caller knows which
 * answers the mail that arrived since can have changed): `what` is the
 * question's letter (S C N H R M P D A, see ops-record.c), args its
 * arguments, answer the recorded one. */
typedef bool (*bw_ops_recheck_fn)(void *data, char what, const char *const *args, guint nargs,
                                  const char *answer);

/* Asks `real` again each question of `text` (bw_ops_record_to_text's
 * form) that must_ask selects.  FALSE when the text is malformed, holds
 * more than `max` questions, or a question cannot be asked (then the
 * caller computes again); otherwise TRUE, with *changed set when some
 * answer differs from the recorded one. */
bool bw_ops_recheck_text(const char *text, const bw_mailbox_ops_t *real,
                         bw_ops_recheck_fn must_ask, void *data, guint max, bool *changed);

G_END_DECLS

#endif /* BW_OPS_RECORD_H */
