/* reason.c: RFC 3463 status codes, SMTP reply codes and diagnostic phrases
 * mapped to the reason taxonomy of shared/SPEC.md.
 *
 * Everything a contributor may want to extend is a table below: a status
 * code, a reply code or a phrase plus the reason it means.  Phrases are
 * matched by one Aho-Corasick automaton (vendor-match.c): linear time, case
 * and white space insensitive, whatever the number of phrases. */
#include "bw-vendor.h"
#include <string.h>

/* ------------------------------------------------------------ status codes */

/* How much a status code says.  A STRONG code names the failure precisely
 * (x.1.1 is a bad mailbox, x.2.2 a full one) and beats ordinary phrases of
 * the diagnostic; a WEAK code is what servers use for many different
 * failures (x.7.1 for spam, blocks and policy alike; x.2.1 for unknown users
 * as often as for disabled ones), so any real phrase of the text wins. */
enum { WEAK = 1, STRONG = 2 };

typedef struct {
    const char *code;       /* subject.detail, without the class digit */
    bw_reason_t reason;
    int strength;
} status_entry_t;

static const status_entry_t status_table[] = {
    /* X.1: addressing */
    {"1.0", BW_REASON_USER_UNKNOWN, WEAK},
    {"1.1", BW_REASON_USER_UNKNOWN, STRONG},
    {"1.2", BW_REASON_HOST_UNKNOWN, STRONG},
    {"1.3", BW_REASON_USER_UNKNOWN, WEAK},       /* bad mailbox syntax */
    {"1.4", BW_REASON_USER_UNKNOWN, WEAK},       /* ambiguous address */
    {"1.6", BW_REASON_USER_UNKNOWN, STRONG},     /* mailbox has moved */
    {"1.7", BW_REASON_BLOCKED, WEAK},            /* bad sender mailbox syntax */
    {"1.8", BW_REASON_BLOCKED, WEAK},            /* bad sender system address */
    /* RFC 7505 says null MX, but Exchange Online uses 5.1.10 for
     * RecipientNotFound: weak, so the text tells which. */
    {"1.10", BW_REASON_HOST_UNKNOWN, WEAK},
    /* X.2: mailbox */
    {"2.1", BW_REASON_SUSPENDED, WEAK},
    {"2.2", BW_REASON_MAILBOX_FULL, STRONG},
    {"2.3", BW_REASON_MESSAGE_TOO_LARGE, STRONG},
    {"2.4", BW_REASON_SYSTEM_ERROR, WEAK},       /* list expansion problem */
    /* X.3: mail system */
    {"3.0", BW_REASON_SYSTEM_ERROR, WEAK},
    {"3.1", BW_REASON_SYSTEM_ERROR, WEAK},       /* mail system full */
    {"3.2", BW_REASON_SYSTEM_ERROR, WEAK},       /* not accepting messages */
    {"3.3", BW_REASON_SYSTEM_ERROR, WEAK},
    {"3.4", BW_REASON_MESSAGE_TOO_LARGE, STRONG},
    {"3.5", BW_REASON_SYSTEM_ERROR, WEAK},       /* incorrectly configured */
    /* X.4: network and routing */
    {"4.0", BW_REASON_NETWORK_ERROR, WEAK},
    {"4.1", BW_REASON_NETWORK_ERROR, STRONG},    /* no answer from host */
    {"4.2", BW_REASON_NETWORK_ERROR, WEAK},      /* bad connection */
    {"4.3", BW_REASON_SYSTEM_ERROR, WEAK},       /* directory server failure */
    {"4.4", BW_REASON_HOST_UNKNOWN, WEAK},       /* unable to route */
    {"4.5", BW_REASON_RATE_LIMITED, WEAK},       /* congestion */
    {"4.6", BW_REASON_NETWORK_ERROR, STRONG},    /* routing loop */
    {"4.7", BW_REASON_EXPIRED, STRONG},
    /* Exchange Online's detailed X.4.nnn codes */
    {"4.300", BW_REASON_EXPIRED, STRONG},
    {"4.310", BW_REASON_HOST_UNKNOWN, STRONG},   /* DNS domain does not exist */
    {"4.316", BW_REASON_NETWORK_ERROR, STRONG},  /* connection refused */
    {"4.318", BW_REASON_NETWORK_ERROR, STRONG},
    /* X.5: protocol */
    /* x.5.0 is every server's catch-all ("550 5.5.0 mailbox unavailable"):
     * no entry, the text decides. */
    {"5.1", BW_REASON_SYSTEM_ERROR, WEAK},
    {"5.2", BW_REASON_SYSTEM_ERROR, WEAK},
    {"5.3", BW_REASON_RATE_LIMITED, WEAK},       /* too many recipients */
    {"5.4", BW_REASON_SYSTEM_ERROR, WEAK},
    {"5.5", BW_REASON_SYSTEM_ERROR, WEAK},
    {"5.6", BW_REASON_CONTENT_REJECTED, WEAK},   /* auth line too long */
    /* X.6: content */
    {"6.0", BW_REASON_CONTENT_REJECTED, WEAK},
    {"6.1", BW_REASON_CONTENT_REJECTED, WEAK},
    {"6.2", BW_REASON_CONTENT_REJECTED, WEAK},
    {"6.3", BW_REASON_CONTENT_REJECTED, WEAK},
    {"6.4", BW_REASON_CONTENT_REJECTED, WEAK},
    {"6.5", BW_REASON_CONTENT_REJECTED, WEAK},
    {"6.6", BW_REASON_CONTENT_REJECTED, WEAK},
    {"6.7", BW_REASON_CONTENT_REJECTED, STRONG}, /* non-ASCII address (RFC 6531) */
    {"6.8", BW_REASON_CONTENT_REJECTED, STRONG},
    {"6.9", BW_REASON_CONTENT_REJECTED, STRONG},
    {"6.10", BW_REASON_CONTENT_REJECTED, STRONG},
    /* X.7: security and policy */
    {"7.0", BW_REASON_POLICY, WEAK},
    {"7.1", BW_REASON_BLOCKED, WEAK},
    {"7.2", BW_REASON_POLICY, WEAK},             /* list expansion prohibited */
    {"7.3", BW_REASON_POLICY, WEAK},
    {"7.4", BW_REASON_TLS_ERROR, STRONG},
    {"7.5", BW_REASON_TLS_ERROR, STRONG},
    {"7.6", BW_REASON_TLS_ERROR, STRONG},
    {"7.7", BW_REASON_CONTENT_REJECTED, WEAK},   /* integrity failure */
    {"7.8", BW_REASON_AUTH_FAILURE, STRONG},     /* credentials invalid */
    {"7.9", BW_REASON_AUTH_FAILURE, WEAK},       /* Yahoo: policy refusals */
    {"7.10", BW_REASON_TLS_ERROR, STRONG},       /* encryption needed */
    {"7.11", BW_REASON_TLS_ERROR, STRONG},
    {"7.12", BW_REASON_AUTH_FAILURE, STRONG},
    {"7.13", BW_REASON_SUSPENDED, STRONG},       /* user account disabled */
    {"7.14", BW_REASON_POLICY, WEAK},
    {"7.15", BW_REASON_POLICY, WEAK},
    {"7.16", BW_REASON_POLICY, WEAK},
    {"7.17", BW_REASON_POLICY, WEAK},
    {"7.18", BW_REASON_USER_UNKNOWN, STRONG},    /* RFC 7293 owner changed */
    {"7.19", BW_REASON_USER_UNKNOWN, STRONG},
    {"7.20", BW_REASON_AUTH_FAILURE, STRONG},    /* RFC 7372: DKIM, SPF, DMARC */
    {"7.21", BW_REASON_AUTH_FAILURE, STRONG},
    {"7.22", BW_REASON_AUTH_FAILURE, STRONG},
    {"7.23", BW_REASON_AUTH_FAILURE, STRONG},
    {"7.24", BW_REASON_AUTH_FAILURE, STRONG},
    {"7.25", BW_REASON_BLOCKED, STRONG},         /* reverse DNS failed */
    {"7.26", BW_REASON_AUTH_FAILURE, STRONG},
    {"7.27", BW_REASON_BLOCKED, STRONG},         /* sender has null MX */
    {"7.28", BW_REASON_SPAM, STRONG},            /* mail flood */
    {"7.29", BW_REASON_AUTH_FAILURE, STRONG},    /* ARC */
    {"7.30", BW_REASON_TLS_ERROR, STRONG},       /* REQUIRETLS */
    /* Exchange Online's detailed X.7.nnn codes */
    {"7.133", BW_REASON_POLICY, STRONG},         /* group restricted */
    {"7.509", BW_REASON_AUTH_FAILURE, STRONG},   /* DMARC reject */
    {"7.510", BW_REASON_AUTH_FAILURE, STRONG},
    {"7.511", BW_REASON_BLOCKED, STRONG},        /* banned sender */
    {"7.606", BW_REASON_BLOCKED, STRONG},        /* banned sending IP */
    {"7.708", BW_REASON_BLOCKED, STRONG},
    {"7.750", BW_REASON_BLOCKED, STRONG},
};

