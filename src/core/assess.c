/* assess.c: the overall call (clear / spoofing / compromise-suspected) and
 * advice a person can act on, naming their address.
 *
 * compromise-suspected: a campaign whose forged mail went through the
 *   owner's own provider with the owner's credentials (origin own-account)
 *   AND that carries real weight (own_campaign_weighty): mail sent from a
 *   phone or a program that keeps no Sent copy looks exactly like that, one
 *   message at a time, and a security alarm that cries wolf over one
 *   bounced message to a new address teaches people to ignore it.  Such
 *   reports without that weight get a note in the advice instead.
 * spoofing: backscatter forged elsewhere (at least MIN_BACKSCATTER reports
 *   that do not point at the account).
 * clear: otherwise; legitimate bounces and auto-replies never change it.
 * Every string a person reads goes through gettext as a full sentence. */
#include "bw-engine.h"
#include <string.h>

#define MIN_CAMPAIGN      3
/* The weight a compromise alarm needs (own_campaign_weighty) */
#define COMPROMISE_MIN_RECIPIENTS   3      /* distinct people written to */
#define COMPROMISE_BIG              10     /* members that are a run by themselves... */
#define COMPROMISE_BIG_RECIPIENTS   5      /* ...when they went to this many people */
#define COMPROMISE_BURST_RECIPIENTS 5      /* people named... */
#define COMPROMISE_BURST_WINDOW     (48 * 3600)   /* ...within this time */
#define COMPROMISE_MAX_SCAN         100000 /* members examined per campaign */
#define MIN_BACKSCATTER   3
#define MAX_HARD_BOUNCING 50

/* Big mail providers: a domain one or two typos away from one of these is
 * almost certainly that one. */
static const char *const big_domains[] = {
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr",
    "outlook.com", "live.com", "msn.com", "yahoo.com", "yahoo.co.jp", "yahoo.co.uk",
    "yahoo.fr", "yahoo.de", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de", "freenet.de",
    "mail.ru", "yandex.ru", "protonmail.com", "proton.me", "orange.fr", "free.fr",
    "laposte.net", "libero.it", "virgilio.it", "qq.com", "163.com", "126.com",
    "naver.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net",
    "btinternet.com", "sky.com", "docomo.ne.jp", "ezweb.ne.jp", "au.com",
    "softbank.ne.jp", "i.softbank.jp", "ocn.ne.jp", "nifty.com", "biglobe.ne.jp",
    "so-net.ne.jp", "zoho.com", "fastmail.com", "mail.com", "seznam.cz", "wp.pl",
    "o2.pl", "interia.pl", "bluewin.ch", "telenet.be", "skynet.be", "xs4all.nl",
    "ziggo.nl", "kpnmail.nl", "shaw.ca", "rogers.com", "bigpond.com", "optusnet.com.au",
    "rediffmail.com", "uol.com.br", "bol.com.br", "terra.com.br",
};

char *
bw_typo_hint(const char *address)
{
    if (address == NULL)
        return NULL;
    const char *at = strrchr(address, '@');
    const char *dom = at ? at + 1 : address;
    if (*dom == '\0' || strlen(dom) > 128)
        return NULL;
    g_autofree char *low = g_ascii_strdown(dom, -1);
    for (size_t i = 0; i < G_N_ELEMENTS(big_domains); i++)
        if (strcmp(low, big_domains[i]) == 0)
            return NULL;
    const char *best = NULL;
    unsigned best_d = 3;
    bool tie = false;
    for (size_t i = 0; i < G_N_ELEMENTS(big_domains); i++) {
        /* short names tolerate one typo, longer ones two */
        unsigned max = strlen(big_domains[i]) < 9 ? 1 : 2;
        unsigned d = bw_edit_distance(low, big_domains[i], max);
        if (d > max)
            continue;
        if (d < best_d) {
            best_d = d;
            best = big_domains[i];
            tie = false;
        } else if (d == best_d) {
            tie = true;
        }
    }
    if (best == NULL || tie)
        return NULL;
    if (at)
        return g_strdup_printf("%.*s@%s", (int)(at - address), address, best);
    return g_strdup(best);
}

