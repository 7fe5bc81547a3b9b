/* bw-engine.h: internals shared by the engine's files (profile.c,
 * classify.c, fingerprint.c, campaign.c, surge.c, assess.c, scanresult.c).
 * Not part of the API. */
#ifndef BW_ENGINE_H
#define BW_ENGINE_H

#include "bw-scan.h"
#include "bw-private.h"

/* Hard bounds on attacker-controlled structure the engine walks. */
#define BW_ENGINE_MAX_HOPS        32    /* Received lines examined per original */
#define BW_ENGINE_MAX_HOP_BYTES   2048  /* bytes of one Received value examined */
#define BW_ENGINE_MAX_SUBJECT     512   /* bytes of a subject fingerprinted */
#define BW_ENGINE_MAX_TOKENS      64    /* subject tokens considered */
#define BW_ENGINE_MAX_URL_DOMAINS 16    /* URL domains per original fingerprinted */

/* One Received hop, reduced to what the origin analysis needs. */
typedef struct {
    char from_helo[256];   /* "from X": the HELO name or [ip] literal, lower-cased */
    char from_rdns[256];   /* "(rdns [ip])": the reverse name, lower-cased, or "" */
    char from_ip[64];      /* the connecting IP or "" */
    char by[256];          /* "by X", lower-cased, or "" */
    bool authenticated;    /* ESMTPSA/ESMTPA/LMTPSA, "authenticated", "Authenticated sender" */
    bool http;             /* "with HTTP"/"with HTTPS": a webmail submission */
} bw_hop_t;

/* Parse one Received value (bounded). Returns FALSE when it has no "by". */
bool bw_hop_parse(const char *value, bw_hop_t *out);

/* Profile internals (profile.c). */
/* Host or domain `host` belongs to the owner's provider or own domains. */
bool bw_profile_is_provider_host(const bw_profile_t *p, const char *host);
/* Domain of an owner address or a configured/learned provider domain. */
bool bw_profile_is_own_domain(const bw_profile_t *p, const char *domain);
/* The profile knows the owner's provider (configured relays, or learned
 * from sent mail or the originals of legitimate reports). */
bool bw_profile_knows_provider(const bw_profile_t *p);
/* The owner's correspondents fed by bw_profile_add_correspondent() (set of
 * lower-cased addresses; read only). */
#define BW_PROFILE_MAX_CORRESPONDENTS 20000
GHashTable *bw_profile_correspondents(const bw_profile_t *p);
/* Message-ID domain/shape seen in the owner's real mail. */
bool bw_profile_knows_msgid_domain(const bw_profile_t *p, const char *domain);
bool bw_profile_knows_mailer(const bw_profile_t *p, const char *mailer);
unsigned bw_profile_sent_samples(const bw_profile_t *p);
/* The primary address is on a domain of the owner's own, hosted by a
 * provider under another domain (learned from the owner's real mail). */
bool bw_profile_custom_domain(const bw_profile_t *p);
/* Learn the provider's submission path from an original that is known to be
 * the owner's real mail (its Message-ID is in Sent).  The profile is
 * logically const for classification: this only extends a cache of learned
 * hosts, so it takes a const pointer.  Not thread-safe (one scan at a time). */
void bw_profile_learn_original(const bw_profile_t *p, const bw_original_t *o);

/* Origin of a forged original from its Received chain and DKIM.
 * *why (may be NULL) gets a static English explanation. */
bw_origin_t bw_origin_of(const bw_profile_t *p, const bw_original_t *o, const char **why);

/* Fingerprint internals (fingerprint.c). */
guint64 bw_fp_hash(const char *s, size_t len);    /* keyed SipHash, fixed key */
guint64 bw_fp_simhash(const char *text, size_t len);
/* The masked subject template (g_free) or NULL when no subject. `recipient`
 * (may be NULL) is the reported recipient whose name parts are masked. */
char *bw_fp_subject_template(const char *subject, const char *recipient);
/* The same with runs of two or more capitalised words (names) masked too. */
char *bw_fp_subject_template_names(const char *subject, const char *recipient);
void bw_fingerprint_compute(const bw_profile_t *p, const bw_report_t *r, bw_fingerprint_t *fp);
void bw_fingerprint_clear(bw_fingerprint_t *fp);
void bw_fingerprint_copy(bw_fingerprint_t *dst, const bw_fingerprint_t *src);
/* The /24 (or IPv6 /48) of the first external hop's IP, as text (g_free) or NULL. */
char *bw_fp_origin_network(const bw_profile_t *p, const bw_original_t *o);

/* Surge internals (surge.c), exposed for the tests. */
double bw_poisson_upper_tail(unsigned x, double l);        /* P(X >= x | l) */
double bw_cusum_threshold(double l0, double k, double target_arl);
/* Where bw_cusum_threshold() keeps its answers between runs; NULL turns
 * the file off (memory only).  Default: $XDG_CACHE_HOME/bouncewatch/. */
void bw_cusum_cache_set_path(const char *path);

/* One of the big free-mail providers (gmail.com, yahoo.co.jp...): millions
 * of strangers share the domain, so it says nothing about a person. */
bool bw_is_big_mail_domain(const char *domain);

/* RFC 1918 / loopback / link-local / ULA address text. */
bool bw_ip_is_private(const char *ip);

/* Levenshtein distance, bounded: returns max+1 when larger than max. */
unsigned bw_edit_distance(const char *a, const char *b, unsigned max);

#endif /* BW_ENGINE_H */
