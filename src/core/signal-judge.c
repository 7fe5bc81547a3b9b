/* signal-judge.c: stage 2 of the signals for received mail: is a message
 * a security notice of the owner's own provider, an imitation of one, or
 * ordinary mail; is it a person answering mail the owner never sent.
 *
 * Who really sent a notice is read from what the owner's own provider
 * recorded when the message arrived, never from what the message says
 * about itself:
 *   - the Received chain from the top: the hops written by the provider's
 *     hosts, down to the one that took the message in.  A notice is
 *     delivered by the provider when that hop got it from another host of
 *     the provider (its reverse name under a provider domain, or a private
 *     address inside its network) or generated it there; a hop from any
 *     other host means the message came from outside, whatever the lines
 *     below it (written by the sender) claim;
 *   - the topmost Authentication-Results header whose authserv-id is one of
 *     the provider's hosts and that sits above the first hop the provider
 *     did not write: the sender cannot put one above the provider's own,
 *     and one below the entry hop is the sender's word.  DKIM pass with
 *     d= of the provider, or SPF pass for the provider's domain, and no
 *     DMARC failure;
 *   - the From address at a provider domain, from a machine (a role
 *     address such as no-reply@ or security@, or a domain of the provider
 *     where people have no mailboxes, accounts.example.com): a fellow user
 *     of a big provider passes every other test.
 * An imitation is a notice-like text (a security topic, or bait) that
 * claims the provider without being it: a look-alike domain (the
 * provider's name inside another registrable domain, or one letter off),
 * the provider's exact address delivered from outside or failing
 * authentication, or a display name that claims the provider while the
 * address is elsewhere (or an ordinary account of it). */
#include "bw-signals-private.h"
#include <string.h>

/* ------------------------------------------------------------ the account */

struct bw_account {
    GPtrArray *owners;        /* lower-cased addresses, primary first */
    GPtrArray *user_domains;  /* the owner addresses' domains: people have mailboxes there */
    GPtrArray *domains;       /* the provider's domains, sorted, distinct */
    GPtrArray *brands;        /* their distinctive names ("mailhost", "google") */
};

static void
add_distinct(GPtrArray *a, const char *s)
{
    for (guint i = 0; i < a->len; i++)
        if (strcmp(g_ptr_array_index(a, i), s) == 0)
            return;
    g_ptr_array_add(a, g_strdup(s));
}

static gint
cmp_strp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
plausible_domain(const char *d)
{
    return d && strchr(d, '.') != NULL && strlen(d) <= 253 && !g_hostname_is_ip_address(d);
}

bw_account_t *
bw_account_new(const char *const *owners, const char *const *provider_domains)
{
    bw_account_t *a = g_new0(bw_account_t, 1);
    a->owners = g_ptr_array_new_with_free_func(g_free);
    a->user_domains = g_ptr_array_new_with_free_func(g_free);
    a->domains = g_ptr_array_new_with_free_func(g_free);
    a->brands = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; owners && owners[i] && i < 256; i++) {
        char *o = bw_address_normalize(owners[i]);
        if (o == NULL)
            continue;
        bool dup = false;
        for (guint k = 0; k < a->owners->len && !dup; k++)
            dup = strcmp(g_ptr_array_index(a->owners, k), o) == 0;
        if (dup) {
            g_free(o);
            continue;
        }
        g_ptr_array_add(a->owners, o);
        g_autofree char *d = bw_sig_domain_of(o);
        if (plausible_domain(d)) {
            add_distinct(a->user_domains, d);
            add_distinct(a->domains, d);
        }
    }
    for (unsigned i = 0; provider_domains && provider_domains[i] && i < 256; i++) {
        g_autofree char *d = g_ascii_strdown(provider_domains[i], -1);
        g_strstrip(d);
        if (plausible_domain(d))
            add_distinct(a->domains, d);
    }
    /* whole provider families */
    for (size_t f = 0; f < bw_provider_families_count; f++) {
        const char *const *fd = bw_provider_families[f].domains;
        bool member = false;
        for (unsigned k = 0; fd[k] && !member; k++)
            for (guint i = 0; i < a->domains->len && !member; i++)
                member = bw_sig_host_under(g_ptr_array_index(a->domains, i), fd[k]);
        for (unsigned k = 0; member && fd[k]; k++)
            add_distinct(a->domains, fd[k]);
    }
    g_ptr_array_sort(a->domains, cmp_strp);
    for (guint i = 0; i < a->domains->len; i++) {
        g_autofree char *reg = bw_sig_registrable(g_ptr_array_index(a->domains, i));
        g_autofree char *brand = bw_sig_brand(reg);
        if (brand)
            add_distinct(a->brands, brand);
    }
    g_ptr_array_sort(a->brands, cmp_strp);
    return a;
}

bw_account_t *
bw_account_from_profile(const bw_profile_t *p)
{
    g_autoptr(GPtrArray) owners = g_ptr_array_new();
    /* the profile's primary first, then the others */
    const char *prim = bw_profile_primary(p);
    if (prim)
        g_ptr_array_add(owners, (gpointer)prim);
    g_autoptr(GPtrArray) doms = bw_profile_provider_domains(p);
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    for (guint i = 0; doms && i < doms->len; i++)
        g_ptr_array_add(all, g_ptr_array_index(doms, i));
    g_ptr_array_add(all, NULL);
    g_ptr_array_add(owners, NULL);
    bw_account_t *a = bw_account_new((const char *const *)owners->pdata, (const char *const *)all->pdata);
    return a;
}

void
bw_account_free(bw_account_t *a)
{
    if (a == NULL)
        return;
    g_ptr_array_unref(a->owners);
    g_ptr_array_unref(a->user_domains);
    g_ptr_array_unref(a->domains);
    g_ptr_array_unref(a->brands);
    g_free(a);
}

