/* bw-scan.h: the backscatter engine of libbwcore, on plain data.
 *
 * The engine never sees notmuch.  The notmuch adapter (src/adapters) feeds it
 * parsed reports (bw_report_t) and answers its questions about the mailbox
 * through bw_mailbox_ops_t; the engine returns verdicts, campaigns, surges and
 * an assessment.  Unit tests drive it with an in-memory mailbox.
 *
 * Flow of one scan:
 *   1. bw_profile_new() + bw_profile_add_sent() for a sample of the owner's
 *      sent mail: learns submission hosts, DKIM d=, Message-ID style, agent.
 *   2. for each report: bw_classify() -> a bw_item_t with class, score,
 *      evidence, origin hint and fingerprint.  Items are persisted by the
 *      state store (bw_item_to_json/bw_item_from_json) so incremental runs do
 *      not re-parse.
 *   3. over ALL items (old and new): bw_campaigns_build() (ids stable through
 *      the previous campaigns), bw_surges_detect(), bw_assess().
 *   4. bw_scan_result_to_json(): shared/SPEC.md section 2.
 */
#ifndef BW_SCAN_H
#define BW_SCAN_H

#include "bw.h"

G_BEGIN_DECLS

/* Bumped whenever verdicts, fingerprints or grouping change: a state store
 * that keeps items across runs must reclassify them when it differs. */
#define BW_ENGINE_VERSION "engine-15"

typedef enum {
    BW_CLASS_LEGITIMATE = 0,
    BW_CLASS_BACKSCATTER,
    BW_CLASS_UNDETERMINED,
} bw_class_t;

typedef enum {
    BW_ORIGIN_UNKNOWN = 0,
    BW_ORIGIN_OWN_ACCOUNT,  /* went through the owner's provider/account */
    BW_ORIGIN_FOREIGN,      /* forged elsewhere */
} bw_origin_t;

typedef enum {
    BW_STATUS_CLEAR = 0,
    BW_STATUS_SPOOFING,
    BW_STATUS_COMPROMISE_SUSPECTED,
} bw_assessment_status_t;

const char *bw_class_to_string(bw_class_t c);         /* "legitimate"... */
const char *bw_origin_to_string(bw_origin_t o);       /* "own-account"... */
const char *bw_assessment_status_to_string(bw_assessment_status_t s);

/* ------------------------------------------------------------ the mailbox */

/* What the engine may ask about the mailbox.  Every callback may be NULL
 * (then the engine treats the answer as "unknown").  Implementations must be
 * cheap (the notmuch adapter caches) and may not keep the pointers passed. */
typedef struct {
    /* The database holds a message with this Message-ID sent from one of the
     * owner's addresses.  On TRUE, *date_out (may be NULL) gets its date. */
    bool (*sent_has_message_id)(void *ctx, const char *message_id, gint64 *date_out);
    /* The owner sent mail to this address at some time before `before`
     * (0 = ever).  Returns the number of such messages (0 = never). */
    unsigned (*sent_count_to)(void *ctx, const char *address, gint64 before);
    /* The owner sent a message with this (normalised) subject within
     * [t - window, t + window]. */
    bool (*sent_subject_near)(void *ctx, const char *subject, gint64 t, gint64 window);
    /* Sent mail exists at all in the database (a user may keep no copies). */
    bool (*has_sent_mail)(void *ctx);
    void *ctx;
    /* Added for mailboxes without Sent copies (may be NULL = unknown):
     * the number of messages in the database FROM this address (mail the
     * owner received from a correspondent), 0 = never. */
    unsigned (*received_from_count)(void *ctx, const char *address);
    /* The database holds a message with this Message-ID at all (from anyone:
     * e.g. the message the owner's original replied to). */
    bool (*has_message_id)(void *ctx, const char *message_id);
    /* Added for mailboxes without Sent copies (may be NULL = unknown):
     * a message in the database from a person (not from the owner, not a
     * delivery report or auto-reply) whose In-Reply-To or References names
     * this Message-ID, i.e. someone answered it.  Returns how many there
     * are; *from_out (may be NULL) gets the first one's lower-cased From
     * address (g_free).  The engine then asks received_from_count() about
     * that person: a known correspondent answering proves the owner sent
     * the message, a stranger's "stop mailing me" does not. */
    unsigned (*replies_to)(void *ctx, const char *message_id, char **from_out);
    /* The number of messages in the database from any address at exactly
     * this (lower-cased) domain.  Asked only about domains that are not big
     * free-mail providers: the owner's correspondents' organisations. */
    unsigned (*received_from_domain_count)(void *ctx, const char *domain);
    /* The message with this Message-ID is a member of a sent anomaly (SPEC
     * 2b: a run in the owner's sent mail the owner did not write; may be
     * NULL = none known).  On TRUE, *run_out (may be NULL) gets the run's
     * key (its first member's Message-ID; borrowed, valid while the ops
     * are): a report about such a message is own-account backscatter, and
     * the reports about one run are one campaign. */
    bool (*sent_is_anomaly)(void *ctx, const char *message_id, const char **run_out);
} bw_mailbox_ops_t;

