/* message.c: mail from bytes: sanity checks, line ends, caps, mbox
 * splitting, RFC 2047 words, charsets, and a byte-level MIME reader (part
 * ranges, types, transfer decoding).  GMime serves for what it is good at
 * here (charset names, address lists); the MIME tree is read without
 * building objects.  Everything here is linear in the input and bounded by the caps
 * of bw.h / bw-parse.h, since every byte of a report is attacker-written. */
#include "bw-parse.h"
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------ checks */

static bool
is_field_name_char(unsigned char c)
{
    /* RFC 5322 ftext: printable US-ASCII except ':' */
    return c > 32 && c < 127 && c != ':';
}

bw_status_t
bw_message_check(const char *data, size_t len, char **detail)
{
    if (data == NULL || len == 0) {
        return bw_error_set(detail, BW_E_NOT_MAIL, "empty input");
    }
    if (len > BW_MAX_MESSAGE_BYTES) {
        return bw_error_set(detail, BW_E_TOO_LARGE, "message larger than %u MiB", BW_MAX_MESSAGE_BYTES >> 20);
    }
    /* Skip leading blank lines (some exports start with one). */
    size_t i = 0;
    while (i < len && i < 4096 && (data[i] == '\n' || data[i] == '\r' || data[i] == ' ' || data[i] == '\t'))
        i++;
    if (i >= len) {
        return bw_error_set(detail, BW_E_NOT_MAIL, "empty input");
    }
    /* A NUL among the header fields, or many NULs, mean binary data; a
     * stray NUL in a body (seen at the end of real notices) does not, and
     * bw_message_normalize turns it into a space. */
    size_t probe = len - i < 8192 ? len - i : 8192;
    /* the first blank line before any NUL (g_strstr_len's reading) */
    const char *first_nul = memchr(data + i, '\0', probe);
    const char *hdr_end = bw_find_blank_line(data + i, first_nul != NULL ? (size_t)(first_nul - (data + i)) : probe);
    size_t hdr_len = hdr_end != NULL ? (size_t)(hdr_end - (data + i)) : probe;
    size_t nuls = 0;
    for (const char *z = data + i, *zend = data + i + probe;
         z < zend && (z = memchr(z, '\0', (size_t)(zend - z))) != NULL; z++)
        nuls++;
    if (memchr(data + i, '\0', hdr_len) != NULL || nuls > probe / 64) {
        return bw_error_set(detail, BW_E_NOT_MAIL, "binary data, not an e-mail message");
    }
    if (len - i >= 5 && memcmp(data + i, "From ", 5) == 0)
        return BW_OK;
    /* The first line must be "Name:" with a sane field name. */
    size_t j = i;
    while (j < len && j - i < 1000 && is_field_name_char((unsigned char)data[j]))
        j++;
    if (j == i || j >= len || data[j] != ':') {
        return bw_error_set(detail, BW_E_NOT_MAIL, "no header fields: not an e-mail message");
    }
    return BW_OK;
}

/* ------------------------------------------------------------ normalising */

/* Where a normalised text is cut: before the line that holds the
 * boundary declaration ("boundary=") past BW_PARSE_MAX_BOUNDARIES, else at
 * `len`; every declaration counts.  One rule for both paths of
 * bw_message_normalize, so that a message is cut at the same place
 * whatever its line ends. */
static size_t
boundary_cut(const char *text, size_t len)
{
    unsigned boundaries = 0;
    const char *p = text, *end = text + len, *eq;
    /* memchr finds each '=' fast; only then look back for "boundary". */
    while (p < end && (eq = memchr(p, '=', (size_t)(end - p))) != NULL) {
        p = eq + 1;
        if (eq - text < 8 || !bw_ascii_ncase_eq(eq - 8, "boundary", 8))
            continue;
        if (++boundaries > BW_PARSE_MAX_BOUNDARIES) {
            const char *ls = eq;
            while (ls > text && ls[-1] != '\n')
                ls--;
            return (size_t)(ls - text);
        }
    }
    return len;
}

/* Fast path of bw_message_normalize: LF-only text without NUL (nearly all
 * mail on disk) is copied as it is. */
static char *
normalize_plain(const char *data, size_t cap, size_t *out_len)
{
    size_t cut = boundary_cut(data, cap);
    char *out = g_malloc(cut + 1);
    memcpy(out, data, cut);
    out[cut] = '\0';
    *out_len = cut;
    return out;
}

char *
bw_message_normalize(const char *data, size_t len, size_t *out_len)
{
    size_t cap = len < BW_PARSE_MAX_BYTES ? len : BW_PARSE_MAX_BYTES;
    bool has_nul = memchr(data, '\0', cap) != NULL;
    if (!has_nul && memchr(data, '\r', cap) == NULL)
        return normalize_plain(data, cap, out_len);
    char *out = g_malloc(cap + 1);
    size_t o = 0;
    /* The runs between CRs copied in one move: CRLF becomes LF, a lone
     * CR (old Mac line ends) LF, a NUL a space (C strings stop at NUL). */
    for (size_t i = 0; i < cap;) {
        const char *cr = memchr(data + i, '\r', cap - i);
        size_t e = cr != NULL ? (size_t)(cr - data) : cap;
        memcpy(out + o, data + i, e - i);
        if (has_nul)
            for (char *z = out + o; (z = memchr(z, '\0', (size_t)(out + o + (e - i) - z))) != NULL;)
                *z = ' ';
        o += e - i;
        i = e;
        if (i < cap) {
            if (!(i + 1 < cap && data[i + 1] == '\n'))
                out[o++] = '\n';
            i++;
        }
    }
    o = boundary_cut(out, o);
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ------------------------------------------------------------ mbox */

bool
bw_mbox_detect(const char *data, size_t len)
{
    return len >= 5 && memcmp(data, "From ", 5) == 0;
}

/* A "From " line separates messages when it follows a blank line (mboxo and
 * mboxrd escape body lines as ">From "), or when it has the shape of an
 * envelope line (address then a weekday name) even without the blank line. */
static bool
is_separator(const char *data, size_t len, size_t pos, bool prev_blank)
{
    if (len - pos < 5 || memcmp(data + pos, "From ", 5) != 0)
        return false;
    if (prev_blank)
        return true;
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;
    static const char *const days[] = { " Mon ", " Tue ", " Wed ", " Thu ", " Fri ", " Sat ", " Sun " };
    for (unsigned d = 0; d < G_N_ELEMENTS(days); d++)
        if (bw_casestr(data + pos, ll, days[d]) != NULL)
            return true;
    return false;
}

GArray *
bw_mbox_split(const char *data, size_t len)
{
    GArray *spans = g_array_new(FALSE, FALSE, sizeof(gsize));
    size_t pos = 0;
    gsize start = (gsize)-1;
    bool prev_blank = true;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t next = nl ? (size_t)(nl - data) + 1 : len;
        size_t ll = next - pos;
        bool blank = ll == 1 || (ll == 2 && data[pos] == '\r');
        if (is_separator(data, len, pos, prev_blank)) {
            if (start != (gsize)-1) {
                gsize end = pos;
                g_array_append_val(spans, start);
                g_array_append_val(spans, end);
                if (spans->len / 2 >= BW_MAX_MBOX_MESSAGES)
                    return spans;
            }
            start = next;
        }
        prev_blank = blank;
        pos = next;
    }
    if (start != (gsize)-1 && start < len) {
        gsize end = len;
        g_array_append_val(spans, start);
        g_array_append_val(spans, end);
    }
    return spans;
}