char *
bw_account_key(const bw_account_t *a)
{
    GString *s = g_string_new("signals-1");
    for (guint i = 0; i < a->owners->len; i++)
        g_string_append_printf(s, "|o:%s", (const char *)g_ptr_array_index(a->owners, i));
    for (guint i = 0; i < a->domains->len; i++)
        g_string_append_printf(s, "|d:%s", (const char *)g_ptr_array_index(a->domains, i));
    char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, s->str, (gssize)s->len);
    g_string_free(s, TRUE);
    sum[16] = '\0';
    return sum;
}

bool
bw_account_is_owner(const bw_account_t *a, const char *address)
{
    for (guint i = 0; a && address && i < a->owners->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(a->owners, i), address) == 0)
            return true;
    return false;
}

bool
bw_account_is_provider_domain(const bw_account_t *a, const char *host)
{
    if (a == NULL || host == NULL || *host == '\0' || *host == '[')
        return false;
    /* a fully qualified name ends with a dot ("mail-sor-f69.google.com.") */
    char buf[256];
    size_t n = strnlen(host, sizeof buf);
    if (n >= sizeof buf)
        return false;
    memcpy(buf, host, n);
    while (n > 0 && buf[n - 1] == '.')
        n--;
    buf[n] = '\0';
    for (guint i = 0; i < a->domains->len; i++)
        if (bw_sig_host_under(buf, g_ptr_array_index(a->domains, i)))
            return true;
    return false;
}

const char *
bw_account_primary(const bw_account_t *a)
{
    return a && a->owners->len ? g_ptr_array_index(a->owners, 0) : NULL;
}

