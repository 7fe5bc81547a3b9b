/* check_signals.c: the signals core (bw-signals.h) on fixtures written for
 * these tests (tests/corpus/signals/, made by
 * tests/fixtures/make-signal-fixtures.py) and on messages built here:
 * notices in several styles and languages, each kind of imitation, the
 * providers' ordinary mail, runs in Sent among the owner's real mail, a
 * newsletter, replies with and without a link, a mailbox without Sent
 * copies, the assessment rule, JSON round trips and hostile input. */
#include "suites.h"
#include "bw-signals.h"
#include "bw-reader.h"
#include <string.h>

#define MH "jonas.weber@mailhost.example"
#define KM "mika.tanaka@kumomail.example.jp"
#define GM "taro.yamada@gmail.com"
#define MS "t.yamada@outlook.com"

static bw_account_t *
account_for(const char *owner)
{
    const char *owners[] = { owner, NULL };
    return bw_account_new(owners, NULL);
}

static bw_mailfacts_t *
read_fixture(const char *name)
{
    g_autofree char *rel = g_strdup_printf("corpus/signals/%s", name);
    size_t len = 0;
    g_autofree char *data = bw_test_read(rel, &len);
    bw_mailfacts_t *m = NULL;
    g_autofree char *detail = NULL;
    ck_assert_msg(bw_mailfacts_read(data, len, &m, &detail) == BW_OK, "%s: %s", name, detail ? detail : "?");
    return m;
}

/* ------------------------------------------------------------ notices */

typedef struct {
    const char *file;
    const char *owner;
    bw_notice_class_t klass;
    bw_signal_kind_t kind;      /* signal kind, or what phishing imitates (NONE: not checked) */
    const char *fact;           /* address / place / ip expected in the signal, or a tell */
    int two_factor;             /* -2: not checked */
} notice_case_t;

