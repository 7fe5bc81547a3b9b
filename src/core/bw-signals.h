/* bw-signals.h: compromise signals beyond reports (shared/SPEC.md section
 * 2b), on plain data.
 *
 * What else a mailbox says about its account's security: the provider's own
 * security notices, imitations of them (phishing, never a signal), runs of
 * messages in the owner's sent mail that the owner did not write, and people
 * answering such messages.  Like the rest of the core this never sees
 * notmuch, SQLite or libnotify; a scan stage feeds it bytes and summaries
 * and stores what it returns.
 *
 * Two stages, so that an incremental scan recomputes cheaply:
 *
 *   1. READ (per message, once; needs the bytes):
 *        bw_mailfacts_read()     a received message: who sent it and how it
 *                                was delivered (Received hops, the
 *                                Authentication-Results of every host), what
 *                                it is about (topic, facts), whether a
 *                                person asks "did you send this?"
 *        bw_sent_summary_read()  one of the owner's sent messages, headers
 *                                only: client, time zone, recipients, shape
 *      Both results are plain structs with a JSON form for the state store
 *      (*_to_json / *_from_json); neither depends on anything but the bytes.
 *
 *   2. JUDGE (pure functions of stored facts; cheap; order-independent):
 *        bw_account_new()        who the owner and the provider are (owner
 *                                addresses + provider domains learned by
 *                                the profile: bw_account_from_profile())
 *        bw_notice_judge()       a security notice of the provider (signal),
 *                                an imitation (phishing), or ordinary mail
 *        bw_sent_anomalies_find() runs in the sent mail that do not fit
 *        bw_reply_judge()        a person answering a message the owner
 *                                never sent (needs a link, SPEC 2b)
 *        bw_signals_assess()     the SPEC 2b rule and the specific advice
 *      The same input SET gives the same output in any order: inputs are
 *      sorted by (date, message id) before anything is decided.
 *
 * Every loop over attacker-written data is bounded by the BW_SIG_MAX_*
 * limits below. */
#ifndef BW_SIGNALS_H
#define BW_SIGNALS_H

#include "bw-scan.h"

G_BEGIN_DECLS

/* Bounds on what one message contributes (hostile input). */
#define BW_SIG_MAX_MESSAGE_BYTES (1024u * 1024u) /* bytes read of one received message */
#define BW_SIG_MAX_HEADER_BYTES  (256u * 1024u) /* header block read */
#define BW_SIG_MAX_FIELDS        2000           /* header fields walked */
#define BW_SIG_MAX_HOPS          32             /* Received hops kept */
#define BW_SIG_MAX_AUTH          16             /* Authentication-Results kept */
#define BW_SIG_MAX_AUTH_RESULTS  8              /* method results per header */
#define BW_SIG_MAX_DKIM          8              /* DKIM-Signature d= kept */
#define BW_SIG_MAX_TEXT          (48u * 1024u)  /* body text analysed */
#define BW_SIG_MAX_ADDRESSES     16             /* addresses kept from a text */
#define BW_SIG_MAX_REFS          32             /* References kept */
#define BW_SIG_MAX_RECIPIENTS    256            /* recipients kept per sent message */
#define BW_SIG_MAX_FACT          160            /* bytes of one extracted fact */

typedef enum {
    BW_SIGNAL_NONE = 0,
    BW_SIGNAL_SIGN_IN_ALERT,
    BW_SIGNAL_PASSWORD_CHANGED,
    BW_SIGNAL_RECOVERY_CHANGED,
    BW_SIGNAL_FORWARDING_ADDED,
    BW_SIGNAL_TWO_FACTOR_CHANGED,
    BW_SIGNAL_SENDING_BLOCKED,
    BW_SIGNAL_HUMAN_REPLY,
    BW_SIGNAL_SENT_ANOMALY,
    BW_SIGNAL_LAST
} bw_signal_kind_t;

