/* signal-read.c: stage 1 of the signals, one received message at a time:
 * the facts a judge needs, none of which depend on who the owner is.
 *
 *   - the header fields in order: From (display name and real address),
 *     every Received hop and every Authentication-Results header with its
 *     position, DKIM d=, the reply links, the automation and list markers;
 *   - the text (first text/plain, else text/html with table cells kept
 *     apart, plus a delivery-status part), read through the phrase tables
 *     of signal-table.c: what a notice is about, by clauses (a topic and an
 *     event in one clause that is not advice), the facts it states (device,
 *     place, IP, time, the forwarding or recovery address, the sending
 *     limit), phishing bait, a person asking "did you send this?".
 *
 * Linear in the message (the matcher reads the text once; every other pass
 * is a single walk), bounded by the BW_SIG_MAX_* limits. */
#include "bw-signals-private.h"
#include "bw-reader.h"
#include "bw-parse.h"
#include <string.h>

#define MAX_HITS 4096
#define MAX_CLAUSES 2048

/* ------------------------------------------------------------ headers */

size_t
bw_sig_header_len(const char *data, size_t len)
{
    size_t cap = len < BW_SIG_MAX_HEADER_BYTES ? len : BW_SIG_MAX_HEADER_BYTES;
    if (cap > 0 && data[0] == '\n')
        return 0;
    const char *p = data;
    while (p < data + cap) {
        const char *nl = memchr(p, '\n', (size_t)(data + cap - p));
        if (nl == NULL)
            return cap;
        if (nl + 1 < data + cap && nl[1] == '\n')
            return (size_t)(nl - data) + 1;
        p = nl + 1;
    }
    return cap;
}

unsigned
bw_sig_fields(const char *hdr, size_t hdr_len, bw_sig_field_fn fn, void *data)
{
    size_t pos = 0;
    unsigned n = 0;
    /* an mbox "From " line is no field */
    if (hdr_len >= 5 && memcmp(hdr, "From ", 5) == 0) {
        const char *nl = memchr(hdr, '\n', hdr_len);
        pos = nl ? (size_t)(nl - hdr) + 1 : hdr_len;
    }
    while (pos < hdr_len && n < BW_SIG_MAX_FIELDS) {
        const char *line = hdr + pos;
        const char *eol = memchr(line, '\n', hdr_len - pos);
        size_t ll = eol ? (size_t)(eol - line) : hdr_len - pos;
        /* the field runs over its continuation lines */
        size_t end = pos + ll;
        while (end + 1 < hdr_len && (hdr[end + 1] == ' ' || hdr[end + 1] == '\t')) {
            const char *n2 = memchr(hdr + end + 1, '\n', hdr_len - end - 1);
            end = n2 ? (size_t)(n2 - hdr) : hdr_len;
        }
        const char *colon = memchr(line, ':', ll);
        if (colon != NULL && colon > line && line[0] != ' ' && line[0] != '\t') {
            size_t nl = (size_t)(colon - line);
            while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
                nl--;
            bool ok = nl > 0;
            for (size_t k = 0; k < nl && ok; k++)
                ok = line[k] > 32 && line[k] < 127;
            if (ok) {
                const char *v = colon + 1;
                const char *vend = hdr + end;
                while (v < vend && (*v == ' ' || *v == '\t'))
                    v++;
                if (!fn(line, nl, v, (size_t)(vend - v), n, data))
                    return n + 1;
                n++;
            }
        }
        pos = end + 1;
    }
    return n;
}

static bool
name_is(const char *name, size_t nl, const char *want)
{
    return strlen(want) == nl && g_ascii_strncasecmp(name, want, nl) == 0;
}

unsigned
bw_sig_address_list(const char *value, size_t len, GPtrArray *out, unsigned max)
{
    unsigned total = 0;
    size_t start = 0;
    bool quoted = false;
    int angle = 0, paren = 0;
    if (len > 64 * 1024)
        len = 64 * 1024;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? value[i] : ',';
        if (c == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (quoted) {
            if (c == '"')
                quoted = false;
            if (i < len)
                continue;
        }
        if (c == '"')
            quoted = true;
        else if (c == '<')
            angle++;
        else if (c == '>' && angle > 0)
            angle--;
        else if (c == '(')
            paren++;
        else if (c == ')' && paren > 0)
            paren--;
        else if ((c == ',' || c == ';') && angle == 0 && paren == 0) {
            if (i > start && memchr(value + start, '@', i - start) != NULL) {
                g_autofree char *piece = g_strndup(value + start, i - start);
                /* a group name "Club: a@b" normalises to a@b */
                char *a = bw_address_normalize(piece);
                if (a != NULL) {
                    total++;
                    bool dup = false;
                    for (guint k = 0; out && k < out->len && !dup; k++)
                        dup = strcmp(g_ptr_array_index(out, k), a) == 0;
                    if (out && !dup && out->len < max)
                        g_ptr_array_add(out, a);
                    else
                        g_free(a);
                }
            }
            start = i + 1;
        }
    }
    return total;
}

/* The real address and the display name of a From value: the address is
 * the last <...> outside quoted strings and encoded words (what a mail
 * program delivers to), the display name what precedes it. */
static void
split_from(const char *raw, size_t len, char **addr_out, char **display_out)
{
    *addr_out = NULL;
    *display_out = NULL;
    if (len > 4096)
        len = 4096;
    bool quoted = false;
    gssize lt = -1, gt = -1;
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == '=' && i + 1 < len && raw[i + 1] == '?') {
            /* skip an encoded word */
            const char *e = NULL;
            for (size_t k = i + 2; k + 1 < len && k < i + 512; k++)
                if (raw[k] == '?' && raw[k + 1] == '=') {
                    e = raw + k;
                    break;
                }
            if (e)
                i = (size_t)(e - raw) + 1;
        } else if (c == '<') {
            const char *close = memchr(raw + i, '>', len - i);
            if (close && memchr(raw + i, '@', (size_t)(close - raw) - i) != NULL) {
                lt = (gssize)i;
                gt = close - raw;
                i = (size_t)gt;
            }
        }
    }
    if (lt >= 0) {
        g_autofree char *inner = g_strndup(raw + lt + 1, (gsize)(gt - lt - 1));
        *addr_out = bw_address_normalize(inner);
        g_autofree char *disp = bw_header_decode(raw, (size_t)lt);
        if (disp) {
            /* unquote */
            GString *s = g_string_new(NULL);
            for (const char *c = disp; *c && s->len < 512; c++)
                if (*c != '"')
                    g_string_append_c(s, *c);
            char *d = g_strstrip(g_string_free(s, FALSE));
            if (*d)
                *display_out = d;
            else
                g_free(d);
        }
    } else {
        g_autofree char *dec = g_strndup(raw, len);
        *addr_out = bw_address_normalize(dec);
        /* "addr (Display Name)" */
        const char *lp = memchr(raw, '(', len);
        const char *rp = lp ? memchr(lp, ')', len - (size_t)(lp - raw)) : NULL;
        if (lp && rp && rp > lp + 1)
            *display_out = bw_header_decode(lp + 1, (size_t)(rp - lp - 1));
    }
}

static void
hop_free_fields(bw_sig_hop_t *h)
{
    g_free(h->by);
    g_free(h->from_helo);
    g_free(h->from_rdns);
    g_free(h->from_ip);
}

static void
auth_free_fields(bw_sig_auth_t *a)
{
    g_free(a->authserv_id);
    for (unsigned i = 0; i < a->n_results && i < BW_SIG_MAX_AUTH_RESULTS; i++)
        g_free(a->results[i].domain);
}

static char *
empty_to_null(const char *s)
{
    return s && *s ? g_strdup(s) : NULL;
}

/* The domain of a property value: after '@' when there is one. */
static char *
prop_domain(const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == ';' || v[n - 1] == ',' || v[n - 1] == ')'))
        n--;
    const char *at = memchr(v, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - v);
        v = at + 1;
    }
    if (n == 0 || n > 253)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(g_ascii_isalnum(v[i]) || v[i] == '.' || v[i] == '-' || v[i] == '_'))
            return NULL;
    return g_ascii_strdown(v, (gssize)n);
}

/* RFC 8601: authserv-id [version] ; method=result [reason] [props] ; ...
 * Comments "(...)" are skipped; bounded. */
