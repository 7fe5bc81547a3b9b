/* text.c: one way to read the pieces of mail text that several parts of
 * bouncewatch need alike: subject prefixes, the d= tag of a DKIM
 * signature, and attacker text made safe to show.  Each was written two or
 * three times with different lists and rules (a sent subject "Odp: x" could
 * not match its report's "x"); check_util.c tests these once. */
#include "bw-private.h"
#include <string.h>

/* ------------------------------------------------------------ subjects */

/* The prefixes mail clients and servers put before a subject, lower-case
 * (compared after Unicode lower-casing), without the colon.  Replies and
 * forwards in the languages of real clients (Outlook, Thunderbird, Apple
 * Mail, Gmail, the Chinese, Japanese and Russian clients), auto-replies,
 * and the titles of delivery reports that quote the original subject. */
typedef struct {
    const char *text;
    unsigned cls;
} subject_prefix_t;

#define REPLY     BW_SUBJECT_REPLY
#define FORWARD   BW_SUBJECT_FORWARD
#define AUTOREPLY BW_SUBJECT_AUTOREPLY
#define REPORT    BW_SUBJECT_REPORT

static const subject_prefix_t subject_prefixes[] = {
    /* replies: English/Latin "re"; German "aw" (Antwort); Scandinavian
     * "sv" (svar); Finnish "vs" (vastaus); Dutch "antw"; Italian "r",
     * "rif"; Portuguese "res"; Polish/Czech "odp"; Turkish "ynt"; Latvian
     * "atb"; Lithuanian "ats"; Croatian "odg"; Hungarian "vá"; French
     * "réf", "rép"; Greek "απ", "σχετ"; Russian "отв", "ответ"; Chinese
     * "回复", "回覆", "答复", "答覆"; Japanese "返信". */
    { "re", REPLY }, { "aw", REPLY }, { "sv", REPLY }, { "svar", REPLY }, { "vs", REPLY },
    { "antw", REPLY }, { "antwort", REPLY }, { "r", REPLY }, { "rif", REPLY },
    { "res", REPLY }, { "resp", REPLY }, { "odp", REPLY }, { "ynt", REPLY }, { "atb", REPLY },
    { "ats", REPLY }, { "odg", REPLY }, { "vá", REPLY }, { "ref", REPLY }, { "réf", REPLY },
    { "réf.", REPLY }, { "rép", REPLY }, { "απ", REPLY }, { "σχετ", REPLY },
    { "отв", REPLY }, { "ответ", REPLY }, { "回复", REPLY }, { "回覆", REPLY },
    { "答复", REPLY }, { "答覆", REPLY }, { "返信", REPLY },
    /* forwards: "fwd", "fw"; German "wg" (weitergeleitet); French "tr",
     * "trs" (transféré); Spanish "rv" (reenviado); Portuguese "enc"
     * (encaminhado); Italian "i" (inoltrato); Polish "pd" (przekazane
     * dalej); Turkish "ilt" (iletilen); Dutch "doorst"; Swedish "vb";
     * Finnish "vl"; Danish "fs"; Russian "пересл"; Chinese "转发",
     * "轉寄", "轉發"; Japanese "転送". */
    { "fwd", FORWARD }, { "fw", FORWARD }, { "wg", FORWARD }, { "tr", FORWARD },
    { "trs", FORWARD }, { "rv", FORWARD }, { "enc", FORWARD }, { "i", FORWARD },
    { "pd", FORWARD }, { "ilt", FORWARD },
    { "i\xcc\x87lt", FORWARD },   /* "İLT", lower-cased by Unicode rules */
    { "doorst", FORWARD }, { "vb", FORWARD },
    { "vl", FORWARD }, { "fs", FORWARD }, { "пересл", FORWARD }, { "转发", FORWARD },
    { "轉寄", FORWARD }, { "轉發", FORWARD }, { "転送", FORWARD },
    /* auto-replies */
    { "auto", AUTOREPLY }, { "autoreply", AUTOREPLY }, { "auto reply", AUTOREPLY },
    { "auto-reply", AUTOREPLY }, { "automatic reply", AUTOREPLY },
    { "auto response", AUTOREPLY }, { "autoresponse", AUTOREPLY },
    { "automatic response", AUTOREPLY }, { "out of office", AUTOREPLY },
    { "out of office autoreply", AUTOREPLY }, { "out of office reply", AUTOREPLY },
    { "out of the office", AUTOREPLY }, { "ooo", AUTOREPLY }, { "absence", AUTOREPLY },
    { "absent", AUTOREPLY }, { "away", AUTOREPLY }, { "vacation", AUTOREPLY },
    { "on vacation", AUTOREPLY }, { "holiday", AUTOREPLY },
    { "abwesenheitsnotiz", AUTOREPLY }, { "abwesend", AUTOREPLY }, { "urlaub", AUTOREPLY },
    { "automatische antwort", AUTOREPLY }, { "réponse automatique", AUTOREPLY },
    { "respuesta automática", AUTOREPLY }, { "risposta automatica", AUTOREPLY },
    { "automatisch antwoord", AUTOREPLY }, { "afwezig", AUTOREPLY }, { "autosvar", AUTOREPLY },
    { "automaattinen vastaus", AUTOREPLY }, { "不在", AUTOREPLY }, { "不在通知", AUTOREPLY },
    { "自動応答", AUTOREPLY }, { "自動返信", AUTOREPLY }, { "自动回复", AUTOREPLY },
    { "自動回覆", AUTOREPLY },
    /* delivery reports quoting the subject */
    { "undeliverable", REPORT }, { "undelivered", REPORT }, { "returned mail", REPORT },
    { "delivery failure", REPORT }, { "failure notice", REPORT },
    { "delivery status notification (failure)", REPORT },
    { "delivery status notification (delay)", REPORT }, { "mail delivery failed", REPORT },
    { "nicht zustellbar", REPORT }, { "unzustellbar", REPORT }, { "non remis", REPORT },
    { "non recapitabile", REPORT }, { "onbestelbaar", REPORT }, { "no entregado", REPORT },
};