static const notice_case_t notice_cases[] = {
    {"notice-en-signin-plain.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_SIGN_IN_ALERT, "198.51.100.23", -2},
    {"notice-en-password-generic-subject.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_PASSWORD_CHANGED, NULL, -2},
    {"notice-en-forwarding-html-qp.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_FORWARDING_ADDED,
     "archiv.jw@keepmail.example.net", -2},
    {"notice-en-2fa-off-base64.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_TWO_FACTOR_CHANGED, NULL, 0},
    {"notice-en-2fa-on.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_TWO_FACTOR_CHANGED, NULL, 1},
    {"notice-en-sending-limited.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_SENDING_BLOCKED, NULL, -2},
    {"notice-en-recovery.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_RECOVERY_CHANGED,
     "j.weber.backup@inboxvault.example", -2},
    {"notice-en-signin-lower-headers.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_SIGN_IN_ALERT, "Berlin, Germany", -2},
    {"notice-ja-password-iso2022jp.eml", KM, BW_NOTICE_SIGNAL, BW_SIGNAL_PASSWORD_CHANGED, NULL, -2},
    {"notice-ja-signin-sjis-base64.eml", KM, BW_NOTICE_SIGNAL, BW_SIGNAL_SIGN_IN_ALERT, "203.0.113.88", -2},
    {"notice-ja-forwarding-html.eml", KM, BW_NOTICE_SIGNAL, BW_SIGNAL_FORWARDING_ADDED, "mt-archive@fwdbox.example", -2},
    {"notice-ja-2fa-off.eml", KM, BW_NOTICE_SIGNAL, BW_SIGNAL_TWO_FACTOR_CHANGED, NULL, 0},
    {"notice-ja-sending-blocked.eml", KM, BW_NOTICE_SIGNAL, BW_SIGNAL_SENDING_BLOCKED, NULL, -2},
    {"notice-de-signin.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_SIGN_IN_ALERT, "Lagos, Nigeria", -2},
    {"notice-de-forwarding.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_FORWARDING_ADDED, "jw-kopie@fwdbox.example", -2},
    {"notice-fr-recovery.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_RECOVERY_CHANGED, "recup.jw@inboxvault.example", -2},
    {"notice-es-2fa-off.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_TWO_FACTOR_CHANGED, NULL, 0},
    {"notice-pt-password.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_PASSWORD_CHANGED, NULL, -2},
    {"notice-it-sending.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_SENDING_BLOCKED, NULL, -2},
    {"notice-google-signin-html.eml", GM, BW_NOTICE_SIGNAL, BW_SIGNAL_SIGN_IN_ALERT, NULL, -2},
    {"notice-microsoft-signin.eml", MS, BW_NOTICE_SIGNAL, BW_SIGNAL_SIGN_IN_ALERT, "102.89.40.12", -2},
    {"dsn-sending-blocked-compromised.eml", MH, BW_NOTICE_SIGNAL, BW_SIGNAL_SENDING_BLOCKED, NULL, -2},
    /* imitations */
    {"phish-lookalike.eml", MH, BW_NOTICE_PHISHING, BW_SIGNAL_SIGN_IN_ALERT, "lookalike", -2},
    {"phish-typosquat.eml", MH, BW_NOTICE_PHISHING, BW_SIGNAL_PASSWORD_CHANGED, "lookalike", -2},
    {"phish-forged-exact.eml", MH, BW_NOTICE_PHISHING, BW_SIGNAL_SENDING_BLOCKED, "forged", -2},
    {"phish-forged-ar-below.eml", MH, BW_NOTICE_PHISHING, BW_SIGNAL_RECOVERY_CHANGED, "forged", -2},
    {"phish-display.eml", MH, BW_NOTICE_PHISHING, BW_SIGNAL_SIGN_IN_ALERT, "display", -2},
    {"phish-ja-lookalike.eml", KM, BW_NOTICE_PHISHING, BW_SIGNAL_NONE, "lookalike", -2},
    {"phish-gmail-account-display.eml", GM, BW_NOTICE_PHISHING, BW_SIGNAL_PASSWORD_CHANGED, "display", -2},
    /* the provider's ordinary mail, a friend, an ordinary bounce */
    {"ordinary-provider-newsletter.eml", MH, BW_NOTICE_ORDINARY, BW_SIGNAL_NONE, NULL, -2},
    {"ordinary-provider-invoice.eml", MH, BW_NOTICE_ORDINARY, BW_SIGNAL_NONE, NULL, -2},
    {"ordinary-provider-quota-ja.eml", KM, BW_NOTICE_ORDINARY, BW_SIGNAL_NONE, NULL, -2},
    {"ordinary-friend-same-provider.eml", MH, BW_NOTICE_ORDINARY, BW_SIGNAL_NONE, NULL, -2},
    {"dsn-ordinary-bounce.eml", MH, BW_NOTICE_ORDINARY, BW_SIGNAL_NONE, NULL, -2},
    {"reply-asks-run-member.eml", MH, BW_NOTICE_ORDINARY, BW_SIGNAL_NONE, NULL, -2},
};

static bool
signal_has_fact(const bw_signal_t *s, const char *fact)
{
    const char *f[] = { s->address, s->place, s->ip, s->device };
    for (unsigned i = 0; i < G_N_ELEMENTS(f); i++)
        if (f[i] && strcmp(f[i], fact) == 0)
            return true;
    return false;
}

START_TEST(test_notice_cases)
{
    const notice_case_t *c = &notice_cases[_i];
    g_autoptr(bw_mailfacts_t) m = read_fixture(c->file);
    g_autoptr(bw_account_t) a = account_for(c->owner);
    g_autoptr(bw_signal_t) s = NULL;
    g_autoptr(bw_phish_t) p = NULL;
    bw_notice_class_t got = bw_notice_judge(m, a, c->file, &s, &p);
    ck_assert_msg(got == c->klass, "%s: class %d, want %d (topic %s, score %d)", c->file, got, c->klass,
                  bw_signal_kind_to_string(m->topic) ? bw_signal_kind_to_string(m->topic) : "none", m->topic_score);
    if (c->klass == BW_NOTICE_SIGNAL) {
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(s->kind == c->kind, "%s: kind %s", c->file, bw_signal_kind_to_string(s->kind));
        ck_assert_msg(c->fact == NULL || signal_has_fact(s, c->fact), "%s: no fact %s (address %s, place %s, ip %s)",
                      c->file, c->fact, s->address ? s->address : "-", s->place ? s->place : "-", s->ip ? s->ip : "-");
        if (c->two_factor != -2)
            ck_assert_int_eq(s->two_factor, c->two_factor);
        ck_assert_ptr_nonnull(s->summary);
        ck_assert_uint_ge(s->evidence->len, 3);
        ck_assert_str_eq(s->file, c->file);
        ck_assert_ptr_null(p);
    } else if (c->klass == BW_NOTICE_PHISHING) {
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_null(s);
        ck_assert_msg(strcmp(p->tell, c->fact) == 0, "%s: tell %s", c->file, p->tell);
        if (c->kind != BW_SIGNAL_NONE)
            ck_assert_msg(p->imitates == c->kind, "%s: imitates %s", c->file, bw_signal_kind_to_string(p->imitates));
        ck_assert_uint_ge(p->evidence->len, 1);
    } else {
        ck_assert_ptr_null(s);
        ck_assert_ptr_null(p);
    }
}
END_TEST

/* The same notice judged for another owner: not their provider, no signal
 * (and no phishing either: it claims nothing of theirs). */
START_TEST(test_notice_other_owner)
{
    g_autoptr(bw_mailfacts_t) m = read_fixture("notice-en-signin-plain.eml");
    g_autoptr(bw_account_t) a = account_for("someone@elsewhere.example.org");
    ck_assert_int_eq(bw_notice_judge(m, a, NULL, NULL, NULL), BW_NOTICE_ORDINARY);
    /* a custom domain hosted at the provider: the learned provider domain
     * makes the same notice a signal */
    const char *owners[] = { "jonas@weber-design.example", NULL };
    const char *prov[] = { "mailhost.example", NULL };
    g_autoptr(bw_account_t) custom = bw_account_new(owners, prov);
    g_autoptr(bw_signal_t) s = NULL;
    ck_assert_int_eq(bw_notice_judge(m, custom, NULL, &s, NULL), BW_NOTICE_SIGNAL);
    ck_assert_int_eq(s->kind, BW_SIGNAL_SIGN_IN_ALERT);
}
END_TEST

/* Google's family: a gmail.com owner hears from accounts.google.com. */
START_TEST(test_provider_family)
{
    g_autoptr(bw_account_t) a = account_for(GM);
    ck_assert(bw_account_is_provider_domain(a, "accounts.google.com"));
    ck_assert(bw_account_is_provider_domain(a, "mail-sor-f69.google.com."));
    ck_assert(!bw_account_is_provider_domain(a, "google.com.evil.example"));
    ck_assert(!bw_account_is_provider_domain(a, "notgoogle.com"));
    g_autofree char *k1 = bw_account_key(a);
    g_autoptr(bw_account_t) b = account_for(MH);
    g_autofree char *k2 = bw_account_key(b);
    ck_assert_str_ne(k1, k2);
}
END_TEST

/* ------------------------------------------------------------ built messages */

static char *
notice_text(const char *hops_and_auth, const char *from, const char *subject, const char *body)
{
    return g_strdup_printf("%sFrom: %s\nTo: " MH "\nSubject: %s\nDate: Thu, 19 Nov 2026 19:14:10 +0100\n"
                           "Message-ID: <built@notify.mailhost.example>\nMIME-Version: 1.0\n"
                           "Content-Type: text/plain; charset=utf-8\n\n%s",
                           hops_and_auth, from, subject, body);
}

static bw_notice_class_t
judge_text(const char *text, bw_signal_t **s, bw_phish_t **p)
{
    g_autoptr(bw_mailfacts_t) m = NULL;
    ck_assert_int_eq(bw_mailfacts_read(text, strlen(text), &m, NULL), BW_OK);
    g_autoptr(bw_account_t) a = account_for(MH);
    return bw_notice_judge(m, a, "built.eml", s, p);
}

#define GOOD_HOP "Received: from notify2.mailhost.example (notify2.mailhost.example [10.20.1.7])\n" \
                 "\tby mx1.mailhost.example (Postfix) with ESMTPS id A1\n\tfor <" MH ">; Thu, 19 Nov 2026 19:14:12 +0100\n"
#define GOOD_AR "Authentication-Results: mx1.mailhost.example; dkim=pass header.d=mailhost.example; " \
                "spf=pass smtp.mailfrom=mailhost.example\n"
#define SIGNIN_BODY "We noticed a new sign-in to your account.\n\nDevice: Linux, Firefox\nLocation: Kyiv, Ukraine\n"

/* The topmost Authentication-Results of the provider decides; one added
 * lower down (by the sender) is not read; a provider whose authserv-id is
 * not its host's is not trusted at all. */
START_TEST(test_auth_position)
{
    const char *from = "Mailhost <no-reply@accounts.mailhost.example>";
    /* genuine, a failing result below */
    g_autofree char *t1 = notice_text(GOOD_HOP GOOD_AR "Authentication-Results: mx1.mailhost.example; dkim=fail; "
                                      "spf=fail smtp.mailfrom=mailhost.example; dmarc=fail\n", from, "New sign-in",
                                      SIGNIN_BODY);
    ck_assert_int_eq(judge_text(t1, NULL, NULL), BW_NOTICE_SIGNAL);
    /* the provider recorded a DMARC failure on top: forged */
    g_autofree char *t2 = notice_text(GOOD_HOP "Authentication-Results: mx1.mailhost.example; dmarc=fail "
                                      "header.from=mailhost.example\n" GOOD_AR, from, "New sign-in", SIGNIN_BODY);
    g_autoptr(bw_phish_t) p2 = NULL;
    ck_assert_int_eq(judge_text(t2, NULL, &p2), BW_NOTICE_PHISHING);
    ck_assert_str_eq(p2->tell, "forged");
    /* no result of the provider at all, delivered inside it: a signal by
     * the path alone */
    g_autofree char *t3 = notice_text(GOOD_HOP, from, "New sign-in", SIGNIN_BODY);
    g_autoptr(bw_signal_t) s3 = NULL;
    ck_assert_int_eq(judge_text(t3, &s3, NULL), BW_NOTICE_SIGNAL);
    /* delivered from outside, a "pass" of the provider written below the
     * entry hop: forged */
    g_autofree char *t4 = notice_text("Received: from vps9.hostcloud.example (vps9.hostcloud.example [192.0.2.9])\n"
                                      "\tby mx1.mailhost.example (Postfix) with ESMTP id A2; Thu, 19 Nov 2026 19:14:12 +0100\n"
                                      GOOD_AR GOOD_HOP, from, "New sign-in", SIGNIN_BODY);
    g_autoptr(bw_phish_t) p4 = NULL;
    ck_assert_int_eq(judge_text(t4, NULL, &p4), BW_NOTICE_PHISHING);
    ck_assert_str_eq(p4->tell, "forged");
    /* a HELO name of the provider from a public address proves nothing */
    g_autofree char *t5 = notice_text("Received: from notify2.mailhost.example ([192.0.2.10])\n"
                                      "\tby mx1.mailhost.example with esmtps (Exim 4.97)\n\tid 1x; Thu, 19 Nov 2026 19:14:12 +0100\n",
                                      from, "New sign-in", SIGNIN_BODY);
    ck_assert_int_eq(judge_text(t5, NULL, NULL), BW_NOTICE_SIGNAL);   /* Exim: the name is its lookup */
    g_autofree char *t6 = notice_text("Received: from notify2.mailhost.example (192.0.2.10) by mx1.mailhost.example "
                                      "(10.1.1.1) with Microsoft SMTP Server id 15.20.1; Thu, 19 Nov 2026 19:14:12 +0100\n",
                                      from, "New sign-in", SIGNIN_BODY);
    ck_assert_int_eq(judge_text(t6, NULL, NULL), BW_NOTICE_PHISHING);
    g_autofree char *t7 = notice_text("Received: from notify2.mailhost.example (192.0.2.10) by mx1.mailhost.example "
                                      "(10.1.1.1) with Microsoft SMTP Server id 15.20.1; Thu, 19 Nov 2026 19:14:12 +0100\n"
                                      GOOD_AR, from, "New sign-in", SIGNIN_BODY);
    ck_assert_int_eq(judge_text(t7, NULL, NULL), BW_NOTICE_SIGNAL);   /* ... unless DKIM of the provider passed */
}
END_TEST

/* A fellow user of the provider is no notice, even in a role-like costume;
 * a real role address is. */
START_TEST(test_machine_sender)
{
    g_autofree char *t1 = notice_text(GOOD_HOP GOOD_AR, "Mailhost Security <mailhost.security.alerts@mailhost.example>",
                                      "New sign-in", SIGNIN_BODY);
    g_autoptr(bw_phish_t) p = NULL;
    ck_assert_int_eq(judge_text(t1, NULL, &p), BW_NOTICE_PHISHING);
    ck_assert_str_eq(p->tell, "display");
    g_autofree char *t2 = notice_text(GOOD_HOP GOOD_AR, "Anna <anna.koch@mailhost.example>", "New sign-in", SIGNIN_BODY);
    ck_assert_int_eq(judge_text(t2, NULL, NULL), BW_NOTICE_ORDINARY);
    g_autofree char *t3 = notice_text(GOOD_HOP GOOD_AR, "Mailhost <security-noreply@mailhost.example>", "New sign-in",
                                      SIGNIN_BODY);
    ck_assert_int_eq(judge_text(t3, NULL, NULL), BW_NOTICE_SIGNAL);
}
END_TEST

/* What a notice is about, by meaning: advice clauses do not count, the
 * polarity of 2-step verification comes from what happened. */
START_TEST(test_topic_reading)
{
    const char *from = "Mailhost <no-reply@accounts.mailhost.example>";
    struct {
        const char *subject, *body;
        bw_signal_kind_t kind;
        int tfa;
    } cases[] = {
        {"Security alert", "Someone just signed in to your account from a new device.\n\nIf this was you, ignore this. "
         "If not, change your password and check your forwarding settings.\n", BW_SIGNAL_SIGN_IN_ALERT, -1},
        {"Account update", "Two-step verification was turned off for your account.\n\nIf you didn't do this, turn it "
         "back on now.\n", BW_SIGNAL_TWO_FACTOR_CHANGED, 0},
        {"Account update", "Two-step verification is now on for your account.\n", BW_SIGNAL_TWO_FACTOR_CHANGED, 1},
        {"Your mailbox is almost full", "Your mailbox uses 95% of its storage. If you need more space, upgrade "
         "your plan or sign in to delete old mail.\n", BW_SIGNAL_NONE, -1},
        {"Tips for a safer account", "Did you know? You can turn on 2-step verification and add a recovery phone "
         "in Settings.\n", BW_SIGNAL_NONE, -1},
        {"Wichtiger Sicherheitshinweis", "Ihr Passwort wurde geändert.\n\nFalls Sie das nicht waren, ändern Sie es "
         "bitte sofort.\n", BW_SIGNAL_PASSWORD_CHANGED, -1},
        /* "sign-in" names no sign-in in "sign-in settings" */
        {"Your sign-in settings were updated", "Two-factor authentication has been enabled for your account.\n",
         BW_SIGNAL_TWO_FACTOR_CHANGED, 1},
        {"Se actualizó tu correo de recuperación", "El correo de recuperación de tu cuenta ahora es "
         "otra@inboxvault.example.\n", BW_SIGNAL_RECOVERY_CHANGED, -1},
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *t = notice_text(GOOD_HOP GOOD_AR, from, cases[i].subject, cases[i].body);
        g_autoptr(bw_signal_t) s = NULL;
        bw_notice_class_t c = judge_text(t, &s, NULL);
        if (cases[i].kind == BW_SIGNAL_NONE) {
            ck_assert_msg(c == BW_NOTICE_ORDINARY, "case %u: %d", i, c);
            continue;
        }
        ck_assert_msg(c == BW_NOTICE_SIGNAL, "case %u: %d", i, c);
        ck_assert_msg(s->kind == cases[i].kind, "case %u: %s", i, bw_signal_kind_to_string(s->kind));
        ck_assert_int_eq(s->two_factor, cases[i].tfa);
    }
}
END_TEST

/* A third party whose name holds the provider's is no imitation unless it
 * imitates a notice: a fan newsletter with "click here" is ordinary mail. */
START_TEST(test_brand_newsletter)
{
    g_autofree char *t = notice_text("Received: from out.mailhost-fans.example.org (out.mailhost-fans.example.org "
                                     "[192.0.2.33])\n\tby mx1.mailhost.example (Postfix) with ESMTP id B1; "
                                     "Thu, 19 Nov 2026 19:14:12 +0100\n",
                                     "Mailhost Fans Weekly <news@mailhost-fans.example.org>", "This week's issue",
                                     "Click here to read the new issue. Don't miss it, act immediately!\n");
    ck_assert_int_eq(judge_text(t, NULL, NULL), BW_NOTICE_ORDINARY);
}
END_TEST

/* The provider's delivery report passes on what a remote server said:
 * that is no refusal of the owner's account. */
START_TEST(test_provider_dsn_remote)
{
    const char *text = GOOD_HOP GOOD_AR
        "From: Mail Delivery System <MAILER-DAEMON@mailhost.example>\nTo: " MH "\n"
        "Subject: Delayed Mail (still being retried)\nAuto-Submitted: auto-replied\n"
        "Message-ID: <dsn-remote@mailhost.example>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\n\n--R\n"
        "Content-Type: text/plain\n\n<lena@example.org>: host mx.example.org said: 451 4.7.1 Sending rate "
        "limited, outgoing messages from your server are temporarily blocked. Try again later.\n\n--R\n"
        "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; lena@example.org\nAction: delayed\n"
        "Status: 4.7.1\nDiagnostic-Code: smtp; 451 4.7.1 Sending rate limited, outgoing messages temporarily "
        "blocked\n\n--R--\n";
    ck_assert_int_eq(judge_text(text, NULL, NULL), BW_NOTICE_ORDINARY);
}
END_TEST

/* ------------------------------------------------------------ replies */

typedef struct {
    bool has_sent;
    GHashTable *ids;     /* message ids in the mailbox */
    GHashTable *sent;    /* ids of the owner's sent mail */
    GHashTable *from;    /* senders -> count */
} box_t;

static bool box_has_sent(void *c) { return ((box_t *)c)->has_sent; }
static bool box_has_id(void *c, const char *id) { return g_hash_table_contains(((box_t *)c)->ids, id); }
static bool
box_sent_has(void *c, const char *id, gint64 *d)
{
    (void)d;
    return g_hash_table_contains(((box_t *)c)->sent, id);
}
static unsigned
box_from(void *c, const char *a)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(((box_t *)c)->from, a));
}

static void
box_init(box_t *b, bw_mailbox_ops_t *ops, bool has_sent)
{
    b->has_sent = has_sent;
    b->ids = g_hash_table_new(g_str_hash, g_str_equal);
    b->sent = g_hash_table_new(g_str_hash, g_str_equal);
    b->from = g_hash_table_new(g_str_hash, g_str_equal);
    memset(ops, 0, sizeof *ops);
    ops->has_sent_mail = box_has_sent;
    ops->has_message_id = box_has_id;
    ops->sent_has_message_id = box_sent_has;
    ops->received_from_count = box_from;
    ops->ctx = b;
}

static void
box_clear(box_t *b)
{
    g_hash_table_unref(b->ids);
    g_hash_table_unref(b->sent);
    g_hash_table_unref(b->from);
}

static bw_signal_t *
run_of(const char *const *members)
{
    bw_signal_t *s = g_new0(bw_signal_t, 1);
    s->kind = BW_SIGNAL_SENT_ANOMALY;
    s->two_factor = -1;
    s->evidence = g_ptr_array_new_with_free_func(g_free);
    s->members = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; members[i]; i++)
        g_ptr_array_add(s->members, g_strdup(members[i]));
    s->count = s->members->len;
    s->start = 1795600000;
    s->end = s->start + 3600;
    return s;
}

static bool
reply_verdict(const char *file, box_t *b, bw_mailbox_ops_t *ops, GPtrArray *runs)
{
    g_autoptr(bw_mailfacts_t) m = read_fixture(file);
    g_autoptr(bw_account_t) a = account_for(MH);
    bw_reply_context_t ctx = { runs, ops };
    g_autoptr(bw_signal_t) s = NULL;
    (void)b;
    bool r = bw_reply_judge(m, a, &ctx, file, &s);
    if (r) {
        ck_assert_int_eq(s->kind, BW_SIGNAL_HUMAN_REPLY);
        ck_assert_ptr_nonnull(s->replies_to);
        ck_assert_ptr_nonnull(s->from);
    }
    return r;
}

START_TEST(test_replies)
{
    box_t b;
    bw_mailbox_ops_t ops;
    box_init(&b, &ops, true);
    const char *members[] = { "a1b2c3d4e5f60718293a4b5c6d7e8f90@mailhost.example",
                              "a1b2c3d4e5f60718293a4b5c6d7e8f91@mailhost.example", NULL };
    g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    g_ptr_array_add(runs, run_of(members));
    g_hash_table_add(b.ids, (gpointer)members[0]);
    g_hash_table_add(b.ids, (gpointer)members[1]);
    g_hash_table_add(b.sent, (gpointer)"owner-real-1@mailhost.example");
    g_hash_table_add(b.ids, (gpointer)"owner-real-1@mailhost.example");

    /* a link to the run: a signal, whatever the words */
    ck_assert(reply_verdict("reply-asks-run-member.eml", &b, &ops, runs));
    ck_assert(reply_verdict("reply-plain-run-member.eml", &b, &ops, runs));
    /* a machine answering a member is no person */
    ck_assert(!reply_verdict("reply-autoreply-run-member.eml", &b, &ops, runs));
    /* the answered message is nowhere although Sent copies are kept, and
     * the person asks: a signal; without the words it is not */
    ck_assert(reply_verdict("reply-asks-absent.eml", &b, &ops, runs));
    ck_assert(reply_verdict("reply-ja-asks-absent.eml", &b, &ops, runs));
    ck_assert(!reply_verdict("reply-ordinary-absent.eml", &b, &ops, runs));
    /* the words alone, about a message the owner really sent: no link */
    ck_assert(!reply_verdict("reply-asks-sent.eml", &b, &ops, runs));
    /* no anomaly known: the run's replies have no link */
    ck_assert(!reply_verdict("reply-plain-run-member.eml", &b, &ops, NULL));
    box_clear(&b);
}
END_TEST

/* A mailbox without Sent copies: every reply points at a message that is
 * not there, and none of them is a signal, whatever it says. */
START_TEST(test_replies_without_sent)
{
    box_t b;
    bw_mailbox_ops_t ops;
    box_init(&b, &ops, false);
    ck_assert(!reply_verdict("reply-asks-absent.eml", &b, &ops, NULL));
    ck_assert(!reply_verdict("reply-ja-asks-absent.eml", &b, &ops, NULL));
    ck_assert(!reply_verdict("reply-ordinary-absent.eml", &b, &ops, NULL));
    /* and without any mailbox answers at all */
    g_autoptr(bw_mailfacts_t) m = read_fixture("reply-asks-absent.eml");
    g_autoptr(bw_account_t) a = account_for(MH);
    ck_assert(!bw_reply_judge(m, a, NULL, NULL, NULL));
    box_clear(&b);
}
END_TEST

/* ------------------------------------------------------------ the Sent folder */

#define DAY 86400
#define T0 1790000000   /* 2026-09-21 */

typedef struct {
    GPtrArray *sent;         /* bw_sent_summary_t* */
    GRand *rand;
    unsigned n;
} history_t;

static void
add_sent(history_t *h, const char *mid, gint64 t, int tz_hours, const char *ua, const char *to, const char *bcc,
         const char *subject, bool reply, const char *ctype, const char *lang)
{
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
    g_autoptr(GTimeZone) tz = g_time_zone_new_offset(tz_hours * 3600);
    g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, tz);
    g_autofree char *date = g_date_time_format(local, "%a, %d %b %Y %H:%M:%S %z");
    g_autofree char *text = g_strdup_printf(
        "Message-ID: <%s>\nDate: %s\nFrom: Jonas Weber <" MH ">\n%s%s\nTo: %s\n%s%s%sSubject: %s\n"
        "MIME-Version: 1.0\nContent-Type: %s\n%s%s%s%s\nhello\n",
        mid, date, ua ? "User-Agent: " : "", ua ? ua : "", to, bcc ? "Bcc: " : "", bcc ? bcc : "", bcc ? "\n" : "",
        subject, ctype, reply ? "In-Reply-To: <earlier@example.org>\n" : "", lang ? "Content-Language: " : "",
        lang ? lang : "", lang ? "\n" : "");
    bw_sent_summary_t *s = NULL;
    ck_assert_int_eq(bw_sent_summary_read(text, strlen(text), &s, NULL), BW_OK);
    g_ptr_array_add(h->sent, s);
    h->n++;
}

/* Ninety days of the owner's own mail: Thunderbird (one message in ten
 * from the provider's webmail), Berlin time, waking hours, mostly to the
 * same 20 people, a few new ones. */
static void
owner_history(history_t *h)
{
    h->sent = g_ptr_array_new_with_free_func((GDestroyNotify)bw_sent_summary_free);
    h->rand = g_rand_new_with_seed(42);
    for (unsigned d = 0; d < 90; d++) {
        unsigned per_day = (unsigned)g_rand_int_range(h->rand, 0, 4);
        for (unsigned k = 0; k < per_day; k++) {
            gint64 t = T0 + (gint64)d * DAY + g_rand_int_range(h->rand, 7 * 3600, 21 * 3600);  /* 08-22 Berlin */
            bool web = g_rand_int_range(h->rand, 0, 10) == 0;
            g_autofree char *mid = web ? g_strdup_printf("%08x%08x%08x%08x@mailhost.example", g_rand_int(h->rand),
                                                         g_rand_int(h->rand), g_rand_int(h->rand), d * 10 + k)
                                       : g_strdup_printf("%08x-%04x-%04x-%04x-%08x%04x@mailhost.example",
                                                         g_rand_int(h->rand), d, k, 0x4a1b, g_rand_int(h->rand), 7);
            unsigned who = (unsigned)g_rand_int_range(h->rand, 0, 25);
            g_autofree char *to = who < 20 ? g_strdup_printf("Friend %u <friend%u@example.org>", who, who)
                                           : g_strdup_printf("New %u <new%u.%u@example.net>", who, d, k);
            add_sent(h, mid, t, 1, web ? "Roundcube Webmail/1.6.9" : "Mozilla Thunderbird", to, NULL,
                     g_rand_int_range(h->rand, 0, 2) ? "Re: plans" : "Meeting notes", g_rand_int_range(h->rand, 0, 2),
                     "text/plain; charset=UTF-8; format=flowed", "de-DE");
        }
    }
}

static void
history_free(history_t *h)
{
    g_ptr_array_unref(h->sent);
    g_rand_free(h->rand);
}

/* The hijacker's run: n messages in 90 minutes through the webmail, at
 * night, in other time zones, HTML, Bcc lists of strangers. */
static void
hijack_run(history_t *h, gint64 start, unsigned n, const char *ua)
{
    static const int tzs[] = { 0, -5, 3, 8, -3 };
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *mid = g_strdup_printf("run%04u%024u@mailhost.example", i, i);
        bool bcc = i % 3 == 0;
        g_autofree char *list = g_strdup_printf("s%u.a@stranger.example, s%u.b@stranger.example, s%u.c@other.example, "
                                                "friend%u@example.org", i, i, i, i % 20);
        g_autofree char *to = bcc ? g_strdup("undisclosed-recipients:;") : g_strdup_printf("Victim <v%u@stranger.example>", i);
        add_sent(h, mid, start + i * (5400 / n), tzs[i % 5], ua, to, bcc ? list : NULL,
                 i % 2 ? "Your invoice is ready" : "Claim your reward today", false,
                 "multipart/alternative; boundary=\"x\"", NULL);
    }
}

static GPtrArray *
find_runs(GPtrArray *sent, bw_mailbox_ops_t *ops)
{
    g_autoptr(bw_account_t) a = account_for(MH);
    GPtrArray *out = NULL;
    ck_assert_int_eq(bw_sent_anomalies_find(sent, a, ops, &out), BW_OK);
    return out;
}

START_TEST(test_sent_run)
{
    history_t h;
    owner_history(&h);
    hijack_run(&h, T0 + 80 * DAY + 2 * 3600, 40, "Roundcube Webmail/1.6.9");   /* 03:00 Berlin */
    box_t b;
    bw_mailbox_ops_t ops;
    box_init(&b, &ops, true);
    g_autoptr(GPtrArray) runs = find_runs(h.sent, &ops);
    ck_assert_uint_eq(runs->len, 1);
    const bw_signal_t *r = g_ptr_array_index(runs, 0);
    ck_assert_int_eq(r->kind, BW_SIGNAL_SENT_ANOMALY);
    ck_assert_uint_eq(r->count, 40);
    for (guint i = 0; i < r->members->len; i++)
        ck_assert_msg(g_str_has_prefix(g_ptr_array_index(r->members, i), "run"), "member %s",
                      (const char *)g_ptr_array_index(r->members, i));
    ck_assert_uint_ge(r->recipient_count, 60);
    ck_assert_uint_ge(r->contact_count, 10);    /* the owner's friends on the Bcc lists */
    ck_assert_int_eq(r->start, T0 + 80 * DAY + 2 * 3600);
    ck_assert_uint_ge(r->evidence->len, 3);
    box_clear(&b);
    history_free(&h);
}
END_TEST

/* The owner's own mail never forms a run: the history alone, a newsletter
 * to 400 Bcc recipients with the usual program, and a dozen invitations
 * written one by one with it. */
START_TEST(test_sent_owner_mail)
{
    history_t h;
    owner_history(&h);
    box_t b;
    bw_mailbox_ops_t ops;
    box_init(&b, &ops, true);
    g_autoptr(GPtrArray) none = find_runs(h.sent, &ops);
    ck_assert_uint_eq(none->len, 0);
    GString *bcc = g_string_new(NULL);
    for (unsigned i = 0; i < 400; i++)
        g_string_append_printf(bcc, "%smember%u@club-%u.example", i ? ", " : "", i, i % 37);
    add_sent(&h, "newsletter-1@mailhost.example", T0 + 60 * DAY + 10 * 3600, 1, "Mozilla Thunderbird",
             "Garden Club <" MH ">", bcc->str, "Garden Club newsletter - November", false,
             "text/plain; charset=UTF-8; format=flowed", "de-DE");
    g_string_free(bcc, TRUE);
    for (unsigned i = 0; i < 12; i++) {
        g_autofree char *mid = g_strdup_printf("%08x-1111-2222-4a1b-%08x0007@mailhost.example", i, i);
        g_autofree char *to = g_strdup_printf("Guest %u <guest%u@party.example>", i, i);
        add_sent(&h, mid, T0 + 70 * DAY + 15 * 3600 + i * 240, 1, "Mozilla Thunderbird", to, NULL,
                 "Invitation: my 40th birthday", false, "text/plain; charset=UTF-8; format=flowed", "de-DE");
    }
    g_autoptr(GPtrArray) runs = find_runs(h.sent, &ops);
    ck_assert_uint_eq(runs->len, 0);
    box_clear(&b);
    history_free(&h);
}
END_TEST

/* Verdicts do not depend on the order the summaries come in. */
START_TEST(test_sent_order_independent)
{
    history_t h;
    owner_history(&h);
    hijack_run(&h, T0 + 50 * DAY + 23 * 3600, 30, "SnappyMail/2.36.4");
    box_t b;
    bw_mailbox_ops_t ops;
    box_init(&b, &ops, true);
    g_autoptr(GPtrArray) r1 = find_runs(h.sent, &ops);
    /* reverse, then a fixed shuffle */
    g_autoptr(GPtrArray) shuffled = g_ptr_array_new();
    for (guint i = h.sent->len; i > 0; i--)
        g_ptr_array_add(shuffled, g_ptr_array_index(h.sent, i - 1));
    GRand *r = g_rand_new_with_seed(7);
    for (guint i = shuffled->len; i > 1; i--) {
        guint j = (guint)g_rand_int_range(r, 0, (gint32)i);
        gpointer tmp = shuffled->pdata[i - 1];
        shuffled->pdata[i - 1] = shuffled->pdata[j];
        shuffled->pdata[j] = tmp;
    }
    g_rand_free(r);
    g_autoptr(GPtrArray) r2 = find_runs(shuffled, &ops);
    ck_assert_uint_eq(r1->len, 1);
    ck_assert_uint_eq(r2->len, r1->len);
    JsonNode *j1 = bw_signal_to_json(g_ptr_array_index(r1, 0), 3600);
    JsonNode *j2 = bw_signal_to_json(g_ptr_array_index(r2, 0), 3600);
    g_autofree char *s1 = json_to_string(j1, FALSE);
    g_autofree char *s2 = json_to_string(j2, FALSE);
    ck_assert_str_eq(s1, s2);
    json_node_unref(j1);
    json_node_unref(j2);
    box_clear(&b);
    history_free(&h);
}
END_TEST

/* Too little history to know the owner's habits: no verdict. */
START_TEST(test_sent_short_history)
{
    history_t h = { g_ptr_array_new_with_free_func((GDestroyNotify)bw_sent_summary_free), g_rand_new_with_seed(1), 0 };
    hijack_run(&h, T0, 40, "SnappyMail/2.36.4");
    g_autoptr(GPtrArray) runs = find_runs(h.sent, NULL);
    ck_assert_uint_eq(runs->len, 0);
    history_free(&h);
}
END_TEST

/* ------------------------------------------------------------ the assessment */

static bw_signal_t *
sig(bw_signal_kind_t k, gint64 t)
{
    bw_signal_t *s = g_new0(bw_signal_t, 1);
    s->kind = k;
    s->date_unix = t;
    s->two_factor = -1;
    s->evidence = g_ptr_array_new_with_free_func(g_free);
    s->message_id = g_strdup_printf("m%d-%" G_GINT64_FORMAT "@x.example", k, t);
    return s;
}

static bool
advice_has(const bw_signals_assessment_t *a, const char *needle)
{
    for (guint i = 0; i < a->advice->len; i++)
        if (strstr(g_ptr_array_index(a->advice, i), needle))
            return true;
    return false;
}

START_TEST(test_assess_rule)
{
    const gint64 t = T0 + 10 * DAY;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    g_autoptr(bw_signals_assessment_t) a0 = NULL;
    /* nothing, and a sign-in alert alone (twice), a password change, 2-step
     * verification turned on: never a compromise */
    ck_assert_int_eq(bw_signals_assess(list, MH, false, &a0), BW_OK);
    ck_assert(!a0->compromise);
    g_ptr_array_add(list, sig(BW_SIGNAL_SIGN_IN_ALERT, t));
    g_ptr_array_add(list, sig(BW_SIGNAL_SIGN_IN_ALERT, t + DAY));
    g_ptr_array_add(list, sig(BW_SIGNAL_PASSWORD_CHANGED, t + 600));
    bw_signal_t *on = sig(BW_SIGNAL_TWO_FACTOR_CHANGED, t + 900);
    on->two_factor = 1;
    g_ptr_array_add(list, on);
    g_autoptr(bw_signals_assessment_t) a1 = NULL;
    bw_signals_assess(list, MH, false, &a1);
    ck_assert(!a1->compromise);
    ck_assert_ptr_null(a1->summary);
    /* forwarding three days after the last sign-in: not a takeover step */
    bw_signal_t *fwd_late = sig(BW_SIGNAL_FORWARDING_ADDED, t + 4 * DAY);
    fwd_late->address = g_strdup("late@fwd.example");
    g_ptr_array_add(list, fwd_late);
    g_autoptr(bw_signals_assessment_t) a2 = NULL;
    bw_signals_assess(list, MH, false, &a2);
    ck_assert(!a2->compromise);
    /* forwarding within 48 hours: compromise, the rule named */
    bw_signal_t *fwd = sig(BW_SIGNAL_FORWARDING_ADDED, t + 47 * 3600);
    fwd->address = g_strdup("copy@fwd.example");
    g_ptr_array_add(list, fwd);
    g_autoptr(bw_signals_assessment_t) a3 = NULL;
    bw_signals_assess(list, MH, false, &a3);
    ck_assert(a3->compromise);
    ck_assert_ptr_nonnull(a3->summary);
    ck_assert(advice_has(a3, "copy@fwd.example"));
    ck_assert(!advice_has(a3, "late@fwd.example"));
    ck_assert(advice_has(a3, MH));
}
END_TEST

START_TEST(test_assess_each_reason)
{
    const gint64 t = T0 + 20 * DAY;
    for (unsigned c = 0; c < 6; c++) {
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
        bool own = false;
        const char *want = NULL;
        switch (c) {
        case 0:
            g_ptr_array_add(list, sig(BW_SIGNAL_SENDING_BLOCKED, t));
            want = "limit";
            break;
        case 1: {
            const char *m[] = { "a@x", "b@x", NULL };
            bw_signal_t *r = run_of(m);
            r->count = 56;
            r->recipient_count = 406;
            r->contact_count = 30;
            g_ptr_array_add(list, r);
            want = "30";
            break;
        }
        case 2: {
            bw_signal_t *h = sig(BW_SIGNAL_HUMAN_REPLY, t);
            h->from = g_strdup("lena@example.org");
            g_ptr_array_add(list, h);
            break;
        }
        case 3:
            own = true;
            break;
        case 4: {
            g_ptr_array_add(list, sig(BW_SIGNAL_SIGN_IN_ALERT, t));
            bw_signal_t *off = sig(BW_SIGNAL_TWO_FACTOR_CHANGED, t + 300);
            off->two_factor = 0;
            g_ptr_array_add(list, off);
            want = "2-step verification back on";
            break;
        }
        case 5: {
            g_ptr_array_add(list, sig(BW_SIGNAL_SIGN_IN_ALERT, t));
            bw_signal_t *rec = sig(BW_SIGNAL_RECOVERY_CHANGED, t + 300);
            rec->address = g_strdup("helper@inboxvault.example");
            g_ptr_array_add(list, rec);
            want = "helper@inboxvault.example";
            break;
        }
        }
        g_autoptr(bw_signals_assessment_t) a = NULL;
        bw_signals_assess(list, MH, own, &a);
        ck_assert_msg(a->compromise, "case %u", c);
        ck_assert_uint_ge(a->reasons->len, 1);
        ck_assert_msg(want == NULL || advice_has(a, want), "case %u: no advice with %s", c, want);
        ck_assert(advice_has(a, "same password"));
    }
}
END_TEST

START_TEST(test_assess_incident)
{
    const gint64 t = T0 + 30 * DAY;
    /* a takeover as it unfolds: the sign-in, forwarding, the run, a reply;
     * whatever order the signals come in, the incident is named by the
     * sign-in alert (its earliest compromising signal) and grows */
    const char *m[] = { "run1@mailhost.example", "run2@mailhost.example", NULL };
    bw_signal_t *all[4];
    all[0] = sig(BW_SIGNAL_SIGN_IN_ALERT, t);
    all[1] = sig(BW_SIGNAL_FORWARDING_ADDED, t + 900);
    all[2] = run_of(m);
    all[2]->start = t + 3600;
    all[2]->end = t + 7200;
    all[3] = sig(BW_SIGNAL_HUMAN_REPLY, t + 9000);
    all[3]->from = g_strdup("lena@example.org");
    g_autofree char *first_key = NULL;
    unsigned last_weight = 0;
    for (unsigned n = 1; n <= 4; n++) {
        /* the first n signals, given in reverse order */
        g_autoptr(GPtrArray) list = g_ptr_array_new();
        for (unsigned i = n; i-- > 0;)
            g_ptr_array_add(list, all[i]);
        g_autoptr(bw_signals_assessment_t) a = NULL;
        ck_assert_int_eq(bw_signals_assess(list, MH, false, &a), BW_OK);
        if (n == 1) {
            ck_assert(!a->compromise);
            ck_assert_ptr_null(a->incident_key);
            continue;
        }
        ck_assert(a->compromise);
        ck_assert_ptr_nonnull(a->incident_key);
        ck_assert(g_str_has_prefix(a->incident_key, "sign-in-alert:"));
        ck_assert_int_eq(a->incident_start, t);
        if (first_key == NULL)
            first_key = g_strdup(a->incident_key);
        ck_assert_str_eq(a->incident_key, first_key);
        ck_assert_uint_gt(a->incident_weight, last_weight);
        last_weight = a->incident_weight;
    }
    /* own-account backscatter alone: compromise, but no signal names it
     * (the surge alert stands for it) */
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    g_autoptr(bw_signals_assessment_t) b = NULL;
    bw_signals_assess(none, MH, true, &b);
    ck_assert(b->compromise);
    ck_assert_ptr_null(b->incident_key);
    for (unsigned i = 0; i < 4; i++)
        bw_signal_free(all[i]);
}
END_TEST

START_TEST(test_assess_apply)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    g_ptr_array_add(list, sig(BW_SIGNAL_SENDING_BLOCKED, T0));
    g_autoptr(bw_signals_assessment_t) sa = NULL;
    bw_signals_assess(list, MH, false, &sa);
    bw_assessment_t *a = g_new0(bw_assessment_t, 1);
    a->status = BW_STATUS_SPOOFING;
    a->summary = g_strdup("spoofed");
    a->advice = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a->advice, g_strdup("Your account shows no sign of misuse."));
    a->legit_remedies = g_ptr_array_new_with_free_func(g_free);
    a->hard_bouncing = g_ptr_array_new_with_free_func(g_free);
    bw_signals_assessment_apply(sa, a);
    ck_assert_int_eq(a->status, BW_STATUS_COMPROMISE_SUSPECTED);
    ck_assert_str_eq(a->summary, sa->summary);
    for (guint i = 0; i < a->advice->len; i++)
        ck_assert(strstr(g_ptr_array_index(a->advice, i), "no sign of misuse") == NULL);
    ck_assert_uint_eq(a->advice->len, sa->advice->len);
    bw_assessment_free(a);
    /* the timeline: one line per signal, by date */
    g_autoptr(GPtrArray) tl = bw_signals_timeline(list, NULL, 0);
    ck_assert_uint_eq(tl->len, 1);
    ck_assert(g_str_has_prefix(g_ptr_array_index(tl, 0), "2026-"));
}
END_TEST

/* ------------------------------------------------------------ JSON */

static char *
to_text(JsonNode *n)
{
    char *s = bw_json_node_to_text(n);
    json_node_unref(n);
    return s;
}

/* json-glib's way of reading a stored sent row (scan-signals.c's): the
 * summary as text, or NULL when it gives none. */
static char *
sent_row_json_way(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    if (!json_parser_load_from_data(p, text, -1, NULL) || json_parser_get_root(p) == NULL)
        return NULL;
    g_autoptr(bw_sent_summary_t) s = NULL;
    if (bw_sent_summary_from_json(json_parser_get_root(p), &s, NULL) != BW_OK || s == NULL)
        return NULL;
    return bw_sent_summary_to_json_text(s);
}

/* The fast reader's summary as text, or NULL when it refuses the row. */
static char *
sent_row_fast_way(const char *text)
{
    g_autoptr(bw_sent_summary_t) s = bw_sent_summary_from_row(text);
    return s != NULL ? bw_sent_summary_to_json_text(s) : NULL;
}

static char *
random_field(GRand *r)
{
    static const char *const pieces[] = {
        "a", "Z", "0", " ", "@", ".", "-", "/", ";", "=", "{", "}", "[", "]", ",", ":",
        "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "\xe2\x80\xa8",
        "\xef\xbf\xbf", "\xc2\x80",
    };
    /* what the writer escapes, in one field of forty */
    static const char *const escaped[] = { "\"", "\\", "\t", "\x7f", "\x01", "\x1f" };
    if (g_rand_int_range(r, 0, 6) == 0)
        return NULL;
    GString *g = g_string_new(NULL);
    int n = g_rand_int_range(r, 0, 12);
    int esc = g_rand_int_range(r, 0, 40) == 0 ? g_rand_int_range(r, 0, n + 1) : -1;
    for (int i = 0; i <= n; i++) {
        if (i == esc)
            g_string_append(g, escaped[g_rand_int_range(r, 0, G_N_ELEMENTS(escaped))]);
        if (i < n)
            g_string_append(g, pieces[g_rand_int_range(r, 0, G_N_ELEMENTS(pieces))]);
    }
    return g_string_free(g, FALSE);
}

/* The stored sent rows read without json-glib (bw_sent_summary_from_row)
 * give json-glib's summary, or are refused; whatever the text. */
START_TEST(test_sent_row_fast_read)
{
    /* a real summary, and summaries of random fields */
    static const char sent[] = "Message-ID: <x1@mailhost.example>\nDate: Thu, 19 Nov 2026 03:00:00 +0300\n"
                               "From: Jonas <" MH ">\nTo: a@example.net, \"B \\\"q\\\"\" <b@example.net>\n"
                               "Subject: Re: the \"plan\" 100%\nUser-Agent: X/1.0\n\nhi\n";
    g_autoptr(bw_sent_summary_t) real = NULL;
    ck_assert_int_eq(bw_sent_summary_read(sent, sizeof sent - 1, &real, NULL), BW_OK);
    g_autofree char *real_text = bw_sent_summary_to_json_text(real);
    g_autofree char *real_fast = sent_row_fast_way(real_text);
    ck_assert_ptr_nonnull(real_fast);
    ck_assert_str_eq(real_fast, real_text);
    g_autoptr(GRand) r = g_rand_new_with_seed(13);
    guint fast = 0, refused = 0, mutated_fast = 0;
    for (int k = 0; k < 3000; k++) {
        g_autoptr(bw_sent_summary_t) s = g_new0(bw_sent_summary_t, 1);
        s->message_id = random_field(r);
        s->date_unix = (gint64)g_rand_int(r) * (g_rand_boolean(r) ? 1 : -1) * 1000;
        s->has_date = g_rand_boolean(r);
        s->date_offset = s->has_date ? g_rand_int_range(r, -86400, 86401) : 0;
        s->from = random_field(r);
        s->mailer = random_field(r);
        s->msgid_shape = random_field(r);
        s->content_shape = random_field(r);
        s->language = random_field(r);
        s->path = random_field(r);
        s->priority = g_rand_boolean(r);
        s->reply = g_rand_boolean(r);
        s->to_shape = random_field(r);
        s->n_to = (unsigned)g_rand_int_range(r, 0, 400);
        s->n_cc = g_rand_boolean(r) ? G_MAXUINT32 : 0;
        s->n_bcc = (unsigned)g_rand_int(r);
        s->recipients = g_ptr_array_new_with_free_func(g_free);
        int nr = g_rand_int_range(r, 0, 10) == 0 ? 300 : g_rand_int_range(r, 0, 4);
        for (int i = 0; i < nr; i++) {
            char *f = random_field(r);
            g_ptr_array_add(s->recipients, f ? f : g_strdup(""));
        }
        s->subject_key = random_field(r);
        g_autofree char *text = bw_sent_summary_to_json_text(s);
        g_autofree char *want = sent_row_json_way(text);
        g_autofree char *got = sent_row_fast_way(text);
        ck_assert_ptr_nonnull(want);
        if (got != NULL) {
            ck_assert_str_eq(got, want);
            fast++;
        } else {
            /* only a string it writes escaped is refused */
            ck_assert_ptr_nonnull(strchr(text, '\\'));
            refused++;
        }
        /* damaged rows: whatever is read fast is what json-glib reads */
        for (int m = 0; m < 4; m++) {
            g_autofree char *bad = g_strdup(text);
            gsize len = strlen(bad);
            gsize at = (gsize)g_rand_int_range(r, 0, (gint32)len);
            static const char swaps[] = "{}[],:\"\\0123456789- aZ\x7f\x01\xff\xc3";
            switch (g_rand_int_range(r, 0, 3)) {
            case 0:
                bad[at] = swaps[g_rand_int_range(r, 0, (gint32)sizeof swaps - 1)];
                break;
            case 1:
                bad[at] = '\0';
                break;
            default:
                memmove(bad + at, bad + at + 1, len - at);
                break;
            }
            g_autofree char *bwant = sent_row_json_way(bad);
            g_autofree char *bgot = sent_row_fast_way(bad);
            if (bgot != NULL) {
                ck_assert_ptr_nonnull(bwant);
                ck_assert_str_eq(bgot, bwant);
                mutated_fast++;
            }
        }
    }
    ck_assert_uint_gt(fast, 1000);
    ck_assert_uint_gt(refused, 100);
    ck_assert_uint_gt(mutated_fast, 100);
    /* other forms go to json-glib */
    static const char *const other[] = {
        "", "{", "{}x", " {}", "{ }", "{\"date\": 1}", "{\"date\":01}", "{\"date\":1.5}",
        "{\"date\":1e3}", "{\"date\":1234567890123456789}", "{\"date\":-}", "{\"date\":true}",
        "{\"from\":null}", "{\"from\":\"a\\\"b\"}", "{\"from\":\"\\u0041\"}", "{\"from\":\"a\tb\"}",
        "{\"from\":\"a\x7f\"}", "{\"from\":\"\xff\"}", "{\"from\":\"\xc3\"}", "{\"from\":\"a\"",
        "{\"date\":1,\"date\":2}", "{\"offset\":1,\"date\":2}", "{\"x\":1}", "{,\"date\":1}",
        "{\"date\":1,}", "{\"n\":[1,2]}", "{\"n\":[1,2,3,4]}", "{\"n\":[1,2,\"3\"]}",
        "{\"recipients\":[1]}", "{\"recipients\":[\"a\",]}", "{\"recipients\":\"a\"}", "[]",
        "{\"recipients\":[\"a\"\"b\"]}", "{\"subject_key\":\"s\",\"from\":\"a\"}",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(other); i++) {
        g_autoptr(bw_sent_summary_t) s = bw_sent_summary_from_row(other[i]);
        if (s != NULL)
            ck_abort_msg("read fast: %s", other[i]);
    }
    /* what it reads: the defaults of missing members, clamped counts */
    static const char *const same[] = {
        "{}", "{\"date\":-5}", "{\"offset\":-1000000}", "{\"offset\":999999}",
        "{\"n\":[-1,5,99999999999]}", "{\"flags\":7}", "{\"flags\":-1}", "{\"recipients\":[]}",
        "{\"from\":\"\"}", "{\"date\":0,\"n\":[0,0,0],\"subject_key\":\"\xe6\x97\xa5\"}",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(same); i++) {
        g_autofree char *want = sent_row_json_way(same[i]);
        g_autofree char *got = sent_row_fast_way(same[i]);
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

/* The notable read gives what the full read gives, or nothing when that is
 * not notable; the facts and summaries written directly are json-glib's
 * text; the reader's answers parse into json-glib's tree. */
static void
same_tree(const char *text)
{
    JsonNode *quick = NULL;
    ck_assert_msg(bw_reader_payload_parse(text, strlen(text), &quick, NULL) == BW_OK, "%s", text);
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    ck_assert(json_parser_load_from_data(p, text, -1, NULL));
    JsonNode *glib = json_parser_get_root(p);
    ck_assert_msg(json_node_equal(quick, glib), "%s", text);
    ck_assert(json_node_is_immutable(quick));
    g_autofree char *a = json_to_string(quick, FALSE), *b = json_to_string(glib, FALSE);
    ck_assert_str_eq(a, b);
    json_node_unref(quick);
}

START_TEST(test_notable_read_and_direct_json)
{
    static const char *const files[] = {
        "notice-en-signin-plain.eml", "notice-ja-forwarding-html.eml", "notice-microsoft-signin.eml",
        "notice-de-signin.eml", "notice-en-2fa-off-base64.eml", "notice-en-sending-limited.eml",
        "phish-forged-exact.eml", "phish-lookalike.eml", "reply-ja-asks-absent.eml",
        "reply-plain-run-member.eml", "ordinary-friend-same-provider.eml",
        "ordinary-provider-invoice.eml", "ordinary-provider-newsletter.eml",
        "dsn-ordinary-bounce.eml",
    };
    unsigned notable = 0, ordinary = 0;
    for (unsigned i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *rel = g_strdup_printf("corpus/signals/%s", files[i]);
        size_t len = 0;
        g_autofree char *data = bw_test_read(rel, &len);
        g_autoptr(bw_mailfacts_t) full = NULL, quick = NULL;
        ck_assert_int_eq(bw_mailfacts_read(data, len, &full, NULL), BW_OK);
        ck_assert_int_eq(bw_mailfacts_read_notable(data, len, &quick, NULL), BW_OK);
        ck_assert_msg((quick != NULL) == bw_mailfacts_notable(full), "%s", files[i]);
        g_autofree char *glib = to_text(bw_mailfacts_to_json(full));
        if (quick != NULL) {
            g_autofree char *q = to_text(bw_mailfacts_to_json(quick));
            ck_assert_str_eq(q, glib);
            notable++;
        } else {
            ordinary++;
        }
        g_autofree char *direct = bw_mailfacts_to_json_text(full);
        ck_assert_str_eq(direct, glib);
        same_tree(direct);
        /* strings JSON escapes */
        g_free(full->message_id);
        full->message_id = g_strdup("a\"b\\c/\x01\x1e\x7f\t\n\xc3\xa9\xe2\x80\xa8");
        g_autofree char *glib2 = to_text(bw_mailfacts_to_json(full));
        g_autofree char *direct2 = bw_mailfacts_to_json_text(full);
        ck_assert_str_eq(direct2, glib2);
        same_tree(direct2);
        /* one that is not UTF-8: json-glib's way, byte for byte */
        g_free(full->message_id);
        full->message_id = g_strdup("bad\xff");
        g_autoptr(GString) out = g_string_new(NULL);
        ck_assert(!bw_mailfacts_json_append(out, full));
        g_autofree char *glib3 = to_text(bw_mailfacts_to_json(full));
        g_autofree char *direct3 = bw_mailfacts_to_json_text(full);
        ck_assert_str_eq(direct3, glib3);
        /* ... nor in a list (the direct writer refuses it there too,
         * json-write.c's w_kstrv, and json-glib's way is taken) */
        g_free(full->message_id);
        full->message_id = g_strdup("fine");
        g_ptr_array_add(full->to, g_strdup("to\xff@example.net"));
        g_string_truncate(out, 0);
        ck_assert(!bw_mailfacts_json_append(out, full));
        g_autofree char *glib5 = to_text(bw_mailfacts_to_json(full));
        g_autofree char *direct5 = bw_mailfacts_to_json_text(full);
        ck_assert_str_eq(direct5, glib5);
        g_ptr_array_remove_index(full->to, full->to->len - 1);
        g_string_truncate(out, 0);
        ck_assert(bw_mailfacts_json_append(out, full));
        /* U+001F, which json-glib 1.6 writes raw (no JSON): escaped both
         * ways, and the text passes the payload check */
        g_free(full->message_id);
        full->message_id = g_strdup("unit\x1fsep");
        g_autofree char *glib4 = to_text(bw_mailfacts_to_json(full));
        g_autofree char *direct4 = bw_mailfacts_to_json_text(full);
        ck_assert_str_eq(direct4, glib4);
        ck_assert_ptr_nonnull(strstr(direct4, "unit\\u001fsep"));
        same_tree(direct4);
    }
    ck_assert_uint_gt(notable, 0);
    ck_assert_uint_gt(ordinary, 0);
    /* a sent summary */
    static const char sent[] = "Message-ID: <x1@mailhost.example>\nDate: Thu, 19 Nov 2026 03:00:00 +0300\n"
                               "From: Jonas <" MH ">\nTo: a@example.net, \"B \\\"q\\\"\" <b@example.net>\n"
                               "Subject: Re: the \"plan\" \\ 100%\nUser-Agent: X/1.0\n\nhi\n";
    g_autoptr(bw_sent_summary_t) s = NULL;
    ck_assert_int_eq(bw_sent_summary_read(sent, sizeof sent - 1, &s, NULL), BW_OK);
    g_autofree char *sg = to_text(bw_sent_summary_to_json(s));
    g_autofree char *sd = bw_sent_summary_to_json_text(s);
    ck_assert_str_eq(sd, sg);
    same_tree(sd);
    /* answers json-glib reads pass the payload check and give its tree */
    static const char *const payloads[] = {
        "{\"a\":1,\"b\":[1,-2,{\"c\":\"x\\\"y\\\\z\\/w\\b\\f\\n\\r\\t\"}],\"d\":0,\"e\":[]}",
        "{\"a\":\"\\u00e9\\ud83d\\ude00\"}", "{\"a\":1.5}", "{\"a\":-1e3}", "{\"a\":true,\"b\":null}",
        "{\"a\":1,\"a\":2}", "[[],{},[[]]]", "{\"a\":\"raw\ttab\"}", "{\"a\":123456789012345678}",
        "{\"a\":1234567890123456789}", "{\"a\":-0}", "\"s\"", "42", "{\"\":1}", "{\"a\":\"\\q\"}",
        " { \"a\" : [ 1 , 2 ] , \"b\" : \"\xc3\xa9\xe2\x82\xac\" } ", "{\"a\":\"\\u0001\\u007f\"}",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(payloads); i++)
        same_tree(payloads[i]);
}
END_TEST

/* A unit separator (U+001F) in a decoded Subject: the reader's answer is
 * still JSON the parent takes, so the message is judged (json-glib 1.6
 * wrote it raw: the answer was "garbage" and the message skipped, which
 * let one character hide a phishing mail or a provider's notice). */
START_TEST(test_unit_separator_answer)
{
    static const char msg[] =
        "From: Mailhost Account Team <security@mailhost-verify.example.com>\n"
        "To: jonas.weber@mailhost.example\n"
        "Subject: =?utf-8?q?Unusual_sign-in_activity=1F_on_your_account?=\n"
        "Date: Thu, 19 Nov 2026 11:00:00 +0000\n"
        "Message-ID: <ph1f@mailhost-verify.example.com>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "We noticed a new sign-in to your account from Lagos, Nigeria.\n"
        "Verify your account within 24 hours or it will be closed:\n"
        "https://mailhost-verify.example.com/login?u=jw\n";
    static const guint32 reads[] = { BW_READER_FACTS, BW_READER_NOTABLE_FACTS,
                                     BW_READER_SENT_SUMMARY, BW_READER_SENT_HEADERS };
    for (unsigned i = 0; i < G_N_ELEMENTS(reads); i++) {
        g_autofree char *json = NULL;
        ck_assert_int_eq(bw_reader_read_json(reads[i], msg, sizeof msg - 1, &json, NULL), BW_OK);
        ck_assert_ptr_nonnull(json);
        if (reads[i] == BW_READER_FACTS || reads[i] == BW_READER_NOTABLE_FACTS)
            ck_assert_ptr_nonnull(strstr(json, "\\u001f"));   /* the Subject */
        JsonNode *node = NULL;
        ck_assert_msg(bw_reader_payload_parse(json, strlen(json), &node, NULL) == BW_OK, "%s", json);
        json_node_unref(node);
    }
    g_autoptr(bw_mailfacts_t) m = NULL;
    ck_assert_int_eq(bw_mailfacts_read(msg, sizeof msg - 1, &m, NULL), BW_OK);
    ck_assert(bw_mailfacts_notable(m));
}
END_TEST

START_TEST(test_json_round_trips)
{
    static const char *const files[] = { "notice-en-signin-plain.eml", "notice-ja-forwarding-html.eml",
                                         "phish-forged-exact.eml", "notice-microsoft-signin.eml",
                                         "reply-ja-asks-absent.eml" };
    for (unsigned i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autoptr(bw_mailfacts_t) m = read_fixture(files[i]);
        JsonNode *n = bw_mailfacts_to_json(m);
        g_autoptr(bw_mailfacts_t) back = NULL;
        ck_assert_int_eq(bw_mailfacts_from_json(n, &back, NULL), BW_OK);
        g_autofree char *a = to_text(n);
        g_autofree char *b = to_text(bw_mailfacts_to_json(back));
        ck_assert_str_eq(a, b);
        /* and the judge says the same of the stored facts */
        g_autoptr(bw_account_t) acc = account_for(strstr(files[i], "-ja-") ? KM : strstr(files[i], "microsoft") ? MS : MH);
        g_autoptr(bw_signal_t) s1 = NULL, s2 = NULL;
        ck_assert_int_eq(bw_notice_judge(m, acc, "f", &s1, NULL), bw_notice_judge(back, acc, "f", &s2, NULL));
        if (s1) {
            g_autofree char *j1 = to_text(bw_signal_to_json(s1, 0));
            g_autofree char *j2 = to_text(bw_signal_to_json(s2, 0));
            ck_assert_str_eq(j1, j2);
            JsonNode *sn = bw_signal_to_json(s1, 32400);
            g_autoptr(bw_signal_t) s3 = NULL;
            ck_assert_int_eq(bw_signal_from_json(sn, &s3, NULL), BW_OK);
            json_node_unref(sn);
            g_autofree char *j3 = to_text(bw_signal_to_json(s3, 0));
            ck_assert_str_eq(j1, j3);
        }
    }
    /* a sent summary */
    const char *text = "Message-ID: <x1@mailhost.example>\nDate: Thu, 19 Nov 2026 03:00:00 +0300\n"
                       "From: " MH "\nTo: undisclosed-recipients:;\nBcc: a@b.example, c@d.example\n"
                       "User-Agent: SnappyMail/2.36.4\nX-Priority: 1\nSubject: =?UTF-8?B?SGVsbG8=?=\n"
                       "Content-Type: multipart/alternative; boundary=x\n\n--x--\n";
    g_autoptr(bw_sent_summary_t) s = NULL;
    ck_assert_int_eq(bw_sent_summary_read(text, strlen(text), &s, NULL), BW_OK);
    ck_assert_str_eq(s->to_shape, "undisclosed");
    ck_assert_uint_eq(s->n_bcc, 2);
    ck_assert_int_eq(s->date_offset, 3 * 3600);
    ck_assert(s->priority);
    JsonNode *n = bw_sent_summary_to_json(s);
    g_autoptr(bw_sent_summary_t) back = NULL;
    ck_assert_int_eq(bw_sent_summary_from_json(n, &back, NULL), BW_OK);
    g_autofree char *a = to_text(n);
    g_autofree char *b = to_text(bw_sent_summary_to_json(back));
    ck_assert_str_eq(a, b);
    /* damaged state: a clear error, no crash */
    JsonNode *junk = json_from_string("[1,2,3]", NULL);
    g_autoptr(bw_mailfacts_t) j1 = NULL;
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_mailfacts_from_json(junk, &j1, &detail), BW_E_STATE);
    ck_assert_ptr_nonnull(detail);
    g_autoptr(bw_signal_t) j2 = NULL;
    ck_assert_int_eq(bw_signal_from_json(junk, &j2, NULL), BW_E_STATE);
    json_node_unref(junk);
}
END_TEST

/* ------------------------------------------------------------ hostile input */

static void
read_must_survive(const char *data, size_t len)
{
    g_autoptr(bw_mailfacts_t) m = NULL;
    bw_status_t st = bw_mailfacts_read(data, len, &m, NULL);
    if (st == BW_OK) {
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_le(m->hops->len, BW_SIG_MAX_HOPS);
        ck_assert_uint_le(m->auths->len, BW_SIG_MAX_AUTH);
        ck_assert_uint_le(m->references->len, BW_SIG_MAX_REFS);
        g_autoptr(bw_account_t) a = account_for(MH);
        bw_notice_judge(m, a, NULL, NULL, NULL);
        bw_reply_judge(m, a, NULL, NULL, NULL);
        json_node_unref(bw_mailfacts_to_json(m));
    }
    g_autoptr(bw_sent_summary_t) s = NULL;
    if (bw_sent_summary_read(data, len, &s, NULL) == BW_OK)
        ck_assert_uint_le(s->recipients->len, BW_SIG_MAX_RECIPIENTS);
}

START_TEST(test_hostile_many_auth)
{
    GString *g = g_string_new(GOOD_HOP);
    for (unsigned i = 0; i < 20000; i++)
        g_string_append_printf(g, "Authentication-Results: mx1.mailhost.example; dkim=pass header.d=mailhost.example (%u); "
                                  "spf=pass; dmarc=pass; dkim=pass; dkim=pass; dkim=pass; dkim=pass; dkim=pass; dkim=pass; dkim=pass\n", i);
    for (unsigned i = 0; i < 5000; i++)
        g_string_append_printf(g, "Received: from h%u.example (h%u.example [192.0.2.1]) by mx%u.example with ESMTP; x\n", i, i, i);
    g_string_append(g, "From: no-reply@accounts.mailhost.example\nSubject: New sign-in\nReferences:");
    for (unsigned i = 0; i < 50000; i++)
        g_string_append_printf(g, " <r%u@x>", i);
    g_string_append(g, "\n\n" SIGNIN_BODY);
    read_must_survive(g->str, g->len);
    g_string_free(g, TRUE);
}
END_TEST

START_TEST(test_hostile_huge_header)
{
    /* one 3 MB folded header, and one long line with no line end */
    GString *g = g_string_new("From: a@b.example\nSubject: ");
    for (unsigned i = 0; i < 200000; i++)
        g_string_append(g, "sign-in password changed \n ");
    g_string_append(g, "\nTo: ");
    for (unsigned i = 0; i < 100000; i++)
        g_string_append_printf(g, "u%u@x.example, ", i);
    g_string_append(g, "\n\nbody\n");
    read_must_survive(g->str, g->len);
    g_string_truncate(g, 0);
    g_string_append(g, "Subject: x");
    for (unsigned i = 0; i < 1000000; i++)
        g_string_append_c(g, i % 7 ? 'a' : '@');
    read_must_survive(g->str, g->len);
    g_string_free(g, TRUE);
}
END_TEST

START_TEST(test_hostile_deep_nesting)
{
    GString *g = g_string_new("From: no-reply@accounts.mailhost.example\nSubject: New sign-in\nMIME-Version: 1.0\n");
    for (unsigned i = 0; i < 300; i++)
        g_string_append_printf(g, "Content-Type: multipart/mixed; boundary=\"b%u\"\n\n--b%u\n", i, i);
    g_string_append(g, "Content-Type: text/html\n\n");
    for (unsigned i = 0; i < 20000; i++)
        g_string_append(g, "<td><td><tr>&amp;&#x41;");
    g_string_append(g, "\n");
    read_must_survive(g->str, g->len);
    /* many clauses, many matches */
    g_string_truncate(g, 0);
    g_string_append(g, "From: no-reply@accounts.mailhost.example\nSubject: x\n\n");
    for (unsigned i = 0; i < 30000; i++)
        g_string_append(g, "new sign-in. password changed! forwarded to a@b.example? ");
    read_must_survive(g->str, g->len);
    g_string_free(g, TRUE);
}
END_TEST

START_TEST(test_hostile_junk)
{
    static const char *const junk[] = {
        "", "\n\n\n", "From:", "From: <>\n\n", "Received: from\n\n", "Authentication-Results: ;;;;;;=;=;\n\n",
        "Authentication-Results: x; dkim=\n\n", "From: \"unterminated <a@b\n\n",
        "From: =?utf-8?q?<a@b>?= <\n\n", "DKIM-Signature: d=\n\n", "Subject: \xff\xfe\xfd\n\n\xe3\x80",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(junk); i++)
        read_must_survive(junk[i], strlen(junk[i]));
}
END_TEST

Suite *
suite_signals(void)
{
    Suite *s = suite_create("signals");
    TCase *tc = tcase_create("notices");
    tcase_add_loop_test(tc, test_notice_cases, 0, G_N_ELEMENTS(notice_cases));
    tcase_add_test(tc, test_notice_other_owner);
    tcase_add_test(tc, test_provider_family);
    tcase_add_test(tc, test_auth_position);
    tcase_add_test(tc, test_machine_sender);
    tcase_add_test(tc, test_topic_reading);
    tcase_add_test(tc, test_provider_dsn_remote);
    tcase_add_test(tc, test_brand_newsletter);
    suite_add_tcase(s, tc);
    tc = tcase_create("replies");
    tcase_add_test(tc, test_replies);
    tcase_add_test(tc, test_replies_without_sent);
    suite_add_tcase(s, tc);
    tc = tcase_create("sent");
    tcase_add_test(tc, test_sent_run);
    tcase_add_test(tc, test_sent_owner_mail);
    tcase_add_test(tc, test_sent_order_independent);
    tcase_add_test(tc, test_sent_short_history);
    tcase_add_test(tc, test_sent_row_fast_read);
    suite_add_tcase(s, tc);
    tc = tcase_create("assess");
    tcase_add_test(tc, test_assess_rule);
    tcase_add_test(tc, test_assess_each_reason);
    tcase_add_test(tc, test_assess_apply);
    tcase_add_test(tc, test_assess_incident);
    tcase_add_test(tc, test_json_round_trips);
    tcase_add_test(tc, test_notable_read_and_direct_json);
    tcase_add_test(tc, test_unit_separator_answer);
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_hostile_many_auth);
    tcase_add_test(tc, test_hostile_huge_header);
    tcase_add_test(tc, test_hostile_deep_nesting);
    tcase_add_test(tc, test_hostile_junk);
    suite_add_tcase(s, tc);
    return s;
}