/* SPEC names ("sign-in-alert", ...); NULL for NONE. */
const char *bw_signal_kind_to_string(bw_signal_kind_t k);
bw_signal_kind_t bw_signal_kind_from_string(const char *s);

/* ------------------------------------------------------------ the account */

typedef struct bw_account bw_account_t;

/* `owners`: the owner's addresses (primary first), NULL-terminated.
 * `provider_domains`: further domains of the owner's provider (learned
 * DKIM d=, submission hosts' parent domains, bouncewatch.relays), may be
 * NULL.  The domains of the owner's addresses are the provider's too, and
 * each known provider family (signal-table.c: gmail.com brings google.com,
 * outlook.com brings microsoft.com, ...) is added whole. */
bw_account_t *bw_account_new(const char *const *owners, const char *const *provider_domains);
/* The same from a profile (its owners and bw_profile_provider_domains()). */
bw_account_t *bw_account_from_profile(const bw_profile_t *p);
void bw_account_free(bw_account_t *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_account_t, bw_account_free)
/* A digest of everything the judges read from the account (hex, g_free):
 * store it with stored verdicts; when it changes, judge again. */
char *bw_account_key(const bw_account_t *a);
bool bw_account_is_owner(const bw_account_t *a, const char *address);
/* host or domain is the provider's (equal or below one of its domains) */
bool bw_account_is_provider_domain(const bw_account_t *a, const char *host);
const char *bw_account_primary(const bw_account_t *a);

/* ------------------------------------------------------------ stage 1: a received message */

/* One Received hop (see bw_hop_t in bw-engine.h). */
typedef struct {
    unsigned pos;            /* index of the header field (0 = topmost) */
    char *by;                /* lower-cased, or NULL */
    char *from_helo;
    char *from_rdns;
    char *from_ip;
    bool authenticated;      /* SMTP AUTH */
    bool http;               /* webmail */
    bool has_from;           /* the hop has a "from" clause */
} bw_sig_hop_t;

/* One method result of an Authentication-Results header. */
typedef struct {
    char method[8];          /* "dkim", "spf", "dmarc" */
    char result[16];         /* "pass", "fail", "softfail", "none"... */
    char *domain;            /* header.d / header.i domain, smtp.mailfrom
                                domain, header.from; lower-cased, or NULL */
} bw_sig_result_t;

typedef struct {
    unsigned pos;            /* index of the header field (0 = topmost) */
    char *authserv_id;       /* lower-cased */
    unsigned n_results;
    bw_sig_result_t results[BW_SIG_MAX_AUTH_RESULTS];
} bw_sig_auth_t;

typedef struct {
    char *message_id;        /* without <> */
    gint64 date_unix;        /* 0 = unknown */
    char *subject;           /* decoded */
    char *from_addr;         /* lower-cased */
    char *from_display;      /* decoded display name, or NULL */
    char *return_path;       /* lower-cased, or NULL ("" for <>) */
    GPtrArray *to;           /* char*: To and Cc addresses (bounded) */
    char *in_reply_to;
    GPtrArray *references;   /* char* (bounded, last ones kept) */
    bool auto_submitted;     /* Auto-Submitted other than "no" */
    bool list;               /* List-Id/List-Post/List-Unsubscribe, Precedence list/bulk/junk */
    bool report;             /* multipart/report, delivery-status or feedback part */
    GPtrArray *dkim_domains; /* char*: d= of DKIM-Signature headers (unverified) */
    GArray *hops;            /* bw_sig_hop_t, top first */
    GArray *auths;           /* bw_sig_auth_t, top first */
    unsigned n_fields;       /* header fields walked */

    /* What the text is about (decided by the phrase tables of
     * signal-table.c, by meaning: a topic with an event in one clause). */
    bw_signal_kind_t topic;  /* NONE when no security notice topic */
    int topic_score;
    bool topic_strong;       /* a phrase that says topic and event at once
                                ("blocked from sending") was among them */
    int two_factor;          /* 1 turned on, 0 turned off, -1 not said */
    bool bait;               /* phishing bait: urgency, "verify your account" */
    bool chatter;            /* the provider's ordinary mail: storage, invoice */
    bool asks;               /* a person asking "did you send this?" */
    bool quotes_intro;       /* the text quotes an earlier message ("X wrote:") */
    /* Facts, each at most BW_SIG_MAX_FACT bytes, or NULL. */
    char *device;
    char *place;
    char *ip;
    char *time;
    char *limit;             /* sending-blocked: the sentence that says it */
    GPtrArray *topic_addresses; /* char*: addresses named with the topic
                                   (forwarding target, recovery address), in
                                   order; the judge drops the owner's */
    char *phone;             /* a recovery phone named with the topic */
    GPtrArray *text_addresses;  /* char*: addresses anywhere in the text */
    GPtrArray *url_domains;  /* char*: link domains of the text (bounded) */
} bw_mailfacts_t;