/* ------------------------------------------------------------ the profile */

/* One message the owner really sent, reduced to what the profile learns. */
typedef struct {
    const char *message_id;
    const char *from;
    const GPtrArray *received;   /* char*, top first; may be NULL */
    const char *dkim_domain;     /* may be NULL */
    const char *x_mailer;        /* X-Mailer or User-Agent; may be NULL */
    gint64 date_unix;
} bw_sent_t;

typedef struct bw_profile bw_profile_t;

/* One of the owner's sent messages as the profile learns from it, with
 * owned strings: what bw_sent_mail_read() takes from its header block, the
 * people it went to, and (from the mailbox, not the mail) its Message-ID
 * and date.  A scan keeps it in its state, so that a later run rebuilds
 * the same profile without opening the files again. */
typedef struct {
    char *message_id;
    char *from;
    GPtrArray *received;     /* char*, top first */
    char *dkim_domain;
    char *x_mailer;          /* X-Mailer or User-Agent */
    gint64 date;
    GPtrArray *to;           /* char*: To and Cc, lower-cased (bounded), or NULL */
} bw_sent_mail_t;

/* Bytes of a sent message read: its header block comes first. */
#define BW_SENT_MAIL_MAX_BYTES   (256u * 1024u)
#define BW_SENT_MAIL_MAX_TO      32u      /* To and Cc addresses kept */
#define BW_SENT_MAIL_MAX_HOPS    64u      /* Received fields kept */

void bw_sent_mail_free(bw_sent_mail_t *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_sent_mail_t, bw_sent_mail_free)
/* Reads the header block at the start of `data` (the first
 * BW_SENT_MAIL_MAX_BYTES of the file).  Mail that claims to be the owner's
 * can be forged, so GMime gets only the fields read here, checked against
 * the caps (bw_header_fields_extract): a message past one is still a sent
 * message without those fields.  Text that is not UTF-8 is repaired.
 * message_id and date are left unset (the mailbox gives them).
 * BW_E_NOT_MAIL for empty data. */
bw_status_t bw_sent_mail_read(const char *data, size_t len, bw_sent_mail_t **out, char **detail);
/* bw_profile_add_sent() for it, and bw_profile_add_correspondent() for the
 * people it went to. */
void bw_sent_mail_feed(bw_profile_t *profile, const bw_sent_mail_t *s);
/* The fields bw_sent_mail_read() fills, as JSON (the reader process sends
 * it so), and back: the decoder takes hostile JSON (bounded lists, strings
 * only where strings belong). */
JsonNode *bw_sent_mail_to_json(const bw_sent_mail_t *s);
bw_status_t bw_sent_mail_from_json(JsonNode *node, bw_sent_mail_t **out, char **detail);


/* `owner_addresses`: NULL-terminated, lower-cased (user.primary_email and
 * user.other_email).  `own_relays`: extra host/domain globs of the owner's
 * provider from the config (bouncewatch.relays), NULL-terminated or NULL. */
bw_profile_t *bw_profile_new(const char *const *owner_addresses,
                             const char *const *own_relays);