/* Splits "5.1.1" style text: class digit, and the rest after "c.". */
static bool
status_parts(const char *status, char *klass, char *rest, size_t rest_size)
{
    if (status == NULL)
        return false;
    while (*status == ' ' || *status == '\t')
        status++;
    if (!(status[0] == '2' || status[0] == '4' || status[0] == '5') || status[1] != '.')
        return false;
    size_t n = 0;
    const char *p = status + 2;
    int dots = 0;
    while ((g_ascii_isdigit(*p) || *p == '.') && n + 1 < rest_size) {
        if (*p == '.')
            dots++;
        rest[n++] = *p++;
    }
    rest[n] = '\0';
    if (dots != 1 || n < 3 || rest[0] == '.' || rest[n - 1] == '.')
        return false;
    *klass = status[0];
    return true;
}

static bw_reason_t
reason_from_status_strength(const char *status, int *strength)
{
    char klass, rest[16];
    *strength = 0;
    if (!status_parts(status, &klass, rest, sizeof rest))
        return BW_REASON_UNKNOWN;
    if (klass == '2') {
        *strength = STRONG;
        return BW_REASON_DELIVERED;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(status_table); i++)
        if (strcmp(status_table[i].code, rest) == 0) {
            *strength = status_table[i].strength;
            return status_table[i].reason;
        }
    return BW_REASON_UNKNOWN;
}

bw_reason_t
bw_reason_from_status(const char *status)
{
    int strength;
    return reason_from_status_strength(status, &strength);
}

/* ------------------------------------------------------------ phrases */

/* Weight of a phrase: GENERIC phrases ("could not be delivered") appear in
 * nearly every notice and only decide when nothing else does; SPECIFIC ones
 * name an unmistakable cause and beat even a strong status code. */
enum { GENERIC = 1, NORMAL = 2, SPECIFIC = 3 };

typedef struct {
    const char *phrase;   /* lower-case; '^' = at line start */
    bw_reason_t reason;
    int weight;
} phrase_entry_t;

#define P(s, r, w) {s, BW_REASON_##r, w}

