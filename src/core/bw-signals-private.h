/* bw-signals-private.h: internals shared by the signal files
 * (signal-table.c, signal-read.c, signal-judge.c, sent-anomaly.c,
 * signal-assess.c).  Not part of the API. */
#ifndef BW_SIGNALS_PRIVATE_H
#define BW_SIGNALS_PRIVATE_H

#include "bw-signals.h"
#include "bw-engine.h"
#include "bw-vendor.h"

/* ------------------------------------------------------------ phrases
 * One row per phrase (signal-table.c); all rows go into one Aho-Corasick
 * automaton (vendor-match.c), so a text is read once whatever the number
 * of languages.  Pattern syntax on top of the matcher's (ASCII case folded,
 * white space runs as one space, leading '^' = at a line start):
 *   a trailing '*' makes the phrase a stem (no word boundary after it);
 *   otherwise a phrase that starts or ends with an ASCII letter or digit
 *   only matches as whole words. */
typedef enum {
    SIG_TOPIC = 1,      /* what a notice is about (mask: kinds) */
    SIG_STRONG,         /* a phrase that is topic and event at once (mask) */
    SIG_EVENT,          /* something happened (mask: the kinds it fits) */
    SIG_ON,             /* two-factor: turned on */
    SIG_OFF,            /* two-factor: turned off */
    SIG_REENABLE,       /* "turn it back on": it is off now */
    SIG_ADVICE,         /* conditional/advice: the rest of the clause is
                           what the reader might do, not what happened */
    SIG_SECURITY,       /* a subject word saying "security notice" */
    SIG_BAIT,           /* phishing bait: urgency, verify, click */
    SIG_CHATTER,        /* the provider's ordinary mail */
    SIG_ASK,            /* a person asking "did you send this?" */
    SIG_QUOTE,          /* an earlier message is quoted from here on */
    SIG_LABEL_DEVICE,   /* "Device:" */
    SIG_LABEL_PLACE,    /* "Location:" */
    SIG_LABEL_IP,       /* "IP address:" */
    SIG_LABEL_TIME,     /* "Time:" */
    SIG_LABEL_TARGET,   /* "Forward all mail to", "New recovery email" (mask) */
    SIG_MASK,           /* a phrase that names a topic word without being
                           about it ("sign-in settings"): topic hits inside
                           it do not count; it reads as a security word */
} sig_cat_t;

#define SIG_K(kind) (1u << (kind))
#define SIG_SIGNIN   SIG_K(BW_SIGNAL_SIGN_IN_ALERT)
#define SIG_PASSWORD SIG_K(BW_SIGNAL_PASSWORD_CHANGED)
#define SIG_RECOVERY SIG_K(BW_SIGNAL_RECOVERY_CHANGED)
#define SIG_FORWARD  SIG_K(BW_SIGNAL_FORWARDING_ADDED)
#define SIG_2FA      SIG_K(BW_SIGNAL_TWO_FACTOR_CHANGED)
#define SIG_SENDING  SIG_K(BW_SIGNAL_SENDING_BLOCKED)

typedef struct {
    const char *pattern;
    unsigned char cat;      /* sig_cat_t */
    unsigned short mask;    /* kinds (SIG_K bits) for TOPIC/STRONG/EVENT/LABEL_TARGET */
} bw_sig_phrase_t;

extern const bw_sig_phrase_t bw_sig_phrases[];
extern const size_t bw_sig_phrases_count;

/* The automaton over bw_sig_phrases (built once, thread-safe). */
const bw_matcher_t *bw_sig_matcher(void);
/* Per phrase id: the pattern is a stem / needs word boundaries. */
bool bw_sig_phrase_is_stem(size_t id);

/* ------------------------------------------------------------ providers */

/* Domains that belong to one provider: an owner at any of them is
 * notified from any of them (a gmail.com owner hears from google.com). */
typedef struct {
    const char *name;
    const char *const *domains;
} bw_provider_family_t;

extern const bw_provider_family_t bw_provider_families[];
extern const size_t bw_provider_families_count;

/* Local parts of machine senders ("no-reply", "security", "account-...").
 * Long entries match inside the separator-less local part, short ones
 * (<= 4 bytes) only as a whole separator-delimited token. */
extern const char *const bw_sig_role_words[];
/* Labels too generic to be a brand ("mail", "secure", "online"). */
extern const char *const bw_sig_generic_labels[];

/* The registrable domain of a host (public suffix heuristics: two-letter
 * second-level labels under country codes, the reserved documentation
 * names example.com/net/org/jp as suffixes), g_free; NULL for an IP. */
char *bw_sig_registrable(const char *host);
/* The brand of a registrable domain (its first label) when it is specific
 * enough (>= 4 bytes, not generic), g_free, or NULL. */
char *bw_sig_brand(const char *registrable);
/* The local part is a machine sender's. */
bool bw_sig_is_role_local(const char *address);
/* Lower-cased domain of an address (g_free), or NULL. */
char *bw_sig_domain_of(const char *address);
/* Host equals domain or lies below it. */
bool bw_sig_host_under(const char *host, const char *domain);

/* ------------------------------------------------------------ shared helpers */

/* Header fields of a block, in order: calls fn(name, name_len, value,
 * value_len, index, data) for each, at most BW_SIG_MAX_FIELDS; stops
 * early when fn returns false.  Returns the number walked. */
typedef bool (*bw_sig_field_fn)(const char *name, size_t name_len, const char *value,
                                size_t value_len, unsigned index, void *data);
unsigned bw_sig_fields(const char *hdr, size_t hdr_len, bw_sig_field_fn fn, void *data);
/* bw_mailfacts_json_append with the topic's name given (json-write.c). */
bool bw_mailfacts_json_write(GString *out, const bw_mailfacts_t *m, const char *topic);
/* Splits an address-list header value into lower-cased addresses (bounded
 * by `max`); returns how many addresses the value held (also past max). */
unsigned bw_sig_address_list(const char *value, size_t len, GPtrArray *out, unsigned max);
/* The header block of a normalised message: its length (up to the blank
 * line, at most BW_SIG_MAX_HEADER_BYTES). */
size_t bw_sig_header_len(const char *data, size_t len);

/* Replace *s (g_malloc'd, may be NULL) by valid UTF-8 when it is not:
 * header bytes are the sender's, and stored facts go into JSON. */
void bw_sig_fix_utf8(char **s);
void bw_sig_fix_utf8_all(GPtrArray *strings);

/* JSON helpers */
GPtrArray *bw_sig_json_get_strv(JsonObject *o, const char *key, guint max);
char *bw_sig_json_get_str(JsonObject *o, const char *key);
/* A string member only when the value is set (stored state stays small). */
void bw_sig_json_opt_str(JsonBuilder *b, const char *key, const char *v);
/* An integer member (booleans and doubles read as integers), or dflt. */
gint64 bw_sig_json_get_int(JsonObject *o, const char *key, gint64 dflt);

#endif /* BW_SIGNALS_PRIVATE_H */
