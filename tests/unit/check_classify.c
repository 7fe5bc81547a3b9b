/* check_classify.c: the verdict (classify.c) and the origin analysis
 * (profile.c) on an in-memory mailbox. */
#include "suites.h"
#include "engine-fixtures.h"

#define T0 1763300000   /* 2025-11-16, any fixed time */
#define OWNER "mika.tanaka@mailhost.example"

static const char *const owners[] = { OWNER, "mtanaka@oldmail.example", NULL };

/* The owner's real mail as it left the provider: authenticated submission. */
static const char *const rcv_owner[] = {
    "from [203.0.113.7] (p1234.home.example [203.0.113.7]) (using TLSv1.3) "
    "by smtp.mailhost.example (Postfix) with ESMTPSA id 4XyZ1 for <taro@example.jp>; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
/* A hijacked account: the recipient's MX got it from the provider's relay,
 * which got it by authenticated submission from a stranger. */
static const char *const rcv_hijack[] = {
    "from out.mailhost.example (out.mailhost.example [198.51.100.20]) by mx.victim.example with ESMTPS id AB12 "
    "for <x@victim.example>; Sun, 16 Nov 2025 10:00:01 +0000",
    "from User (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") by smtp.mailhost.example (Postfix) "
    "with ESMTPSA id 4Q for <x@victim.example>; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
/* The same through the provider's webmail. */
static const char *const rcv_webmail[] = {
    "from out.mailhost.example (out.mailhost.example [198.51.100.20]) by mx.victim.example with ESMTPS id AB13; "
    "Sun, 16 Nov 2025 10:00:02 +0000",
    "from webmail.mailhost.example (webmail.mailhost.example [10.1.2.3]) by out.mailhost.example (Postfix) "
    "with ESMTP id 77 for <x@victim.example>; Sun, 16 Nov 2025 10:00:01 +0000",
    "from [45.9.8.7] by webmail.mailhost.example with HTTPS; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
/* A spam tool's forged hop naming the provider, under the bot's real hop. */
static const char *const rcv_forged_hop[] = {
    "from WIN-ABCDEF (unknown [91.200.1.2]) by mx.victim.example with ESMTP id Q1 for <x@victim.example>; "
    "Sun, 16 Nov 2025 10:00:00 +0000",
    "from [10.9.9.9] (unknown [10.9.9.9]) (Authenticated sender: " OWNER ") by smtp.mailhost.example (Postfix) "
    "with ESMTPSA id ZZ for <x@victim.example>; Sun, 16 Nov 2025 09:59:30 +0000",
    NULL
};
static const char *const rcv_bot[] = {
    "from localhost (host-91-200-1-2.isp.example [91.200.1.2]) by mx.victim.example with ESMTP id Q2; "
    "Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
/* The provider bounced the hijacked account's spam itself: its own hop is
 * the top one. */
static const char *const rcv_provider_top[] = {
    "from User ([45.9.8.7]) (authenticated bits=0) by smtp.mailhost.example (8.17.2/8.17.2) with ESMTPSA id 5AB "
    "for <x@victim.example>; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};

/* The hijacked account's spam as the recipient's back-end store saw it:
 * an internal hop of the receiving organisation on top. */
static const char *const rcv_hijack_internal[] = {
    "from mx-front.victim.example (mx-front.victim.example [10.0.0.5]) by store3.victim.example with LMTP id 9; "
    "Sun, 16 Nov 2025 10:00:03 +0000",
    "from out.mailhost.example (out.mailhost.example [198.51.100.20]) by mx-front.victim.example with ESMTPS id AB12; "
    "Sun, 16 Nov 2025 10:00:01 +0000",
    "from User (unknown [45.9.8.7]) by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
/* A bot that says HELO with the provider's name: its HELO proves nothing. */
static const char *const rcv_helo_forged[] = {
    "from smtp.mailhost.example (unknown [91.200.1.2]) by mx.victim.example with ESMTP id Q3; "
    "Sun, 16 Nov 2025 10:00:00 +0000",
    "from [10.9.9.9] by smtp.mailhost.example with ESMTPSA id ZZ; Sun, 16 Nov 2025 09:59:30 +0000",
    NULL
};

static bw_item_t *
classify(fake_mailbox_t *f, const fake_report_t *d)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    bw_mailbox_ops_t ops = fake_ops(f);
    bw_item_t *it = NULL;
    ck_assert_int_eq(bw_classify(p, &ops, "report@x", "/mail/x", d->date, fake_report(d), &it), BW_OK);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_gt(it->evidence->len, 0);
    ck_assert(it->score >= 0.0 && it->score <= 1.0);
    return it;
}

START_TEST(test_sent_message_id_is_legitimate)
{
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "abc@mailhost.example", "taro@example.jp", "Dinner", T0 - 60);
    fake_report_t d = { .recipient = "taro@example.jp", .orig_mid = "abc@mailhost.example",
                        .orig_from = OWNER, .orig_subject = "Dinner", .received = rcv_owner, .date = T0 };
    g_autoptr(bw_item_t) it = classify(f, &d);
    ck_assert_int_eq(it->klass, BW_CLASS_LEGITIMATE);
    ck_assert(it->score < 0.01);
    ck_assert(evidence_has(it, "was sent from this mailbox"));
    fake_free(f);
}
END_TEST

START_TEST(test_unknown_message_id_is_backscatter)
{
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "abc@mailhost.example", "taro@example.jp", "Dinner", T0 - 60);
    fake_report_t d = { .recipient = "x@victim.example", .orig_mid = "9f8e7d@bot.example",
                        .orig_from = OWNER, .orig_subject = "Cheap pills", .received = rcv_bot, .date = T0 };
    g_autoptr(bw_item_t) it = classify(f, &d);
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    ck_assert(it->score > 0.9);
    ck_assert(evidence_has(it, "never sent from this mailbox"));
    ck_assert_int_eq(it->origin, BW_ORIGIN_FOREIGN);
    fake_free(f);
}
END_TEST

START_TEST(test_autoreply_in_reply_to_sent)
{
    /* a vacation reply with no original but In-Reply-To: the owner's mail */
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "m1@mailhost.example", "ann@example.org", "Meeting", T0 - 100);
    fake_report_t d = { .kind = BW_KIND_AUTOREPLY, .report_from = "ann@example.org",
                        .recipient = "ann@example.org", .reason = BW_REASON_VACATION,
                        .in_reply_to = "m1@mailhost.example", .date = T0 };
    g_autoptr(bw_item_t) it = classify(f, &d);
    ck_assert_int_eq(it->klass, BW_CLASS_LEGITIMATE);
    fake_free(f);
}
END_TEST

START_TEST(test_vacation_without_message_id_not_backscatter)
{
    /* the auto-reply names neither a Message-ID nor an In-Reply-To: the
     * correspondent and the subject say it is about the owner's mail */
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "m2@mailhost.example", "ann@example.org", "Project plan", T0 - 3600);
    fake_received(f, "ann@example.org", "r1@example.org");
    fake_report_t d = { .kind = BW_KIND_AUTOREPLY, .report_from = "ann@example.org",
                        .recipient = "ann@example.org", .reason = BW_REASON_VACATION,
                        .orig_subject = "Re: Project plan", .date = T0 };
    g_autoptr(bw_item_t) it = classify(f, &d);
    ck_assert_int_eq(it->klass, BW_CLASS_LEGITIMATE);
    ck_assert(evidence_has(it, "has written to ann@example.org"));
    fake_free(f);
}
END_TEST