static void
parse_auth(const char *v, size_t len, bw_sig_auth_t *a)
{
    if (len > 8192)
        len = 8192;
    /* strip comments into a copy */
    GString *s = g_string_sized_new(len + 1);
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (c == '(' && depth < 8) {
            depth++;
            continue;
        }
        if (c == ')' && depth > 0) {
            depth--;
            continue;
        }
        if (depth == 0)
            g_string_append_c(s, (c == '\n' || c == '\t' || c == '\r') ? ' ' : c);
    }
    char *t = s->str;
    size_t tl = s->len;
    /* authserv-id (Exchange Online writes none: the first segment is
     * then a result) */
    size_t i = 0;
    while (i < tl && t[i] == ' ')
        i++;
    size_t b = i;
    while (i < tl && t[i] != ' ' && t[i] != ';')
        i++;
    bool has_id = i > b && memchr(t + b, '=', i - b) == NULL;
    if (has_id && i - b < 256)
        a->authserv_id = g_ascii_strdown(t + b, (gssize)(i - b));
    if (!has_id)
        i = b;
    /* segments: each starts after a ';' (or here, without an id) */
    bool first = !has_id;
    while (i < tl && a->n_results < BW_SIG_MAX_AUTH_RESULTS) {
        size_t sb;
        if (first) {
            sb = i;
            first = false;
        } else {
            const char *semi = memchr(t + i, ';', tl - i);
            if (semi == NULL)
                break;
            sb = (size_t)(semi - t) + 1;
        }
        const char *next = memchr(t + sb, ';', tl - sb);
        size_t se = next ? (size_t)(next - t) : tl;
        i = se;
        /* method=result */
        size_t k = sb;
        while (k < se && t[k] == ' ')
            k++;
        size_t mb = k;
        while (k < se && t[k] != '=' && t[k] != ' ')
            k++;
        if (k >= se || t[k] != '=')
            continue;
        size_t ml = k - mb;
        const char *method = NULL;
        if (ml == 4 && g_ascii_strncasecmp(t + mb, "dkim", 4) == 0)
            method = "dkim";
        else if (ml == 3 && g_ascii_strncasecmp(t + mb, "spf", 3) == 0)
            method = "spf";
        else if (ml == 5 && g_ascii_strncasecmp(t + mb, "dmarc", 5) == 0)
            method = "dmarc";
        if (method == NULL)
            continue;
        k++;
        /* The result is a keyword (RFC 8601: letters, digits, '-'): a
         * forged header's other bytes end it instead of being copied into
         * the fixed buffer, which no UTF-8 repair covers. */
        size_t rb = k;
        while (k < se && (g_ascii_isalnum(t[k]) || t[k] == '-'))
            k++;
        bw_sig_result_t *r = &a->results[a->n_results];
        memset(r, 0, sizeof *r);
        g_strlcpy(r->method, method, sizeof r->method);
        size_t rl = k - rb < sizeof r->result - 1 ? k - rb : sizeof r->result - 1;
        for (size_t q = 0; q < rl; q++)
            r->result[q] = g_ascii_tolower(t[rb + q]);
        r->result[rl] = '\0';
        /* properties */
        static const char *const props[] = { "header.d=", "header.i=", "smtp.mailfrom=", "header.from=",
                                             "smtp.helo=", NULL };
        for (unsigned p = 0; props[p] && r->domain == NULL; p++) {
            const char *f = bw_memcasestr(t + k, se - k, props[p]);
            if (f == NULL)
                continue;
            f += strlen(props[p]);
            const char *fe = f;
            while (fe < t + se && *fe != ' ' && *fe != ';')
                fe++;
            r->domain = prop_domain(f, (size_t)(fe - f));
        }
        a->n_results++;
    }
    g_string_free(s, TRUE);
}

/* d= of a DKIM-Signature value */
static char *
dkim_d(const char *v, size_t len)
{
    if (len > 8192)
        len = 8192;
    for (size_t i = 0; i + 2 < len; i++) {
        if (!(v[i] == 'd' || v[i] == 'D') || v[i + 1] != '=')
            continue;
        if (i > 0 && v[i - 1] != ';' && v[i - 1] != ' ' && v[i - 1] != '\t' && v[i - 1] != '\n')
            continue;
        size_t b = i + 2;
        while (b < len && (v[b] == ' ' || v[b] == '\t' || v[b] == '\n'))
            b++;
        size_t e = b;
        while (e < len && v[e] != ';' && v[e] != ' ' && v[e] != '\t' && v[e] != '\n')
            e++;
        return prop_domain(v + b, e - b);
    }
    return NULL;
}

typedef struct {
    bw_mailfacts_t *m;
    const char *from; size_t from_len;
    const char *subject; size_t subject_len;
    const char *date; size_t date_len;
    const char *ctype; size_t ctype_len;
} hdr_ctx_t;

static bool
on_field(const char *name, size_t nl, const char *v, size_t vl, unsigned index, void *data)
{
    hdr_ctx_t *c = data;
    bw_mailfacts_t *m = c->m;
    if (name_is(name, nl, "Received")) {
        if (m->hops->len >= BW_SIG_MAX_HOPS)
            return true;
        g_autofree char *sq = bw_strdup_squeezed(v, vl < BW_ENGINE_MAX_HOP_BYTES ? vl : BW_ENGINE_MAX_HOP_BYTES);
        bw_hop_t h;
        bool has_by = bw_hop_parse(sq, &h);
        bw_sig_hop_t sh = { 0 };
        sh.pos = index;
        sh.by = has_by ? empty_to_null(h.by) : NULL;
        sh.from_helo = empty_to_null(h.from_helo);
        sh.from_rdns = empty_to_null(h.from_rdns);
        sh.from_ip = empty_to_null(h.from_ip);
        sh.authenticated = h.authenticated;
        sh.http = h.http;
        sh.has_from = h.from_helo[0] != '\0' || h.from_ip[0] != '\0';
        g_array_append_val(m->hops, sh);
    } else if (name_is(name, nl, "Authentication-Results")) {
        if (m->auths->len >= BW_SIG_MAX_AUTH)
            return true;
        bw_sig_auth_t a;
        memset(&a, 0, sizeof a);
        a.pos = index;
        parse_auth(v, vl, &a);
        g_array_append_val(m->auths, a);
    } else if (name_is(name, nl, "DKIM-Signature")) {
        if (m->dkim_domains->len < BW_SIG_MAX_DKIM) {
            char *d = dkim_d(v, vl);
            if (d)
                g_ptr_array_add(m->dkim_domains, d);
        }
    } else if (name_is(name, nl, "From")) {
        if (c->from == NULL) {
            c->from = v;
            c->from_len = vl;
        }
    } else if (name_is(name, nl, "Subject")) {
        if (c->subject == NULL) {
            c->subject = v;
            c->subject_len = vl;
        }
    } else if (name_is(name, nl, "Date")) {
        if (c->date == NULL) {
            c->date = v;
            c->date_len = vl;
        }
    } else if (name_is(name, nl, "Content-Type")) {
        if (c->ctype == NULL) {
            c->ctype = v;
            c->ctype_len = vl;
        }
    } else if (name_is(name, nl, "Message-ID")) {
        if (m->message_id == NULL) {
            g_autofree char *s = g_strndup(v, vl < 2048 ? vl : 2048);
            m->message_id = bw_msgid_normalize(s);
        }
    } else if (name_is(name, nl, "Return-Path")) {
        if (m->return_path == NULL) {
            g_autofree char *s = g_strndup(v, vl < 1024 ? vl : 1024);
            m->return_path = bw_address_normalize(s);
            if (m->return_path == NULL)
                m->return_path = g_strdup("");
        }
    } else if (name_is(name, nl, "To") || name_is(name, nl, "Cc")) {
        bw_sig_address_list(v, vl, m->to, 64);
    } else if (name_is(name, nl, "In-Reply-To")) {
        if (m->in_reply_to == NULL) {
            g_autofree char *s = g_strndup(v, vl < 2048 ? vl : 2048);
            m->in_reply_to = bw_msgid_normalize(s);
        }
    } else if (name_is(name, nl, "References")) {
        /* every <id>, the last BW_SIG_MAX_REFS kept */
        size_t lim = vl < 65536 ? vl : 65536;
        for (size_t i = 0; i < lim; i++) {
            if (v[i] != '<')
                continue;
            const char *gt = memchr(v + i, '>', lim - i);
            if (gt == NULL)
                break;
            if (gt - (v + i) > 1 && gt - (v + i) < 1024) {
                char *id = g_strndup(v + i + 1, (gsize)(gt - v - i - 1));
                g_strstrip(id);
                if (*id && strchr(id, ' ') == NULL) {
                    if (m->references->len >= BW_SIG_MAX_REFS)
                        g_ptr_array_remove_index(m->references, 0);
                    g_ptr_array_add(m->references, id);
                } else {
                    g_free(id);
                }
            }
            i = (size_t)(gt - v);
        }
    } else if (name_is(name, nl, "Auto-Submitted")) {
        m->auto_submitted = !(vl >= 2 && g_ascii_strncasecmp(v, "no", 2) == 0 &&
                              (vl == 2 || !g_ascii_isalnum(v[2])));
    } else if (name_is(name, nl, "List-Id") || name_is(name, nl, "List-Post") ||
               name_is(name, nl, "List-Unsubscribe")) {
        m->list = true;
    } else if (name_is(name, nl, "Precedence")) {
        if (bw_memcasestr(v, vl, "list") || bw_memcasestr(v, vl, "bulk") || bw_memcasestr(v, vl, "junk"))
            m->list = true;
    }
    return true;
}