static bool
is_user_domain(const bw_account_t *a, const char *domain)
{
    for (guint i = 0; domain && i < a->user_domains->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(a->user_domains, i), domain) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------ signals */

static bw_signal_t *
signal_new(bw_signal_kind_t kind)
{
    bw_signal_t *s = g_new0(bw_signal_t, 1);
    s->kind = kind;
    s->two_factor = -1;
    s->evidence = g_ptr_array_new_with_free_func(g_free);
    return s;
}

void
bw_signal_free(bw_signal_t *s)
{
    if (s == NULL)
        return;
    g_free(s->message_id);
    g_free(s->file);
    g_free(s->summary);
    if (s->evidence)
        g_ptr_array_unref(s->evidence);
    g_free(s->device);
    g_free(s->place);
    g_free(s->ip);
    g_free(s->time);
    g_free(s->address);
    g_free(s->limit);
    g_free(s->account);
    g_free(s->replies_to);
    g_free(s->from);
    if (s->members)
        g_ptr_array_unref(s->members);
    g_free(s);
}

void
bw_phish_free(bw_phish_t *p)
{
    if (p == NULL)
        return;
    g_free(p->message_id);
    g_free(p->file);
    g_free(p->from);
    g_free(p->claimed);
    if (p->evidence)
        g_ptr_array_unref(p->evidence);
    g_free(p);
}

gint
bw_signal_compare(gconstpointer a, gconstpointer b)
{
    const bw_signal_t *x = *(const bw_signal_t *const *)a, *y = *(const bw_signal_t *const *)b;
    gint64 tx = x->kind == BW_SIGNAL_SENT_ANOMALY ? x->start : x->date_unix;
    gint64 ty = y->kind == BW_SIGNAL_SENT_ANOMALY ? y->start : y->date_unix;
    if (tx != ty)
        return tx < ty ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    const char *mx = x->message_id ? x->message_id : (x->members && x->members->len ? g_ptr_array_index(x->members, 0) : "");
    const char *my = y->message_id ? y->message_id : (y->members && y->members->len ? g_ptr_array_index(y->members, 0) : "");
    return strcmp(mx, my);
}

/* ------------------------------------------------------------ delivery */

typedef struct {
    bool by_provider;          /* the provider's hosts delivered it (custody from the top) */
    bool unverified;           /* ... but a hop inside rests on a HELO name alone */
    bool from_outside;         /* a provider host took it in from another host */
    bool unknown;              /* no hop of the provider at all */
    char entry[160];           /* where it came from (outside), or the last provider host */
    unsigned entry_pos;        /* field position of the lowest hop the provider wrote */
    unsigned zone_end;         /* field position of the first hop the provider did not write */
    const bw_sig_auth_t *auth; /* the provider's own Authentication-Results, or NULL */
} delivery_t;

/* d->entry = text, valid UTF-8 and cut at a character boundary: it goes
 * into the evidence of the JSON document (a hop's names are the sender's
 * bytes, and a cut in the middle of a character is no UTF-8 either). */
static void
set_entry(delivery_t *d, const char *text)
{
    g_autofree char *v = g_utf8_make_valid(text ? text : "", -1);
    size_t n = strlen(v);
    if (n >= sizeof d->entry) {
        n = sizeof d->entry - 1;
        while (n > 0 && ((guchar)v[n] & 0xC0) == 0x80)
            n--;   /* v[n] starts the character that does not fit */
    }
    memcpy(d->entry, v, n);
    d->entry[n] = '\0';
}

typedef enum { HOP_OUTSIDE = 0, HOP_INTERNAL, HOP_CLAIMED } hop_from_t;

/* Where a hop of the provider got the message from: a host of the
 * provider (its reverse name, or a private address inside its network, or
 * a program on the host itself), a host that only SAYS it is one (a HELO
 * name, which Exchange records without a lookup), or outside. */
static hop_from_t
hop_from(const bw_account_t *a, const bw_sig_hop_t *h)
{
    if (!h->has_from)
        return HOP_INTERNAL;   /* generated on the host itself */
    if (h->from_ip && bw_ip_is_private(h->from_ip))
        return HOP_INTERNAL;   /* inside the provider's network */
    if (h->from_rdns)
        return bw_account_is_provider_domain(a, h->from_rdns) ? HOP_INTERNAL : HOP_OUTSIDE;
    /* a local program on the host ("from mail by mx.example with local",
     * "from userid 33"): a name without a dot and no address */
    if (h->from_ip == NULL && h->from_helo && strchr(h->from_helo, '.') == NULL && h->from_helo[0] != '[')
        return HOP_INTERNAL;
    if (h->from_helo && bw_account_is_provider_domain(a, h->from_helo))
        return h->from_ip == NULL ? HOP_INTERNAL : HOP_CLAIMED;
    return HOP_OUTSIDE;
}

static const char *
hop_from_name(const bw_sig_hop_t *h)
{
    if (h->from_rdns)
        return h->from_rdns;
    if (h->from_helo)
        return h->from_helo;
    return h->from_ip ? h->from_ip : "?";
}

static void
analyse_delivery(const bw_mailfacts_t *m, const bw_account_t *a, delivery_t *d)
{
    memset(d, 0, sizeof *d);
    d->zone_end = G_MAXUINT;
    d->entry_pos = G_MAXUINT;
    guint n = m->hops->len;
    guint zs = n;
    for (guint i = 0; i < n; i++) {
        const bw_sig_hop_t *h = &g_array_index(m->hops, bw_sig_hop_t, i);
        if (h->by && bw_account_is_provider_domain(a, h->by)) {
            zs = i;
            break;
        }
        /* above the provider: only the owner's own retrieval (a local
         * program fetching from the provider) may write a hop */
        bool local = h->by == NULL || strchr(h->by, '.') == NULL || strcmp(h->by, "localhost") == 0 ||
                     hop_from(a, h) == HOP_INTERNAL;
        if (!local) {
            d->unknown = true;
            return;
        }
    }
    if (zs == n) {
        d->unknown = true;
        return;
    }
    for (guint j = zs; j < n; j++) {
        const bw_sig_hop_t *h = &g_array_index(m->hops, bw_sig_hop_t, j);
        if (h->by == NULL || !bw_account_is_provider_domain(a, h->by)) {
            /* a hop the provider did not write below one that says it came
             * from the provider: the chain ends inside the provider */
            d->by_provider = true;
            d->zone_end = h->pos;
            return;
        }
        d->entry_pos = h->pos;
        hop_from_t hf = hop_from(a, h);
        if (hf == HOP_OUTSIDE) {
            d->from_outside = true;
            if (h->from_ip && h->from_rdns) {
                g_autofree char *e = g_strdup_printf("%s [%s]", h->from_rdns, h->from_ip);
                set_entry(d, e);
            } else {
                set_entry(d, hop_from_name(h));
            }
            d->zone_end = j + 1 < n ? g_array_index(m->hops, bw_sig_hop_t, j + 1).pos : G_MAXUINT;
            return;
        }
        if (hf == HOP_CLAIMED)
            d->unverified = true;
        set_entry(d, h->has_from ? hop_from_name(h) : h->by);
    }
    d->by_provider = true;
}

/* The provider's own Authentication-Results: the topmost one above the
 * first hop the provider did not write whose authserv-id is a provider
 * host; one without an authserv-id (Exchange Online) only above the hop
 * that took the message in (written after it arrived). */
static void
find_auth(const bw_mailfacts_t *m, const bw_account_t *a, delivery_t *d)
{
    for (guint i = 0; i < m->auths->len; i++) {
        const bw_sig_auth_t *au = &g_array_index(m->auths, bw_sig_auth_t, i);
        if (au->pos >= d->zone_end)
            break;
        if (au->authserv_id ? bw_account_is_provider_domain(a, au->authserv_id)
                            : au->pos < d->entry_pos && d->entry_pos != G_MAXUINT) {
            d->auth = au;
            return;
        }
    }
}

typedef struct {
    bool pass, bad, none;
    const char *dkim_d, *spf_domain;
    const char *why_bad;
} auth_verdict_t;

static bool
result_is(const bw_sig_result_t *r, const char *method, const char *result)
{
    return strcmp(r->method, method) == 0 && strcmp(r->result, result) == 0;
}

static void
judge_auth(const bw_account_t *a, const delivery_t *d, const char *from_dom, auth_verdict_t *v)
{
    memset(v, 0, sizeof *v);
    if (d->auth == NULL) {
        v->none = true;
        return;
    }
    bool dkim_pass = false, spf_pass = false, dmarc_fail = false, spf_fail = false, dkim_fail = false, any = false;
    for (unsigned i = 0; i < d->auth->n_results; i++) {
        const bw_sig_result_t *r = &d->auth->results[i];
        bool provider = r->domain && (bw_account_is_provider_domain(a, r->domain) ||
                                      (from_dom && bw_sig_host_under(r->domain, from_dom)));
        if (strcmp(r->method, "dkim") == 0 || strcmp(r->method, "spf") == 0)
            any = true;
        if (result_is(r, "dkim", "pass") && provider) {
            dkim_pass = true;
            v->dkim_d = r->domain;
        } else if (strcmp(r->method, "dkim") == 0 && (strcmp(r->result, "fail") == 0 || strcmp(r->result, "permerror") == 0) &&
                   provider) {
            dkim_fail = true;
        } else if (result_is(r, "spf", "pass") && provider) {
            spf_pass = true;
            v->spf_domain = r->domain;
        } else if (strcmp(r->method, "spf") == 0 && provider &&
                   (strcmp(r->result, "fail") == 0 || strcmp(r->result, "softfail") == 0)) {
            spf_fail = true;
        } else if (strcmp(r->method, "dmarc") == 0 &&
                   (strcmp(r->result, "fail") == 0 || strcmp(r->result, "quarantine") == 0 ||
                    strcmp(r->result, "reject") == 0)) {
            dmarc_fail = true;
        }
    }
    if (dmarc_fail)
        v->why_bad = "DMARC failed";
    else if (!dkim_pass && spf_fail)
        v->why_bad = "SPF failed for the provider's domain and no DKIM signature of the provider passed";
    else if (!dkim_pass && !spf_pass && dkim_fail)
        v->why_bad = "the provider's DKIM signature failed";
    v->bad = v->why_bad != NULL;
    v->pass = !v->bad && (dkim_pass || spf_pass);
    v->none = !any;
}

/* ------------------------------------------------------------ claims */

/* Words a provider's machine addresses are made of. */
static const char *const role_parts[] = {
    "no", "not", "do", "dont", "reply", "noreply", "donotreply", "security", "secure", "account", "accounts",
    "alert", "alerts", "notification", "notifications", "notify", "notice", "notices", "info", "information",
    "support", "service", "services", "team", "mailer", "daemon", "postmaster", "abuse", "protection",
    "verify", "verification", "system", "admin", "administrator", "help", "news", "id", "auto", "safety",
    "mail", "message", "messages", "center", "centre", "online", "customer", "care", "webmaster", "hostmaster",
    "bounce", "bounces", "robot", "identity", "access", "login", "signin", "password", "msg", "ops", "sec",
};

/* The local part (without separators and digits) is made of role words
 * only: "security-noreply", "account-security-noreply", "mailer-daemon";
 * not "google.security.alerts" or "jane.doe". */
static bool
strict_role_local(const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    if (at == NULL || at == address || at - address > 64)
        return false;
    char flat[72];
    size_t n = 0;
    for (const char *c = address; c < at; c++) {
        char ch = g_ascii_tolower(*c);
        if (g_ascii_isalpha(ch))
            flat[n++] = ch;
        else if (!(ch == '-' || ch == '.' || ch == '_' || ch == '+' || g_ascii_isdigit(ch)))
            return false;
    }
    flat[n] = '\0';
    if (n == 0)
        return false;
    /* can flat[0..n) be cut into role words?  ok[i]: flat[0..i) can */
    bool ok[72] = { true };
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        for (size_t w = 0; w < G_N_ELEMENTS(role_parts); w++) {
            size_t wl = strlen(role_parts[w]);
            if (i + wl <= n && memcmp(flat + i, role_parts[w], wl) == 0)
                ok[i + wl] = true;
        }
    }
    return ok[n];
}

