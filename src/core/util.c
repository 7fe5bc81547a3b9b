/* util.c: small text helpers shared by the core: addresses, Message-IDs,
 * bounded case-insensitive search.  All bounded by their inputs.  GLib
 * only (the parse front links it without GMime); times are dates.c. */
#include "bw-private.h"
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char *memcasestr_scalar(const char *hay, size_t hay_len, const char *needle, size_t n);

const char *
bw_memcasestr(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return hay;
    if (hay == NULL || hay_len < n)
        return NULL;
#ifdef __SSE2__
    /* Sixteen places at a time, where the needle's first two bytes match
     * (case folded for ASCII letters: a letter OR 0x20 is its lower case,
     * and no other byte gives that); each such place is then compared
     * whole.  The detectors look for hundreds of short phrases, most of
     * them absent: memchr on the first letter stopped at every common
     * letter of the text and started again. */
    if (n >= 2) {
        unsigned char c0 = (unsigned char)needle[0], c1 = (unsigned char)needle[1];
        bool l0 = g_ascii_isalpha(c0), l1 = g_ascii_isalpha(c1);
        const __m128i f0 = _mm_set1_epi8((char)(l0 ? (c0 | 0x20) : c0));
        const __m128i f1 = _mm_set1_epi8((char)(l1 ? (c1 | 0x20) : c1));
        const __m128i m0 = _mm_set1_epi8(l0 ? 0x20 : 0), m1 = _mm_set1_epi8(l1 ? 0x20 : 0);
        size_t last = hay_len - n;           /* the last place a match can start */
        if (last < 15)
            return memcasestr_scalar(hay, hay_len, needle, n);
        for (size_t i = 0;; i += 16) {
            /* the places i .. i + 15 (reading hay[i .. i + 16]); the last
             * block is moved back to end at `last`, its places already
             * looked at masked off */
            unsigned skip = 0;
            if (i + 15 > last) {
                if (i > last)
                    return NULL;
                skip = (unsigned)(i - (last - 15));
                i = last - 15;
            }
            __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)(hay + i));
            __m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(hay + i + 1));
            __m128i eq = _mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(b0, m0), f0),
                                       _mm_cmpeq_epi8(_mm_or_si128(b1, m1), f1));
            unsigned mask = (unsigned)_mm_movemask_epi8(eq) & ~((1u << skip) - 1u);
            while (mask != 0) {
                const char *c = hay + i + (unsigned)__builtin_ctz(mask);
                size_t k = 2;
                while (k < n && bw_ascii_lower(c[k]) == bw_ascii_lower(needle[k]))
                    k++;
                if (k == n)
                    return c;
                mask &= mask - 1;
            }
            if (skip != 0 || i + 15 == last)
                return NULL;
        }
    }
#endif
    return memcasestr_scalar(hay, hay_len, needle, n);
}

/* The same, one candidate at a time (a text shorter than a block, a
 * needle of one byte, a build without SSE2). */
static const char *
memcasestr_scalar(const char *hay, size_t hay_len, const char *needle, size_t n)
{
    if (hay_len < n)
        return NULL;
    /* Case folding is inlined (bw_ascii_lower): a library call per byte was
     * the largest single cost of the parser in profiles.  The first byte is
     * found with memchr on both cases where it is a letter. */
    char lo = bw_ascii_lower(needle[0]);
    char up = g_ascii_isalpha(lo) ? (char)(lo - 32) : lo;
    const char *end = hay + (hay_len - n) + 1;
    /* The next place of each case, kept while it is ahead: a candidate of
     * one case that fails does not make the other's be looked for again
     * (a text full of the needle's first letter in one case searched it
     * once per candidate of the other). */
    const char *a = hay, *b = up != lo ? hay : NULL;
    bool a_known = false, b_known = up == lo;
    for (const char *p = hay; p < end;) {
        if (!a_known || (a != NULL && a < p)) {
            a = memchr(p, lo, (size_t)(end - p));
            a_known = true;
        }
        if (!b_known || (b != NULL && b < p)) {
            /* only before a: past it, a is the candidate */
            b = memchr(p, up, (size_t)((a != NULL ? a : end) - p));
            b_known = b != NULL;
        }
        const char *c = b != NULL ? b : a;
        if (c == NULL)
            return NULL;
        size_t k = 1;
        while (k < n && bw_ascii_lower(c[k]) == bw_ascii_lower(needle[k]))
            k++;
        if (k == n)
            return c;
        p = c + 1;
    }
    return NULL;
}

/* The length of the well-formed UTF-8 sequence at p (at most `left` bytes),
 * whose first byte is 8-bit, or 0 when there is none: a lead byte C2-F4,
 * then continuation bytes, with the second byte's range narrowed after
 * E0 (no overlong), ED (no surrogate), F0 (no overlong) and F4 (nothing
 * past U+10FFFF).  What GLib accepts. */
static size_t
utf8_sequence(const unsigned char *p, size_t left)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (p[k] < 0x80 || p[k] > 0xBF)
            return 0;
    return n;
}