START_TEST(test_recipient_only_reports)
{
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "m3@mailhost.example", "taro@example.jp", "Hello", T0 - 3600);
    /* nothing but a recipient the owner never wrote to */
    fake_report_t d1 = { .recipient = "stranger@far.example", .date = T0 };
    g_autoptr(bw_item_t) a = classify(f, &d1);
    ck_assert_int_eq(a->klass, BW_CLASS_BACKSCATTER);
    ck_assert(evidence_has(a, "never wrote to stranger@far.example"));
    /* ... and one the owner writes to */
    fake_report_t d2 = { .recipient = "taro@example.jp", .date = T0 };
    g_autoptr(bw_item_t) b = classify(f, &d2);
    ck_assert_int_eq(b->klass, BW_CLASS_LEGITIMATE);
    fake_free(f);
}
END_TEST

START_TEST(test_no_sent_copies)
{
    /* no Sent folder: the path and the correspondents decide */
    fake_mailbox_t *f = fake_new(false);
    fake_received(f, "taro@example.jp", "t1@example.jp");
    fake_received(f, "taro@example.jp", "t2@example.jp");
    fake_report_t legit = { .recipient = "taro@example.jp", .orig_mid = "u1@mailhost.example",
                            .orig_from = OWNER, .orig_subject = "Photos", .received = rcv_owner, .date = T0 };
    g_autoptr(bw_item_t) a = classify(f, &legit);
    ck_assert_int_ne(a->klass, BW_CLASS_BACKSCATTER);
    ck_assert_int_eq(a->klass, BW_CLASS_LEGITIMATE);
    fake_report_t flood = { .recipient = "x@victim.example", .orig_mid = "zz@bot.example",
                            .orig_from = OWNER, .orig_subject = "Loan approved", .received = rcv_bot, .date = T0 };
    g_autoptr(bw_item_t) b = classify(f, &flood);
    ck_assert_int_eq(b->klass, BW_CLASS_BACKSCATTER);
    /* an auto-reply from a stranger: the reply itself is no correspondence */
    fake_received(f, "auto@victim.example", NULL);
    fake_report_t ar = { .kind = BW_KIND_AUTOREPLY, .report_from = "auto@victim.example",
                         .recipient = "auto@victim.example", .orig_subject = "Loan approved", .date = T0 };
    g_autoptr(bw_item_t) c = classify(f, &ar);
    ck_assert_int_ne(c->klass, BW_CLASS_LEGITIMATE);
    fake_free(f);
}
END_TEST

/* A custom-domain owner who keeps no Sent copies: the provider that submits
 * the mail (smtp.hostco.example) is nowhere in the profile. */