/* ---- typo hints against the owner's correspondents */

#define MAX_KNOWN_ADDRESSES 20000

static bool hard_reason(bw_reason_t r);

static void
known_add(GHashTable *by_domain, GHashTable *hard, const char *addr, guint *n)
{
    if (addr == NULL || *n >= MAX_KNOWN_ADDRESSES || g_hash_table_contains(hard, addr))
        return;
    const char *at = strrchr(addr, '@');
    if (at == NULL || at == addr || at[1] == '\0' || strlen(addr) > 254)
        return;
    g_autofree char *dom = g_ascii_strdown(at + 1, -1);
    GPtrArray *locals = g_hash_table_lookup(by_domain, dom);
    if (locals == NULL) {
        locals = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(by_domain, g_steal_pointer(&dom), locals);
    }
    g_autofree char *local = g_ascii_strdown(addr, at - addr);
    for (guint i = 0; i < locals->len; i++)
        if (strcmp(g_ptr_array_index(locals, i), local) == 0)
            return;
    g_ptr_array_add(locals, g_steal_pointer(&local));
    (*n)++;
}

/* domain -> local parts of the owner's correspondents: the profile's (what
 * the adapter knows), and the people the legitimate reports show alive (a
 * full mailbox, a vacation reply, a delay: the address exists), from the
 * recipients alone, which stored items keep.  Addresses
 * that hard-bounce themselves are left out: the owner writing to a typo
 * must not make the typo a "known" domain. */
static GHashTable *
known_by_domain(const bw_profile_t *profile, GPtrArray *items, GHashTable *hard)
{
    GHashTable *by_domain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify)g_ptr_array_unref);
    guint n = 0;
    GHashTable *corr = bw_profile_correspondents(profile);
    if (corr) {
        GHashTableIter iter;
        gpointer k;
        g_hash_table_iter_init(&iter, corr);
        while (g_hash_table_iter_next(&iter, &k, NULL))
            known_add(by_domain, hard, k, &n);
    }
    for (guint i = 0; items && i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        const bw_report_t *r = it->report;
        if (it->klass != BW_CLASS_LEGITIMATE || r == NULL)
            continue;
        for (guint j = 0; r->recipients && j < r->recipients->len; j++) {
            const bw_recipient_t *rc = g_ptr_array_index(r->recipients, j);
            if (rc->address && !hard_reason(rc->reason) && rc->reason != BW_REASON_UNKNOWN)
                known_add(by_domain, hard, rc->address, &n);
        }
    }
    return by_domain;
}

bool
bw_is_big_mail_domain(const char *d)
{
    for (size_t i = 0; d && i < G_N_ELEMENTS(big_domains); i++)
        if (g_ascii_strcasecmp(d, big_domains[i]) == 0)
            return true;
    return false;
}

/* One candidate against the best so far: smaller distance wins, an equal
 * distance to another candidate is a tie (no hint: we would be guessing). */
static void
consider(const char *have, const char *cand, unsigned max, const char **best, unsigned *best_d, bool *tie)
{
    if (strcmp(have, cand) == 0 || max == 0)
        return;
    unsigned d = bw_edit_distance(have, cand, max);
    if (d > max)
        return;
    if (d < *best_d) {
        *best_d = d;
        *best = cand;
        *tie = false;
    } else if (d == *best_d && *best && strcmp(*best, cand) != 0) {
        *tie = true;
    }
}

/* A hard-bouncing address against the big providers and the owner's
 * correspondents: a domain one or two typos from a known one
 * (alice@frinds.example -> alice@friends.example), or, at a known domain,
 * a local part one typo from a correspondent's (alcie@ -> alice@). */