bool
bw_utf8_validate(const char *s, gssize len)
{
    if (s == NULL)
        return false;
    size_t n = len < 0 ? strlen(s) : (size_t)len;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    /* Runs of ASCII without a NUL are skipped a block at a time; an 8-bit
     * byte is read with its sequence, and the skipping goes on after it
     * (the JSON lines and header values are ASCII with a few accented
     * words: GLib's own loop took every byte after the first one one by
     * one). */
    for (;;) {
#ifdef __SSE2__
        const __m128i zero = _mm_setzero_si128();
        while (n - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            unsigned bad = (unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, zero)));
            if (bad != 0) {
                i += (size_t)__builtin_ctz(bad);
                break;
            }
            i += 16;
        }
#endif
        while (i < n && p[i] != 0 && p[i] < 0x80)
            i++;
        if (i == n)
            return true;
        if (p[i] == 0)
            return false;   /* a NUL among the bytes given */
        size_t k = utf8_sequence(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
}

const char *
bw_find_blank_line(const char *p, size_t len)
{
    /* memchr to each line end, then one look at the next byte: lines are
     * tens of bytes, so this reads far fewer bytes one by one than
     * memmem's generic search does */
    while (len >= 2) {
        const char *nl = memchr(p, '\n', len - 1);
        if (nl == NULL)
            return NULL;
        if (nl[1] == '\n')
            return nl;
        len -= (size_t)(nl + 1 - p);
        p = nl + 1;
    }
    return NULL;
}

/* The first byte at or after j (before n) that is white space (' ' or
 * \t \n \v \f \r, 9-13), else n. */
static size_t
next_blank(const char *s, size_t j, size_t n)
{
#ifdef __SSE2__
    /* sixteen at a time: ' ', or 9-13 as (byte - 9) <= 4 unsigned */
    const __m128i space = _mm_set1_epi8(' '), nine = _mm_set1_epi8(9), four = _mm_set1_epi8(4);
    for (; n - j >= 16; j += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
        __m128i d = _mm_sub_epi8(v, nine);
        __m128i blank = _mm_or_si128(_mm_cmpeq_epi8(v, space),
                                     _mm_cmpeq_epi8(_mm_min_epu8(d, four), d));
        unsigned m = (unsigned)_mm_movemask_epi8(blank);
        if (m != 0)
            return j + (size_t)__builtin_ctz(m);
    }
#endif
    while (j < n && s[j] != ' ' && !(s[j] >= '\t' && s[j] <= '\r'))
        j++;
    return j;
}

char *
bw_strdup_squeezed(const char *s, size_t len)
{
    /* the copy is never longer than the text (a space is written only for
     * a run of white space already read): one allocation */
    size_t n = s != NULL ? strnlen(s, len) : 0;
    char *out = g_malloc(n + 1);
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        /* (\t \n \v \f \r are 9-13) */
        if (c == ' ' || (c >= '\t' && c <= '\r')) {
            space = o > 0;
            i++;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = false;
        /* the run of bytes up to the next white space, in one copy */
        size_t j = next_blank(s, i + 1, n);
        memcpy(out + o, s + i, j - i);
        o += j - i;
        i = j;
    }
    out[o] = '\0';
    return out;
}

/* An address character (RFC 5322 atext plus the dot and a few that real
 * mail servers print in local parts). */
static bool
is_addr_char(unsigned char c)
{
    /* a bit per byte: the alphanumerics, 0x80-0xFF and the list
     * "!#$%&'*+-/=?^_`{|}~.", plus NUL (strchr finds a list's terminator:
     * the test this replaces, g_ascii_isalnum(c) || c >= 0x80 ||
     * strchr(list, c) != NULL, said yes to it); a library call for every
     * dot and hyphen of an address was most of bw_address_normalize */
    static const guint64 set[4] = {
        G_GUINT64_CONSTANT(0xa3ffecfa00000001), G_GUINT64_CONSTANT(0x7fffffffc7fffffe),
        G_GUINT64_CONSTANT(0xffffffffffffffff), G_GUINT64_CONSTANT(0xffffffffffffffff),
    };
    return (set[c >> 6] >> (c & 63)) & 1;
}

char *
bw_address_normalize(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strnlen(s, 4096);
    /* Prefer the text inside the last <...> that holds an @. */
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *lt = memchr(s, '<', len); lt != NULL;
         lt = lt + 1 < s + len ? memchr(lt + 1, '<', (size_t)(s + len - lt - 1)) : NULL) {
        size_t i = (size_t)(lt - s);
        size_t j = i + 1;
        while (j < len && s[j] != '>' && s[j] != '<')
            j++;
        if (j < len && s[j] == '>' && memchr(s + i + 1, '@', j - i - 1) != NULL) {
            best = s + i + 1;
            best_len = j - i - 1;
        }
    }
    if (best == NULL) {
        best = s;
        best_len = len;
    }
    const char *at = memchr(best, '@', best_len);
    if (at == NULL)
        return NULL;
    /* Expand around the '@' over address characters. */
    const char *b = at, *e = at + 1;
    const char *lim = best + best_len;
    while (b > best && is_addr_char((unsigned char)b[-1]))
        b--;
    while (e < lim && (is_addr_char((unsigned char)*e)) )
        e++;
    /* Strip a "mailto:"/"rfc822;" style prefix and trailing dots. */
    while (e > at + 1 && e[-1] == '.')
        e--;
    while (b < at && *b == '.')
        b++;
    if (b == at || e == at + 1)
        return NULL;
    /* g_ascii_strdown(b, e - b), without its call per byte (no NUL lies
     * between b and e: s was measured with strnlen) */
    size_t n = (size_t)(e - b);
    char *out = g_malloc(n + 1);
    size_t i = 0;
