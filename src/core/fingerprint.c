/* fingerprint.c: a compact description of a forged original that survives
 * per-message variation, so that the reports of one spam run group together.
 *
 * What goes in (each a 64-bit keyed hash, 0 when absent):
 *   - subject_template: the subject with reply prefixes removed, lower-cased,
 *     numbers / hex / long tokens masked as '#', e-mail addresses and domain
 *     names masked, and tokens that are parts of the reported recipient's
 *     address (the recipient's name, which spam tools paste into subjects)
 *     masked as '*';
 *   - url_domains: the sorted set of URL host names of the body;
 *   - origin_network: the /24 (IPv6: /48) of the first external sending hop;
 *   - msgid_shape: the Message-ID with character classes collapsed;
 *   - mailer: X-Mailer/User-Agent without version numbers;
 *   - body_simhash: 64-bit SimHash (Charikar) over word 3-shingles, digits
 *     and capitalised words (names) masked, 0 below 8 shingles;
 *   - forged_sender: the original's From address when it is outside the
 *     owner's addresses and domains.
 * The hash is libsodium's SipHash-2-4 (crypto_shorthash) with a FIXED key:
 * the values, and so campaign ids derived from them, are the same in every
 * run and on every machine. */
#include "bw-engine.h"
#include <sodium.h>
#include <string.h>

/* Fixed, public key: these hashes are identifiers, not secrets. */
static const unsigned char fp_key[crypto_shorthash_KEYBYTES] = {
    'b', 'o', 'u', 'n', 'c', 'e', 'w', 'a', 't', 'c', 'h', '-', 'f', 'p', '0', '1'
};

guint64
bw_fp_hash(const char *s, size_t len)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)s, len, fp_key);
    guint64 h = 0;
    for (size_t i = 0; i < sizeof out; i++)
        h = (h << 8) | out[i];
    return h ? h : 1;   /* 0 means "absent" */
}

static guint64
hash_str(const char *s)
{
    return s && *s ? bw_fp_hash(s, strlen(s)) : 0;
}

/* ------------------------------------------------------------ subjects */

typedef struct {
    char text[128];
    bool mask;        /* masked ('#' or '*') */
    bool word;        /* a run of letters/digits (not punctuation) */
    bool cap;         /* started with an upper-case letter */
    bool space_before;
} tok_t;

static bool
is_word_char(gunichar ch)
{
    return g_unichar_isalnum(ch);
}

/* Does `tok` (lower-case ASCII letters, len >= 3) look like a part of the
 * recipient's name as it appears in their address? */
static bool
name_part_of(const char *tok, const char *local)
{
    size_t n = strlen(tok);
    if (local == NULL || n < 3)
        return false;
    for (const char *c = tok; *c; c++)
        if (!g_ascii_isalpha(*c))
            return false;
    if (strstr(local, tok))
        return true;
    char pre[5];
    if (n >= 4) {
        memcpy(pre, tok, 4);
        pre[4] = '\0';
        if (strstr(local, pre))
            return true;
    }
    /* "taryama1990" style: the first three letters of the first name */
    return strncmp(local, tok, 3) == 0;
}

static char *
subject_template(const char *subject, const char *recipient, bool mask_names);

char *
bw_fp_subject_template(const char *subject, const char *recipient)
{
    return subject_template(subject, recipient, false);
}

/* The template with every run of two or more capitalised words masked as
 * well: "Hi Joao Wagner, are you free tonight?" when the address does not
 * give the name away.  A second key, not a replacement: title-case subjects
 * lose words in it. */
char *
bw_fp_subject_template_names(const char *subject, const char *recipient)
{
    return subject_template(subject, recipient, true);
}

/* Honorifics that follow a person's name in Japanese, Chinese and Korean
 * subjects: spam tools paste the recipient's name before them, with no
 * space to split on ("山田様、お荷物のお届け").  In a CJK run, a name of at
 * most MAX_CJK_NAME characters before one of these is masked: "*様...". */
#define MAX_CJK_NAME 6
static const char *const cjk_honorifics[] = {
    "様", "さま", "さん", "殿", "先生", "女士", "小姐", "님", "씨",
};

/* Words before an honorific that are no name: "お客様", "皆様",
 * "会員様", "ご担当者様" (the polite prefixes お/ご never start a name). */
