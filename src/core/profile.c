/* profile.c: what the owner's real outgoing mail looks like, and where a
 * forged original came from.
 *
 * The profile knows the owner's addresses and their domains, the provider's
 * hosts (configured with bouncewatch.relays, or learned from the Received
 * chains of mail the owner really sent), the Message-ID domains and the
 * mail programs of the owner's sent mail.
 *
 * Origin (bw_origin_of): an original that entered the owner's provider by an
 * AUTHENTICATED path (SMTP AUTH submission, "with ESMTPSA", "authenticated
 * bits", "Authenticated sender", or the provider's webmail, "with HTTP(S)")
 * was sent with the owner's credentials: own-account.  Spam tools forge such
 * lines ("forged-hop"), so a hop counts only when the chain of custody from
 * the top reaches it: the top hop is written by the server that received the
 * message (the reporting side), and each hop below is trusted only while the
 * hop above it says it received the message FROM a provider host.  A forged
 * provider hop sits under a hop that received the mail from a bot or a web
 * server, so it is never reached. */
#include "bw-engine.h"
#include "bw-signals.h"
#include <string.h>
#include <stdlib.h>
#include <sodium.h>

static int
cmp_key_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct bw_profile {
    GPtrArray *owners;          /* char*, lower-cased addresses */
    GHashTable *own_domains;    /* domain -> 1: owner address domains, relays */
    GPtrArray *relay_globs;     /* char*: configured host globs */
    GHashTable *msgid_domains;  /* Message-ID domain of sent mail -> count */
    GHashTable *mailers;        /* normalised X-Mailer/User-Agent -> count */
    unsigned samples;
    /* learned cache (see bw_profile_learn_original): provider domains */
    GHashTable *learned;
    GHashTable *submit;         /* parent domains of authenticated submission hosts */
    GHashTable *correspondents; /* lower-cased addresses the owner corresponds with */
};

static char *
domain_of(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at && at[1] ? g_ascii_strdown(at + 1, -1) : NULL;
}

/* The parent domain of a host (drop the first label) when it has at least
 * two labels left: smtp.mailhost.example -> mailhost.example. */
static char *
parent_domain(const char *host)
{
    const char *dot = strchr(host, '.');
    if (dot == NULL || strchr(dot + 1, '.') == NULL)
        return NULL;
    return g_strdup(dot + 1);
}

bw_profile_t *
bw_profile_new(const char *const *owner_addresses, const char *const *own_relays)
{
    bw_profile_t *p = g_new0(bw_profile_t, 1);
    p->owners = g_ptr_array_new_with_free_func(g_free);
    p->own_domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    p->relay_globs = g_ptr_array_new_with_free_func(g_free);
    p->msgid_domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    p->mailers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    p->learned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    p->submit = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    p->correspondents = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (unsigned i = 0; owner_addresses && owner_addresses[i] && i < 256; i++) {
        char *a = bw_address_normalize(owner_addresses[i]);
        if (a == NULL)
            continue;
        char *d = domain_of(a);
        if (d)
            g_hash_table_replace(p->own_domains, d, GINT_TO_POINTER(1));
        g_ptr_array_add(p->owners, a);
    }
    for (unsigned i = 0; own_relays && own_relays[i] && i < 256; i++) {
        char *r = g_ascii_strdown(own_relays[i], -1);
        g_strstrip(r);
        if (*r == '\0') {
            g_free(r);
            continue;
        }
        if (strpbrk(r, "*?") == NULL) {
            /* a plain host or domain: the domain and all its hosts */
            g_hash_table_replace(p->own_domains, g_strdup(r), GINT_TO_POINTER(1));
        }
        g_ptr_array_add(p->relay_globs, r);
    }
    return p;
}

void
bw_profile_free(bw_profile_t *p)
{
    if (p == NULL)
        return;
    g_ptr_array_unref(p->owners);
    g_hash_table_unref(p->own_domains);
    g_ptr_array_unref(p->relay_globs);
    g_hash_table_unref(p->msgid_domains);
    g_hash_table_unref(p->mailers);
    g_hash_table_unref(p->learned);
    g_hash_table_unref(p->submit);
    g_hash_table_unref(p->correspondents);
    g_free(p);
}

bool
bw_profile_is_owner(const bw_profile_t *p, const char *address)
{
    if (p == NULL || address == NULL)
        return false;
    for (guint i = 0; i < p->owners->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(p->owners, i), address) == 0)
            return true;
    return false;
}

