/* generic.c: the generic reader of delivery reports.
 *
 * The vendor tables know how some families of servers word their notices;
 * most backscatter comes from the others (legacy, appliance and
 * misconfigured servers that accept forged mail and bounce it later).  This
 * reader decides "this is a delivery report" from what every notice shares,
 * whoever wrote it, and reads who failed:
 *   - who sent it: a null or daemon sender (MAILER-DAEMON, postmaster, "Mail
 *     Delivery System"..., in any case, in the address or the display name),
 *     X-Failed-Recipients, Auto-Submitted;
 *   - what it says: failure wording in the subject and in the notice's own
 *     words (many languages), SMTP replies and RFC 3463 codes, a separator
 *     before the returned original ("original message follows",
 *     "transcript of session follows"), an attached or quoted original;
 *   - who failed: the addresses listed after "the following address(es)"
 *     style phrases, labelled as recipients, or on a line (else in a
 *     paragraph) with failure wording or a 4xx/5xx reply; never the
 *     report's own From/To/Reply-To/Sender, never a sender-labelled address,
 *     never one inside the quoted original.
 * The evidence adds up to a confidence; the rules in generic_decide() say
 * which combinations make a report, so that people and shops writing about
 * deliveries do not.  The vendor tables refine where a family is known.
 *
 * Phrases are data (the tables below); all are matched by Aho-Corasick
 * automata (vendor-match.c): linear in the text, case and white space
 * insensitive.  Every loop is bounded by the text length
 * (BW_MAX_SCAN_BYTES), MAX_LINES and the recipient cap. */
#include "bw-parse.h"
#include "bw-vendor.h"
#include "bw-matcher-private.h"
#include <string.h>

#define MAX_LINES 20000         /* lines of a notice examined */
#define MAX_CANDIDATES 256      /* addresses weighed per notice */
#define MAX_BLOCK 4096          /* bytes of text given to one recipient */
#define MAX_SEPARATOR_LINE 100  /* a separator is a short line */

/* ------------------------------------------------------------ vocabulary */

/* Subjects of failure notices (substrings).  English first, then the
 * languages servers localise their notices into. */
static const char *const failure_subjects[] = {
    "undeliver", "undelivered", "not delivered", "non-deliver", "nondeliver", "non deliver",
    "delivery fail", "delivery status notification", "delivery failure", "failed delivery",
    "delivery problem", "delivery error", "delivery notification", "failure notice",
    "returned mail", "returned to sender", "return to sender", "mail delivery", "could not send",
    "could not be delivered", "could not deliver", "couldn't be delivered", "cannot be delivered",
    "can't be delivered", "mail system error", "permanent delivery failure", "mail failure",
    "bounced mail", "returned message", "message rejected", "delivery report",
    "delivery warning", "delayed mail", "delivery delayed", "message delayed",
    "failed mail", "mail failed", "returning to sender", "returning message to sender",
    "error during delivery", "delivery error", "message returned", "mail returned",
    "rejected mail", "mail rejected", "automatically rejected", "error sending your mail",
    "error sending your message", "error sending mail", "error sending message",
    /* de, fr, es, pt, it, nl */
    "unzustellbar", "nicht zustellbar", "konnte nicht zugestellt", "zustellung fehlgeschlagen",
    "unzustellbare", "non remis", "non distribuable", "échec de la remise", "echec de la remise",
    "échec de remise", "impossible de remettre", "non délivré", "no se puede entregar",
    "no se pudo entregar", "no entregado", "error de entrega", "mensaje no entregado",
    "correo devuelto", "não é possível entregar", "não entregue", "falha na entrega",
    "mensagem não entregue", "non recapitabile", "impossibile recapitare", "mancato recapito",
    "non consegnato", "onbestelbaar", "niet afgeleverd", "niet bezorgd",
    /* pl, cs, sk, sv, da, no, fi, hu, tr, ru */
    "niedostarczon", "nie dostarczono", "nie można dostarczyć", "nedoručiteln", "nelze doručit",
    "nedoručen", "kunde inte levereras", "ej levererat", "kunne ikke leveres", "ikke leveret",
    "ikke levert", "ei voitu toimittaa", "kézbesíthetetlen", "teslim edilemedi",
    "iletilemedi", "недоставлен", "не доставлено", "не может быть доставлено",
    "ошибка доставки", "не удалось доставить",
    /* ja, zh, ko */
    "配信不能", "配送エラー", "配信エラー", "送信エラー", "返送", "不達", "未達", "配信失敗",
    "配送不能", "退信", "无法投递", "投递失败", "未能送达", "無法投遞", "發送失敗", "邮件退回",
    "传输失败", "發送失敗",
    "전송 실패", "반송", "배달 실패",
};

/* Failure wording of a notice's own text. */
static const char *const failure_phrases[] = {
    "could not be delivered", "couldn't be delivered", "could not be deliverd",
    "cannot be delivered", "can not be delivered", "can't be delivered",
    "was not delivered", "were not delivered", "has not been delivered", "not be delivered",
    "wasn't delivered", "undeliverable", "undelivered", "delivery failed", "delivery has failed",
    "delivery to the following", "failed to deliver", "unable to deliver", "could not deliver",
    "couldn't deliver", "cannot deliver", "can't deliver", "did not reach", "permanent error",
    "permanent fatal error", "fatal error", "failed permanently", "delivery failure",
    "delivery problem", "message was returned", "has been returned", "returned to you",
    "returned mail", "being returned", "was rejected", "were rejected", "has been rejected",
    "rejected your message", "could not be sent", "could not be forwarded",
    "automatically rejected", "was refused", "has been refused",
    "not deliverable", "non-deliverable", "nondeliverable", "i've given up", "i have given up",
    "giving up", "failed recipient", "following address(es) failed", "addresses failed",
    "address failed", "following addresses had", "following recipients failed",
    "could not reach", "delivery attempts", "was undeliverable", "undeliverable to",
    "delivery to this address", "there was an error delivering",
    "error occurred while", "errors occurred while", "delivery error", "mail system error",
    "delivery notification", "not reach some or all", "trouble delivering your message",
    "problem delivering your message", "error delivering your message", "error sending your message",
    "trouble delivering your mail", "problem delivering your mail", "error sending your mail",
    /* warnings: a report, of a delay */
    "has not yet been delivered", "not yet been delivered", "have yet to be delivered",
    "is delayed", "been delayed", "will be retried", "will keep trying", "still trying",
    "will continue trying", "temporary failure", "this is a warning", "delivery delayed",
    /* de */
    "konnte nicht zugestellt werden", "nicht zugestellt werden", "unzustellbar",
    "zustellung fehlgeschlagen", "fehler bei der zustellung", "nicht zustellbar",
    "konnte nicht ausgeliefert", "nicht erreicht",
    /* fr */
    "n'a pas pu être", "n'a pas pu etre", "n'a pas pu être distribué",
    "n'a pas pu être délivré", "impossible de remettre", "impossible de livrer",
    "la remise a échoué", "échec de la remise", "non remis", "n'a pas été remis",
    /* es */
    "no se pudo entregar", "no pudo ser entregado", "no ha podido ser entregado",
    "no se puede entregar", "error en la entrega", "no fue entregado", "imposible entregar",
    /* pt */
    "não pôde ser entregue", "não foi possível entregar", "não foi entregue",
    "falha na entrega", "não foi possível enviar",
    /* it */
    "non è stato possibile recapitare", "non è stato recapitato", "impossibile recapitare",
    "non può essere recapitato", "non recapitabile", "mancato recapito",
    "non è stato consegnato",
    /* nl, pl, cs, sv, da, no, fi, hu, tr */
    "kon niet worden afgeleverd", "kan niet worden afgeleverd", "niet afgeleverd",
    "kon niet worden bezorgd", "nie może zostać dostarczona", "nie została dostarczona",
    "nie można dostarczyć", "nie dostarczono", "nelze doručit", "nemohla být doručena",
    "nebyla doručena", "kunde inte levereras", "kunne ikke leveres", "kunne ikke afleveres",
    "ei voitu toimittaa", "nem kézbesíthető", "teslim edilemedi",
    /* ru, uk */
    "не может быть доставлено", "не может быть доставлена", "не удалось доставить",
    "не было доставлено", "не доставлено", "недоставлено", "ошибка доставки",
    "не вдалося доставити",
    /* ja, zh, ko */
    "配信できません", "配信できませんでした", "送信できませんでした", "届きませんでした",
    "配信に失敗", "送信に失敗", "宛先不明", "配送できませんでした", "届けることができませんでした",
    "配信されませんでした", "配送に失敗", "お届けできませんでした",
    "无法投递", "投递失败", "无法送达", "未能送达", "無法投遞", "無法傳送", "发送失败",
    "전달되지 않았습니다", "전송하지 못했습니다", "배달되지 못했습니다",
};