static const char *const cjk_not_names[] = {
    "皆", "会員", "担当者", "利用者", "顧客", "客", "各位", "用户", "客户", "고객", "회원", "여러분",
};

static bool
cjk_name_masked(const char *run, char *out, size_t size)
{
    if (g_str_has_prefix(run, "お") || g_str_has_prefix(run, "ご") || g_str_has_prefix(run, "御"))
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(cjk_honorifics); i++) {
        const char *h = strstr(run, cjk_honorifics[i]);
        if (h == NULL || h == run)
            continue;
        glong n = g_utf8_strlen(run, h - run);
        if (n < 1 || n > MAX_CJK_NAME)
            continue;
        bool generic = false;
        for (size_t k = 0; k < G_N_ELEMENTS(cjk_not_names) && !generic; k++)
            generic = (size_t)(h - run) == strlen(cjk_not_names[k]) &&
                      strncmp(run, cjk_not_names[k], (size_t)(h - run)) == 0;
        if (generic)
            return false;
        g_snprintf(out, size, "*%s", h);
        return true;
    }
    return false;
}

static char *
subject_template(const char *subject, const char *recipient, bool mask_names)
{
    if (subject == NULL)
        return NULL;
    g_autofree char *cut = g_strndup(subject, strnlen(subject, BW_ENGINE_MAX_SUBJECT));
    g_autofree char *stripped = bw_subject_strip(cut, BW_SUBJECT_ALL, NULL);
    if (stripped == NULL || *stripped == '\0')
        return NULL;
    g_autofree char *local = NULL;
    if (recipient) {
        const char *at = strrchr(recipient, '@');
        local = at ? g_ascii_strdown(recipient, at - recipient) : g_ascii_strdown(recipient, -1);
    }
    /* Words (white-space separated) holding '@' or looking like a domain
     * name are masked whole: {email} and {domain} placeholders. */
    g_auto(GStrv) words = g_strsplit_set(stripped, " \t\r\n", BW_ENGINE_MAX_TOKENS);
    tok_t toks[BW_ENGINE_MAX_TOKENS * 2];
    size_t nt = 0;
    for (size_t w = 0; words[w] && nt < G_N_ELEMENTS(toks) - 1; w++) {
        const char *word = words[w];
        if (*word == '\0')
            continue;
        bool first_in_word = true;
        /* trailing punctuation is not part of an address or domain */
        size_t wl = strlen(word);
        while (wl > 0 && strchr(":;,.!?)]>'\"", word[wl - 1]))
            wl--;
        bool dotted = wl > 4 && memchr(word, '.', wl) && g_ascii_isalpha(word[wl - 1]) &&
                      g_ascii_isalnum(word[0]) && !g_strstr_len(word, wl, "..");
        if (wl > 0 && (memchr(word, '@', wl) || dotted)) {
            tok_t *t = &toks[nt++];
            memset(t, 0, sizeof *t);
            g_strlcpy(t->text, memchr(word, '@', wl) ? "<email>" : "<domain>", sizeof t->text);
            t->mask = true;
            t->word = true;
            t->space_before = true;
            if (word[wl] && nt < G_N_ELEMENTS(toks) - 1) {
                /* keep the punctuation: "<domain>:" */
                tok_t *pt = &toks[nt++];
                memset(pt, 0, sizeof *pt);
                g_strlcpy(pt->text, word + wl, MIN(sizeof pt->text, strlen(word + wl) + 1));
            }
            continue;
        }
        const char *c = word;
        while (*c && nt < G_N_ELEMENTS(toks) - 1) {
            gunichar ch = g_utf8_get_char(c);
            tok_t *t = &toks[nt++];
            memset(t, 0, sizeof *t);
            t->space_before = first_in_word;
            first_in_word = false;
            if (is_word_char(ch)) {
                /* ASCII runs and non-ASCII runs are separate tokens: a name
                 * glued to a Japanese honorific ("Yamada様") splits off */
                bool ascii = ch < 128;
                t->word = true;
                t->cap = g_unichar_isupper(ch);
                GString *s = g_string_new(NULL);
                bool digit = false;
                while (*c) {
                    gunichar d = g_utf8_get_char(c);
                    if (!is_word_char(d) || (d < 128) != ascii)
                        break;
                    if (g_unichar_isdigit(d))
                        digit = true;
                    if (s->len < 100)
                        g_string_append_unichar(s, g_unichar_tolower(d));
                    c = g_utf8_next_char(c);
                }
                /* long ASCII runs are ids; long non-ASCII runs are just
                 * CJK text, which has no spaces between words */
                if (digit || (ascii && s->len >= 20)) {
                    g_strlcpy(t->text, "#", sizeof t->text);
                    t->mask = true;
                } else if (ascii && name_part_of(s->str, local)) {
                    g_strlcpy(t->text, "*", sizeof t->text);
                    t->mask = true;
                } else if (!ascii && mask_names && cjk_name_masked(s->str, t->text, sizeof t->text)) {
                    /* "山田様、..." / "김철수님": the name before an honorific */
                    t->mask = false;
                } else {
                    g_strlcpy(t->text, s->str, sizeof t->text);
                }
                g_string_free(s, TRUE);
            } else {
                const char *nx = g_utf8_next_char(c);
                size_t n = MIN((size_t)(nx - c), sizeof t->text - 1);
                memcpy(t->text, c, n);
                t->text[n] = '\0';
                c = nx;
            }
        }
    }
    if (mask_names) {
        for (size_t i = 0; i + 1 < nt; i++) {
            size_t j = i;
            while (j < nt && toks[j].word && toks[j].cap && !toks[j].mask &&
                   (j == i || toks[j].space_before))
                j++;
            if (j - i >= 2)
                for (size_t q = i; q < j; q++) {
                    g_strlcpy(toks[q].text, "*", sizeof toks[q].text);
                    toks[q].mask = true;
                }
            if (j > i)
                i = j - 1;
        }
    }
    /* A capitalised word next to a masked name part is the rest of the
     * name ("Taro *", "* Yamada"). */
    for (size_t i = 0; i < nt; i++) {
        if (!toks[i].word || toks[i].mask || !toks[i].cap)
            continue;
        bool prev = i > 0 && toks[i - 1].mask && strcmp(toks[i - 1].text, "*") == 0;
        bool next = i + 1 < nt && toks[i + 1].mask && strcmp(toks[i + 1].text, "*") == 0 &&
                    toks[i + 1].space_before;
        if (prev || next) {
            g_strlcpy(toks[i].text, "*", sizeof toks[i].text);
            toks[i].mask = true;
        }
    }
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < nt; i++) {
        /* runs of masks collapse: "$#.#" and "# #" vary in count */
        if (toks[i].mask && out->len > 0 && i > 0 && toks[i - 1].mask &&
            strcmp(toks[i].text, toks[i - 1].text) == 0)
            continue;
        if (toks[i].space_before && out->len > 0)
            g_string_append_c(out, ' ');
        g_string_append(out, toks[i].text);
    }
    return g_string_free(out, FALSE);
}