static const phrase_entry_t phrase_table[] = {
    /* ---- user unknown */
    P("user unknown", USER_UNKNOWN, NORMAL),
    P("unknown user", USER_UNKNOWN, NORMAL),
    P("no such user", USER_UNKNOWN, NORMAL),
    P("no such mailbox", USER_UNKNOWN, NORMAL),
    P("no such recipient", USER_UNKNOWN, NORMAL),
    P("no such person", USER_UNKNOWN, NORMAL),
    P("no such account", USER_UNKNOWN, NORMAL),
    P("no such address", USER_UNKNOWN, NORMAL),
    P("no mailbox here by that name", USER_UNKNOWN, NORMAL),
    P("no account by that name", USER_UNKNOWN, NORMAL),
    P("user not found", USER_UNKNOWN, NORMAL),
    P("user doesn't exist", USER_UNKNOWN, NORMAL),
    P("user does not exist", USER_UNKNOWN, NORMAL),
    P("user not listed", USER_UNKNOWN, NORMAL),
    P("recipient not found", USER_UNKNOWN, NORMAL),
    P("recipient unknown", USER_UNKNOWN, NORMAL),
    P("unknown recipient", USER_UNKNOWN, NORMAL),
    P("recipient does not exist", USER_UNKNOWN, NORMAL),
    P("recipient address rejected: undeliverable address", USER_UNKNOWN, NORMAL),
    P("recipnotfound", USER_UNKNOWN, NORMAL),
    P("recipientnotfound", USER_UNKNOWN, NORMAL),
    P("mailbox not found", USER_UNKNOWN, NORMAL),
    P("mailbox does not exist", USER_UNKNOWN, NORMAL),
    P("mailbox doesn't exist", USER_UNKNOWN, NORMAL),
    P("mailbox unknown", USER_UNKNOWN, NORMAL),
    P("unknown mailbox", USER_UNKNOWN, NORMAL),
    P("mailbox unavailable", USER_UNKNOWN, NORMAL),
    P("mailbox is unavailable", USER_UNKNOWN, NORMAL),
    P("user not exist", USER_UNKNOWN, NORMAL),
    P("not exist", USER_UNKNOWN, GENERIC),
    P("recipient address rejected", USER_UNKNOWN, GENERIC),
    /* Exchange Online Protection refuses unknown recipients so */
    P("recipient address rejected: access denied", USER_UNKNOWN, SPECIFIC),
    P("ディレクトリのリストにありません", USER_UNKNOWN, NORMAL),
    P("mailbox not available", USER_UNKNOWN, GENERIC),
    P("address does not exist", USER_UNKNOWN, NORMAL),
    P("address doesn't exist", USER_UNKNOWN, NORMAL),
    P("address unknown", USER_UNKNOWN, NORMAL),
    P("unknown address", USER_UNKNOWN, NORMAL),
    P("addressee unknown", USER_UNKNOWN, NORMAL),
    P("account does not exist", USER_UNKNOWN, NORMAL),
    P("account doesn't exist", USER_UNKNOWN, NORMAL),
    P("does not have an account", USER_UNKNOWN, NORMAL),
    P("doesn't have a", USER_UNKNOWN, GENERIC),      /* Yahoo: "doesn't have a yahoo.com account" */
    P("tried to reach does not exist", USER_UNKNOWN, NORMAL),
    P("couldn't be found", USER_UNKNOWN, GENERIC),
    P("could not be found", USER_UNKNOWN, GENERIC),
    P("address wasn't found", USER_UNKNOWN, NORMAL),
    P("wasn't found at", USER_UNKNOWN, NORMAL),
    P("check if address is correct", USER_UNKNOWN, GENERIC),
    P("address is possibly incorrect", USER_UNKNOWN, NORMAL),
    P("does not exist", USER_UNKNOWN, GENERIC),
    P("invalid recipient", USER_UNKNOWN, NORMAL),
    P("invalid mailbox", USER_UNKNOWN, NORMAL),
    P("invalid user", USER_UNKNOWN, NORMAL),
    P("bad recipient", USER_UNKNOWN, NORMAL),
    P("bad destination mailbox", USER_UNKNOWN, NORMAL),
    P("not a valid mailbox", USER_UNKNOWN, NORMAL),
    P("not a valid recipient", USER_UNKNOWN, NORMAL),
    P("is not a known user", USER_UNKNOWN, NORMAL),
    P("not a valid user", USER_UNKNOWN, NORMAL),
    P("nonexistent user", USER_UNKNOWN, NORMAL),
    P("non-existent user", USER_UNKNOWN, NORMAL),
    P("unknown local part", USER_UNKNOWN, NORMAL),
    P("unknown or illegal alias", USER_UNKNOWN, NORMAL),
    P("not listed in domino directory", USER_UNKNOWN, NORMAL),
    P("not listed in public name & address book", USER_UNKNOWN, NORMAL),
    P("no matches to nameserver query", USER_UNKNOWN, NORMAL),
    P("destination addresses were unknown", USER_UNKNOWN, NORMAL),
    P("not our customer", USER_UNKNOWN, NORMAL),
    P("mailbox has moved", USER_UNKNOWN, NORMAL),
    P("address has moved", USER_UNKNOWN, NORMAL),
    P("宛先不明", USER_UNKNOWN, NORMAL),
    P("存在しません", USER_UNKNOWN, NORMAL),
    P("存在しない", USER_UNKNOWN, NORMAL),
    P("見つかりません", USER_UNKNOWN, GENERIC),
    P("該当するユーザ", USER_UNKNOWN, NORMAL),
    P("ユーザーが見つかりません", USER_UNKNOWN, NORMAL),
    P("ユーザが見つかりません", USER_UNKNOWN, NORMAL),
    P("benutzer unbekannt", USER_UNKNOWN, NORMAL),
    P("empfänger unbekannt", USER_UNKNOWN, NORMAL),
    P("unbekannter empfänger", USER_UNKNOWN, NORMAL),
    P("existiert nicht", USER_UNKNOWN, GENERIC),
    P("utilisateur inconnu", USER_UNKNOWN, NORMAL),
    P("destinataire inconnu", USER_UNKNOWN, NORMAL),
    P("adresse introuvable", USER_UNKNOWN, NORMAL),
    P("destinataire invalide", USER_UNKNOWN, NORMAL),
    P("n'existe pas", USER_UNKNOWN, GENERIC),
    P("usuario desconocido", USER_UNKNOWN, NORMAL),
    P("destinatario desconocido", USER_UNKNOWN, NORMAL),
    P("no existe", USER_UNKNOWN, GENERIC),
    P("usuário desconhecido", USER_UNKNOWN, NORMAL),
    P("utilizador desconhecido", USER_UNKNOWN, NORMAL),
    P("destinatário desconhecido", USER_UNKNOWN, NORMAL),
    P("não existe", USER_UNKNOWN, GENERIC),
    P("utente sconosciuto", USER_UNKNOWN, NORMAL),
    P("нет такого пользователя", USER_UNKNOWN, NORMAL),
    P("пользователь не существует", USER_UNKNOWN, NORMAL),
    P("неизвестный пользователь", USER_UNKNOWN, NORMAL),
    P("почтовый ящик не найден", USER_UNKNOWN, NORMAL),
    P("не существует", USER_UNKNOWN, GENERIC),

    /* ---- host unknown / DNS */
    P("host unknown", HOST_UNKNOWN, NORMAL),
    P("unknown host", HOST_UNKNOWN, NORMAL),
    P("host not found", HOST_UNKNOWN, NORMAL),
    P("domain not found", HOST_UNKNOWN, NORMAL),
    P("unknown domain", HOST_UNKNOWN, NORMAL),
    P("no such domain", HOST_UNKNOWN, NORMAL),
    P("domain does not exist", HOST_UNKNOWN, NORMAL),
    P("domain doesn't exist", HOST_UNKNOWN, NORMAL),
    P("domain name not found", HOST_UNKNOWN, NORMAL),
    P("host or domain name not found", HOST_UNKNOWN, NORMAL),
    P("unrouteable address", HOST_UNKNOWN, NORMAL),
    P("unrouteable mail domain", HOST_UNKNOWN, NORMAL),
    P("unroutable address", HOST_UNKNOWN, NORMAL),
    P("couldn't find any host named", HOST_UNKNOWN, NORMAL),
    P("couldn't find a mail exchanger", HOST_UNKNOWN, NORMAL),
    P("no mail exchanger", HOST_UNKNOWN, NORMAL),
    P("no mx record", HOST_UNKNOWN, NORMAL),
    P("point to non-existent hosts", HOST_UNKNOWN, NORMAL),
    P("no valid mx", HOST_UNKNOWN, NORMAL),
    P("mx points to", HOST_UNKNOWN, GENERIC),
    P("name or service not known", HOST_UNKNOWN, NORMAL),
    P("nxdomain", HOST_UNKNOWN, NORMAL),
    P("dns error", HOST_UNKNOWN, NORMAL),
    P("dns lookup failed", HOST_UNKNOWN, NORMAL),
    P("recipientdomainnotfound", HOST_UNKNOWN, NORMAL),
    P("domain name in the email address is incorrect", HOST_UNKNOWN, NORMAL),
    P("ホストが見つかりません", HOST_UNKNOWN, NORMAL),
    P("ドメインが見つかりません", HOST_UNKNOWN, NORMAL),
    P("ドメインが存在しません", HOST_UNKNOWN, SPECIFIC),
    P("domain existiert nicht", HOST_UNKNOWN, NORMAL),
    P("unbekannte domain", HOST_UNKNOWN, NORMAL),
    P("host nicht gefunden", HOST_UNKNOWN, NORMAL),
    P("domaine inconnu", HOST_UNKNOWN, NORMAL),
    P("domaine introuvable", HOST_UNKNOWN, NORMAL),
    P("hôte inconnu", HOST_UNKNOWN, NORMAL),
    P("dominio no existe", HOST_UNKNOWN, NORMAL),
    P("dominio desconocido", HOST_UNKNOWN, NORMAL),
    P("domínio não existe", HOST_UNKNOWN, NORMAL),
    P("domínio desconhecido", HOST_UNKNOWN, NORMAL),
    P("домен не существует", HOST_UNKNOWN, NORMAL),
    P("домен не найден", HOST_UNKNOWN, NORMAL),

    /* ---- mailbox full */
    P("mailbox full", MAILBOX_FULL, SPECIFIC),
    P("mailbox is full", MAILBOX_FULL, SPECIFIC),
    P("mail box full", MAILBOX_FULL, SPECIFIC),
    P("inbox is full", MAILBOX_FULL, SPECIFIC),
    P("mailfolder is full", MAILBOX_FULL, SPECIFIC),
    P("mailbox has exceeded", MAILBOX_FULL, SPECIFIC),
    P("mailbox size limit exceeded", MAILBOX_FULL, SPECIFIC),
    P("mailbox would exceed", MAILBOX_FULL, SPECIFIC),
    P("mailbox exceeds", MAILBOX_FULL, SPECIFIC),
    P("mailbox exceeded", MAILBOX_FULL, SPECIFIC),
    P("over quota", MAILBOX_FULL, SPECIFIC),
    P("overquota", MAILBOX_FULL, SPECIFIC),
    P("over the quota", MAILBOX_FULL, SPECIFIC),
    P("quota exceeded", MAILBOX_FULL, SPECIFIC),
    P("exceeds quota", MAILBOX_FULL, SPECIFIC),
    P("exceed quota", MAILBOX_FULL, SPECIFIC),
    P("quota full", MAILBOX_FULL, SPECIFIC),
    P("disk quota", MAILBOX_FULL, SPECIFIC),
    P("storage quota", MAILBOX_FULL, SPECIFIC),
    P("exceeded storage allocation", MAILBOX_FULL, SPECIFIC),
    P("out of storage space", MAILBOX_FULL, NORMAL),
    P("not enough storage", MAILBOX_FULL, NORMAL),
    P("容量超過", MAILBOX_FULL, SPECIFIC),
    P("容量オーバー", MAILBOX_FULL, SPECIFIC),
    P("いっぱい", MAILBOX_FULL, NORMAL),
    P("満杯", MAILBOX_FULL, NORMAL),
    P("容量", MAILBOX_FULL, NORMAL),
    P("postfach voll", MAILBOX_FULL, SPECIFIC),
    P("postfach ist voll", MAILBOX_FULL, SPECIFIC),
    P("speicherplatz", MAILBOX_FULL, NORMAL),
    P("quota überschritten", MAILBOX_FULL, SPECIFIC),
    P("boîte pleine", MAILBOX_FULL, SPECIFIC),
    P("boite pleine", MAILBOX_FULL, SPECIFIC),
    P("boîte aux lettres pleine", MAILBOX_FULL, SPECIFIC),
    P("quota dépassé", MAILBOX_FULL, SPECIFIC),
    P("buzón lleno", MAILBOX_FULL, SPECIFIC),
    P("buzon lleno", MAILBOX_FULL, SPECIFIC),
    P("buzón está lleno", MAILBOX_FULL, SPECIFIC),
    P("cuota excedida", MAILBOX_FULL, SPECIFIC),
    P("caixa postal cheia", MAILBOX_FULL, SPECIFIC),
    P("caixa de correio cheia", MAILBOX_FULL, SPECIFIC),
    P("cota excedida", MAILBOX_FULL, SPECIFIC),
    P("quota excedida", MAILBOX_FULL, SPECIFIC),
    P("ящик переполнен", MAILBOX_FULL, SPECIFIC),
    P("переполнен", MAILBOX_FULL, NORMAL),
    P("превышена квота", MAILBOX_FULL, SPECIFIC),

    /* ---- message too large */
    P("message too large", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message too big", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message is too large", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message is too big", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message size exceeds", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message size exceeded", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message length exceeds", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message exceeds the maximum", MESSAGE_TOO_LARGE, SPECIFIC),
    P("exceeds the maximum size", MESSAGE_TOO_LARGE, SPECIFIC),
    P("exceeds size limit", MESSAGE_TOO_LARGE, SPECIFIC),
    P("exceeded the size limit", MESSAGE_TOO_LARGE, SPECIFIC),
    P("size limit exceeded", MESSAGE_TOO_LARGE, NORMAL),
    P("maximum message size", MESSAGE_TOO_LARGE, SPECIFIC),
    P("message file too big", MESSAGE_TOO_LARGE, SPECIFIC),
    P("mail size", MESSAGE_TOO_LARGE, NORMAL),
    P("too large", MESSAGE_TOO_LARGE, NORMAL),
    P("メールサイズ", MESSAGE_TOO_LARGE, SPECIFIC),
    P("大きすぎ", MESSAGE_TOO_LARGE, SPECIFIC),
    P("nachricht zu groß", MESSAGE_TOO_LARGE, SPECIFIC),
    P("zu groß", MESSAGE_TOO_LARGE, NORMAL),
    P("trop volumineux", MESSAGE_TOO_LARGE, SPECIFIC),
    P("taille maximale", MESSAGE_TOO_LARGE, NORMAL),
    P("demasiado grande", MESSAGE_TOO_LARGE, SPECIFIC),
    P("tamaño máximo", MESSAGE_TOO_LARGE, NORMAL),
    P("mensagem muito grande", MESSAGE_TOO_LARGE, SPECIFIC),
    P("tamanho máximo", MESSAGE_TOO_LARGE, NORMAL),
    P("слишком большой", MESSAGE_TOO_LARGE, SPECIFIC),
    P("превышает допустимый размер", MESSAGE_TOO_LARGE, SPECIFIC),

    /* ---- expired, not responding, gave up */
    P("could not be delivered", EXPIRED, GENERIC),
    P("couldn't be delivered", EXPIRED, GENERIC),
    P("delivery has failed", EXPIRED, GENERIC),
    P("undeliverable", EXPIRED, GENERIC),
    P("message expired", EXPIRED, SPECIFIC),
    P("delivery time expired", EXPIRED, SPECIFIC),
    P("delivery expired", EXPIRED, SPECIFIC),
    P("retry timeout exceeded", EXPIRED, SPECIFIC),
    P("retry time not reached", EXPIRED, NORMAL),
    P("in the queue too long", EXPIRED, NORMAL),
    P("queue too long", EXPIRED, NORMAL),
    P("too long in queue", EXPIRED, NORMAL),
    P("could not be delivered for", EXPIRED, SPECIFIC),
    P("has not been delivered", EXPIRED, NORMAL),
    P("giving up", EXPIRED, GENERIC),
    P("envelope expired", EXPIRED, SPECIFIC),
    /* Gmail, after days of retries */
    P("did not accept our requests to connect", EXPIRED, NORMAL),
    P("failing for a long time", EXPIRED, SPECIFIC),
    P("will be retried", EXPIRED, NORMAL),
    P("delivery temporarily suspended", NETWORK_ERROR, GENERIC),
    P("not responding", EXPIRED, NORMAL),
    P("did not respond", EXPIRED, NORMAL),
    P("server is not responding", EXPIRED, NORMAL),
    P("message delayed", EXPIRED, NORMAL),
    P("delivery is delayed", EXPIRED, NORMAL),
    P("配信できません", EXPIRED, GENERIC),
    P("送信できません", EXPIRED, GENERIC),
    P("期限切れ", EXPIRED, SPECIFIC),
    P("konnte nicht zugestellt werden", EXPIRED, GENERIC),
    P("n'a pas pu être remis", EXPIRED, GENERIC),
    P("no se pudo entregar", EXPIRED, GENERIC),
    P("não pôde ser entregue", EXPIRED, GENERIC),
    P("не может быть доставлено", EXPIRED, GENERIC),
    P("не доставлено", EXPIRED, GENERIC),

    /* ---- virus */
    P("virus", VIRUS, SPECIFIC),
    P("infected", VIRUS, SPECIFIC),
    P("malware", VIRUS, SPECIFIC),
    P("trojan", VIRUS, SPECIFIC),
    P("ウイルス", VIRUS, SPECIFIC),
    P("ウィルス", VIRUS, SPECIFIC),
    P("вирус", VIRUS, SPECIFIC),

    /* ---- content rejected, line too long, RFC violations */
    P("line too long", CONTENT_REJECTED, SPECIFIC),
    P("lines too long", CONTENT_REJECTED, SPECIFIC),
    P("line length exceeded", CONTENT_REJECTED, SPECIFIC),
    P("line length exceeds", CONTENT_REJECTED, SPECIFIC),
    P("line limit exceeded", CONTENT_REJECTED, SPECIFIC),
    P("content rejected", CONTENT_REJECTED, NORMAL),
    P("message content", CONTENT_REJECTED, GENERIC),
    P("content filter", CONTENT_REJECTED, NORMAL),
    P("contains prohibited", CONTENT_REJECTED, NORMAL),
    P("banned attachment", CONTENT_REJECTED, SPECIFIC),
    P("attachment not allowed", CONTENT_REJECTED, SPECIFIC),
    P("prohibited attachment", CONTENT_REJECTED, SPECIFIC),
    P("not rfc 5322 compliant", CONTENT_REJECTED, SPECIFIC),
    P("rfc 5322", CONTENT_REJECTED, NORMAL),
    P("rfc5322", CONTENT_REJECTED, NORMAL),
    P("rfc 2822", CONTENT_REJECTED, NORMAL),
    P("rfc2822", CONTENT_REJECTED, NORMAL),
    P("missing required header", CONTENT_REJECTED, SPECIFIC),
    P("duplicate header", CONTENT_REJECTED, SPECIFIC),
    P("header error", CONTENT_REJECTED, NORMAL),
    P("bare lf", CONTENT_REJECTED, SPECIFIC),
    P("bare linefeed", CONTENT_REJECTED, SPECIFIC),
    P("illegal character", CONTENT_REJECTED, NORMAL),

    /* ---- spam */
    P("spam", SPAM, NORMAL),
    P("detected as spam", SPAM, SPECIFIC),
    P("classified as spam", SPAM, SPECIFIC),
    P("identified as spam", SPAM, SPECIFIC),
    P("considered as spam", SPAM, SPECIFIC),
    P("considered spam", SPAM, SPECIFIC),
    P("looks like spam", SPAM, SPECIFIC),
    P("likely spam", SPAM, SPECIFIC),
    P("suspected spam", SPAM, SPECIFIC),
    P("suspicious url", SPAM, SPECIFIC),
    P("spam score", SPAM, SPECIFIC),
    P("spam content", SPAM, SPECIFIC),
    P("spam message", SPAM, SPECIFIC),
    P("junk mail", SPAM, SPECIFIC),
    P("unsolicited", SPAM, SPECIFIC),
    P("bulk mail", SPAM, NORMAL),
    P("迷惑メール", SPAM, SPECIFIC),
    P("スパム", SPAM, SPECIFIC),
    P("pourriel", SPAM, SPECIFIC),
    P("correo no deseado", SPAM, SPECIFIC),
    P("спам", SPAM, SPECIFIC),

    /* ---- blocked: the sender, its IP or its domain is refused */
    P("blocked", BLOCKED, NORMAL),
    P("rejected", BLOCKED, GENERIC),
    P("refused to talk to me", BLOCKED, NORMAL),
    P("unroutable sender address", BLOCKED, SPECIFIC),
    P("smtp server of your isp", BLOCKED, NORMAL),
    P("ip name lookup failed", BLOCKED, SPECIFIC),
    P("mismatches client ip", BLOCKED, NORMAL),
    P("user complaints", BLOCKED, SPECIFIC),
    P("blocked using", BLOCKED, SPECIFIC),
    P("blacklist", BLOCKED, SPECIFIC),
    P("blocklist", BLOCKED, SPECIFIC),
    P("block list", BLOCKED, SPECIFIC),
    P("blacklisted", BLOCKED, SPECIFIC),
    P("denylist", BLOCKED, SPECIFIC),
    P("dnsbl", BLOCKED, SPECIFIC),
    P("spamhaus", BLOCKED, SPECIFIC),
    P("spamcop", BLOCKED, SPECIFIC),
    P("barracudacentral", BLOCKED, SPECIFIC),
    P("client host rejected", BLOCKED, NORMAL),
    P("sender address rejected", BLOCKED, NORMAL),
    P("sender rejected", BLOCKED, NORMAL),
    P("sender was rejected", BLOCKED, NORMAL),
    P("sender denied", BLOCKED, NORMAL),
    P("sender blocked", BLOCKED, NORMAL),
    P("sender verify failed", BLOCKED, NORMAL),
    P("domain of sender address", BLOCKED, NORMAL),
    P("my name was rejected", BLOCKED, NORMAL),
    P("access denied", BLOCKED, GENERIC),
    P("reputation", BLOCKED, SPECIFIC),
    P("reverse dns", BLOCKED, SPECIFIC),
    P("ptr record", BLOCKED, SPECIFIC),
    P("no ptr", BLOCKED, SPECIFIC),
    P("rdns", BLOCKED, NORMAL),
    P("cannot find your hostname", BLOCKED, SPECIFIC),
    P("cannot resolve your", BLOCKED, SPECIFIC),
    P("refused to accept", BLOCKED, NORMAL),
    P("受信拒否", BLOCKED, NORMAL),
    P("拒否", BLOCKED, GENERIC),
    P("abgelehnt", BLOCKED, GENERIC),
    P("bloqué", BLOCKED, NORMAL),
    P("bloqueado", BLOCKED, NORMAL),
    P("заблокирован", BLOCKED, NORMAL),

    /* ---- policy */
    P("policy", POLICY, NORMAL),
    P("not allowed", POLICY, GENERIC),
    P("not permitted", POLICY, GENERIC),
    P("prohibited", POLICY, GENERIC),
    P("not authorized", POLICY, GENERIC),
    P("permission to post", POLICY, NORMAL),
    P("not a member of", POLICY, NORMAL),
    P("権限がない", POLICY, NORMAL),
    P("投稿する権限", POLICY, SPECIFIC),
    P("relay access denied", POLICY, SPECIFIC),
    P("relaying denied", POLICY, SPECIFIC),
    P("relay not permitted", POLICY, SPECIFIC),
    P("unable to relay", POLICY, SPECIFIC),
    P("relaying not allowed", POLICY, SPECIFIC),
    P("we do not relay", POLICY, SPECIFIC),
    P("ポリシー", POLICY, NORMAL),
    P("richtlinie", POLICY, NORMAL),
    P("politique", POLICY, NORMAL),
    P("política", POLICY, NORMAL),

    /* ---- SPF, DKIM, DMARC */
    P("spf", AUTH_FAILURE, SPECIFIC),
    P("dkim", AUTH_FAILURE, SPECIFIC),
    P("dmarc", AUTH_FAILURE, SPECIFIC),
    P("sender policy framework", AUTH_FAILURE, SPECIFIC),
    P("sender id", AUTH_FAILURE, NORMAL),
    P("unauthenticated email", AUTH_FAILURE, SPECIFIC),
    P("authentication checks", AUTH_FAILURE, SPECIFIC),
    P("authentication information", AUTH_FAILURE, NORMAL),
    P("unauthenticated mail", AUTH_FAILURE, SPECIFIC),
    P("authentication failed", AUTH_FAILURE, NORMAL),
    P("authentication required", AUTH_FAILURE, NORMAL),
    P("smtp authentication", AUTH_FAILURE, NORMAL),
    P("failed authentication", AUTH_FAILURE, NORMAL),
    P("not authenticated", AUTH_FAILURE, NORMAL),
    P("domain authentication", AUTH_FAILURE, NORMAL),
    P("なりすまし", AUTH_FAILURE, SPECIFIC),
    P("送信ドメイン認証", AUTH_FAILURE, SPECIFIC),

    /* ---- suspended, disabled accounts */
    /* "suspended" alone is also Postfix's "delivery temporarily suspended" */
    P("account suspended", SUSPENDED, SPECIFIC),
    P("account has been suspended", SUSPENDED, SPECIFIC),
    P("account is suspended", SUSPENDED, SPECIFIC),
    P("mailbox suspended", SUSPENDED, SPECIFIC),
    P("mailbox is suspended", SUSPENDED, SPECIFIC),
    P("user suspended", SUSPENDED, SPECIFIC),
    P("has been suspended", SUSPENDED, NORMAL),
    P("disabled", SUSPENDED, NORMAL),
    P("deactivated", SUSPENDED, SPECIFIC),
    P("inactive", SUSPENDED, NORMAL),
    P("not active", SUSPENDED, NORMAL),
    P("no longer active", SUSPENDED, SPECIFIC),
    P("account is locked", SUSPENDED, SPECIFIC),
    P("account locked", SUSPENDED, SPECIFIC),
    P("account closed", SUSPENDED, SPECIFIC),
    P("account expired", SUSPENDED, SPECIFIC),
    P("account has been disabled", SUSPENDED, SPECIFIC),
    P("account is disabled", SUSPENDED, SPECIFIC),
    P("account is blocked", SUSPENDED, SPECIFIC),
    P("account has been blocked", SUSPENDED, SPECIFIC),
    P("compte du destinataire est bloqu", SUSPENDED, SPECIFIC),
    P("mailbox disabled", SUSPENDED, SPECIFIC),
    P("mailbox is disabled", SUSPENDED, SPECIFIC),
    P("frozen", SUSPENDED, NORMAL),
    P("利用停止", SUSPENDED, SPECIFIC),
    P("停止中", SUSPENDED, SPECIFIC),
    P("gesperrt", SUSPENDED, NORMAL),
    P("deaktiviert", SUSPENDED, SPECIFIC),
    P("désactivé", SUSPENDED, SPECIFIC),
    P("suspendu", SUSPENDED, SPECIFIC),
    P("suspendida", SUSPENDED, SPECIFIC),
    P("desactivada", SUSPENDED, SPECIFIC),
    P("suspensa", SUSPENDED, SPECIFIC),
    P("desativada", SUSPENDED, SPECIFIC),
    P("отключен", SUSPENDED, NORMAL),

    /* ---- rate limited */
    P("rate limit", RATE_LIMITED, SPECIFIC),
    P("rate-limit", RATE_LIMITED, SPECIFIC),
    P("ratelimit", RATE_LIMITED, SPECIFIC),
    P("rate of", RATE_LIMITED, GENERIC),
    P("frequency limited", RATE_LIMITED, SPECIFIC),
    P("throttl", RATE_LIMITED, SPECIFIC),
    P("too many connections", RATE_LIMITED, SPECIFIC),
    P("too many messages", RATE_LIMITED, SPECIFIC),
    P("too many recipients", RATE_LIMITED, SPECIFIC),
    P("too many", RATE_LIMITED, NORMAL),
    P("temporarily deferred", RATE_LIMITED, NORMAL),
    P("sending limit", RATE_LIMITED, SPECIFIC),
    P("slow down", RATE_LIMITED, SPECIFIC),
    P("unusual rate", RATE_LIMITED, SPECIFIC),
    P("try again later", RATE_LIMITED, GENERIC),
    P("送信数", RATE_LIMITED, NORMAL),
    P("слишком много", RATE_LIMITED, NORMAL),

    /* ---- network */
    P("connection refused", NETWORK_ERROR, NORMAL),
    P("connection timed out", NETWORK_ERROR, NORMAL),
    P("timed out", NETWORK_ERROR, NORMAL),
    P("timeout", NETWORK_ERROR, NORMAL),
    P("network is unreachable", NETWORK_ERROR, NORMAL),
    P("no route to host", NETWORK_ERROR, NORMAL),
    P("host unreachable", NETWORK_ERROR, NORMAL),
    P("connection reset", NETWORK_ERROR, NORMAL),
    P("lost connection", NETWORK_ERROR, NORMAL),
    P("connection closed", NETWORK_ERROR, NORMAL),
    P("connection dropped", NETWORK_ERROR, NORMAL),
    P("could not connect", NETWORK_ERROR, NORMAL),
    P("couldn't connect", NETWORK_ERROR, NORMAL),
    P("unable to connect", NETWORK_ERROR, NORMAL),
    P("can't connect", NETWORK_ERROR, NORMAL),
    P("failed to connect", NETWORK_ERROR, NORMAL),
    P("establish an smtp connection", NETWORK_ERROR, NORMAL),
    P("no smtp connection", NETWORK_ERROR, GENERIC),
    P("mail loop", NETWORK_ERROR, SPECIFIC),
    P("loops back to myself", NETWORK_ERROR, SPECIFIC),
    P("routing loop", NETWORK_ERROR, SPECIFIC),
    P("too many hops", NETWORK_ERROR, SPECIFIC),
    P("hop count exceeded", NETWORK_ERROR, SPECIFIC),
    P("接続できません", NETWORK_ERROR, NORMAL),
    P("タイムアウト", NETWORK_ERROR, NORMAL),

    /* ---- TLS */
    P("starttls", TLS_ERROR, SPECIFIC),
    P("tls negotiation", TLS_ERROR, SPECIFIC),
    P("tls handshake", TLS_ERROR, SPECIFIC),
    P("tls required", TLS_ERROR, SPECIFIC),
    P("tls is required", TLS_ERROR, SPECIFIC),
    P("tls connection", TLS_ERROR, SPECIFIC),
    P("ssl handshake", TLS_ERROR, SPECIFIC),
    P("ssl routines", TLS_ERROR, SPECIFIC),
    P("certificate", TLS_ERROR, SPECIFIC),
    P("encryption required", TLS_ERROR, SPECIFIC),

    /* ---- system errors */
    P("system error", SYSTEM_ERROR, NORMAL),
    P("internal error", SYSTEM_ERROR, NORMAL),
    P("local error", SYSTEM_ERROR, NORMAL),
    P("server error", SYSTEM_ERROR, NORMAL),
    P("mailer error", SYSTEM_ERROR, NORMAL),
    P("configuration error", SYSTEM_ERROR, NORMAL),
    P("misconfigured", SYSTEM_ERROR, NORMAL),
    P("i/o error", SYSTEM_ERROR, NORMAL),
    P("database error", SYSTEM_ERROR, NORMAL),
    P("ldap", SYSTEM_ERROR, NORMAL),
    P("insufficient system storage", SYSTEM_ERROR, SPECIFIC),
    P("system storage", SYSTEM_ERROR, NORMAL),
    P("out of memory", SYSTEM_ERROR, NORMAL),
    P("command died", SYSTEM_ERROR, NORMAL),
    P("temporary failure", SYSTEM_ERROR, GENERIC),
    P("temporary error", SYSTEM_ERROR, GENERIC),
    P("システムエラー", SYSTEM_ERROR, NORMAL),
    /* the receiving host's disk or queue, not the mailbox, is full */
    P("insufficient disk space", SYSTEM_ERROR, SPECIFIC),
    P("queue file write error", SYSTEM_ERROR, NORMAL),
    P("improper sequence of commands", SYSTEM_ERROR, NORMAL),

    /* ---- more phrases of real servers (bench/REASONS.md) */
    /* DragonFly, Postfix: the recipient domain does not resolve */
    P("dns lookup failure", HOST_UNKNOWN, NORMAL),
    /* RFC 7505 null MX: the domain receives no mail at all */
    P("indicated no smtp service", HOST_UNKNOWN, SPECIFIC),
    /* Domino in Japanese: "not found in the Domino Directory" */
    P("ディレクトリには見つかりません", USER_UNKNOWN, NORMAL),
    /* MMS/SMS gateways (Verizon, carriers): the number has no mailbox */
    P("no valid recipients", USER_UNKNOWN, NORMAL),
    /* Exchange Online Protection's directory-based edge block, plural form */
    P("addresses rejected : access denied", USER_UNKNOWN, SPECIFIC),
    P("addresses rejected: access denied", USER_UNKNOWN, SPECIFIC),
    /* Amazon SES receiving, filters: the content was filtered */
    P("message filtered", CONTENT_REJECTED, NORMAL),
    /* iCloud/me.com and others answer blocked senders so at connect */
    P("not accepting connections", BLOCKED, NORMAL),

    /* ---- auto-replies */
    P("out of office", VACATION, NORMAL),
    P("out of the office", VACATION, NORMAL),
    P("on vacation", VACATION, NORMAL),
    P("vacation", VACATION, GENERIC),
    P("abwesend", VACATION, NORMAL),
    P("absent du bureau", VACATION, NORMAL),
    P("fuera de la oficina", VACATION, NORMAL),
    P("不在", VACATION, NORMAL),
};

#undef P

static bw_matcher_t *phrase_matcher;

static const bw_matcher_t *
get_phrase_matcher(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        const char *pats[G_N_ELEMENTS(phrase_table)];
        for (size_t i = 0; i < G_N_ELEMENTS(phrase_table); i++)
            pats[i] = phrase_table[i].phrase;
        phrase_matcher = bw_matcher_new(pats, G_N_ELEMENTS(phrase_table));
        g_once_init_leave(&once, 1);
    }
    return phrase_matcher;
}

