/* autoreply.c: anti-virus notices, challenge-response requests and
 * auto-replies (RFC 3834, vacation / out-of-office in several languages).
 *
 * The dispatcher asks what a message is before it asks whether delivery
 * failed: a challenge-response request (bw_challenge_detect) and an
 * anti-virus notice (bw_virus_notice) are recognised first, because they
 * often look like failure notices (a daemon's address, "your message is
 * held", a DSN part); auto-replies (bw_autoreply_detect) come after the
 * failure readers, because some servers mark their bounces
 * "Auto-Submitted: auto-replied".  All of them read only the report's own
 * words (subject, headers, the first lines of its text: never an attached
 * or quoted original).  Ordinary mail must stay ordinary: a phrase in the
 * body alone never decides; it needs a header that says the message is
 * automatic, or a subject that says so, and mailing-list mail needs an
 * explicit auto-reply header. */
#include "bw-parse.h"
#include "bw-vendor.h"
#include "bw-matcher-private.h"
#include <string.h>

/* Phrases are data: extend the tables, not the code.  All are matched
 * ASCII-case-insensitively as substrings (UTF-8 ones byte-exactly). */

/* Subject prefixes / phrases of auto-replies. */
static const char *const autoreply_subjects[] = {
    "auto:", "autoreply", "auto reply", "auto-reply", "auto response", "auto-response",
    "autoresponse", "automatic reply", "automatic response", "automated reply",
    "out of office", "out of the office", "out-of-office", "ooo:", "vacation reply",
    "on vacation", "away from the office", "away from my desk", "abwesenheit",
    "automatische antwort", "automatische antwort", "abwesenheitsnotiz",
    "réponse automatique", "reponse automatique", "absence du bureau",
    "respuesta automática", "respuesta automatica", "fuera de la oficina",
    "risposta automatica", "fuori sede", "fuori ufficio", "automatisch antwoord",
    "afwezigheid", "resposta automática", "resposta automatica", "autosvar",
    "automaattinen vastaus", "automatyczna odpowiedź", "автоответ",
    "автоматический ответ", "自動応答", "自動返信", "自動送信", "不在のお知らせ",
    "不在通知", "休暇のお知らせ", "自动回复", "자동 응답",
};

/* Body phrases of vacation / out-of-office text (first lines only). */
static const char *const autoreply_bodies[] = {
    "out of the office", "out of office", "on vacation", "on holiday", "on leave",
    "away from the office", "away from my desk", "currently away", "i am away",
    "i'm away", "limited access to e-mail", "limited access to email",
    "i will be back", "i'll be back", "will be back in the office", "annual leave",
    "return to the office", "returning to the office", "respond to your message",
    "will respond to you", "get back to you", "automatically generated reply",
    "this is an automatic reply", "this is an automated reply", "auto-reply",
    "nicht im büro", "abwesend", "außer haus", "ausser haus", "je suis absent",
    "absent du bureau", "en congés", "en conges", "estoy fuera", "de vacaciones",
    "fuera de la oficina", "sono fuori", "fuori ufficio", "ben afwezig",
    "不在にして", "不在のため", "休暇を", "休暇中", "お休みを", "外出して", "出張して",
    "自動返信", "自動応答",
};

/* Virus notices: subject phrases (and body ones, checked with an automatic
 * sender).  None starts or ends with a blank (virus_in_words). */
static const char *const virus_phrases[] = {
    "virus found", "virus detected", "virus alert", "virus warning", "virus notification",
    "virus in message", "virus in your mail", "infected attachment", "contained a virus",
    "contains a virus", "containing a virus", "malware detected", "infected with",
    "banned contents alert", "virus infected", "ウイルス", "ウィルス",
    "virus (", "virus:", "infected:", "virus in mail", "viruses found", "virus was found",
    "virus has been found", "virus has been detected", "malware found", "malware was found",
    "contained malware", "contains malware", "banned content", "virenfund", "virus gefunden",
    "virus détecté", "virus detectado", "virus rilevato", "вирус",
};

/* Challenge-response requests: subject and body phrases.  None ends with
 * a blank (own_words_all), nor does a strong one. */
