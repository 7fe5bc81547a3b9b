/* diagnostic.c: what the text of a notice says about one failed recipient:
 * the server's own words (diagnostic), the RFC 3463 status, the SMTP reply
 * code, the remote MTA and the action, and the status inferred when the
 * text gives none.  The vendor tables (vendor.c) and the generic reader
 * (generic.c) both read a recipient's block of text with these; they build
 * on reason.c and call nothing above them.  Every scanner is bounded by the
 * length it is given. */
#include "bw-vendor.h"
#include <string.h>

#define MAX_LINES 20000          /* lines of a block examined */
#define MAX_DIAGNOSTIC 600       /* bytes of a squeezed diagnostic */

/* ------------------------------------------------------------ small scanners */

static bool
is_local_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static bool
is_domain_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c >= 0x80 || c == '-' || c == '.';
}

/* An address starting at s (after optional "<", quotes, "mailto:"); the
 * lower-cased local@domain or NULL.  *used gets the bytes consumed. */
char *
bw_address_at(const char *s, size_t n, size_t *used)
{
    size_t i = 0;
    while (i < n && i < 8 && (s[i] == '<' || s[i] == '"' || s[i] == '\'' || s[i] == '('))
        i++;
    if (n - i > 7 && g_ascii_strncasecmp(s + i, "mailto:", 7) == 0)
        i += 7;
    size_t b = i;
    while (i < n && i - b < 256 && is_local_char((unsigned char)s[i]) && s[i] != '@')
        i++;
    if (i == b || i >= n || s[i] != '@')
        return NULL;
    size_t at = i++;
    size_t d = i;
    while (i < n && i - d < 256 && is_domain_char((unsigned char)s[i]))
        i++;
    size_t e = i;
    while (e > d && (s[e - 1] == '.' || s[e - 1] == '-'))
        e--;
    if (e - d < 3 || memchr(s + d, '.', e - d) == NULL || s[d] == '.')
        return NULL;
    /* Strip leading dots of the local part ("...user" in transcripts). */
    while (b < at && s[b] == '.')
        b++;
    if (b == at)
        return NULL;
    if (used != NULL)
        *used = e;
    char *raw = g_strndup(s + b, e - b);
    char *norm = bw_address_normalize(raw);
    g_free(raw);
    return norm;
}


char *
bw_reply_code_find(const char *s, size_t n)
{
    size_t ok_at = SIZE_MAX;
    size_t limit = n >= 3 ? n - 2 : 0;   /* places i with i + 3 <= n */
    /* a reply code's first digit: 2, 4 or 5 */
    for (size_t i = bw_find_byte3(s, 0, limit, n, '2', '4', '5'); i < limit;
         i = bw_find_byte3(s, i + 1, limit, n, '2', '4', '5')) {
        if (!(s[i + 1] >= '0' && s[i + 1] <= '5') || !g_ascii_isdigit(s[i + 2]))
            continue;
        if (i > 0 && (g_ascii_isalnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-'
                      || s[i - 1] == '/' || s[i - 1] == '+' || s[i - 1] == '_'))
            continue;
        /* a group of an IPv6 address ("[2606:2800:220:6d::1]") */
        if (i > 1 && s[i - 1] == ':' && g_ascii_isxdigit(s[i - 2]))
            continue;
        if (i + 3 < n) {
            char c = s[i + 3];
            if (!(c == ' ' || c == '-' || c == '\n' || c == '\t' || c == ')' || c == ','
                  || c == '\'' || c == '"' || c == ':' || c == ']'))
                continue;
            if (c == '-' && i + 4 < n && !g_ascii_isdigit(s[i + 4]) && s[i + 4] != ' ')
                continue;
        }
        if (s[i] != '2')
            return g_strndup(s + i, 3);
        if (ok_at == SIZE_MAX)
            ok_at = i;
    }
    return ok_at != SIZE_MAX ? g_strndup(s + ok_at, 3) : NULL;
}

static bool
is_host_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* A host token starting at s[i]; a copy with trailing dots removed, when it
 * looks like a host name or an IP address. */
static char *
host_at(const char *s, size_t n, size_t i)
{
    size_t b = i;
    while (i < n && i - b < 255 && is_host_char((unsigned char)s[i]))
        i++;
    size_t e = i;
    while (e > b && (s[e - 1] == '.' || s[e - 1] == '-'))
        e--;
    if (e - b < 3 || memchr(s + b, '.', e - b) == NULL)
        return NULL;
    return g_ascii_strdown(s + b, (gssize)(e - b));
}

