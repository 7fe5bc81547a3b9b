/* check_util.c: the error setter, addresses, Message-IDs, times, bounded
 * search, and the one way to read subjects, DKIM d= tags and attacker text
 * (text.c), and the fingerprint codec. */
#include "suites.h"
#include "bw-private.h"
#include "bw-engine.h"
#include <string.h>

/* `got` (taken) is `want`, or NULL when want is NULL. */
static void
expect_text(char *got, const char *in, const char *want)
{
    if (want == NULL)
        ck_assert_msg(got == NULL, "%s gave %s", in, got);
    else
        ck_assert_msg(got != NULL && strcmp(got, want) == 0, "%s gave %s, want %s", in, got, want);
    g_free(got);
}

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
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        expect_text(bw_address_normalize(cases[i].in), cases[i].in, cases[i].out);
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

/* One normaliser of subject prefixes: every language real clients use,
 * repeated and with counters, classes chosen by the caller. */
START_TEST(test_subject_strip)
{
    struct { const char *in; unsigned classes; const char *out; unsigned found; } cases[] = {
        { "Re: Hello", BW_SUBJECT_ALL, "Hello", BW_SUBJECT_REPLY },
        { "RE: FW: Re[2]: AW : Hello", BW_SUBJECT_ALL, "Hello",
          BW_SUBJECT_REPLY | BW_SUBJECT_FORWARD },
        { "Odp: Faktura", BW_SUBJECT_ALL, "Faktura", BW_SUBJECT_REPLY },
        { "RV: Presupuesto", BW_SUBJECT_ALL, "Presupuesto", BW_SUBJECT_FORWARD },
        { "I: Preventivo", BW_SUBJECT_ALL, "Preventivo", BW_SUBJECT_FORWARD },
        { "R: I: Preventivo", BW_SUBJECT_ALL, "Preventivo",
          BW_SUBJECT_REPLY | BW_SUBJECT_FORWARD },
        { "SV: VS: WG: TR: Enc: PD: YNT: İLT: Res: Antw: RIF: Ref: x", BW_SUBJECT_ALL, "x",
          BW_SUBJECT_REPLY | BW_SUBJECT_FORWARD },
        { "Re(3): RE^2: x", BW_SUBJECT_ALL, "x", BW_SUBJECT_REPLY },
        { "Réf : TR : Devis", BW_SUBJECT_ALL, "Devis", BW_SUBJECT_REPLY | BW_SUBJECT_FORWARD },
        { "回复: 转发: 答复: 会议", BW_SUBJECT_ALL, "会议",
          BW_SUBJECT_REPLY | BW_SUBJECT_FORWARD },
        { "返信：転送：会議のお知らせ", BW_SUBJECT_ALL, "会議のお知らせ",
          BW_SUBJECT_REPLY | BW_SUBJECT_FORWARD },
        { "Ответ: Счёт", BW_SUBJECT_ALL, "Счёт", BW_SUBJECT_REPLY },
        { "Automatic reply: Re: Hello there", BW_SUBJECT_ALL, "Hello there",
          BW_SUBJECT_AUTOREPLY | BW_SUBJECT_REPLY },
        { "[Auto-Reply] Out of Office: x", BW_SUBJECT_ALL, "x", BW_SUBJECT_AUTOREPLY },
        { "自動返信: 不在: x", BW_SUBJECT_ALL, "x", BW_SUBJECT_AUTOREPLY },
        { "Undeliverable: Re: Invoice", BW_SUBJECT_ALL, "Invoice",
          BW_SUBJECT_REPORT | BW_SUBJECT_REPLY },
        /* the caller's classes: a report title is kept when not asked for */
        { "Undeliverable: Re: Invoice", BW_SUBJECT_REPLY, "Undeliverable: Re: Invoice", 0 },
        { "Re: Undeliverable: Invoice", BW_SUBJECT_REPLY, "Undeliverable: Invoice",
          BW_SUBJECT_REPLY },
        /* not prefixes */
        { "Invoice: please pay", BW_SUBJECT_ALL, "Invoice: please pay", 0 },
        { "Meeting at 10:30", BW_SUBJECT_ALL, "Meeting at 10:30", 0 },
        { "[SPAM] Re: x", BW_SUBJECT_ALL, "[SPAM] Re: x", 0 },
        { "  Re:   ", BW_SUBJECT_ALL, "", BW_SUBJECT_REPLY },
        { "", BW_SUBJECT_ALL, "", 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        unsigned found = 0xff;
        g_autofree char *got = bw_subject_strip(cases[i].in, cases[i].classes, &found);
        ck_assert_msg(strcmp(got, cases[i].out) == 0, "\"%s\" gave \"%s\"", cases[i].in, got);
        ck_assert_msg(found == cases[i].found, "\"%s\": classes %u, want %u", cases[i].in,
                      found, cases[i].found);
    }
    ck_assert_ptr_null(bw_subject_strip(NULL, BW_SUBJECT_ALL, NULL));
    /* bounded: a thousand prefixes are not all removed, and it returns */
    GString *chain = g_string_new(NULL);
    for (int i = 0; i < 1000; i++)
        g_string_append(chain, "Re: ");
    g_string_append(chain, "x");
    g_autofree char *rest = bw_subject_strip(chain->str, BW_SUBJECT_ALL, NULL);
    ck_assert(g_str_has_prefix(rest, "Re: "));
    g_string_free(chain, TRUE);
    /* invalid UTF-8 comes out valid */
    g_autofree char *bad = bw_subject_strip("Re: caf\xe9", BW_SUBJECT_ALL, NULL);
    ck_assert(g_utf8_validate(bad, -1, NULL));
}
END_TEST

START_TEST(test_dkim_domain)
{
    struct { const char *in, *out; } cases[] = {
        { "v=1; a=rsa-sha256; c=relaxed/relaxed; d=Example.COM; s=sel; b=abc", "example.com" },
        { "d=mail.example.org; v=1", "mail.example.org" },
        { "v=1;\r\n\td = spaced.example ;s=x", "spaced.example" },
        { "v=1; D=upper.example; s=x", "upper.example" },
        /* a 'd' inside another tag's value is not the tag */
        { "v=1; b=abc d=fake.example; d=real.example", "real.example" },
        { "v=1; bh=dGhpcw==; s=sel", NULL },
        { "v=1; d=; s=x", NULL },
        { "", NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        expect_text(bw_dkim_domain(cases[i].in), cases[i].in, cases[i].out);
    ck_assert_ptr_null(bw_dkim_domain(NULL));
}
END_TEST

START_TEST(test_text_sanitize)
{
    /* escapes, line breaks, bidi overrides and invalid bytes are defused */
    g_autofree char *a = bw_text_sanitize("Invoice\x1b[31m\r\nFake line\xe2\x80\xae"
                                          "gpj.exe\xff", 100);
    ck_assert(g_utf8_validate(a, -1, NULL));
    for (const char *p = a; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        ck_assert_msg(!g_unichar_iscntrl(c) && c != 0x202e, "U+%04X left in \"%s\"", c, a);
    }
    ck_assert_ptr_nonnull(strstr(a, "Fake line"));
    /* cut by characters, not bytes, and said so */
    g_autofree char *b = bw_text_sanitize("日本語のテキスト", 3);
    ck_assert_str_eq(b, "日本語…");
    g_autofree char *c = bw_text_sanitize("short", 5);
    ck_assert_str_eq(c, "short");
    ck_assert_ptr_null(bw_text_sanitize(NULL, 10));
}
END_TEST

/* The fingerprint codec round-trips every hash exactly (beyond 2^53) and
 * reads damaged input as zeroes. */
/* bw_str_hash: the same bytes give the same value wherever they are (every
 * length of tail, 0 to 7 bytes past the last whole step), a difference in
 * any byte changes it, and message-ids that differ in one place spread
 * over a table's buckets. */
/* bw_xxh64 gives the reference XXH64's values (taken from libxxhash 0.8.1),
 * on every path of the algorithm: empty, under 4, 4-7, 8-31 and 32 bytes
 * and more, with the seed 0 and the store's. */
START_TEST(test_xxh64_reference)
{
    static const struct {
        const char *text;
        guint64 seed, value;
    } cases[] = {
        { "", 0x0000000000000000ull, 0xef46db3751d8e999ull },
        { "", 0x62772d73756d3031ull, 0x294134dd635f0a43ull },
        { "a", 0x0000000000000000ull, 0xd24ec4f1a98c6e5bull },
        { "a", 0x62772d73756d3031ull, 0x4cbecf212b0088d1ull },
        { "abc", 0x0000000000000000ull, 0x44bc2cf5ad770999ull },
        { "abc", 0x62772d73756d3031ull, 0xbda9c6aa380c8328ull },
        { "Nobody inspects the spammish repetition", 0x0000000000000000ull,
          0xfbcea83c8a378bf1ull },
        { "Nobody inspects the spammish repetition", 0x62772d73756d3031ull,
          0xd0de5dd8b56e78a9ull },
        { "<20261206.1234.abcdefghijklmnopqrstuvwxyz@example.org> bounce of a bounce of a "
          "bounce, 0123456789", 0x0000000000000000ull, 0x36310fbe480ff7d4ull },
        { "<20261206.1234.abcdefghijklmnopqrstuvwxyz@example.org> bounce of a bounce of a "
          "bounce, 0123456789", 0x62772d73756d3031ull, 0x1ea89608fb70b84full },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        ck_assert_uint_eq(bw_xxh64(cases[i].text, strlen(cases[i].text), cases[i].seed),
                          cases[i].value);
    /* one flipped bit anywhere changes it; where the bytes sit does not */
    guchar buf[200], moved[201];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (guchar)(i * 131u + 7u);
    memcpy(moved + 1, buf, sizeof buf);
    for (size_t n = 0; n <= sizeof buf; n++) {
        guint64 h = bw_xxh64(buf, n, 0);
        ck_assert_uint_eq(bw_xxh64(moved + 1, n, 0), h);
        for (size_t b = 0; b < n * 8; b += 13) {
            buf[b / 8] ^= (guchar)(1u << (b % 8));
            ck_assert_uint_ne(bw_xxh64(buf, n, 0), h);
            buf[b / 8] ^= (guchar)(1u << (b % 8));
        }
    }
}
END_TEST

START_TEST(test_str_hash)
{
    const char *text = "<20261206.1234.abcdefghijklmnopqrstuvwxyz@example.org>";
    size_t len = strlen(text);
    for (size_t n = 0; n <= len; n++) {
        g_autofree char *a = g_strndup(text, n);
        g_autofree char *b = g_strdup_printf("x%s", a);
        ck_assert_uint_eq(bw_str_hash(a), bw_str_hash(b + 1));
        for (size_t i = 0; i < n; i++) {
            g_autofree char *c = g_strdup(a);
            c[i] ^= 0x20;
            ck_assert_uint_ne(bw_str_hash(a), bw_str_hash(c));
        }
    }
    /* 4,096 ids into 1,024 buckets (the low bits, as a table uses them):
     * about 4 each; none nearly empty or overfull */
    guint buckets[1024] = { 0 };
    for (guint i = 0; i < 4096; i++) {
        g_autofree char *id = g_strdup_printf("<bench-new0.%u.%08x@mail.example.com>", i, i * 7919u);
        buckets[bw_str_hash(id) & 1023u]++;
    }
    guint most = 0;
    for (guint i = 0; i < 1024; i++)
        most = MAX(most, buckets[i]);
    ck_assert_uint_le(most, 16);
    /* and it is a GHashFunc for a string table */
    g_autoptr(GHashTable) t = g_hash_table_new(bw_str_hash, g_str_equal);
    g_hash_table_add(t, (gpointer)text);
    g_autofree char *copy = g_strdup(text);
    ck_assert(g_hash_table_contains(t, copy));
    ck_assert(!g_hash_table_contains(t, ""));
}
END_TEST

START_TEST(test_fingerprint_codec)
{
    bw_fingerprint_t fp = {
        .subject_template = G_GUINT64_CONSTANT(0xfedcba9876543211), .url_domains = 1,
        .origin_network = G_GUINT64_CONSTANT(0x8000000000000001), .msgid_shape = 3,
        .mailer = 4, .body_simhash = G_MAXUINT64, .forged_sender = 6,
        .subject_masked = (char *)"Invoice # from {name}",
        .subject_names = G_GUINT64_CONSTANT(0x20000000000001),
    };
    JsonNode *n = bw_fingerprint_to_json(&fp);
    bw_fingerprint_t back;
    bw_fingerprint_from_json(n, &back);
    ck_assert(back.subject_template == fp.subject_template);
    ck_assert(back.url_domains == fp.url_domains);
    ck_assert(back.origin_network == fp.origin_network);
    ck_assert(back.msgid_shape == fp.msgid_shape);
    ck_assert(back.mailer == fp.mailer);
    ck_assert(back.body_simhash == fp.body_simhash);
    ck_assert(back.forged_sender == fp.forged_sender);
    ck_assert(back.subject_names == fp.subject_names);
    ck_assert_str_eq(back.subject_masked, fp.subject_masked);
    bw_fingerprint_clear(&back);
    json_node_unref(n);
    JsonNode *bad = json_from_string("{\"subject_template\": 12, \"mailer\": null}", NULL);
    bw_fingerprint_from_json(bad, &back);
    ck_assert(back.subject_template == 0 && back.mailer == 0 && back.subject_masked == NULL);
    json_node_unref(bad);
    bw_fingerprint_from_json(NULL, &back);
    ck_assert(back.subject_template == 0);
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

/* GLib's reading of a time and offset, which bw_time_format's
 * arithmetic must give where it does not hand over to GLib. */
static char *
time_format_glib(gint64 unix_time, int off)
{
    g_autoptr(GTimeZone) tz = g_time_zone_new_offset(off);
    if (tz == NULL)
        tz = g_time_zone_new_utc();
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(unix_time);
    if (utc == NULL)
        return NULL;
    g_autoptr(GDateTime) dt = g_date_time_to_timezone(utc, tz);
    if (dt == NULL)
        return NULL;
    int a = off < 0 ? -off : off;
    g_autofree char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    return g_strdup_printf("%s%c%02d:%02d", base, off < 0 ? '-' : '+', a / 3600, (a / 60) % 60);
}

START_TEST(test_time_format_as_glib)
{
    /* leap days, the ends of the range, offsets at and past the zones' */
    static const gint64 times[] = {
        0, 1, 86399, 86400, 951782400, 951868800, 4107542399, 4107542400,
        G_GINT64_CONSTANT(253402300799), G_GINT64_CONSTANT(253402300800), -1, -86401,
        G_GINT64_CONSTANT(253402300799) - 50400, 43199, 50400,
    };
    static const int offsets[] = { 0, 3600, -3600, 19800, 20700, -34200, 50400, 50460, -43200,
                                   -43260, 1, -1, 59, 86400, -90000 };
    for (size_t i = 0; i < G_N_ELEMENTS(times); i++)
        for (size_t j = 0; j < G_N_ELEMENTS(offsets); j++) {
            g_autofree char *ours = bw_time_format(times[i], offsets[j]);
            g_autofree char *glib = time_format_glib(times[i], offsets[j]);
            ck_assert_msg(g_strcmp0(ours, glib) == 0, "%" G_GINT64_FORMAT " %d: %s, GLib %s",
                          times[i], offsets[j], ours, glib);
        }
    GRand *rand = g_rand_new_with_seed(10);
    for (int k = 0; k < 20000; k++) {
        gint64 t = (gint64)g_rand_double_range(rand, -1e9, 2.6e11);
        int off = g_rand_int_range(rand, -50400, 54000) / 60 * 60;
        g_autofree char *ours = bw_time_format(t, off);
        g_autofree char *glib = time_format_glib(t, off);
        ck_assert_msg(g_strcmp0(ours, glib) == 0, "%" G_GINT64_FORMAT " %d: %s, GLib %s", t, off, ours, glib);
    }
    g_rand_free(rand);
    /* Before the year 1000 GLib's "%Y" has fewer than four digits: ours
     * keeps four, so that bw_time_parse reads the text back (a fuzzer
     * finding: "0026-11-20T10:00:00Z" stored as "26-11-20T..."). */
    static const char *const early[] = { "0026-11-20T10:00:00Z", "0001-01-01T00:00:00+00:00",
                                         "0999-12-31T23:59:59-05:00" };
    for (size_t i = 0; i < G_N_ELEMENTS(early); i++) {
        gint64 t = 0, t2 = 0;
        int off = 0, off2 = 0;
        ck_assert_msg(bw_time_parse(early[i], &t, &off), "%s", early[i]);
        g_autofree char *text = bw_time_format(t, off);
        ck_assert_msg(text != NULL && strlen(text) == 25 && text[4] == '-', "%s: %s", early[i],
                      text ? text : "(null)");
        ck_assert_msg(bw_time_parse(text, &t2, &off2) && t2 == t && off2 == off, "%s -> %s",
                      early[i], text);
    }
}
END_TEST

/* bw_time_parse against GLib's ISO 8601 reading, its first step (the
 * arithmetic takes the common form of bw_time_format's output). */
static void
time_parse_check(const char *text)
{
    gint64 t = 0, gt = 0;
    int off = 0, goff = 0;
    bool ours = bw_time_parse(text, &t, &off);
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, NULL);
    if (dt != NULL) {
        gt = g_date_time_to_unix(dt);
        goff = (int)(g_date_time_get_utc_offset(dt) / G_USEC_PER_SEC);
    }
    if (dt == NULL) {
        /* GLib refused it: the answer is GMime's, as before the arithmetic */
        g_autoptr(GDateTime) gm = bw_caps_decode_date(text);
        ck_assert_int_eq(ours, gm != NULL);
        if (gm != NULL) {
            ck_assert_int_eq(t, g_date_time_to_unix(gm));
            ck_assert_int_eq(off, (int)(g_date_time_get_utc_offset(gm) / G_USEC_PER_SEC));
        }
        return;
    }
    ck_assert_msg(ours && t == gt && off == goff, "%s: %" G_GINT64_FORMAT " %d, GLib %" G_GINT64_FORMAT " %d",
                  text, t, off, gt, goff);
}

START_TEST(test_time_parse_as_glib)
{
    static const char *const texts[] = {
        "1970-01-01T00:00:00+00:00", "1970-01-01T00:00:00+00:01", "1970-01-01T09:00:00+09:00",
        "2000-02-29T12:00:00-05:30", "2001-02-29T12:00:00+00:00", "2026-11-23T09:40:00+14:00",
        "2026-11-23T09:40:00+14:01", "2026-11-23T09:40:00-12:00", "2026-11-23T09:40:00-12:01",
        "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-01:00", "2026-13-01T00:00:00+00:00",
        "2026-04-31T00:00:00+00:00", "2026-04-30T24:00:00+00:00", "2026-04-30T23:60:00+00:00",
        "2026-04-30T23:59:60+00:00", "2026-04-30T23:59:59+00:60", "2026-04-30T23:59:59Z",
        "2026-04-30t23:59:59+00:00", "2026-04-30T23:59:59+0000", "2026-4-30T23:59:59+00:00",
        "1969-12-31T23:59:59+00:00", "1970-01-01T00:00:00+01:00", "+026-04-30T23:59:59+00:00",
        "2026-04-30T23:59:59.5+00:00", "2026-04-30T23:59:59-00:00", "0000-01-01T00:00:00+00:00",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++)
        time_parse_check(texts[i]);
    /* what bw_time_format writes, read back, over its whole range */
    GRand *rand = g_rand_new_with_seed(11);
    for (int k = 0; k < 20000; k++) {
        gint64 t = (gint64)g_rand_double_range(rand, -1e9, 2.6e11);
        int off = g_rand_int_range(rand, -50400, 54000) / 60 * 60;
        g_autofree char *text = bw_time_format(t, off);
        if (text != NULL)
            time_parse_check(text);
    }
    g_rand_free(rand);
}
END_TEST

/* bw_caps_decode_date_unix reads the canonical RFC 5322 form itself:
 * its answer is GMime's, on the edges of that form and on random dates in
 * it, with and without the day name, comments and stray spaces. */
static void
date_check(const char *text)
{
    gint64 t = 0;
    int off = 0;
    bool ok = bw_caps_decode_date_unix(text, &t, &off);
    GDateTime *d = g_mime_utils_header_decode_date(text);
    ck_assert_msg(ok == (d != NULL), "%s: %d vs GMime", text, ok);
    if (d != NULL) {
        ck_assert_msg(t == g_date_time_to_unix(d), "%s: instant", text);
        ck_assert_msg(off == (int)(g_date_time_get_utc_offset(d) / G_USEC_PER_SEC), "%s: offset", text);
        g_date_time_unref(d);
    }
}

START_TEST(test_date_fast_as_gmime)
{
    ck_assert(bw_init() == BW_OK);
    static const char *const texts[] = {
        "Thu, 3 Jan 2019 10:20:30 +0900", "3 Jan 2019 10:20:30 +0900", " Thu, 03 Jan 2019 10:20:30 -0000",
        "Thu, 3 Jan 2019 10:20:30 +0900 (JST)", "Thu, 3 Jan 2019 10:20:30 +0900(JST)",
        "Thu,3 Jan 2019 10:20:30 +0900", "Thu, 29 Feb 2019 10:20:30 +0000", "Thu, 29 Feb 2020 10:20:30 +0000",
        "Thu, 31 Apr 2019 10:20:30 +0000", "Thu, 0 Jan 2019 10:20:30 +0000", "Thu, 32 Jan 2019 10:20:30 +0000",
        "Thu, 3 Jan 2019 24:00:00 +0000", "Thu, 3 Jan 2019 23:60:00 +0000", "Thu, 3 Jan 2019 23:59:60 +0000",
        "Thu, 3 Jan 2019 10:20 +0900", "Thu, 3 Jan 19 10:20:30 +0900", "Thu, 3 Jan 1969 23:59:59 +0000",
        "Thu, 1 Jan 1970 00:00:00 +0000", "Thu, 1 Jan 1970 00:00:00 +0100", "Thu, 3 Jan 2019 10:20:30 +1400",
        "Thu, 3 Jan 2019 10:20:30 +1401", "Thu, 3 Jan 2019 10:20:30 -1200", "Thu, 3 Jan 2019 10:20:30 -1201",
        "Thu, 3 Jan 2019 10:20:30 +0960", "Thu, 3 Jan 2019 10:20:30 +09000", "Thu, 3 Jan 2019 10:20:30 GMT",
        "thu, 3 jan 2019 10:20:30 +0900", "Xyz, 3 Jan 2019 10:20:30 +0900", "Thu, 3 Jan 2019 10:20:30 +0900 junk",
        "Thu, 3 Jan 2019 10:20:30 +0900 (a (b) c)", "Thu,  3  Jan\t2019  10:20:30\t+0900  ",
        "Fri, 31 Dec 9999 23:59:59 +0000", "Fri, 31 Dec 9999 23:59:59 -0100", "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++)
        date_check(texts[i]);
    /* Every prefix, in a block of exactly its size: the fast path must stop
     * at the end of a cut date (the fuzzers found it reading a zone's
     * minutes past the end of "... +0"; AddressSanitizer catches any such
     * read here in the sanitizer build). */
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        size_t n = strlen(texts[i]);
        for (size_t k = 0; k < n; k++) {
            char *cut = g_strndup(texts[i], k);
            date_check(cut);
            g_free(cut);
        }
    }
    static const char *const days[] = { "Mon, ", "Tue, ", "Wed, ", "Thu, ", "Fri, ", "Sat, ", "Sun, ", "" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    GRand *rand = g_rand_new_with_seed(12);
    for (int k = 0; k < 20000; k++) {
        int oh = g_rand_int_range(rand, 0, 16), om = g_rand_int_range(rand, 0, 4) * 15;
        g_autofree char *text = g_strdup_printf(
            "%s%d %s %d %02d:%02d:%02d %c%02d%02d%s", days[g_rand_int_range(rand, 0, 8)],
            g_rand_int_range(rand, 0, 33), months[g_rand_int_range(rand, 0, 12)],
            g_rand_int_range(rand, 1960, 2200), g_rand_int_range(rand, 0, 25),
            g_rand_int_range(rand, 0, 61), g_rand_int_range(rand, 0, 61),
            g_rand_boolean(rand) ? '+' : '-', oh, om, g_rand_boolean(rand) ? "" : " (UTC)");
        date_check(text);
    }
    g_rand_free(rand);
}
END_TEST

/* bw_simple_address answers for a To value only when GMime's list would
 * hold that one mailbox with that address: fixed cases, then random
 * values built of address characters, specials, blanks, encoded words and
 * IDN labels (which GMime decodes: left to it). */
static void
simple_address_check(const char *v)
{
    const char *a = NULL;
    size_t al = 0;
    if (!bw_simple_address(v, &a, &al))
        return;
    InternetAddressList *list = internet_address_list_parse(NULL, v);
    ck_assert_msg(list != NULL && internet_address_list_length(list) == 1, "%s: one address", v);
    InternetAddress *ia = internet_address_list_get_address(list, 0);
    ck_assert_msg(INTERNET_ADDRESS_IS_MAILBOX(ia), "%s: a mailbox", v);
    const char *ga = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    ck_assert_msg(ga != NULL && strlen(ga) == al && memcmp(ga, a, al) == 0, "%s: %s", v, ga);
    g_object_unref(list);
}

START_TEST(test_simple_address_as_gmime)
{
    ck_assert(bw_init() == BW_OK);
    const char *a = NULL;
    size_t al = 0;
    ck_assert(bw_simple_address(" user@example.com ", &a, &al));
    ck_assert_int_eq((int)al, 16);
    ck_assert(bw_simple_address("John Smith <user@example.com>", &a, &al));
    ck_assert(!bw_simple_address("\"Smith, John\" <user@example.com>", &a, &al));
    ck_assert(!bw_simple_address("a@example.com, b@example.com", &a, &al));
    ck_assert(!bw_simple_address("neko@xn--cesupi09d.jp", &a, &al));
    ck_assert(!bw_simple_address("a..b@example.com", &a, &al));
    ck_assert(!bw_simple_address("user@example.com (comment)", &a, &al));
    static const char *const bits[] = {
        "a", "B", "z", "0", ".", "@", "<", ">", " ", "\t", "\"", ",", "(", ")", ";", ":", "\\",
        "[", "]", "-", "_", "+", "=", "?", "/", "!", "#", "'", "*", "~", "\xc3\xa9",
        "=?utf-8?q?x?=", "xn--", "XN--ab", "example", "com",
    };
    GRand *rand = g_rand_new_with_seed(14);
    for (int t = 0; t < 100000; t++) {
        char v[160] = "";
        int parts = g_rand_int_range(rand, 1, 12);
        for (int i = 0; i < parts; i++)
            g_strlcat(v, bits[g_rand_int_range(rand, 0, G_N_ELEMENTS(bits))], sizeof v);
        if (g_rand_boolean(rand)) {
            g_strlcat(v, "@", sizeof v);
            g_strlcat(v, bits[g_rand_int_range(rand, 0, G_N_ELEMENTS(bits))], sizeof v);
            g_strlcat(v, g_rand_boolean(rand) ? ".example" : "", sizeof v);
            g_strlcat(v, g_rand_boolean(rand) ? ">" : "", sizeof v);
        }
        simple_address_check(v);
    }
    g_rand_free(rand);
}
END_TEST

START_TEST(test_utf8_validate_as_glib)
{
    static const char *const texts[] = {
        "", "a", "plain ASCII text of more than eight bytes", "caf\xc3\xa9 au lait, twice caf\xc3\xa9",
        "bad \xc3 byte", "\xff", "eight b\xe2\x80\x99", "12345678\xe3\x81\x82", "1234567\xe3\x81",
        "overlong \xc0\xaf here", "surrogate \xed\xa0\x80 here", "\xf4\x90\x80\x80 past U+10FFFF",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        size_t n = strlen(texts[i]);
        ck_assert_int_eq(bw_utf8_validate(texts[i], -1), g_utf8_validate(texts[i], -1, NULL));
        for (size_t k = 0; k <= n; k++)
            ck_assert_int_eq(bw_utf8_validate(texts[i], (gssize)k), g_utf8_validate(texts[i], (gssize)k, NULL));
    }
    /* a NUL among the bytes given is invalid, as for GLib */
    const char nul[] = "0123456789\0abcdef";
    ck_assert(!bw_utf8_validate(nul, sizeof nul - 1));
    ck_assert(bw_utf8_validate(nul, 10));
    ck_assert(bw_utf8_validate(nul, -1));
    /* Random texts of ASCII runs and bytes around every boundary of the
     * UTF-8 tables (leads C0-C2, DF-E1, EC-EE, EF-F1, F3-F5, continuations
     * 7F-81, 8F-90, 9F-A0, BF-C0, NUL), at every length around the
     * 16-byte blocks: the same answer as GLib's, with and without a
     * length. */
    static const unsigned char bytes[] = {
        'a', 'b', ' ', '\n', 0x00, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1,
        0xC2, 0xC3, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
    };
    GRand *rand = g_rand_new_with_seed(17);
    char buf[72];
    unsigned valid = 0;
    for (int t = 0; t < 300000; t++) {
        size_t len = (size_t)g_rand_int_range(rand, 0, (gint32)sizeof buf - 1);
        for (size_t i = 0; i < len; i++) {
            /* mostly ASCII letters, so that long valid runs occur too */
            bool plain = g_rand_int_range(rand, 0, 4) != 0;
            buf[i] = (char)(plain ? 'a' + g_rand_int_range(rand, 0, 26)
                                  : bytes[g_rand_int_range(rand, 0, (gint32)sizeof bytes)]);
        }
        buf[len] = '\0';
        gboolean want = g_utf8_validate(buf, (gssize)len, NULL);
        valid += want;
        ck_assert_int_eq(bw_utf8_validate(buf, (gssize)len), want);
        ck_assert_int_eq(bw_utf8_validate(buf, -1), g_utf8_validate(buf, -1, NULL));
    }
    /* (both kinds were drawn in numbers) */
    ck_assert_uint_gt(valid, 10000);
    ck_assert_uint_lt(valid, 290000);
    g_rand_free(rand);
}
END_TEST

START_TEST(test_find_blank_line)
{
    const char *a = "A: 1\nB: 2\n\nbody\n\n";
    ck_assert_ptr_eq(bw_find_blank_line(a, strlen(a)), a + 9);
    ck_assert_ptr_eq(bw_find_blank_line(a, 10), NULL);      /* the second LF is past the end */
    ck_assert_ptr_eq(bw_find_blank_line(a, 11), a + 9);
    const char *b = "\n\n";
    ck_assert_ptr_eq(bw_find_blank_line(b, 2), b);
    ck_assert_ptr_eq(bw_find_blank_line(b, 1), NULL);
    ck_assert_ptr_eq(bw_find_blank_line("x\ny\nz", 5), NULL);
}
END_TEST

START_TEST(test_memcasestr)
{
    const char *hay = "Delivery to the following recipients FAILED";
    ck_assert_ptr_eq(bw_memcasestr(hay, strlen(hay), "failed"), hay + 37);
    ck_assert_ptr_null(bw_memcasestr(hay, 10, "recipients"));
    g_autofree char *sq = bw_strdup_squeezed("  a \r\n\t b  ", 11);
    ck_assert_str_eq(sq, "a b");
    /* the squeeze (runs found 16 bytes at a time) against a plain one, on
     * texts of letters, every blank, the bytes beside them (8, 14, 31,
     * 33), NUL and 8-bit bytes, at every length around the blocks */
    {
        static const char sq_bytes[] = "abXY \t\n\v\f\r\x08\x0e\x1f!\xe9\xff";
        GRand *sr = g_rand_new_with_seed(29);
        char text[90], want[91];
        for (int t = 0; t < 200000; t++) {
            size_t tl = (size_t)g_rand_int_range(sr, 0, (gint32)sizeof text);
            bool runs = g_rand_boolean(sr);
            for (size_t i = 0; i < tl; i++) {
                /* long non-blank runs too, or the blocks are never used */
                int k = runs && g_rand_int_range(sr, 0, 8) != 0 ? g_rand_int_range(sr, 0, 4)
                                                                : g_rand_int_range(sr, 0, (gint32)sizeof sq_bytes);
                text[i] = k == (gint32)sizeof sq_bytes - 1 ? '\0' : sq_bytes[k];
            }
            size_t lim = (size_t)g_rand_int_range(sr, 0, (gint32)tl + 2);
            size_t o = 0;
            bool pend = false;
            for (size_t i = 0; i < lim && i < tl && text[i] != '\0'; i++) {
                unsigned char c = (unsigned char)text[i];
                if (c == ' ' || (c >= 9 && c <= 13)) {
                    pend = o > 0;
                    continue;
                }
                if (pend)
                    want[o++] = ' ';
                pend = false;
                want[o++] = (char)c;
            }
            want[o] = '\0';
            /* (a limit past the text stops at its NUL: one is put there) */
            char buf[sizeof text + 1];
            memcpy(buf, text, tl);
            buf[tl] = '\0';
            g_autofree char *got = bw_strdup_squeezed(buf, lim);
            ck_assert_str_eq(got, want);
        }
        g_rand_free(sr);
    }
    /* the vector search finds what a plain one does: the first place, in
     * texts and needles of letters of both cases, other bytes, NUL and
     * 8-bit bytes, at every length around its 16-byte blocks */
    static const char alphabet[] = "aAbBrR eE\n:-\0\xd0\xb0";
    GRand *rand = g_rand_new_with_seed(13);
    char buf[80], needle[8];
    for (int t = 0; t < 200000; t++) {
        size_t hl = (size_t)g_rand_int_range(rand, 0, (gint32)sizeof buf);
        for (size_t i = 0; i < hl; i++)
            buf[i] = alphabet[g_rand_int_range(rand, 0, (gint32)sizeof alphabet - 1)];
        size_t nl = (size_t)g_rand_int_range(rand, 1, (gint32)sizeof needle);
        for (size_t i = 0; i < nl; i++) {
            do
                needle[i] = alphabet[g_rand_int_range(rand, 0, (gint32)sizeof alphabet - 1)];
            while (needle[i] == '\0');
        }
        needle[nl] = '\0';
        const char *want = NULL;
        for (size_t i = 0; want == NULL && i + nl <= hl; i++) {
            size_t k = 0;
            while (k < nl && g_ascii_tolower(buf[i + k]) == g_ascii_tolower(needle[k]))
                k++;
            if (k == nl)
                want = buf + i;
        }
        ck_assert_ptr_eq(bw_memcasestr(buf, hl, needle), want);
    }
    g_rand_free(rand);
}
END_TEST

Suite *
suite_util(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    /* The comparisons with GLib over 20,000 random dates take ~1.4 s of CPU
     * under ASan: the default 4 s wall limit killed them on a loaded machine. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_error_set);
    tcase_add_test(tc, test_subject_strip);
    tcase_add_test(tc, test_dkim_domain);
    tcase_add_test(tc, test_text_sanitize);
    tcase_add_test(tc, test_str_hash);
    tcase_add_test(tc, test_xxh64_reference);
    tcase_add_test(tc, test_fingerprint_codec);
    tcase_add_test(tc, test_address_normalize);
    tcase_add_test(tc, test_msgid_normalize);
    tcase_add_test(tc, test_time_roundtrip);
    tcase_add_test(tc, test_time_format_as_glib);
    tcase_add_test(tc, test_time_parse_as_glib);
    tcase_add_test(tc, test_date_fast_as_gmime);
    tcase_add_test(tc, test_simple_address_as_gmime);
    tcase_add_test(tc, test_utf8_validate_as_glib);
    tcase_add_test(tc, test_find_blank_line);
    tcase_add_test(tc, test_memcasestr);
    suite_add_tcase(s, tc);
    return s;
}