/* The labels of a host split at dots and dashes: does one equal `brand`? */
static bool
has_brand_token(const char *s, const char *brand)
{
    size_t bl = strlen(brand);
    size_t sl = strnlen(s, 512);
    for (size_t i = 0; i + bl <= sl; i++) {
        if (g_ascii_strncasecmp(s + i, brand, bl) != 0)
            continue;
        bool left = i == 0 || !g_ascii_isalnum(s[i - 1]);
        bool right = i + bl == sl || !g_ascii_isalnum(s[i + bl]);
        if (left && right)
            return true;
    }
    return false;
}

/* Letters and digits that look alike folded to one: "rn" reads as "m",
 * "vv" as "w", "0" as "o", "1" and "l" as "i"... */
static char *
fold_glyphs(const char *s)
{
    GString *g = g_string_new(NULL);
    for (const char *c = s; *c && g->len < 128; c++) {
        if (c[0] == 'r' && c[1] == 'n') {
            g_string_append_c(g, 'm');
            c++;
        } else if (c[0] == 'v' && c[1] == 'v') {
            g_string_append_c(g, 'w');
            c++;
        } else if (c[0] == 'c' && c[1] == 'l') {
            g_string_append_c(g, 'd');
            c++;
        } else {
            char ch = *c;
            switch (ch) {
            case '0': ch = 'o'; break;
            case '1': case 'l': ch = 'i'; break;
            case '3': ch = 'e'; break;
            case '5': ch = 's'; break;
            case '4': ch = 'a'; break;
            default: break;
            }
            g_string_append_c(g, ch);
        }
    }
    return g_string_free(g, FALSE);
}

/* A look-alike of the provider's domain: not the provider's, but its name
 * inside the registrable domain, or one letter off it. */
static const char *
lookalike_brand(const bw_account_t *a, const char *domain)
{
    if (domain == NULL || bw_account_is_provider_domain(a, domain))
        return NULL;
    g_autofree char *reg = bw_sig_registrable(domain);
    if (reg == NULL)
        return NULL;
    const char *dot = strchr(reg, '.');
    g_autofree char *label = g_strndup(reg, dot ? (gsize)(dot - reg) : strlen(reg));
    for (guint i = 0; i < a->brands->len; i++) {
        const char *brand = g_ptr_array_index(a->brands, i);
        size_t bl = strlen(brand);
        /* anywhere in the host's labels as a token: google-verify.example */
        if (has_brand_token(domain, brand))
            return brand;
        /* inside the registrable label: securegoogle.example */
        if (bl >= 6 && strstr(label, brand) != NULL)
            return brand;
        /* typo-squats: gooogle, and look-alike letters: rnailhost, g00gle */
        if (bl >= 5) {
            g_autofree char *fl = fold_glyphs(label), *fb = fold_glyphs(brand);
            if (bw_edit_distance(fl, fb, 1) <= 1)
                return brand;
        }
    }
    return NULL;
}

/* The display name claims the provider: its name, or an address or a
 * domain of the provider written in it. */