typedef struct {
    int weight;
    size_t start;
    size_t len;
    bw_reason_t reason;
} best_t;

/* Keeps the heaviest phrase; among equals the longest (more specific), then
 * the first in the text (the server's own words come before its echoes). */
static bool
keep_best(size_t id, size_t start, size_t end, void *data)
{
    best_t *b = data;
    const phrase_entry_t *e = &phrase_table[id];
    size_t len = end - start;
    if (e->weight > b->weight
        || (e->weight == b->weight && len > b->len && start <= b->start + b->len)) {
        b->weight = e->weight;
        b->start = start;
        b->len = len;
        b->reason = e->reason;
    }
    return true;
}

/* Diagnostics are short; a longer text is cut so one call stays cheap. */
#define REASON_TEXT_MAX (16u * 1024u)

bw_reason_t
bw_reason_from_text_weighted(const char *text, size_t len, int *weight_out)
{
    best_t best = {0, 0, 0, BW_REASON_UNKNOWN};
    if (text != NULL && len > 0)
        bw_matcher_scan(get_phrase_matcher(), text, MIN(len, REASON_TEXT_MAX),
                        keep_best, &best);
    if (weight_out != NULL)
        *weight_out = best.weight;
    return best.reason;
}

bw_reason_t
bw_reason_from_text(const char *text, size_t len)
{
    return bw_reason_from_text_weighted(text, len, NULL);
}

