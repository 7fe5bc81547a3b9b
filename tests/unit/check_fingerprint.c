/* check_fingerprint.c: subject templates, hashes, SimHash, edit distance. */
#include "suites.h"
#include "engine-fixtures.h"

static char *
tpl(const char *subject, const char *rcpt)
{
    char *t = bw_fp_subject_template(subject, rcpt);
    ck_assert_ptr_nonnull(t);
    return t;
}

START_TEST(test_template_masks_names_and_numbers)
{
    /* the same spam line, pasted with each recipient's name and numbers */
    g_autofree char *a = tpl("Taro Yamada, save 35% on your prescription today", "taro.yamada@a.example");
    g_autofree char *b = tpl("Hanako Suzuki, save 80% on your prescription today", "hsuzuki@b.example");
    g_autofree char *c = tpl("Ivan Petrov, save 12% on your prescription today", "ivan_petrov@c.example");
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, c);
    ck_assert_ptr_null(strstr(a, "35"));
    ck_assert_ptr_null(strstr(a, "yamada"));
    /* order numbers, amounts with cents, dates */
    g_autofree char *d = tpl("Customs fee of 23.50 EUR required for parcel 88123456", "x@y.example");
    g_autofree char *e = tpl("Customs fee of 1999.05 EUR required for parcel 1234", "z@w.example");
    ck_assert_str_eq(d, e);
    /* e-mail addresses and domain names */
    g_autofree char *f = tpl("Final notice: 300 USDT pending for bob@q.example", "bob@q.example");
    g_autofree char *g = tpl("Final notice: 9900 USDT pending for amy.lee@r.example", "amy.lee@r.example");
    ck_assert_str_eq(f, g);
    g_autofree char *h = tpl("Proposal for shop.example.de: 40% more traffic", "a@shop.example.de");
    g_autofree char *i = tpl("Proposal for other.example: 71% more traffic", "b@other.example");
    ck_assert_str_eq(h, i);
}
END_TEST

START_TEST(test_template_prefixes_and_cjk)
{
    g_autofree char *a = tpl("RE: Fwd: Invoice 2231 from Apex Logistics", NULL);
    g_autofree char *b = tpl("Invoice 9 from Apex Logistics", NULL);
    ck_assert_str_eq(a, b);
    /* (the prefixes themselves: check_util.c, test_subject_strip) */
    /* Japanese: the romanised name glued to the honorific is masked, the
     * Japanese words are kept */
    g_autofree char *j1 = tpl("【重要】Priya Horvat様 アカウント確認のお願い", "phorvat@x.example");
    g_autofree char *j2 = tpl("【重要】Kenji Horvat様 アカウント確認のお願い", "khorvat@y.example");
    ck_assert_str_eq(j1, j2);
    ck_assert_ptr_nonnull(strstr(j1, "アカウント確認のお願い"));
    ck_assert_ptr_null(bw_fp_subject_template(NULL, NULL));
    /* a name the address does not give away: the second template masks
     * runs of capitalised words */
    g_autofree char *n1 = bw_fp_subject_template_names("Hi Joao Wagner, are you free tonight?", "jw77@x.example");
    g_autofree char *n2 = bw_fp_subject_template_names("Hi Lea Hansen, are you free tonight?", "lh2@y.example");
    ck_assert_str_eq(n1, n2);
    g_autofree char *p1 = bw_fp_subject_template("Hi Joao Wagner, are you free tonight?", "jw77@x.example");
    ck_assert_ptr_nonnull(strstr(p1, "joao"));
    /* invalid UTF-8 and huge input stay bounded */
    g_autofree char *big = g_strnfill(100000, 'x');
    g_autofree char *t = bw_fp_subject_template(big, NULL);
    ck_assert(t == NULL || strlen(t) < 4096);
    g_autofree char *bad = bw_fp_subject_template("\xff\xfe invoice 12 \xc3", NULL);
    ck_assert_ptr_nonnull(bad);
    ck_assert(g_utf8_validate(bad, -1, NULL));
}
END_TEST

/* CJK subjects carry the recipient's name before an honorific, with no
 * space to split on: the names template masks it, the plain one does not. */
START_TEST(test_template_cjk_names)
{
    g_autofree char *a = bw_fp_subject_template_names("山田様、お荷物のお届けについて", "x@isp.example.jp");
    g_autofree char *b = bw_fp_subject_template_names("佐藤太郎様、お荷物のお届けについて", "y@isp.example.jp");
    g_autofree char *k1 = bw_fp_subject_template_names("김철수님 계정이 정지되었습니다", NULL);
    g_autofree char *k2 = bw_fp_subject_template_names("이영희님 계정이 정지되었습니다", NULL);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(k1, k2);
    ck_assert_ptr_nonnull(strstr(a, "*様"));
    /* no name before the honorific, or a long run: left alone */
    g_autofree char *c = bw_fp_subject_template_names("お客様各位：メンテナンスのお知らせ", NULL);
    ck_assert_ptr_nonnull(strstr(c, "お客様各位"));
    g_autofree char *m = bw_fp_subject_template_names("会員様へ大切なお知らせ", NULL);
    ck_assert_ptr_nonnull(strstr(m, "会員様"));
    g_autofree char *p1 = bw_fp_subject_template("山田様、お荷物のお届けについて", NULL);
    g_autofree char *p2 = bw_fp_subject_template("佐藤様、お荷物のお届けについて", NULL);
    ck_assert_str_ne(p1, p2);
}
END_TEST