static const char *const rcv_unplaced[] = {
    "from [192.168.1.20] (laptop.home.example [198.51.100.7]) by smtp.hostco.example with ESMTPSA id 4A1B "
    "for <frank@gmail.con>; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};

START_TEST(test_no_sent_unknown_provider)
{
    const char *const own[] = { "olive@olive-owner.example", NULL };
    fake_mailbox_t *f = fake_new(false);
    bw_mailbox_ops_t ops = fake_ops(f);
    g_autoptr(bw_profile_t) p = bw_profile_new(own, NULL);
    ck_assert(!bw_profile_knows_provider(p));
    /* the owner's real mail to a typo'd address nobody ever wrote from:
     * a login submission, at a server the profile cannot place */
    fake_report_t real = { .recipient = "frank@gmail.con", .reason = BW_REASON_HOST_UNKNOWN,
                           .orig_mid = "1763.typo0@laptop.olive-owner.example", .orig_from = "olive@olive-owner.example",
                           .orig_subject = "Birthday party", .received = rcv_unplaced, .dkim = "olive-owner.example",
                           .date = T0 };
    const char *why = NULL;
    g_autoptr(bw_report_t) r = fake_report(&real);
    ck_assert_int_eq(bw_origin_of(p, r->original, &why), BW_ORIGIN_UNKNOWN);
    ck_assert_ptr_nonnull(why);
    bw_item_t *it = NULL;
    ck_assert_int_eq(bw_classify(p, &ops, "r1@x", NULL, T0, fake_report(&real), &it), BW_OK);
    ck_assert_int_ne(it->klass, BW_CLASS_BACKSCATTER);
    ck_assert_int_ne(it->origin, BW_ORIGIN_FOREIGN);
    ck_assert(evidence_has(it, "submitted with a password"));
    bw_item_free(it);
    /* a bot's mail straight to the recipient's MX, no login anywhere */
    fake_report_t bot = { .recipient = "x@victim.example", .orig_mid = "zz@bot.example",
                          .orig_from = "olive@olive-owner.example", .orig_subject = "Loan approved",
                          .received = rcv_bot, .date = T0 };
    ck_assert_int_eq(bw_classify(p, &ops, "r2@x", NULL, T0, fake_report(&bot), &it), BW_OK);
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    ck_assert_int_eq(it->origin, BW_ORIGIN_FOREIGN);
    ck_assert(evidence_has(it, "without any login"));
    bw_item_free(it);
    /* once the provider is known (bouncewatch.relays), a login at another
     * server is someone else's account: foreign */
    const char *const relays[] = { "mailhost.example", NULL };
    g_autoptr(bw_profile_t) q = bw_profile_new(own, relays);
    ck_assert(bw_profile_knows_provider(q));
    ck_assert_int_eq(bw_origin_of(q, r->original, NULL), BW_ORIGIN_FOREIGN);
    fake_free(f);
}
END_TEST

/* Without Sent copies, the mailbox's own correspondence speaks for the
 * owner's real mail; strangers' replies to forged spam do not. */
START_TEST(test_no_sent_correspondence)
{
    const char *const own[] = { "olive@olive-owner.example", NULL };
    fake_mailbox_t *f = fake_new(false);
    bw_mailbox_ops_t ops = fake_ops(f);
    g_autoptr(bw_profile_t) p = bw_profile_new(own, NULL);
    fake_received(f, "alice@friends.example.com", "a1@friends.example.com");
    fake_received(f, "alice@friends.example.com", "a2@friends.example.com");
    fake_received(f, "dora@gmail.com", "d1@gmail.com");
    fake_received(f, "dora@gmail.com", "d2@gmail.com");
    /* the owner wrote to alice and to a new address at a typo; alice
     * answered the message: the owner really sent it */
    fake_reply(f, "alice@friends.example.com", "m1@laptop.olive-owner.example");
    fake_report_t typo = { .recipient = "frank@gmail.con", .reason = BW_REASON_HOST_UNKNOWN,
                           .orig_mid = "m1@laptop.olive-owner.example", .orig_from = "olive@olive-owner.example",
                           .orig_subject = "Birthday party", .received = rcv_unplaced, .date = T0 };
    bw_item_t *it = NULL;
    ck_assert_int_eq(bw_classify(p, &ops, "r1@x", NULL, T0, fake_report(&typo), &it), BW_OK);
    ck_assert_int_eq(it->klass, BW_CLASS_LEGITIMATE);
    ck_assert(evidence_has(it, "replied to the original"));
    bw_item_free(it);
    /* a stranger's "stop mailing me" to forged spam proves nothing */
    fake_reply(f, "angry@victim.example", "spam1@bot.example");
    fake_report_t spam = { .recipient = "x@victim.example", .orig_mid = "spam1@bot.example",
                           .orig_from = "olive@olive-owner.example", .orig_subject = "Loan approved",
                           .received = rcv_bot, .date = T0 };
    ck_assert_int_eq(bw_classify(p, &ops, "r2@x", NULL, T0, fake_report(&spam), &it), BW_OK);
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    ck_assert(evidence_has(it, "not a known correspondent"));
    bw_item_free(it);
    /* a new address at a correspondent's organisation leans to the owner;
     * at a free-mail domain it says nothing */
    fake_report_t colleague = { .recipient = "gina@friends.example.com", .orig_mid = "m2@laptop.olive-owner.example",
                                .orig_from = "olive@olive-owner.example", .orig_subject = "Minutes",
                                .received = rcv_unplaced, .date = T0 };
    ck_assert_int_eq(bw_classify(p, &ops, "r3@x", NULL, T0, fake_report(&colleague), &it), BW_OK);
    ck_assert(evidence_has(it, "people at friends.example.com write to this mailbox"));
    ck_assert_int_ne(it->klass, BW_CLASS_BACKSCATTER);
    bw_item_free(it);
    /* a group mail: one new address bounced, alice got it too */
    fake_report_t group = { .recipient = "new.person@gmail.com", .orig_mid = "m3@laptop.olive-owner.example",
                            .orig_from = "olive@olive-owner.example", .orig_subject = "Photos from the trip",
                            .received = rcv_unplaced, .date = T0 };
    bw_report_t *gr = fake_report(&group);
    g_ptr_array_add(gr->original->to, g_strdup("alice@friends.example.com"));
    ck_assert_int_eq(bw_classify(p, &ops, "r5@x", NULL, T0, gr, &it), BW_OK);
    ck_assert(evidence_has(it, "also went to alice@friends.example.com"));
    ck_assert_int_eq(it->klass, BW_CLASS_LEGITIMATE);
    bw_item_free(it);
    fake_report_t freemail = { .recipient = "zed@gmail.com", .orig_mid = "zz2@bot.example",
                               .orig_from = "olive@olive-owner.example", .orig_subject = "Loan approved",
                               .received = rcv_bot, .date = T0 };
    ck_assert_int_eq(bw_classify(p, &ops, "r4@x", NULL, T0, fake_report(&freemail), &it), BW_OK);
    ck_assert(!evidence_has(it, "people at"));
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    bw_item_free(it);
    fake_free(f);
}
END_TEST

/* A bounce of mail the owner received and forwarded onward (.forward to an
 * old address that is gone): not backscatter. */
START_TEST(test_forwarded_mail)
{
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "abc@mailhost.example", "taro@example.jp", "Dinner", T0 - 60);
    fake_received(f, "news@shop.example", "n1@shop.example");
    fake_report_t d = { .recipient = "mika.old@isp.example", .orig_mid = "n1@shop.example",
                        .orig_from = "news@shop.example", .orig_subject = "Your order has shipped",
                        .received = rcv_bot, .date = T0 };
    bw_report_t *r = fake_report(&d);
    g_ptr_array_set_size(r->original->to, 0);
    g_ptr_array_add(r->original->to, g_strdup(OWNER));
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    bw_mailbox_ops_t ops = fake_ops(f);
    bw_item_t *it = NULL;
    ck_assert_int_eq(bw_classify(p, &ops, "fw@x", NULL, T0, r, &it), BW_OK);
    ck_assert_int_ne(it->klass, BW_CLASS_BACKSCATTER);
    ck_assert(evidence_has(it, "forwarding"));
    ck_assert(evidence_has(it, "a message this mailbox received"));
    bw_item_free(it);
    /* spam from the owner to the owner is no forwarding */
    fake_report_t self = { .recipient = "mika.old@isp.example", .orig_mid = "x1@bot.example",
                           .orig_from = OWNER, .orig_subject = "I hacked your account",
                           .received = rcv_bot, .date = T0 };
    r = fake_report(&self);
    g_ptr_array_add(r->original->to, g_strdup(OWNER));
    ck_assert_int_eq(bw_classify(p, &ops, "fw2@x", NULL, T0, r, &it), BW_OK);
    ck_assert(!evidence_has(it, "forwarding"));
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    bw_item_free(it);
    fake_free(f);
}
END_TEST

