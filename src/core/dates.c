/* dates.c: times written and read (bw_time_format, bw_time_parse) and the
 * cap on a date GMime decodes.  Apart from util.c and caps.c, which the
 * parse front links without GMime. */
#include "bw-private.h"
#include <string.h>

/* A date longer than the cap is no date. */
GDateTime *
bw_caps_decode_date(const char *s)
{
    if (s == NULL || strnlen(s, BW_MAX_DATE_BYTES + 1) > BW_MAX_DATE_BYTES)
        return NULL;
    return g_mime_utils_header_decode_date(s);
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
        /* "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d" by hand: printf cost
         * ~3,800 instructions a date (every field is in range here) */
        char *t = g_malloc(26);
        int v[] = { mo, d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
                    off / 3600, (off / 60) % 60 };
        t[0] = (char)('0' + y / 1000);
        t[1] = (char)('0' + y / 100 % 10);
        t[2] = (char)('0' + y / 10 % 10);
        t[3] = (char)('0' + y % 10);
        static const char seps[] = "--T::" "\0:";   /* before each of v[] */
        char *o = t + 4;
        for (int k = 0; k < 7; k++) {
            *o++ = k == 5 ? (utc_offset_seconds < 0 ? '-' : '+') : seps[k];
            *o++ = (char)('0' + v[k] / 10);
            *o++ = (char)('0' + v[k] % 10);
        }
        *o = '\0';
        return t;
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
    /* The year in four digits, as the fast path above and bw_time_parse
     * want it: g_date_time_format's "%Y" writes the year 26 as "26", which
     * read back as no date (the fuzzer's date round trip: a Date header of
     * 0026-11-20 stored as "26-11-20T..."); from 1000 on the same text. */
    int y = 0, mo = 0, d = 0;
    g_date_time_get_ymd(dt, &y, &mo, &d);
    return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mo, d,
                           g_date_time_get_hour(dt), g_date_time_get_minute(dt),
                           g_date_time_get_second(dt), sign, off / 3600, (off / 60) % 60);
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

/* The instant of a calendar date and time at UTC offset `off` (seconds):
 * FALSE unless every field is in range (the day in its month, the offset
 * within -12:00..+14:00) and the instant is not before 1970. */
static bool
civil_instant(int y, int mo, int d, int h, int mi, int sec, int off, gint64 *t)
{
    if (mo < 1 || mo > 12 || d < 1 || d > g_date_get_days_in_month((GDateMonth)mo, (GDateYear)y) ||
        h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || off < -12 * 3600 ||
        off > 14 * 3600)
        return false;
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return *t >= 0;
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
    if (y < 1970 || oh < 0 || om < 0 || om > 59)
        return false;
    int off = (oh * 3600 + om * 60) * (s[19] == '-' ? -1 : 1);
    gint64 t = 0;
    if (!civil_instant(y, mo, d, h, mi, sec, off, &t))
        return false;
    if (unix_time_out)
        *unix_time_out = t;
    if (offset_out)
        *offset_out = off;
    return true;
}

static bool
is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* The canonical RFC 5322 date, "[Www, ]D Mmm YYYY HH:MM:SS +hhmm", with
 * an optional comment after the zone ("(UTC)"), names in their usual
 * case, a year from 1970, seconds and a zone of -12:00 to +14:00: what
 * nearly every mail server writes, read by arithmetic (GMime's parser,
 * its GTimeZone and GDateTime cost some 7,000 instructions a date).
 * Within these bounds GMime gives this instant and this offset
 * (check_util test_date_fast_as_gmime); anything else is left to it. */
static bool
date_parse_canonical(const char *s, gint64 *unix_time_out, int *offset_out)
{
    static const char days[] = "MonTueWedThuFriSatSun";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *p = s;
    while (is_ws(*p))
        p++;
    if (g_ascii_isalpha(p[0])) {
        bool day_ok = false;
        for (int i = 0; i < 7 && !day_ok; i++)
            day_ok = strncmp(p, days + 3 * i, 3) == 0;
        if (!day_ok || p[3] != ',' || !is_ws(p[4]))
            return false;
        p += 4;
        while (is_ws(*p))
            p++;
    }
    int d = 0;
    if (g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1])) {
        d = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
    } else if (g_ascii_isdigit(p[0])) {
        d = p[0] - '0';
        p += 1;
    } else {
        return false;
    }
    if (!is_ws(*p))
        return false;
    while (is_ws(*p))
        p++;
    int mo = 0;
    for (int i = 0; i < 12 && mo == 0; i++)
        if (strncmp(p, months + 3 * i, 3) == 0)
            mo = i + 1;
    if (mo == 0 || !is_ws(p[3]))
        return false;
    p += 3;
    while (is_ws(*p))
        p++;
    int y = digits_at(p, 4);
    if (y < 1970 || !is_ws(p[4]))
        return false;
    p += 4;
    while (is_ws(*p))
        p++;
    /* Each field is read only once the bytes before it are known not to
     * hold the string's end: a digit or a separator checked. */
    int h = digits_at(p, 2);
    if (h < 0 || p[2] != ':')
        return false;
    int mi = digits_at(p + 3, 2);
    if (mi < 0 || p[5] != ':')
        return false;
    int sec = digits_at(p + 6, 2);
    if (sec < 0 || !is_ws(p[8]))
        return false;
    p += 8;
    while (is_ws(*p))
        p++;
    if ((p[0] != '+' && p[0] != '-'))
        return false;
    int oh = digits_at(p + 1, 2);
    if (oh < 0)
        return false;
    int om = digits_at(p + 3, 2);
    if (om < 0 || om > 59)
        return false;
    int off = (oh * 3600 + om * 60) * (p[0] == '-' ? -1 : 1);
    p += 5;
    if (*p != '\0' && !is_ws(*p))
        return false;
    while (is_ws(*p))
        p++;
    if (*p == '(') {
        /* a comment without nesting or quoting, then the end */
        p++;
        while (*p != '\0' && *p != ')' && *p != '(' && *p != '\\' && (unsigned char)*p >= 0x20 &&
               (unsigned char)*p < 0x7f)
            p++;
        if (*p != ')')
            return false;
        p++;
        while (is_ws(*p))
            p++;
    }
    if (*p != '\0')
        return false;
    gint64 t = 0;
    if (!civil_instant(y, mo, d, h, mi, sec, off, &t))
        return false;
    *unix_time_out = t;
    *offset_out = off;
    return true;
}

bool
bw_caps_decode_date_unix(const char *s, gint64 *unix_time, int *offset)
{
    if (s == NULL || strnlen(s, BW_MAX_DATE_BYTES + 1) > BW_MAX_DATE_BYTES)
        return false;
    if (date_parse_canonical(s, unix_time, offset))
        return true;
    GDateTime *d = bw_caps_decode_date(s);
    if (d == NULL)
        return false;
    *unix_time = g_date_time_to_unix(d);
    *offset = (int)(g_date_time_get_utc_offset(d) / G_USEC_PER_SEC);
    g_date_time_unref(d);
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