static const char *const challenge_phrases[] = {
    "please confirm your message", "confirm your email", "verify your email",
    "sender verification", "verification required", "authentication required",
    "awaiting your confirmation", "awaiting verification", "requires verification",
    "please verify", "spam protection", "challenge-response", "challenge response",
    "i use a spam", "approve your message", "to ensure delivery",
    "is protected by", "confirm that you are a real person", "not a robot",
    "confirm your message", "verify your message", "confirm your address",
    "verify your address", "confirm that you sent", "verify that you sent",
    "release your message", "has not been verified", "have not been verified",
    "not yet been verified", "approved senders", "list of approved", "whitelist",
    "white list", "allowed senders", "accepted senders", "pending verification",
    "awaiting confirmation", "held pending", "is being held", "message is on hold",
    "reply to this message to confirm", "confirmation verifies", "real person",
    "one-time verification", "verify that you are human", "sender approval",
    "bitte bestätigen sie", "confirmez votre message", "confirme su mensaje",
    "送信者認証", "確認してください", "waitlisted", "guest list", "add yourself to",
    "pre-approved", "preapproved", "requires confirmation",
};
/* The subset that no failure notice says: two of them in the notice's
 * words make a challenge even when its subject is "Re: <subject>". */
static const char *const challenge_strong_phrases[] = {
    "please confirm your message", "confirm your message", "verify your message",
    "confirm that you sent", "verify that you sent", "release your message",
    "has not been verified", "have not been verified", "not yet been verified",
    "approved senders", "list of approved", "whitelist", "white list", "allowed senders",
    "accepted senders", "reply to this message to confirm", "confirmation verifies",
    "confirm that you are a real person", "real person", "not a robot",
    "verify that you are human", "challenge-response", "challenge response",
    "sender approval", "i use a spam", "waitlisted", "guest list", "add yourself to",
    "pre-approved", "preapproved", "requires confirmation",
};

/* Headers that name challenge-response systems ("Name" present, or
 * "Name: text" with text in the value). */
static const char *const challenge_headers[] = {
    "X-Boxbe-Challenge", "X-ChoiceMail-Registration-Request", "X-Spam-Arrest",
    "X-SpamArrest-Response", "X-Mailblocks", "X-Bluebottle-Request",
    "X-Challenge-Response", "X-Sanebox-Challenge", "X-Permission-Request",
    "X-Delivery-Agent: TMDA", "X-Mailer: TMDA", "Auto-Submitted: confirm",
    "X-ASK-Info", "X-Challenge",
};

/* Each table becomes one Aho-Corasick automaton (vendor-match.c), built
 * once: a text is read once per table whatever the number of phrases. */
enum {
    T_AUTOREPLY_SUBJECT, T_AUTOREPLY_BODY, T_VIRUS, T_CHALLENGE, T_CHALLENGE_STRONG,
    T_CHALLENGE_BOTH, T_COUNT
};
static bw_matcher_t *matchers[T_COUNT];
/* T_CHALLENGE_BOTH: the challenge phrases (ids 0 to N_CHALLENGE - 1), then
 * the strong ones, so that challenge_words reads the notice's lines once
 * for both questions. */
#define N_CHALLENGE G_N_ELEMENTS(challenge_phrases)
static const char *challenge_both[N_CHALLENGE + G_N_ELEMENTS(challenge_strong_phrases)];

void
bw_autoreply_matchers_init(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        matchers[T_AUTOREPLY_SUBJECT] = bw_matcher_new(autoreply_subjects, G_N_ELEMENTS(autoreply_subjects));
        matchers[T_AUTOREPLY_BODY] = bw_matcher_new(autoreply_bodies, G_N_ELEMENTS(autoreply_bodies));
        matchers[T_VIRUS] = bw_matcher_new(virus_phrases, G_N_ELEMENTS(virus_phrases));
        matchers[T_CHALLENGE] = bw_matcher_new(challenge_phrases, G_N_ELEMENTS(challenge_phrases));
        matchers[T_CHALLENGE_STRONG] =
            bw_matcher_new(challenge_strong_phrases, G_N_ELEMENTS(challenge_strong_phrases));
        memcpy(challenge_both, challenge_phrases, sizeof challenge_phrases);
        memcpy(challenge_both + N_CHALLENGE, challenge_strong_phrases,
               sizeof challenge_strong_phrases);
        matchers[T_CHALLENGE_BOTH] = bw_matcher_new(challenge_both, G_N_ELEMENTS(challenge_both));
        g_once_init_leave(&once, 1);
    }
}