/* Characters of a template that are not masks or spaces: a template of
 * almost nothing ("re: *") says nothing about a campaign. */
static size_t
template_content(const char *t)
{
    size_t n = 0;
    for (const char *c = t; *c; c++)
        if (*c != ' ' && *c != '#' && *c != '*')
            n++;
    return n;
}

/* ------------------------------------------------------------ other parts */

#define SIMHASH_MIN_SHINGLES 8

guint64
bw_fp_simhash(const char *text, size_t len)
{
    if (text == NULL || len == 0)
        return 0;
    len = MIN(len, (size_t)BW_MAX_SCAN_BYTES);
    int v[64] = {0};
    /* words: runs of alphanumerics, lower-cased; digits masked so that
     * amounts and order numbers do not move the hash */
    guint64 w[3] = {0, 0, 0};
    unsigned nw = 0, shingles = 0;
    size_t i = 0;
    while (i < len && shingles < 20000) {
        while (i < len && !g_ascii_isalnum(text[i]) && !((unsigned char)text[i] & 0x80))
            i++;
        if (i >= len)
            break;
        char buf[64];
        size_t n = 0;
        /* A capitalised word is masked whole: spam tools paste the
         * recipient's name ("Dear Anna,", "Anna, your parcel") into one
         * text, and a template's own capitalised words (sentence starts)
         * are masked the same way in every copy.  Lower-case words carry
         * the text. */
        bool cap = g_ascii_isupper(text[i]);
        while (i < len && (g_ascii_isalnum(text[i]) || ((unsigned char)text[i] & 0x80))) {
            char ch = g_ascii_isdigit(text[i]) ? '#' : g_ascii_tolower(text[i]);
            if (n < sizeof buf - 1)
                buf[n++] = ch;
            i++;
        }
        if (cap) {
            buf[0] = 'A';
            n = 1;
        }
        w[0] = w[1];
        w[1] = w[2];
        w[2] = bw_fp_hash(buf, n);
        if (++nw < 3)
            continue;
        guint64 h = w[0] * 0x9E3779B97F4A7C15ull ^ (w[1] * 0xC2B2AE3D27D4EB4Full) ^ w[2];
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 32;
        for (int b = 0; b < 64; b++)
            v[b] += (h >> b) & 1 ? 1 : -1;
        shingles++;
    }
    /* a line or two ("see attachment", "body") is in every kind of mail:
     * too little text to name a spam run */
    if (shingles < SIMHASH_MIN_SHINGLES)
        return 0;
    guint64 r = 0;
    for (int b = 0; b < 64; b++)
        if (v[b] > 0)
            r |= (guint64)1 << b;
    return r ? r : 1;
}