static char *
typo_hint_known(GHashTable *by_domain, const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    if (at == NULL || at == address || strlen(at + 1) > 128 || (size_t)(at - address) > 64)
        return NULL;
    g_autofree char *dom = g_ascii_strdown(at + 1, -1);
    g_autofree char *local = g_ascii_strdown(address, at - address);
    GPtrArray *locals = by_domain ? g_hash_table_lookup(by_domain, dom) : NULL;
    if (locals == NULL && !bw_is_big_mail_domain(dom)) {
        const char *best = NULL;
        unsigned best_d = 3;
        bool tie = false;
        for (size_t i = 0; i < G_N_ELEMENTS(big_domains); i++)
            consider(dom, big_domains[i], strlen(big_domains[i]) < 9 ? 1 : 2, &best, &best_d, &tie);
        if (by_domain) {
            GHashTableIter iter;
            gpointer k;
            g_hash_table_iter_init(&iter, by_domain);
            while (g_hash_table_iter_next(&iter, &k, NULL))
                consider(dom, k, strlen(k) < 9 ? 1 : 2, &best, &best_d, &tie);
        }
        if (best && !tie)
            return g_strdup_printf("%s@%s", local, best);
        return NULL;
    }
    if (locals == NULL)
        return NULL;
    /* the domain is right: a correspondent there with a name one slip away
     * (short names need an exact-but-one match, long ones allow two) */
    const char *best = NULL;
    unsigned best_d = 3;
    bool tie = false;
    size_t ll = strlen(local);
    for (guint i = 0; i < locals->len; i++)
        consider(local, g_ptr_array_index(locals, i), ll >= 10 ? 2 : ll >= 4 ? 1 : 0, &best, &best_d, &tie);
    if (best && !tie)
        return g_strdup_printf("%s@%s", best, dom);
    return NULL;
}

char *
bw_profile_typo_hint(const bw_profile_t *p, const char *address)
{
    g_autoptr(GHashTable) none = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) known = known_by_domain(p, NULL, none);
    return typo_hint_known(known, address);
}

static void
push(GPtrArray *a, char *s)
{
    g_ptr_array_add(a, s);
}

static const char *
remedy_for(bw_reason_t r)
{
    switch (r) {
    case BW_REASON_USER_UNKNOWN:
        return N_("The address does not exist: check it for a typo, or ask the person for their current address.");
    case BW_REASON_HOST_UNKNOWN:
        return N_("The domain of the address does not exist: it is most likely mistyped (for example gmail.con instead of gmail.com).");
    case BW_REASON_MAILBOX_FULL:
        return N_("The recipient's mailbox is full: send the message again in a few days, or reach them another way.");
    case BW_REASON_MESSAGE_TOO_LARGE:
        return N_("The message was too large: share big files as a download link instead of an attachment.");
    case BW_REASON_SPAM:
    case BW_REASON_CONTENT_REJECTED:
        return N_("The recipient's server took the message for spam: remove links and attachments, or ask the recipient to add your address to their contacts.");
    case BW_REASON_BLOCKED:
        return N_("The recipient's server blocked your server or address: ask your mail provider whether its servers are on a block list.");
    case BW_REASON_POLICY:
        return N_("The recipient's server refused the message by policy: ask the recipient (by another channel) whether they can accept mail from you.");
    case BW_REASON_SUSPENDED:
        return N_("The recipient's account is disabled: the person probably no longer uses this address.");
    case BW_REASON_EXPIRED:
    case BW_REASON_NETWORK_ERROR:
        return N_("The message could not be delivered for days: the recipient's server is unreachable; try again later or use another address.");
    case BW_REASON_RATE_LIMITED:
        return N_("Too many messages were sent at once: send in smaller batches.");
    case BW_REASON_AUTH_FAILURE:
        return N_("The recipient's server did not trust your server's authentication (SPF, DKIM, DMARC): tell your mail provider.");
    case BW_REASON_VIRUS:
        return N_("An attachment was taken for a virus: scan your computer, and send the file another way.");
    case BW_REASON_TLS_ERROR:
        return N_("The servers could not agree on encryption: tell your mail provider.");
    default:
        break;
    }
    return NULL;
}