static char *
find_remote_mta(const char *s, size_t n)
{
    /* "Remote-MTA: dns; host" in text-embedded reports, and its wordings */
    static const char *const fields[] = {"remote-mta:", "remote system:", "remote mta:",
                                         "remote server:"};
    const char *p = NULL;
    size_t plen = 0;
    /* (each field starts with "remote": without it, none is there) */
    bool remote = bw_memcasestr(s, n, "remote") != NULL;
    for (size_t k = 0; remote && k < G_N_ELEMENTS(fields) && p == NULL; k++) {
        p = bw_memcasestr(s, n, fields[k]);
        plen = strlen(fields[k]);
    }
    if (p != NULL) {
        size_t i = (size_t)(p - s) + plen;
        const char *semi = memchr(s + i, ';', MIN(n - i, 16));
        if (semi != NULL)
            i = (size_t)(semi - s) + 1;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '<'))
            i++;
        char *h = host_at(s, n, i);
        if (h != NULL)
            return h;
    }
    /* "host mx.example.jp [192.0.2.1]" / "host mx.example.jp[192.0.2.1] said"
     * / "mx.example.jp. [192.0.2.1]": a host name right before a bracketed
     * address. */
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] != '[' || !g_ascii_isdigit(s[i + 1]))
            continue;
        size_t e = i;
        if (e > 0 && s[e - 1] == ' ')
            e--;
        size_t b = e;
        while (b > 0 && e - b < 255 && is_host_char((unsigned char)s[b - 1]))
            b--;
        if (b < e) {
            char *h = host_at(s, e, b);
            if (h != NULL)
                return h;
        }
    }
    /* "remote host 192.0.2.1 said", "host: mx.example.jp" */
    static const char *const keys[] = {"remote host ", "host: ", "host ", "server "};
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        const char *q = bw_memcasestr(s, n, keys[k]);
        if (q != NULL) {
            char *h = host_at(s, n, (size_t)(q - s) + strlen(keys[k]));
            if (h != NULL)
                return h;
        }
    }
    return NULL;
}

/* Cuts a UTF-8 string to at most max bytes on a character boundary. */
static void
utf8_cut(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    s[k] = '\0';
}

/* ------------------------------------------------------------ one recipient */

/* "Diagnostic-Code: smtp; 550 ..." inside a text-embedded report. */
static char *
embedded_field(const char *s, size_t n, const char *name)
{
    const char *p = bw_memcasestr(s, n, name);
    if (p == NULL)
        return NULL;
    size_t i = (size_t)(p - s) + strlen(name);
    const char *nl = memchr(s + i, '\n', n - i);
    size_t e = nl != NULL ? (size_t)(nl - s) : n;
    const char *semi = memchr(s + i, ';', e - i);
    if (semi != NULL && semi - (s + i) < 12)
        i = (size_t)(semi - s) + 1;
    char *v = bw_strdup_squeezed(s + i, e - i);
    if (*v == '\0') {
        g_free(v);
        return NULL;
    }
    return v;
}

/* The server's own words in a block: from the first line that carries a
 * failure code (4xx/5xx reply or 4.x.x/5.x.x status) to the end of its
 * paragraph, into [*b, *e); false when no line has a code. */
bool
bw_diagnostic_paragraph(const char *s, size_t n, size_t *b, size_t *e)
{
    /* Two passes: a line with an SMTP reply code is the server speaking;
     * a lone status code may be prose ("see DSN 5.1.10 Errors"). */
    for (int pass = 0; pass < 2; pass++)
    for (size_t pos = 0, lines = 0; pos < n && lines < MAX_LINES; lines++) {
        const char *nl = memchr(s + pos, '\n', n - pos);
        size_t end = nl != NULL ? (size_t)(nl - s) : n;
        char *code = pass == 0 ? bw_reply_code_find(s + pos, end - pos)
                               : bw_status_code_find(s + pos, end - pos);
        bool failure = code != NULL && code[0] != '2';
        g_free(code);
        if (failure) {
            *b = pos;
            /* the paragraph ends at a blank line */
            size_t k = end;
            while (k < n) {
                const char *n2 = memchr(s + k + 1, '\n', n - k - 1);
                size_t le = n2 != NULL ? (size_t)(n2 - s) : n;
                bool blank = true;
                for (size_t j = k + 1; j < le; j++)
                    if (s[j] != ' ' && s[j] != '\t')
                        blank = false;
                if (blank || le - *b > MAX_DIAGNOSTIC)
                    break;
                k = le;
            }
            *e = MIN(k, n);
            return true;
        }
        pos = end + 1;
    }
    return false;
}