/* Wording of a warning: a delay, not yet a failure. */
static const char *const delay_phrases[] = {
    "has not yet been delivered", "not yet been delivered", "have yet to be delivered",
    "is delayed", "been delayed", "will be retried", "will keep trying", "still trying",
    "will continue trying", "will continue to try", "this is a warning", "warning message only",
    "no action is required", "delivery delayed", "delayed mail", "still being retried",
    "temporary failure", "temporarily", "wird erneut versucht", "noch nicht zugestellt",
    "sera retenté", "pas encore été remis", "se reintentará", "todavía no se ha entregado",
    "ainda não foi entregue", "verrà ritentato", "ещё не доставлено", "еще не доставлено",
    "遅延", "再送を試みます", "延迟",
};

/* A line holding one of these, short, starts the returned original. */
static const char *const separators[] = {
    "original message follows", "original message", "unsent message follows",
    "returned message", "message follows", "copy of the message", "copy of your message",
    "headers of the original", "original message header", "message header follows",
    "message headers follow", "original mail", "original text follows",
    "text of the message follows", "message text follows", "below this line",
    "original headers", "returned mail follows", "the message was:", "message content follows",
    "unsent message", "returned mail", "start of returned message", "copy of the original",
    "ursprüngliche nachricht", "originalnachricht", "ursprünglichen nachricht",
    "message d'origine", "message original", "mensaje original", "mensagem original",
    "messaggio originale", "oorspronkelijk bericht", "origineel bericht",
    "oryginalna wiadomość", "původní zpráva", "ursprungligt meddelande",
    "исходное сообщение", "оригинальное сообщение", "元のメッセージ", "元メッセージ", "原文",
    "原始邮件", "原邮件", "原始郵件", "원본 메시지",
};

/* A line holding one of these opens a list of failed addresses. */
static const char *const list_intros[] = {
    "the following address", "following addresses", "following address(es)",
    "following recipient", "following e-mail address", "following email address",
    "following mailbox", "following user", "following destination", "to these recipients",
    "did not reach the following", "could not be delivered to:", "was not delivered to:",
    "undeliverable to the following", "could not be reached", "cannot be reached",
    "failed recipients", "recipients failed", "addresses failed", "address failed",
    "folgende empfänger", "folgenden empfänger", "folgende adresse", "folgenden adresse",
    "destinataires suivants", "destinataire suivant", "adresses suivantes",
    "destinatarios siguientes", "siguientes destinatarios", "siguiente destinatario",
    "seguintes destinatários", "destinatari seguenti", "seguenti destinatari",
    "volgende ontvangers", "volgende adres", "następujących adresów", "następujących odbiorców",
    "následující adres", "följande mottagare", "følgende modtager", "følgende mottaker",
    "следующим адресатам", "следующих получателей", "следующим получателям",
    "следующие адреса", "以下の宛先", "次の宛先", "下記の宛先", "以下のアドレス",
    "下記のアドレス", "次の受信者", "下列收件人", "以下收件人", "以下地址", "다음 수신자",
};

/* Words of a label before a recipient ("Recipient: a@b", "Invalid
 * userid: a@b"); the label ends with ':' or '='. */
static const char *const rcpt_labels[] = {
    "recipient", "rcpt", "address", "adress", "addr", "mailbox", "user", "userid",
    "account", "destination", "for:", "delivery to", "deliver to", "message to", "mail to",
    "sent to", "addressed to", "smtp",
    "empfänger", "adresse", "destinataire", "destinatario", "destinatário", "ontvanger",
    "odbiorca", "adresát", "mottagare", "modtager", "mottaker", "vastaanottaja",
    "címzett", "alıcı", "получатель", "адресат", "адрес", "宛先", "受信者", "送信先", "あて先",
    "收件人", "收件者", "수신자", "받는 사람",
};

/* Words before an address that make it the sender, not a recipient. */
static const char *const sender_labels[] = {
    "from", "sender", "sent by", "originator", "reply-to", "return-path", "envelope-from",
    "mail from", "absender", "von", "expéditeur", "expediteur", "remitente", "remetente",
    "mittente", "afzender", "nadawca", "odesílatel", "avsändare", "afsender", "отправитель",
    "差出人", "送信者", "发件人", "寄件者", "보낸 사람", "claiming to be", "on behalf of",
};

/* Local parts (address) and display names that are mail daemons.  A
 * local part matches when it equals one of these or starts with one and a
 * separator; a display name when it contains one. */
static const char *const daemon_locals[] = {
    "mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "maildaemon",
    "mail_daemon", "mdaemon", "postmaster", "post_master", "post-master", "mmdf",
    "mail-delivery", "maildelivery", "mail.delivery", "delivery-subsystem",
    "smtp-daemon", "smtpd", "mailer", "mail-system", "mailsystem",
};
static const char *const daemon_names[] = {
    "mailer-daemon", "mailer daemon", "mail daemon", "mail delivery", "delivery subsystem",
    "delivery system", "delivery service", "mail system", "mail administrator",
    "mail admin", "postmaster", "post master", "system administrator", "mail router",
    "mail server", "mailserver", "mail gateway", "message delivery", "mail transport",
    "internet mail", "e-mail delivery", "email delivery", "delivery notification",
    "zustellsystem", "e-mail-system", "système de messagerie", "sistema de correo",
    "почтовая система", "メール配信", "システム管理者",
};
/* Weaker: machines, but also newsletters and shops. */
static const char *const weak_senders[] = {
    "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "bounce", "-admin@",
    "-owner@", "-request@", "owner-", "root@", "daemon@", "mail@", "smtp", "admin@",
    "administrator@", "notification", "notify", "antivirus", "anti-virus", "mail_service",
    "mailservice", "mail-service", "gateway", "mailscanner", "mailsys", "mailgate",
};

/* The local parts of addresses that only receive bounces: a report sent to
 * one of them was sent there by a mail system (list managers and VERP set
 * the envelope sender so that only notices arrive there). */
static const char *const bounce_suffixes[] = {"-bounces", "-bounce", "-admin", "-owner", "-errors"};
static const char *const bounce_prefixes[] = {"owner-", "bounce-", "bounces-", "bounce+", "bounces+",
                                              "bounces=", "bounce="};

/* Words right before an address (same line) that say the message was for
 * it ("Your message to a@b", "addressed to a@b"): a mention, weaker than a
 * label or failure words. */
static const char *const near_rcpt_words[] = {
    "addressed to", "addressed,", "message to", "mail to", "sent to", "intended for",
    "destined for", "delivered to", "deliver to", "delivery to", "e-mail to", "email to",
    "nachricht an", "message à", "mensaje a", "messaggio a", "сообщение для",
};
/* A label that names the address the failed one was expanded from: that
 * address is the recipient as the sender wrote it. */
static const char *const expanded_labels[] = {"expanded from", "generated from", "original recipient",
                                              "alias for", "forwarded from"};

/* Addresses that are never a failed recipient by default: the mail
 * system's own role accounts, named as contacts. */
static const char *const role_locals[] = {
    "postmaster", "mailer-daemon", "mailer_daemon", "mailerdaemon", "abuse", "hostmaster",
    "webmaster", "support", "help", "helpdesk", "noc", "security", "root", "noreply",
    "no-reply", "donotreply",
};

/* ------------------------------------------------------------ word sets */