static bool
any_phrase(const char *text, size_t len, int table)
{
    return bw_matcher_any(matchers[table], text, len);
}

#define ANY(text, len, table) any_phrase((text), (len), (table))

/* Local parts of senders that are machines. */
static bool
sender_is_automatic(const char *from)
{
    static const char *const locals[] = {
        "mailer-daemon", "postmaster", "antivirus", "anti-virus", "virus", "viruswall",
        "mailscanner", "amavis", "virusalert", "av-", "scanmail", "mailguard",
        "noreply", "no-reply", "do-not-reply", "donotreply", "autoreply", "auto-reply",
        "autoresponder", "vacation",
    };
    if (from == NULL || *from == '\0')
        return false;
    g_autofree char *addr = bw_address_normalize(from);
    if (addr == NULL)
        return strstr(from, "MAILER-DAEMON") != NULL;
    for (unsigned i = 0; i < G_N_ELEMENTS(locals); i++)
        if (g_str_has_prefix(addr, locals[i]))
            return true;
    return false;
}

static bool
header_has(const bw_view_t *v, const char *name, const char *needle)
{
    const char *h = bw_view_header(v, name);
    return h != NULL && (needle == NULL || bw_casestr(h, strlen(h), needle) != NULL);
}

/* The first non-empty lines of the text, squeezed: the auto-reply's own
 * words as the diagnostic. */