static const char *
display_claims(const bw_account_t *a, const char *display)
{
    if (display == NULL || *display == '\0')
        return NULL;
    for (guint i = 0; i < a->brands->len; i++)
        if (has_brand_token(display, g_ptr_array_index(a->brands, i)))
            return g_ptr_array_index(a->brands, i);
    for (guint i = 0; i < a->domains->len; i++) {
        const char *d = g_ptr_array_index(a->domains, i);
        const char *f = bw_memcasestr(display, strlen(display), d);
        if (f && (f == display || !g_ascii_isalnum(f[-1])))
            return d;
    }
    return NULL;
}

/* ------------------------------------------------------------ notices */

/* A delivery report or an automatic reply: multipart/report, a mailer
 * daemon's or postmaster's address, the null return path. */
static bool
report_like(const bw_mailfacts_t *m)
{
    if (m->report || (m->return_path && *m->return_path == '\0'))
        return true;
    const char *at = m->from_addr ? strrchr(m->from_addr, '@') : NULL;
    if (at == NULL)
        return false;
    size_t n = (size_t)(at - m->from_addr);
    return (n == 13 && g_ascii_strncasecmp(m->from_addr, "mailer-daemon", 13) == 0) ||
           (n == 10 && g_ascii_strncasecmp(m->from_addr, "postmaster", 10) == 0);
}

static const char *
kind_phrase(bw_signal_kind_t k, int two_factor)
{
    switch (k) {
    case BW_SIGNAL_SIGN_IN_ALERT: return "a new sign-in";
    case BW_SIGNAL_PASSWORD_CHANGED: return "a password change";
    case BW_SIGNAL_RECOVERY_CHANGED: return "a changed recovery address";
    case BW_SIGNAL_FORWARDING_ADDED: return "forwarding turned on";
    case BW_SIGNAL_TWO_FACTOR_CHANGED:
        return two_factor == 0 ? "2-step verification turned off"
               : two_factor == 1 ? "2-step verification turned on" : "2-step verification changed";
    case BW_SIGNAL_SENDING_BLOCKED: return "sending limited for spam";
    default: return "the account";
    }
}

/* A machine address of the provider itself (no-reply@, security@): named
 * in a notice, it is the sender, not a forwarding target. */
static bool
provider_role_address(const bw_account_t *a, const char *address)
{
    g_autofree char *d = bw_sig_domain_of(address);
    return d && bw_account_is_provider_domain(a, d) && bw_sig_is_role_local(address);
}

/* The owner address a notice is about: one it was sent to, else one it
 * names, else the primary. */
static const char *
notice_account(const bw_mailfacts_t *m, const bw_account_t *a)
{
    for (guint i = 0; i < m->to->len; i++)
        if (bw_account_is_owner(a, g_ptr_array_index(m->to, i)))
            return g_ptr_array_index(m->to, i);
    for (guint i = 0; i < m->text_addresses->len; i++)
        if (bw_account_is_owner(a, g_ptr_array_index(m->text_addresses, i)))
            return g_ptr_array_index(m->text_addresses, i);
    return bw_account_primary(a);
}

static char *
notice_summary(const bw_signal_t *s)
{
    const char *acc = s->account ? s->account : "the account";
    switch (s->kind) {
    case BW_SIGNAL_SIGN_IN_ALERT: {
        GString *g = g_string_new(NULL);
        g_string_printf(g, "New sign-in to %s", acc);
        const char *parts[] = { s->device, s->place, s->ip };
        bool first = true;
        for (unsigned i = 0; i < G_N_ELEMENTS(parts); i++) {
            if (parts[i] == NULL)
                continue;
            g_string_append(g, first ? ": " : "; ");
            g_string_append(g, parts[i]);
            first = false;
        }
        return g_string_free(g, FALSE);
    }
    case BW_SIGNAL_PASSWORD_CHANGED:
        return g_strdup_printf("The password of %s was changed", acc);
    case BW_SIGNAL_RECOVERY_CHANGED:
        return s->address ? g_strdup_printf("The recovery address of %s was changed to %s", acc, s->address)
                          : g_strdup_printf("The recovery address of %s was changed", acc);
    case BW_SIGNAL_FORWARDING_ADDED:
        return s->address ? g_strdup_printf("Mail to %s is forwarded to %s", acc, s->address)
                          : g_strdup_printf("Forwarding was turned on for %s", acc);
    case BW_SIGNAL_TWO_FACTOR_CHANGED:
        return g_strdup_printf(s->two_factor == 0 ? "2-step verification of %s was turned off"
                               : s->two_factor == 1 ? "2-step verification of %s was turned on"
                                                    : "2-step verification of %s was changed", acc);
    case BW_SIGNAL_SENDING_BLOCKED:
        return s->limit ? g_strdup_printf("The provider limited sending from %s: %s", acc, s->limit)
                        : g_strdup_printf("The provider limited sending from %s", acc);
    default:
        return g_strdup(acc);
    }
}

static void
add_link_evidence(const bw_mailfacts_t *m, const bw_account_t *a, GPtrArray *ev)
{
    GString *s = NULL;
    for (guint i = 0; i < m->url_domains->len; i++) {
        const char *d = g_ptr_array_index(m->url_domains, i);
        if (bw_account_is_provider_domain(a, d))
            continue;
        if (s == NULL)
            s = g_string_new("its links lead to ");
        else
            g_string_append(s, ", ");
        g_string_append(s, d);
    }
    if (s)
        g_ptr_array_add(ev, g_string_free(s, FALSE));
}