void bw_profile_free(bw_profile_t *p);
void bw_profile_add_sent(bw_profile_t *p, const bw_sent_t *sent);
bool bw_profile_is_owner(const bw_profile_t *p, const char *address);
const char *bw_profile_primary(const bw_profile_t *p);
/* An address the owner corresponds with (optional, for the adapter: the
 * From of mail received from people, the To/Cc of sent mail).  Typo hints
 * for hard-bouncing addresses are also looked for among them and their
 * domains (alice@frinds.example -> alice@friends.example).  Bounded. */
void bw_profile_add_correspondent(bw_profile_t *p, const char *address);
/* Learn the provider of the owner's real mail from the original of a
 * legitimate report (what bw_classify_learn() does when the original is in
 * the sent mail).  Idempotent.  Declared here for the scan state, which replays
 * it instead of re-reading the reports. */
void bw_profile_learn_original(const bw_profile_t *p, const bw_original_t *o);
/* bw_profile_learn_original() is these two: the lessons of an original
 * (appended to `out` as g_free'd strings, in the order it learns them) and
 * each learnt in turn.  A lesson learnt a second time changes nothing, and
 * the profile only grows: so learning each distinct lesson once, at its
 * first place in the order of the reports, gives the same profile as
 * learning every report's lessons (the scan state keeps that list instead
 * of the reports' originals). */
void bw_profile_original_lessons(const bw_original_t *o, GPtrArray *out);
void bw_profile_learn_lesson(const bw_profile_t *p, const char *lesson);
/* A digest (hex) of everything the profile holds: two profiles with the
 * same digest give every report the same verdict (an incremental scan
 * keeps stored verdicts only while it stays the same). */
char *bw_profile_digest(const bw_profile_t *p);
/* A digest (hex) of only what bw_classify reads of the profile (owners,
 * relays, whether any sent mail was sampled, the key sets of its tables:
 * no counts, no correspondents): two profiles with the same one give every
 * report the same verdict, given the same mailbox answers. */
char *bw_profile_verdict_digest(const bw_profile_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_profile_t, bw_profile_free)

/* ------------------------------------------------------------ items */

/* A compact, hashable description of a forged original, robust to
 * per-message variation (see fingerprint.c for what goes in). */
typedef struct {
    guint64 subject_template;   /* hash of the masked subject, 0 if none */
    guint64 url_domains;        /* hash of the sorted URL domain set, 0 if none */
    guint64 origin_network;     /* hash of the first external hop's /24, 0 if none */
    guint64 msgid_shape;        /* hash of the Message-ID shape, 0 if none */
    guint64 mailer;             /* hash of X-Mailer, 0 if none */
    guint64 body_simhash;       /* 64-bit SimHash of the body, 0 if none */
    guint64 forged_sender;      /* hash of the forged From, 0 if none */
    char *subject_masked;       /* the masked template text itself */
    guint64 subject_names;      /* hash of the template with runs of capitalised
                                   words (names) masked too, 0 if none */
} bw_fingerprint_t;

/* The eight hashes in the order the state's binary rows keep them
 * (subject_template, url_domains, origin_network, msgid_shape, mailer,
 * body_simhash, forged_sender, subject_names); the masked text aside. */
#define BW_FINGERPRINT_HASHES 8
void bw_fingerprint_get_hashes(const bw_fingerprint_t *fp, guint64 out[BW_FINGERPRINT_HASHES]);
void bw_fingerprint_set_hashes(bw_fingerprint_t *fp, const guint64 in[BW_FINGERPRINT_HASHES]);

