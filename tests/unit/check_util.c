/* check_util.c: the error setter, addresses, Message-IDs, times, bounded
 * search. */
#include "suites.h"
#include "bw-private.h"
#include <string.h>

START_TEST(test_address_normalize)
{
    struct { const char *in, *out; } cases[] = {
        { "Taro Yamada <TARO@Example.JP>", "taro@example.jp" },
        { "rfc822; user@example.com", "user@example.com" },
        { "<>", NULL },
        { "MAILER-DAEMON", NULL },
        { "\"odd, name\" <a.b+c@sub.example.org>", "a.b+c@sub.example.org" },
        { "user@example.com.", "user@example.com" },
        { "", NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = bw_address_normalize(cases[i].in);
        if (cases[i].out == NULL)
            ck_assert_msg(got == NULL, "%s gave %s", cases[i].in, got);
        else
            ck_assert_str_eq(got, cases[i].out);
    }
}
END_TEST

/* bw_error_set: returns the status, keeps the first error, takes NULL. */
START_TEST(test_error_set)
{
    ck_assert_int_eq(bw_error_set(NULL, BW_E_IO, "%s", "nowhere to put it"), BW_E_IO);
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_error_set(&detail, BW_E_NOT_MAIL, "%s: %d", "first", 1), BW_E_NOT_MAIL);
    ck_assert_str_eq(detail, "first: 1");
    /* A caller adding its own words does not hide what the callee said. */
    ck_assert_int_eq(bw_error_set(&detail, BW_E_STATE, "second"), BW_E_STATE);
    ck_assert_str_eq(detail, "first: 1");
    ck_assert_int_eq(bw_error_set(&detail, BW_OK, "ok"), BW_OK);
    ck_assert_str_eq(detail, "first: 1");
}
END_TEST

START_TEST(test_msgid_normalize)
{
    g_autofree char *a = bw_msgid_normalize("  <abc@mail.example.com> ");
    ck_assert_str_eq(a, "abc@mail.example.com");
    g_autofree char *b = bw_msgid_normalize("plain@id");
    ck_assert_str_eq(b, "plain@id");
    ck_assert_ptr_null(bw_msgid_normalize("<>"));
    ck_assert_ptr_null(bw_msgid_normalize("   "));
}
END_TEST

START_TEST(test_time_roundtrip)
{
    gint64 t = 0;
    int off = 0;
    ck_assert(bw_time_parse("Fri, 20 Nov 2026 14:00:00 +0900", &t, &off));
    ck_assert_int_eq(off, 9 * 3600);
    g_autofree char *s = bw_time_format(t, off);
    ck_assert_str_eq(s, "2026-11-20T14:00:00+09:00");
    gint64 t2 = 0;
    ck_assert(bw_time_parse("2026-11-20T05:00:00+00:00", &t2, NULL));
    ck_assert_int_eq(t, t2);
    ck_assert(!bw_time_parse("not a date", &t, NULL));
}
END_TEST

START_TEST(test_memcasestr)
{
    const char *hay = "Delivery to the following recipients FAILED";
    ck_assert_ptr_eq(bw_memcasestr(hay, strlen(hay), "failed"), hay + 37);
    ck_assert_ptr_null(bw_memcasestr(hay, 10, "recipients"));
    g_autofree char *sq = bw_strdup_squeezed("  a \r\n\t b  ", 11);
    ck_assert_str_eq(sq, "a b");
}
END_TEST

Suite *
suite_util(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_error_set);
    tcase_add_test(tc, test_address_normalize);
    tcase_add_test(tc, test_msgid_normalize);
    tcase_add_test(tc, test_time_roundtrip);
    tcase_add_test(tc, test_memcasestr);
    suite_add_tcase(s, tc);
    return s;
}