START_TEST(test_origin_paths)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    struct { const char *const *rcv; bw_origin_t want; } cases[] = {
        { rcv_hijack, BW_ORIGIN_OWN_ACCOUNT },
        { rcv_webmail, BW_ORIGIN_OWN_ACCOUNT },
        { rcv_provider_top, BW_ORIGIN_OWN_ACCOUNT },
        { rcv_forged_hop, BW_ORIGIN_FOREIGN },
        { rcv_bot, BW_ORIGIN_FOREIGN },
        { rcv_hijack_internal, BW_ORIGIN_OWN_ACCOUNT },
        { rcv_helo_forged, BW_ORIGIN_FOREIGN },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        fake_report_t d = { .recipient = "x@victim.example", .orig_mid = "q@z", .received = cases[i].rcv };
        g_autoptr(bw_report_t) r = fake_report(&d);
        const char *why = NULL;
        ck_assert_msg(bw_origin_of(p, r->original, &why) == cases[i].want, "case %zu", i);
        ck_assert_ptr_nonnull(why);
    }
    /* no Received lines: a DKIM-Signature header is all that is left; it
     * cannot be verified in a report (spam tools copy them), so it names
     * no origin, but says why */
    fake_report_t d = { .recipient = "x@victim.example", .orig_mid = "q@z", .dkim = "mailhost.example" };
    g_autoptr(bw_report_t) r = fake_report(&d);
    const char *why = NULL;
    ck_assert_int_eq(bw_origin_of(p, r->original, &why), BW_ORIGIN_UNKNOWN);
    ck_assert_ptr_nonnull(why);
    fake_report_t d2 = { .recipient = "x@victim.example", .orig_mid = "q@z", .dkim = "spam-links.example" };
    g_autoptr(bw_report_t) r2 = fake_report(&d2);
    ck_assert_int_eq(bw_origin_of(p, r2->original, NULL), BW_ORIGIN_FOREIGN);
    ck_assert_int_eq(bw_origin_of(p, NULL, NULL), BW_ORIGIN_UNKNOWN);
}
END_TEST

START_TEST(test_own_account_not_in_sent)
{
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "abc@mailhost.example", "taro@example.jp", "Dinner", T0 - 60);
    fake_report_t d = { .recipient = "x@victim.example", .orig_mid = "20251116.4Q@smtp.mailhost.example",
                        .orig_from = OWNER, .orig_subject = "SEO offer", .received = rcv_hijack,
                        .dkim = "mailhost.example", .date = T0 };
    g_autoptr(bw_item_t) it = classify(f, &d);
    ck_assert_int_eq(it->klass, BW_CLASS_BACKSCATTER);
    ck_assert_int_eq(it->origin, BW_ORIGIN_OWN_ACCOUNT);
    ck_assert(evidence_has(it, "someone else's hands"));
    fake_free(f);
}
END_TEST

START_TEST(test_learned_provider)
{
    /* a custom domain hosted elsewhere: the provider is learned from the
     * owner's real mail */
    const char *const own[] = { "me@my-studio.example", NULL };
    g_autoptr(bw_profile_t) p = bw_profile_new(own, NULL);
    ck_assert(!bw_profile_is_provider_host(p, "smtp.bighost.example"));
    g_autoptr(GPtrArray) rcv = g_ptr_array_new();
    g_ptr_array_add(rcv, (gpointer)"from [203.0.113.7] by smtp.bighost.example with ESMTPSA id 1; Sun, 16 Nov 2025 10:00:00 +0000");
    bw_sent_t s = { .message_id = "x@my-studio.example", .from = "me@my-studio.example", .received = rcv,
                    .x_mailer = "Thunderbird/128.4", .date_unix = T0 };
    bw_profile_add_sent(p, &s);
    ck_assert(bw_profile_is_provider_host(p, "smtp.bighost.example"));
    ck_assert(bw_profile_is_provider_host(p, "out.bighost.example"));
    ck_assert(bw_profile_knows_mailer(p, "Thunderbird/140.1"));
    ck_assert(bw_profile_is_owner(p, "ME@my-studio.example"));
    ck_assert_str_eq(bw_profile_primary(p), "me@my-studio.example");
}
END_TEST