/* One report with its verdict. */
typedef struct {
    char *message_id;        /* the report's own Message-ID (the mailbox key) */
    char *file;              /* a file name of the report in the mailbox */
    gint64 date_unix;        /* when the report arrived */
    bw_report_t *report;     /* owned */
    bw_class_t klass;
    double score;            /* confidence it is backscatter, 0..1 */
    GPtrArray *evidence;     /* char*: human-readable reasons, in English */
    bw_origin_t origin;      /* per-report origin hint (backscatter only) */
    bw_fingerprint_t fp;
    char *campaign;          /* set by bw_campaigns_build(); NULL otherwise */
    char *anomaly;           /* the key of the sent anomaly the original belongs
                                to (bw_mailbox_ops_t.sent_is_anomaly), or NULL:
                                one campaign per run */
    /* A kept item built from its compact stored form (the state's snapshot
     * entry, bw_item_from_snap_entry), not from its whole stored report:
     * its report holds only what a hook run reads of a kept item (the
     * recipients' address, action and reason; r->from; the original's
     * Message-ID, From, Subject, Return-Path, URL domains, and its DKIM
     * domain and Received lines when it teaches or is legitimate), its
     * evidence only their count (NULL texts), its file is NULL.  Whatever
     * writes or prints an item refuses a slim one (bw_item_to_json,
     * bw_item_to_variant...): the scanner loads the whole row first
     * (scan-private.h: bw_scan_item_unslim). */
    bool slim;
    bool slim_learn;         /* (slim) its stored entry says it teaches */
} bw_item_t;

void bw_item_free(bw_item_t *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_item_t, bw_item_free)

/* Classify one parsed report.  Takes ownership of `report`.  `message_id`,
 * `file` and `date_unix` describe the report message itself.  The profile
 * is read, never changed: what the owner's real mail teaches it comes first,
 * from every report, through bw_classify_learn(); so a verdict does not
 * depend on the order the reports are classified in. */
bw_status_t bw_classify(const bw_profile_t *profile, const bw_mailbox_ops_t *ops,
                        const char *message_id, const char *file, gint64 date_unix,
                        bw_report_t *report, bw_item_t **out);
/* Before any bw_classify() of a scan, for each of its reports in a fixed
 * order (by date, then Message-ID): when the report's original is the
 * owner's real mail (in Sent, and not a sent anomaly), the profile learns
 * the provider's path from it (bw_profile_learn_original).  TRUE when it
 * did (the scan state replays that instead of reading the report again). */
bool bw_classify_learn(const bw_profile_t *profile, const bw_mailbox_ops_t *ops,
                       const bw_report_t *report);
/* Whether bw_classify_learn() would learn from the report, and then its
 * lessons appended to `out` (bw_profile_original_lessons). */
bool bw_classify_lessons(const bw_mailbox_ops_t *ops, const bw_report_t *report, GPtrArray *out);

/* Serialisation for the state store: everything needed to rebuild the item
 * without the mail (report, verdict, fingerprint). */
JsonNode *bw_item_to_json(const bw_item_t *item);
/* bw_json_node_to_text(bw_item_to_json(item)), the same bytes, written
 * without a JsonNode tree where it can be (scanresult.c). */
char *bw_item_to_json_text(const bw_item_t *item);
/* The item's `bounces` entry of bw_scan_result_to_json, as text (the same
 * bytes), or NULL when only json-glib's way gives them (scanresult.c). */
char *bw_item_entry_text(const bw_item_t *item);
bw_status_t bw_item_from_json(JsonNode *node, bw_item_t **out, char **detail);
/* The same item in binary form (item-variant.c): exactly what
 * bw_item_from_json restores, read back ~10x faster.  bw_item_to_variant
 * returns a full reference; bw_item_from_variant takes bytes the caller
 * knows are whole (it checks a hash of them: GVariant reads any bytes
 * safely, but damaged ones would read as other values). */
GVariant *bw_item_to_variant(const bw_item_t *item);
bw_status_t bw_item_from_variant(GBytes *data, bw_item_t **out);
/* The same, from the serialised bytes in place (any alignment). */
bw_status_t bw_item_from_variant_data(const void *data, gsize size, bw_item_t **out);
/* An item's snapshot entry (item-variant.c: the state's snap_items rows,
 * src/app/snapshot.c), of type BW_SNAP_ENTRY_TYPE: `learn` whether its
 * report teaches, `frag` its SPEC `bounces` entry, `questions` those of its
 * row (items.questions).  Not floating.  NULL for a slim item. */
#define BW_SNAP_ENTRY_TYPE "(ayxyyaybaya(ayayy)ayaay(datayuayyayayayayaayayay))"
GVariant *bw_snap_entry_new(const bw_item_t *it, bool learn, const char *frag,
                            const char *questions);