/* ------------------------------------------------------------ text */

typedef struct {
    guint32 start, end;
    guint16 id;
} sig_hit_t;

typedef struct {
    const char *text;
    size_t len;
    GArray *hits;
} scan_ctx_t;

static inline bool
ascii_alnum(unsigned char c)
{
    return c < 0x80 && g_ascii_isalnum(c);
}

static bool
on_hit(size_t id, size_t start, size_t end, void *data)
{
    scan_ctx_t *c = data;
    const char *pat = bw_sig_phrases[id].pattern;
    if (*pat == '^')
        pat++;
    size_t pl = strlen(pat);
    bool stem = bw_sig_phrase_is_stem(id);
    /* whole words at ASCII letter/digit edges */
    if (ascii_alnum((unsigned char)pat[0]) && start > 0 && ascii_alnum((unsigned char)c->text[start - 1]))
        return true;
    char last = stem ? pat[pl - 2] : pat[pl - 1];
    if (!stem && ascii_alnum((unsigned char)last) && end < c->len && ascii_alnum((unsigned char)c->text[end]))
        return true;
    sig_hit_t h = { (guint32)start, (guint32)end, (guint16)id };
    g_array_append_val(c->hits, h);
    return c->hits->len < MAX_HITS;
}

static gint
cmp_hit(gconstpointer a, gconstpointer b)
{
    const sig_hit_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static GArray *
scan_text(const char *text, size_t len)
{
    scan_ctx_t c = { text, len, g_array_new(FALSE, FALSE, sizeof(sig_hit_t)) };
    bw_matcher_scan(bw_sig_matcher(), text, len, on_hit, &c);
    g_array_sort(c.hits, cmp_hit);
    /* topic hits inside a masking phrase ("sign-in" in "sign-in
     * settings") go.  Hits are sorted by start: the masks that start at
     * or before a hit are walked once, keeping the farthest end. */
    g_autoptr(GArray) masks = g_array_new(FALSE, FALSE, sizeof(sig_hit_t));
    for (guint i = 0; i < c.hits->len; i++)
        if (bw_sig_phrases[g_array_index(c.hits, sig_hit_t, i).id].cat == SIG_MASK)
            g_array_append_val(masks, g_array_index(c.hits, sig_hit_t, i));
    if (masks->len > 0) {
        guint o = 0, mi = 0;
        guint32 reach = 0;
        for (guint i = 0; i < c.hits->len; i++) {
            sig_hit_t h = g_array_index(c.hits, sig_hit_t, i);
            while (mi < masks->len && g_array_index(masks, sig_hit_t, mi).start <= h.start) {
                reach = MAX(reach, g_array_index(masks, sig_hit_t, mi).end);
                mi++;
            }
            unsigned cat = bw_sig_phrases[h.id].cat;
            if ((cat == SIG_TOPIC || cat == SIG_STRONG) && reach >= h.end)
                continue;
            g_array_index(c.hits, sig_hit_t, o++) = h;
        }
        g_array_set_size(c.hits, o);
    }
    return c.hits;
}

static unsigned
cat_of(const sig_hit_t *h)
{
    return bw_sig_phrases[h->id].cat;
}

static unsigned
mask_of(const sig_hit_t *h)
{
    return bw_sig_phrases[h->id].mask;
}

/* What one clause says. */
typedef struct {
    unsigned topic, strong, event;   /* kind masks */
    int on, off;                     /* two-factor polarity phrases */
    size_t cut;                      /* where advice starts (clause end if none) */
    size_t first_topic[BW_SIGNAL_LAST]; /* offset of the first topic/strong hit per kind */
} clause_t;

static void
clause_read(const GArray *hits, guint *hi, size_t a, size_t b, clause_t *cl)
{
    memset(cl, 0, sizeof *cl);
    cl->cut = b;
    for (int k = 0; k < BW_SIGNAL_LAST; k++)
        cl->first_topic[k] = (size_t)-1;
    /* hits are sorted by start: those of [a, b) follow *hi */
    guint i = *hi;
    while (i < hits->len && g_array_index(hits, sig_hit_t, i).start < a)
        i++;
    guint first = i;
    for (; i < hits->len && g_array_index(hits, sig_hit_t, i).start < b; i++) {
        const sig_hit_t *h = &g_array_index(hits, sig_hit_t, i);
        if (cat_of(h) == SIG_ADVICE && h->start < cl->cut)
            cl->cut = h->start;
    }
    *hi = first;
    for (i = first; i < hits->len && g_array_index(hits, sig_hit_t, i).start < cl->cut; i++) {
        const sig_hit_t *h = &g_array_index(hits, sig_hit_t, i);
        unsigned m = mask_of(h);
        switch (cat_of(h)) {
        case SIG_TOPIC:
        case SIG_STRONG:
            if (cat_of(h) == SIG_TOPIC)
                cl->topic |= m;
            else
                cl->strong |= m;
            for (int k = 1; k < BW_SIGNAL_HUMAN_REPLY; k++)
                if ((m & SIG_K(k)) && cl->first_topic[k] == (size_t)-1)
                    cl->first_topic[k] = h->start;
            break;
        case SIG_EVENT:
            cl->event |= m;
            break;
        case SIG_ON:
            cl->on++;
            break;
        case SIG_OFF:
            cl->off++;
            break;
        default:
            break;
        }
    }
}

/* kinds the clause reports as having happened */
static unsigned
clause_hits(const clause_t *cl)
{
    return cl->strong | (cl->topic & cl->event) | (cl->topic & SIG_2FA & (cl->on || cl->off ? ~0u : 0u));
}

static bool
is_clause_end(const char *t, size_t i, size_t len, size_t *skip)
{
    unsigned char c = (unsigned char)t[i];
    *skip = 1;
    if (c == '.' || c == '!' || c == '?')
        return i + 1 >= len || t[i + 1] == ' ' || t[i + 1] == '\n' || t[i + 1] == '\t';
    if (c == '\n') {
        /* a blank line (maybe with blanks on it) */
        size_t k = i + 1;
        while (k < len && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r'))
            k++;
        return k < len && t[k] == '\n';
    }
    if (c == 0xE3 && i + 2 < len && (unsigned char)t[i + 1] == 0x80 && (unsigned char)t[i + 2] == 0x82) {
        *skip = 3;          /* 。 */
        return true;
    }
    if (c == 0xEF && i + 2 < len && (unsigned char)t[i + 1] == 0xBC &&
        ((unsigned char)t[i + 2] == 0x81 || (unsigned char)t[i + 2] == 0x9F)) {
        *skip = 3;          /* ！ ？ */
        return true;
    }
    return false;
}

/* Address characters around an '@' (as bw_address_normalize). */
static bool
addr_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

typedef struct {
    size_t pos;
    char *addr;
} text_addr_t;

static void
text_addr_clear(gpointer p)
{
    g_free(((text_addr_t *)p)->addr);
}

static void
text_addresses(const char *t, size_t len, GArray *out)
{
    for (const char *p = t; p < t + len && out->len < 64;) {
        const char *at = memchr(p, '@', (size_t)(t + len - p));
        if (at == NULL)
            break;
        const char *b = at, *e = at + 1;
        while (b > t && at - b < 64 && addr_char((unsigned char)b[-1]) && b[-1] != '/')
            b--;
        while (e < t + len && e - at < 254 && (g_ascii_isalnum(*e) || *e == '.' || *e == '-'))
            e++;
        while (e > at + 1 && e[-1] == '.')
            e--;
        while (b < at && (*b == '.' || *b == '\''))
            b++;
        if (b < at && e > at + 1 && memchr(at + 1, '.', (size_t)(e - at - 1)) != NULL) {
            text_addr_t ta = { (size_t)(b - t), g_ascii_strdown(b, e - b) };
            g_array_append_val(out, ta);
        }
        p = e > at ? e : at + 1;
    }
}

static void
url_domains(const char *t, size_t len, GPtrArray *out)
{
    for (const char *p = t; p < t + len && out->len < 8;) {
        const char *f = bw_memcasestr(p, (size_t)(t + len - p), "://");
        if (f == NULL)
            break;
        const char *b = f + 3, *e = b;
        while (e < t + len && e - b < 253 && (g_ascii_isalnum(*e) || *e == '.' || *e == '-'))
            e++;
        if (e > b && memchr(b, '.', (size_t)(e - b))) {
            char *d = g_ascii_strdown(b, e - b);
            bool dup = false;
            for (guint k = 0; k < out->len && !dup; k++)
                dup = strcmp(g_ptr_array_index(out, k), d) == 0;
            if (dup)
                g_free(d);
            else
                g_ptr_array_add(out, d);
        }
        p = e > f + 3 ? e : f + 3;
    }
}

/* An IPv4 or IPv6 address in text (first one), g_free. */
static char *
find_ip(const char *t, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!(g_ascii_isxdigit(c) || c == ':'))
            continue;
        if (i > 0 && (g_ascii_isalnum(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == ':' || t[i - 1] == '/'))
            continue;
        size_t e = i;
        while (e < len && e - i < 45 && (g_ascii_isxdigit(t[e]) || t[e] == '.' || t[e] == ':'))
            e++;
        while (e > i && (t[e - 1] == '.' || t[e - 1] == ':'))
            e--;
        if (e - i >= 7 && !(e < len && (g_ascii_isalnum(t[e]) || t[e] == '/'))) {
            char buf[64];
            memcpy(buf, t + i, e - i);
            buf[e - i] = '\0';
            unsigned dots = 0, colons = 0;
            for (char *q = buf; *q; q++) {
                dots += *q == '.';
                colons += *q == ':';
            }
            if ((dots == 3 || colons >= 2) && g_hostname_is_ip_address(buf))
                return g_strdup(buf);
        }
        i = e;
    }
    return NULL;
}

/* The value after a label hit: "Label: value" (also "：", a table cell's
 * tab, "|"), to the end of the line; NULL when no separator follows. */
static char *
label_value(const char *t, size_t len, size_t end)
{
    size_t k = end;
    while (k < len && (t[k] == ' ' || t[k] == '*'))
        k++;
    if (k < len && t[k] == ':') {
        k++;
    } else if (k + 2 < len && (unsigned char)t[k] == 0xEF && (unsigned char)t[k + 1] == 0xBC &&
               (unsigned char)t[k + 2] == 0x9A) {
        k += 3;                 /* ： */
    } else if (k < len && (t[k] == '\t' || t[k] == '|')) {
        k++;
    } else {
        return NULL;
    }
    while (k < len && (t[k] == ' ' || t[k] == '\t' || t[k] == '*'))
        k++;
    size_t e = k;
    while (e < len && t[e] != '\n' && e - k < 400)
        e++;
    if (e == k)
        return NULL;
    char *v = bw_strdup_squeezed(t + k, e - k);
    /* "Kyiv, Ukraine (IP address 1.2.3.4)": the place before the aside */
    char *paren = strstr(v, " (");
    if (paren && paren != v)
        *paren = '\0';
    /* the table cell: up to the next tab-separated cell */
    char *tab = strchr(v, '\t');
    if (tab)
        *tab = '\0';
    g_strstrip(v);
    if (*v == '\0' || strlen(v) > BW_SIG_MAX_FACT) {
        if (*v != '\0') {
            /* cut at a character boundary */
            const char *cut = g_utf8_find_prev_char(v, v + BW_SIG_MAX_FACT);
            if (cut)
                v[cut - v] = '\0';
            return v;
        }
        g_free(v);
        return NULL;
    }
    return v;
}

static char *
cut_fact(const char *s, size_t n)
{
    char *v = bw_strdup_squeezed(s, n < 4 * BW_SIG_MAX_FACT ? n : 4 * BW_SIG_MAX_FACT);
    if (strlen(v) > BW_SIG_MAX_FACT) {
        const char *cut = g_utf8_find_prev_char(v, v + BW_SIG_MAX_FACT);
        if (cut)
            v[cut - v] = '\0';
    }
    return v;
}

/* A phone number after a recovery topic: digits with +, spaces, dashes,
 * parentheses and masking characters, at least two digits. */
static char *
find_phone(const char *t, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)t[i];
        bool mask = c == '*' || c == 0xE2;   /* '*' or the start of "•" */
        if (!(c == '+' || g_ascii_isdigit(c) || mask))
            continue;
        size_t e = i;
        unsigned digits = 0, len = 0;
        while (e < to && len < 32) {
            unsigned char d = (unsigned char)t[e];
            if (g_ascii_isdigit(d)) {
                digits++;
            } else if (d == 0xE2 && e + 2 < to && (unsigned char)t[e + 1] == 0x80 &&
                       (unsigned char)t[e + 2] == 0xA2) {
                e += 2;             /* • */
            } else if (!(d == '+' || d == ' ' || d == '-' || d == '(' || d == ')' || d == '*' || d == '.')) {
                break;
            }
            e++;
            len++;
        }
        while (e > i && (t[e - 1] == ' ' || t[e - 1] == '.' || t[e - 1] == '-'))
            e--;
        if (digits >= 2 && e - i >= 6)
            return g_strndup(t + i, e - i);
        i = e;
    }
    return NULL;
}

