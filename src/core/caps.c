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

void
bw_refusal_begin(void)
{
    g_clear_pointer(&refusal, g_free);
}

void
bw_refuse(char *why)
{
    if (why == NULL)
        return;
    if (refusal == NULL)
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