static char *
first_words(const char *text, size_t len)
{
    size_t n = len < 400 ? len : 400;
    /* Do not cut inside a UTF-8 sequence. */
    while (n < len && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    char *s = bw_strdup_squeezed(text, n);
    if (*s == '\0') {
        g_free(s);
        return NULL;
    }
    return s;
}

/* The first address in the notice's own words that is neither its sender
 * nor its addressee: whom the blocked message was for. */
static char *
named_address(const bw_view_t *v, const bw_report_t *report, size_t head)
{
    g_autofree char *sender = bw_address_normalize(v->from);
    const char *t = v->text;
    for (size_t i = 0; i < head; i++) {
        if (t[i] != '@' || i == 0)
            continue;
        size_t b = i, e = i + 1;
        size_t lo = i > 64 ? i - 64 : 0;
        while (b > lo && t[b - 1] > ' ' && t[b - 1] != '<' && t[b - 1] != '"' && t[b - 1] != '(')
            b--;
        while (e < head && e - i < 255 && t[e] > ' ' && t[e] != '>' && t[e] != '"' && t[e] != ')')
            e++;
        g_autofree char *tok = g_strndup(t + b, e - b);
        char *addr = bw_address_normalize(tok);
        if (addr == NULL)
            continue;
        bool skip = sender != NULL && strcmp(addr, sender) == 0;
        for (guint k = 0; !skip && k < report->to->len; k++)
            skip = strcmp(addr, g_ptr_array_index(report->to, k)) == 0;
        if (!skip)
            return addr;
        g_free(addr);
        i = e;
    }
    return NULL;
}

static void
add_sender_recipient(const bw_view_t *v, bw_report_t *report, bw_reason_t reason, bool words)
{
    bw_recipient_t *r = bw_recipient_new();
    r->address = bw_address_normalize(v->from);
    r->reason = reason;
    if (words)
        r->diagnostic = first_words(v->text, v->text_len);
    g_ptr_array_add(report->recipients, r);
}

/* What the headers say about who wrote the message. */
typedef struct {
    bool auto_replied, auto_generated, auto_header, is_list, machine;
} senders_t;

static void read_senders_from_headers(const bw_view_t *v, senders_t *o);

/* The reading is a function of the headers and From: kept in the view's
 * header index, where there is one, for the next detector. */
static void
read_senders(const bw_view_t *v, senders_t *o)
{
    bw_view_index_t *ix = v->message == NULL ? (bw_view_index_t *)v->priv : NULL;
    if (ix != NULL && ix->senders_known && ix->senders_from == v->from) {
        unsigned b = ix->senders_bits;
        *o = (senders_t){ b & 1, (b >> 1) & 1, (b >> 2) & 1, (b >> 3) & 1, (b >> 4) & 1 };
        return;
    }
    read_senders_from_headers(v, o);
    if (ix != NULL) {
        ix->senders_from = v->from;
        ix->senders_bits = (unsigned)o->auto_replied | (unsigned)o->auto_generated << 1 |
                           (unsigned)o->auto_header << 2 | (unsigned)o->is_list << 3 |
                           (unsigned)o->machine << 4;
        ix->senders_known = true;
    }
}

static void
read_senders_from_headers(const bw_view_t *v, senders_t *o)
{
    const char *as = bw_view_header(v, "Auto-Submitted");
    o->auto_replied = as != NULL && bw_casestr(as, strlen(as), "auto-replied") != NULL;
    o->auto_generated = as != NULL && bw_casestr(as, strlen(as), "auto-generated") != NULL;
    o->auto_header = o->auto_replied || header_has(v, "X-Autoreply", NULL) ||
                     header_has(v, "X-Autorespond", NULL) || header_has(v, "X-Auto-Reply", NULL) ||
                     header_has(v, "X-Vacation", NULL) || header_has(v, "Precedence", "auto_reply") ||
                     header_has(v, "X-Mailer", "vacation") || header_has(v, "X-Autogenerated", "reply");
    o->is_list = bw_view_header(v, "List-Id") != NULL || bw_view_header(v, "List-Unsubscribe") != NULL ||
                 header_has(v, "Precedence", "list") || header_has(v, "Precedence", "bulk");
    o->machine = o->auto_header || o->auto_generated || sender_is_automatic(v->from) ||
                 header_has(v, "Precedence", "junk") || header_has(v, "X-Auto-Response-Suppress", NULL) ||
                 bw_generic_sender_is_daemon(v->from);
}

/* Whether a line carries a server's reply code or status code: a "550 ...
 * Virus detected" line is why one recipient failed, not an anti-virus
 * notice. */
static bool
line_has_code(const char *line, size_t ll)
{
    g_autofree char *st = bw_status_code_find(line, ll);
    bool code = st != NULL;
    for (size_t i = 0; !code && i + 3 <= ll; i++)
        code = (line[i] == '4' || line[i] == '5') && g_ascii_isdigit(line[i + 1]) &&
               g_ascii_isdigit(line[i + 2]) && (i == 0 || line[i - 1] == ' ') &&
               (i + 3 == ll || line[i + 3] == ' ' || line[i + 3] == '-');
    return code;
}

/* The lines virus_in_words reads (the first ones of the text head). */
#define VIRUS_LINES 200

typedef struct {
    const char *text;   /* the text head... */
    size_t head;        /* ...of this length */
    size_t base;        /* where the scanned segment starts (a line start) */
    bool found;
} virus_words_t;

/* A match of the virus phrases in the head: it counts as one of a line
 * (the phrase within one line, among the first VIRUS_LINES) whose line
 * carries no code. */
static bool
virus_match(size_t id, size_t start, size_t end, void *data)
{
    (void)id;
    virus_words_t *w = data;
    const char *t = w->text;
    start += w->base;
    end += w->base;
    size_t ls = start;
    while (ls > 0 && t[ls - 1] != '\n')
        ls--;
    const char *nl = memchr(t + start, '\n', w->head - start);
    size_t le = nl != NULL ? (size_t)(nl - t) : w->head;
    if (end > le)
        return true;    /* across a line break: no line says it */
    unsigned n = 0;
    for (const char *q = t; n < VIRUS_LINES && (q = memchr(q, '\n', ls - (size_t)(q - t))) != NULL; q++)
        n++;
    if (n >= VIRUS_LINES)
        return true;    /* past the lines read */
    if (line_has_code(t + ls, le - ls))
        return true;
    w->found = true;
    return false;
}

/* A line of the text head that names a virus and is not a server's
 * diagnostic.  The head is scanned once, not line by line (~10 scans a
 * message, each with its own set-up): no phrase starts or ends with a
 * blank, so a match within one line is one the line's own scan finds (the
 * blanks around the line, read with the line break as one, are no part of
 * it), and one across a line break is not counted.  A scan ends at a NUL byte where a line's
 * own scan would go on with the next line: the next segment starts
 * there. */
static bool
virus_in_words(const char *text, size_t head)
{
    virus_words_t w = {text, head, 0, false};
    while (w.base < head) {
        bw_matcher_scan(matchers[T_VIRUS], text + w.base, head - w.base, virus_match, &w);
        if (w.found)
            return true;
        const char *z = memchr(text + w.base, '\0', head - w.base);
        const char *nl = z != NULL ? memchr(z, '\n', head - (size_t)(z - text)) : NULL;
        if (nl == NULL)
            break;
        w.base = (size_t)(nl - text) + 1;
    }
    return false;
}

bool
bw_virus_notice(const bw_view_t *v)
{
    bw_autoreply_matchers_init();
    const char *subject = v->subject ? v->subject : "";
    size_t slen = strlen(subject);
    size_t head = v->text_len < 2048 ? v->text_len : 2048;
    senders_t who;
    read_senders(v, &who);
    if (who.is_list && !bw_generic_sender_is_daemon(v->from))
        return false;
    /* a subject that names no virus leaves it to an automatic sender's
     * words (checked before the words are read) */
    bool subject_says = ANY(subject, slen, T_VIRUS);
    if (!subject_says && !who.machine)
        return false;
    /* about a message: an anti-virus program's alert about a download or
     * a device is no report of mail */
    static const char *const mail_words[] = {"message", "mail", "attachment", "sent", "recipient",
                                             "nachricht", "courriel", "mensaje", "messaggio",
                                             "mensagem", "сообщени", "письм", "メール", "邮件"};
    bool about_mail = false;
    for (unsigned i = 0; i < G_N_ELEMENTS(mail_words) && !about_mail; i++)
        about_mail = bw_casestr(subject, slen, mail_words[i]) != NULL ||
                     bw_casestr(v->text, head, mail_words[i]) != NULL;
    if (!about_mail)
        return false;
    if (subject_says)
        return who.machine || bw_casestr(v->text, head, "quarantine") != NULL;
    return who.machine && virus_in_words(v->text, head);
}

/* Distinct phrases of a table in a text (up to 64 ids are told apart). */
typedef struct {
    guint64 seen;
    unsigned n;
} phrase_count_t;

static bool
count_one(size_t id, size_t start, size_t end, void *data)
{
    (void)start;
    (void)end;
    phrase_count_t *acc = data;
    guint64 bit = (guint64)1 << (id % 64);
    if (!(acc->seen & bit)) {
        acc->seen |= bit;
        acc->n++;
    }
    return acc->n < 8;
}

static void
count_phrases(const char *text, size_t len, int table, phrase_count_t *acc)
{
    if (text != NULL && len > 0)
        bw_matcher_scan(matchers[table], text, len, count_one, acc);
}

/* The address that asks for confirmation: the one the original was sent
 * to.  The notice usually names it ("You sent a message to a@b"); else the
 * original's To; else the challenger's own address. */
static char *
challenge_recipient(const bw_view_t *v, const bw_report_t *report, const bw_original_t *orig,
                    size_t head)
{
    char *a = named_address(v, report, head);
    if (a != NULL) {
        /* not the challenger's reply address ("confirm+cookie@...") */
        g_autofree char *reply_to = bw_address_normalize(bw_view_header(v, "Reply-To"));
        if (reply_to == NULL || strcmp(a, reply_to) != 0)
            return a;
        g_free(a);
    }
    if (orig != NULL && orig->to->len > 0)
        return g_strdup(g_ptr_array_index(orig->to, 0));
    return bw_address_normalize(v->from);
}

/* Whether a line of the text head is the notice's own: not a quoted
 * header line ("Subject: ...") nor one holding the original's subject
 * (`ol` bytes long), whose words the spammer chose. */
static bool
own_line(const bw_view_t *v, const char *line, size_t ll, size_t ol)
{
    size_t i = 0;
    while (i < ll && (line[i] == ' ' || line[i] == '\t' || line[i] == '>'))
        i++;
    bool quoted = ll - i >= 8 && bw_ascii_ncase_eq(line + i, "subject:", 8);
    return !quoted && !(ol >= 8 && bw_casestr(line, ll, v->orig_subject) != NULL);
}

/* The notice's own lines of the text head (own_line), each with its line
 * break (g_free it). */
static char *
own_words(const bw_view_t *v, size_t head, size_t *len_out)
{
    GString *g = g_string_sized_new(head);
    size_t ol = v->orig_subject != NULL ? strlen(v->orig_subject) : 0;
    size_t pos = 0;
    while (pos < head) {
        const char *nl = memchr(v->text + pos, '\n', head - pos);
        size_t end = nl != NULL ? (size_t)(nl - v->text) : head;
        const char *line = v->text + pos;
        size_t ll = end - pos;
        if (own_line(v, line, ll, ol)) {
            g_string_append_len(g, line, (gssize)ll);
            g_string_append_c(g, '\n');
        }
        pos = end + 1;
    }
    *len_out = g->len;
    return g_string_free(g, FALSE);
}

/* Whether every line of the text head is the notice's own: own_words'
 * copy is then the head itself, with a line break after a last line the
 * head cuts, which a phrase that ends with no blank does not see. */
static bool
own_words_all(const bw_view_t *v, size_t head)
{
    size_t ol = v->orig_subject != NULL ? strlen(v->orig_subject) : 0;
    size_t pos = 0;
    while (pos < head) {
        const char *nl = memchr(v->text + pos, '\n', head - pos);
        size_t end = nl != NULL ? (size_t)(nl - v->text) : head;
        if (!own_line(v, v->text + pos, end - pos, ol))
            return false;
        pos = end + 1;
    }
    return true;
}

/* Whether the mail's own subject, or a challenger's address, asks for a
 * confirmation. */
static bool
challenge_asks(const bw_view_t *v)
{
    g_autofree char *own_subject = bw_generic_own_subject(v->subject, v->orig_subject);
    const char *subject = own_subject != NULL ? own_subject : "";
    bool asks = ANY(subject, strlen(subject), T_CHALLENGE);
    /* "confirm-<cookie>@", "confirm+<cookie>@": a challenger's address */
    const char *addrs[] = {v->from, bw_view_header(v, "Reply-To")};
    for (unsigned i = 0; i < G_N_ELEMENTS(addrs) && !asks; i++) {
        g_autofree char *a = bw_address_normalize(addrs[i]);
        const char *at = a != NULL ? strchr(a, '@') : NULL;
        asks = at != NULL && (bw_casestr(a, (size_t)(at - a), "confirm") != NULL ||
                              bw_casestr(a, (size_t)(at - a), "verify") != NULL);
    }
    return asks;
}

/* What the notice's own lines say: whether a challenge phrase is there,
 * and the distinct strong ones. */
typedef struct {
    bool any;
    phrase_count_t strong;
} words_read_t;

static bool
read_words_one(size_t id, size_t start, size_t end, void *data)
{
    words_read_t *w = data;
    if (id < N_CHALLENGE) {
        w->any = true;
        return true;
    }
    /* two strong phrases decide, whatever else is there */
    return count_one(id - N_CHALLENGE, start, end, &w->strong) && w->strong.n < 2;
}

/* Whether the words of a machine's mail off any list make it a challenge:
 * its own subject or a challenger's address and a challenge phrase of its
 * own lines, or two strong phrases (there or in a recipient's diagnostic).
 * The lines are read first, once for both (T_CHALLENGE_BOTH): the subject
 * and the addresses only matter when they hold a challenge phrase, and two
 * strong phrases decide without them. */
static bool
challenge_words(const bw_view_t *v, const bw_report_t *report, size_t head_len)
{
    /* (no challenge phrase starts or ends with a blank: see own_words_all) */
    size_t head = head_len;
    g_autofree char *copy = own_words_all(v, head_len) ? NULL : own_words(v, head_len, &head);
    const char *words = copy != NULL ? copy : v->text;
    words_read_t w = {false, {0, 0}};
    if (head > 0)
        bw_matcher_scan(matchers[T_CHALLENGE_BOTH], words, head, read_words_one, &w);
    if (w.strong.n >= 2)
        return true;
    if (w.any && challenge_asks(v))
        return true;
    /* a challenge dressed as a DSN may say it in its diagnostic only
     * ("Sender not pre-approved") */
    for (guint i = 0; i < report->recipients->len && i < 16 && w.strong.n < 2; i++) {
        const char *d = ((bw_recipient_t *)g_ptr_array_index(report->recipients, i))->diagnostic;
        if (d != NULL)
            count_phrases(d, strlen(d), T_CHALLENGE_STRONG, &w.strong);
    }
    return w.strong.n >= 2;
}

bool
bw_challenge_detect(const bw_view_t *v, const bw_original_t *orig, bw_report_t *report)
{
    bw_autoreply_matchers_init();
    size_t head_len = v->text_len < 2048 ? v->text_len : 2048;
    senders_t who;
    read_senders(v, &who);
    bool listed = bw_view_header(v, "List-Id") != NULL || bw_view_header(v, "List-Unsubscribe") != NULL;
    bool cr_header = false;
    for (unsigned i = 0; i < G_N_ELEMENTS(challenge_headers) && !cr_header; i++) {
        const char *colon = strchr(challenge_headers[i], ':');
        if (colon == NULL) {
            cr_header = bw_view_header(v, challenge_headers[i]) != NULL;
            continue;
        }
        char name[64];
        size_t nl = (size_t)(colon - challenge_headers[i]);
        if (nl >= sizeof name)
            continue;
        memcpy(name, challenge_headers[i], nl);
        name[nl] = '\0';
        cr_header = header_has(v, name, colon + 2);
    }
    /* without such a header, only a machine's mail off a list can be one:
     * no need to read its words */
    if (!cr_header && (listed || !who.machine))
        return false;
    /* A challenge header says it; else (a machine's mail off any list) its
     * words must, read only as far as the answer needs: the subject and the
     * address first, the body's phrases only when they do, the strong
     * phrases only when that did not decide. */
    bool yes = cr_header || challenge_words(v, report, head_len);
    if (!yes)
        return false;
    report->bounce = true;
    report->kind = BW_KIND_CHALLENGE;
    report->family = "challenge-response";
    /* a challenge dressed as a DSN names its recipient in its fields */
    if (report->recipients->len > 0)
        return true;
    bw_recipient_t *r = bw_recipient_new();
    r->address = challenge_recipient(v, report, orig, head_len);
    r->reason = BW_REASON_UNKNOWN;
    r->diagnostic = first_words(v->text, v->text_len);
    g_ptr_array_add(report->recipients, r);
    return true;
}

bool
bw_autoreply_is_vacation(const bw_view_t *v)
{
    bw_autoreply_matchers_init();
    if (bw_generic_sender_level(v->from) == 2 || bw_view_header(v, "X-Failed-Recipients") != NULL)
        return false;
    senders_t who;
    read_senders(v, &who);
    size_t head = v->text_len < 1024 ? v->text_len : 1024;
    size_t wl = 0;
    g_autofree char *words = own_words(v, head, &wl);
    if (!ANY(words, wl, T_AUTOREPLY_BODY))
        return false;
    const char *subject = v->subject ? v->subject : "";
    return who.auto_header || ANY(subject, strlen(subject), T_AUTOREPLY_SUBJECT);
}

bool
bw_autoreply_detect(const bw_view_t *v, bw_report_t *report)
{
    bw_autoreply_matchers_init();
    const char *subject = v->subject ? v->subject : "";
    size_t slen = strlen(subject);
    /* Only the head of the text: quoted originals come further down. */
    size_t head = v->text_len < 2048 ? v->text_len : 2048;
    senders_t who;
    read_senders(v, &who);
    bool auto_header = who.auto_header, auto_generated = who.auto_generated;
    bool is_list = who.is_list, machine = who.machine;

    /* Anti-virus notices that name no failed recipient. */
    if (bw_virus_notice(v)) {
        report->bounce = true;
        report->kind = BW_KIND_VIRUS;
        report->family = "antivirus";
        bw_recipient_t *r = bw_recipient_new();
        r->reason = BW_REASON_VIRUS;
        r->diagnostic = first_words(v->text, v->text_len);
        r->address = named_address(v, report, head);
        g_ptr_array_add(report->recipients, r);
        return true;
    }
    if (bw_challenge_detect(v, NULL, report))
        return true;

    /* Auto-replies. */
    bool subject_says = ANY(subject, slen, T_AUTOREPLY_SUBJECT);
    bool body_says = ANY(v->text, head, T_AUTOREPLY_BODY);
    bool yes;
    if (auto_header)
        yes = true;                       /* RFC 3834 or a vacation program said so */
    else if (is_list)
        yes = false;                      /* list mail: only when clearly one */
    else
        yes = (subject_says && (body_says || machine)) ||
              (auto_generated && body_says);
    if (!yes)
        return false;
    report->bounce = true;
    report->kind = BW_KIND_AUTOREPLY;
    report->family = "rfc3834";
    add_sender_recipient(v, report, BW_REASON_VACATION, true);
    return true;
}