/* ------------------------------------------------------------ content */

/* Guess the charset of undeclared 8-bit or ISO-2022 text, common in
 * Japanese notices that declare nothing. */
/* ISO-2022-JP escape sequences (JIS X 0208 in, or back to ASCII/Roman):
 * 7-bit text that would pass for ASCII or UTF-8. */
static bool
has_iso2022jp_escape(const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    while (p < end && (p = memchr(p, 0x1b, (size_t)(end - p))) != NULL) {
        if (end - p >= 3 && ((p[1] == '$' && (p[2] == 'B' || p[2] == '@')) || (p[1] == '(' && (p[2] == 'J' || p[2] == 'B'))))
            return true;
        p++;
    }
    return false;
}

static const char *
guess_charset(const char *data, size_t len)
{
    if (has_iso2022jp_escape(data, len))
        return "ISO-2022-JP";
    if (bw_utf8_validate(data, (gssize)len))
        return "UTF-8";
    /* EUC-JP: both bytes of a pair in 0xA1-0xFE; Shift_JIS: lead byte
     * 0x81-0x9F/0xE0-0xEF.  Count which reading fits more pairs. */
    size_t euc = 0, sjis = 0;
    for (size_t i = 0; i + 1 < len && i < 65536; i++) {
        unsigned char a = (unsigned char)data[i], b = (unsigned char)data[i + 1];
        if (a < 0x80)
            continue;
        if (a >= 0xA1 && a <= 0xFE && b >= 0xA1 && b <= 0xFE)
            euc++;
        if (((a >= 0x81 && a <= 0x9F) || (a >= 0xE0 && a <= 0xEF)) &&
            ((b >= 0x40 && b <= 0x7E) || (b >= 0x80 && b <= 0xFC)))
            sjis++;
        i++;
    }
    if (euc == 0 && sjis == 0)
        return "ISO-8859-1";
    return sjis > euc ? "SHIFT_JIS" : "EUC-JP";
}

/* The gconv modules of the charsets read so far, kept loaded.  GMime 3's
 * g_mime_iconv_open is a bare iconv_open and its close an iconv_close:
 * when the last descriptor of a charset closes, glibc unloads its module,
 * and the next open loads it again (dlopen: mmap, relocation, page
 * faults, then munmap); `parse` of 407 bounces loaded modules 18 times.
 * So the first descriptor of each charset is not closed but kept here,
 * unused, which keeps its module loaded; every conversion still opens a
 * descriptor of its own (a reused one is not the same: UTF-16 and UTF-32
 * read a byte-order mark only in a descriptor's first call).  Bounded
 * (hostile mail names any number of charsets): past the slots, or for a
 * long name, a descriptor is closed as before.  Kept ones stay open until
 * exit. */
#define CONV_SLOTS 8
#define CONV_NAME_MAX 48
static GMutex conv_lock;
static char conv_kept[CONV_SLOTS][CONV_NAME_MAX];
static iconv_t conv_kept_cd[CONV_SLOTS];   /* (held, so no leak checker calls them lost) */
static unsigned conv_n_kept;

/* Done with cd, a descriptor from charset: kept if it is the first of its
 * charset and a slot is free, closed otherwise. */
static void
conv_done(iconv_t cd, const char *charset)
{
    size_t n = strlen(charset);
    bool keep = false;
    if (n < CONV_NAME_MAX) {
        g_mutex_lock(&conv_lock);
        bool known = false;
        for (unsigned i = 0; i < conv_n_kept && !known; i++)
            known = strcmp(conv_kept[i], charset) == 0;
        if (!known && conv_n_kept < CONV_SLOTS) {
            memcpy(conv_kept[conv_n_kept], charset, n + 1);
            conv_kept_cd[conv_n_kept++] = cd;
            keep = true;
        }
        g_mutex_unlock(&conv_lock);
    }
    if (!keep)
        g_mime_iconv_close(cd);
}

static char *
try_convert(const char *data, size_t len, const char *charset, size_t *len_out)
{
    /* GMime's strndup skips what it cannot convert instead of failing the
     * whole text. */
    iconv_t cd = g_mime_iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return NULL;
    char *out = g_mime_iconv_strndup(cd, data, len);
    conv_done(cd, charset);
    if (out == NULL)
        return NULL;
    *len_out = strlen(out);
    return out;
}

/* Strict conversion for guesses: NULL at the first invalid sequence, so a
 * wrong guess (Latin-1 text read as Shift_JIS) is rejected, not garbled. */