static bool
hard_reason(bw_reason_t r)
{
    return r == BW_REASON_USER_UNKNOWN || r == BW_REASON_HOST_UNKNOWN || r == BW_REASON_SUSPENDED;
}

static bool
owner_has_own_domain(const bw_profile_t *p)
{
    /* Only the owner of a domain can publish SPF/DKIM/DMARC for it: an
     * address at a big provider or at the provider's own domain is not. */
    const char *prim = bw_profile_primary(p);
    const char *at = prim ? strrchr(prim, '@') : NULL;
    if (at == NULL)
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(big_domains); i++)
        if (g_ascii_strcasecmp(at + 1, big_domains[i]) == 0)
            return false;
    return bw_profile_custom_domain(p);
}

/* The forged sender is the owner's own address: one of the owner's, or, for
 * the owner of a domain, any address at it (a catch-all receives the
 * reports of every local part forged there). */
static bool
owners_sender(const bw_profile_t *p, const char *addr, bool own_domain)
{
    if (addr == NULL)
        return false;
    if (bw_profile_is_owner(p, addr))
        return true;
    const char *prim = bw_profile_primary(p);
    const char *pat = prim ? strrchr(prim, '@') : NULL, *aat = strrchr(addr, '@');
    return own_domain && pat != NULL && aat != NULL && g_ascii_strcasecmp(pat, aat) == 0;
}

static gint
cmp_item_date(gconstpointer a, gconstpointer b)
{
    const bw_item_t *x = *(const bw_item_t *const *)a, *y = *(const bw_item_t *const *)b;
    return x->date_unix < y->date_unix ? -1 : x->date_unix > y->date_unix;
}

/* The people a report names (its recipients): what a stored, slim item
 * keeps too (the scanner serves runs with nothing new from a snapshot that
 * holds recipients, dates, class, origin and campaign, not the originals),
 * so the call is the same in both kinds of run. */
static void
item_recipients(const bw_item_t *it, GHashTable *set)
{
    const bw_report_t *r = it->report;
    for (guint i = 0; r && r->recipients && i < r->recipients->len && i < 64; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        if (rc->address)
            g_hash_table_add(set, rc->address);
    }
}

static void
window_count(GHashTable *win, const bw_item_t *it, int delta)
{
    const bw_report_t *r = it->report;
    for (guint i = 0; r && r->recipients && i < r->recipients->len && i < 64; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        if (rc->address == NULL)
            continue;
        gint n = GPOINTER_TO_INT(g_hash_table_lookup(win, rc->address)) + delta;
        if (n > 0)
            g_hash_table_insert(win, rc->address, GINT_TO_POINTER(n));
        else
            g_hash_table_remove(win, rc->address);
    }
}

/* Does this own-account campaign weigh enough for a compromise alarm?
 * Needed: its own-account members name COMPROMISE_MIN_RECIPIENTS different
 * people (one message to a couple of people, each bounce or reply a
 * report, is not a run), and one of: a surge of backscatter holds the
 * campaign; it is big (COMPROMISE_BIG members to COMPROMISE_BIG_RECIPIENTS
 * people); or COMPROMISE_BURST_RECIPIENTS people within
 * COMPROMISE_BURST_WINDOW (a person rarely writes five new addresses in two
 * days that all bounce, from a program that keeps no copy; a spammer on a
 * stolen account does nothing else).  *members_out gets the number of
 * own-account members. */