void
bw_diagnostic_fill(bw_recipient_t *r, const char *blk, size_t n, bool delayed)
{
    size_t cb = 0, ce = 0;
    bool has_code = bw_diagnostic_paragraph(blk, n, &cb, &ce);
    if (r->diagnostic == NULL) {
        r->diagnostic = embedded_field(blk, n, "diagnostic-code:");
        if (r->diagnostic == NULL) {
            /* A short block is all about this recipient ("my name was
             * rejected... Remote host said: 501"); a long one (Exchange's
             * prose, transcripts) is cut to the server's own paragraph. */
            char *d = has_code && n > MAX_DIAGNOSTIC ? bw_strdup_squeezed(blk + cb, ce - cb)
                                                     : bw_strdup_squeezed(blk, n);
            utf8_cut(d, MAX_DIAGNOSTIC);
            if (*d != '\0')
                r->diagnostic = d;
            else
                g_free(d);
        }
    }
    if (r->status == NULL) {
        char *st = embedded_field(blk, n, "\nstatus:");
        if (st != NULL && bw_status_code_at(st, strlen(st), 0) == 0) {
            g_free(st);
            st = NULL;
        }
        if (st != NULL)
            st[bw_status_code_at(st, strlen(st), 0)] = '\0';
        if (st == NULL && has_code)
            st = bw_status_code_find(blk + cb, ce - cb);
        r->status = st != NULL ? st : bw_status_code_find(blk, n);
    }
    if (r->reply_code == NULL && has_code)
        r->reply_code = bw_reply_code_find(blk + cb, ce - cb);
    if (r->reply_code == NULL)
        r->reply_code = bw_reply_code_find(blk, n);
    if (r->remote_mta == NULL)
        r->remote_mta = find_remote_mta(blk, n);
    /* A failure notice quoting a "250 Ok" or "220" greeting: a success code
     * says nothing about why this recipient failed. */
    if (r->reply_code != NULL && r->reply_code[0] == '2') {
        g_free(r->reply_code);
        r->reply_code = NULL;
    }
    if (r->status != NULL && r->status[0] == '2') {
        g_free(r->status);
        r->status = NULL;
    }
    if (r->action == NULL) {
        char *act = embedded_field(blk, n, "\naction:");
        if (act != NULL) {
            g_strstrip(act);
            char *lower = g_ascii_strdown(act, -1);
            g_free(act);
            if (strcmp(lower, "failed") == 0 || strcmp(lower, "delayed") == 0
                || strcmp(lower, "delivered") == 0 || strcmp(lower, "relayed") == 0
                || strcmp(lower, "expanded") == 0)
                r->action = lower;
            else
                g_free(lower);
        }
    }
    /* "(expanded from: <team@x>)" (Sendmail), "(generated from team@x)"
     * (Exim): the address as the sender wrote it */
    static const char *const expanded[] = {"expanded from:", "expanded from", "generated from"};
    /* (the first two hold "expanded from": without it, neither is there) */
    bool expanded_from = r->original_address == NULL &&
                         bw_memcasestr(blk, MIN(n, 1024), "expanded from") != NULL;
    for (size_t k = expanded_from ? 0 : 2;
         r->original_address == NULL && k < G_N_ELEMENTS(expanded); k++) {
        const char *p = bw_memcasestr(blk, MIN(n, 1024), expanded[k]);
        if (p == NULL)
            continue;
        size_t i = (size_t)(p - blk) + strlen(expanded[k]);
        while (i < n && (blk[i] == ' ' || blk[i] == ':'))
            i++;
        size_t used = 0;
        char *a = bw_address_at(blk + i, n - i, &used);
        if (a != NULL && g_strcmp0(a, r->address) != 0)
            r->original_address = a;
        else
            g_free(a);
    }
    if (r->action == NULL) {
        /* A warning is a delay unless the server's own code is permanent. */
        bool permanent = (r->status != NULL && r->status[0] == '5')
            || (r->status == NULL && r->reply_code != NULL && r->reply_code[0] == '5');
        r->action = g_strdup(delayed && !permanent ? "delayed" : "failed");
    }
}

/* Status inferred from the reply code and the text when the notice gives
 * none, so that every failed recipient carries an RFC 3463 code. */
void
bw_diagnostic_infer_status(bw_recipient_t *r, bw_reason_t fallback)
{
    if (r->status != NULL)
        return;
    bw_reason_t reason = bw_reason_decide(NULL, r->reply_code, r->diagnostic, r->action);
    if (reason == BW_REASON_UNKNOWN || reason == BW_REASON_EXPIRED)
        reason = fallback != BW_REASON_UNKNOWN ? fallback : reason;
    const char *st = NULL;
    if (r->reply_code != NULL)
        st = bw_status_from_reply_code(r->reply_code, reason);
    else if (reason != BW_REASON_UNKNOWN)
        st = bw_status_from_reason(reason, g_strcmp0(r->action, "delayed") == 0 ? '4' : '5');
    r->status = g_strdup(st);
}

/* ------------------------------------------------------------ both */

void
bw_diagnostic_read(bw_recipient_t *r, const char *text, size_t len, bool delayed)
{
    if (r == NULL || text == NULL)
        return;
    bw_diagnostic_fill(r, text, len, delayed);
    bw_diagnostic_infer_status(r, BW_REASON_UNKNOWN);
}