static char *
try_convert_strict(const char *data, size_t len, const char *charset, size_t *len_out)
{
    iconv_t cd = g_mime_iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = len * 3 + 16;
    char *out = g_malloc(cap + 1);
    char *in = (char *)data, *o = out;
    size_t inleft = len, outleft = cap;
    bool ok = true;
    while (inleft > 0) {
        if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
            ok = false;     /* EILSEQ/EINVAL; E2BIG cannot happen at 3x */
            break;
        }
    }
    if (ok)
        iconv(cd, NULL, NULL, &o, &outleft);   /* flush shift state */
    conv_done(cd, charset);
    if (!ok) {
        g_free(out);
        return NULL;
    }
    *o = '\0';
    *len_out = (size_t)(o - out);
    return out;
}

/* A charset (an iconv name) whose converter gives every ASCII byte but
 * ESC, SO and SI as it is: the ISO 8859 family, the Windows code pages
 * 1250-1258 and ISO-2022-JP (which starts in ASCII).  Checked with glibc's
 * converters; a name of these forms that glibc does not have fails to
 * open, and the guess then reads ASCII as UTF-8: the same bytes. */
static bool
ascii_identity_charset(const char *name)
{
    size_t n = strlen(name);
    const char *digits;
    if (n >= 10 && n <= 11 && bw_ascii_ncase_eq(name, "iso-8859-", 9))
        digits = name + 9;
    else if (n == 6 && bw_ascii_ncase_eq(name, "cp125", 5))
        digits = name + 5;
    else if (n == 12 && bw_ascii_ncase_eq(name, "windows-125", 11))
        digits = name + 11;
    else
        return n == 11 && bw_ascii_ncase_eq(name, "iso-2022-jp", 11);
    for (; *digits != '\0'; digits++)
        if (!g_ascii_isdigit(*digits))
            return false;
    return true;
}

/* Whether data holds only ASCII bytes that such a converter copies: no
 * 8-bit byte, no NUL (a converted text is measured with strlen), no ESC,
 * SO or SI (ISO-2022 shifts). */
static bool
plain_ascii(const char *data, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128(), esc = _mm_set1_epi8(0x1b), so = _mm_set1_epi8(0x0e),
                  si = _mm_set1_epi8(0x0f);
    for (; len - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(data + i));
        __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, zero), _mm_cmpeq_epi8(v, esc)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, so), _mm_cmpeq_epi8(v, si)));
        /* (movemask takes each byte's high bit: the 8-bit bytes too) */
        if (_mm_movemask_epi8(_mm_or_si128(bad, v)) != 0)
            return false;
    }
#endif
    for (; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == 0 || c >= 0x80 || c == 0x1b || c == 0x0e || c == 0x0f)
            return false;
    }
    return true;
}

/* bw_to_utf8, or NULL where that is a copy of data as it is (*len_out is
 * then len; each such way has checked that no NUL is among the bytes). */
static char *
to_utf8(const char *data, size_t len, const char *charset, size_t *len_out)
{
    char *out = NULL;
    size_t n = 0;
    if (charset != NULL) {
        const char *name = g_mime_charset_iconv_name(charset);
        if (g_ascii_strcasecmp(name, "UTF-8") == 0 || g_ascii_strcasecmp(name, "US-ASCII") == 0 ||
            g_ascii_strcasecmp(name, "ASCII") == 0) {
            /* Japanese text labelled US-ASCII is common: its escapes say
             * what it is. */
            if (bw_utf8_validate(data, (gssize)len) && !has_iso2022jp_escape(data, len)) {
                *len_out = len;
                return NULL;
            }
        } else if (ascii_identity_charset(name) && plain_ascii(data, len)) {
            /* what the converter would give, without opening one (~20,000
             * instructions a text; most texts in these charsets are
             * ASCII) */
            *len_out = len;
            return NULL;
        } else {
            out = try_convert(data, len, name, &n);
        }
    }
    if (out == NULL) {
        const char *guess = guess_charset(data, len);
        if (strcmp(guess, "UTF-8") == 0) {
            *len_out = len;
            return NULL;
        }
        /* The guess first, then the other Japanese encoding, then
         * Windows-1252/Latin-1, which accept any byte. */
        const char *order[] = { guess, strcmp(guess, "SHIFT_JIS") == 0 ? "EUC-JP" : "SHIFT_JIS", "WINDOWS-1252" };
        for (unsigned k = 0; k < G_N_ELEMENTS(order) && out == NULL; k++)
            out = try_convert_strict(data, len, order[k], &n);
        if (out == NULL)
            out = try_convert(data, len, "ISO-8859-1", &n);
    }
    if (out == NULL || !bw_utf8_validate(out, (gssize)n)) {
        /* Last resort: keep what is valid, replace the rest. */
        char *valid = g_utf8_make_valid(out != NULL ? out : data, out != NULL ? (gssize)n : (gssize)len);
        g_free(out);
        *len_out = strlen(valid);
        return valid;
    }
    *len_out = n;
    return out;
}

char *
bw_to_utf8(const char *data, size_t len, const char *charset, size_t *len_out)
{
    char *out = to_utf8(data, len, charset, len_out);
    return out != NULL ? out : g_strndup(data, len);
}

