/* caps.c: the structural caps that stand before every parser handed
 * attacker text (bw.h, "Structural caps"), and the refusal they lead to.
 *
 * A report is read by our own code and by third-party parsers (json-glib,
 * GMime's address, date and header parsers) that recurse or allocate per
 * element.  Each check here is linear, allocation-free and runs before the
 * parser it guards; a message that passes a cap is refused as a whole
 * (BW_E_REFUSED, the detail names the cap), never cut into something that
 * means another thing.
 *
 * The refusal of the message being parsed is kept per thread: the caps sit
 * deep in the parser (a header decoder, the MIME reader, a vendor's JSON),
 * below functions that have no way to return it, and parse.c asks for it
 * once the message is read (bw_refusal_begin / bw_refusal_end). */
#include "bw-parse.h"
#include <stdarg.h>
#include <string.h>

/* ------------------------------------------------------------ the refusal */

static _Thread_local char *refusal;      /* first refusal of this parse */
/* Encoded words decoded (or handed to GMime, which decodes them) for the
 * message being parsed: a word in a charset other than the last one's costs
 * a converter (about a millisecond when an attacker alternates charsets). */

static _Thread_local unsigned encoded_words_spent;
/* Between bw_refusal_begin and bw_refusal_end.  A helper called outside a
 * parse still skips what passes a cap, with no message to refuse. */
static _Thread_local bool parsing;

void
bw_refusal_begin(void)
{
    g_clear_pointer(&refusal, g_free);
    encoded_words_spent = 0;
    parsing = true;
}

void
bw_refuse(char *why)
{
    if (why == NULL)
        return;
    if (parsing && refusal == NULL)
        refusal = why;          /* the first cap passed is the one named */
    else
        g_free(why);
}

bool
bw_refused(void)
{
    return refusal != NULL;
}

char *
bw_refusal_end(void)
{
    parsing = false;
    return g_steal_pointer(&refusal);
}

/* "refused: <what> (limit <CAP>)": one line, the cap by its name in bw.h
 * and the man page's LIMITS section. */
static char *G_GNUC_PRINTF(2, 3)
refusal_text(const char *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return g_strdup_printf("refused: %s (limit %s)", what, cap);
}

/* ------------------------------------------------------------ JSON */

static bool
json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Length of the JSON string starting at t[0] == '"' (quotes included), or 0
 * when it is not one.  Stricter than json-glib where that matters to find
 * the string's end (\u takes four hex digits: json-glib would take the
 * closing quote into a short one), as tolerant where real notices need it:
 * SES text wrapped by a mail gateway carries raw line ends inside strings,
 * and json-glib reads a backslash followed by any byte as that byte. */
static size_t
json_string_len(const char *t, size_t len)
{
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
            return 0;
        if (c != '\\')
            continue;
        if (++i >= len)
            return 0;
        if (t[i] == 'u') {
            if (len - i < 5)
                return 0;
            for (size_t k = 1; k <= 4; k++)
                if (!g_ascii_isxdigit(t[i + k]))
                    return 0;
            i += 4;
        } else if ((unsigned char)t[i] < 0x20 && t[i] != '\n' && t[i] != '\r' && t[i] != '\t') {
            return 0;
        }
    }
    return 0;
}

