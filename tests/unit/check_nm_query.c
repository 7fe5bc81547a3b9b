/* check_nm_query.c: the text of the notmuch queries made from mail
 * (src/adapters/nm-query.c).  What a phrase must be is TermGenerator's
 * split of the subject notmuch indexed (checked case by case against a
 * notmuch 0.37 database when it was written: T207 does it end to end);
 * here the cases it was made for, and the promises it keeps on hostile
 * text: one quoted phrase, no way out of the quotes, bounded. */
#include "suites.h"
#include "nm-query.h"
#include <string.h>

/* The phrase made of a subject, as op_sent_subject_near asks it. */
static char *
phrase_of(const char *subject)
{
    g_autofree char *key = bw_nm_subject_key(subject);
    return *key ? bw_nm_sent_subject_term(key) : NULL;
}

START_TEST(test_subject_key)
{
    static const char *const cases[][2] = {
        { "Re: Fwd:  Hello \t World ", "hello world" },
        { "RE: RE: Invoice #1042", "invoice #1042" },
        { "   ", "" },
        { "", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *k = bw_nm_subject_key(cases[i][0]);
        ck_assert_msg(strcmp(k, cases[i][1]) == 0, "%s: got '%s', want '%s'",
                      cases[i][0], k, cases[i][1]);
    }
}
END_TEST

START_TEST(test_subject_phrase_terms)
{
    /* subject -> the phrase (NULL: no word, nothing to ask) */
    static const char *const cases[][2] = {
        { "Invoice 1156.74 due", "subject:\"invoice 1156.74 due\"" },
        { "3,500 seats", "subject:\"3,500 seats\"" },
        { "Don't forget", "subject:\"don't forget\"" },
        { "Don\xe2\x80\x99t forget", "subject:\"don't forget\"" },       /* U+2019 */
        { "AT&T bill", "subject:\"at&t bill\"" },
        { "C++ tips", "subject:\"c++ tips\"" },
        { "C# and F#", "subject:\"c# and f#\"" },
        { "foo\xe2\x80\x8b" "bar", "subject:\"foobar\"" },               /* U+200B */
        { "a,b c.d", "subject:\"a b c d\"" },      /* ',' '.' only between digits */
        { "hello (world)", "subject:\"hello world\"" },
        { "say \"hi\" now", "subject:\"say hi now\"" },
        { "\xe4\xbc\x9a\xe8\xad\xb0\xe3\x81\xae\xe4\xbb\xb6", "subject:\"\xe4\xbc\x9a\xe8\xad\xb0\xe3\x81\xae\xe4\xbb\xb6\"" },
        { "abc\xff def", "subject:\"abc def\"" },  /* bw_subject_strip dropped the byte */
        { "!!! ???", NULL },
        { "Re:", NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *q = phrase_of(cases[i][0]);
        if (cases[i][1] == NULL)
            ck_assert_msg(q == NULL, "%s: got %s, want nothing", cases[i][0], q);
        else
            ck_assert_msg(q != NULL && strcmp(q, cases[i][1]) == 0, "%s: got %s, want %s",
                          cases[i][0], q ? q : "(null)", cases[i][1]);
    }
    /* text that is not UTF-8 ends the phrase where it starts */
    g_autofree char *cut = bw_nm_sent_subject_term("abc\xff def");
    ck_assert_str_eq(cut, "subject:\"abc\"");
    g_autofree char *none = bw_nm_sent_subject_term("\xff def");
    ck_assert(none == NULL);
}
END_TEST

/* What every phrase promises, on any text. */
static void
assert_plain_phrase(const char *subject, const char *q)
{
    if (q == NULL)
        return;
    const char *pre = "subject:\"";
    size_t n = strlen(q), np = strlen(pre);
    ck_assert_msg(n > np + 1 && strncmp(q, pre, np) == 0 && q[n - 1] == '"', "%s", q);
    ck_assert_msg(n - np - 1 <= 210, "%s: phrase of %zu bytes", subject, n - np - 1);
    ck_assert_msg(g_utf8_validate(q, -1, NULL), "%s: not UTF-8", subject);
    const char *body = q + np;
    size_t nb = n - np - 1;
    ck_assert_msg(body[0] != ' ' && body[nb - 1] != ' ', "%s: %s", subject, q);
    for (size_t i = 0; i < nb; i++) {
        ck_assert_msg(body[i] != '"' && body[i] != '(' && body[i] != ')' &&
                      body[i] != '\\' && (unsigned char)body[i] >= 0x20,
                      "%s: byte %zu of %s", subject, i, q);
        ck_assert_msg(!(body[i] == ' ' && body[i + 1] == ' '), "%s: %s", subject, q);
    }
    /* an ASCII start makes it a plain term, which a batch may join */
    if (g_ascii_isalnum(body[0]))
        ck_assert(bw_nm_plain_quoted_term(q));
}

START_TEST(test_subject_phrase_hostile)
{
    static const char *const nasty[] = {
        "\") or (from:*", "a\" or \"b", "x) OR (y", "((((", "\\\"\\\"", "id:\"<x>\"",
        "/regex/", "tag:spam and not", "a\x01\x02\x1f" "b", "+++++ c", "c++++",
        "c+++", "#####", "a'''b", "1..2,,3", "\xe2\x80\x99\xe2\x80\x99", "&&&",
        "\xef\xbb\xbf" "bom", "\xcc\x81\xcc\x81 marks", "a\xe2\x80\x8d\xe2\x80\x8d" "b",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(nasty); i++) {
        g_autofree char *q = phrase_of(nasty[i]);
        assert_plain_phrase(nasty[i], q);
    }
    /* long subjects stay bounded; random bytes (mostly invalid UTF-8) too */
    GString *big = g_string_new(NULL);
    for (int i = 0; i < 2000; i++)
        g_string_append(big, i % 7 ? "w\xc3\xa9rd' " : "1.5 ");
    g_autofree char *q = phrase_of(big->str);
    assert_plain_phrase("big", q);
    g_string_free(big, TRUE);
    GRand *rng = g_rand_new_with_seed(15);
    for (int round = 0; round < 2000; round++) {
        char buf[96];
        size_t len = (size_t)g_rand_int_range(rng, 0, (gint32)sizeof buf - 1);
        static const char alphabet[] = "ab1 .,'&+#\"()\\:\xe2\x80\x99\xc3\xa9\xff";
        for (size_t i = 0; i < len; i++)
            buf[i] = g_rand_boolean(rng) ? alphabet[g_rand_int_range(rng, 0, sizeof alphabet - 1)]
                                         : (char)g_rand_int_range(rng, 1, 256);
        buf[len] = '\0';
        g_autofree char *r = phrase_of(buf);
        assert_plain_phrase("random", r);
    }
    g_rand_free(rng);
}
END_TEST

START_TEST(test_quote_and_plain_term)
{
    g_autofree char *to = bw_nm_sent_to_term("Bob.Smith@Example.ORG");
    ck_assert_str_eq(to, "to:\"bob.smith@example.org\"");
    ck_assert(bw_nm_plain_quoted_term(to));
    g_autofree char *hostile = bw_nm_sent_to_term("a\") or (to:\\\"b@x");
    ck_assert_str_eq(hostile, "to:\"a) or (to:b@x\"");
    ck_assert(!bw_nm_plain_quoted_term(hostile));    /* asked alone, never batched */
    g_autofree char *q = bw_nm_quote_term("x\"y\\z\n");
    ck_assert_str_eq(q, "\"xyz\"");
    ck_assert(bw_nm_plain_quoted_term("subject:\"abc\""));
    ck_assert(!bw_nm_plain_quoted_term("subject:\"\""));
    ck_assert(!bw_nm_plain_quoted_term("subject:\"a\"b\""));
    ck_assert(!bw_nm_plain_quoted_term("Subject:\"abc\""));
    ck_assert(!bw_nm_plain_quoted_term("subject:abc"));
    ck_assert(!bw_nm_plain_quoted_term(":\"abc\""));
    ck_assert(!bw_nm_plain_quoted_term("subject:\"/abc/\""));
}
END_TEST

Suite *
suite_nm_query(void)
{
    Suite *s = suite_create("nm-query");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, test_subject_key);
    tcase_add_test(tc, test_subject_phrase_terms);
    tcase_add_test(tc, test_subject_phrase_hostile);
    tcase_add_test(tc, test_quote_and_plain_term);
    suite_add_tcase(s, tc);
    return s;
}