bw_notice_class_t
bw_notice_judge(const bw_mailfacts_t *m, const bw_account_t *a, const char *file,
                bw_signal_t **signal_out, bw_phish_t **phish_out)
{
    if (signal_out)
        *signal_out = NULL;
    if (phish_out)
        *phish_out = NULL;
    if (m == NULL || a == NULL || m->from_addr == NULL)
        return BW_NOTICE_ORDINARY;
    /* a notice topic, or bait in a message that is no automatic reply
     * (a report quotes the spam it bounces: its links are not the
     * report's) */
    if (m->topic == BW_SIGNAL_NONE && !(m->bait && !m->auto_submitted && !m->report))
        return BW_NOTICE_ORDINARY;
    if (bw_account_is_owner(a, m->from_addr))
        return BW_NOTICE_ORDINARY;     /* the owner's own mail is no notice */
    g_autofree char *from_dom = bw_sig_domain_of(m->from_addr);
    bool provider_from = from_dom && bw_account_is_provider_domain(a, from_dom);
    bool role = bw_sig_is_role_local(m->from_addr);
    bool user_dom = is_user_domain(a, from_dom);
    delivery_t d;
    analyse_delivery(m, a, &d);
    find_auth(m, a, &d);
    auth_verdict_t av;
    judge_auth(a, &d, from_dom, &av);

    /* On a domain where people have mailboxes (the owner's own, gmail.com)
     * only a pure role address is the provider's machine: anyone can
     * open "google.security.alerts@gmail.com". */
    bool machine = user_dom ? strict_role_local(m->from_addr) : true;
    /* a path that rests on a HELO name needs the provider's DKIM pass */
    bool path_ok = d.by_provider && (!d.unverified || (av.pass && av.dkim_d != NULL));
    bool genuine = provider_from && path_ok && !av.bad && (av.pass || av.none);
    if (genuine && machine) {
        if (m->topic == BW_SIGNAL_NONE)
            return BW_NOTICE_ORDINARY;
        /* the provider's newsletters and bills say "account" and "sign in"
         * in passing: a list or chatter needs a strong reading */
        if ((m->list || m->chatter) && m->topic_score < 6)
            return BW_NOTICE_ORDINARY;
        /* A delivery report of the provider passes on what the remote
         * server said ("sending rate limited, try later"): only the
         * provider's own refusal of the account, in the words that say
         * so ("blocked from sending", "bad outbound sender"), is a signal;
         * a report is never a notice of another kind. */
        if (report_like(m) && !(m->topic == BW_SIGNAL_SENDING_BLOCKED && m->topic_strong))
            return BW_NOTICE_ORDINARY;
        if (signal_out) {
            bw_signal_t *s = signal_new(m->topic);
            s->message_id = g_strdup(m->message_id);
            s->file = g_strdup(file);
            s->date_unix = m->date_unix;
            s->account = g_strdup(notice_account(m, a));
            s->device = g_strdup(m->device);
            s->place = g_strdup(m->place);
            s->ip = g_strdup(m->ip);
            s->time = g_strdup(m->time);
            s->limit = g_strdup(m->limit);
            s->two_factor = m->topic == BW_SIGNAL_TWO_FACTOR_CHANGED ? m->two_factor : -1;
            if (m->topic == BW_SIGNAL_FORWARDING_ADDED || m->topic == BW_SIGNAL_RECOVERY_CHANGED) {
                for (guint i = 0; i < m->topic_addresses->len && s->address == NULL; i++) {
                    const char *ad = g_ptr_array_index(m->topic_addresses, i);
                    if (!bw_account_is_owner(a, ad) && !provider_role_address(a, ad))
                        s->address = g_strdup(ad);
                }
                if (s->address == NULL && m->phone)
                    s->address = g_strdup(m->phone);
            }
            s->summary = notice_summary(s);
            g_ptr_array_add(s->evidence, g_strdup_printf("from the provider's own domain %s (%s)", from_dom,
                                                         m->from_addr));
            if (av.pass) {
                GString *g = g_string_new(NULL);
                g_string_printf(g, "authenticated as %s recorded it on arrival:", d.auth->authserv_id);
                if (av.dkim_d)
                    g_string_append_printf(g, " DKIM d=%s pass", av.dkim_d);
                if (av.spf_domain)
                    g_string_append_printf(g, "%s SPF pass for %s", av.dkim_d ? "," : "", av.spf_domain);
                g_ptr_array_add(s->evidence, g_string_free(g, FALSE));
            } else {
                g_ptr_array_add(s->evidence, g_strdup("no authentication results of the provider recorded; "
                                                      "judged by the delivery path alone"));
            }
            g_ptr_array_add(s->evidence, g_strdup_printf("delivered by the provider's own servers (%s)",
                                                         d.entry[0] ? d.entry : "inside its network"));
            g_ptr_array_add(s->evidence, g_strdup_printf("the text reports %s", kind_phrase(m->topic, m->two_factor)));
            *signal_out = s;
        }
        return BW_NOTICE_SIGNAL;
    }

    /* an imitation? it must look like a notice and claim the provider */
    const char *tell = NULL;
    g_autofree char *claimed = NULL;
    GPtrArray *ev = g_ptr_array_new_with_free_func(g_free);
    const char *brand = lookalike_brand(a, from_dom);
    const char *disp = display_claims(a, m->from_display);
    if (brand) {
        tell = "lookalike";
        claimed = g_strdup(from_dom);
        g_ptr_array_add(ev, g_strdup_printf("the sender's domain %s imitates the provider's name \"%s\" but is "
                                            "not the provider's", from_dom, brand));
    } else if (provider_from && (!path_ok || av.bad) && (role || disp || !user_dom)) {
        tell = "forged";
        claimed = g_strdup(m->from_addr);
        if (av.bad)
            g_ptr_array_add(ev, g_strdup_printf("the provider's address %s is forged: %s as %s recorded it on arrival",
                                                m->from_addr, av.why_bad, d.auth->authserv_id));
        if (d.from_outside)
            g_ptr_array_add(ev, g_strdup_printf("the provider's address %s is forged: the message came from outside "
                                                "the provider (%s)", m->from_addr, d.entry));
        else if (!path_ok)
            g_ptr_array_add(ev, g_strdup_printf("the provider's address %s is forged: no server of the provider "
                                                "delivered it", m->from_addr));
    } else if (disp && !provider_from) {
        tell = "display";
        claimed = g_strdup(m->from_display);
        g_ptr_array_add(ev, g_strdup_printf("the display name \"%s\" claims the provider, but the address is %s",
                                            m->from_display, m->from_addr));
    } else if (disp && provider_from && user_dom && !machine) {
        tell = "display";
        claimed = g_strdup(m->from_display);
        g_ptr_array_add(ev, g_strdup_printf("the display name \"%s\" claims the provider, but %s is an ordinary "
                                            "account", m->from_display, m->from_addr));
    }
    if (tell == NULL) {
        g_ptr_array_unref(ev);
        return BW_NOTICE_ORDINARY;
    }
    if (m->topic != BW_SIGNAL_NONE)
        g_ptr_array_add(ev, g_strdup_printf("it imitates a notice about %s", kind_phrase(m->topic, m->two_factor)));
    if (m->bait)
        g_ptr_array_add(ev, g_strdup("it presses for a click or a login"));
    add_link_evidence(m, a, ev);
    if (phish_out) {
        bw_phish_t *p = g_new0(bw_phish_t, 1);
        p->message_id = g_strdup(m->message_id);
        p->file = g_strdup(file);
        p->date_unix = m->date_unix;
        p->imitates = m->topic;
        p->tell = tell;
        p->from = g_strdup(m->from_addr);
        p->claimed = g_steal_pointer(&claimed);
        p->evidence = ev;
        *phish_out = p;
    } else {
        g_ptr_array_unref(ev);
    }
    return BW_NOTICE_PHISHING;
}