static bool
own_campaign_weighty(const bw_campaign_t *c, GPtrArray *items, GPtrArray *surges, guint *members_out)
{
    g_autoptr(GHashTable) recips = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) mine = g_ptr_array_new();
    for (guint i = 0; items && i < items->len && mine->len < COMPROMISE_MAX_SCAN; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass != BW_CLASS_BACKSCATTER || it->origin != BW_ORIGIN_OWN_ACCOUNT ||
            it->campaign == NULL || strcmp(it->campaign, c->id) != 0)
            continue;
        g_ptr_array_add(mine, (gpointer)it);
        item_recipients(it, recips);
    }
    guint members = mine->len;
    *members_out = members;
    guint n_recips = g_hash_table_size(recips);
    if (members < MIN_CAMPAIGN || n_recips < COMPROMISE_MIN_RECIPIENTS)
        return false;
    for (guint i = 0; surges && i < surges->len; i++) {
        const bw_surge_t *s = g_ptr_array_index(surges, i);
        for (guint j = 0; s->campaigns && j < s->campaigns->len; j++)
            if (strcmp(g_ptr_array_index(s->campaigns, j), c->id) == 0)
                return true;
    }
    if (members >= COMPROMISE_BIG && n_recips >= COMPROMISE_BIG_RECIPIENTS)
        return true;
    /* people named within any COMPROMISE_BURST_WINDOW (items arrive sorted
     * or not: sort a copy by date) */
    g_ptr_array_sort(mine, cmp_item_date);
    /* a sliding window: recipient -> times named inside it (linear) */
    g_autoptr(GHashTable) win = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0, j = 0; j < mine->len; j++) {
        const bw_item_t *b = g_ptr_array_index(mine, j);
        window_count(win, b, +1);
        while (b->date_unix - ((const bw_item_t *)g_ptr_array_index(mine, i))->date_unix > COMPROMISE_BURST_WINDOW)
            window_count(win, g_ptr_array_index(mine, i++), -1);
        if (g_hash_table_size(win) >= COMPROMISE_BURST_RECIPIENTS)
            return true;
    }
    return false;
}

bw_status_t
bw_assess(const bw_profile_t *profile, GPtrArray *items, GPtrArray *campaigns,
          GPtrArray *surges, gint64 now, bw_assessment_t **out)
{
    return bw_assess_learnt(profile, items, campaigns, surges, now, NULL, out);
}