#ifdef __SSE2__
    /* sixteen at a time: A-Z, as (byte - 'A') <= 25 unsigned, gain 0x20 */
    const __m128i big_a = _mm_set1_epi8('A'), span = _mm_set1_epi8(25), bit = _mm_set1_epi8(0x20);
    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        __m128i d = _mm_sub_epi8(v, big_a);
        __m128i upper = _mm_cmpeq_epi8(_mm_min_epu8(d, span), d);
        _mm_storeu_si128((__m128i *)(void *)(out + i), _mm_or_si128(v, _mm_and_si128(upper, bit)));
    }
#endif
    for (; i < n; i++)
        out[i] = bw_ascii_lower(b[i]);
    out[n] = '\0';
    return out;
}

char *
bw_msgid_normalize(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strnlen(s, 4096);
    const char *b = s, *e = s + len;
    const char *lt = memchr(s, '<', len);
    if (lt != NULL) {
        const char *gt = memchr(lt, '>', (size_t)(e - lt));
        b = lt + 1;
        e = gt != NULL ? gt : e;
    }
    while (b < e && g_ascii_isspace(*b))
        b++;
    while (e > b && g_ascii_isspace(e[-1]))
        e--;
    if (e == b)
        return NULL;
    /* A Message-ID has no inner white space; cut at the first. */
    for (const char *p = b; p < e; p++)
        if (g_ascii_isspace(*p)) {
            e = p;
            break;
        }
    return g_strndup(b, (gsize)(e - b));
}

/* ------------------------------------------------------------ plain addresses */

/* RFC 5322 atext: is_addr_char's ASCII without the dot (its list is the
 * one list of these characters) */
static bool
is_atext(unsigned char c)
{
    return c != 0 && c != '.' && c < 0x80 && is_addr_char(c);
}

/* A dot-atom at p (atext runs joined by single dots); its end, or NULL. */
static const char *
dot_atom_end(const char *p)
{
    for (;;) {
        if (!is_atext((unsigned char)*p))
            return NULL;
        while (is_atext((unsigned char)*p))
            p++;
        if (*p != '.')
            return p;
        p++;
    }
}

bool
bw_simple_address(const char *v, const char **addr, size_t *addr_len)
{
    const char *p = v;
    while (*p == ' ' || *p == '\t')
        p++;
    bool angle = false;
    const char *q = p;
    /* words before "<", if any: atext only, one space or tab between */
    while (is_atext((unsigned char)*q)) {
        while (is_atext((unsigned char)*q))
            q++;
        if (*q != ' ' && *q != '\t')
            break;
        while (*q == ' ' || *q == '\t')
            q++;
    }
    if (*q == '<') {
        angle = true;
        p = q + 1;
    }
    const char *at = dot_atom_end(p);
    if (at == NULL || *at != '@')
        return false;
    const char *end = dot_atom_end(at + 1);
    if (end == NULL)
        return false;
    /* GMime shows an IDN domain ("xn--...") decoded: left to it */
    if (bw_memcasestr(at + 1, (size_t)(end - at - 1), "xn--") != NULL)
        return false;
    const char *r = end;
    if (angle) {
        if (*r != '>')
            return false;
        r++;
    }
    while (*r == ' ' || *r == '\t')
        r++;
    if (*r != '\0')
        return false;
    *addr = p;
    *addr_len = (size_t)(end - p);
    return true;
}

bool
bw_simple_address_add(const char *v, GPtrArray *out)
{
    const char *plain = NULL;
    size_t plain_len = 0;
    if (!bw_simple_address(v, &plain, &plain_len))
        return false;
    /* what GMime's list would hold, without it (parsing the list and
     * freeing it cost ~15,000 instructions) */
    g_autofree char *addr = g_strndup(plain, plain_len);
    char *a = bw_address_normalize(addr);
    if (a != NULL)
        g_ptr_array_add(out, a);
    return true;
}

void
bw_test_gate(const char *variable)
{
    const char *prefix = g_getenv(variable);
    if (prefix == NULL || *prefix == '\0')
        return;
    g_autofree char *waiting = g_strconcat(prefix, ".waiting", NULL);
    g_autofree char *go = g_strconcat(prefix, ".go", NULL);
    (void)g_file_set_contents(waiting, "", 0, NULL);
    for (int i = 0; i < 2000 && !g_file_test(go, G_FILE_TEST_EXISTS); i++)
        g_usleep(10000);
}