/* ------------------------------------------------------------ replies */

static const bw_signal_t *
anomaly_of(const bw_reply_context_t *ctx, const char *id)
{
    for (guint i = 0; ctx && ctx->anomalies && i < ctx->anomalies->len; i++) {
        const bw_signal_t *s = g_ptr_array_index(ctx->anomalies, i);
        if (s->kind != BW_SIGNAL_SENT_ANOMALY || s->members == NULL)
            continue;
        for (guint k = 0; k < s->members->len; k++)
            if (strcmp(g_ptr_array_index(s->members, k), id) == 0)
                return s;
    }
    return NULL;
}

bool
bw_reply_judge(const bw_mailfacts_t *m, const bw_account_t *a, const bw_reply_context_t *ctx,
               const char *file, bw_signal_t **out)
{
    if (out)
        *out = NULL;
    if (m == NULL || a == NULL || m->from_addr == NULL)
        return false;
    /* a person: not the owner, not a machine, not a list, not a report */
    if (bw_account_is_owner(a, m->from_addr) || m->auto_submitted || m->list || m->report ||
        bw_sig_is_role_local(m->from_addr) || (m->return_path && *m->return_path == '\0'))
        return false;
    const char *link = NULL;
    const bw_signal_t *run = NULL;
    if (m->in_reply_to && (run = anomaly_of(ctx, m->in_reply_to)) != NULL)
        link = m->in_reply_to;
    for (guint i = m->references->len; link == NULL && i > 0; i--) {
        const char *r = g_ptr_array_index(m->references, i - 1);
        if ((run = anomaly_of(ctx, r)) != NULL)
            link = r;
    }
    const bw_mailbox_ops_t *ops = ctx ? ctx->ops : NULL;
    bool absent_link = false;
    if (link == NULL && m->in_reply_to && m->asks && ops && ops->has_sent_mail && ops->has_message_id &&
        ops->has_sent_mail(ops->ctx)) {
        /* the answered message is nowhere in a mailbox that keeps Sent
         * copies, and the person wrote to the owner about it */
        bool to_owner = false;
        for (guint i = 0; i < m->to->len && !to_owner; i++)
            to_owner = bw_account_is_owner(a, g_ptr_array_index(m->to, i));
        if (to_owner && !ops->has_message_id(ops->ctx, m->in_reply_to) &&
            !(ops->sent_has_message_id && ops->sent_has_message_id(ops->ctx, m->in_reply_to, NULL))) {
            link = m->in_reply_to;
            absent_link = true;
        }
    }
    if (link == NULL)
        return false;
    if (out) {
        bw_signal_t *s = signal_new(BW_SIGNAL_HUMAN_REPLY);
        s->message_id = g_strdup(m->message_id);
        s->file = g_strdup(file);
        s->date_unix = m->date_unix;
        s->replies_to = g_strdup(link);
        s->from = g_strdup(m->from_addr);
        s->account = g_strdup(notice_account(m, a));
        s->summary = g_strdup_printf("%s answered %s, a message %s did not send", m->from_addr, link,
                                     s->account ? s->account : "the owner");
        if (run) {
            g_autofree char *when = bw_time_format(run->start, 0);
            g_ptr_array_add(s->evidence, g_strdup_printf("it answers %s, one of the %u messages in Sent that the "
                                                         "owner did not write (the run from %s)",
                                                         link, run->count, when ? when : "?"));
        } else if (absent_link) {
            g_ptr_array_add(s->evidence, g_strdup_printf("it answers %s, a message in the owner's name that is "
                                                         "not in the mailbox although Sent copies are kept", link));
        }
        if (m->asks)
            g_ptr_array_add(s->evidence, g_strdup("the person asks whether the owner really sent it"));
        *out = s;
    }
    return true;
}

/* ------------------------------------------------------------ JSON */