const char *
bw_profile_primary(const bw_profile_t *p)
{
    return p && p->owners->len ? g_ptr_array_index(p->owners, 0) : NULL;
}

unsigned
bw_profile_sent_samples(const bw_profile_t *p)
{
    return p ? p->samples : 0;
}

static bool
domain_in(GHashTable *set, const char *host)
{
    /* host itself or any parent domain of it (bounded by the label count) */
    const char *h = host;
    for (int depth = 0; h && *h && depth < 16; depth++) {
        if (g_hash_table_contains(set, h))
            return true;
        h = strchr(h, '.');
        if (h)
            h++;
    }
    return false;
}

bool
bw_profile_is_own_domain(const bw_profile_t *p, const char *domain)
{
    if (p == NULL || domain == NULL || *domain == '\0')
        return false;
    g_autofree char *d = g_ascii_strdown(domain, -1);
    return domain_in(p->own_domains, d) || domain_in(p->learned, d);
}

bool
bw_profile_is_provider_host(const bw_profile_t *p, const char *host)
{
    if (p == NULL || host == NULL || *host == '\0' || *host == '[')
        return false;
    g_autofree char *h = g_ascii_strdown(host, -1);
    if (domain_in(p->own_domains, h) || domain_in(p->learned, h))
        return true;
    for (guint i = 0; i < p->relay_globs->len; i++)
        if (g_pattern_match_simple(g_ptr_array_index(p->relay_globs, i), h))
            return true;
    return false;
}

static char *
mailer_key(const char *m)
{
    /* the program name without version numbers: "Thunderbird/128.4" and
     * "Thunderbird/128.5" are the same mailer */
    GString *s = g_string_new(NULL);
    for (const char *c = m; *c && s->len < 64; c++) {
        if (g_ascii_isdigit(*c) || *c == '.')
            continue;
        g_string_append_c(s, g_ascii_tolower(*c));
    }
    return g_string_free(s, FALSE);
}

static void
count_in(GHashTable *t, char *key_owned)
{
    gpointer old = g_hash_table_lookup(t, key_owned);
    g_hash_table_replace(t, key_owned, GINT_TO_POINTER(GPOINTER_TO_INT(old) + 1));
}

/* What the owner's real mail teaches, one lesson at a time (see
 * bw_profile_learn_lesson): "s" + the parent domain of an authenticated
 * (or webmail) hop's host, the provider's submission server; "d" + a DKIM
 * signing domain. */
static void
received_lessons(const GPtrArray *received, GPtrArray *out)
{
    for (guint i = 0; received && i < received->len && i < BW_ENGINE_MAX_HOPS; i++) {
        bw_hop_t hop;
        if (!bw_hop_parse(g_ptr_array_index(received, i), &hop))
            continue;
        if ((hop.authenticated || hop.http) && hop.by[0] && hop.by[0] != '[') {
            g_autofree char *d = parent_domain(hop.by);
            if (d)
                g_ptr_array_add(out, g_strconcat("s", d, NULL));
        }
    }
}

void
bw_profile_original_lessons(const bw_original_t *o, GPtrArray *out)
{
    if (o == NULL || out == NULL)
        return;
    received_lessons(o->received, out);
    if (o->dkim_domain) {
        g_autofree char *d = g_ascii_strdown(o->dkim_domain, -1);
        g_ptr_array_add(out, g_strconcat("d", d, NULL));
    }
}

void
bw_profile_learn_lesson(const bw_profile_t *p, const char *lesson)
{
    if (p == NULL || lesson == NULL || g_hash_table_size(p->learned) >= 64)
        return;
    if (lesson[0] == 's') {
        /* The authenticated hop of the owner's real mail is the
         * provider's submission server: remember its domain. */
        if (g_hash_table_size(p->submit) < 64)
            g_hash_table_replace(p->submit, g_strdup(lesson + 1), GINT_TO_POINTER(1));
        g_hash_table_replace(p->learned, g_strdup(lesson + 1), GINT_TO_POINTER(1));
    } else if (lesson[0] == 'd') {
        g_hash_table_replace(p->learned, g_strdup(lesson + 1), GINT_TO_POINTER(1));
    }
}