typedef struct {
    int score[BW_SIGNAL_LAST];
    int subject_hit[BW_SIGNAL_LAST];
    int body_hits[BW_SIGNAL_LAST];
    int body_strong[BW_SIGNAL_LAST];
    int body_topic[BW_SIGNAL_LAST];     /* clauses naming the topic without an event */
    bool subject_topic[BW_SIGNAL_LAST];
    bool subject_strong[BW_SIGNAL_LAST];
    bool label_target[BW_SIGNAL_LAST];
    bool subject_security;
    int on, off, reenable;
    int subj_on, subj_off;
    /* the IP found anywhere in the text, when no label gave one: looked
     * for only when it counts (see ip_resolve) */
    const char *ip_text;
    size_t ip_len;
    bool ip_pending;
    /* notable-only: a text without a phrase is not read further (see
     * read_text) */
    bool quick;
    bool text_skipped;
} verdict_t;

/* The text's first IP as m->ip, when read_text left it pending: the same
 * find_ip on the same text, later.  Most messages never need it (it
 * counts for a sign-in alert only, and only then is it kept). */
static void
ip_resolve(bw_mailfacts_t *m, verdict_t *v)
{
    if (!v->ip_pending)
        return;
    v->ip_pending = false;
    m->ip = find_ip(v->ip_text, v->ip_len);
}

/* Order of preference on equal scores: the most specific (and the takeover
 * steps) first; a sign-in alert mentions passwords and devices in passing. */
static const bw_signal_kind_t kind_order[] = {
    BW_SIGNAL_SENDING_BLOCKED, BW_SIGNAL_FORWARDING_ADDED, BW_SIGNAL_RECOVERY_CHANGED,
    BW_SIGNAL_TWO_FACTOR_CHANGED, BW_SIGNAL_PASSWORD_CHANGED, BW_SIGNAL_SIGN_IN_ALERT,
};

static void
read_subject(bw_mailfacts_t *m, verdict_t *v)
{
    if (m->subject == NULL || *m->subject == '\0')
        return;
    size_t len = strnlen(m->subject, 2048);
    g_autoptr(GArray) hits = scan_text(m->subject, len);
    clause_t cl;
    guint hi = 0;
    clause_read(hits, &hi, 0, len, &cl);
    unsigned happened = clause_hits(&cl);
    for (int k = 1; k < BW_SIGNAL_HUMAN_REPLY; k++) {
        if (happened & SIG_K(k))
            v->subject_hit[k] = 1;
        if ((cl.topic | cl.strong) & SIG_K(k))
            v->subject_topic[k] = true;
        if (cl.strong & SIG_K(k))
            v->subject_strong[k] = true;
    }
    v->subj_on = cl.on;
    v->subj_off = cl.off;
    for (guint i = 0; i < hits->len; i++) {
        const sig_hit_t *h = &g_array_index(hits, sig_hit_t, i);
        switch (cat_of(h)) {
        case SIG_SECURITY:
        case SIG_MASK:
            v->subject_security = true;
            break;
        case SIG_BAIT:
            m->bait = true;
            break;
        case SIG_CHATTER:
            m->chatter = true;
            break;
        case SIG_ASK:
            m->asks = true;
            break;
        case SIG_REENABLE:
            v->reenable++;
            break;
        default:
            break;
        }
    }
}