static void
add_time(JsonBuilder *b, const char *key, gint64 t, int off)
{
    json_builder_set_member_name(b, key);
    if (t == 0) {
        json_builder_add_null_value(b);
        return;
    }
    g_autofree char *s = bw_time_format(t, off);
    json_builder_add_string_value(b, s);
}

JsonNode *
bw_signal_to_json(const bw_signal_t *s, int utc_offset)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    bw_sig_json_opt_str(b, "kind", bw_signal_kind_to_string(s->kind));
    if (s->kind == BW_SIGNAL_SENT_ANOMALY) {
        add_time(b, "start", s->start, utc_offset);
        add_time(b, "end", s->end, utc_offset);
        json_builder_set_member_name(b, "count");
        json_builder_add_int_value(b, s->count);
        json_builder_set_member_name(b, "recipient_count");
        json_builder_add_int_value(b, s->recipient_count);
        json_builder_set_member_name(b, "contact_count");
        json_builder_add_int_value(b, s->contact_count);
        bw_json_add_strv(b, "members", s->members);
    } else {
        add_time(b, "date", s->date_unix, utc_offset);
        bw_json_add_str(b, "message_id", s->message_id);
        bw_json_add_str(b, "file", s->file);
    }
    if (s->kind == BW_SIGNAL_HUMAN_REPLY) {
        bw_sig_json_opt_str(b, "replies_to", s->replies_to);
        bw_sig_json_opt_str(b, "from", s->from);
    }
    bw_sig_json_opt_str(b, "summary", s->summary);
    bw_json_add_strv(b, "evidence", s->evidence);
    bw_sig_json_opt_str(b, "account", s->account);
    if (s->device || s->place || s->ip || s->time || s->address || s->limit || s->two_factor >= 0) {
        json_builder_set_member_name(b, "facts");
        json_builder_begin_object(b);
        bw_sig_json_opt_str(b, "device", s->device);
        bw_sig_json_opt_str(b, "place", s->place);
        bw_sig_json_opt_str(b, "ip", s->ip);
        bw_sig_json_opt_str(b, "time", s->time);
        bw_sig_json_opt_str(b, "address", s->address);
        bw_sig_json_opt_str(b, "limit", s->limit);
        if (s->two_factor >= 0)
            bw_sig_json_opt_str(b, "two_factor", s->two_factor ? "on" : "off");
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    JsonNode *n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

static gint64
get_time(JsonObject *o, const char *key)
{
    g_autofree char *s = bw_sig_json_get_str(o, key);
    gint64 t = 0;
    if (s && bw_time_parse(s, &t, NULL))
        return t;
    return 0;
}


bw_status_t
bw_signal_from_json(JsonNode *node, bw_signal_t **out, char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
        return bw_error_set(detail, BW_E_STATE, "a stored signal is not a JSON object");
    }
    JsonObject *o = json_node_get_object(node);
    g_autofree char *kind = bw_sig_json_get_str(o, "kind");
    bw_signal_kind_t k = bw_signal_kind_from_string(kind);
    if (k == BW_SIGNAL_NONE) {
        return bw_error_set(detail, BW_E_STATE, "a stored signal has no known kind");
    }
    bw_signal_t *s = signal_new(k);
    if (k == BW_SIGNAL_SENT_ANOMALY) {
        s->start = get_time(o, "start");
        s->end = get_time(o, "end");
        s->count = (unsigned)bw_sig_json_get_int(o, "count", 0);
        s->recipient_count = (unsigned)bw_sig_json_get_int(o, "recipient_count", 0);
        s->contact_count = (unsigned)bw_sig_json_get_int(o, "contact_count", 0);
        s->members = bw_sig_json_get_strv(o, "members", 100000);
    } else {
        s->date_unix = get_time(o, "date");
        s->message_id = bw_sig_json_get_str(o, "message_id");
        s->file = bw_sig_json_get_str(o, "file");
    }
    s->replies_to = bw_sig_json_get_str(o, "replies_to");
    s->from = bw_sig_json_get_str(o, "from");
    s->summary = bw_sig_json_get_str(o, "summary");
    g_ptr_array_unref(s->evidence);
    s->evidence = bw_sig_json_get_strv(o, "evidence", 64);
    s->account = bw_sig_json_get_str(o, "account");
    JsonNode *fn = json_object_get_member(o, "facts");
    if (fn && JSON_NODE_HOLDS_OBJECT(fn)) {
        JsonObject *f = json_node_get_object(fn);
        s->device = bw_sig_json_get_str(f, "device");
        s->place = bw_sig_json_get_str(f, "place");
        s->ip = bw_sig_json_get_str(f, "ip");
        s->time = bw_sig_json_get_str(f, "time");
        s->address = bw_sig_json_get_str(f, "address");
        s->limit = bw_sig_json_get_str(f, "limit");
        g_autofree char *tf = bw_sig_json_get_str(f, "two_factor");
        if (tf)
            s->two_factor = strcmp(tf, "on") == 0 ? 1 : strcmp(tf, "off") == 0 ? 0 : -1;
    }
    *out = s;
    return BW_OK;
}

JsonNode *
bw_phish_to_json(const bw_phish_t *p, int utc_offset)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_time(b, "date", p->date_unix, utc_offset);
    bw_json_add_str(b, "message_id", p->message_id);
    bw_json_add_str(b, "file", p->file);
    bw_sig_json_opt_str(b, "imitates", bw_signal_kind_to_string(p->imitates));
    bw_sig_json_opt_str(b, "tell", p->tell);
    bw_sig_json_opt_str(b, "from", p->from);
    bw_sig_json_opt_str(b, "claimed", p->claimed);
    bw_json_add_strv(b, "evidence", p->evidence);
    json_builder_end_object(b);
    JsonNode *n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}