static void
learn_received(const bw_profile_t *p, const GPtrArray *received)
{
    g_autoptr(GPtrArray) lessons = g_ptr_array_new_with_free_func(g_free);
    received_lessons(received, lessons);
    for (guint i = 0; i < lessons->len; i++)
        bw_profile_learn_lesson(p, g_ptr_array_index(lessons, i));
}

void
bw_profile_add_sent(bw_profile_t *p, const bw_sent_t *sent)
{
    if (p == NULL || sent == NULL)
        return;
    p->samples++;
    if (sent->message_id) {
        char *d = domain_of(sent->message_id);
        if (d && g_hash_table_size(p->msgid_domains) < 256)
            count_in(p->msgid_domains, d);
        else
            g_free(d);
    }
    if (sent->x_mailer && g_hash_table_size(p->mailers) < 256)
        count_in(p->mailers, mailer_key(sent->x_mailer));
    if (sent->dkim_domain && g_hash_table_size(p->learned) < 64)
        g_hash_table_replace(p->learned, g_ascii_strdown(sent->dkim_domain, -1), GINT_TO_POINTER(1));
    learn_received(p, sent->received);
}

void
bw_profile_learn_original(const bw_profile_t *p, const bw_original_t *o)
{
    if (p == NULL || o == NULL)
        return;
    g_autoptr(GPtrArray) lessons = g_ptr_array_new_with_free_func(g_free);
    bw_profile_original_lessons(o, lessons);
    for (guint i = 0; i < lessons->len; i++)
        bw_profile_learn_lesson(p, g_ptr_array_index(lessons, i));
}

/* The keys of a table and their counts (for a set, `counted` FALSE: its
 * values are its keys), sorted, into the hash. */
static void
digest_table(crypto_generichash_state *h, const char *name, GHashTable *t, bool counted)
{
    g_autofree gpointer *keys = (gpointer *)g_hash_table_get_keys_as_array(t, NULL);
    guint n = g_hash_table_size(t);
    qsort(keys, n, sizeof *keys, cmp_key_text);
    crypto_generichash_update(h, (const unsigned char *)name, strlen(name) + 1);
    for (guint i = 0; i < n; i++) {
        char count[24];
        int len = counted ? g_snprintf(count, sizeof count, "=%d",
                                       GPOINTER_TO_INT(g_hash_table_lookup(t, keys[i])))
                          : g_snprintf(count, sizeof count, "=");
        crypto_generichash_update(h, keys[i], strlen(keys[i]) + 1);
        crypto_generichash_update(h, (const unsigned char *)count, (size_t)len + 1);
    }
}

/* The owners and relay globs (from the configuration), in order: both
 * digests start with them. */
static void
digest_configured(crypto_generichash_state *h, const bw_profile_t *p)
{
    for (guint i = 0; i < p->owners->len; i++)
        crypto_generichash_update(h, g_ptr_array_index(p->owners, i),
                                  strlen(g_ptr_array_index(p->owners, i)) + 1);
    crypto_generichash_update(h, (const unsigned char *)"relays", 7);
    for (guint i = 0; i < p->relay_globs->len; i++)
        crypto_generichash_update(h, g_ptr_array_index(p->relay_globs, i),
                                  strlen(g_ptr_array_index(p->relay_globs, i)) + 1);
}

static char *
digest_hex(crypto_generichash_state *h)
{
    unsigned char out[32];
    crypto_generichash_final(h, out, sizeof out);
    char *hex = g_malloc(2 * sizeof out + 1);
    sodium_bin2hex(hex, 2 * sizeof out + 1, out, sizeof out);
    return hex;
}

char *
bw_profile_digest(const bw_profile_t *p)
{
    if (p == NULL)
        return NULL;
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    digest_configured(&h, p);
    char samples[24];
    int len = g_snprintf(samples, sizeof samples, "samples=%u", p->samples);
    crypto_generichash_update(&h, (const unsigned char *)samples, (size_t)len + 1);
    digest_table(&h, "own_domains", p->own_domains, true);
    digest_table(&h, "msgid_domains", p->msgid_domains, true);
    digest_table(&h, "mailers", p->mailers, true);
    digest_table(&h, "learned", p->learned, true);
    digest_table(&h, "submit", p->submit, true);
    digest_table(&h, "correspondents", p->correspondents, false);
    return digest_hex(&h);
}