#undef REPLY
#undef FORWARD
#undef AUTOREPLY
#undef REPORT

/* Bytes a prefix may take before its colon (the longest above is 39). */
#define SUBJECT_PREFIX_MAX   48
/* Prefixes removed at most ("RE: FW: RE: ..." chains of real threads are
 * far shorter). */
#define SUBJECT_PREFIX_ROUNDS 16

/* The class of a prefix phrase (without colon), or 0. */
static unsigned
prefix_class(const char *phrase, size_t len)
{
    /* A reply counter: "Re[2]", "Re(3)", "RE^2". */
    size_t e = len;
    while (e > 0 && (phrase[e - 1] == ' ' || phrase[e - 1] == '\t'))
        e--;
    if (e > 0 && (phrase[e - 1] == ']' || phrase[e - 1] == ')')) {
        char open = phrase[e - 1] == ']' ? '[' : '(';
        size_t k = e - 1;
        while (k > 0 && g_ascii_isdigit(phrase[k - 1]))
            k--;
        if (k > 0 && k < e - 1 && phrase[k - 1] == open)
            e = k - 1;
    } else {
        size_t k = e;
        while (k > 0 && g_ascii_isdigit(phrase[k - 1]))
            k--;
        if (k > 0 && k < e && phrase[k - 1] == '^')
            e = k - 1;
    }
    while (e > 0 && (phrase[e - 1] == ' ' || phrase[e - 1] == '\t'))
        e--;
    if (e == 0)
        return 0;
    /* An ASCII phrase (most) is lower-cased here: Unicode lower-casing
     * changes only A-Z of it, and g_utf8_strdown's allocation and
     * character-by-character walk cost ~2,000 instructions a phrase. */
    char ascii[SUBJECT_PREFIX_MAX + 8];
    g_autofree char *lowered = NULL;
    const char *low = ascii;
    for (size_t i = 0; i < e; i++) {
        if (i + 1 >= sizeof ascii || (unsigned char)phrase[i] >= 0x80) {
            low = lowered = g_utf8_strdown(phrase, (gssize)e);
            break;
        }
        ascii[i] = bw_ascii_lower(phrase[i]);
        ascii[i + 1] = '\0';
    }
    /* (the first byte before the call: most phrases are no prefix, and
     * this loop made ~28,000 strcmp calls over the 407 bounces) */
    for (size_t i = 0; i < G_N_ELEMENTS(subject_prefixes); i++)
        if (low[0] == subject_prefixes[i].text[0] && strcmp(low, subject_prefixes[i].text) == 0)
            return subject_prefixes[i].cls;
    return 0;
}

static const char *
skip_blanks(const char *p)
{
    for (;;) {
        if (*p == ' ' || *p == '\t')
            p++;
        else if (strncmp(p, "\xe3\x80\x80", 3) == 0)   /* U+3000 ideographic space */
            p += 3;
        else
            return p;
    }
}

