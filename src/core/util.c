/* util.c: small text helpers shared by the core: addresses, Message-IDs,
 * times, bounded case-insensitive search.  All bounded by their inputs. */
#include "bw-private.h"
#include <string.h>

const char *
bw_memcasestr(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return hay;
    if (hay == NULL || hay_len < n)
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

bool
bw_utf8_validate(const char *s, gssize len)
{
    if (s == NULL)
        return false;
    size_t n = len < 0 ? strlen(s) : (size_t)len;
    size_t i = 0;
    /* Eight bytes at a time while they are ASCII and not NUL (bit 7 clear
     * in every byte, and no byte zero); GLib reads from the first word
     * that is not, whole characters being behind it. */
    for (; n - i >= 8; i += 8) {
        guint64 w;
        memcpy(&w, s + i, 8);
        if ((w & 0x8080808080808080ull) != 0 ||
            ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0)
            break;
    }
    if (i == n)
        return true;
    return g_utf8_validate(s + i, len < 0 ? -1 : (gssize)(n - i), NULL);
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

char *
bw_strdup_squeezed(const char *s, size_t len)
{
    /* the copy is never longer than the text (a space is written only for
     * a run of white space already read): one allocation */
    size_t n = s != NULL ? strnlen(s, len) : 0;
    char *out = g_malloc(n + 1);
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

/* An address character (RFC 5322 atext plus the dot and a few that real
 * mail servers print in local parts). */
static bool
is_addr_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
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
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '<')
            continue;
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
    return g_ascii_strdown(b, e - b);
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

/* The civil date of a count of days since 1970-01-01 (proleptic
 * Gregorian; H. Hinnant's days_from_civil inverse). */
static void
civil_from_days(gint64 z, int *y, int *m, int *d)
{
    z += 719468;
    gint64 era = (z >= 0 ? z : z - 146096) / 146097;
    gint64 doe = z - era * 146097;
    gint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    gint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    gint64 mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

char *
bw_time_format(gint64 unix_time, int utc_offset_seconds)
{
    /* The common case in arithmetic (GLib's time zone and format calls
     * cost some 10,000 instructions a date): a real zone offset (-12:00
     * to +14:00) and a local time from 1970 to 9999, where GLib's answer
     * is this one.  Anything else takes GLib's way below. */
    const gint64 max_time = G_GINT64_CONSTANT(253402300799);   /* 9999-12-31T23:59:59 */
    gint64 local = unix_time + utc_offset_seconds;
    if (utc_offset_seconds >= -12 * 3600 && utc_offset_seconds <= 14 * 3600 &&
        unix_time >= 0 && unix_time <= max_time && local >= 0 && local <= max_time) {
        gint64 days = local / 86400, secs = local % 86400;
        int y, mo, d;
        civil_from_days(days, &y, &mo, &d);
        int off = utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds;
        return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mo, d,
                               (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
                               utc_offset_seconds < 0 ? '-' : '+', off / 3600, (off / 60) % 60);
    }
    g_autoptr(GTimeZone) tz = g_time_zone_new_offset(utc_offset_seconds);
    if (tz == NULL)
        tz = g_time_zone_new_utc();
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(unix_time);
    if (utc == NULL)
        return NULL;
    g_autoptr(GDateTime) dt = g_date_time_to_timezone(utc, tz);
    if (dt == NULL)
        return NULL;
    int off = utc_offset_seconds;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    g_autofree char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    return g_strdup_printf("%s%c%02d:%02d", base, sign, off / 3600, (off / 60) % 60);
}

/* Days from 1970-01-01 to a civil date (H. Hinnant's days_from_civil). */
static gint64
days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    gint64 era = (y >= 0 ? y : y - 399) / 400;
    gint64 yoe = y - era * 400;
    gint64 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* `n` ASCII digits at s as a number, or -1. */
static int
digits_at(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!g_ascii_isdigit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The form bw_time_format writes in its common case,
 * "YYYY-MM-DDTHH:MM:SS+HH:MM" for a local time of 1970-9999 at a real zone
 * offset (-12:00 to +14:00), read by arithmetic: the stored items' dates
 * are read back on every run, and GLib's ISO 8601 parser costs some 4,000
 * instructions a date.  Within these bounds its answer is this one
 * (check_util test_time_parse_as_glib); anything else is left to it. */
static bool
time_parse_common(const char *s, gint64 *unix_time_out, int *offset_out)
{
    if (strlen(s) != 25 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || (s[19] != '+' && s[19] != '-') || s[22] != ':')
        return false;
    int y = digits_at(s, 4), mo = digits_at(s + 5, 2), d = digits_at(s + 8, 2);
    int h = digits_at(s + 11, 2), mi = digits_at(s + 14, 2), sec = digits_at(s + 17, 2);
    int oh = digits_at(s + 20, 2), om = digits_at(s + 23, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 59 || oh < 0 || om < 0 || om > 59)
        return false;
    if (d > g_date_get_days_in_month((GDateMonth)mo, (GDateYear)y))
        return false;
    int off = (oh * 3600 + om * 60) * (s[19] == '-' ? -1 : 1);
    if (off < -12 * 3600 || off > 14 * 3600)
        return false;
    gint64 t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    if (t < 0)
        return false;
    if (unix_time_out)
        *unix_time_out = t;
    if (offset_out)
        *offset_out = off;
    return true;
}

bool
bw_time_parse(const char *s, gint64 *unix_time_out, int *offset_out)
{
    if (s == NULL || *s == '\0' || strnlen(s, BW_MAX_DATE_BYTES + 1) > BW_MAX_DATE_BYTES)
        return false;
    if (time_parse_common(s, unix_time_out, offset_out))
        return true;
    /* RFC 3339 first (GLib handles the offset forms). */
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(s, NULL);
    if (dt != NULL) {
        if (unix_time_out)
            *unix_time_out = g_date_time_to_unix(dt);
        if (offset_out)
            *offset_out = (int)(g_date_time_get_utc_offset(dt) / G_USEC_PER_SEC);
        return true;
    }
    int tz_offset = 0;
    /* GMime parses RFC 5322 dates, including obsolete zones. */
    GDateTime *d = bw_caps_decode_date(s);
    if (d == NULL)
        return false;
    tz_offset = (int)(g_date_time_get_utc_offset(d) / G_USEC_PER_SEC);
    if (unix_time_out)
        *unix_time_out = g_date_time_to_unix(d);
    if (offset_out)
        *offset_out = tz_offset;
    g_date_time_unref(d);
    return true;
}