/* What bw_classify reads of the profile, and nothing else (an audit of
 * classify.c, fingerprint.c and bw_origin_of): the owners
 * (bw_profile_is_owner), the relay globs (bw_profile_is_provider_host,
 * bw_profile_knows_provider), whether any sent message was sampled
 * (bw_profile_sent_samples > 0), and the KEYS of own_domains, learned and
 * submit (bw_profile_is_own_domain, bw_profile_is_provider_host,
 * bw_profile_knows_provider: membership and emptiness), msgid_domains
 * (bw_profile_knows_msgid_domain) and mailers (bw_profile_knows_mailer).
 * Not the counts of msgid_domains and mailers, the exact sample count, or
 * the correspondents (read by assess only): one more sent message moves
 * those without changing a verdict.  Two profiles with this digest equal
 * give every report the same verdict, given the same mailbox answers. */
char *
bw_profile_verdict_digest(const bw_profile_t *p)
{
    if (p == NULL)
        return NULL;
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const unsigned char *)"verdict", 8);
    digest_configured(&h, p);
    const char *sampled = p->samples > 0 ? "sampled" : "unsampled";
    crypto_generichash_update(&h, (const unsigned char *)sampled, strlen(sampled) + 1);
    digest_table(&h, "own_domains", p->own_domains, false);
    digest_table(&h, "msgid_domains", p->msgid_domains, false);
    digest_table(&h, "mailers", p->mailers, false);
    digest_table(&h, "learned", p->learned, false);
    digest_table(&h, "submit", p->submit, false);
    return digest_hex(&h);
}

void
bw_profile_add_correspondent(bw_profile_t *p, const char *address)
{
    if (p == NULL || address == NULL ||
        g_hash_table_size(p->correspondents) >= BW_PROFILE_MAX_CORRESPONDENTS)
        return;
    char *a = bw_address_normalize(address);
    if (a == NULL || strchr(a, '@') == NULL || bw_profile_is_owner(p, a)) {
        g_free(a);
        return;
    }
    g_hash_table_add(p->correspondents, a);
}

GHashTable *
bw_profile_correspondents(const bw_profile_t *p)
{
    return p ? p->correspondents : NULL;
}

bool
bw_profile_custom_domain(const bw_profile_t *p)
{
    const char *prim = bw_profile_primary(p);
    const char *at = prim ? strrchr(prim, '@') : NULL;
    if (at == NULL)
        return false;
    /* The provider's submission hosts, as learned from the owner's real
     * mail, live under another domain than the address: the address is a
     * domain of the owner's, hosted by that provider. */
    if (g_hash_table_size(p->submit) == 0)
        return false;
    g_autofree char *d = g_ascii_strdown(at + 1, -1);
    return !domain_in(p->submit, d);
}

bool
bw_profile_knows_provider(const bw_profile_t *p)
{
    /* The owner's address domains alone say nothing about the provider that
     * submits the mail (a gmail.com address is sent through smtp.gmail.com,
     * a custom domain through some hosting company). */
    return p && (p->relay_globs->len > 0 || g_hash_table_size(p->learned) > 0 ||
                 g_hash_table_size(p->submit) > 0);
}

static void
collect_domains(GHashTable *from, GPtrArray *out)
{
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, from);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(out, g_strdup(k));
}

static gint
cmp_domain(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
bw_profile_provider_domains(const bw_profile_t *p)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    if (p == NULL)
        return out;
    collect_domains(p->own_domains, out);
    collect_domains(p->learned, out);
    collect_domains(p->submit, out);
    g_ptr_array_sort(out, cmp_domain);
    for (guint i = 1; i < out->len;)
        if (strcmp(g_ptr_array_index(out, i), g_ptr_array_index(out, i - 1)) == 0)
            g_ptr_array_remove_index(out, i);
        else
            i++;
    return out;
}

bool
bw_profile_knows_msgid_domain(const bw_profile_t *p, const char *domain)
{
    if (p == NULL || domain == NULL)
        return false;
    g_autofree char *d = g_ascii_strdown(domain, -1);
    return g_hash_table_contains(p->msgid_domains, d);
}

bool
bw_profile_knows_mailer(const bw_profile_t *p, const char *mailer)
{
    if (p == NULL || mailer == NULL)
        return false;
    g_autofree char *k = mailer_key(mailer);
    return g_hash_table_contains(p->mailers, k);
}

/* ------------------------------------------------------------ Received */

/* Copy the next word (up to white space, ';' or '(') from *s into buf,
 * lower-cased; advance *s. */