static void
read_text(bw_mailfacts_t *m, const char *t, size_t len, verdict_t *v)
{
    g_autoptr(GArray) hits = scan_text(t, len);
    /* Without a single phrase, the text cannot make the message notable:
     * every topic, event, label, bait or question below is a hit, and
     * without a label's device or place the IP counts for nothing.  What
     * is left (the quoted part, the addresses, the link domains) are facts
     * of a message worth keeping, which a notable-only read gets from a
     * full read when the Subject alone made it notable. */
    if (v->quick && hits->len == 0) {
        v->text_skipped = true;
        return;
    }
    /* where a quoted earlier message starts: the line of the first marker */
    size_t quote = len;
    for (guint i = 0; i < hits->len; i++) {
        const sig_hit_t *h = &g_array_index(hits, sig_hit_t, i);
        if (cat_of(h) == SIG_QUOTE) {
            size_t ls = h->start;
            while (ls > 0 && t[ls - 1] != '\n' && h->start - ls < 400)
                ls--;
            if (ls < quote)
                quote = ls;
            m->quotes_intro = true;
        }
    }
    /* a report's copy of the original (quoted in its text) is someone
     * else's words: stop there too */
    size_t marker = bw_original_find_marker(t, len);
    if (marker != (size_t)-1 && marker < quote) {
        quote = marker;
        m->quotes_intro = true;
    }
    /* addresses in the text, with their offsets */
    g_autoptr(GArray) addrs = g_array_new(FALSE, FALSE, sizeof(text_addr_t));
    g_array_set_clear_func(addrs, text_addr_clear);
    text_addresses(t, quote, addrs);
    for (guint i = 0; i < addrs->len && m->text_addresses->len < BW_SIG_MAX_ADDRESSES; i++)
        g_ptr_array_add(m->text_addresses, g_strdup(g_array_index(addrs, text_addr_t, i).addr));
    url_domains(t, quote, m->url_domains);

    /* global categories and labels */
    for (guint i = 0; i < hits->len; i++) {
        const sig_hit_t *h = &g_array_index(hits, sig_hit_t, i);
        if (h->start >= quote)
            break;
        bool quoted_line = false;
        {
            size_t ls = h->start;
            while (ls > 0 && t[ls - 1] != '\n' && h->start - ls < 200)
                ls--;
            quoted_line = t[ls] == '>';
        }
        char **slot = NULL;
        switch (cat_of(h)) {
        case SIG_BAIT:
            m->bait = true;
            break;
        case SIG_CHATTER:
            m->chatter = true;
            break;
        case SIG_ASK:
            if (!quoted_line)
                m->asks = true;
            break;
        case SIG_REENABLE:
            v->reenable++;
            break;
        case SIG_LABEL_DEVICE:
            slot = &m->device;
            break;
        case SIG_LABEL_PLACE:
            slot = &m->place;
            break;
        case SIG_LABEL_IP:
            slot = &m->ip;
            break;
        case SIG_LABEL_TIME:
            slot = &m->time;
            break;
        case SIG_LABEL_TARGET: {
            /* the first address after the label, within a short reach */
            for (guint k = 0; k < addrs->len; k++) {
                const text_addr_t *ta = &g_array_index(addrs, text_addr_t, k);
                if (ta->pos >= h->end && ta->pos - h->end < 200) {
                    unsigned mm = mask_of(h);
                    for (int kind = 1; kind < BW_SIGNAL_HUMAN_REPLY; kind++)
                        if (mm & SIG_K(kind))
                            v->label_target[kind] = true;
                    if (m->topic_addresses->len < 8)
                        g_ptr_array_add(m->topic_addresses, g_strdup_printf("%u\t%s", mm, ta->addr));
                    break;
                }
            }
            break;
        }
        default:
            break;
        }
        if (slot && *slot == NULL) {
            char *val = label_value(t, quote, h->end);
            if (val && slot == &m->ip) {
                char *ip = find_ip(val, strlen(val));
                g_free(val);
                val = ip;
            }
            *slot = val;
        }
    }

    /* clauses: one walk over the text, each byte looked at once */
    guint hi = 0;
    size_t a = 0;
    unsigned n_clauses = 0;
    while (a < quote && n_clauses < MAX_CLAUSES) {
        size_t b = quote;
        for (size_t i = a; i < quote; i++) {
            size_t skip = 1;
            if (is_clause_end(t, i, quote, &skip)) {
                b = i + skip < quote ? i + skip : quote;
                break;
            }
        }
        clause_t cl;
        clause_read(hits, &hi, a, b, &cl);
        unsigned happened = clause_hits(&cl);
        for (int k = 1; k < BW_SIGNAL_HUMAN_REPLY; k++) {
            if (!(happened & SIG_K(k))) {
                if (cl.topic & SIG_K(k))
                    v->body_topic[k]++;
                continue;
            }
            v->body_hits[k]++;
            if (cl.strong & SIG_K(k))
                v->body_strong[k]++;
            if (k == BW_SIGNAL_SENDING_BLOCKED && m->limit == NULL)
                m->limit = cut_fact(t + a, cl.cut - a);
        }
        /* addresses named in a clause about forwarding or the recovery
         * address, whether or not the clause itself reports the change
         * ("Alle E-Mails werden ab sofort an X weitergeleitet") */
        for (int k = BW_SIGNAL_RECOVERY_CHANGED; k <= BW_SIGNAL_FORWARDING_ADDED; k++) {
            if (cl.first_topic[k] == (size_t)-1)
                continue;
            /* after the topic first ("forwarded to X"), then before it */
            for (int pass = 0; pass < 2; pass++)
                for (guint q = 0; q < addrs->len && m->topic_addresses->len < 8; q++) {
                    const text_addr_t *ta = &g_array_index(addrs, text_addr_t, q);
                    bool after = ta->pos > cl.first_topic[k];
                    if (ta->pos >= a && ta->pos < b && after == (pass == 0))
                        g_ptr_array_add(m->topic_addresses,
                                        g_strdup_printf("%u\t%s", (unsigned)SIG_K(k), ta->addr));
                }
            if (k == BW_SIGNAL_RECOVERY_CHANGED && m->phone == NULL)
                m->phone = find_phone(t, cl.first_topic[k], b);
        }
        if (cl.topic & SIG_2FA) {
            v->on += cl.on;
            v->off += cl.off;
        }
        n_clauses++;
        a = b;
    }
    if (m->ip == NULL) {
        v->ip_text = t;
        v->ip_len = quote < 16384 ? quote : 16384;
        v->ip_pending = true;
    }
}