void bw_mailfacts_free(bw_mailfacts_t *m);
/* Worth keeping: what a judge can turn into a signal or an imitation (a
 * security topic, bait, a person asking).  (A reply to a run is kept
 * whatever it is: the scan reads those from the run's threads.) */
bool bw_mailfacts_notable(const bw_mailfacts_t *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_mailfacts_t, bw_mailfacts_free)

/* Reads one received message (bytes as on disk: LF, CRLF or CR).
 * BW_E_NOT_MAIL/BW_E_TOO_LARGE as bw_parse_bytes. */
bw_status_t bw_mailfacts_read(const char *data, size_t len, bw_mailfacts_t **out, char **detail);
/* The same, but *out NULL (and BW_OK) unless the facts are notable
 * (bw_mailfacts_notable): what a notable message gives is what
 * bw_mailfacts_read gives, and the rest costs a third less to tell. */
bw_status_t bw_mailfacts_read_notable(const char *data, size_t len, bw_mailfacts_t **out,
                                      char **detail);
JsonNode *bw_mailfacts_to_json(const bw_mailfacts_t *m);
/* json_to_string(bw_mailfacts_to_json(m), FALSE), written directly
 * (json-write.c; g_free).  _append writes it into `out` and returns false,
 * having written part of it, for a string it cannot write as json-glib
 * would (NULL in a list, invalid UTF-8); _text then takes json-glib's way. */
char *bw_mailfacts_to_json_text(const bw_mailfacts_t *m);
bool bw_mailfacts_json_append(GString *out, const bw_mailfacts_t *m);
/* A JSON string as json_to_string() writes it, appended to `out`; false
 * (part of it written) for NULL or invalid UTF-8 (json-write.c). */
bool bw_json_string_append(GString *out, const char *s);
bw_status_t bw_mailfacts_from_json(JsonNode *node, bw_mailfacts_t **out, char **detail);

/* ------------------------------------------------------------ stage 1: a sent message */

typedef struct {
    char *message_id;
    gint64 date_unix;
    int date_offset;         /* seconds east of UTC of the Date header */
    bool has_date;
    char *from;              /* lower-cased */
    char *mailer;            /* User-Agent or X-Mailer, squeezed, or NULL */
    char *msgid_shape;       /* the Message-ID's shape (fixed classes, domain) */
    char *content_shape;     /* "multipart/alternative", "text/plain;utf-8" ... */
    char *language;          /* Content-Language, lower-cased, or NULL */
    char *path;              /* "webmail" (HTTP hop), "smtp-auth", or NULL */
    bool priority;           /* X-Priority/Importance present */
    bool reply;              /* In-Reply-To present */
    char *to_shape;          /* "normal", "undisclosed", "self", "none" */
    unsigned n_to, n_cc, n_bcc;
    GPtrArray *recipients;   /* char*: To, Cc and Bcc addresses (bounded, distinct) */
    char *subject_key;       /* the masked subject template, or NULL */
} bw_sent_summary_t;