/* The slim item (see bw_item_t.slim) an entry's bytes describe, read in
 * place (any alignment), with whether it teaches and its row's questions
 * (a copy, NULL for none); NULL when the bytes do not read as an entry we
 * wrote (every offset, count and length is checked: any bytes are safe). */
bw_item_t *bw_item_from_snap_entry(const void *data, gsize size, bool *learn,
                                   char **questions);
/* The same into `it`, an item of its own allocation (g_new0: all zero),
 * which it takes: returned filled, or freed (bw_item_free) and NULL.  So
 * a caller that reads many may allocate their structs first, one after
 * the other (the passes over the items then read them from neighbouring
 * memory). */
bw_item_t *bw_item_from_snap_entry_into(bw_item_t *it, const void *data, gsize size, bool *learn,
                                        char **questions);
bw_status_t bw_report_from_json(JsonNode *node, bw_report_t **out, char **detail);
/* The one codec of fingerprints, for items and campaigns alike: an object
 * whose hashes are 16-digit hex strings (JSON numbers lose bits beyond
 * 2^53).  Reading fills *fp from `node` (zeroes where a member is missing
 * or malformed, all of it when `node` is not an object). */
JsonNode *bw_fingerprint_to_json(const bw_fingerprint_t *fp);
void bw_fingerprint_from_json(JsonNode *node, bw_fingerprint_t *fp);

/* ------------------------------------------------------------ campaigns */

typedef struct {
    char *id;                /* "bw-" + 8 hex, stable */
    GPtrArray *members;      /* char*: report Message-IDs */
    gint64 first_seen, last_seen;
    GPtrArray *subjects;     /* char*: sample subjects (a few) */
    GPtrArray *forged_senders;
    GPtrArray *reporting_domains;
    bw_origin_t origin;
    bw_fingerprint_t fp;     /* representative fingerprint */
    bool muted;              /* set by the caller from the state */
} bw_campaign_t;

void bw_campaign_free(bw_campaign_t *c);

/* Group the backscatter items into campaigns.  `previous` (bw_campaign_t*,
 * may be NULL) are the campaigns of the last run: a new campaign that shares
 * members with a previous one keeps its id, so ids survive rescans, incremental
 * runs and growth.  Sets item->campaign on every member.  *out gets a
 * GPtrArray of bw_campaign_t* (free with g_ptr_array_unref), largest first. */
bw_status_t bw_campaigns_build(GPtrArray *items, GPtrArray *previous,
                               GPtrArray **out);
/* bw_campaigns_build() also promotes undetermined items that share a
 * fingerprint key with backscatter, or that lean towards backscatter
 * (score > 0.6) inside a burst of one campaign, to backscatter (with an
 * evidence line): the campaign-level evidence a mailbox without Sent
 * copies needs. */

/* ------------------------------------------------------------ surges */

typedef struct {
    gint64 start, end;           /* hour-aligned window, end exclusive-ish */
    unsigned count;              /* backscatter reports in the window */
    double baseline_per_hour;
    GPtrArray *campaigns;        /* char*: campaign ids in the window */
    bool ongoing;                /* the window reaches "now" */
    char *detector;              /* "poisson" or "cusum" */
} bw_surge_t;

void bw_surge_free(bw_surge_t *s);

typedef struct {
    double alpha_per_day;        /* false alarms per day allowed (1/365) */
    unsigned min_count;          /* minimum reports in an hour to alarm */
    double baseline_floor;       /* floor of the per-hour baseline */
    unsigned baseline_days;      /* history the baseline is learned from */
} bw_surge_config_t;

void bw_surge_config_default(bw_surge_config_t *cfg);

/* Find surges of backscatter over all items (only class backscatter count),
 * against the mailbox's own baseline, up to `now`.  *out: GPtrArray of
 * bw_surge_t*, oldest first. */
bw_status_t bw_surges_detect(GPtrArray *items, gint64 now,
                             const bw_surge_config_t *cfg, GPtrArray **out);

/* The last instant (>= now) up to which bw_surges_detect() over the same
 * items gives the surges it gives at `now`, each with the same window,
 * count and campaigns, except that `ongoing` may turn false: the end of
 * now's hour, or earlier when a backscatter report is dated after now (it
 * joins the series when its date passes). */