/* What the owner's real mail teaches the profile is learnt from every
 * report first (bw_classify_learn), so a verdict does not depend on which
 * report is classified first: here a forged-looking report whose path only
 * the owner's real mail (another report) identifies as the provider's. */
static const char *const rcv_studio_real[] = {
    "from [203.0.113.7] (p1.home.example [203.0.113.7]) by smtp.bighost.example (Postfix) "
    "with ESMTPSA id 4A for <ann@example.org>; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
static const char *const rcv_studio_hijack[] = {
    "from out.bighost.example (out.bighost.example [198.51.100.30]) by mx.victim.example with ESMTPS id "
    "C1 for <x@victim.example>; Sun, 16 Nov 2025 11:00:01 +0000",
    "from User (unknown [45.9.8.7]) (Authenticated sender: me@my-studio.example) by smtp.bighost.example "
    "(Postfix) with ESMTPSA id 4B for <x@victim.example>; Sun, 16 Nov 2025 11:00:00 +0000",
    NULL
};

static bw_item_t *
classify_in_order(bool real_first, bool learn, bw_origin_t *real_origin)
{
    const char *const own[] = { "me@my-studio.example", NULL };
    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "real-1@my-studio.example", "ann@example.org", "Invoice", T0);
    bw_mailbox_ops_t ops = fake_ops(f);
    g_autoptr(bw_profile_t) p = bw_profile_new(own, NULL);
    fake_report_t real = { .recipient = "ann@example.org", .reason = BW_REASON_MAILBOX_FULL,
                           .orig_mid = "real-1@my-studio.example", .orig_from = "me@my-studio.example",
                           .orig_subject = "Invoice", .received = rcv_studio_real, .date = T0 };
    fake_report_t hijack = { .recipient = "x@victim.example", .reason = BW_REASON_USER_UNKNOWN,
                             .orig_mid = "zz1@my-studio.example", .orig_from = "me@my-studio.example",
                             .orig_subject = "Cheap pills", .received = rcv_studio_hijack,
                             .date = T0 + 3600 };
    bw_report_t *r_real = fake_report(&real), *r_hijack = fake_report(&hijack);
    if (learn) {
        ck_assert(bw_classify_learn(p, &ops, r_real));
        ck_assert(!bw_classify_learn(p, &ops, r_hijack));   /* not in Sent */
    }
    bw_item_t *it_real = NULL, *it_hijack = NULL;
    if (real_first)
        ck_assert_int_eq(bw_classify(p, &ops, "r-real@x", NULL, T0, r_real, &it_real), BW_OK);
    ck_assert_int_eq(bw_classify(p, &ops, "r-hijack@x", NULL, T0 + 3600, r_hijack, &it_hijack), BW_OK);
    if (!real_first)
        ck_assert_int_eq(bw_classify(p, &ops, "r-real@x", NULL, T0, r_real, &it_real), BW_OK);
    ck_assert_int_eq(it_real->klass, BW_CLASS_LEGITIMATE);
    *real_origin = it_real->origin;
    bw_item_free(it_real);
    fake_free(f);
    return it_hijack;
}

START_TEST(test_learning_order)
{
    bw_origin_t o1, o2, o3;
    g_autoptr(bw_item_t) a = classify_in_order(true, true, &o1);
    g_autoptr(bw_item_t) b = classify_in_order(false, true, &o2);
    /* the same verdict whichever came first */
    ck_assert_int_eq(a->klass, b->klass);
    ck_assert_int_eq(a->origin, b->origin);
    ck_assert(a->score == b->score);
    ck_assert_int_eq(o1, o2);
    /* and it is what the lesson says: the provider's own submission
     * server, logged in as the owner: the account */
    ck_assert_int_eq(a->origin, BW_ORIGIN_OWN_ACCOUNT);
    /* without the lesson the path is not known to be the provider's */
    g_autoptr(bw_item_t) c = classify_in_order(true, false, &o3);
    ck_assert_int_ne(c->origin, BW_ORIGIN_OWN_ACCOUNT);
}
END_TEST

/* The profile's digest: what an incremental scan compares to keep stored
 * verdicts.  The same content in another order gives the same digest;
 * anything learnt changes it. */
START_TEST(test_profile_digest)
{
    g_autoptr(bw_profile_t) a = bw_profile_new(owners, NULL);
    g_autoptr(bw_profile_t) b = bw_profile_new(owners, NULL);
    bw_profile_add_correspondent(a, "ann@example.org");
    bw_profile_add_correspondent(a, "bob@example.org");
    bw_profile_add_correspondent(b, "bob@example.org");
    bw_profile_add_correspondent(b, "ann@example.org");
    g_autofree char *da = bw_profile_digest(a), *db = bw_profile_digest(b);
    ck_assert_str_eq(da, db);
    ck_assert_uint_eq(strlen(da), 64);
    bw_original_t o = { 0 };
    o.dkim_domain = (char *)"mailhost.example";
    bw_profile_learn_original(b, &o);
    g_autofree char *db2 = bw_profile_digest(b);
    ck_assert_str_ne(da, db2);
    bw_profile_learn_original(b, &o);   /* idempotent */
    g_autofree char *db3 = bw_profile_digest(b);
    ck_assert_str_eq(db2, db3);
    ck_assert_ptr_null(bw_profile_digest(NULL));
}
END_TEST

/* The verdict digest covers what bw_classify reads of the profile and no
 * more (profile.c): two profiles with the same owners, relays and key sets
 * but other counts (one sent message three times over) and other
 * correspondents give every report the same verdict, and the same digest;
 * a key more (a new mailer) changes the digest. */