char *
bw_fp_origin_network(const bw_profile_t *p, const bw_original_t *o)
{
    if (o == NULL || o->received == NULL)
        return NULL;
    /* The first hop, from the top, whose sender is neither the provider nor
     * a private address: the network that handed the forged mail in. */
    for (guint i = 0; i < o->received->len && i < BW_ENGINE_MAX_HOPS; i++) {
        bw_hop_t h;
        if (!bw_hop_parse(g_ptr_array_index(o->received, i), &h) || h.from_ip[0] == '\0')
            continue;
        if (bw_ip_is_private(h.from_ip))
            continue;
        if (bw_profile_is_provider_host(p, h.from_rdns) || bw_profile_is_provider_host(p, h.from_helo))
            continue;
        const char *ip = h.from_ip;
        if (g_ascii_strncasecmp(ip, "ipv6:", 5) == 0)
            ip += 5;
        if (strchr(ip, ':')) {
            /* IPv6: the first three groups (/48) */
            g_auto(GStrv) g = g_strsplit(ip, ":", 4);
            if (g[0] && g[1] && g[2])
                return g_strdup_printf("%s:%s:%s::/48", g[0], g[1], g[2]);
            return NULL;
        }
        const char *last = strrchr(ip, '.');
        if (last == NULL)
            return NULL;
        return g_strdup_printf("%.*s.0/24", (int)(last - ip), ip);
    }
    return NULL;
}

static char *
msgid_shape(const char *mid)
{
    /* "20261118.ABC123@host.example" -> "d.x@host.example": character
     * classes collapsed in the local part, the domain kept (lower-cased)
     * when it is short, else its last two labels. */
    const char *at = strrchr(mid, '@');
    GString *s = g_string_new(NULL);
    char last = 0;
    for (const char *c = mid; *c && c != at && s->len < 64; c++) {
        char k;
        if (g_ascii_isdigit(*c))
            k = 'd';
        else if (g_ascii_isxdigit(*c) && g_ascii_islower(*c))
            k = 'h';
        else if (g_ascii_isupper(*c))
            k = 'U';
        else if (g_ascii_isalpha(*c))
            k = 'a';
        else
            k = *c;
        if (k != last || !g_ascii_isalpha(k))
            g_string_append_c(s, k);
        last = k;
    }
    if (at) {
        g_string_append_c(s, '@');
        g_autofree char *dom = g_ascii_strdown(at + 1, -1);
        g_string_append(s, dom);
    }
    return g_string_free(s, FALSE);
}