/* The address labels are looked for in the few words before each address
 * of a notice: a list of words indexed by their first byte (ASCII case
 * folded) is read in one pass over those words, where a search per word
 * of the list (40 of them) started over each time.  Same answer as
 * contains_any. */
#define WORD_SET_MAX 64
typedef struct {
    const char *const *words;
    size_t len[WORD_SET_MAX];
    gint8 next[WORD_SET_MAX];   /* the next word of the same first byte, or -1 */
    gint8 head[256];            /* the first word starting with a byte, or -1 */
} word_set_t;

enum { WS_RCPT, WS_SENDER, WS_EXPANDED, WS_NEAR, WS_COUNT };
static word_set_t word_sets[WS_COUNT];
G_STATIC_ASSERT(G_N_ELEMENTS(rcpt_labels) <= WORD_SET_MAX && G_N_ELEMENTS(sender_labels) <= WORD_SET_MAX
                && G_N_ELEMENTS(expanded_labels) <= WORD_SET_MAX
                && G_N_ELEMENTS(near_rcpt_words) <= WORD_SET_MAX);

static void
word_set_init(word_set_t *ws, const char *const *words, size_t count)
{
    ws->words = words;
    memset(ws->head, -1, sizeof ws->head);
    for (size_t k = count; k-- > 0;) {
        ws->len[k] = strlen(words[k]);
        guint8 c = (guint8)bw_ascii_lower(words[k][0]);
        ws->next[k] = ws->head[c];
        ws->head[c] = (gint8)k;
    }
}

/* Whether s[0, n) holds a word of the set (ASCII case ignored). */
static bool
contains_word(const char *s, size_t n, const word_set_t *ws)
{
    for (size_t p = 0; p < n; p++)
        for (int k = ws->head[(guint8)bw_ascii_lower(s[p])]; k >= 0; k = ws->next[k])
            if (ws->len[k] <= n - p && bw_ascii_ncase_eq(s + p, ws->words[k], ws->len[k]))
                return true;
    return false;
}

/* ------------------------------------------------------------ automata */

/* AUT_NOTICE is failure_phrases, list_intros and delay_phrases in one
 * automaton, in that order: a notice's text is read once for the three
 * (notice_read), each pattern reporting its id within its own list plus
 * the lists before it.  AUT_LINE is list_intros then separators, for a
 * line that may be a separator (separator_line). */
enum { AUT_SUBJECT, AUT_NOTICE, AUT_LINE, AUT_COUNT };
static bw_matcher_t *automata[AUT_COUNT];
enum {
    NOTICE_INTRO0 = G_N_ELEMENTS(failure_phrases),
    NOTICE_DELAY0 = NOTICE_INTRO0 + G_N_ELEMENTS(list_intros),
    NOTICE_N = NOTICE_DELAY0 + G_N_ELEMENTS(delay_phrases),
    LINE_SEPARATOR0 = G_N_ELEMENTS(list_intros),
    LINE_N = LINE_SEPARATOR0 + G_N_ELEMENTS(separators),
};

void
bw_generic_automata_init(void)
{
    static gsize once = 0;
    if (!g_once_init_enter(&once))
        return;
    automata[AUT_SUBJECT] = bw_matcher_new(failure_subjects, G_N_ELEMENTS(failure_subjects));
    static const char *notice_phrases[NOTICE_N];
    memcpy(notice_phrases, failure_phrases, sizeof failure_phrases);
    memcpy(notice_phrases + NOTICE_INTRO0, list_intros, sizeof list_intros);
    memcpy(notice_phrases + NOTICE_DELAY0, delay_phrases, sizeof delay_phrases);
    automata[AUT_NOTICE] = bw_matcher_new(notice_phrases, NOTICE_N);
    static const char *line_phrases[LINE_N];
    memcpy(line_phrases, list_intros, sizeof list_intros);
    memcpy(line_phrases + LINE_SEPARATOR0, separators, sizeof separators);
    automata[AUT_LINE] = bw_matcher_new(line_phrases, LINE_N);
    word_set_init(&word_sets[WS_RCPT], rcpt_labels, G_N_ELEMENTS(rcpt_labels));
    word_set_init(&word_sets[WS_SENDER], sender_labels, G_N_ELEMENTS(sender_labels));
    word_set_init(&word_sets[WS_EXPANDED], expanded_labels, G_N_ELEMENTS(expanded_labels));
    word_set_init(&word_sets[WS_NEAR], near_rcpt_words, G_N_ELEMENTS(near_rcpt_words));
    g_once_init_leave(&once, 1);
}

static bool
address_is_bounce_box(const char *addr)
{
    const char *at = addr != NULL ? strchr(addr, '@') : NULL;
    if (at == NULL)
        return false;
    size_t ll = (size_t)(at - addr);
    for (size_t i = 0; i < G_N_ELEMENTS(bounce_suffixes); i++) {
        size_t l = strlen(bounce_suffixes[i]);
        if (ll > l && bw_ascii_ncase_eq(at - l, bounce_suffixes[i], l))
            return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bounce_prefixes); i++)
        if (bw_ascii_ncase_eq(addr, bounce_prefixes[i], strlen(bounce_prefixes[i])))
            return true;
    return false;
}

static bool
has_phrase(int aut, const char *text, size_t len)
{
    return bw_matcher_any(automata[aut], text, len);
}

/* ------------------------------------------------------------ senders */

static bool
contains_any(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (bw_memcasestr(s, n, list[i]) != NULL)
            return true;
    return false;
}

/* How much the From value says "a mail daemon wrote this": 2 for a
 * daemon's address or display name, 1 for machine-like senders that also
 * send newsletters (no-reply, list owners), 0 for a person. */
static int
sender_daemon_level(const char *from)
{
    size_t n = from != NULL ? strnlen(from, 1024) : 0;
    if (n == 0)
        return 0;
    g_autofree char *addr = bw_address_normalize(from);
    if (addr == NULL)
        return 2;       /* "MAILER-DAEMON", "Mail Delivery System" with no address */
    const char *at = strchr(addr, '@');
    size_t ll = at != NULL ? (size_t)(at - addr) : strlen(addr);
    for (size_t i = 0; i < G_N_ELEMENTS(daemon_locals); i++) {
        size_t dl = strlen(daemon_locals[i]);
        if (ll >= dl && bw_ascii_ncase_eq(addr, daemon_locals[i], dl)
            && (ll == dl || addr[dl] == '-' || addr[dl] == '+' || addr[dl] == '.' || addr[dl] == '_'
                || g_ascii_isdigit(addr[dl])))
            return 2;
    }
    /* the display name: the text outside the <...> */
    const char *lt = memchr(from, '<', n);
    size_t dn = lt != NULL ? (size_t)(lt - from) : 0;
    if (dn > 0 && contains_any(from, dn, daemon_names, G_N_ELEMENTS(daemon_names)))
        return 2;
    if (contains_any(from, n, weak_senders, G_N_ELEMENTS(weak_senders)))
        return 1;
    return 0;
}

/* The level of the last From asked about, per thread: the detectors ask
 * about one message's From several times in a row (each answer costs
 * some 40 substring searches). */
#define LEVEL_MEMO_MAX 1024
static _Thread_local char level_memo_from[LEVEL_MEMO_MAX + 1];
static _Thread_local int level_memo = -1;

static int
sender_level_memo(const char *from)
{
    if (from == NULL)
        return sender_daemon_level(from);
    size_t n = strnlen(from, LEVEL_MEMO_MAX + 1);
    if (n > LEVEL_MEMO_MAX)
        return sender_daemon_level(from);
    if (level_memo >= 0 && memcmp(level_memo_from, from, n + 1) == 0)
        return level_memo;
    int level = sender_daemon_level(from);
    memcpy(level_memo_from, from, n + 1);
    level_memo = level;
    return level;
}

bool
bw_generic_sender_is_daemon(const char *from)
{
    return sender_level_memo(from) == 2;
}

int
bw_generic_sender_level(const char *from)
{
    return sender_level_memo(from);
}

bool
bw_generic_subject_is_failure(const char *subject)
{
    bw_generic_automata_init();
    return subject != NULL && has_phrase(AUT_SUBJECT, subject, strnlen(subject, 2048));
}