static void
decide_topic(bw_mailfacts_t *m, verdict_t *v)
{
    int best = 0;
    bw_signal_kind_t best_kind = BW_SIGNAL_NONE;
    bool any_subject_topic = false;
    for (int k = 1; k < BW_SIGNAL_HUMAN_REPLY; k++)
        any_subject_topic |= v->subject_topic[k];
    /* the IP decides the sign-in bonus only beside exactly one other fact */
    if ((m->device != NULL) + (m->place != NULL) == 1 &&
        (v->body_hits[BW_SIGNAL_SIGN_IN_ALERT] > 0 || v->subject_topic[BW_SIGNAL_SIGN_IN_ALERT]))
        ip_resolve(m, v);
    int sign_in_facts = (m->device != NULL) + (m->place != NULL) + (m->ip != NULL);
    for (unsigned o = 0; o < G_N_ELEMENTS(kind_order); o++) {
        bw_signal_kind_t k = kind_order[o];
        int s = 6 * v->subject_hit[k];
        if (!v->subject_hit[k] && v->subject_topic[k])
            s += 3;
        s += 2 * MIN(v->body_hits[k], 3) + MIN(v->body_strong[k], 2) + MIN(v->body_topic[k], 2);
        if (v->label_target[k])
            s += 3;
        if (v->subject_security && !any_subject_topic && v->body_hits[k] > 0)
            s += 2;
        if (k == BW_SIGNAL_SIGN_IN_ALERT && sign_in_facts >= 2 && (v->body_hits[k] > 0 || v->subject_topic[k]))
            s += 2;
        v->score[k] = s;
        if (s > best) {
            best = s;
            best_kind = k;
        }
    }
    m->topic_score = best;
    m->topic = best >= 4 ? best_kind : BW_SIGNAL_NONE;
    m->topic_strong = m->topic != BW_SIGNAL_NONE && (v->body_strong[m->topic] > 0 || v->subject_strong[m->topic]);
    m->two_factor = -1;
    if (m->topic == BW_SIGNAL_TWO_FACTOR_CHANGED) {
        if (v->subj_off > 0 && v->subj_on == 0)
            m->two_factor = 0;
        else if (v->subj_on > 0 && v->subj_off == 0)
            m->two_factor = 1;
        else if (v->off + 2 * v->reenable > 0 && v->off + 2 * v->reenable >= v->on)
            m->two_factor = 0;
        else if (v->on > 0)
            m->two_factor = 1;
    }
    /* facts of other kinds are dropped: a password notice's "When:" is
     * kept, a device line is only a sign-in's */
    if (m->topic == BW_SIGNAL_SIGN_IN_ALERT)
        ip_resolve(m, v);
    v->ip_pending = false;
    if (m->topic != BW_SIGNAL_SIGN_IN_ALERT) {
        g_clear_pointer(&m->device, g_free);
        g_clear_pointer(&m->place, g_free);
        g_clear_pointer(&m->ip, g_free);
    }
    if (m->topic != BW_SIGNAL_SENDING_BLOCKED)
        g_clear_pointer(&m->limit, g_free);
    if (m->topic != BW_SIGNAL_RECOVERY_CHANGED)
        g_clear_pointer(&m->phone, g_free);
    /* keep the addresses of the chosen kind only, without the mask */
    GPtrArray *keep = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < m->topic_addresses->len; i++) {
        const char *s = g_ptr_array_index(m->topic_addresses, i);
        unsigned mm = (unsigned)g_ascii_strtoull(s, NULL, 10);
        const char *tab = strchr(s, '\t');
        if (tab && m->topic != BW_SIGNAL_NONE && (mm & SIG_K(m->topic))) {
            bool dup = false;
            for (guint k = 0; k < keep->len && !dup; k++)
                dup = strcmp(g_ptr_array_index(keep, k), tab + 1) == 0;
            if (!dup)
                g_ptr_array_add(keep, g_strdup(tab + 1));
        }
    }
    g_ptr_array_unref(m->topic_addresses);
    m->topic_addresses = keep;
}

/* An HTML body as text, with each table cell after a tab so that
 * "<td>Where</td><td>Lagos</td>" reads "Where<TAB>Lagos". */
static char *
html_text(const char *html, size_t len, size_t *len_out)
{
    GString *s = g_string_sized_new(len + 64);
    for (size_t i = 0; i < len; i++) {
        if (html[i] == '<' && i + 3 < len && (html[i + 1] == 't' || html[i + 1] == 'T') &&
            (html[i + 2] == 'd' || html[i + 2] == 'D' || html[i + 2] == 'h' || html[i + 2] == 'H') &&
            !g_ascii_isalnum(html[i + 3]))
            g_string_append_c(s, '\t');
        g_string_append_c(s, html[i]);
    }
    char *t = bw_html_to_text(s->str, s->len, len_out);
    g_string_free(s, TRUE);
    return t;
}

static bool
is_attachment(const bw_mpart_t *mp)
{
    size_t vl = 0;
    const char *cd = bw_hdr_find(mp->hdr, mp->hdr_len, "Content-Disposition", &vl);
    return cd != NULL && vl >= 10 && g_ascii_strncasecmp(cd, "attachment", 10) == 0;
}

/* The text a person reads: the first text/plain part outside attached
 * messages, else the first text/html; a delivery-status part appended
 * (a provider's refusal says why there). */
static char *
body_text(const char *data, size_t len, bw_mailfacts_t *m, size_t *len_out)
{
    *len_out = 0;
    g_autoptr(bw_mime_t) mime = bw_mime_parse(data, len);
    const bw_mpart_t *parts = (const bw_mpart_t *)(void *)mime->parts->data;
    int plain = -1, html = -1, status = -1;
    for (guint i = 0; i < mime->parts->len; i++) {
        const bw_mpart_t *mp = &parts[i];
        if (mp->in_message)
            continue;
        if (bw_mpart_is(mp, "multipart", "report") || bw_mpart_is(mp, "message", "delivery-status") ||
            bw_mpart_is(mp, "message", "feedback-report"))
            m->report = true;
        if (bw_mpart_is(mp, "message", "delivery-status") && status < 0)
            status = (int)i;
        if (strcmp(mp->type, "text") != 0)
            continue;
        if (is_attachment(mp))
            continue;
        if (strcmp(mp->subtype, "plain") == 0 && plain < 0)
            plain = (int)i;
        else if (strcmp(mp->subtype, "html") == 0 && html < 0)
            html = (int)i;
    }
    GString *out = g_string_new(NULL);
    if (plain >= 0) {
        size_t tl = 0;
        g_autofree char *t = bw_mpart_text(&parts[plain], BW_SIG_MAX_TEXT, &tl);
        if (t)
            g_string_append_len(out, t, (gssize)tl);
    }
    if (out->len == 0 && html >= 0) {
        size_t rl = 0;
        g_autofree char *raw = bw_mpart_raw(&parts[html], BW_SIG_MAX_TEXT * 2, &rl);
        if (raw) {
            size_t ul = 0, tl = 0;
            g_autofree char *u = bw_to_utf8(raw, rl, parts[html].charset[0] ? parts[html].charset : NULL, &ul);
            g_autofree char *t = html_text(u, ul, &tl);
            g_string_append_len(out, t, (gssize)tl);
        }
    }
    if (status >= 0 && out->len < BW_SIG_MAX_TEXT) {
        size_t sl = 0;
        g_autofree char *st = bw_mpart_text(&parts[status], 8192, &sl);
        if (st) {
            g_string_append(out, "\n\n");
            g_string_append_len(out, st, (gssize)sl);
        }
    }
    if (out->len > BW_SIG_MAX_TEXT) {
        const char *cut = g_utf8_find_prev_char(out->str, out->str + BW_SIG_MAX_TEXT);
        g_string_truncate(out, cut ? (gsize)(cut - out->str) : BW_SIG_MAX_TEXT);
    }
    *len_out = out->len;
    return g_string_free(out, FALSE);
}

void
bw_sig_fix_utf8(char **s)
{
    if (s == NULL || *s == NULL || g_utf8_validate(*s, -1, NULL))
        return;
    char *v = g_utf8_make_valid(*s, -1);
    g_free(*s);
    *s = v;
}

void
bw_sig_fix_utf8_all(GPtrArray *strings)
{
    for (guint i = 0; strings && i < strings->len; i++)
        bw_sig_fix_utf8((char **)&strings->pdata[i]);
}

static void
mailfacts_fix_utf8(bw_mailfacts_t *m)
{
    char **one[] = { &m->message_id, &m->subject, &m->from_addr, &m->from_display, &m->return_path,
                     &m->in_reply_to, &m->device, &m->place, &m->ip, &m->time, &m->limit, &m->phone };
    for (unsigned i = 0; i < G_N_ELEMENTS(one); i++)
        bw_sig_fix_utf8(one[i]);
    GPtrArray *many[] = { m->to, m->references, m->dkim_domains, m->topic_addresses, m->text_addresses,
                          m->url_domains };
    for (unsigned i = 0; i < G_N_ELEMENTS(many); i++)
        bw_sig_fix_utf8_all(many[i]);
    for (guint i = 0; i < m->hops->len; i++) {
        bw_sig_hop_t *h = &g_array_index(m->hops, bw_sig_hop_t, i);
        bw_sig_fix_utf8(&h->by);
        bw_sig_fix_utf8(&h->from_helo);
        bw_sig_fix_utf8(&h->from_rdns);
        bw_sig_fix_utf8(&h->from_ip);
    }
    for (guint i = 0; i < m->auths->len; i++) {
        bw_sig_auth_t *a = &g_array_index(m->auths, bw_sig_auth_t, i);
        bw_sig_fix_utf8(&a->authserv_id);
        for (unsigned k = 0; k < a->n_results; k++)
            bw_sig_fix_utf8(&a->results[k].domain);
    }
}