/* ------------------------------------------------------------ reply codes */

/* Reply codes say little; they decide only when status and text do not. */
typedef struct {
    const char *code;
    bw_reason_t reason;
} reply_entry_t;

static const reply_entry_t reply_table[] = {
    {"552", BW_REASON_MAILBOX_FULL},    /* exceeded storage allocation */
    {"452", BW_REASON_MAILBOX_FULL},    /* insufficient storage */
    {"521", BW_REASON_HOST_UNKNOWN},    /* RFC 7504: host does not accept mail */
    {"556", BW_REASON_HOST_UNKNOWN},    /* RFC 7504: domain does not accept mail */
    {"421", BW_REASON_NETWORK_ERROR},   /* service not available, closing */
    {"553", BW_REASON_USER_UNKNOWN},    /* mailbox name not allowed */
};

static bw_reason_t
reason_from_reply_code(const char *reply_code)
{
    if (reply_code == NULL)
        return BW_REASON_UNKNOWN;
    for (size_t i = 0; i < G_N_ELEMENTS(reply_table); i++)
        if (strncmp(reply_code, reply_table[i].code, 3) == 0)
            return reply_table[i].reason;
    return BW_REASON_UNKNOWN;
}

/* ------------------------------------------------------------ decision */

/* '2', '4' or '5' from the status, else from the reply code, else 0. */
static char
status_class(const char *status, const char *reply_code)
{
    if (status != NULL && (status[0] == '2' || status[0] == '4' || status[0] == '5'))
        return status[0];
    if (reply_code != NULL && (reply_code[0] == '2' || reply_code[0] == '4'
                               || reply_code[0] == '5'))
        return reply_code[0];
    return 0;
}