static void
take_word(const char **s, const char *end, char *buf, size_t size)
{
    const char *c = *s;
    while (c < end && g_ascii_isspace(*c))
        c++;
    size_t n = 0;
    while (c < end && !g_ascii_isspace(*c) && *c != ';' && *c != '(' && *c != ')') {
        if (n + 1 < size)
            buf[n++] = g_ascii_tolower(*c);
        c++;
    }
    buf[n] = '\0';
    *s = c;
}

/* Find a keyword as a whole word (case-insensitive) in [s, end). */
static const char *
find_word(const char *s, const char *end, const char *word)
{
    size_t wl = strlen(word);
    const char *c = s;
    while (c < end) {
        const char *f = bw_memcasestr(c, (size_t)(end - c), word);
        if (f == NULL)
            return NULL;
        bool left = f == s || g_ascii_isspace(f[-1]) || f[-1] == ')' || f[-1] == ';';
        bool right = f + wl >= end || g_ascii_isspace(f[wl]);
        if (left && right)
            return f;
        c = f + 1;
    }
    return NULL;
}

/* Beside the hop parser: a hop from such an address is inside the
 * sender's own network, not where the mail entered the Internet. */
bool
bw_ip_is_private(const char *ip)
{
    return g_str_has_prefix(ip, "10.") || g_str_has_prefix(ip, "127.") ||
           g_str_has_prefix(ip, "192.168.") || g_str_has_prefix(ip, "169.254.") ||
           (g_str_has_prefix(ip, "172.") && atoi(ip + 4) >= 16 && atoi(ip + 4) <= 31) ||
           g_str_has_prefix(ip, "::1") || g_ascii_strncasecmp(ip, "fe80", 4) == 0 ||
           g_ascii_strncasecmp(ip, "fc", 2) == 0 || g_ascii_strncasecmp(ip, "fd", 2) == 0;
}