char *
bw_html_to_text(const char *html, size_t len, size_t *len_out)
{
    GString *out = g_string_sized_new(len / 2 + 1);
    size_t i = 0;
    while (i < len) {
        char c = html[i];
        if (c == '<') {
            const char *gt = memchr(html + i, '>', len - i);
            size_t tl = gt ? (size_t)(gt - (html + i)) : len - i;
            const char *tag = html + i + 1;
            size_t rest = tl > 0 ? tl - 1 : 0;
            if (*tag == '/' && rest > 0) {
                tag++;
                rest--;
            }
            /* Block elements end a line so line-based detectors still work. */
            static const struct { char name[6]; unsigned char len; } blocks[] = {
                { "br", 2 }, { "p", 1 }, { "div", 3 }, { "tr", 2 }, { "li", 2 },
                { "h1", 2 }, { "h2", 2 }, { "h3", 2 }, { "table", 5 }, { "pre", 3 },
            };
            for (unsigned b = 0; b < G_N_ELEMENTS(blocks); b++) {
                size_t bl = blocks[b].len;
                if (rest >= bl && bw_ascii_ncase_eq(tag, blocks[b].name, bl) &&
                    (rest == bl || !g_ascii_isalnum(tag[bl]))) {
                    g_string_append_c(out, '\n');
                    break;
                }
            }
            /* Skip the content of <style> and <script>. */
            if (rest >= 5 && (bw_ascii_ncase_eq(tag, "style", 5) || bw_ascii_ncase_eq(tag, "script", 6)) &&
                html[i + 1] != '/') {
                const char *end = bw_casestr(html + i, len - i, tag[1] == 't' || tag[1] == 'T' ? "</style" : "</script");
                if (end != NULL) {
                    i = (size_t)(end - html);
                    continue;
                }
            }
            i = gt ? (size_t)(gt - html) + 1 : len;
            continue;
        }
        if (c == '&') {
            static const struct { const char *ent; const char *rep; } ents[] = {
                { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
                { "&nbsp;", " " }, { "&#39;", "'" }, { "&apos;", "'" },
            };
            bool done = false;
            for (unsigned e = 0; e < G_N_ELEMENTS(ents); e++) {
                size_t el = strlen(ents[e].ent);
                if (len - i >= el && bw_ascii_ncase_eq(html + i, ents[e].ent, el)) {
                    g_string_append(out, ents[e].rep);
                    i += el;
                    done = true;
                    break;
                }
            }
            if (done)
                continue;
        }
        if (c == '\r') {
            i++;
            continue;
        }
        /* the text up to the next byte read above, in one append (a call
         * per byte was most of the cost) */
        size_t j = i + 1;
        while (j < len && html[j] != '<' && html[j] != '&' && html[j] != '\r')
            j++;
        g_string_append_len(out, html + i, (gssize)(j - i));
        i = j;
    }
    *len_out = out->len;
    return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------ RFC 2047 */

/* Decodes one encoded word's payload ("B" or "Q") into `out`. */
static bool
decode_word_payload(char enc, const char *p, size_t n, GByteArray *out)
{
    if (enc == 'B' || enc == 'b') {
        /* g_base64_decode_step tolerates missing padding; decoding each
         * word on its own keeps a word's "==" from ending the next. */
        guchar *buf = g_malloc(n * 3 / 4 + 4);
        gint state = 0;
        guint save = 0;
        gsize got = g_base64_decode_step(p, n, buf, &state, &save);
        g_byte_array_append(out, buf, (guint)got);
        g_free(buf);
        return true;
    }
    if (enc == 'Q' || enc == 'q') {
        for (size_t i = 0; i < n; i++) {
            guint8 c = (guint8)p[i];
            if (c == '_') {
                c = ' ';
            } else if (c == '=' && i + 2 < n && g_ascii_isxdigit(p[i + 1]) && g_ascii_isxdigit(p[i + 2])) {
                c = (guint8)(g_ascii_xdigit_value(p[i + 1]) * 16 + g_ascii_xdigit_value(p[i + 2]));
                i += 2;
            }
            g_byte_array_append(out, &c, 1);
        }
        return true;
    }
    return false;
}

static void
flush_pending(GString *out, GByteArray *pend, char *cs)
{
    if (pend->len == 0)
        return;
    size_t n = 0;
    char *u = bw_to_utf8((const char *)pend->data, pend->len, cs[0] ? cs : NULL, &n);
    g_string_append_len(out, u, (gssize)n);
    g_free(u);
    g_byte_array_set_size(pend, 0);
    cs[0] = '\0';
}

static void
append_raw(GString *out, const char *p, size_t n)
{
    if (bw_utf8_validate(p, (gssize)n)) {
        g_string_append_len(out, p, (gssize)n);
        return;
    }
    size_t un = 0;
    char *u = bw_to_utf8(p, n, NULL, &un);
    g_string_append_len(out, u, (gssize)un);
    g_free(u);
}

char *
bw_header_decode(const char *raw, size_t len)
{
    if (raw == NULL)
        return NULL;
    if (len > 16384)
        len = 16384;
    /* Without "=?" there is no encoded word (nor one to count), and valid
     * UTF-8 needs no conversion: the loop below would only join the
     * words with single spaces, which the squeezing does as well (most
     * values: a GString, a GByteArray and a copy each cost more than the
     * decoding). */
    if (memmem(raw, len, "=?", 2) == NULL && bw_utf8_validate(raw, (gssize)len)) {
        char *plain = bw_strdup_squeezed(raw, len);
        if (*plain == '\0') {
            g_free(plain);
            return NULL;
        }
        return plain;
    }
    /* Each word may cost a converter: a bomb of them is refused. */
    if (!bw_caps_spend_encoded_words(raw, len))
        return NULL;
    GString *out = g_string_sized_new(len + 1);
    GByteArray *pend = g_byte_array_new();
    char cs[64] = "";
    bool last_encoded = false;
    size_t ws_start = 0, ws_len = 0;
    size_t i = 0;
    while (i < len) {
        char c = raw[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (ws_len == 0)
                ws_start = i;
            ws_len++;
            i++;
            continue;
        }
        if (c == '=' && i + 1 < len && raw[i + 1] == '?') {
            /* =?charset[*lang]?E?payload?= */
            size_t j = i + 2, cs_b = j;
            while (j < len && raw[j] != '?' && j - cs_b < 60 && raw[j] > ' ')
                j++;
            size_t cs_e = j;
            if (j + 3 < len && raw[j] == '?' && raw[j + 2] == '?' && cs_e > cs_b) {
                char enc = raw[j + 1];
                size_t pb = j + 3, pe = pb;
                while (pe + 1 < len && !(raw[pe] == '?' && raw[pe + 1] == '=') && raw[pe] > ' ' && pe - pb < 4096)
                    pe++;
                if (pe + 1 < len && raw[pe] == '?' && raw[pe + 1] == '=') {
                    char wcs[64];
                    size_t wl = cs_e - cs_b;
                    memcpy(wcs, raw + cs_b, wl);
                    wcs[wl] = '\0';
                    char *star = strchr(wcs, '*');
                    if (star != NULL)
                        *star = '\0';
                    if (g_ascii_strcasecmp(wcs, cs) != 0)
                        flush_pending(out, pend, cs);
                    /* White space between two encoded words is dropped
                     * (RFC 2047 section 6.2); elsewhere it is kept. */
                    if (!last_encoded && ws_len > 0)
                        g_string_append_c(out, ' ');
                    ws_len = 0;
                    if (decode_word_payload(enc, raw + pb, pe - pb, pend)) {
                        g_strlcpy(cs, wcs, sizeof cs);
                        last_encoded = true;
                        i = pe + 2;
                        continue;
                    }
                }
            }
        }
        /* Plain text run. */
        flush_pending(out, pend, cs);
        if (ws_len > 0 && out->len > 0)
            g_string_append_c(out, ' ');
        (void)ws_start;
        ws_len = 0;
        size_t b = i;
        while (i < len && raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\r' && raw[i] != '\n' &&
               !(raw[i] == '=' && i + 1 < len && raw[i + 1] == '?' && i > b))
            i++;
        if (i == b)
            i++;
        append_raw(out, raw + b, i - b);
        last_encoded = false;
    }
    flush_pending(out, pend, cs);
    g_byte_array_unref(pend);
    char *squeezed = bw_strdup_squeezed(out->str, out->len);
    g_string_free(out, TRUE);
    if (*squeezed == '\0') {
        g_free(squeezed);
        return NULL;
    }
    return squeezed;
}

/* ------------------------------------------------------------ MIME reader
 * A byte-level MIME reader: it finds where each part's header block and
 * body are, with its content type and transfer encoding, without building
 * objects.  A report needs a few of its parts (the notice text, the
 * delivery-status fields, the original's headers), so building the whole
 * GMime tree (headers, parameters and parts as GObjects) cost about half of
 * a parse.  Iterative, with the depth and part caps of bw.h; a multipart is
 * scanned once for its own boundary. */

/* Length of the header block at `p` (up to the blank line) and where the
 * body starts. */
static void
split_header(const char *p, size_t len, size_t *hdr_len, size_t *body_off)
{
    if (len > 0 && p[0] == '\n') {
        *hdr_len = 0;
        *body_off = 1;
        return;
    }
    const char *blank = len >= 2 ? bw_find_blank_line(p, len) : NULL;
    if (blank == NULL) {
        *hdr_len = len;
        *body_off = len;
        return;
    }
    *hdr_len = (size_t)(blank - p) + 1;     /* keep the last header's LF */
    *body_off = (size_t)(blank - p) + 2;
}

/* The value of the field `name` (nl bytes, first byte lower-cased in
 * `first`) if the line at hdr[pos, pos + ll) is one: the name, blanks, a
 * colon; the value runs over folded continuation lines. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline const char *
hdr_line_value(const char *hdr, size_t hdr_len, size_t pos, size_t ll, const char *name, size_t nl,
               char first, size_t *value_len)
{
    const char *line = hdr + pos;
    if (!(ll > nl && bw_lower(line[0]) == first && bw_ascii_ncase_eq(line, name, nl)))
        return NULL;
    size_t k = nl;
    while (k < ll && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (!(k < ll && line[k] == ':'))
        return NULL;
    k++;
    while (k < ll && (line[k] == ' ' || line[k] == '\t'))
        k++;
    size_t end = pos + ll;
    while (end + 1 < hdr_len && (hdr[end + 1] == ' ' || hdr[end + 1] == '\t')) {
        const char *n2 = memchr(hdr + end + 1, '\n', hdr_len - end - 1);
        end = n2 ? (size_t)(n2 - hdr) : hdr_len;
    }
    *value_len = end - (pos + k);
    return line + k;
}

const char *
bw_hdr_find(const char *hdr, size_t hdr_len, const char *name, size_t *value_len)
{
    size_t nl = strlen(name);
    size_t pos = 0;
    char first = bw_lower(name[0]);
    while (pos < hdr_len) {
        const char *line = hdr + pos;
        const char *eol = memchr(line, '\n', hdr_len - pos);
        size_t ll = eol ? (size_t)(eol - line) : hdr_len - pos;
        const char *v = hdr_line_value(hdr, hdr_len, pos, ll, name, nl, first, value_len);
        if (v != NULL)
            return v;
        pos += ll + 1;
    }
    return NULL;
}

/* bw_hdr_find of two names in one pass over the block: each gets what
 * its own search would (the first line that is that field), and the walk
 * stops once both are found.  A part's reader wants Content-Type and
 * Content-Transfer-Encoding; two searches read the block's lines twice. */
static void
hdr_find_two(const char *hdr, size_t hdr_len, const char *name1, const char **v1, size_t *l1,
             const char *name2, const char **v2, size_t *l2)
{
    size_t nl1 = strlen(name1), nl2 = strlen(name2);
    char first1 = bw_lower(name1[0]), first2 = bw_lower(name2[0]);
    *v1 = *v2 = NULL;
    size_t pos = 0;
    while (pos < hdr_len && (*v1 == NULL || *v2 == NULL)) {
        const char *line = hdr + pos;
        const char *eol = memchr(line, '\n', hdr_len - pos);
        size_t ll = eol ? (size_t)(eol - line) : hdr_len - pos;
        if (*v1 == NULL)
            *v1 = hdr_line_value(hdr, hdr_len, pos, ll, name1, nl1, first1, l1);
        if (*v2 == NULL)
            *v2 = hdr_line_value(hdr, hdr_len, pos, ll, name2, nl2, first2, l2);
        pos += ll + 1;
    }
}

char *
bw_hdr_get(const char *hdr, size_t hdr_len, const char *name)
{
    size_t vl = 0;
    const char *v = bw_hdr_find(hdr, hdr_len, name, &vl);
    if (v == NULL)
        return NULL;
    if (vl > 16384)
        vl = 16384;
    return bw_header_decode(v, vl);
}

char *
bw_hdr_get_raw(const char *hdr, size_t hdr_len, const char *name)
{
    size_t vl = 0;
    const char *v = bw_hdr_find(hdr, hdr_len, name, &vl);
    if (v == NULL)
        return NULL;
    return bw_strdup_squeezed(v, vl < 16384 ? vl : 16384);
}

/* A parameter of a structured header value (boundary, charset...), quoted
 * or not, copied into out (cut to outsz - 1). */
static bool
param_get(const char *v, size_t vl, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    /* The name after a separator (';' or a blank, then blanks): as the
     * blanks are separators too, a place of the name that follows one.
     * The places are found by bw_memcasestr, in order, instead of a look
     * at every byte for a separator. */
    for (size_t from = 1; from < vl;) {
        const char *hit = bw_memcasestr(v + from, vl - from, name);
        if (hit == NULL)
            return false;
        size_t j = (size_t)(hit - v);
        from = j + 1;
        char sep = v[j - 1];
        if ((sep != ';' && sep != ' ' && sep != '\t' && sep != '\n') || vl - j <= nl)
            continue;
        j += nl;
        while (j < vl && (v[j] == ' ' || v[j] == '\t'))
            j++;
        if (j >= vl || v[j] != '=')
            continue;
        j++;
        while (j < vl && (v[j] == ' ' || v[j] == '\t'))
            j++;
        size_t o = 0;
        if (j < vl && v[j] == '"') {
            j++;
            while (j < vl && v[j] != '"' && o + 1 < outsz) {
                if (v[j] == '\\' && j + 1 < vl)
                    j++;
                out[o++] = v[j++];
            }
        } else {
            while (j < vl && v[j] != ';' && v[j] != ' ' && v[j] != '\t' && v[j] != '\n' && o + 1 < outsz)
                out[o++] = v[j++];
        }
        out[o] = '\0';
        return o > 0;
    }
    return false;
}

/* Lines after a Content-Type field that carry its parameters without the
 * folding blank (seen from Apache James and Verizon's gateway, which write
 * "Content-Type: multipart/alternative;" then "boundary=..." at column 0):
 * at most this many. */
#define UNFOLDED_PARAM_LINES 3

/* A multipart whose Content-Type gives no boundary.  GMime and mutt then
 * read the whole body as one opaque part, and the notice inside is lost.
 * Tolerant readers recover the boundary, and so do we, in this order:
 *   1. a parameter line that lost its folding blank: the lines right after
 *      the Content-Type value that are not header fields (no "name:"),
 *      holding "boundary=";
 *   2. the body itself: its first non-blank line, when it is "--token"
 *      with no blank in it, is a delimiter and names the boundary (a
 *      multipart's body starts with its preamble or its first delimiter;
 *      a real preamble rarely starts with "--").
 * `after` points just past the Content-Type value in mp->hdr. */
static void
boundary_tolerant(bw_mpart_t *mp, const char *after)
{
    const char *end = mp->hdr + mp->hdr_len;
    const char *p = after;
    if (p < end && *p == '\n')
        p++;
    for (unsigned n = 0; n < UNFOLDED_PARAM_LINES && p < end; n++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
        const char *colon = memchr(p, ':', ll);
        const char *eq = memchr(p, '=', ll);
        /* a header field ("Name: ...") ends the Content-Type field */
        if (colon != NULL && (eq == NULL || colon < eq))
            break;
        /* param_get wants a separator before the name */
        char line[256];
        size_t cl = ll < sizeof line - 2 ? ll : sizeof line - 2;
        line[0] = ';';
        memcpy(line + 1, p, cl);
        line[cl + 1] = '\0';
        if (param_get(line, cl + 1, "boundary", mp->boundary, sizeof mp->boundary))
            return;
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    const char *b = mp->body, *bend = mp->body + (mp->body_len < 4096 ? mp->body_len : 4096);
    while (b < bend && (*b == '\n' || *b == ' ' || *b == '\t'))
        b++;
    if (bend - b < 4 || b[0] != '-' || b[1] != '-')
        return;
    const char *eol = memchr(b, '\n', (size_t)(bend - b));
    size_t ll = eol ? (size_t)(eol - b) : (size_t)(bend - b);
    while (ll > 2 && (b[ll - 1] == ' ' || b[ll - 1] == '\t'))
        ll--;
    if (ll < 2 + 6 || ll - 2 >= sizeof mp->boundary)
        return;     /* short "--" lines are rules or signatures, not delimiters */
    bool rule = true;       /* a line of dashes only is a rule */
    for (size_t i = 2; i < ll; i++) {
        if (b[i] == ' ' || b[i] == '\t')
            return;
        rule = rule && b[i] == '-';
    }
    if (rule)
        return;
    memcpy(mp->boundary, b + 2, ll - 2);
    mp->boundary[ll - 2] = '\0';
}

static void
read_part_header(bw_mpart_t *mp, bool digest_child)
{
    size_t vl = 0, tl = 0;
    const char *ct = NULL, *te = NULL;
    hdr_find_two(mp->hdr, mp->hdr_len, "Content-Type", &ct, &vl,
                 "Content-Transfer-Encoding", &te, &tl);
    g_strlcpy(mp->type, digest_child ? "message" : "text", sizeof mp->type);
    g_strlcpy(mp->subtype, digest_child ? "rfc822" : "plain", sizeof mp->subtype);
    mp->charset[0] = mp->boundary[0] = '\0';
    if (ct != NULL && vl > 0) {
        /* A bomb of parameters or RFC 2231 sections is refused (this
         * reader looks for two names only; the cap is for what a reader
         * that keeps them all, GMime's, would build). */
        char *why = bw_caps_check_params(ct, vl);
        if (why != NULL) {
            bw_refuse(why);
            ct = NULL;
            vl = 0;
        }
    }
    if (ct != NULL && vl > 0) {
        size_t i = 0, o = 0;
        while (i < vl && ct[i] != '/' && ct[i] != ';' && ct[i] > ' ' && o + 1 < sizeof mp->type)
            mp->type[o++] = bw_ascii_lower(ct[i++]);
        mp->type[o] = '\0';
        if (i < vl && ct[i] == '/') {
            i++;
            o = 0;
            while (i < vl && ct[i] != ';' && ct[i] > ' ' && o + 1 < sizeof mp->subtype)
                mp->subtype[o++] = bw_ascii_lower(ct[i++]);
            mp->subtype[o] = '\0';
        } else {
            mp->subtype[0] = '\0';
        }
        if (mp->type[0] == '\0') {
            g_strlcpy(mp->type, "text", sizeof mp->type);
            g_strlcpy(mp->subtype, "plain", sizeof mp->subtype);
        }
        param_get(ct, vl, "charset", mp->charset, sizeof mp->charset);
        if (strcmp(mp->type, "multipart") == 0 &&
            !param_get(ct, vl, "boundary", mp->boundary, sizeof mp->boundary))
            boundary_tolerant(mp, ct + vl);
    }
    mp->cte = BW_CTE_NONE;
    if (te != NULL) {
        if (bw_casestr(te, tl, "base64") != NULL)
            mp->cte = BW_CTE_BASE64;
        else if (bw_casestr(te, tl, "quoted-printable") != NULL)
            mp->cte = BW_CTE_QP;
    }
}

bool
bw_mpart_is(const bw_mpart_t *mp, const char *type, const char *subtype)
{
    return strcmp(mp->type, type) == 0 && (subtype == NULL || strcmp(mp->subtype, subtype) == 0);
}

/* Adds the part at data[off, off+len) as a child of `parent`. */
static guint
add_part(GArray *parts, const char *p, size_t len, int parent, unsigned depth, bool in_message,
         bool digest_child)
{
    bw_mpart_t mp;
    memset(&mp, 0, sizeof mp);
    size_t hl = 0, bo = 0;
    split_header(p, len, &hl, &bo);
    mp.hdr = p;
    mp.hdr_len = hl;
    mp.body = p + bo;
    mp.body_len = len - bo;
    mp.parent = parent;
    mp.depth = depth;
    mp.in_message = in_message;
    read_part_header(&mp, digest_child);
    g_array_append_val(parts, mp);
    return parts->len - 1;
}

/* Splits a multipart body on its boundary: appends (start, end) pairs of
 * each part's bytes to `spans`.  Returns the number of parts. */
static unsigned
split_multipart(const char *body, size_t len, const char *boundary, GArray *spans, size_t *preamble)
{
    size_t bl = strlen(boundary);
    *preamble = len;
    unsigned n = 0;
    size_t pos = 0;
    gssize start = -1;
    while (pos + 2 + bl <= len) {
        const char *hit = memmem(body + pos, len - pos, boundary, bl);
        if (hit == NULL)
            break;
        size_t at = (size_t)(hit - body);
        pos = at + bl;
        /* a delimiter line: "--" + boundary at a line start */
        if (at < 2 || hit[-1] != '-' || hit[-2] != '-' || (at > 2 && hit[-3] != '\n'))
            continue;
        bool close = pos + 1 < len && body[pos] == '-' && body[pos + 1] == '-';
        /* ... followed by the line end, blanks, or "--": a longer boundary
         * that starts with this one ("b" and "b2") is not a delimiter. */
        if (!close && pos < len && body[pos] != '\n' && body[pos] != ' ' && body[pos] != '\t')
            continue;
        size_t line_start = at - 2;
        if (*preamble == len)
            *preamble = line_start;
        if (start >= 0) {
            /* the part ends before the LF that precedes the delimiter */
            gsize s = (gsize)start, e = line_start > 0 ? line_start - 1 : 0;
            if (e < s)
                e = s;
            g_array_append_val(spans, s);
            g_array_append_val(spans, e);
            if (++n >= BW_MAX_MIME_PARTS)
                return n;
        }
        if (close)
            return n;
        const char *eol = memchr(body + pos, '\n', len - pos);
        if (eol == NULL)
            return n;
        start = (gssize)(eol - body) + 1;
        pos = (size_t)start;
    }
    if (start >= 0 && (size_t)start < len) {
        /* no closing delimiter (truncated): the rest is the last part */
        gsize s = (gsize)start, e = len;
        g_array_append_val(spans, s);
        g_array_append_val(spans, e);
        n++;
    }
    return n;
}

bw_mime_t *
bw_mime_parse(const char *data, size_t len)
{
    bw_mime_t *m = g_new0(bw_mime_t, 1);
    /* room for the parts of most mail (3.7 a message over the 407
     * bounces), so the array of 312-byte parts is not copied to grow */
    m->parts = g_array_sized_new(FALSE, FALSE, sizeof(bw_mpart_t), 8);
    add_part(m->parts, data, len, -1, 0, false, false);
    GArray *spans = g_array_sized_new(FALSE, FALSE, sizeof(gsize), 16);
    /* Parts are expanded in the order they were added: a breadth-first
     * walk over an array that only grows, bounded by the part cap. */
    for (guint i = 0; i < m->parts->len && !bw_refused(); i++) {
        bw_mpart_t mp = g_array_index(m->parts, bw_mpart_t, i);
        if (mp.depth >= BW_MAX_MIME_DEPTH) {
            if (strcmp(mp.type, "multipart") == 0 || strcmp(mp.type, "message") == 0)
                m->truncated = true;
            continue;
        }
        if (strcmp(mp.type, "multipart") == 0 && mp.boundary[0] != '\0') {
            g_array_set_size(spans, 0);
            size_t preamble = mp.body_len;
            unsigned n = split_multipart(mp.body, mp.body_len, mp.boundary, spans, &preamble);
            g_array_index(m->parts, bw_mpart_t, i).preamble_len = preamble;
            bool digest = strcmp(mp.subtype, "digest") == 0;
            for (unsigned k = 0; k < n; k++) {
                if (m->parts->len >= BW_MAX_MIME_PARTS) {
                    m->truncated = true;
                    break;
                }
                gsize s = g_array_index(spans, gsize, 2 * k), e = g_array_index(spans, gsize, 2 * k + 1);
                add_part(m->parts, mp.body + s, e - s, (int)i, mp.depth + 1, mp.in_message, digest);
            }
            g_array_index(m->parts, bw_mpart_t, i).n_children = n;
        } else if (strcmp(mp.type, "message") == 0 &&
                   (strcmp(mp.subtype, "rfc822") == 0 || strcmp(mp.subtype, "global") == 0 ||
                    strcmp(mp.subtype, "news") == 0) &&
                   mp.cte == BW_CTE_NONE) {
            /* An attached message: its own header block and body. */
            if (m->parts->len >= BW_MAX_MIME_PARTS) {
                m->truncated = true;
                continue;
            }
            size_t off = 0;
            while (off < mp.body_len && (mp.body[off] == '\n' || mp.body[off] == ' '))
                off++;
            add_part(m->parts, mp.body + off, mp.body_len - off, (int)i, mp.depth + 1, true, false);
            g_array_index(m->parts, bw_mpart_t, i).n_children = 1;
        }
    }
    g_array_unref(spans);
    return m;
}

void
bw_mime_free(bw_mime_t *m)
{
    if (m == NULL)
        return;
    g_array_unref(m->parts);
    g_free(m);
}

/* Quoted-printable decoding (RFC 2045 6.7), lenient with bad escapes. */
static size_t
qp_decode(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c != '=') {
            /* the run up to the next '=' is copied as it is */
            const char *eq = memchr(in + i, '=', len - i);
            size_t end = eq != NULL ? (size_t)(eq - in) : len;
            memcpy(out + o, in + i, end - i);
            o += end - i;
            i = end - 1;
            continue;
        }
        /* c is '=' */
        if (i + 1 < len && in[i + 1] == '\n') {
            i++;            /* soft line break */
            continue;
        }
        if (i + 2 < len && g_ascii_isxdigit(in[i + 1]) && g_ascii_isxdigit(in[i + 2])) {
            out[o++] = (char)(g_ascii_xdigit_value(in[i + 1]) * 16 + g_ascii_xdigit_value(in[i + 2]));
            i += 2;
            continue;
        }
        /* "= " at a line end (trailing blanks) is a soft break too */
        size_t k = i + 1;
        while (k < len && (in[k] == ' ' || in[k] == '\t'))
            k++;
        if (k < len && in[k] == '\n') {
            i = k;
            continue;
        }
        out[o++] = c;
    }
    return o;
}

char *
bw_mpart_raw(const bw_mpart_t *mp, size_t max, size_t *len_out)
{
    *len_out = 0;
    if (mp->body_len == 0)
        return NULL;
    char *out = NULL;
    size_t n = 0;
    switch (mp->cte) {
    case BW_CTE_BASE64: {
        /* Only as much input as gives `max` bytes. */
        size_t in = mp->body_len;
        size_t lim = max / 3 * 4 + 8 + max / 38;   /* line ends of 76-char lines */
        if (in > lim)
            in = lim;
        out = g_malloc(in * 3 / 4 + 4);
        gint state = 0;
        guint save = 0;
        n = g_base64_decode_step(mp->body, in, (guchar *)out, &state, &save);
        break;
    }
    case BW_CTE_QP: {
        size_t in = mp->body_len < max + max / 2 ? mp->body_len : max + max / 2;
        out = g_malloc(in + 1);
        n = qp_decode(mp->body, in, out);
        break;
    }
    default:
        n = mp->body_len;
        out = g_malloc(n + 1);
        memcpy(out, mp->body, n);
        break;
    }
    if (n > max)
        n = max;
    if (mp->cte == BW_CTE_NONE) {
        /* The message bytes are normalised already (LF, no NUL). */
        out[n] = '\0';
        if (n == 0) {
            g_free(out);
            return NULL;
        }
        *len_out = n;
        return out;
    }
    /* Decoded content carries its own CRLFs: LF only for the readers (a
     * NUL reads as a space).  The bytes between two of those are moved
     * whole: the next CR and the next NUL are each looked for once
     * (memchr, strnlen), not byte by byte. */
    size_t o = 0, i = 0;
    size_t next_cr = 0, next_nul = 0;
    bool cr_known = false, nul_known = false;
    while (i < n) {
        if (!cr_known || next_cr < i) {
            const char *p = memchr(out + i, '\r', n - i);
            next_cr = p != NULL ? (size_t)(p - out) : n;
            cr_known = true;
        }
        if (!nul_known || next_nul < i) {
            next_nul = i + strnlen(out + i, n - i);
            nul_known = true;
        }
        size_t stop = next_cr < next_nul ? next_cr : next_nul;
        if (stop > i) {
            if (o != i)
                memmove(out + o, out + i, stop - i);
            o += stop - i;
            i = stop;
            if (i >= n)
                break;
        }
        if (out[i] == '\r' && i + 1 < n && out[i + 1] == '\n') {
            i++;
            continue;
        }
        out[o++] = out[i] == '\r' ? '\n' : ' ';
        i++;
    }
    out[o] = '\0';
    if (o == 0) {
        g_free(out);
        return NULL;
    }
    *len_out = o;
    return out;
}

char *
bw_mpart_text(const bw_mpart_t *mp, size_t max, size_t *len_out)
{
    *len_out = 0;
    size_t raw_len = 0;
    g_autofree char *raw = bw_mpart_raw(mp, max, &raw_len);
    if (raw == NULL)
        return NULL;
    char *text = to_utf8(raw, raw_len, mp->charset[0] ? mp->charset : NULL, len_out);
    if (text == NULL)
        text = g_steal_pointer(&raw);   /* UTF-8 as decoded: not copied */
    if (bw_mpart_is(mp, "text", "html")) {
        size_t tl = 0;
        char *plain = bw_html_to_text(text, *len_out, &tl);
        g_free(text);
        text = plain;
        *len_out = tl;
    }
    return text;
}