static void
sample_profile(bw_profile_t *p, guint copies, const char *mailer, const char *dkim)
{
    g_autoptr(GPtrArray) rcv = g_ptr_array_new();
    g_ptr_array_add(rcv, (gpointer)rcv_owner[0]);
    for (guint i = 0; i < copies; i++) {
        g_autofree char *mid = g_strdup_printf("s%u@mailhost.example", i);
        bw_sent_t s = { .message_id = mid, .from = OWNER, .received = rcv, .x_mailer = mailer,
                        .dkim_domain = dkim, .date_unix = T0 - 3600 * (gint64)(i + 1) };
        bw_profile_add_sent(p, &s);
    }
}

START_TEST(test_verdict_digest)
{
    g_autoptr(bw_profile_t) a = bw_profile_new(owners, NULL);
    g_autoptr(bw_profile_t) b = bw_profile_new(owners, NULL);
    sample_profile(a, 1, "Thunderbird/128.4", "mailhost.example");
    sample_profile(b, 3, "Thunderbird/140.1", "mailhost.example");
    bw_profile_add_correspondent(a, "ann@example.org");
    bw_profile_add_correspondent(b, "bob@example.org");
    bw_profile_add_correspondent(b, "carol@example.net");
    g_autofree char *fa = bw_profile_digest(a), *fb = bw_profile_digest(b);
    ck_assert_str_ne(fa, fb);   /* the full digest sees the counts */
    g_autofree char *va = bw_profile_verdict_digest(a), *vb = bw_profile_verdict_digest(b);
    ck_assert_uint_eq(strlen(va), 64);
    ck_assert_str_eq(va, vb);

    fake_mailbox_t *f = fake_new(true);
    fake_sent(f, "abc@mailhost.example", "taro@example.jp", "Dinner", T0 - 60);
    fake_received(f, "hana@example.org", "m1@example.org");
    const char *const *paths[] = { rcv_owner, rcv_hijack, rcv_webmail, rcv_forged_hop, rcv_bot,
                                   rcv_provider_top, rcv_hijack_internal, rcv_helo_forged, NULL };
    const char *const mids[] = { "abc@mailhost.example", "zz9@bulk.example", "q1@mailhost.example", NULL };
    const char *const froms[] = { OWNER, "sales@mailhost.example", "x@other.example", NULL };
    const char *const dkims[] = { NULL, "mailhost.example", "spam.example", NULL };
    const char *const mailers[] = { NULL, "Thunderbird/115.2", "BulkMailer 3" };
    guint foreign_mailer = 0, known_mailer = 0;   /* the mailer check both ways */
    bw_mailbox_ops_t ops = fake_ops(f);
    guint n = 0, classes[3] = { 0 };
    for (guint pi = 0; paths[pi]; pi++)
        for (guint mi = 0; mids[mi]; mi++)
            for (guint fi = 0; froms[fi]; fi++)
                for (guint di = 0; di < 9; di++) {
                    fake_report_t d = { .recipient = fi == 2 ? "hana@example.org" : "nobody@victim.example",
                                        .orig_mid = mids[mi], .orig_from = froms[fi],
                                        .orig_subject = "Cheap pills", .received = paths[pi],
                                        .dkim = dkims[di % 3], .body = "buy now at http://pills.example/",
                                        .date = T0 };
                    bw_item_t *x = NULL, *y = NULL;
                    bw_report_t *rx = fake_report(&d), *ry = fake_report(&d);
                    if (mailers[di / 3]) {
                        rx->original->x_mailer = g_strdup(mailers[di / 3]);
                        ry->original->x_mailer = g_strdup(mailers[di / 3]);
                    }
                    ck_assert_int_eq(bw_classify(a, &ops, "r@x", NULL, T0, rx, &x), BW_OK);
                    ck_assert_int_eq(bw_classify(b, &ops, "r@x", NULL, T0, ry, &y), BW_OK);
                    if (mailers[di / 3] && evidence_has(x, "mail program"))
                        foreign_mailer++;
                    else if (mailers[di / 3] && mi == 1)
                        known_mailer++;
                    ck_assert_int_eq(x->klass, y->klass);
                    ck_assert(x->score == y->score);
                    ck_assert_int_eq(x->origin, y->origin);
                    ck_assert_uint_eq(x->evidence->len, y->evidence->len);
                    for (guint e = 0; e < x->evidence->len; e++)
                        ck_assert_str_eq(g_ptr_array_index(x->evidence, e),
                                         g_ptr_array_index(y->evidence, e));
                    ck_assert(x->fp.origin_network == y->fp.origin_network);
                    ck_assert(x->fp.forged_sender == y->fp.forged_sender);
                    ck_assert(x->fp.msgid_shape == y->fp.msgid_shape);
                    ck_assert(x->fp.mailer == y->fp.mailer);
                    classes[x->klass < 3 ? x->klass : 0]++;
                    n++;
                    bw_item_free(x);
                    bw_item_free(y);
                }
    ck_assert_uint_eq(n, 8 * 3 * 3 * 9);
    ck_assert_uint_gt(foreign_mailer, 0);
    ck_assert_uint_gt(known_mailer, 0);
    fake_free(f);
    /* the reports above reach both verdicts (the comparison is not vacuous) */
    ck_assert_uint_gt(classes[BW_CLASS_BACKSCATTER] + classes[BW_CLASS_UNDETERMINED], 0);
    ck_assert_uint_gt(classes[BW_CLASS_LEGITIMATE], 0);

    /* a key more: another mailer, or a DKIM domain learnt */
    g_autoptr(bw_profile_t) c = bw_profile_new(owners, NULL);
    sample_profile(c, 1, "Outlook 16.0", "mailhost.example");
    g_autofree char *vc = bw_profile_verdict_digest(c);
    ck_assert_str_ne(va, vc);
    bw_original_t o = { 0 };
    o.dkim_domain = (char *)"otherhost.example";
    bw_profile_learn_original(b, &o);
    g_autofree char *vb2 = bw_profile_verdict_digest(b);
    ck_assert_str_ne(va, vb2);
    /* no sample at all against one */
    g_autoptr(bw_profile_t) e = bw_profile_new(owners, NULL);
    g_autofree char *ve = bw_profile_verdict_digest(e);
    ck_assert_str_ne(ve, va);
    ck_assert_ptr_null(bw_profile_verdict_digest(NULL));
}
END_TEST