gint64 bw_surges_same_until(GPtrArray *items, gint64 now);

/* ------------------------------------------------------------ assessment */

typedef struct {
    bw_assessment_status_t status;
    char *summary;               /* one or two sentences, translated */
    GPtrArray *advice;           /* char*: concrete steps, translated */
    GPtrArray *legit_remedies;   /* char*: per-reason remedies for real bounces */
    GPtrArray *hard_bouncing;    /* char*: correspondents whose address hard-bounces,
                                    "addr" or "addr (did you mean x?)" */
    GPtrArray *owner_senders;    /* char*: the campaigns' forged senders that are
                                    the owner's (an owner address, or any address
                                    at the owner's own domain: a catch-all); the
                                    others only appeared in the forged mail.  For
                                    the human report; not in the JSON */
} bw_assessment_t;

void bw_assessment_free(bw_assessment_t *a);

bw_status_t bw_assess(const bw_profile_t *profile, GPtrArray *items,
                      GPtrArray *campaigns, GPtrArray *surges, gint64 now,
                      bw_assessment_t **out);
/* bw_assess(), told which items' originals the profile has learnt from
 * already (`learnt`, may be NULL: a set of bw_item_t*): it learns again
 * from the others only.  Learning an original again changes nothing while
 * the profile only grows (bw_profile_learn_lesson), so the result is
 * bw_assess()'s when every item in `learnt` is one whose lessons were all
 * learnt into this profile before. */
bw_status_t bw_assess_learnt(const bw_profile_t *profile, GPtrArray *items,
                             GPtrArray *campaigns, GPtrArray *surges, gint64 now,
                             GHashTable *learnt, bw_assessment_t **out);

/* A typo hint for an address domain ("gmail.con" -> "gmail.com") or NULL. */
char *bw_typo_hint(const char *address);
/* The same, against the big providers AND the correspondents of the profile
 * (bw_profile_add_correspondent): a domain one typo from a correspondent's,
 * or, at a correspondent's domain, a local part one typo from theirs.
 * bw_assess() uses this, adding the people the legitimate reports show. */
char *bw_profile_typo_hint(const bw_profile_t *p, const char *address);

/* ------------------------------------------------------------ the result */

struct bw_signals_assessment;   /* bw-signals.h */

/* A message the scan could not read: the reader process crashed, ran out
 * of time or answered garbage on it, or the parser refused it by a
 * structural cap (SPEC section 2 `skipped`).  Kept in the state so that
 * later runs do not try it again with the same reader build. */
typedef struct {
    char *message_id;
    char *file;
    char *cause;             /* "crash", "timeout", "garbage" or "refused" */
    char *why;               /* what happened, in English */
    char *reader;            /* the reader build that failed on it (state) */
    gint64 date;             /* the message's date in notmuch, 0 unknown */
} bw_skipped_t;

void bw_skipped_free(bw_skipped_t *k);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_skipped_t, bw_skipped_free)

typedef struct {
    char *database;
    guint64 revision;
    guint64 messages_examined;
    GPtrArray *items;        /* bw_item_t*, by report date */
    GPtrArray *campaigns;    /* bw_campaign_t* */
    GPtrArray *surges;       /* bw_surge_t* */
    GPtrArray *skipped;      /* bw_skipped_t*, by date; may be NULL (none) */
    bw_assessment_t *assessment;
    /* SPEC 2b (bw-signals.h), NULL when the scan looked for none: */
    GPtrArray *signals;      /* bw_signal_t*, bw_signal_compare order */
    GPtrArray *phishing;     /* bw_phish_t*, by date: imitations (not signals) */
    struct bw_signals_assessment *signals_assessment;
} bw_scan_result_t;

void bw_scan_result_free(bw_scan_result_t *r);
/* The document; `signals` is always there (empty without any), and
 * `phishing` lists the imitations (an addition to SPEC 2b). */
JsonNode *bw_scan_result_to_json(const bw_scan_result_t *r);

G_END_DECLS

#endif /* BW_SCAN_H */