static char *
mailer_norm(const char *m)
{
    GString *s = g_string_new(NULL);
    for (const char *c = m; *c && s->len < 64; c++)
        if (!g_ascii_isdigit(*c) && *c != '.')
            g_string_append_c(s, g_ascii_tolower(*c));
    return g_string_free(s, FALSE);
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
bw_fingerprint_clear(bw_fingerprint_t *fp)
{
    if (fp == NULL)
        return;
    g_free(fp->subject_masked);
    memset(fp, 0, sizeof *fp);
}

void
bw_fingerprint_copy(bw_fingerprint_t *dst, const bw_fingerprint_t *src)
{
    *dst = *src;
    dst->subject_masked = g_strdup(src->subject_masked);
}

void
bw_fingerprint_get_hashes(const bw_fingerprint_t *fp, guint64 out[BW_FINGERPRINT_HASHES])
{
    out[0] = fp->subject_template;
    out[1] = fp->url_domains;
    out[2] = fp->origin_network;
    out[3] = fp->msgid_shape;
    out[4] = fp->mailer;
    out[5] = fp->body_simhash;
    out[6] = fp->forged_sender;
    out[7] = fp->subject_names;
}

void
bw_fingerprint_set_hashes(bw_fingerprint_t *fp, const guint64 in[BW_FINGERPRINT_HASHES])
{
    fp->subject_template = in[0];
    fp->url_domains = in[1];
    fp->origin_network = in[2];
    fp->msgid_shape = in[3];
    fp->mailer = in[4];
    fp->body_simhash = in[5];
    fp->forged_sender = in[6];
    fp->subject_names = in[7];
}

static const char *
first_recipient(const bw_report_t *r)
{
    if (r->recipients)
        for (guint i = 0; i < r->recipients->len; i++) {
            const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
            if (rc->address)
                return rc->address;
        }
    if (r->original && r->original->to && r->original->to->len)
        return g_ptr_array_index(r->original->to, 0);
    return NULL;
}

void
bw_fingerprint_compute(const bw_profile_t *p, const bw_report_t *r, bw_fingerprint_t *fp)
{
    memset(fp, 0, sizeof *fp);
    if (r == NULL)
        return;
    const bw_original_t *o = r->original;
    const char *subject = o ? o->subject : NULL;
    if (subject) {
        fp->subject_masked = bw_fp_subject_template(subject, first_recipient(r));
        if (fp->subject_masked && template_content(fp->subject_masked) >= 6)
            fp->subject_template = hash_str(fp->subject_masked);
        g_autofree char *names = bw_fp_subject_template_names(subject, first_recipient(r));
        if (names && template_content(names) >= 12)
            fp->subject_names = hash_str(names);
    }
    if (o == NULL)
        return;
    if (o->url_domains && o->url_domains->len) {
        GPtrArray *d = g_ptr_array_new();
        for (guint i = 0; i < o->url_domains->len && i < BW_ENGINE_MAX_URL_DOMAINS; i++)
            g_ptr_array_add(d, g_ptr_array_index(o->url_domains, i));
        g_ptr_array_sort(d, cmp_str);
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < d->len; i++) {
            if (i > 0 && strcmp(g_ptr_array_index(d, i), g_ptr_array_index(d, i - 1)) == 0)
                continue;
            g_string_append(s, g_ptr_array_index(d, i));
            g_string_append_c(s, ' ');
        }
        fp->url_domains = hash_str(s->str);
        g_string_free(s, TRUE);
        g_ptr_array_unref(d);
    }
    g_autofree char *net = bw_fp_origin_network(p, o);
    fp->origin_network = hash_str(net);
    if (o->message_id) {
        g_autofree char *shape = msgid_shape(o->message_id);
        fp->msgid_shape = hash_str(shape);
    }
    if (o->x_mailer) {
        g_autofree char *m = mailer_norm(o->x_mailer);
        fp->mailer = hash_str(m);
    }
    if (o->body_text)
        fp->body_simhash = bw_fp_simhash(o->body_text, strlen(o->body_text));
    /* Only a sender outside the owner's addresses and domains tells
     * campaigns apart (envelope-only forgery names a spam domain in From);
     * the owner's own address is common to every campaign forging it. */
    if (o->from && strchr(o->from, '@') && !bw_profile_is_owner(p, o->from) &&
        !bw_profile_is_own_domain(p, strrchr(o->from, '@') + 1)) {
        g_autofree char *f = g_ascii_strdown(o->from, -1);
        fp->forged_sender = hash_str(f);
    }
}

unsigned
bw_edit_distance(const char *a, const char *b, unsigned max)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 128 || lb > 128)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > max)
        return max + 1;
    /* Damerau (optimal string alignment): a swapped pair of letters is one
     * typo, as people make them */
    unsigned d[129][129];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned rowmin = max + 1;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            unsigned v = MIN(MIN(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                v = MIN(v, d[i - 2][j - 2] + 1);
            d[i][j] = v;
            rowmin = MIN(rowmin, v);
        }
        if (rowmin > max)
            return max + 1;
    }
    return MIN(d[la][lb], max + 1);
}