/* What the scan state keeps instead of the reports' originals: each
 * distinct lesson at its first place.  Learning those gives the profile
 * that learning every original gives, in the same order, also past the
 * caps (64 learnt domains), where the order decides what is learnt. */
START_TEST(test_profile_lessons_first_place)
{
    g_autoptr(bw_profile_t) all = bw_profile_new(owners, NULL);
    g_autoptr(bw_profile_t) first = bw_profile_new(owners, NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GRand *rng = g_rand_new_with_seed(210);
    guint distinct = 0;
    for (guint k = 0; k < 300; k++) {
        /* 120 providers, drawn with repeats: a DKIM domain, a submission
         * host (authenticated hop), often both, sometimes the same */
        bw_original_t o = { 0 };
        g_autofree char *dkim = g_strdup_printf("D%u.Example", g_rand_int_range(rng, 0, 120));
        g_autofree char *rcv = g_strdup_printf(
            "from [45.9.8.7] (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") "
            "by smtp.p%u.example (Postfix) with ESMTPSA id 4Q for <x@victim.example>; "
            "Sun, 16 Nov 2025 10:00:00 +0000", g_rand_int_range(rng, 0, 120));
        g_autoptr(GPtrArray) received = g_ptr_array_new();
        if (g_rand_boolean(rng))
            g_ptr_array_add(received, rcv);
        o.received = received;
        if (g_rand_int_range(rng, 0, 3) > 0)
            o.dkim_domain = dkim;
        bw_profile_learn_original(all, &o);
        g_autoptr(GPtrArray) lessons = g_ptr_array_new_with_free_func(g_free);
        bw_profile_original_lessons(&o, lessons);
        for (guint j = 0; j < lessons->len; j++) {
            const char *l = g_ptr_array_index(lessons, j);
            if (g_hash_table_contains(seen, l))
                continue;
            g_hash_table_add(seen, g_strdup(l));
            bw_profile_learn_lesson(first, l);
            distinct++;
        }
    }
    g_rand_free(rng);
    ck_assert_uint_gt(distinct, 128);   /* well past the caps */
    g_autofree char *da = bw_profile_digest(all), *df = bw_profile_digest(first);
    ck_assert_str_eq(da, df);
    /* the lessons name what is learnt: "s" submission, "d" DKIM */
    bw_original_t o = { 0 };
    o.dkim_domain = (char *)"Mailhost.Example";
    g_autoptr(GPtrArray) lessons = g_ptr_array_new_with_free_func(g_free);
    bw_profile_original_lessons(&o, lessons);
    ck_assert_uint_eq(lessons->len, 1);
    ck_assert_str_eq(g_ptr_array_index(lessons, 0), "dmailhost.example");
}
END_TEST

/* The recipient's server relayed a hijacked account's spam as Exim and
 * qmail write it: the name of the provider's host is the one the receiving
 * server looked up, not a HELO ("from RDNS ([ip])", "from RDNS (HELO x)
 * (ip)"); the authenticated submission below it is the provider's. */
static const char *const rcv_exim_relay[] = {
    "from smtp.mailhost.example ([192.0.2.10]) by mx2.victim.example with esmtp (Exim 4.96) "
    "(envelope-from <" OWNER ">) id 1vX-000Abc-1w for x@victim.example; Sun, 16 Nov 2025 10:00:05 +0000",
    "from [45.9.8.7] (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") "
    "by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q for <x@victim.example>; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
static const char *const rcv_qmail_relay[] = {
    "(qmail 12345 invoked from network); Sun, 16 Nov 2025 10:00:05 +0000",
    "from smtp.mailhost.example (HELO smtp.mailhost.example) (192.0.2.10) "
    "by smtp.victim.example with SMTP; Sun, 16 Nov 2025 10:00:05 +0000",
    "from [45.9.8.7] (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") "
    "by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q for <x@victim.example>; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
/* The same shapes from a bot: Exim's verified name, or qmail's, is the
 * bot's, and the provider hop below it is forged; a bot saying HELO with
 * the provider's name changes nothing. */
static const char *const rcv_exim_bot[] = {
    "from host-91-200-1-2.isp.example ([91.200.1.2] helo=smtp.mailhost.example) by mx2.victim.example "
    "with esmtp (Exim 4.96) id 1vX-000Abc-1w; Sun, 16 Nov 2025 10:00:05 +0000",
    "from [45.9.8.7] (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") "
    "by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
static const char *const rcv_qmail_bot[] = {
    "from unknown (HELO smtp.mailhost.example) (91.200.1.2) "
    "by smtp.victim.example with SMTP; Sun, 16 Nov 2025 10:00:05 +0000",
    "from [45.9.8.7] (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") "
    "by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};
/* Sendmail writes "from HELO ([ip])" without a reverse name: the HELO
 * proves nothing there */
static const char *const rcv_sendmail_helo[] = {
    "from smtp.mailhost.example ([91.200.1.2]) by mail.victim.example (8.17.1/8.17.1) "
    "with ESMTP id 5AGA05xx; Sun, 16 Nov 2025 10:00:05 +0000",
    "from [45.9.8.7] (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") "
    "by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};