bw_reason_t
bw_reason_decide(const char *status, const char *reply_code,
                 const char *diagnostic, const char *action)
{
    if (action != NULL
        && (g_ascii_strcasecmp(action, "delivered") == 0
            || g_ascii_strcasecmp(action, "relayed") == 0
            || g_ascii_strcasecmp(action, "expanded") == 0))
        return BW_REASON_DELIVERED;

    int strength = 0, weight = 0;
    bw_reason_t by_status = reason_from_status_strength(status, &strength);
    /* A DSN's "5.0.0" says nothing, while its diagnostic often quotes the
     * remote server's precise code ("550 5.7.1 ..."): use that one. */
    g_autofree char *diag_status = NULL;
    if (by_status == BW_REASON_UNKNOWN && diagnostic != NULL) {
        diag_status = bw_status_code_find(diagnostic, strnlen(diagnostic, REASON_TEXT_MAX));
        if (diag_status != NULL)
            by_status = reason_from_status_strength(diag_status, &strength);
    }
    bw_reason_t by_text = bw_reason_from_text_weighted(
        diagnostic, diagnostic != NULL ? strlen(diagnostic) : 0, &weight);
    bw_reason_t r;

    if (by_status == BW_REASON_DELIVERED)
        r = BW_REASON_DELIVERED;
    else if (by_status != BW_REASON_UNKNOWN && by_text != BW_REASON_UNKNOWN) {
        /* The more specific of the two: a strong code beats ordinary phrases,
         * a specific phrase ("spam", "over quota") beats any code, and a weak
         * code yields to any non-generic phrase. */
        if (strength == STRONG)
            r = weight >= SPECIFIC && by_status != BW_REASON_EXPIRED ? by_text : by_status;
        else
            r = weight >= NORMAL ? by_text : by_status;
    } else if (by_status != BW_REASON_UNKNOWN)
        r = by_status;
    else if (by_text != BW_REASON_UNKNOWN)
        r = by_text;
    else
        r = reason_from_reply_code(reply_code);

    bool failed = action != NULL && g_ascii_strcasecmp(action, "failed") == 0;
    bool delayed = action != NULL && g_ascii_strcasecmp(action, "delayed") == 0;
    char klass = status_class(status, reply_code);
    /* A temporary error that ended as a failure: the server kept the message
     * until its queue lifetime ran out.  Only a clear cause in the text says
     * more than "expired". */
    if (failed && klass == '4'
        && (weight < NORMAL || r == BW_REASON_NETWORK_ERROR || r == BW_REASON_UNKNOWN))
        r = BW_REASON_EXPIRED;
    /* A delay is not a refusal: the message waits in a queue, which is what
     * "expired" describes, unless a cause that is itself temporary (the
     * network, a full mailbox, rate limits, TLS) is named. */
    if (delayed && r != BW_REASON_NETWORK_ERROR && r != BW_REASON_MAILBOX_FULL
        && r != BW_REASON_RATE_LIMITED && r != BW_REASON_TLS_ERROR && r != BW_REASON_EXPIRED)
        r = BW_REASON_EXPIRED;
    return r;
}