/* ------------------------------------------------------------ lines */

enum {
    LN_BLANK = 1 << 0,
    LN_FAILURE = 1 << 1,     /* failure wording */
    LN_CODE = 1 << 2,        /* a 4xx/5xx reply or a 4.x.x/5.x.x status */
    LN_INTRO = 1 << 3,       /* opens a list of addresses */
    LN_REASON = 1 << 4,      /* a reason phrase (user unknown, mailbox full...) */
    LN_MSGID = 1 << 5,       /* a Message-ID line: its <...> are no addresses */
    LN_SENDER = 1 << 6,      /* a header-like line naming a sender */
};

typedef struct {
    size_t start, end;       /* [start, end) in the text, without the LF */
    unsigned flags;
    unsigned para;           /* paragraph number (blank lines separate) */
} line_t;

typedef struct {
    const char *text;
    size_t len;              /* the notice: text before the original */
    GArray *lines;           /* line_t */
    bool delay;              /* a delay phrase in text[0, len) */
} notice_t;

static guint
line_of(const notice_t *nt, size_t off)
{
    guint lo = 0, hi = nt->lines->len;
    while (lo + 1 < hi) {
        guint mid = (lo + hi) / 2;
        if (g_array_index(nt->lines, line_t, mid).start <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* A phrase of AUT_NOTICE: a failure phrase or a list's introduction
 * marks its line, a delay phrase the notice. */
static bool
mark_line(size_t id, size_t start, size_t end, void *data)
{
    (void)end;
    notice_t *nt = data;
    if (id >= NOTICE_DELAY0)
        nt->delay = true;
    else if (nt->lines->len > 0)
        g_array_index(nt->lines, line_t, line_of(nt, start)).flags |=
            id >= NOTICE_INTRO0 ? LN_INTRO : LN_FAILURE;
    return true;
}

/* An SMTP reply code (4xx/5xx) in a reply's position: at the line start,
 * after "said:", "<<<", "reply:", "error", ":" or "(", followed by a space,
 * '-', ':' or the end; or an RFC 3463 code 4.x.x/5.x.x. */
static bool
line_has_code(const char *s, size_t n)
{
    size_t limit = n >= 3 ? n - 2 : 0;   /* places i with i + 3 <= n */
    for (size_t i = bw_find_byte3(s, 0, limit, n, '4', '5', '5'); i < limit;
         i = bw_find_byte3(s, i + 1, limit, n, '4', '5', '5')) {
        if (i > 0 && (g_ascii_isalnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-' || s[i - 1] == '/'
                      || s[i - 1] == '+' || s[i - 1] == '$' || s[i - 1] == ','))
            continue;
        /* enhanced status: c.s.d */
        if (i + 4 < n && s[i + 1] == '.' && g_ascii_isdigit(s[i + 2])) {
            size_t k = i + 2;
            while (k < n && k - i < 6 && g_ascii_isdigit(s[k]))
                k++;
            if (k + 1 < n && s[k] == '.' && g_ascii_isdigit(s[k + 1])) {
                size_t e = k + 1;
                while (e < n && e - k < 5 && g_ascii_isdigit(s[e]))
                    e++;
                if (e >= n || !(g_ascii_isalnum(s[e]) || (s[e] == '.' && e + 1 < n && g_ascii_isdigit(s[e + 1]))))
                    return true;
            }
            continue;
        }
        if (!(s[i + 1] >= '0' && s[i + 1] <= '5') || !g_ascii_isdigit(s[i + 2]))
            continue;
        char after = i + 3 < n ? s[i + 3] : ' ';
        if (!(after == ' ' || after == '-' || after == ':' || after == '\t' || after == ')' || after == ']'))
            continue;
        /* where it stands: the line start (after blanks, '<' and quote marks) */
        size_t k = 0;
        while (k < i && (s[k] == ' ' || s[k] == '\t' || s[k] == '<' || s[k] == '>' || s[k] == '#'))
            k++;
        if (k == i)
            return true;
        /* or right after a label */
        size_t b = i;
        while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '(' || s[b - 1] == '"'
                         || s[b - 1] == '\''))
            b--;
        if (b > 0 && (s[b - 1] == ':' || s[b - 1] == ';' || s[b - 1] == '<' || s[b - 1] == '>'
                      || s[b - 1] == '='))
            return true;
        if (b >= 4 && bw_ascii_ncase_eq(s + b - 4, "said", 4))
            return true;
        if (b >= 5 && bw_ascii_ncase_eq(s + b - 5, "error", 5))
            return true;
        if (b >= 5 && bw_ascii_ncase_eq(s + b - 5, "reply", 5))
            return true;
    }
    return false;
}

static bool
line_is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* A short line made of a separator phrase and decoration ("----- Original
 * message follows -----", "Original message:", "Original message follows.").
 * Prose that mentions the original ("The original message was received
 * at...") is not one. */
/* What AUT_LINE found in a line: the scan stops at the first intro (it
 * decides), not at a separator (an intro may follow it). */
typedef struct {
    bool intro, separator;
} line_phrases_t;

static bool
line_phrase(size_t id, size_t start, size_t end, void *data)
{
    (void)start;
    (void)end;
    line_phrases_t *f = data;
    if (id < LINE_SEPARATOR0)
        f->intro = true;
    else
        f->separator = true;
    return !f->intro;
}

/* Whether s[0, n) holds "address", "recipient" or "receive" (ASCII case
 * ignored): the last two are looked for as one, each "rec" checked. */
static bool
names_recipients(const char *s, size_t n)
{
    if (bw_memcasestr(s, n, "address") != NULL)
        return true;
    const char *p = s;
    while ((p = bw_memcasestr(p, n - (size_t)(p - s), "rec")) != NULL) {
        size_t rest = n - (size_t)(p - s);
        if ((rest >= 9 && bw_ascii_ncase_eq(p + 3, "ipient", 6)) ||
            (rest >= 7 && bw_ascii_ncase_eq(p + 3, "eive", 4)))
            return true;
        p++;
    }
    return false;
}

static bool
separator_line(const char *s, size_t n)
{
    if (n > MAX_SEPARATOR_LINE)
        return false;
    /* the leading blanks (1) and decoration (2), in one pass: a rule of
     * dashes is as long as the line */
    static const guint8 lead[256] = {[' '] = 1, ['\t'] = 1, ['-'] = 2, ['='] = 2, ['*'] = 2,
                                     ['_'] = 2, ['+'] = 2, ['<'] = 2, ['#'] = 2, ['['] = 2};
    size_t b = 0, e = n;
    bool decorated = false;
    for (; b < e && lead[(guint8)s[b]] != 0; b++)
        decorated = decorated || lead[(guint8)s[b]] == 2;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
        e--;
    if (e == b)
        return false;
    char last = s[e - 1];
    bool closed = last == ':' || last == '-' || last == '=' || last == '*' || last == '.' || last == '>'
        || last == ']';
    if (!decorated && !closed)
        return false;
    /* prose ends with a period too: a separator then says "follows" or
     * "below", or is a few words (the first "follow" is looked for once:
     * here or below) */
    const char *f = NULL;
    bool follow_sought = !decorated && last == '.';
    if (follow_sought && (f = bw_memcasestr(s + b, e - b, "follow")) == NULL
        && bw_memcasestr(s + b, e - b, "below") == NULL && e - b > 40)
        return false;
    /* "The following addresses did not receive a copy of your message:"
     * opens a list of recipients.  The words first: a line holding one
     * is no separator whatever the automaton finds, and they cost less
     * than its scan. */
    if (names_recipients(s + b, e - b))
        return false;
    line_phrases_t found = {false, false};
    bw_matcher_scan(automata[AUT_LINE], s + b, e - b, line_phrase, &found);
    if (found.intro)
        return false;
    if (found.separator)
        return true;
    /* "<something about the message> follows:" */
    static const char *const what[] = {"message", "mail", "original", "text", "copy", "header"};
    if (!follow_sought)
        f = bw_memcasestr(s + b, e - b, "follow");
    bool follows = f != NULL && !(f + 9 <= s + e && bw_ascii_ncase_eq(f, "following", 9));
    if (!follows || (last != ':' && !decorated))
        return false;
    /* the thing that follows is named in the same sentence: "We could not
     * deliver your message. Full details follow:" opens the notice's own
     * details, not the message */
    size_t from = b;
    for (size_t k = b; k + 1 < (size_t)(f - s); k++)
        if ((s[k] == '.' || s[k] == '!' || s[k] == ';') && (s[k + 1] == ' ' || s[k + 1] == '\t'))
            from = k + 2;
    return contains_any(s + from, e - from, what, G_N_ELEMENTS(what));
}

/* A header field line of a quoted original ("> From: ...", "Received:
 * from ..."): the original starts there. */
static bool
quoted_header_line(const char *s, size_t n)
{
    static const char *const names[] = {"received:", "return-path:", "message-id:", "mime-version:",
                                        "dkim-signature:", "x-mailer:", "content-type:"};
    static const char *const gt_names[] = {"from:", "to:", "subject:", "date:", "cc:"};
    size_t i = 0;
    bool quoted = false;
    while (i < n && i < 8 && (s[i] == '>' || s[i] == ' ' || s[i] == '|')) {
        quoted = quoted || s[i] == '>' || s[i] == '|';
        i++;
    }
    if (i > 0 && !quoted)
        return false;       /* an indented line is the notice's own summary */
    for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
        size_t l = strlen(names[k]);
        if (n - i >= l && bw_ascii_ncase_eq(s + i, names[k], l))
            return true;
    }
    if (!quoted)
        return false;
    for (size_t k = 0; k < G_N_ELEMENTS(gt_names); k++) {
        size_t l = strlen(gt_names[k]);
        if (n - i >= l && bw_ascii_ncase_eq(s + i, gt_names[k], l))
            return true;
    }
    return false;
}

/* Whether s[0, n) holds "message-id" or "message id" (ASCII case
 * ignored): each "message" is looked at, one search for both. */
static bool
names_message_id(const char *s, size_t n)
{
    const char *p = s;
    while ((p = bw_memcasestr(p, n - (size_t)(p - s), "message")) != NULL) {
        if ((size_t)(p - s) + 10 <= n && (p[7] == '-' || p[7] == ' ') &&
            bw_ascii_ncase_eq(p + 8, "id", 2))
            return true;
        p++;
    }
    return false;
}

/* Splits text[0, len) into lines and finds where the original starts:
 * the first separator line, or the first header line of a quoted
 * original.  nt->len is set to that limit.  A line ending before `plain`
 * is no separator: the caller's bw_generic_notice_end read it. */
static void
notice_read(notice_t *nt, const char *text, size_t len, size_t plain, const char *orig_subject)
{
    nt->text = text;
    nt->lines = g_array_sized_new(FALSE, FALSE, sizeof(line_t), 32);
    size_t pos = 0, limit = len;
    unsigned para = 0;
    bool prev_blank = true;
    while (pos < len && nt->lines->len < MAX_LINES) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        line_t ln = {pos, end, 0, 0};
        if (line_is_blank(text + pos, end - pos)) {
            ln.flags |= LN_BLANK;
            if (!prev_blank)
                para++;
            prev_blank = true;
        } else {
            prev_blank = false;
        }
        ln.para = para;
        bool known_plain = nl != NULL && end < plain;
        if (!(ln.flags & LN_BLANK)
            && ((!known_plain && separator_line(text + pos, end - pos))
                || quoted_header_line(text + pos, end - pos))) {
            limit = pos;
            break;
        }
        g_array_append_val(nt->lines, ln);
        pos = end + 1;
    }
    if (pos < limit && nt->lines->len >= MAX_LINES)
        limit = pos;
    nt->len = limit;
    nt->delay = false;
    bw_matcher_scan(automata[AUT_NOTICE], text, limit, mark_line, nt);
    size_t ol = orig_subject != NULL ? strlen(orig_subject) : 0;
    for (guint i = 0; i < nt->lines->len; i++) {
        line_t *ln = &g_array_index(nt->lines, line_t, i);
        if (ln->flags & LN_BLANK)
            continue;
        const char *s = text + ln->start;
        size_t n = ln->end - ln->start;
        /* the original's subject quoted in the notice ("Subject: Delivery
         * failed for your parcel") is the original's words */
        if (ol >= 8 && bw_memcasestr(s, n, orig_subject) != NULL)
            ln->flags &= ~(unsigned)(LN_FAILURE | LN_INTRO);
        if (line_has_code(s, n))
            ln->flags |= LN_CODE;
        /* (LN_MSGID matters to the addresses of a line only: most lines
         * have none, and are not searched for the three names) */
        bool at = memchr(s, '@', n) != NULL;
        if (at && (names_message_id(s, n) || bw_memcasestr(s, n, "in-reply-to") != NULL
                   || bw_memcasestr(s, n, "references:") != NULL))
            ln->flags |= LN_MSGID;
        /* a reason phrase is failure wording on a line about an address or
         * with a server's reply; "out of office" is no failure */
        if ((ln->flags & LN_CODE) || at) {
            int w = 0;
            bw_reason_t why = bw_reason_from_text_weighted(s, n, &w);
            if (w >= 2 && why != BW_REASON_UNKNOWN && why != BW_REASON_VACATION && why != BW_REASON_DELIVERED
                && why != BW_REASON_FEEDBACK)
                ln->flags |= LN_REASON;
        }
    }
}

char *
bw_generic_own_subject(const char *subject, const char *orig_subject)
{
    if (subject == NULL)
        return NULL;
    /* "Re: <their subject>", "Automatic reply: <their subject>": what
     * follows is the subject of the message answered */
    unsigned found = 0;
    g_autofree char *rest = bw_subject_strip(subject, BW_SUBJECT_REPLY | BW_SUBJECT_AUTOREPLY, &found);
    if (found != 0)
        return g_strdup("");
    char *own = g_strdup(subject);
    size_t ol = orig_subject != NULL ? strlen(orig_subject) : 0;
    while (ol > 0 && (orig_subject[ol - 1] == ' ' || orig_subject[ol - 1] == '\t'))
        ol--;
    if (ol >= 4) {
        const char *hit = bw_memcasestr(own, strlen(own), orig_subject);
        if (hit != NULL && (size_t)(hit - own) + ol <= strlen(own))
            memset(own + (hit - own), ' ', ol);
    }
    return own;
}

char *
bw_generic_quoted_subject(const char *text, size_t len, size_t from)
{
    size_t pos = from;
    for (unsigned n = 0; text != NULL && pos < len && n < 80; n++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t i = pos;
        while (i < end && i - pos < 8 && (text[i] == '>' || text[i] == ' ' || text[i] == '\t'))
            i++;
        if (end - i > 8 && bw_ascii_ncase_eq(text + i, "subject:", 8))
            return bw_header_decode(text + i + 8, end - i - 8);
        pos = end + 1;
    }
    return NULL;
}

size_t
bw_generic_notice_end(const char *text, size_t len, size_t *checked)
{
    bw_generic_automata_init();
    size_t pos = 0;
    for (unsigned n = 0; text != NULL && pos < len && n < MAX_LINES; n++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        if (!line_is_blank(text + pos, end - pos) && separator_line(text + pos, end - pos)) {
            if (checked != NULL)
                *checked = pos;
            return pos;
        }
        pos = end + 1;
    }
    if (checked != NULL)
        *checked = MIN(pos, len);
    return (size_t)-1;
}

static void
notice_clear(notice_t *nt)
{
    if (nt->lines != NULL)
        g_array_unref(nt->lines);
    nt->lines = NULL;
}

/* ------------------------------------------------------------ addresses */

/* ASCII only: in a notice's prose an address is glued to the words around
 * it ("您好，a@b", "a@b،"); the rare internationalised address is lost
 * rather than every address of a CJK or Arabic notice misread. */
static bool
local_char(unsigned char c)
{
    return c < 0x80 && (g_ascii_isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

static bool
domain_char(unsigned char c)
{
    return c < 0x80 && (g_ascii_isalnum(c) || c == '-' || c == '.');
}

/* The address around the '@' at s[at] of a line s[0, n): bounds in *b, *e;
 * false when it is no address (no dotted domain, a URL's user part). */
static bool
address_at(const char *s, size_t n, size_t at, size_t *b, size_t *e)
{
    size_t i = at;
    while (i > 0 && at - i < 64 && local_char((unsigned char)s[i - 1]))
        i--;
    /* quotes and dots around a local part are the prose's ("to 'a@b'") */
    while (i < at && (s[i] == '.' || s[i] == '\'' || s[i] == '`'))
        i++;
    /* an X.400 notice's "SMTP=a@b" / "SMTP:a@b" */
    if (at - i > 5 && bw_ascii_ncase_eq(s + i, "smtp", 4) && (s[i + 4] == '=' || s[i + 4] == ':'))
        i += 5;
    size_t j = at + 1;
    while (j < n && j - at < 255 && domain_char((unsigned char)s[j]))
        j++;
    while (j > at + 1 && (s[j - 1] == '.' || s[j - 1] == '-'))
        j--;
    if (i == at || j <= at + 1)
        return false;
    const char *dot = memchr(s + at + 1, '.', j - at - 1);
    if (dot == NULL || s[at + 1] == '.' || s[at + 1] == '-')
        return false;
    /* the top-level label: letters */
    size_t t = j;
    while (t > at + 1 && s[t - 1] != '.')
        t--;
    if (j == t)
        return false;
    for (size_t k = t; k < j; k++)
        if (!g_ascii_isalpha(s[k]))
            return false;
    /* user@host of a URL, "id=...@", a Message-ID's "<...$...@" */
    if (i >= 3 && memcmp(s + i - 3, "://", 3) == 0)
        return false;
    if (i >= 1 && s[i - 1] == '/')
        return false;
    /* "id=...@host" is a token; "SMTP=a@b" is an X.400 notice's address */
    if (i >= 1 && s[i - 1] == '=' && !(i >= 5 && bw_ascii_ncase_eq(s + i - 5, "smtp", 4)))
        return false;
    *b = i;
    *e = j;
    return true;
}

typedef struct {
    char *address;
    char *original_address;  /* "(expanded from: x)" */
    guint line;
    int tier;                /* 3: stated as failed, 2: near failure words, 1: named */
    size_t order;            /* first position in the text */
} cand_t;

static void
cand_free(gpointer p)
{
    cand_t *c = p;
    g_free(c->address);
    g_free(c->original_address);
    g_free(c);
}

/* Does the text just before the address (same line) label it? */
static bool
label_before(const char *s, size_t b, const word_set_t *labels)
{
    size_t lo = b > 40 ? b - 40 : 0;
    /* only the words since the previous address or list separator */
    for (size_t k = b; k > lo; k--)
        if (s[k - 1] == ',' || s[k - 1] == ';' || s[k - 1] == '@') {
            lo = k;
            break;
        }
    return contains_word(s + lo, b - lo, labels);
}

static bool
rcpt_label_before(const char *s, size_t b)
{
    /* "Recipient: <a@b>", "Invalid final delivery userid: a@b",
     * "RCPT TO:<a@b>": a label word and then ':' (or '=') right before */
    size_t k = b;
    while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '<' || s[k - 1] == '"'))
        k--;
    /* ':' '=' or the full-width colon U+FF1A (EF BC 9A) */
    if (k == 0 || (s[k - 1] != ':' && s[k - 1] != '=' && (unsigned char)s[k - 1] != 0x9a))
        return false;
    return label_before(s, k, &word_sets[WS_RCPT]);
}

static bool
is_role(const char *addr)
{
    /* (no role holds an '@': the local part is the text before the first) */
    const char *at = strchr(addr, '@');
    size_t ll = at != NULL ? (size_t)(at - addr) : 0;
    for (size_t i = 0; at != NULL && i < G_N_ELEMENTS(role_locals); i++)
        if (strlen(role_locals[i]) == ll && memcmp(addr, role_locals[i], ll) == 0)
            return true;
    return false;
}

typedef struct {
    GPtrArray *excluded;     /* the report's own addresses */
    char *domain;            /* the reporting domain when it is a registered
                                name of two labels ("aol.com"), or NULL */
} self_t;

static void
self_add(self_t *self, const char *value)
{
    if (value == NULL)
        return;
    /* a list of addresses ("a@b, c@d"): each one, at most 32 (the last
     * one the rest of the value, as g_strsplit gave them); most values
     * are one address, normalised where it stands */
    if (*value == '\0')
        return;
    const char *p = value;
    for (unsigned k = 0;; k++) {
        const char *comma = k < 31 ? strchr(p, ',') : NULL;
        char *a;
        if (comma == NULL) {
            a = bw_address_normalize(p);
        } else {
            g_autofree char *part = g_strndup(p, (gsize)(comma - p));
            a = bw_address_normalize(part);
        }
        if (a != NULL)
            g_ptr_array_add(self->excluded, a);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
}

static bool
self_has(const self_t *self, const char *addr)
{
    for (guint i = 0; i < self->excluded->len; i++)
        if (strcmp(g_ptr_array_index(self->excluded, i), addr) == 0)
            return true;
    return false;
}

/* The line ends a failure sentence that names its address on the next
 * line ("Your message could not be delivered to", "... konnte nicht
 * zugestellt werden an:"). */
static bool
failure_continues(const notice_t *nt, guint i)
{
    const line_t *ln = &g_array_index(nt->lines, line_t, i);
    if (!(ln->flags & (LN_FAILURE | LN_CODE)))
        return false;
    const char *s = nt->text + ln->start;
    size_t e = ln->end - ln->start;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    if (e > 0 && s[e - 1] == ':')
        return true;
    static const char *const ends[] = {" to", " a", " à", " an", " for", " für", " para", " per", " на",
                                       " до", " aan", " do"};
    for (size_t k = 0; k < G_N_ELEMENTS(ends); k++) {
        size_t l = strlen(ends[k]);
        if (e >= l && bw_ascii_ncase_eq(s + e - l, ends[k], l))
            return true;
    }
    return false;
}

/* Every address of the notice, with how strongly its place says it
 * failed. */
static void
collect_candidates(const notice_t *nt, const self_t *self, GPtrArray *out)
{
    const char *t = nt->text;
    /* lines in a list opened by an intro line: until the list ends (a
     * blank line after at least one item) */
    bool in_list = false, list_has_item = false, list_by_intro = false, list_has_address = false;
    unsigned list_blanks = 0;
    /* paragraphs holding failure words or codes (numbered from 0 in line
     * order: the last line's is the highest) */
    guint npara = nt->lines->len > 0 ? g_array_index(nt->lines, line_t, nt->lines->len - 1).para + 1 : 0;
    g_autofree bool *hot_para = g_new0(bool, npara + 1);
    for (guint i = 0; i < nt->lines->len; i++) {
        const line_t *ln = &g_array_index(nt->lines, line_t, i);
        if (ln->flags & (LN_FAILURE | LN_CODE))
            hot_para[ln->para] = true;
    }
    for (guint i = 0; i < nt->lines->len && out->len < MAX_CANDIDATES; i++) {
        const line_t *ln = &g_array_index(nt->lines, line_t, i);
        const char *s = t + ln->start;
        size_t n = ln->end - ln->start;
        if (ln->flags & LN_BLANK) {
            if (in_list && (list_has_item || ++list_blanks > 1))
                in_list = false;
            continue;
        }
        bool list_line = in_list;
        /* "Your message to:", "Recipient:" alone: the addresses follow on
         * the next lines */
        size_t te = n;
        while (te > 0 && (s[te - 1] == ' ' || s[te - 1] == '\t'))
            te--;
        bool label_line = te > 0 && (s[te - 1] == ':' || (te >= 3 && (unsigned char)s[te - 1] == 0x9a &&
                                                            (unsigned char)s[te - 2] == 0xbc))
            && memchr(s, '@', n) == NULL && te < 120
            && contains_word(s, te, &word_sets[WS_RCPT]);
        if ((ln->flags & LN_INTRO) || label_line) {
            list_by_intro = (ln->flags & LN_INTRO) != 0;
            list_has_address = false;
            in_list = true;
            list_has_item = false;
            list_blanks = 0;
        }
        if (memchr(s, '@', n) == NULL) {
            /* a list of bare local parts under a failure intro ("\tjsmith"):
             * mailboxes of the reporting domain (AOL named screen names so) */
            size_t b = 0, e = n;
            while (b < e && (s[b] == ' ' || s[b] == '\t'))
                b++;
            while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
                e--;
            bool token = list_line && list_by_intro && !list_has_address && self->domain != NULL && e > b
                && e - b <= 64;
            for (size_t k = b; token && k < e; k++)
                token = g_ascii_isalnum(s[k]) || s[k] == '.' || s[k] == '_' || s[k] == '-';
            if (token && out->len < MAX_CANDIDATES) {
                g_autofree char *local = g_ascii_strdown(s + b, (gssize)(e - b));
                cand_t *c = g_new0(cand_t, 1);
                c->address = g_strconcat(local, "@", self->domain, NULL);
                c->line = i;
                c->tier = 3;
                c->order = ln->start + b;
                list_has_item = true;
                g_ptr_array_add(out, c);
            } else if (list_line && list_blanks > 0 && !list_has_item) {
                /* prose after a blank line: the list named nobody and is
                 * over ("could not reach the following address: 12
                 * Harbour Lane" / "Please write to help@...") */
                in_list = false;
            }
            continue;
        }
        bool first_on_line = true;
        for (size_t k = 0; k < n && out->len < MAX_CANDIDATES; k++) {
            if (s[k] != '@')
                continue;
            size_t b, e;
            if (!address_at(s, n, k, &b, &e)) {
                continue;
            }
            k = e;
            bool bracketed = b > 0 && s[b - 1] == '<';
            if ((ln->flags & LN_MSGID) && bracketed)
                continue;
            g_autofree char *raw = g_strndup(s + b, e - b);
            char *addr = bw_address_normalize(raw);
            if (addr == NULL)
                continue;
            bool expanded = label_before(s, b, &word_sets[WS_EXPANDED]);
            if (self_has(self, addr)
                || (!expanded && label_before(s, b, &word_sets[WS_SENDER]))) {
                g_free(addr);
                first_on_line = false;
                continue;
            }
            if (expanded && out->len > 0) {
                /* "bob@x (expanded from: team@x)": the address the
                 * sender wrote, of the recipient named just before */
                cand_t *prev = g_ptr_array_index(out, out->len - 1);
                if (prev->line + 2 >= i && prev->original_address == NULL && strcmp(prev->address, addr) != 0) {
                    prev->original_address = addr;
                    first_on_line = false;
                    continue;
                }
            }
            int tier = 1;
            /* the line starts with it (a list item), possibly after a
             * reply code ("550 <a@b>... User unknown") */
            size_t lead = 0;
            while (lead < b && (s[lead] == ' ' || s[lead] == '\t' || s[lead] == '<' || s[lead] == '"'
                                || s[lead] == '-' || s[lead] == '*' || s[lead] == '\'' || s[lead] == '('
                                || s[lead] == '>' || s[lead] == '#' || g_ascii_isdigit(s[lead])
                                || s[lead] == '.' || s[lead] == ':'))
                lead++;
            bool leads = lead == b && first_on_line;
            /* nothing else on its line ("<a@b>:", "  a@b") */
            size_t tail = e;
            while (tail < n && (s[tail] == ' ' || s[tail] == '\t' || s[tail] == '>' || s[tail] == ':'
                                || s[tail] == ',' || s[tail] == ';' || s[tail] == '"' || s[tail] == '\''))
                tail++;
            bool alone = leads && tail == n;
            size_t near_lo = b > 24 ? b - 24 : 0;
            if ((list_line && leads) || rcpt_label_before(s, b) || expanded)
                tier = 3;
            else if (ln->flags & (LN_CODE | LN_FAILURE | LN_REASON))
                tier = 3;
            else if (leads && i > 0 && failure_continues(nt, i - 1))
                tier = 3;       /* "could not be delivered to" / "a@b" */
            else if (alone || hot_para[ln->para]
                     || contains_word(s + near_lo, b - near_lo, &word_sets[WS_NEAR]))
                tier = 2;
            if (alone && memchr(s + e, ':', tail - e) != NULL)
                tier = 3;       /* "<a@b>:" heads the lines about it (qmail) */
            if (is_role(addr) && tier < 3)
                tier = 0;
            if (list_line && leads)
                list_has_item = list_has_address = true;
            first_on_line = false;
            /* the same address again: keep its best tier */
            cand_t *seen = NULL;
            for (guint c = 0; c < out->len && seen == NULL; c++)
                if (strcmp(((cand_t *)g_ptr_array_index(out, c))->address, addr) == 0)
                    seen = g_ptr_array_index(out, c);
            if (seen != NULL) {
                if (tier > seen->tier) {
                    seen->tier = tier;
                    seen->line = i;
                }
                g_free(addr);
                continue;
            }
            cand_t *c = g_new0(cand_t, 1);
            c->address = addr;
            c->line = i;
            c->tier = tier;
            c->order = ln->start + b;
            g_ptr_array_add(out, c);
        }
    }
}

/* ------------------------------------------------------------ the reading */

typedef struct {
    bool null_sender, daemon, weak_machine, xfailed, auto_submitted, report_ct, to_bounce_box;
    bool subject_failure, body_failure, codes, separator, original, delay;
    int best_tier;
} evidence_t;

static int
confidence_of(const evidence_t *ev)
{
    int c = 0;
    c += ev->null_sender ? 20 : 0;
    c += ev->daemon ? 25 : (ev->weak_machine ? 8 : 0);
    c += ev->xfailed ? 20 : 0;
    c += ev->auto_submitted ? 5 : 0;
    c += ev->report_ct ? 10 : 0;
    c += ev->subject_failure ? 20 : 0;
    c += ev->body_failure ? 15 : 0;
    c += ev->codes ? 10 : 0;
    c += ev->separator || ev->original ? 10 : 0;
    c += ev->best_tier >= 3 ? 15 : ev->best_tier == 2 ? 8 : 0;
    return c > 100 ? 100 : c;
}

/* Which combinations make a report.  A machine must have sent it, it must
 * say that delivery failed (or is delayed), and something of a mail
 * system's must be there: a failed address it names, a reply code, the
 * returned original.  A sender that is only machine-like (no-reply, list
 * owners: newsletters and shops too) needs the returned original or
 * X-Failed-Recipients besides. */
static bool
generic_decide(const evidence_t *ev)
{
    /* (an address that only receives bounces receives them by construction:
     * a list manager set it as the envelope sender) */
    bool strong_machine = ev->null_sender || ev->daemon || ev->xfailed || ev->report_ct || ev->to_bounce_box;
    bool weak_machine = ev->weak_machine || ev->auto_submitted;
    bool says_failure = ev->subject_failure || ev->body_failure || ev->xfailed;
    bool mail_system = ev->best_tier >= 2 || ev->codes || ev->separator || ev->original || ev->xfailed;
    if (!says_failure)
        return false;
    if (strong_machine)
        return mail_system;
    if (weak_machine)
        return ((ev->original || ev->separator || ev->xfailed) && (ev->best_tier >= 3 || ev->codes))
            || (ev->subject_failure && ev->body_failure && ev->best_tier >= 3);
    return false;
}

/* The text about one recipient: its line to the end of its paragraph (or
 * to the next recipient's line), and, when that holds no code or failure
 * words, the paragraphs before it (many notices give the reason first). */
static GString *
recipient_block(const notice_t *nt, guint line, guint next_line)
{
    GString *g = g_string_new(NULL);
    const line_t *first = &g_array_index(nt->lines, line_t, line);
    bool hot = false;
    for (guint i = line; i < nt->lines->len && i < next_line && g->len < MAX_BLOCK; i++) {
        const line_t *ln = &g_array_index(nt->lines, line_t, i);
        if (i > line && (ln->flags & LN_BLANK) && hot)
            break;
        if (i > line && ln->para > first->para + 1)
            break;
        g_string_append_len(g, nt->text + ln->start, (gssize)MIN(ln->end - ln->start, MAX_BLOCK));
        g_string_append_c(g, '\n');
        hot = hot || (ln->flags & (LN_CODE | LN_FAILURE | LN_REASON));
    }
    if (!hot) {
        /* the notice's words before the address */
        size_t from = 0;
        size_t to = first->start;
        if (to - from > MAX_BLOCK)
            from = to - MAX_BLOCK;
        g_string_append_len(g, nt->text + from, (gssize)(to - from));
        g_string_append_c(g, '\n');
    }
    return g;
}

bool
bw_generic_read(const bw_view_t *view, const bw_generic_in_t *in, bw_report_t *report,
                bw_generic_out_t *out)
{
    if (out != NULL) {
        out->confidence = 0;
        out->original_offset = (size_t)-1;
        out->stated = out->named = false;
    }
    if (view == NULL || report == NULL)
        return false;
    bw_generic_automata_init();
    evidence_t ev = {0};
    const char *rp = bw_view_header(view, "Return-Path");
    ev.null_sender = rp != NULL && (strstr(rp, "<>") != NULL || bw_memcasestr(rp, strlen(rp), "mailer-daemon") != NULL);
    int level = sender_level_memo(view->from);
    const char *sender = bw_view_header(view, "Sender");
    ev.daemon = level == 2;
    ev.weak_machine = level == 1 || (sender != NULL && sender_level_memo(sender) >= 1);
    const char *xfr = bw_view_header(view, "X-Failed-Recipients");
    ev.xfailed = xfr != NULL && strchr(xfr, '@') != NULL;
    const char *as = bw_view_header(view, "Auto-Submitted");
    ev.auto_submitted = as != NULL && !bw_ascii_ncase_eq(as, "no", 2);
    ev.report_ct = in != NULL && in->report_type_delivery_status;
    /* sent to an address that only receives bounces (a list's, VERP) */
    const char *to = bw_view_header(view, "To"), *delivered_to = bw_view_header(view, "Delivered-To");
    for (size_t i = 0; i < 3 && !ev.to_bounce_box; i++) {
        g_autofree char *a = bw_address_normalize(i == 0 ? to : i == 1 ? delivered_to
                                                  : bw_view_header(view, "X-Original-To"));
        ev.to_bounce_box = address_is_bounce_box(a);
    }
    g_autofree char *own_subject = bw_generic_own_subject(view->subject, view->orig_subject);
    const char *subject = own_subject != NULL ? own_subject : "";
    size_t slen = strnlen(subject, 2048);
    ev.subject_failure = has_phrase(AUT_SUBJECT, subject, slen);
    if (!ev.subject_failure && (level == 2 || ev.null_sender)) {
        /* "Warning: a@b - User unknown!": a reason in a daemon's subject */
        int w = 0;
        bw_reason_t why = bw_reason_from_text_weighted(subject, slen, &w);
        ev.subject_failure = w >= 2 && why != BW_REASON_UNKNOWN && why != BW_REASON_VACATION
            && why != BW_REASON_DELIVERED && why != BW_REASON_FEEDBACK;
    }
    ev.original = in != NULL && in->has_original;

    /* Mail from a person is never read further (cheap: headers only). */
    if (!(ev.null_sender || ev.daemon || ev.weak_machine || ev.xfailed || ev.auto_submitted || ev.report_ct
          || ev.to_bounce_box))
        return false;
    size_t tlen = MIN(view->text_len, BW_MAX_SCAN_BYTES);
    if (in != NULL && in->limit < tlen)
        tlen = in->limit;
    notice_t nt = {0};
    notice_read(&nt, view->text != NULL ? view->text : "", view->text != NULL ? tlen : 0,
                in != NULL ? in->plain_to : 0, view->orig_subject);
    /* the original starts inside the text: the caller found where, or a
     * separator line did */
    ev.separator = nt.len < tlen || tlen < MIN(view->text_len, BW_MAX_SCAN_BYTES);
    for (guint i = 0; i < nt.lines->len; i++) {
        unsigned f = g_array_index(nt.lines, line_t, i).flags;
        ev.body_failure = ev.body_failure || (f & (LN_FAILURE | LN_REASON));
        ev.codes = ev.codes || (f & LN_CODE);
    }
    ev.delay = nt.delay
        || (bw_memcasestr(subject, strnlen(subject, 2048), "delay") != NULL
            || bw_memcasestr(subject, strnlen(subject, 2048), "warning") != NULL);

    self_t self = {g_ptr_array_new_with_free_func(g_free), NULL};
    {
        g_autofree char *fa = bw_address_normalize(view->from);
        const char *at = fa != NULL ? strchr(fa, '@') : NULL;
        const char *dot = at != NULL ? strchr(at + 1, '.') : NULL;
        if (dot != NULL && strchr(dot + 1, '.') == NULL && dot > at + 1 && dot[1] != '\0')
            self.domain = g_strdup(at + 1);
    }
    /* (not X-Original-To: Exchange copies the original's into its
     * notices; the fields read above are not looked up again) */
    const char *const own[] = {bw_view_header(view, "From"), to, bw_view_header(view, "Cc"),
                               bw_view_header(view, "Reply-To"), sender, rp,
                               bw_view_header(view, "Errors-To"), delivered_to,
                               bw_view_header(view, "Resent-From"), bw_view_header(view, "Resent-To"),
                               bw_view_header(view, "List-Post"), bw_view_header(view, "List-Owner"),
                               bw_view_header(view, "List-Help")};
    for (size_t i = 0; i < G_N_ELEMENTS(own); i++)
        self_add(&self, own[i]);
    GPtrArray *cands = g_ptr_array_new_with_free_func(cand_free);
    collect_candidates(&nt, &self, cands);
    ev.best_tier = 0;
    for (guint i = 0; i < cands->len; i++) {
        int tier = ((cand_t *)g_ptr_array_index(cands, i))->tier;
        ev.best_tier = MAX(ev.best_tier, tier);
    }
    /* A lone address named nowhere near failure words still counts when
     * it is the only one of a terse notice. */
    unsigned named = 0;
    for (guint i = 0; i < cands->len; i++)
        named += ((cand_t *)g_ptr_array_index(cands, i))->tier >= 1;
    if (ev.best_tier == 1 && named > 1)
        ev.best_tier = 0;

    bool yes = generic_decide(&ev);
    if (out != NULL) {
        out->confidence = yes ? confidence_of(&ev) : 0;
        out->original_offset = yes && ev.separator ? nt.len : (size_t)-1;
        out->stated = yes && ev.best_tier >= 3;
        out->named = yes && ev.best_tier >= 2;
    }
    if (yes && in != NULL && in->decide_only) {
        /* the caller only asks whether it is a report */
    } else if (yes) {
        for (guint i = 0; i < cands->len && report->recipients->len < BW_MAX_RECIPIENTS; i++) {
            cand_t *c = g_ptr_array_index(cands, i);
            if (c->tier != ev.best_tier || c->tier == 0)
                continue;
            guint next = nt.lines->len;
            for (guint k = i + 1; k < cands->len; k++) {
                cand_t *o = g_ptr_array_index(cands, k);
                if (o->tier == ev.best_tier && o->line > c->line) {
                    next = o->line;
                    break;
                }
            }
            bw_recipient_t *r = bw_recipient_new();
            r->address = g_strdup(c->address);
            r->original_address = g_strdup(c->original_address);
            GString *blk = recipient_block(&nt, c->line, next);
            bw_diagnostic_read(r, blk->str, blk->len, ev.delay);
            g_string_free(blk, TRUE);
            g_ptr_array_add(report->recipients, r);
        }
        report->bounce = true;
        report->kind = BW_KIND_BOUNCE;
        report->family = "generic";
    }
    g_ptr_array_unref(cands);
    g_ptr_array_unref(self.excluded);
    g_free(self.domain);
    notice_clear(&nt);
    return yes;
}