/* Length of the number or literal (true, false, null) at t, or 0. */
static size_t
json_scalar_len(const char *t, size_t len)
{
    static const char *const literals[] = { "true", "false", "null" };
    for (unsigned k = 0; k < G_N_ELEMENTS(literals); k++) {
        size_t n = strlen(literals[k]);
        if (len >= n && memcmp(t, literals[k], n) == 0)
            return n;
    }
    /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    size_t i = 0;
    if (i < len && t[i] == '-')
        i++;
    if (i < len && t[i] == '0')
        i++;
    else if (i < len && t[i] >= '1' && t[i] <= '9')
        while (i < len && g_ascii_isdigit(t[i]))
            i++;
    else
        return 0;
    if (i < len && t[i] == '.') {
        size_t d = ++i;
        while (i < len && g_ascii_isdigit(t[i]))
            i++;
        if (i == d)
            return 0;
    }
    if (i < len && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < len && (t[i] == '+' || t[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && g_ascii_isdigit(t[i]))
            i++;
        if (i == d)
            return 0;
    }
    return i;
}

bw_status_t
bw_caps_check_json(const char *text, size_t len, char **why)
{
    *why = NULL;
    if (len > BW_MAX_JSON_BYTES) {
        *why = refusal_text("BW_MAX_JSON_BYTES", "JSON text larger than %u bytes", BW_MAX_JSON_BYTES);
        return BW_E_REFUSED;
    }
    /* json-glib reads a superset of JSON (comments, single-quoted
     * strings, hex numbers): only RFC 8259 text is handed on (with the
     * string tolerance of json_string_len), so that what is a string here
     * is a string there and the depth counted here is the depth it
     * builds. */
    if (!g_utf8_validate(text, (gssize)len, NULL))
        return BW_E_INVALID;
    /* The open containers: '{' or '[' per level, bounded by the cap. */
    char stack[BW_MAX_JSON_DEPTH];
    unsigned depth = 0;
    size_t values = 0;
    enum { VALUE, AFTER_VALUE, KEY_OR_END, KEY, COLON, VALUE_OR_END } want = VALUE;
    size_t i = 0;
    for (;;) {
        while (i < len && json_ws(text[i]))
            i++;
        if (i >= len)
            return want == AFTER_VALUE && depth == 0 ? BW_OK : BW_E_INVALID;
        char c = text[i];
        switch (want) {
        case VALUE:
        case VALUE_OR_END:
            if (want == VALUE_OR_END && c == ']') {
                depth--;
                i++;
                want = AFTER_VALUE;
                break;
            }
            if (++values > BW_MAX_JSON_VALUES) {
                *why = refusal_text("BW_MAX_JSON_VALUES", "JSON with more than %u values",
                                    BW_MAX_JSON_VALUES);
                return BW_E_REFUSED;
            }
            if (c == '{' || c == '[') {
                if (depth >= BW_MAX_JSON_DEPTH) {
                    *why = refusal_text("BW_MAX_JSON_DEPTH", "JSON nested deeper than %u levels",
                                        BW_MAX_JSON_DEPTH);
                    return BW_E_REFUSED;
                }
                stack[depth++] = c;
                i++;
                want = c == '{' ? KEY_OR_END : VALUE_OR_END;
            } else if (c == '"') {
                size_t n = json_string_len(text + i, len - i);
                if (n == 0)
                    return BW_E_INVALID;
                i += n;
                want = AFTER_VALUE;
            } else {
                size_t n = json_scalar_len(text + i, len - i);
                if (n == 0)
                    return BW_E_INVALID;
                i += n;
                want = AFTER_VALUE;
            }
            break;
        case AFTER_VALUE:
            if (depth == 0)
                return BW_E_INVALID;        /* text after the value */
            if (c == ',') {
                want = stack[depth - 1] == '{' ? KEY : VALUE;
            } else if ((c == '}' && stack[depth - 1] == '{') || (c == ']' && stack[depth - 1] == '[')) {
                depth--;
            } else {
                return BW_E_INVALID;
            }
            i++;
            break;
        case KEY_OR_END:
        case KEY:
            if (want == KEY_OR_END && c == '}') {
                depth--;
                i++;
                want = AFTER_VALUE;
                break;
            }
            if (c != '"')
                return BW_E_INVALID;
            if (++values > BW_MAX_JSON_VALUES) {
                *why = refusal_text("BW_MAX_JSON_VALUES", "JSON with more than %u values",
                                    BW_MAX_JSON_VALUES);
                return BW_E_REFUSED;
            }
            {
                size_t n = json_string_len(text + i, len - i);
                if (n == 0)
                    return BW_E_INVALID;
                i += n;
            }
            want = COLON;
            break;
        case COLON:
            if (c != ':')
                return BW_E_INVALID;
            i++;
            want = VALUE;
            break;
        }
    }
}

/* ------------------------------------------------------------ encoded words */


size_t
bw_caps_count_encoded_words(const char *v, size_t len)
{
    size_t n = 0;
    for (const char *p = v, *end = v + len; p + 1 < end; p++) {
        p = memchr(p, '=', (size_t)(end - p - 1));
        if (p == NULL)
            break;
        /* "=?" then a charset: the start of a word ("=?=" is the end of
         * one whose payload ends in base64 padding) */
        if (p[1] == '?' && (p + 2 == end || p[2] != '='))
            n++;
    }
    return n;
}

bool
bw_caps_spend_encoded_words(const char *v, size_t len)
{
    size_t n = bw_caps_count_encoded_words(v, len);
    if (n == 0)
        return true;
    if (n > BW_MAX_ENCODED_WORDS) {
        bw_refuse(refusal_text("BW_MAX_ENCODED_WORDS",
                               "more than %u RFC 2047 encoded words in one header field",
                               BW_MAX_ENCODED_WORDS));
        return false;
    }
    if (!parsing)
        return true;
    encoded_words_spent += (unsigned)n;
    if (encoded_words_spent > BW_MAX_ENCODED_WORDS_TOTAL) {
        bw_refuse(refusal_text("BW_MAX_ENCODED_WORDS_TOTAL",
                               "more than %u RFC 2047 encoded words in one message",
                               BW_MAX_ENCODED_WORDS_TOTAL));
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ addresses */

char *
bw_caps_check_addresses(const char *v, size_t len)
{
    /* Counted on the raw bytes, with no idea of quotes or comments: GMime
     * recovers from an unclosed quote or comment in its own way, and a
     * count that follows quotes could be fooled into skipping what GMime
     * reads as structure.  Measured against GMime 3.2 on random fields:
     *   - it nests one group per ':' at most (a group is "name:" ... ";"):
     *     the number of ':' bounds the depth it recurses to;
     *   - its time grows with the square of the number of list items for
     *     some malformed lists ("a.b," 16,000 times took 4 s, 100,000 "a,"
     *     72 s): the ',' and ';' bound that number;
     *   - comments it skips without recursion: their depth is capped for
     *     what it says, not for GMime's stack. */
    size_t colons = 0, separators = 0;
    unsigned comments = 0, max_comments = 0;
    for (size_t i = 0; i < len; i++) {
        switch (v[i]) {
        case ':':
            colons++;
            break;
        case ',':
        case ';':
            separators++;
            break;
        case '(':
            if (++comments > max_comments)
                max_comments = comments;
            break;
        case ')':
            if (comments > 0)
                comments--;
            break;
        default:
            break;
        }
    }
    if (colons > BW_MAX_ADDRESS_GROUP_DEPTH)
        return refusal_text("BW_MAX_ADDRESS_GROUP_DEPTH",
                            "more than %u address group openings (':') in one address field",
                            BW_MAX_ADDRESS_GROUP_DEPTH);
    if (max_comments > BW_MAX_ADDRESS_COMMENT_DEPTH)
        return refusal_text("BW_MAX_ADDRESS_COMMENT_DEPTH", "comments nested deeper than %u levels in one address field",
                            BW_MAX_ADDRESS_COMMENT_DEPTH);
    if (separators + 1 > BW_MAX_ADDRESSES)
        return refusal_text("BW_MAX_ADDRESSES", "more than %u addresses in one address field",
                            BW_MAX_ADDRESSES);
    return NULL;
}

bool
bw_caps_address_field(const char *v, size_t len)
{
    char *why = bw_caps_check_addresses(v, len);
    if (why != NULL) {
        bw_refuse(why);
        return false;
    }
    /* GMime decodes the encoded words of the display names. */
    return bw_caps_spend_encoded_words(v, len);
}

/* ------------------------------------------------------------ MIME parameters */

char *
bw_caps_check_params(const char *v, size_t len)
{
    /* Parameters are what follows each ';' outside a quoted string (the
     * count GMime allocates); an RFC 2231 section is a name ending in
     * "*N" or "*N*" (GMime joins sections by number). */
    /* Without a '*' no name is a section, and with no more ';' than the
     * cap, quoted or not, there are not too many parameters: most values
     * ("text/plain; charset=utf-8") are passed with a few memchr calls
     * instead of the walk below, byte by byte. */
    if (memchr(v, '*', len) == NULL) {
        unsigned semicolons = 0;
        for (const char *p = v, *end = v + len;
             semicolons <= BW_MAX_MIME_PARAMS && p < end && (p = memchr(p, ';', (size_t)(end - p))) != NULL; p++)
            semicolons++;
        if (semicolons <= BW_MAX_MIME_PARAMS)
            return NULL;
    }
    unsigned params = 0;
    bool quoted = false, in_name = false;
    unsigned long section = 0;
    bool star = false;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '"') {
            quoted = true;
            in_name = false;
            continue;
        }
        if (c == ';') {
            if (++params > BW_MAX_MIME_PARAMS)
                return refusal_text("BW_MAX_MIME_PARAMS", "more than %u parameters in one MIME header field",
                                    BW_MAX_MIME_PARAMS);
            in_name = true;
            star = false;
            section = 0;
            continue;
        }
        if (!in_name)
            continue;
        if (c == '=') {
            in_name = false;
            continue;
        }
        if (c == '*') {
            star = true;
            section = 0;
        } else if (star && g_ascii_isdigit(c)) {
            section = section * 10 + (unsigned long)(c - '0');
            if (section >= BW_MAX_RFC2231_SECTIONS)
                return refusal_text("BW_MAX_RFC2231_SECTIONS",
                                    "an RFC 2231 parameter continued past section %u",
                                    BW_MAX_RFC2231_SECTIONS - 1);
        } else if (c != ' ' && c != '\t' && c != '\n') {
            star = false;
        }
    }
    return NULL;
}

/* (The cap on dates, bw_caps_decode_date, is in dates.c, with GMime:
 * this file is linked by the parse front, which loads no GMime.) */

/* ------------------------------------------------------------ header blocks */

static bool
field_is(const char *name, size_t nl, const char *const *names)
{
    for (unsigned k = 0; names[k] != NULL; k++)
        if (strlen(names[k]) == nl && g_ascii_strncasecmp(name, names[k], nl) == 0)
            return true;
    return false;
}

/* The address fields GMime parses into address lists (and a few more a
 * reader may hand it). */
static const char *const address_fields[] = {
    "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Resent-From", "Resent-Sender",
    "Resent-Reply-To", "Resent-To", "Resent-Cc", "Resent-Bcc", "Disposition-Notification-To",
    "Return-Receipt-To", "Errors-To", NULL,
};
static const char *const date_fields[] = { "Date", "Resent-Date", NULL };
static const char *const param_fields[] = { "Content-Type", "Content-Disposition", NULL };

bool
bw_header_next_field(const char *hdr, size_t len, size_t *pos, bw_field_t *f)
{
    while (*pos < len) {
        /* one field: its first line and the folded lines after it */
        size_t start = *pos;
        const char *line = hdr + start;
        const char *nl = memchr(line, '\n', len - start);
        size_t end = nl != NULL ? (size_t)(nl - hdr) : len;
        while (end + 1 < len && (hdr[end + 1] == ' ' || hdr[end + 1] == '\t')) {
            const char *n2 = memchr(hdr + end + 1, '\n', len - end - 1);
            end = n2 != NULL ? (size_t)(n2 - hdr) : len;
        }
        size_t flen = end - start;
        *pos = end < len ? end + 1 : len;
        if (flen == 0 || (flen == 1 && line[0] == '\r')) {
            *pos = len;                 /* the blank line ends the block */
            return false;
        }
        const char *colon = memchr(line, ':', flen);
        if (colon == NULL || colon == line)
            continue;                   /* not a field: skipped */
        size_t nl_len = (size_t)(colon - line);
        while (nl_len > 0 && (line[nl_len - 1] == ' ' || line[nl_len - 1] == '\t'))
            nl_len--;
        f->field = line;
        f->field_len = *pos - start;    /* with its line end, when there is one */
        f->name = line;
        f->name_len = nl_len;
        f->value = colon + 1;
        f->value_len = flen - (size_t)(colon + 1 - line);
        return true;
    }
    return false;
}

bool
bw_field_is(const bw_field_t *f, const char *name)
{
    size_t n = strlen(name);
    return f->name_len == n && g_ascii_strncasecmp(f->name, name, n) == 0;
}

bw_status_t
bw_header_block_check(const char *hdr, size_t len, char **detail)
{
    if (hdr == NULL)
        return BW_OK;
    size_t words = 0;
    size_t pos = 0;
    bw_field_t f;
    while (bw_header_next_field(hdr, len, &pos, &f)) {
        const char *line = f.name, *value = f.value;
        size_t nl_len = f.name_len, vlen = f.value_len;
        char *why = NULL;
        size_t n = bw_caps_count_encoded_words(value, vlen);
        if (n > BW_MAX_ENCODED_WORDS)
            why = refusal_text("BW_MAX_ENCODED_WORDS", "more than %u RFC 2047 encoded words in one header field",
                               BW_MAX_ENCODED_WORDS);
        else if ((words += n) > BW_MAX_ENCODED_WORDS_TOTAL)
            why = refusal_text("BW_MAX_ENCODED_WORDS_TOTAL", "more than %u RFC 2047 encoded words in one message",
                               BW_MAX_ENCODED_WORDS_TOTAL);
        else if (field_is(line, nl_len, address_fields))
            why = bw_caps_check_addresses(value, vlen);
        else if (field_is(line, nl_len, param_fields))
            why = bw_caps_check_params(value, vlen);
        else if (field_is(line, nl_len, date_fields) && vlen > BW_MAX_DATE_BYTES)
            why = refusal_text("BW_MAX_DATE_BYTES", "a date longer than %u bytes", BW_MAX_DATE_BYTES);
        if (why != NULL) {
            bw_error_set(detail, BW_E_REFUSED, "%s", why);
            g_free(why);
            return BW_E_REFUSED;
        }
    }
    return BW_OK;
}

bw_status_t
bw_header_fields_extract(const char *data, size_t len, const char *const *names, size_t max,
                         char **out, size_t *out_len, char **detail)
{
    *out = NULL;
    *out_len = 0;
    GString *b = g_string_new(NULL);
    size_t pos = 0;
    bw_field_t f;
    while (bw_header_next_field(data, len, &pos, &f)) {
        bool wanted = false;
        for (unsigned k = 0; names[k] != NULL && !wanted; k++)
            wanted = bw_field_is(&f, names[k]);
        if (!wanted)
            continue;
        if (b->len + f.field_len + 2 > max)
            break;
        g_string_append_len(b, f.field, (gssize)f.field_len);
        if (b->str[b->len - 1] != '\n')
            g_string_append_c(b, '\n');
    }
    bw_status_t st = bw_header_block_check(b->str, b->len, detail);
    if (st != BW_OK) {
        g_string_free(b, TRUE);
        return st;
    }
    g_string_append_c(b, '\n');
    *out_len = b->len;
    *out = g_string_free(b, FALSE);
    return BW_OK;
}