bool
bw_hop_parse(const char *value, bw_hop_t *out)
{
    memset(out, 0, sizeof *out);
    if (value == NULL)
        return false;
    size_t len = strnlen(value, BW_ENGINE_MAX_HOP_BYTES);
    const char *end = value + len;
    /* the date after ';' is not part of the clauses */
    const char *semi = memchr(value, ';', len);
    const char *cl_end = semi ? semi : end;

    const char *by = find_word(value, cl_end, "by");
    const char *from = find_word(value, by ? by : cl_end, "from");
    if (from) {
        const char *c = from + 4;
        take_word(&c, cl_end, out->from_helo, sizeof out->from_helo);
        /* "(rdns [ip])", "([ip])", "(helo=x)", "(unknown [ip])" */
        while (c < cl_end && g_ascii_isspace(*c))
            c++;
        /* Which name the receiving server looked up depends on the MTA.
         * Postfix and Sendmail: "from HELO (RDNS [ip])".  Exim: "from RDNS
         * ([ip] helo=HELO)" (its $sender_rcvhost starts with the verified
         * host name, else with "[ip]"), always with "(Exim x.y)" in the
         * line.  qmail (tcpserver): "from REMOTEHOST (HELO helo) (ip)" or
         * "from REMOTEHOST (ip)", the IP bare, the host its reverse lookup
         * (or "unknown"). */
        const char *first_paren = c < cl_end && *c == '(' ? c : NULL;
        bool qmail_helo = first_paren && cl_end - c > 6 && strncmp(c + 1, "HELO ", 5) == 0;
        bool exim = first_paren && c + 1 < cl_end && c[1] == '[' &&
                    bw_memcasestr(value, (size_t)(cl_end - value), "(Exim ") != NULL;
        if (exim && out->from_helo[0] != '\0' && out->from_helo[0] != '[')
            g_strlcpy(out->from_rdns, out->from_helo, sizeof out->from_rdns);
        if (qmail_helo) {
            /* "(HELO x)" then "(ip)" */
            const char *close = memchr(c, ')', (size_t)(cl_end - c));
            const char *q = close ? close + 1 : cl_end;
            while (q < cl_end && g_ascii_isspace(*q))
                q++;
            if (q < cl_end && *q == '(') {
                char ip[64];
                q++;
                take_word(&q, cl_end, ip, sizeof ip);
                if (g_hostname_is_ip_address(ip))
                    g_strlcpy(out->from_ip, ip, sizeof out->from_ip);
            }
            if (out->from_helo[0] && out->from_helo[0] != '[' && strcmp(out->from_helo, "unknown") != 0)
                g_strlcpy(out->from_rdns, out->from_helo, sizeof out->from_rdns);
            c = cl_end;   /* nothing else to read in the from clause */
        }
        if (c < cl_end && *c == '(') {
            const char *close = memchr(c, ')', (size_t)(cl_end - c));
            const char *pe = close ? close : cl_end;
            const char *lb = memchr(c, '[', (size_t)(pe - c));
            const char *q = c + 1;
            if (lb == NULL && close && g_ascii_isdigit(c[1])) {
                /* qmail without HELO: "from REMOTEHOST (ip)" (qmail adds
                 * "(HELO x)" whenever the HELO differs).  Exchange writes
                 * the same shape with the HELO first: its name is no
                 * lookup, only the IP is kept. */
                bool exchange = bw_memcasestr(value, (size_t)(cl_end - value), "Microsoft SMTP") != NULL;
                char ip[64];
                take_word(&q, pe, ip, sizeof ip);
                if (g_hostname_is_ip_address(ip)) {
                    g_strlcpy(out->from_ip, ip, sizeof out->from_ip);
                    if (!exchange && out->from_helo[0] && out->from_helo[0] != '[' &&
                        strcmp(out->from_helo, "unknown") != 0)
                        g_strlcpy(out->from_rdns, out->from_helo, sizeof out->from_rdns);
                }
            } else if (!exim && lb != c + 1 && !bw_memcasestr(q, (size_t)(pe - q), "helo=")) {
                char w[256];
                take_word(&q, pe, w, sizeof w);
                if (w[0] && w[0] != '[' && strcmp(w, "unknown") != 0)
                    g_strlcpy(out->from_rdns, w, sizeof out->from_rdns);
            }
            if (lb) {
                const char *rb = memchr(lb, ']', (size_t)(pe - lb));
                if (rb && (size_t)(rb - lb - 1) < sizeof out->from_ip) {
                    memcpy(out->from_ip, lb + 1, (size_t)(rb - lb - 1));
                    out->from_ip[rb - lb - 1] = '\0';
                }
            }
        }
        if (out->from_ip[0] == '\0' && out->from_helo[0] == '[') {
            const char *rb = strchr(out->from_helo, ']');
            size_t n = rb ? (size_t)(rb - out->from_helo - 1) : 0;
            if (n > 0 && n < sizeof out->from_ip) {
                memcpy(out->from_ip, out->from_helo + 1, n);
                out->from_ip[n] = '\0';
            }
        }
    }
    if (by) {
        const char *c = by + 2;
        take_word(&c, cl_end, out->by, sizeof out->by);
    }
    const char *with = find_word(by ? by : value, cl_end, "with");
    if (with) {
        char w[64];
        const char *c = with + 4;
        take_word(&c, cl_end, w, sizeof w);
        /* RFC 3848: ESMTPA, ESMTPSA, LMTPA, LMTPSA mean SMTP AUTH */
        if (strcmp(w, "esmtpa") == 0 || strcmp(w, "esmtpsa") == 0 ||
            strcmp(w, "lmtpa") == 0 || strcmp(w, "lmtpsa") == 0 ||
            strcmp(w, "asmtp") == 0)
            out->authenticated = true;
        if (strcmp(w, "http") == 0 || strcmp(w, "https") == 0)
            out->http = true;
    }
    if (bw_memcasestr(value, (size_t)(cl_end - value), "authenticated sender") ||
        bw_memcasestr(value, (size_t)(cl_end - value), "(authenticated"))
        out->authenticated = true;
    return out->by[0] != '\0';
}

/* The sending host as the receiving server knows it: the reverse name it
 * looked up; the HELO name only for a hop from a private address (inside
 * one organisation), since anyone can say HELO smtp.yourprovider. */
static const char *
verified_from(const bw_hop_t *h)
{
    if (h->from_rdns[0])
        return h->from_rdns;
    if (h->from_ip[0] == '\0' || bw_ip_is_private(h->from_ip))
        return h->from_helo[0] != '[' ? h->from_helo : "";
    return "";
}

static bool
hop_from_provider(const bw_profile_t *p, const bw_hop_t *h)
{
    if (bw_profile_is_provider_host(p, verified_from(h)))
        return true;
    /* a hop inside the provider: by a provider host, from a private address */
    return h->from_ip[0] && bw_ip_is_private(h->from_ip) && bw_profile_is_provider_host(p, h->by);
}