static bw_mailfacts_t *
mailfacts_new(void)
{
    bw_mailfacts_t *m = g_new0(bw_mailfacts_t, 1);
    m->to = g_ptr_array_new_with_free_func(g_free);
    m->references = g_ptr_array_new_with_free_func(g_free);
    m->dkim_domains = g_ptr_array_new_with_free_func(g_free);
    m->hops = g_array_new(FALSE, TRUE, sizeof(bw_sig_hop_t));
    m->auths = g_array_new(FALSE, TRUE, sizeof(bw_sig_auth_t));
    m->topic_addresses = g_ptr_array_new_with_free_func(g_free);
    m->text_addresses = g_ptr_array_new_with_free_func(g_free);
    m->url_domains = g_ptr_array_new_with_free_func(g_free);
    m->two_factor = -1;
    return m;
}

void
bw_mailfacts_free(bw_mailfacts_t *m)
{
    if (m == NULL)
        return;
    g_free(m->message_id);
    g_free(m->subject);
    g_free(m->from_addr);
    g_free(m->from_display);
    g_free(m->return_path);
    g_ptr_array_unref(m->to);
    g_free(m->in_reply_to);
    g_ptr_array_unref(m->references);
    g_ptr_array_unref(m->dkim_domains);
    for (guint i = 0; i < m->hops->len; i++)
        hop_free_fields(&g_array_index(m->hops, bw_sig_hop_t, i));
    g_array_unref(m->hops);
    for (guint i = 0; i < m->auths->len; i++)
        auth_free_fields(&g_array_index(m->auths, bw_sig_auth_t, i));
    g_array_unref(m->auths);
    g_free(m->device);
    g_free(m->place);
    g_free(m->ip);
    g_free(m->time);
    g_free(m->limit);
    g_ptr_array_unref(m->topic_addresses);
    g_free(m->phone);
    g_ptr_array_unref(m->text_addresses);
    g_ptr_array_unref(m->url_domains);
    g_free(m);
}

bool
bw_mailfacts_notable(const bw_mailfacts_t *m)
{
    return m->topic != BW_SIGNAL_NONE || m->bait || m->asks;
}

/* The first Subject field, as on_field finds it (the walk stops there). */
static bool
on_subject(const char *name, size_t nl, const char *v, size_t vl, unsigned index, void *data)
{
    (void)index;
    hdr_ctx_t *c = data;
    if (!name_is(name, nl, "Subject"))
        return true;
    c->subject = v;
    c->subject_len = vl;
    return false;
}

/* The facts of the header fields but the Subject (the text's are apart:
 * neither reads what the other sets). */
static void
read_header_facts(bw_mailfacts_t *m, const char *msg, size_t hlen, hdr_ctx_t *hc)
{
    m->n_fields = bw_sig_fields(msg, hlen, on_field, hc);
    if (hc->from)
        split_from(hc->from, hc->from_len, &m->from_addr, &m->from_display);
    if (hc->date) {
        g_autofree char *d = bw_strdup_squeezed(hc->date, hc->date_len < 256 ? hc->date_len : 256);
        gint64 t = 0;
        if (bw_time_parse(d, &t, NULL))
            m->date_unix = t;
    }
    if (hc->ctype && bw_memcasestr(hc->ctype, hc->ctype_len, "multipart/report"))
        m->report = true;
}

/* bw_mailfacts_read; with `notable_only`, *out NULL for facts that are not
 * notable.  Whether they are depends on the Subject and the text alone
 * (read_subject, body_text, read_text, decide_topic read nothing else), so
 * the other header fields (Received hops, Authentication-Results, the
 * Date...), most of the cost, are read only for notable mail: the same
 * facts, from the same walk, as a full read gives.  So is the rest of a
 * text without a phrase (read_text). */
static bw_status_t
mailfacts_read(const char *data, size_t len, bool notable_only, bw_mailfacts_t **out,
               char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    bw_status_t st = bw_message_check(data, len, detail);
    if (st != BW_OK)
        return st;
    size_t nlen = 0;
    g_autofree char *norm = bw_message_normalize(data, len, &nlen);
    /* leading blank lines (bw_message_check allows them) */
    size_t off = 0;
    while (off < nlen && off < 4096 && (norm[off] == '\n' || norm[off] == ' ' || norm[off] == '\t'))
        off++;
    const char *msg = norm + off;
    size_t mlen = nlen - off;
    size_t hlen = bw_sig_header_len(msg, mlen);

    bw_mailfacts_t *m = mailfacts_new();
    hdr_ctx_t hc = { .m = m };
    if (notable_only)
        (void)bw_sig_fields(msg, hlen, on_subject, &hc);
    else
        read_header_facts(m, msg, hlen, &hc);
    if (hc.subject)
        m->subject = bw_header_decode(hc.subject, hc.subject_len);

    verdict_t v;
    memset(&v, 0, sizeof v);
    v.quick = notable_only;
    read_subject(m, &v);
    size_t tl = 0;
    g_autofree char *text = body_text(msg, mlen, m, &tl);
    if (text && tl > 0)
        read_text(m, text, tl, &v);
    decide_topic(m, &v);
    if (notable_only) {
        if (!bw_mailfacts_notable(m)) {
            bw_mailfacts_free(m);
            return BW_OK;
        }
        if (v.text_skipped) {
            /* notable by its Subject: the text's facts too */
            bw_mailfacts_free(m);
            return mailfacts_read(data, len, false, out, detail);
        }
        hdr_ctx_t full = { .m = m };
        read_header_facts(m, msg, hlen, &full);
    }
    mailfacts_fix_utf8(m);
    *out = m;
    return BW_OK;
}

bw_status_t
bw_mailfacts_read(const char *data, size_t len, bw_mailfacts_t **out, char **detail)
{
    return mailfacts_read(data, len, false, out, detail);
}

bw_status_t
bw_mailfacts_read_notable(const char *data, size_t len, bw_mailfacts_t **out, char **detail)
{
    return mailfacts_read(data, len, true, out, detail);
}

/* ------------------------------------------------------------ JSON */

GPtrArray *
bw_sig_json_get_strv(JsonObject *o, const char *key, guint max)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    JsonNode *n = json_object_get_member(o, key);
    if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n))
        return out;
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a) && out->len < max; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
            g_ptr_array_add(out, g_strdup(json_node_get_string(e)));
    }
    return out;
}

char *
bw_sig_json_get_str(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return g_strdup(json_node_get_string(n));
}

gint64
bw_sig_json_get_int(JsonObject *o, const char *key, gint64 dflt)
{
    JsonNode *n = json_object_get_member(o, key);
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n))
        return dflt;
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64)
        return json_node_get_int(n);
    if (t == G_TYPE_DOUBLE)
        return (gint64)json_node_get_double(n);
    if (t == G_TYPE_BOOLEAN)
        return json_node_get_boolean(n);
    return dflt;
}

void
bw_sig_json_opt_str(JsonBuilder *b, const char *key, const char *v)
{
    if (v == NULL)
        return;
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, v);
}

