/* nm-query.c: the text of the notmuch queries the notmuch adapter builds
 * from values out of mail and config (see nm-query.h).  No libnotmuch
 * here: the query text is where attacker text meets notmuch's query
 * parser, so it is unit-tested (check_nm_query) and fuzzed (fuzz-headers)
 * on its own. */
#include "config.h"
#include "nm-query.h"
#include "bw.h"
#include <string.h>

/* Quote a term for a notmuch query: drop the characters that could escape
 * the phrase (the owner's addresses come from the config, a report's
 * recipients from mail). */
char *
bw_nm_quote_term(const char *s)
{
    GString *g = g_string_new("\"");
    for (const char *p = s; *p; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            g_string_append_c(g, *p);
    g_string_append_c(g, '"');
    return g_string_free(g, FALSE);
}

/* One query term of the form prefix:"text" (what bw_nm_quote_term and
 * bw_nm_sent_subject_term give), the text without '"', '(' or ')' and starting
 * with an ASCII letter or digit: a phrase with at least one word (never
 * the empty query, which the parser would drop from an "and" but not from
 * an "or"; never a /regex/), whose parse is the same alone or between
 * parentheses beside others. */
bool
bw_nm_plain_quoted_term(const char *q)
{
    const char *open = strchr(q, ':');
    if (open == NULL || open == q || open[1] != '"')
        return false;
    for (const char *c = q; c < open; c++)
        if (!g_ascii_islower(*c))
            return false;
    const char *body = open + 2;
    size_t n = strlen(body);
    if (n < 2 || body[n - 1] != '"' || !g_ascii_isalnum(body[0]))
        return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (body[i] == '"' || body[i] == '(' || body[i] == ')')
            return false;
    return true;
}

/* Messages to `address` (op_sent_count_to asks it of the owner's). */
char *
bw_nm_sent_to_term(const char *address)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    g_autofree char *t = bw_nm_quote_term(addr);
    return g_strdup_printf("to:%s", t);
}

/* Subject normalisation for comparison: every prefix the engine strips
 * (bw_subject_strip, as classify.c does before asking), white space
 * squeezed, ASCII case folded.  The same function on both sides: a sent
 * "Odp: x" or "RV: x" matches a report about "x". */
char *
bw_nm_subject_key(const char *s)
{
    g_autofree char *stripped = bw_subject_strip(s, BW_SUBJECT_ALL, NULL);
    g_autofree char *low = g_ascii_strdown(stripped, -1);
    const char *p = low;
    GString *g = g_string_new(NULL);
    bool space = false;
    for (; *p; p++) {
        if (g_ascii_isspace(*p)) {
            space = g->len > 0;
            continue;
        }
        if (space)
            g_string_append_c(g, ' ');
        space = false;
        g_string_append_c(g, *p);
    }
    return g_string_free(g, FALSE);
}

/* The characters Xapian 1.4's TermGenerator (which indexed the subject)
 * counts as part of a word: letters, marks, numbers and connector
 * punctuation ('_'), as its Unicode::is_wordchar. */
static bool
subject_wordchar(gunichar c)
{
    switch (g_unichar_type(c)) {
    case G_UNICODE_LOWERCASE_LETTER: case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER: case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER: case G_UNICODE_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK: case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_DECIMAL_NUMBER: case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER: case G_UNICODE_CONNECT_PUNCTUATION:
        return true;
    default:
        return false;
    }
}

#define SUBJECT_INFIX_IGNORE ((gunichar)-1)

/* TermGenerator's check_infix (between two word characters, not both
 * sides digits) and check_infix_digit (a digit on each side): the
 * character kept inside the term ("don't", "AT&T", "1156.74", "3,500"),
 * SUBJECT_INFIX_IGNORE for the zero-width ones it drops ("foo\u200bbar"
 * is "foobar"), 0 where the word ends.  U+2019 and U+201B are indexed as
 * an apostrophe.  None of these is '"': the phrase stays quoted. */