/* Exchange Online writes "from HELO (ip)": a bot's HELO, not a lookup */
static const char *const rcv_exchange_bot[] = {
    "from smtp.mailhost.example (91.200.1.2) by AM0PR01MB1234.eurprd01.prod.outlook.com (2603:10a6:208:1::1) "
    "with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) "
    "id 15.20.7000.1; Sun, 16 Nov 2025 10:00:05 +0000",
    "from [45.9.8.7] (unknown [45.9.8.7]) (Authenticated sender: " OWNER ") "
    "by smtp.mailhost.example (Postfix) with ESMTPSA id 4Q; Sun, 16 Nov 2025 10:00:00 +0000",
    NULL
};

START_TEST(test_origin_relay_forms)
{
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    struct { const char *const *rcv; bw_origin_t want; } cases[] = {
        { rcv_exim_relay, BW_ORIGIN_OWN_ACCOUNT },
        { rcv_qmail_relay, BW_ORIGIN_OWN_ACCOUNT },
        { rcv_exim_bot, BW_ORIGIN_FOREIGN },
        { rcv_qmail_bot, BW_ORIGIN_FOREIGN },
        { rcv_sendmail_helo, BW_ORIGIN_FOREIGN },
        { rcv_exchange_bot, BW_ORIGIN_FOREIGN },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        fake_report_t d = { .recipient = "x@victim.example", .orig_mid = "q@z", .received = cases[i].rcv };
        g_autoptr(bw_report_t) r = fake_report(&d);
        ck_assert_msg(bw_origin_of(p, r->original, NULL) == cases[i].want, "case %zu", i);
    }
    bw_hop_t h;
    ck_assert(bw_hop_parse(rcv_qmail_relay[1], &h));
    ck_assert_str_eq(h.from_rdns, "smtp.mailhost.example");
    ck_assert_str_eq(h.from_ip, "192.0.2.10");
    ck_assert(bw_hop_parse(rcv_qmail_bot[0], &h));
    ck_assert_str_eq(h.from_rdns, "");
    ck_assert_str_eq(h.from_ip, "91.200.1.2");
    ck_assert(bw_hop_parse(rcv_exim_bot[0], &h));
    ck_assert_str_eq(h.from_rdns, "host-91-200-1-2.isp.example");
    ck_assert_str_eq(h.from_ip, "91.200.1.2");
    ck_assert(bw_hop_parse(rcv_sendmail_helo[0], &h));
    ck_assert_str_eq(h.from_rdns, "");
    ck_assert_str_eq(h.from_ip, "91.200.1.2");
}
END_TEST

START_TEST(test_hop_parse)
{
    bw_hop_t h;
    ck_assert(bw_hop_parse(rcv_hijack[1], &h));
    ck_assert_str_eq(h.by, "smtp.mailhost.example");
    ck_assert_str_eq(h.from_helo, "user");
    ck_assert_str_eq(h.from_ip, "45.9.8.7");
    ck_assert(h.authenticated);
    ck_assert(bw_hop_parse(rcv_webmail[2], &h));
    ck_assert(h.http);
    ck_assert_str_eq(h.from_ip, "45.9.8.7");
    ck_assert(bw_hop_parse(rcv_bot[0], &h));
    ck_assert_str_eq(h.from_rdns, "host-91-200-1-2.isp.example");
    ck_assert(!h.authenticated);
    ck_assert(!bw_hop_parse("garbage without the keyword", &h));
    /* hostile: a huge value is cut, not overrun */
    g_autofree char *big = g_strnfill(100000, 'a');
    ck_assert(!bw_hop_parse(big, &h));
}
END_TEST

START_TEST(test_ops_null)
{
    /* no callbacks at all: the engine still answers, carefully */
    g_autoptr(bw_profile_t) p = bw_profile_new(owners, NULL);
    fake_report_t d = { .recipient = "x@victim.example", .date = T0 };
    bw_item_t *it = NULL;
    ck_assert_int_eq(bw_classify(p, NULL, "r@x", NULL, T0, fake_report(&d), &it), BW_OK);
    ck_assert_int_eq(it->klass, BW_CLASS_UNDETERMINED);
    bw_item_free(it);
    ck_assert_int_eq(bw_classify(p, NULL, "r@x", NULL, T0, NULL, &it), BW_E_INVALID);
}
END_TEST

Suite *
suite_classify(void)
{
    Suite *s = suite_create("classify");
    TCase *tc = tcase_create("verdict");
    tcase_add_test(tc, test_sent_message_id_is_legitimate);
    tcase_add_test(tc, test_unknown_message_id_is_backscatter);
    tcase_add_test(tc, test_autoreply_in_reply_to_sent);
    tcase_add_test(tc, test_vacation_without_message_id_not_backscatter);
    tcase_add_test(tc, test_recipient_only_reports);
    tcase_add_test(tc, test_no_sent_copies);
    tcase_add_test(tc, test_no_sent_unknown_provider);
    tcase_add_test(tc, test_no_sent_correspondence);
    tcase_add_test(tc, test_forwarded_mail);
    tcase_add_test(tc, test_own_account_not_in_sent);
    tcase_add_test(tc, test_ops_null);
    suite_add_tcase(s, tc);
    TCase *to = tcase_create("origin");
    tcase_add_test(to, test_origin_paths);
    tcase_add_test(to, test_learned_provider);
    tcase_add_test(to, test_learning_order);
    tcase_add_test(to, test_profile_digest);
    tcase_add_test(to, test_verdict_digest);
    tcase_add_test(to, test_profile_lessons_first_place);
    tcase_add_test(to, test_hop_parse);
    tcase_add_test(to, test_origin_relay_forms);
    suite_add_tcase(s, to);
    return s;
}