JsonNode *
bw_mailfacts_to_json(const bw_mailfacts_t *m)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    bw_sig_json_opt_str(b, "message_id", m->message_id);
    json_builder_set_member_name(b, "date");
    json_builder_add_int_value(b, m->date_unix);
    bw_sig_json_opt_str(b, "subject", m->subject);
    bw_sig_json_opt_str(b, "from", m->from_addr);
    bw_sig_json_opt_str(b, "display", m->from_display);
    bw_sig_json_opt_str(b, "return_path", m->return_path);
    bw_json_add_strv(b, "to", m->to);
    bw_sig_json_opt_str(b, "in_reply_to", m->in_reply_to);
    bw_json_add_strv(b, "references", m->references);
    json_builder_set_member_name(b, "flags");
    json_builder_add_int_value(b, (m->auto_submitted ? 1 : 0) | (m->list ? 2 : 0) | (m->report ? 4 : 0) |
                                  (m->bait ? 8 : 0) | (m->chatter ? 16 : 0) | (m->asks ? 32 : 0) |
                                  (m->quotes_intro ? 64 : 0) | (m->topic_strong ? 128 : 0));
    bw_json_add_strv(b, "dkim", m->dkim_domains);
    json_builder_set_member_name(b, "hops");
    json_builder_begin_array(b);
    for (guint i = 0; i < m->hops->len; i++) {
        const bw_sig_hop_t *h = &g_array_index(m->hops, bw_sig_hop_t, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "pos");
        json_builder_add_int_value(b, h->pos);
        bw_sig_json_opt_str(b, "by", h->by);
        bw_sig_json_opt_str(b, "helo", h->from_helo);
        bw_sig_json_opt_str(b, "rdns", h->from_rdns);
        bw_sig_json_opt_str(b, "ip", h->from_ip);
        json_builder_set_member_name(b, "flags");
        json_builder_add_int_value(b, (h->authenticated ? 1 : 0) | (h->http ? 2 : 0) | (h->has_from ? 4 : 0));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "auths");
    json_builder_begin_array(b);
    for (guint i = 0; i < m->auths->len; i++) {
        const bw_sig_auth_t *a = &g_array_index(m->auths, bw_sig_auth_t, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "pos");
        json_builder_add_int_value(b, a->pos);
        bw_sig_json_opt_str(b, "id", a->authserv_id);
        json_builder_set_member_name(b, "results");
        json_builder_begin_array(b);
        for (unsigned k = 0; k < a->n_results; k++) {
            json_builder_begin_array(b);
            json_builder_add_string_value(b, a->results[k].method);
            json_builder_add_string_value(b, a->results[k].result);
            json_builder_add_string_value(b, a->results[k].domain ? a->results[k].domain : "");
            json_builder_end_array(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "fields");
    json_builder_add_int_value(b, m->n_fields);
    bw_sig_json_opt_str(b, "topic", bw_signal_kind_to_string(m->topic));
    json_builder_set_member_name(b, "topic_score");
    json_builder_add_int_value(b, m->topic_score);
    json_builder_set_member_name(b, "two_factor");
    json_builder_add_int_value(b, m->two_factor);
    bw_sig_json_opt_str(b, "device", m->device);
    bw_sig_json_opt_str(b, "place", m->place);
    bw_sig_json_opt_str(b, "ip", m->ip);
    bw_sig_json_opt_str(b, "time", m->time);
    bw_sig_json_opt_str(b, "limit", m->limit);
    bw_sig_json_opt_str(b, "phone", m->phone);
    bw_json_add_strv(b, "topic_addresses", m->topic_addresses);
    bw_json_add_strv(b, "text_addresses", m->text_addresses);
    bw_json_add_strv(b, "url_domains", m->url_domains);
    json_builder_end_object(b);
    JsonNode *n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

bool
bw_mailfacts_json_append(GString *out, const bw_mailfacts_t *m)
{
    return bw_mailfacts_json_write(out, m, bw_signal_kind_to_string(m->topic));
}

char *
bw_mailfacts_to_json_text(const bw_mailfacts_t *m)
{
    GString *out = g_string_sized_new(1024);
    if (bw_mailfacts_json_append(out, m))
        return bw_json_string_take(out);
    g_string_free(out, TRUE);
    return bw_json_node_take_text(bw_mailfacts_to_json(m));
}

static void
take_strv(GPtrArray **dst, JsonObject *o, const char *key, guint max)
{
    g_ptr_array_unref(*dst);
    *dst = bw_sig_json_get_strv(o, key, max);
}

bw_status_t
bw_mailfacts_from_json(JsonNode *node, bw_mailfacts_t **out, char **detail)
{
    if (out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
        return bw_error_set(detail, BW_E_STATE, "stored message facts are not a JSON object");
    }
    JsonObject *o = json_node_get_object(node);
    bw_mailfacts_t *m = mailfacts_new();
    m->message_id = bw_sig_json_get_str(o, "message_id");
    m->date_unix = bw_sig_json_get_int(o, "date", 0);
    m->subject = bw_sig_json_get_str(o, "subject");
    m->from_addr = bw_sig_json_get_str(o, "from");
    m->from_display = bw_sig_json_get_str(o, "display");
    m->return_path = bw_sig_json_get_str(o, "return_path");
    take_strv(&m->to, o, "to", 64);
    m->in_reply_to = bw_sig_json_get_str(o, "in_reply_to");
    take_strv(&m->references, o, "references", BW_SIG_MAX_REFS);
    gint64 f = bw_sig_json_get_int(o, "flags", 0);
    m->auto_submitted = f & 1;
    m->list = f & 2;
    m->report = f & 4;
    m->bait = f & 8;
    m->chatter = f & 16;
    m->asks = f & 32;
    m->quotes_intro = f & 64;
    m->topic_strong = f & 128;
    take_strv(&m->dkim_domains, o, "dkim", BW_SIG_MAX_DKIM);
    JsonNode *hn = json_object_get_member(o, "hops");
    if (hn && JSON_NODE_HOLDS_ARRAY(hn)) {
        JsonArray *a = json_node_get_array(hn);
        for (guint i = 0; i < json_array_get_length(a) && m->hops->len < BW_SIG_MAX_HOPS; i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (!JSON_NODE_HOLDS_OBJECT(e))
                continue;
            JsonObject *ho = json_node_get_object(e);
            bw_sig_hop_t h = { 0 };
            h.pos = (unsigned)bw_sig_json_get_int(ho, "pos", 0);
            h.by = bw_sig_json_get_str(ho, "by");
            h.from_helo = bw_sig_json_get_str(ho, "helo");
            h.from_rdns = bw_sig_json_get_str(ho, "rdns");
            h.from_ip = bw_sig_json_get_str(ho, "ip");
            gint64 hf = bw_sig_json_get_int(ho, "flags", 0);
            h.authenticated = hf & 1;
            h.http = hf & 2;
            h.has_from = hf & 4;
            g_array_append_val(m->hops, h);
        }
    }
    JsonNode *an = json_object_get_member(o, "auths");
    if (an && JSON_NODE_HOLDS_ARRAY(an)) {
        JsonArray *a = json_node_get_array(an);
        for (guint i = 0; i < json_array_get_length(a) && m->auths->len < BW_SIG_MAX_AUTH; i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (!JSON_NODE_HOLDS_OBJECT(e))
                continue;
            JsonObject *ao = json_node_get_object(e);
            bw_sig_auth_t au;
            memset(&au, 0, sizeof au);
            au.pos = (unsigned)bw_sig_json_get_int(ao, "pos", 0);
            au.authserv_id = bw_sig_json_get_str(ao, "id");
            JsonNode *rn = json_object_get_member(ao, "results");
            if (rn && JSON_NODE_HOLDS_ARRAY(rn)) {
                JsonArray *ra = json_node_get_array(rn);
                for (guint k = 0; k < json_array_get_length(ra) && au.n_results < BW_SIG_MAX_AUTH_RESULTS; k++) {
                    JsonNode *re = json_array_get_element(ra, k);
                    if (!JSON_NODE_HOLDS_ARRAY(re) || json_array_get_length(json_node_get_array(re)) != 3)
                        continue;
                    JsonArray *t = json_node_get_array(re);
                    const char *mth = json_array_get_string_element(t, 0);
                    const char *res = json_array_get_string_element(t, 1);
                    const char *dom = json_array_get_string_element(t, 2);
                    if (mth == NULL || res == NULL || dom == NULL)
                        continue;
                    bw_sig_result_t *r = &au.results[au.n_results++];
                    g_strlcpy(r->method, mth, sizeof r->method);
                    g_strlcpy(r->result, res, sizeof r->result);
                    r->domain = *dom ? g_strdup(dom) : NULL;
                }
            }
            g_array_append_val(m->auths, au);
        }
    }
    m->n_fields = (unsigned)bw_sig_json_get_int(o, "fields", 0);
    g_autofree char *topic = bw_sig_json_get_str(o, "topic");
    m->topic = bw_signal_kind_from_string(topic);
    m->topic_score = (int)bw_sig_json_get_int(o, "topic_score", 0);
    m->two_factor = (int)bw_sig_json_get_int(o, "two_factor", -1);
    m->device = bw_sig_json_get_str(o, "device");
    m->place = bw_sig_json_get_str(o, "place");
    m->ip = bw_sig_json_get_str(o, "ip");
    m->time = bw_sig_json_get_str(o, "time");
    m->limit = bw_sig_json_get_str(o, "limit");
    m->phone = bw_sig_json_get_str(o, "phone");
    take_strv(&m->topic_addresses, o, "topic_addresses", 8);
    take_strv(&m->text_addresses, o, "text_addresses", BW_SIG_MAX_ADDRESSES);
    take_strv(&m->url_domains, o, "url_domains", 8);
    *out = m;
    return BW_OK;
}