START_TEST(test_fingerprint_of_reports)
{
    const char *const owners[] = { "me@mailhost.example", NULL };
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    const char *const urls1[] = { "pills-rx1.example", NULL };
    const char *const urls2[] = { "pills-rx1.example", NULL };
    fake_report_t d1 = { .recipient = "taro.yamada@a.example", .orig_mid = "a1b2c3@bot.example",
                         .orig_from = "me@mailhost.example", .orig_subject = "Taro, 20% off today",
                         .urls = urls1, .body = "Dear Taro, buy now at https://pills-rx1.example/c/XYZ" };
    fake_report_t d2 = { .recipient = "anna.berg@b.example", .orig_mid = "ffee99@bot.example",
                         .orig_from = "me@mailhost.example", .orig_subject = "Anna, 75% off today",
                         .urls = urls2, .body = "Dear Anna, buy now at https://pills-rx1.example/c/QQQ" };
    g_autoptr(bw_report_t) r1 = fake_report(&d1);
    g_autoptr(bw_report_t) r2 = fake_report(&d2);
    bw_fingerprint_t f1, f2;
    bw_fingerprint_compute(p, r1, &f1);
    bw_fingerprint_compute(p, r2, &f2);
    ck_assert(f1.subject_template != 0);
    ck_assert(f1.subject_template == f2.subject_template);
    ck_assert(f1.url_domains == f2.url_domains);
    ck_assert(f1.msgid_shape != 0);
    /* the owner's own address is no campaign feature */
    ck_assert(f1.forged_sender == 0);
    ck_assert(f1.body_simhash != 0);
    bw_fingerprint_t c;
    bw_fingerprint_copy(&c, &f1);
    ck_assert_str_eq(c.subject_masked, f1.subject_masked);
    bw_fingerprint_clear(&c);
    bw_fingerprint_clear(&f1);
    bw_fingerprint_clear(&f2);
    ck_assert_ptr_null(f1.subject_masked);
}
END_TEST

static unsigned
hamming(guint64 a, guint64 b)
{
    return (unsigned)__builtin_popcountll(a ^ b);
}

START_TEST(test_simhash)
{
    const char *a = "Top quality medications at the lowest prices online. Free worldwide shipping on orders "
                    "over 120 dollars. Discreet packaging, fast delivery in 3 days. Limited offer: buy 2 get 1 free.";
    const char *b = "Top quality medications at the lowest prices online. Free worldwide shipping on orders "
                    "over 990 dollars. Discreet packaging, fast delivery in 7 days. Limited offer: buy 2 get 1 free.";
    const char *c = "Hi all, the build on arm64 fails since yesterday with a linker error in the test suite; "
                    "could someone with access to the machine have a look before the release on Friday?";
    guint64 ha = bw_fp_simhash(a, strlen(a)), hb = bw_fp_simhash(b, strlen(b)), hc = bw_fp_simhash(c, strlen(c));
    ck_assert_uint_le(hamming(ha, hb), 3);     /* numbers are masked: near-identical */
    ck_assert_uint_ge(hamming(ha, hc), 12);
    ck_assert(bw_fp_simhash("", 0) == 0);
}
END_TEST

START_TEST(test_hash_fixed_key)
{
    /* the hash is keyed with a fixed key: campaign ids must be the same on
     * every machine and in every run; a change of key or algorithm would
     * silently rename every stored campaign.  This is the SipHash-2-4 value
     * of "bouncewatch" under the key of fingerprint.c. */
    guint64 h = bw_fp_hash("bouncewatch", 11);
    ck_assert(h == G_GUINT64_CONSTANT(0xbc3ea3a0296a5a87));
    ck_assert(h == bw_fp_hash("bouncewatch", 11));
    ck_assert(h != bw_fp_hash("bouncewatcH", 11));
    ck_assert(bw_fp_hash("", 0) != 0);
}
END_TEST

START_TEST(test_edit_distance_and_typos)
{
    ck_assert_uint_eq(bw_edit_distance("gmail.com", "gmail.con", 2), 1);
    ck_assert_uint_eq(bw_edit_distance("hotmial.com", "hotmail.com", 2), 1);   /* swap */
    ck_assert_uint_eq(bw_edit_distance("abc", "xyz123", 2), 3);                 /* capped */
    g_autofree char *h1 = bw_typo_hint("taro@gmail.con");
    ck_assert_str_eq(h1, "taro@gmail.com");
    g_autofree char *h2 = bw_typo_hint("ann@hotmial.com");
    ck_assert_str_eq(h2, "ann@hotmail.com");
    g_autofree char *h3 = bw_typo_hint("ken@yaho.co.jp");
    ck_assert_str_eq(h3, "ken@yahoo.co.jp");
    ck_assert_ptr_null(bw_typo_hint("ann@gmail.com"));
    ck_assert_ptr_null(bw_typo_hint("ann@example.org"));
    ck_assert_ptr_null(bw_typo_hint(NULL));
}
END_TEST

Suite *
suite_fingerprint(void)
{
    Suite *s = suite_create("fingerprint");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_template_masks_names_and_numbers);
    tcase_add_test(tc, test_template_prefixes_and_cjk);
    tcase_add_test(tc, test_template_cjk_names);
    tcase_add_test(tc, test_fingerprint_of_reports);
    tcase_add_test(tc, test_simhash);
    tcase_add_test(tc, test_hash_fixed_key);
    tcase_add_test(tc, test_edit_distance_and_typos);
    suite_add_tcase(s, tc);
    return s;
}