char *
bw_subject_strip(const char *subject, unsigned classes, unsigned *found)
{
    if (found != NULL)
        *found = 0;
    if (subject == NULL)
        return NULL;
    /* (repaired only when it needs to be: g_utf8_make_valid copies a
     * valid text) */
    g_autofree char *repaired = NULL;
    const char *c = bw_utf8_validate(subject, -1) ? subject : (repaired = g_utf8_make_valid(subject, -1));
    for (unsigned round = 0; round < SUBJECT_PREFIX_ROUNDS; round++) {
        c = skip_blanks(c);
        const char *phrase = c, *end = NULL, *next = NULL;
        if (*c == '[') {
            /* "[Auto-Reply] text", "[Fwd] text" */
            const char *close = memchr(c, ']', strnlen(c, SUBJECT_PREFIX_MAX));
            if (close != NULL) {
                phrase = c + 1;
                end = close;
                next = close + 1;
            }
        } else {
            /* "Re: ", "RE : ", "Re[2]:", "返信：" (full-width colon) */
            for (const char *q = c; *q && q - c < SUBJECT_PREFIX_MAX; q++) {
                if (*q == ':') {
                    end = q;
                    next = q + 1;
                    break;
                }
                if (strncmp(q, "\xef\xbc\x9a", 3) == 0) {   /* U+FF1A */
                    end = q;
                    next = q + 3;
                    break;
                }
            }
        }
        if (end == NULL)
            break;
        unsigned cls = prefix_class(phrase, (size_t)(end - phrase));
        if ((cls & classes) == 0)
            break;
        if (found != NULL)
            *found |= cls;
        c = next;
    }
    char *out = g_strdup(skip_blanks(c));
    return g_strchomp(out);
}

/* ------------------------------------------------------------ DKIM */

char *
bw_dkim_domain(const char *sig)
{
    if (sig == NULL)
        return NULL;
    /* RFC 6376 3.2: tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value
     * [FWS], separated by ';'.  Names are matched without regard to case
     * (some signers write "D="). */
    size_t len = strnlen(sig, BW_DKIM_SIGNATURE_MAX);
    size_t i = 0;
    while (i < len) {
        size_t tag_end = i;
        while (tag_end < len && sig[tag_end] != ';')
            tag_end++;
        size_t b = i;
        while (b < tag_end && g_ascii_isspace(sig[b]))
            b++;
        if (b < tag_end && (sig[b] == 'd' || sig[b] == 'D')) {
            size_t q = b + 1;
            while (q < tag_end && g_ascii_isspace(sig[q]))
                q++;
            if (q < tag_end && sig[q] == '=') {
                q++;
                while (q < tag_end && g_ascii_isspace(sig[q]))
                    q++;
                size_t e = q;
                while (e < tag_end && !g_ascii_isspace(sig[e]))
                    e++;
                return e > q ? g_ascii_strdown(sig + q, (gssize)(e - q)) : NULL;
            }
        }
        i = tag_end + 1;
    }
    return NULL;
}

/* ------------------------------------------------------------ attacker text */

/* Characters that must not reach a terminal or a notification as they are:
 * controls (escape sequences, line breaks that fake extra lines), line and
 * paragraph separators, and the bidirectional marks, embeddings, overrides
 * and isolates that can reorder what the user reads. */
static bool
unsafe_char(gunichar c)
{
    return g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029 || c == 0x200e || c == 0x200f
        || c == 0x061c || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
bw_text_sanitize(const char *s, size_t max_chars)
{
    if (s == NULL)
        return NULL;
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_sized_new(strlen(valid));
    size_t n = 0;
    for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p), n++) {
        if (n == max_chars) {
            g_string_append(out, "\xe2\x80\xa6");   /* U+2026: it was cut here */
            break;
        }
        gunichar c = g_utf8_get_char(p);
        g_string_append_unichar(out, unsafe_char(c) ? ' ' : c);
    }
    return g_string_free(out, FALSE);
}

guint
bw_str_hash(gconstpointer key)
{
    const char *p = key;
    size_t n = strlen(p);
    guint64 h = 0x9e3779b97f4a7c15ull ^ (guint64)n;
    for (; n >= 8; p += 8, n -= 8) {
        guint64 w;
        memcpy(&w, p, sizeof w);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (n > 0) {
        guint64 w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    }
    /* the last mix (MurmurHash3's): every input bit reaches the low 32 */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (guint)h;
}

/* ------------------------------------------------------------ XXH64
 *
 * libxxhash's own code, inlined (XXH_INLINE_ALL: its header carries the
 * implementation, so nothing more is linked). */
#define XXH_INLINE_ALL
#include <xxhash.h>

guint64
bw_xxh64(const void *data, size_t n, guint64 seed)
{
    return XXH64(data, n, seed);
}