static gunichar
subject_infix(gunichar c, bool digits)
{
    if (c >= 0x200b && (c <= 0x200d || c == 0x2060 || c == 0xfeff))
        return SUBJECT_INFIX_IGNORE;
    if (digits) {
        switch (c) {
        case ',': case '.': case ';': case 0x037e: case 0x0589: case 0x060d:
        case 0x07f8: case 0x2044: case 0xfe10: case 0xfe13: case 0xfe14:
            return c;
        default:
            return 0;
        }
    }
    if (c == '\'' || c == '&' || c == 0xb7 || c == 0x5f4 || c == 0x2027)
        return c;
    if (c == 0x2019 || c == 0x201b)
        return '\'';
    return 0;
}

/* Ask Xapian for the owner's mail holding the subject's words as a
 * phrase (posting lists: fast), then compare the normalised subjects and
 * the dates exactly.  A date-range query instead scans the date values
 * of the whole database on every call (23 ms at 160k messages).  The
 * phrase splits the subject into the terms TermGenerator made of it when
 * notmuch indexed it (Xapian 1.4, termgenerator_internal.cc parse_terms):
 * a word keeps the infix characters above and a suffix of at most three
 * '+' or '#' not followed by a word character ("c++"); anything else
 * separates words.  A subject of letters, digits and separators only
 * gives the same phrase as before (its runs joined by one space).  The
 * acronym rule ("U.S.A." is "usa") is not followed: subject_key has
 * lower-cased the text.  The phrase holds word characters, single
 * spaces and the characters above only, so attacker text cannot escape
 * the quotes.  `want` is subject_key's; NULL when it holds no word
 * (asked of the owner's mail by op_sent_subject_near). */
char *
bw_nm_sent_subject_term(const char *want)
{
    GString *phrase = g_string_new(NULL);
    bool in_word = false;     /* the last character appended is a word's */
    gunichar prev = 0;        /* that character */
    const char *p = want;
    while (*p && phrase->len < 200) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2)
            break;
        const char *next = g_utf8_next_char(p);
        if (subject_wordchar(c)) {
            g_string_append_unichar(phrase, c);
            in_word = true;
            prev = c;
            p = next;
            continue;
        }
        if (in_word && *next) {
            gunichar n = g_utf8_get_char_validated(next, -1);
            if (n != (gunichar)-1 && n != (gunichar)-2 && subject_wordchar(n)) {
                bool digits = g_unichar_isdigit(prev) && g_unichar_isdigit(n);
                gunichar keep = subject_infix(c, digits);
                if (keep != 0) {
                    if (keep != SUBJECT_INFIX_IGNORE)
                        g_string_append_unichar(phrase, keep);
                    p = next;   /* the word goes on with n */
                    continue;
                }
            }
        }
        if (in_word && (c == '+' || c == '#')) {
            const char *q = p;
            unsigned count = 0;
            while ((*q == '+' || *q == '#') && count < 4) {
                q++;
                count++;
            }
            gunichar after = *q ? g_utf8_get_char_validated(q, -1) : 0;
            bool wordchar_after = after != 0 && after != (gunichar)-1 &&
                                  after != (gunichar)-2 && subject_wordchar(after);
            if (count <= 3 && !wordchar_after) {
                g_string_append_len(phrase, p, (gssize)(q - p));
                p = q;   /* the separator (or the end) comes next */
                in_word = false;
                continue;
            }
        }
        if (phrase->len > 0 && phrase->str[phrase->len - 1] != ' ')
            g_string_append_c(phrase, ' ');
        in_word = false;
        p = next;
    }
    g_strchomp(phrase->str);
    if (phrase->str[0] == '\0') {
        g_string_free(phrase, TRUE);
        return NULL;
    }
    char *q = g_strdup_printf("subject:\"%s\"", phrase->str);
    g_string_free(phrase, TRUE);
    return q;
}