void bw_sent_summary_free(bw_sent_summary_t *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_sent_summary_t, bw_sent_summary_free)
/* Reads the header block only. */
bw_status_t bw_sent_summary_read(const char *data, size_t len, bw_sent_summary_t **out, char **detail);
JsonNode *bw_sent_summary_to_json(const bw_sent_summary_t *s);
/* The same as bw_mailfacts_to_json_text and _append, for a summary. */
char *bw_sent_summary_to_json_text(const bw_sent_summary_t *s);
bool bw_sent_summary_json_append(GString *out, const bw_sent_summary_t *s);
bw_status_t bw_sent_summary_from_json(JsonNode *node, bw_sent_summary_t **out, char **detail);
/* The summary of a stored row in the form bw_sent_summary_json_append
 * writes (no whitespace, the members in its order, strings of valid UTF-8
 * without escapes, integers of at most 18 digits), read without json-glib:
 * what bw_sent_summary_from_json gives of its parse.  NULL for any other
 * text (the caller takes json-glib's way then: same result, slower). */
bw_sent_summary_t *bw_sent_summary_from_row(const char *text);

/* ------------------------------------------------------------ signals */

typedef struct {
    bw_signal_kind_t kind;
    /* a notice or a reply */
    char *message_id;
    char *file;
    gint64 date_unix;
    char *summary;           /* one line, English (the JSON document) */
    GPtrArray *evidence;     /* char*: English */
    char *device, *place, *ip, *time;  /* sign-in-alert */
    char *address;           /* forwarding-added: the target; recovery-changed:
                                the new recovery address (or phone) */
    char *limit;             /* sending-blocked */
    int two_factor;          /* two-factor-changed: 1 on, 0 off, -1 not said */
    char *account;           /* the owner address the notice names */
    char *replies_to;        /* human-reply: the message answered */
    char *from;              /* human-reply: who answered */
    /* sent-anomaly */
    gint64 start, end;
    unsigned count;
    unsigned recipient_count;   /* distinct recipients of the members */
    unsigned contact_count;     /* of them, the owner's correspondents */
    GPtrArray *members;      /* char*: message ids, by date */
} bw_signal_t;

void bw_signal_free(bw_signal_t *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_signal_t, bw_signal_free)
/* The SPEC 2b object (plus "facts" and a few extra fields); `utc_offset`
 * (seconds) is the one dates are written in. */
JsonNode *bw_signal_to_json(const bw_signal_t *s, int utc_offset);
bw_status_t bw_signal_from_json(JsonNode *node, bw_signal_t **out, char **detail);
/* Signals sort by date (start for a run), then kind, then message id. */
gint bw_signal_compare(gconstpointer a, gconstpointer b);

/* An imitation of a provider's notice. */
typedef struct {
    char *message_id;
    char *file;
    gint64 date_unix;
    bw_signal_kind_t imitates;  /* NONE when only the bait said it */
    const char *tell;           /* "lookalike", "forged", "display" (static) */
    char *from;                 /* the real sender address */
    char *claimed;              /* what it pretends to be (display name/domain) */
    GPtrArray *evidence;        /* char*: English */
} bw_phish_t;

void bw_phish_free(bw_phish_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_phish_t, bw_phish_free)
JsonNode *bw_phish_to_json(const bw_phish_t *p, int utc_offset);

/* ------------------------------------------------------------ stage 2: judges */

typedef enum {
    BW_NOTICE_ORDINARY = 0,   /* not a signal (incl. the provider's ordinary mail) */
    BW_NOTICE_SIGNAL,         /* a genuine security notice: *signal_out */
    BW_NOTICE_PHISHING,       /* an imitation: *phish_out */
} bw_notice_class_t;

/* Who really sent `m` and what it is about.  `message_id`/`file` name the
 * message in the mailbox (message_id NULL: m->message_id).  Either out
 * pointer may be NULL. */