/* Two host names of one organisation: equal, or the same parent domain. */
static bool
hosts_related(const char *a, const char *b)
{
    if (a == NULL || b == NULL || *a == '\0' || *b == '\0' || *a == '[' || *b == '[')
        return false;
    if (g_ascii_strcasecmp(a, b) == 0)
        return true;
    g_autofree char *pa = parent_domain(a), *pb = parent_domain(b);
    return pa && pb && g_ascii_strcasecmp(pa, pb) == 0;
}

bw_origin_t
bw_origin_of(const bw_profile_t *p, const bw_original_t *o, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (o == NULL)
        return BW_ORIGIN_UNKNOWN;
    guint n = o->received ? MIN(o->received->len, BW_ENGINE_MAX_HOPS) : 0;
    bool trusted = true;       /* the chain of custody reaches this hop */
    bool forged_provider_hop = false;
    bool any_hop = false;
    /* a password submission the chain of custody reaches, at a server the
     * profile cannot place (no sent copies to learn the provider from) */
    bool unplaced_submission = false;
    bool knows_provider = bw_profile_knows_provider(p);
    for (guint i = 0; i < n; i++) {
        bw_hop_t h;
        if (!bw_hop_parse(g_ptr_array_index(o->received, i), &h))
            continue;
        any_hop = true;
        bool by_provider = bw_profile_is_provider_host(p, h.by);
        if (by_provider && (h.authenticated || h.http)) {
            if (trusted) {
                *why = h.http ? "the original was submitted through the webmail of this mailbox's provider"
                              : "the original was submitted to this mailbox's provider with a password (authenticated SMTP)";
                return BW_ORIGIN_OWN_ACCOUNT;
            }
            forged_provider_hop = true;
        } else if (trusted && !knows_provider && (h.authenticated || h.http) && !by_provider) {
            unplaced_submission = true;
        }
        /* Custody passes down when this hop got the message from the
         * provider, or from the server that wrote the next hop (relays
         * inside the receiving organisation); a hop from anywhere else ends
         * it, so a provider hop a spam tool wrote below it is never
         * reached. */
        if (trusted && !hop_from_provider(p, &h)) {
            bw_hop_t next;
            bool cont = false;
            for (guint j = i + 1; j < n; j++)
                if (bw_hop_parse(g_ptr_array_index(o->received, j), &next)) {
                    cont = hosts_related(verified_from(&h), next.by);
                    break;
                }
            if (!cont)
                trusted = false;
        }
    }
    if (forged_provider_hop) {
        *why = "a Received line naming this mailbox's provider was forged: the server above it got the message from elsewhere";
        return BW_ORIGIN_FOREIGN;
    }
    if (unplaced_submission) {
        /* A real server wrote this hop (custody reaches it) after a login:
         * the owner's provider or someone else's account.  Without sent
         * mail, or relays in the config, the provider is unknown, and
         * calling the owner's own submission "foreign" would turn every
         * real bounce of a mailbox without Sent copies into backscatter. */
        *why = "the original was submitted with a password to a mail server, as mail from an account is; "
               "without copies of sent mail (or bouncewatch.relays) it cannot be checked that this is "
               "this mailbox's provider";
        return BW_ORIGIN_UNKNOWN;
    }
    if (any_hop) {
        *why = knows_provider ? "the original never passed through this mailbox's provider"
                              : "the original reached the recipient's server without any login "
                                "(no authenticated SMTP, no webmail): it was not sent from an account";
        return BW_ORIGIN_FOREIGN;
    }
    /* Headers without Received lines: DKIM of the provider is weak evidence
     * (we cannot verify the signature here), a foreign DKIM domain is good
     * evidence of foreign sending. */
    if (o->dkim_domain) {
        if (bw_profile_is_own_domain(p, o->dkim_domain)) {
            /* The signature cannot be checked in a report and spam tools
             * copy DKIM-Signature headers from real mail: it leans towards
             * the owner's mail, it does not show the account at work (a
             * compromise alarm needs the path). */
            *why = "the original carries a DKIM-Signature header of this mailbox's provider "
                   "(it cannot be verified in a report)";
            return BW_ORIGIN_UNKNOWN;
        }
        *why = "the original was signed by a domain that is not this mailbox's";
        return BW_ORIGIN_FOREIGN;
    }
    return BW_ORIGIN_UNKNOWN;
}