bw_status_t
bw_assess_learnt(const bw_profile_t *profile, GPtrArray *items, GPtrArray *campaigns,
                 GPtrArray *surges, gint64 now, GHashTable *learnt, bw_assessment_t **out)
{
    if (out == NULL)
        return BW_E_INVALID;
    const char *me = bw_profile_primary(profile);
    if (me == NULL)
        me = _("your address");
    bw_assessment_t *a = g_new0(bw_assessment_t, 1);
    a->advice = g_ptr_array_new_with_free_func(g_free);
    a->legit_remedies = g_ptr_array_new_with_free_func(g_free);
    a->hard_bouncing = g_ptr_array_new_with_free_func(g_free);
    a->owner_senders = g_ptr_array_new_with_free_func(g_free);
    {
        bool own_domain = owner_has_own_domain(profile);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; campaigns && i < campaigns->len; i++) {
            const bw_campaign_t *c = g_ptr_array_index(campaigns, i);
            for (guint j = 0; c->forged_senders && j < c->forged_senders->len; j++) {
                const char *f = g_ptr_array_index(c->forged_senders, j);
                if (owners_sender(profile, f, own_domain) && !g_hash_table_contains(seen, f)) {
                    g_hash_table_add(seen, (gpointer)f);
                    g_ptr_array_add(a->owner_senders, g_strdup(f));
                }
            }
        }
    }

    guint n_bs = 0, n_legit = 0, n_own_items = 0;
    /* What the profile knows of the provider must not depend on whether
     * this run classified anything (a run with nothing new reuses stored
     * verdicts): learn it again from the owner's real mail among the
     * reports.  Learning is idempotent (an original the profile learnt
     * from already, in `learnt`, changes nothing: not read again). */
    for (guint i = 0; items && i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass == BW_CLASS_LEGITIMATE && it->report && it->report->original &&
            !(learnt != NULL && g_hash_table_contains(learnt, it)))
            bw_profile_learn_original(profile, it->report->original);
    }
    for (guint i = 0; items && i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass == BW_CLASS_BACKSCATTER) {
            n_bs++;
            if (it->origin == BW_ORIGIN_OWN_ACCOUNT)
                n_own_items++;
        } else if (it->klass == BW_CLASS_LEGITIMATE) {
            n_legit++;
        }
    }
    const bw_campaign_t *own_campaign = NULL;
    guint own_members = 0;
    for (guint i = 0; campaigns && i < campaigns->len && own_campaign == NULL; i++) {
        const bw_campaign_t *c = g_ptr_array_index(campaigns, i);
        if (c->members == NULL || c->members->len < MIN_CAMPAIGN || c->id == NULL)
            continue;
        if (c->origin == BW_ORIGIN_OWN_ACCOUNT && own_campaign_weighty(c, items, surges, &own_members))
            own_campaign = c;
    }
    bool ongoing = false;
    for (guint i = 0; surges && i < surges->len; i++)
        if (((const bw_surge_t *)g_ptr_array_index(surges, i))->ongoing)
            ongoing = true;

    if (own_campaign) {
        a->status = BW_STATUS_COMPROMISE_SUSPECTED;
        a->summary = g_strdup_printf(
            _("Someone appears to be sending mail through your own account %s: %u reports came back about "
              "messages that went through your provider with your password but are not in your sent mail."),
            me, own_members);
        push(a->advice, g_strdup_printf(_("Change the password of %s now, from a device you trust (not the one you usually use, if it may be infected)."), me));
        push(a->advice, g_strdup(_("Turn on two-factor authentication for the account.")));
        push(a->advice, g_strdup(_("Sign out all other sessions and devices in the account's security settings.")));
        push(a->advice, g_strdup(_("Check the Sent and Deleted folders for messages you did not write.")));
        push(a->advice, g_strdup(_("Check forwarding rules, filters and auto-replies: attackers add rules that forward or delete your mail.")));
        push(a->advice, g_strdup(_("Remove app passwords and connected apps you do not recognise, and review the recent sign-ins.")));
        push(a->advice, g_strdup(_("If you used the same password anywhere else, change it there too.")));
        push(a->advice, g_strdup(_("Scan your computer and phone for malware, and tell your contacts to ignore the messages.")));
        push(a->advice, g_strdup(_("Never open links or attachments in these reports: they carry the spam that was sent.")));
        if (owner_has_own_domain(profile))
            push(a->advice, g_strdup(_("As the owner of the domain, publish SPF, DKIM and DMARC records so that forged mail is refused.")));
    } else if (n_bs - n_own_items >= MIN_BACKSCATTER) {
        /* forgery elsewhere; own-account reports without the weight of an
         * alarm are no evidence of spoofing (they look like the owner's own
         * mail from a program that keeps no copy): a note below */
        a->status = BW_STATUS_SPOOFING;
        if (n_own_items * 2 > n_bs)
            a->summary = g_strdup_printf(
                _("%u reports came back about messages from %s that are not in your sent mail; some went out "
                  "through your account, though not enough of them to suggest that it was taken over: see the advice."),
                n_bs, me);
        else if (ongoing)
            a->summary = g_strdup_printf(
                _("Spammers are forging your address %s right now: %u reports came back about messages you never "
                  "sent. They were not sent through your account, which is probably fine."), me, n_bs);
        else
            a->summary = g_strdup_printf(
                _("Spammers have forged your address %s: %u reports came back about messages you never sent. "
                  "They were not sent through your account, which is probably fine."), me, n_bs);
        /* Why this happens is an explanation, not a step: it ends the
         * summary, and the advice keeps to things to do. */
        {
            /* TRANSLATORS: the summary, then a sentence that explains it
             * (languages without spaces between sentences drop it). */
            char *with_why = g_strdup_printf(_("%s %s"), a->summary,
                _("Anyone can write any sender address on a message, as anyone can on a postcard: this is why you receive these reports."));
            g_free(a->summary);
            a->summary = with_why;
        }
        push(a->advice, g_strdup(_("Do not reply to the reports and never open their links or attachments; mark them as spam or delete them.")));
        push(a->advice, g_strdup_printf(_("Your account %s shows no sign of misuse; if you are worried, change its password and enable two-factor authentication anyway."), me));
        if (owner_has_own_domain(profile))
            push(a->advice, g_strdup(_("As the owner of the domain, publish SPF, DKIM and a DMARC policy (p=reject when everything is signed) so that receivers refuse forged mail instead of bouncing it to you.")));
        else
            push(a->advice, g_strdup(_("Your provider's DMARC policy decides whether receivers refuse forged mail: if the reports go on for long, tell your provider.")));
    } else {
        a->status = BW_STATUS_CLEAR;
        if (n_own_items > 0)
            a->summary = g_strdup_printf(
                _("No clear sign of forgery of %s, but read the note about mail that went out through your account."),
                me);
        else if (n_legit > 0)
            a->summary = g_strdup_printf(
                ngettext("No sign of forgery of %s: the %u report found is about mail you really sent.",
                         "No sign of forgery of %s: the %u reports found are about mail you really sent.", n_legit),
                me, n_legit);
        else
            a->summary = g_strdup_printf(_("No sign of forgery of %s."), me);
    }
    if (own_campaign == NULL && n_own_items > 0) {
        /* Not enough for an alarm, too much to keep quiet about: the owner
         * knows whether they sent these from a phone or another program. */
        push(a->advice, g_strdup_printf(
            ngettext("%u report is about a message that went out through your account %s but is not in your sent "
                     "mail. If you sent it from a phone or a program that keeps no copy, all is well; if you did not "
                     "write it, change the password and turn on two-factor authentication.",
                     "%u reports are about messages that went out through your account %s but are not in your sent "
                     "mail. If you sent them from a phone or a program that keeps no copy, all is well; if you did not "
                     "write them, change the password and turn on two-factor authentication.", n_own_items),
            n_own_items, me));
    }
    (void)now;

    /* legitimate bounces: remedies per reason and hard-bouncing addresses */
    guint seen_reason[BW_REASON_LAST] = {0};
    g_autoptr(GHashTable) hard = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) hard_list = g_ptr_array_new();
    for (guint i = 0; items && i < items->len; i++) {
        const bw_item_t *it = g_ptr_array_index(items, i);
        if (it->klass != BW_CLASS_LEGITIMATE || it->report == NULL || it->report->recipients == NULL)
            continue;
        for (guint j = 0; j < it->report->recipients->len; j++) {
            const bw_recipient_t *rc = g_ptr_array_index(it->report->recipients, j);
            if ((unsigned)rc->reason < BW_REASON_LAST)
                seen_reason[rc->reason]++;
            if (!hard_reason(rc->reason) || rc->address == NULL)
                continue;
            if (rc->action && strcmp(rc->action, "failed") != 0)
                continue;
            if (g_hash_table_contains(hard, rc->address) || hard_list->len >= MAX_HARD_BOUNCING)
                continue;
            g_hash_table_add(hard, rc->address);
            g_ptr_array_add(hard_list, rc->address);
        }
    }
    /* typo hints: the big providers, and the owner's own correspondents
     * (fed by the adapter, and those the reports show to be alive) */
    g_autoptr(GHashTable) known = hard_list->len ? known_by_domain(profile, items, hard) : NULL;
    for (guint i = 0; i < hard_list->len; i++) {
        const char *addr = g_ptr_array_index(hard_list, i);
        g_autofree char *hint = typo_hint_known(known, addr);
        if (hint)
            push(a->hard_bouncing, g_strdup_printf(_("%s (did you mean %s?)"), addr, hint));
        else
            push(a->hard_bouncing, g_strdup(addr));
    }
    for (unsigned r = 0; r < BW_REASON_LAST; r++) {
        const char *rem = seen_reason[r] ? remedy_for((bw_reason_t)r) : NULL;
        if (rem)
            push(a->legit_remedies, g_strdup_printf(ngettext("%s (%u report): %s", "%s (%u reports): %s", seen_reason[r]),
                                                    bw_reason_to_string((bw_reason_t)r),
                                                    seen_reason[r], _(rem)));
    }
    *out = a;
    return BW_OK;
}