bw_notice_class_t bw_notice_judge(const bw_mailfacts_t *m, const bw_account_t *a,
                                  const char *file, bw_signal_t **signal_out,
                                  bw_phish_t **phish_out);

/* Runs of messages in the owner's sent mail that the owner did not write.
 * `sent`: bw_sent_summary_t* of the owner's messages (any order; ones not
 * from an owner address are ignored).  `ops` (may be NULL): its
 * received_from_count tells correspondents.  *out: bw_signal_t* of kind
 * sent-anomaly, oldest first. */
bw_status_t bw_sent_anomalies_find(GPtrArray *sent, const bw_account_t *a,
                                   const bw_mailbox_ops_t *ops, GPtrArray **out);

/* What a reply is judged against. */
typedef struct {
    GPtrArray *anomalies;           /* bw_signal_t* of kind sent-anomaly, or NULL */
    const bw_mailbox_ops_t *ops;    /* has_sent_mail, has_message_id,
                                       sent_has_message_id; may be NULL */
} bw_reply_context_t;

/* A person answering a message of this mailbox the owner never sent:
 * In-Reply-To/References naming a member of a sent anomaly, or (with a
 * Sent folder that exists) a message in the owner's name that is nowhere
 * in the mailbox, supported by what the person wrote.  TRUE and *out (may
 * be NULL) when it is a human-reply signal. */
bool bw_reply_judge(const bw_mailfacts_t *m, const bw_account_t *a,
                    const bw_reply_context_t *ctx, const char *file, bw_signal_t **out);

/* ------------------------------------------------------------ the assessment */

typedef struct bw_signals_assessment {
    bool compromise;            /* the signals make compromise-suspected */
    GPtrArray *reasons;         /* char*: English, what made it so */
    char *summary;              /* translated; NULL when not compromise */
    GPtrArray *advice;          /* char*: translated, the specific steps first */
    unsigned contacts_to_warn;  /* people who got mail from the run */
    /* The incident, for one notification per takeover (SPEC 2a): the
     * earliest signal that makes it compromise-suspected (a run's first
     * member, the sign-in alert of a takeover step, the notice itself),
     * as "KIND:MESSAGE-ID", and its date; NULL/0 when not compromise. */
    char *incident_key;
    gint64 incident_start;
    gint64 incident_last;       /* the newest signal of the incident */
    unsigned incident_weight;   /* grows with the incident: signals plus the
                                   run's members (an alert is updated when
                                   it grows) */
} bw_signals_assessment_t;

void bw_signals_assessment_free(bw_signals_assessment_t *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bw_signals_assessment_t, bw_signals_assessment_free)

/* SPEC 2b: a sign-in alert alone is never a compromise; sending-blocked, a
 * sent anomaly, a human reply, own-account backscatter
 * (`own_account_backscatter`, what bw_assess() found), or a takeover step
 * (forwarding-added, recovery-changed, two-factor turned off) within 48
 * hours after a sign-in alert each make it compromise-suspected.
 * `owner`: the address named in the advice (NULL: "your account"). */
bw_status_t bw_signals_assess(GPtrArray *signals, const char *owner,
                              bool own_account_backscatter,
                              bw_signals_assessment_t **out);
/* Fold the signals' verdict into the report engine's assessment: status
 * compromise-suspected, the signals' summary, their specific advice before
 * the generic steps (no line twice). */
void bw_signals_assessment_apply(const bw_signals_assessment_t *s, bw_assessment_t *a);

/* The "Signs about your account" section of the human report: one
 * translated line per signal and imitation, by date, dates written with
 * `utc_offset`. */
GPtrArray *bw_signals_timeline(GPtrArray *signals, GPtrArray *phish, int utc_offset);

/* profile.c: the provider domains the profile knows (configured relays'
 * domains, learned DKIM d= and submission domains, owner address domains),
 * sorted, distinct (g_ptr_array_unref). */
GPtrArray *bw_profile_provider_domains(const bw_profile_t *p);

G_END_DECLS

#endif /* BW_SIGNALS_H */