/* ------------------------------------------------------------ canonical codes */

typedef struct {
    bw_reason_t reason;
    const char *code5, *code4;
} canon_entry_t;

static const canon_entry_t canon_table[] = {
    {BW_REASON_USER_UNKNOWN, "5.1.1", "4.1.1"},
    {BW_REASON_HOST_UNKNOWN, "5.1.2", "4.1.2"},
    {BW_REASON_MAILBOX_FULL, "5.2.2", "4.2.2"},
    {BW_REASON_MESSAGE_TOO_LARGE, "5.3.4", "4.3.4"},
    {BW_REASON_CONTENT_REJECTED, "5.6.0", "4.6.0"},
    {BW_REASON_VIRUS, "5.7.1", "4.7.1"},
    {BW_REASON_SPAM, "5.7.1", "4.7.1"},
    {BW_REASON_BLOCKED, "5.7.1", "4.7.1"},
    {BW_REASON_POLICY, "5.7.0", "4.7.0"},     /* x.7.0 reads back as policy */
    {BW_REASON_AUTH_FAILURE, "5.7.26", "4.7.26"},
    {BW_REASON_SUSPENDED, "5.2.1", "4.2.1"},
    {BW_REASON_RATE_LIMITED, "5.4.5", "4.4.5"},
    {BW_REASON_NETWORK_ERROR, "5.4.0", "4.4.0"},
    {BW_REASON_EXPIRED, "5.4.7", "4.4.7"},
    {BW_REASON_SYSTEM_ERROR, "5.3.0", "4.3.0"},
    {BW_REASON_TLS_ERROR, "5.7.10", "4.7.10"},
    {BW_REASON_UNKNOWN, "5.0.0", "4.0.0"},
};

const char *
bw_status_from_reason(bw_reason_t reason, char klass)
{
    if (reason == BW_REASON_DELIVERED || klass == '2')
        return "2.0.0";
    if (klass != '4' && klass != '5')
        return NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(canon_table); i++)
        if (canon_table[i].reason == reason)
            return klass == '5' ? canon_table[i].code5 : canon_table[i].code4;
    return NULL;   /* vacation, feedback: no delivery status */
}

const char *
bw_status_from_reply_code(const char *reply_code, bw_reason_t reason)
{
    if (reply_code == NULL || !(reply_code[0] == '2' || reply_code[0] == '4'
                                || reply_code[0] == '5')
        || !g_ascii_isdigit(reply_code[1]) || !g_ascii_isdigit(reply_code[2]))
        return NULL;
    if (reason == BW_REASON_UNKNOWN)
        reason = reason_from_reply_code(reply_code);
    return bw_status_from_reason(reason, reply_code[0]);
}

/* ------------------------------------------------------------ status codes in text */

static bool
delim_before(const char *s, size_t i)
{
    if (i == 0)
        return true;
    unsigned char p = (unsigned char)s[i - 1];
    return p == ' ' || p == '\t' || p == '\n' || p == '(' || p == '#' || p == ':' || p == '['
        || p == '"' || p == '\'' || p == '<' || p == '=' || p == '-' || p == ';';
}

/* An RFC 3463 code "c.sss.ddd" at s[i], not part of an IP address or a
 * version number; returns its length or 0. */
size_t
bw_status_code_at(const char *s, size_t n, size_t i)
{
    if (!(s[i] == '2' || s[i] == '4' || s[i] == '5') || !delim_before(s, i))
        return 0;
    if (i > 0 && s[i - 1] == '-' && i > 1 && g_ascii_isdigit(s[i - 2]) == FALSE
        && s[i - 2] != ' ' && s[i - 2] != '\t')
        return 0;
    size_t k = i + 1;
    if (k >= n || s[k] != '.')
        return 0;
    k++;
    size_t d = k;
    while (k < n && g_ascii_isdigit(s[k]) && k - d < 3)
        k++;
    if (k == d || k >= n || s[k] != '.')
        return 0;
    k++;
    d = k;
    while (k < n && g_ascii_isdigit(s[k]) && k - d < 3)
        k++;
    if (k == d)
        return 0;
    if (k < n && (g_ascii_isdigit(s[k]) || g_ascii_isalpha(s[k])))
        return 0;
    if (k + 1 < n && s[k] == '.' && g_ascii_isdigit(s[k + 1]))
        return 0;   /* an IP address: 5.1.1.2 */
    return k - i;
}

/* The first failure code (class 4 or 5) of a text; a success code only when
 * there is no failure code (a transcript shows "250 2.1.5 Ok" before the
 * "451 4.3.0" that matters). */
char *
bw_status_code_find(const char *s, size_t n)
{
    size_t ok_at = SIZE_MAX, ok_len = 0;
    /* A code's first digit is followed by a dot: only the places before
     * one are tried, found by memchr (a call per byte of the text was
     * ~2% of a parse). */
    size_t from = 0;     /* places before this one are passed */
    for (const char *dot = n > 1 ? memchr(s + 1, '.', n - 1) : NULL; dot != NULL;
         dot = (size_t)(dot - s) + 1 < n ? memchr(dot + 1, '.', n - (size_t)(dot - s) - 1) : NULL) {
        size_t i = (size_t)(dot - s) - 1;
        if (i < from)
            continue;
        size_t l = bw_status_code_at(s, n, i);
        if (l == 0)
            continue;
        if (s[i] != '2')
            return g_strndup(s + i, l);
        if (ok_at == SIZE_MAX) {
            ok_at = i;
            ok_len = l;
        }
        from = i + l;
    }
    return ok_at != SIZE_MAX ? g_strndup(s + ok_at, ok_len) : NULL;
}
