/* signal-table.c: what providers' security notices, phishing imitations,
 * the providers' ordinary mail and worried correspondents say, in the
 * languages bouncewatch knows; which domains belong to one provider; what
 * a machine sender's address looks like.  Pure data (plus the small
 * helpers that read it): to teach bouncewatch a wording or a language, add
 * rows here.
 *
 * How the rows are used (signal-read.c): a notice is about kind K when one
 * clause of its subject or text holds a TOPIC of K together with an EVENT
 * that fits K ("password" + "was changed"), or a STRONG phrase of K that
 * says both ("new sign-in").  Clauses are cut at an ADVICE marker ("if",
 * "please", "ください"): "If you did not change your password, ..." is
 * advice, not the event.  So events are written in the forms that report
 * (participles: "changed", "turned off", "変更されました"), never the
 * imperative forms advice uses ("change", "turn off", "変更してください").
 *
 * Modelled on the notices of Google, Microsoft, Yahoo, Apple, GMX/WEB.DE,
 * Orange, the Japanese ISPs and carriers (docomo, au, SoftBank, OCN,
 * BIGLOBE, So-net, nifty) as they word them in public help pages. */
#include "bw-signals-private.h"
#include <string.h>

/* The names of the signal kinds (SPEC section 2b), read and written by
 * the reader of mail and the judges alike. */
static const char *const kind_names[BW_SIGNAL_LAST] = {
    NULL, "sign-in-alert", "password-changed", "recovery-changed", "forwarding-added",
    "two-factor-changed", "sending-blocked", "human-reply", "sent-anomaly",
};

const char *
bw_signal_kind_to_string(bw_signal_kind_t k)
{
    return (unsigned)k < BW_SIGNAL_LAST ? kind_names[k] : NULL;
}

bw_signal_kind_t
bw_signal_kind_from_string(const char *s)
{
    for (unsigned k = 1; s && k < BW_SIGNAL_LAST; k++)
        if (strcmp(s, kind_names[k]) == 0)
            return (bw_signal_kind_t)k;
    return BW_SIGNAL_NONE;
}

#define T(p, m) {p, SIG_TOPIC, m}
#define S(p, m) {p, SIG_STRONG, m}
#define E(p, m) {p, SIG_EVENT, m}
#define ON(p) {p, SIG_ON, SIG_2FA}
#define OFF(p) {p, SIG_OFF, SIG_2FA}
#define REEN(p) {p, SIG_REENABLE, SIG_2FA}
#define ADV(p) {p, SIG_ADVICE, 0}
#define SEC(p) {p, SIG_SECURITY, 0}
#define BAIT(p) {p, SIG_BAIT, 0}
#define CHAT(p) {p, SIG_CHATTER, 0}
#define ASK(p) {p, SIG_ASK, 0}
#define QUOTE(p) {p, SIG_QUOTE, 0}
#define L_DEV(p) {p, SIG_LABEL_DEVICE, 0}
#define L_PLACE(p) {p, SIG_LABEL_PLACE, 0}
#define L_IP(p) {p, SIG_LABEL_IP, 0}
#define L_TIME(p) {p, SIG_LABEL_TIME, 0}
#define L_TGT(p, m) {p, SIG_LABEL_TARGET, m}
#define MASK(p) {p, SIG_MASK, 0}

/* events that fit most account changes */
#define CHG (SIG_PASSWORD | SIG_RECOVERY | SIG_FORWARD | SIG_2FA)
#define ADD (SIG_RECOVERY | SIG_FORWARD | SIG_2FA)

const bw_sig_phrase_t bw_sig_phrases[] = {
    /* ============================================================ English */
    /* sign-in */
    T("sign-in", SIG_SIGNIN), T("sign-ins", SIG_SIGNIN), T("sign in", SIG_SIGNIN), T("signin", SIG_SIGNIN),
    T("signed in", SIG_SIGNIN), T("signing in", SIG_SIGNIN), T("sign-on", SIG_SIGNIN),
    T("login", SIG_SIGNIN), T("logins", SIG_SIGNIN), T("log-in", SIG_SIGNIN), T("log in", SIG_SIGNIN),
    T("logged in", SIG_SIGNIN), T("logged into", SIG_SIGNIN), T("logon", SIG_SIGNIN),
    T("logged on", SIG_SIGNIN), T("accessed", SIG_SIGNIN), T("access to your account", SIG_SIGNIN),
    S("new sign-in", SIG_SIGNIN), S("new sign in", SIG_SIGNIN), S("new sign-ins", SIG_SIGNIN),
    S("new login", SIG_SIGNIN), S("new log-in", SIG_SIGNIN), S("new logon", SIG_SIGNIN),
    S("new device", SIG_SIGNIN), S("a device we have not seen", SIG_SIGNIN),
    S("a device we haven't seen", SIG_SIGNIN), S("device we don't recognize", SIG_SIGNIN),
    S("device we don't recognise", SIG_SIGNIN), S("unrecognized device", SIG_SIGNIN),
    S("unrecognised device", SIG_SIGNIN), S("used to sign in", SIG_SIGNIN),
    S("used to log in", SIG_SIGNIN), S("just signed in", SIG_SIGNIN), S("someone signed in", SIG_SIGNIN),
    S("signed in from", SIG_SIGNIN), S("signed in on", SIG_SIGNIN), S("signed in to your", SIG_SIGNIN),
    S("signed in with your", SIG_SIGNIN), S("logged in from", SIG_SIGNIN), S("logged in on", SIG_SIGNIN),
    S("sign-in from", SIG_SIGNIN), S("sign-in on", SIG_SIGNIN), S("login from", SIG_SIGNIN),
    S("sign-in activity", SIG_SIGNIN), S("sign-in attempt", SIG_SIGNIN), S("login attempt", SIG_SIGNIN),
    S("sign in attempt", SIG_SIGNIN), S("accessed your account", SIG_SIGNIN),
    S("your account was accessed", SIG_SIGNIN), S("new sign-in to", SIG_SIGNIN), S("accessed from", SIG_SIGNIN),
    S("access from a new", SIG_SIGNIN), S("new location", SIG_SIGNIN), S("new browser", SIG_SIGNIN),
    S("now signed in", SIG_SIGNIN), S("sign-in alert", SIG_SIGNIN), S("login alert", SIG_SIGNIN),
    E("from a new", SIG_SIGNIN),
    MASK("sign-in settings"), MASK("sign-in methods"), MASK("sign-in options"), MASK("sign-in method"),
    MASK("login settings"), MASK("login methods"), MASK("login options"), MASK("ways to sign in"),
    MASK("ways you sign in"), MASK("password settings"), MASK("ログイン設定"), MASK("ログイン方法"),
    MASK("anmeldeeinstellungen"), MASK("paramètres de connexion"), MASK("opciones de inicio de sesión"),
    E("completed", CHG), E("successfully", CHG), E("is now", SIG_RECOVERY),
    E("unusual", SIG_SIGNIN | SIG_SENDING), E("suspicious", SIG_SIGNIN), E("unrecognized", SIG_SIGNIN),
    E("unrecognised", SIG_SIGNIN), E("unknown", SIG_SIGNIN), E("detected", SIG_SIGNIN | SIG_SENDING),
    E("noticed", SIG_SIGNIN | SIG_SENDING), E("someone", SIG_SIGNIN), E("attempt*", SIG_SIGNIN),
    E("tried", SIG_SIGNIN), E("blocked", SIG_SIGNIN | SIG_SENDING), E("prevented", SIG_SIGNIN),
    E("just", SIG_SIGNIN), E("recent", SIG_SIGNIN), E("new", SIG_RECOVERY | SIG_FORWARD),
    /* password */
    T("password", SIG_PASSWORD), T("passwords", SIG_PASSWORD), T("passcode", SIG_PASSWORD),
    T("passphrase", SIG_PASSWORD), T("app password", SIG_PASSWORD),
    S("password change", SIG_PASSWORD), S("password was changed", SIG_PASSWORD),
    S("password has been changed", SIG_PASSWORD), S("password was reset", SIG_PASSWORD),
    S("password has been reset", SIG_PASSWORD), S("password changed", SIG_PASSWORD),
    S("password updated", SIG_PASSWORD), S("new password was set", SIG_PASSWORD),
    S("password was updated", SIG_PASSWORD), S("password has been updated", SIG_PASSWORD),
    E("changed", CHG), E("updated", CHG), E("modified", CHG), E("was reset", SIG_PASSWORD),
    E("been reset", SIG_PASSWORD), E("was set", SIG_PASSWORD | SIG_FORWARD),
    E("replaced", SIG_RECOVERY | SIG_PASSWORD), E("edited", SIG_RECOVERY | SIG_FORWARD),
    /* recovery */
    T("recovery email", SIG_RECOVERY), T("recovery e-mail", SIG_RECOVERY),
    T("recovery address", SIG_RECOVERY), T("recovery email address", SIG_RECOVERY),
    T("recovery phone", SIG_RECOVERY), T("recovery phone number", SIG_RECOVERY),
    T("recovery information", SIG_RECOVERY), T("recovery info", SIG_RECOVERY),
    T("recovery options", SIG_RECOVERY), T("recovery contact", SIG_RECOVERY),
    T("security info", SIG_RECOVERY), T("security information", SIG_RECOVERY),
    T("security details", SIG_RECOVERY), T("security contact", SIG_RECOVERY),
    T("security question*", SIG_RECOVERY), T("backup email", SIG_RECOVERY), T("backup e-mail", SIG_RECOVERY),
    T("alternate email", SIG_RECOVERY), T("alternate e-mail", SIG_RECOVERY),
    T("alternative email", SIG_RECOVERY), T("secondary email", SIG_RECOVERY),
    T("secondary e-mail", SIG_RECOVERY), T("rescue email", SIG_RECOVERY),
    T("contact email", SIG_RECOVERY), T("verified phone number", SIG_RECOVERY),
    S("new recovery email", SIG_RECOVERY), S("new recovery phone", SIG_RECOVERY),
    S("recovery email was", SIG_RECOVERY), S("recovery phone was", SIG_RECOVERY),
    E("added", ADD), E("removed", SIG_RECOVERY | SIG_2FA), E("deleted", SIG_RECOVERY | SIG_FORWARD),
    E("was set up", ADD), E("has been set up", ADD), E("created", SIG_FORWARD | SIG_2FA),
    /* forwarding */
    T("forwarding", SIG_FORWARD), T("forwarded", SIG_FORWARD), T("forward", SIG_FORWARD),
    T("forwards", SIG_FORWARD), T("auto-forward*", SIG_FORWARD), T("autoforward*", SIG_FORWARD),
    T("mail rule", SIG_FORWARD), T("inbox rule", SIG_FORWARD), T("mailbox rule", SIG_FORWARD),
    T("redirect*", SIG_FORWARD), T("copy of every message", SIG_FORWARD),
    T("copy of all", SIG_FORWARD), T("copies of your mail", SIG_FORWARD),
    S("forwarding rule", SIG_FORWARD), S("forwarding address", SIG_FORWARD),
    S("is forwarded to", SIG_FORWARD), S("are forwarded to", SIG_FORWARD),
    S("will be forwarded", SIG_FORWARD), S("now forwarded", SIG_FORWARD),
    S("forwarding was turned on", SIG_FORWARD), S("forwarding is on", SIG_FORWARD),
    S("forwarding enabled", SIG_FORWARD), S("forwarding has been", SIG_FORWARD),
    E("turned on", SIG_FORWARD | SIG_2FA), E("enabled", SIG_FORWARD | SIG_2FA),
    E("activated", SIG_FORWARD | SIG_2FA), E("from now on", SIG_FORWARD),
    E("switched on", SIG_FORWARD | SIG_2FA), E("is on", SIG_FORWARD | SIG_2FA),
    /* two-factor */
    T("2-step verification", SIG_2FA), T("2 step verification", SIG_2FA),
    T("two-step verification", SIG_2FA), T("two step verification", SIG_2FA),
    T("2-step", SIG_2FA), T("two-step", SIG_2FA), T("2-factor", SIG_2FA), T("two-factor", SIG_2FA),
    T("two factor", SIG_2FA), T("2fa", SIG_2FA), T("mfa", SIG_2FA), T("multi-factor", SIG_2FA),
    T("multifactor", SIG_2FA), T("two-step authentication", SIG_2FA), T("login verification", SIG_2FA),
    T("login approvals", SIG_2FA), T("authenticator app", SIG_2FA), T("second factor", SIG_2FA),
    T("security key*", SIG_2FA),
    E("turned off", SIG_2FA | SIG_FORWARD), E("disabled", SIG_2FA | SIG_FORWARD | SIG_SENDING),
    E("deactivated", SIG_2FA), E("switched off", SIG_2FA), E("is off", SIG_2FA),
    E("no longer", SIG_2FA), E("is now", SIG_2FA | SIG_FORWARD),
    ON("turned on"), ON("is on"), ON("is now on"), ON("enabled"), ON("activated"), ON("switched on"),
    ON("verification on"), ON("authentication on"), ON("was added"), ON("has been added"),
    OFF("turned off"), OFF("is off"), OFF("is now off"), OFF("disabled"), OFF("deactivated"),
    OFF("switched off"), OFF("verification off"), OFF("authentication off"), OFF("was removed"),
    OFF("has been removed"), OFF("no longer"), OFF("password alone"),
    REEN("turn it back on"), REEN("turn it on again"), REEN("turn 2-step verification back on"),
    REEN("back on"), REEN("re-enable"), REEN("reenable"),
    /* sending */
    T("sending", SIG_SENDING), T("send mail", SIG_SENDING), T("send email", SIG_SENDING),
    T("send e-mail", SIG_SENDING), T("send messages", SIG_SENDING), T("send any mail", SIG_SENDING),
    T("outgoing mail", SIG_SENDING), T("outgoing messages", SIG_SENDING), T("outgoing email", SIG_SENDING),
    T("outbound", SIG_SENDING), T("sent messages", SIG_SENDING), T("messages sent", SIG_SENDING),
    T("emails sent", SIG_SENDING), T("mail sent", SIG_SENDING),
    S("can't send", SIG_SENDING), S("cannot send", SIG_SENDING), S("can not send", SIG_SENDING),
    S("unable to send", SIG_SENDING), S("sending is limited", SIG_SENDING),
    S("sending has been limited", SIG_SENDING), S("limited sending", SIG_SENDING),
    S("sending limit", SIG_SENDING), S("sending limits", SIG_SENDING), S("blocked from sending", SIG_SENDING),
    S("sending has been suspended", SIG_SENDING), S("sending was suspended", SIG_SENDING),
    S("sending has been blocked", SIG_SENDING), S("sending is blocked", SIG_SENDING),
    S("daily user sending limit exceeded", SIG_SENDING), S("bad outbound sender", SIG_SENDING),
    S("unusual sending activity", SIG_SENDING), S("unusual number of emails", SIG_SENDING),
    S("unusual number of messages", SIG_SENDING), S("outbound spam", SIG_SENDING),
    S("sent spam", SIG_SENDING), S("sending spam", SIG_SENDING), S("outgoing mail is blocked", SIG_SENDING),
    S("outgoing mail has been", SIG_SENDING), S("account was compromised", SIG_SENDING),
    S("account has been compromised", SIG_SENDING), S("restricted from sending", SIG_SENDING),
    S("sending quota exceeded", SIG_SENDING), S("exceeded the sending quota", SIG_SENDING),
    E("limited", SIG_SENDING), E("suspended", SIG_SENDING), E("restricted", SIG_SENDING),
    E("paused", SIG_SENDING), E("stopped", SIG_SENDING), E("exceeded", SIG_SENDING),
    E("classified as spam", SIG_SENDING), E("as spam", SIG_SENDING), E("temporarily", SIG_SENDING),
    /* advice: the clause is not the event from here on */
    ADV("if"), ADV("unless"), ADV("please"), ADV("we recommend"), ADV("you should"), ADV("you can "),
    ADV("you may "), ADV("make sure"), ADV("wasn't you"), ADV("was not you"), ADV("weren't you"),
    ADV("didn't"), ADV("did not"), ADV("don't recogni*"), ADV("do not recogni*"), ADV("go to"),
    ADV("visit"), ADV("review"), ADV("check your"), ADV("secure your"), ADV("change your"),
    ADV("reset your"), ADV("remove it"), ADV("delete it"), ADV("to undo"), ADV("learn more"),
    ADV("ignore this"), ADV("can ignore"), ADV("need to do"), ADV("nothing to do"), ADV("turn it back on"),
    ADV("recover your"), ADV("protect your"),
    SEC("security"), SEC("secure"), SEC("alert"), SEC("account"), SEC("warning"), SEC("important"),
    SEC("notification"), SEC("activity"),
    BAIT("verify your account"), BAIT("verify your identity"), BAIT("confirm your identity"),
    BAIT("confirm your account"), BAIT("verify your email"), BAIT("within 24 hours"), BAIT("within 48 hours"),
    BAIT("within 12 hours"), BAIT("will be closed"), BAIT("will be suspended"), BAIT("will be deleted"),
    BAIT("will be disabled"), BAIT("will be terminated"), BAIT("will be locked"),
    BAIT("sign in here"), BAIT("log in here"),
    BAIT("login here"), BAIT("validate your"), BAIT("reactivate your"), BAIT("unlock your account"),
    BAIT("keep your account"), BAIT("avoid suspension"), BAIT("avoid losing"), BAIT("verify now"), BAIT("confirm now"),
    BAIT("update your account"), BAIT("update your payment"),
    CHAT("mailbox is"), CHAT("mailbox full"), CHAT("storage"), CHAT("quota"), CHAT("invoice"),
    CHAT("billing"), CHAT("receipt"), CHAT("payment"), CHAT("subscription"), CHAT("your plan"),
    CHAT("upgrade"), CHAT("newsletter"), CHAT("what's new"), CHAT("this month"), CHAT("new features"),
    CHAT("privacy policy"), CHAT("terms of service"), CHAT("webinar"), CHAT("special offer"),
    CHAT("maintenance"),
    ASK("did you send"), ASK("did you really send"), ASK("did you mean to send"), ASK("did you write"),
    ASK("is this from you"), ASK("is this really from you"), ASK("was this from you"),
    ASK("was this you"), ASK("is this you"), ASK("really from you"), ASK("really you"),
    ASK("not from you"), ASK("from your address"), ASK("from your account"), ASK("from your email"),
    ASK("been hacked"), ASK("hacked"), ASK("compromised"), ASK("spam from you"),
    ASK("strange message from you"), ASK("strange email from you"), ASK("weird email from you"),
    ASK("odd email from you"), ASK("suspicious email from you"), ASK("message from you"),
    ASK("someone is using your"), ASK("someone using your"), ASK("sent me spam"), ASK("sending spam"),
    ASK("sound like you"), ASK("haven't clicked"), ASK("didn't click"), ASK("did not click"),
    ASK("change your password"), ASK("virus"), ASK("phishing"), ASK("scam"),
    QUOTE("wrote:"), QUOTE("writes:"), QUOTE("-----original message-----"),
    QUOTE("----- original message -----"), QUOTE("-------- original message --------"),
    QUOTE("^begin forwarded message"), QUOTE("^---------- forwarded message"),
    L_DEV("^device"), L_DEV("^devices"), L_DEV("^browser"), L_DEV("^operating system"), L_DEV("^os"),
    L_DEV("^app"), L_DEV("^client"), L_DEV("^platform"),
    L_PLACE("^location"), L_PLACE("^where"), L_PLACE("^place"), L_PLACE("^near"),
    L_PLACE("^approximate location"), L_PLACE("^country"), L_PLACE("^region"), L_PLACE("^city"),
    L_PLACE("^country/region"), L_PLACE("^country or region"), L_IP("^ip"), L_IP("^ip address"), L_TIME("^time"), L_TIME("^when"), L_TIME("^date"),
    L_TIME("^date and time"),
    L_TGT("forward all mail to", SIG_FORWARD), L_TGT("forwarded to", SIG_FORWARD),
    L_TGT("forwarding to", SIG_FORWARD), L_TGT("forwarding address", SIG_FORWARD),
    L_TGT("forward to", SIG_FORWARD), L_TGT("forwards to", SIG_FORWARD), L_TGT("redirected to", SIG_FORWARD),
    L_TGT("new recovery email", SIG_RECOVERY), L_TGT("recovery email", SIG_RECOVERY),
    L_TGT("recovery address", SIG_RECOVERY), L_TGT("recovery phone", SIG_RECOVERY),
    L_TGT("changed to", SIG_RECOVERY), L_TGT("alternate email", SIG_RECOVERY),
    L_TGT("backup email", SIG_RECOVERY), L_TGT("secondary email", SIG_RECOVERY),
    L_TGT("new address", SIG_RECOVERY | SIG_FORWARD), L_TGT("new email address", SIG_RECOVERY),
    L_TGT("nouvelle adresse", SIG_RECOVERY | SIG_FORWARD), L_TGT("neue adresse", SIG_RECOVERY | SIG_FORWARD),
    L_TGT("nueva dirección", SIG_RECOVERY | SIG_FORWARD), L_TGT("novo endereço", SIG_RECOVERY | SIG_FORWARD),
    L_TGT("nuovo indirizzo", SIG_RECOVERY | SIG_FORWARD), L_TGT("新しいメールアドレス", SIG_RECOVERY),
    L_TGT("変更後", SIG_RECOVERY | SIG_FORWARD),

    /* ============================================================ Japanese */
    T("ログイン", SIG_SIGNIN), T("サインイン", SIG_SIGNIN), T("ログオン", SIG_SIGNIN),
    T("アクセス", SIG_SIGNIN),
    S("新しいログイン", SIG_SIGNIN), S("新しい端末", SIG_SIGNIN), S("新しいデバイス", SIG_SIGNIN),
    S("ログインがありました", SIG_SIGNIN), S("ログインされました", SIG_SIGNIN),
    S("サインインがありました", SIG_SIGNIN), S("サインインされました", SIG_SIGNIN),
    S("ログインを検知", SIG_SIGNIN), S("ログインを検出", SIG_SIGNIN), S("不審なログイン", SIG_SIGNIN),
    S("ログイン通知", SIG_SIGNIN), S("ログインのお知らせ", SIG_SIGNIN), S("サインイン通知", SIG_SIGNIN),
    S("ログインの通知", SIG_SIGNIN), S("アクセスがありました", SIG_SIGNIN),
    S("ログインが確認されました", SIG_SIGNIN), S("普段と異なる環境", SIG_SIGNIN),
    E("検知", SIG_SIGNIN | SIG_SENDING), E("検出", SIG_SIGNIN | SIG_SENDING), E("新しい", SIG_SIGNIN | SIG_RECOVERY),
    E("不審", SIG_SIGNIN), E("異なる", SIG_SIGNIN), E("ありました", SIG_SIGNIN | CHG),
    E("されました", SIG_SIGNIN | CHG), E("確認されました", SIG_SIGNIN),
    T("パスワード", SIG_PASSWORD), T("暗証番号", SIG_PASSWORD),
    S("パスワード変更のお知らせ", SIG_PASSWORD), S("パスワードが変更", SIG_PASSWORD),
    S("パスワードを変更しました", SIG_PASSWORD), S("パスワードの変更が完了", SIG_PASSWORD),
    S("パスワード再設定完了", SIG_PASSWORD), S("パスワードの再設定が完了", SIG_PASSWORD),
    S("パスワード変更完了", SIG_PASSWORD),
    E("変更されました", CHG), E("変更しました", CHG), E("変更が完了", CHG), E("変更完了", CHG),
    E("変更がありました", CHG), E("変更のお知らせ", CHG), E("変更を受け付け", CHG),
    E("再設定されました", SIG_PASSWORD), E("再設定が完了", SIG_PASSWORD), E("更新されました", CHG),
    E("追加されました", ADD), E("登録されました", ADD), E("削除されました", SIG_RECOVERY | SIG_2FA),
    E("設定されました", ADD), E("追加しました", ADD), E("登録しました", ADD),
    T("再設定用のメールアドレス", SIG_RECOVERY), T("再設定用メールアドレス", SIG_RECOVERY),
    T("再設定用の電話番号", SIG_RECOVERY), T("再設定用電話番号", SIG_RECOVERY),
    T("予備のメールアドレス", SIG_RECOVERY), T("予備メールアドレス", SIG_RECOVERY),
    T("連絡用メールアドレス", SIG_RECOVERY), T("連絡先メールアドレス", SIG_RECOVERY),
    T("復旧用", SIG_RECOVERY), T("秘密の質問", SIG_RECOVERY), T("セキュリティ情報", SIG_RECOVERY),
    T("緊急連絡先", SIG_RECOVERY), T("サブアドレス", SIG_RECOVERY), T("登録メールアドレス", SIG_RECOVERY),
    T("ご登録のメールアドレス", SIG_RECOVERY), T("登録電話番号", SIG_RECOVERY), T("ご登録の電話番号", SIG_RECOVERY),
    T("連絡先情報", SIG_RECOVERY), T("本人確認用", SIG_RECOVERY),
    T("転送", SIG_FORWARD), T("自動転送", SIG_FORWARD), T("転送設定", SIG_FORWARD), T("転送先", SIG_FORWARD),
    S("転送設定が", SIG_FORWARD), S("転送が有効", SIG_FORWARD), S("自動転送を設定", SIG_FORWARD),
    S("転送されます", SIG_FORWARD), E("有効になりました", SIG_FORWARD | SIG_2FA),
    E("有効にしました", SIG_FORWARD | SIG_2FA), E("開始", SIG_FORWARD),
    T("2段階認証", SIG_2FA), T("２段階認証", SIG_2FA), T("二段階認証", SIG_2FA), T("2 段階認証", SIG_2FA),
    T("2要素認証", SIG_2FA), T("二要素認証", SIG_2FA), T("多要素認証", SIG_2FA), T("２要素認証", SIG_2FA),
    T("ワンタイムパスワード", SIG_2FA), T("認証アプリ", SIG_2FA),
    E("無効になりました", SIG_2FA), E("無効にしました", SIG_2FA), E("無効化", SIG_2FA),
    E("解除されました", SIG_2FA), E("解除しました", SIG_2FA), E("オフになりました", SIG_2FA),
    E("オンになりました", SIG_2FA | SIG_FORWARD),
    ON("有効になりました"), ON("有効にしました"), ON("有効化"), ON("オンになりました"), ON("オンにしました"),
    ON("設定されました"), ON("登録されました"), ON("設定しました"),
    OFF("無効になりました"), OFF("無効にしました"), OFF("無効化"), OFF("オフになりました"),
    OFF("オフにしました"), OFF("解除されました"), OFF("解除しました"), OFF("停止しました"),
    OFF("停止されました"), OFF("パスワードのみ"),
    REEN("再度有効"), REEN("もう一度有効"), REEN("再び有効"), REEN("再設定してください"),
    T("送信", SIG_SENDING), T("メール送信", SIG_SENDING), T("大量のメール", SIG_SENDING),
    T("迷惑メール", SIG_SENDING),
    S("送信を制限", SIG_SENDING), S("送信が制限", SIG_SENDING), S("送信制限", SIG_SENDING),
    S("送信を停止", SIG_SENDING), S("送信が停止", SIG_SENDING), S("送信できません", SIG_SENDING),
    S("送信できなくなりました", SIG_SENDING), S("大量送信", SIG_SENDING), S("迷惑メールを送信", SIG_SENDING),
    S("送信を一時停止", SIG_SENDING), S("送信機能を停止", SIG_SENDING), S("送信規制", SIG_SENDING),
    E("制限", SIG_SENDING), E("停止", SIG_SENDING), E("ブロック", SIG_SENDING | SIG_SIGNIN),
    E("できません", SIG_SENDING), E("一時的", SIG_SENDING), E("規制", SIG_SENDING),
    ADV("場合"), ADV("ください"), ADV("下さい"), ADV("お願い"), ADV("もし"), ADV("心当たり"),
    ADV("お勧め"), ADV("おすすめ"), ADV("推奨"), ADV("ご確認"), ADV("必要があります"),
    SEC("セキュリティ"), SEC("重要"), SEC("お知らせ"), SEC("通知"), SEC("ご注意"), SEC("警告"),
    SEC("アカウント"),
    BAIT("24時間以内"), BAIT("48時間以内"), BAIT("本人確認"), BAIT("アカウントが停止"),
    BAIT("アカウントを停止"), BAIT("利用停止"), BAIT("アカウントが凍結"), BAIT("ロックされ"),
    CHAT("容量"), CHAT("請求"), CHAT("領収"), CHAT("お支払い"), CHAT("ご利用料金"), CHAT("メンテナンス"),
    CHAT("新機能"), CHAT("キャンペーン"), CHAT("メールマガジン"), CHAT("利用規約"),
    ASK("送りましたか"), ASK("送信しましたか"), ASK("送られましたか"), ASK("本当に"), ASK("乗っ取られ"),
    ASK("ハッキング"), ASK("不審なメール"), ASK("変なメール"), ASK("怪しいメール"), ASK("迷惑メール"),
    ASK("ウイルス"), ASK("身に覚え"), ASK("なりすまし"), ASK("届きました"),
    QUOTE("のメール:"), QUOTE("書きました:"), QUOTE("wrote："),
    L_DEV("^デバイス"), L_DEV("^端末"), L_DEV("^ブラウザ"), L_DEV("^機種"), L_DEV("^OS"),
    L_PLACE("^場所"), L_PLACE("^地域"), L_PLACE("^国/地域"), L_PLACE("^位置"), L_PLACE("^所在地"),
    L_PLACE("^おおよその場所"), L_IP("^IPアドレス"), L_TIME("^日時"), L_TIME("^時刻"), L_TIME("^日付"),
    L_TIME("^ログイン日時"), L_TGT("転送先", SIG_FORWARD), L_TGT("再設定用", SIG_RECOVERY),
    L_TGT("予備のメールアドレス", SIG_RECOVERY), L_TGT("連絡用メールアドレス", SIG_RECOVERY),

    /* ============================================================ German */
    T("anmeldung", SIG_SIGNIN), T("angemeldet", SIG_SIGNIN), T("eingeloggt", SIG_SIGNIN),
    T("anmeldeversuch", SIG_SIGNIN), T("anmeldeaktivität*", SIG_SIGNIN),
    S("neue anmeldung", SIG_SIGNIN), S("neuen anmeldung", SIG_SIGNIN), S("neues gerät", SIG_SIGNIN),
    S("neuen gerät", SIG_SIGNIN), S("ungewöhnliche anmeldung", SIG_SIGNIN),
    S("verdächtige anmeldung", SIG_SIGNIN), S("hat sich angemeldet", SIG_SIGNIN),
    S("wurde angemeldet", SIG_SIGNIN), S("angemeldet von", SIG_SIGNIN),
    E("ungewöhnlich*", SIG_SIGNIN | SIG_SENDING), E("verdächtig*", SIG_SIGNIN), E("festgestellt", SIG_SIGNIN | SIG_SENDING),
    E("erkannt", SIG_SIGNIN), E("bemerkt", SIG_SIGNIN),
    T("passwort", SIG_PASSWORD), T("kennwort", SIG_PASSWORD),
    S("passwort wurde geändert", SIG_PASSWORD), S("kennwort wurde geändert", SIG_PASSWORD),
    S("passwortänderung", SIG_PASSWORD), S("kennwortänderung", SIG_PASSWORD),
    E("geändert", CHG), E("zurückgesetzt", SIG_PASSWORD), E("aktualisiert", CHG),
    E("hinzugefügt", ADD), E("entfernt", SIG_RECOVERY | SIG_2FA), E("eingerichtet", ADD),
    E("erstellt", SIG_FORWARD), E("eingeschaltet", SIG_FORWARD | SIG_2FA),
    T("wiederherstellungs-e-mail*", SIG_RECOVERY), T("wiederherstellungsadresse", SIG_RECOVERY),
    T("wiederherstellungstelefon*", SIG_RECOVERY), T("wiederherstellungsnummer", SIG_RECOVERY),
    T("sicherheitsinformationen", SIG_RECOVERY), T("kontakt-e-mail*", SIG_RECOVERY), T("kontaktdaten", SIG_RECOVERY),
    T("alternative e-mail*", SIG_RECOVERY), T("ersatz-e-mail*", SIG_RECOVERY),
    T("weiterleitung*", SIG_FORWARD), T("weitergeleitet", SIG_FORWARD), T("posteingangsregel*", SIG_FORWARD),
    S("werden weitergeleitet", SIG_FORWARD), S("wird weitergeleitet", SIG_FORWARD), E("ab sofort", SIG_FORWARD),
    E("désormais", SIG_FORWARD), E("a partir de ahora", SIG_FORWARD), E("a partir de agora", SIG_FORWARD),
    E("d'ora in poi", SIG_FORWARD), E("今後", SIG_FORWARD), E("voortaan", SIG_FORWARD),
    /* "now", "new" in the other languages (English has its own rows) */
    E("jetzt", SIG_FORWARD | SIG_2FA), E("nun", SIG_FORWARD | SIG_2FA), E("maintenant", SIG_FORWARD | SIG_2FA),
    E("ahora", SIG_FORWARD | SIG_2FA), E("agora", SIG_FORWARD | SIG_2FA), E("adesso", SIG_FORWARD | SIG_2FA),
    E("nu", SIG_FORWARD | SIG_2FA), E("neu*", SIG_RECOVERY | SIG_FORWARD), E("nouveau", SIG_RECOVERY | SIG_FORWARD),
    E("nouvelle", SIG_RECOVERY | SIG_FORWARD), E("nouvel", SIG_RECOVERY | SIG_FORWARD),
    E("nuevo", SIG_RECOVERY | SIG_FORWARD), E("nueva", SIG_RECOVERY | SIG_FORWARD),
    E("novo", SIG_RECOVERY | SIG_FORWARD), E("nova", SIG_RECOVERY | SIG_FORWARD),
    E("nuovo", SIG_RECOVERY | SIG_FORWARD), E("nuova", SIG_RECOVERY | SIG_FORWARD),
    E("nieuw*", SIG_RECOVERY | SIG_FORWARD), E("新規", SIG_RECOVERY | SIG_FORWARD),
    E("されます", SIG_FORWARD), E("now also", SIG_FORWARD), E("will now", SIG_FORWARD),
    E("will also be", SIG_FORWARD), E("also be delivered", SIG_FORWARD), E("also be sent", SIG_FORWARD),
    T("bestätigung in zwei schritten", SIG_2FA), T("bestätigung in 2 schritten", SIG_2FA),
    T("zwei-faktor*", SIG_2FA), T("2-faktor*", SIG_2FA), T("zweistufige*", SIG_2FA),
    T("zweifaktor*", SIG_2FA), T("zwei-schritt*", SIG_2FA), T("2-schritt*", SIG_2FA),
    E("deaktiviert", SIG_2FA | SIG_FORWARD), E("aktiviert", SIG_2FA | SIG_FORWARD),
    E("ausgeschaltet", SIG_2FA),
    ON("aktiviert"), ON("eingeschaltet"), OFF("deaktiviert"), OFF("ausgeschaltet"), OFF("abgeschaltet"),
    REEN("wieder aktivieren"), REEN("erneut aktivieren"), REEN("wieder ein"),
    T("versand", SIG_SENDING), T("senden", SIG_SENDING), T("e-mail-versand", SIG_SENDING),
    T("ausgehende*", SIG_SENDING), T("gesendet", SIG_SENDING),
    S("versand eingeschränkt", SIG_SENDING), S("versand wurde eingeschränkt", SIG_SENDING),
    S("keine e-mails senden", SIG_SENDING), S("keine nachrichten senden", SIG_SENDING),
    S("versand gesperrt", SIG_SENDING), S("versand wurde gesperrt", SIG_SENDING),
    E("eingeschränkt", SIG_SENDING), E("gesperrt", SIG_SENDING), E("blockiert", SIG_SENDING),
    E("begrenzt", SIG_SENDING), E("ausgesetzt", SIG_SENDING), E("als spam", SIG_SENDING),
    ADV("wenn"), ADV("falls"), ADV("bitte"), ADV("sollten"), ADV("empfehlen"), ADV("prüfen sie"),
    ADV("überprüfen sie"), ADV("ändern sie"),
    SEC("sicherheit*"), SEC("warnung"), SEC("konto"), SEC("wichtig"),
    BAIT("innerhalb von 24 stunden"), BAIT("bestätigen sie ihr"), BAIT("ihr konto wird gesperrt"),
    BAIT("verifizieren sie"),
    CHAT("speicherplatz"), CHAT("rechnung"), CHAT("postfach ist"), CHAT("neuigkeiten"),
    ASK("hast du"), ASK("gehackt"), ASK("wirklich von dir"), ASK("von dir gesendet"),
    ASK("seltsame mail"), ASK("spam von dir"), ASK("komische mail"),
    QUOTE("schrieb:"), QUOTE("-----ursprüngliche nachricht-----"),
    L_DEV("^gerät"), L_PLACE("^standort"), L_PLACE("^ort"), L_IP("^ip-adresse"), L_TIME("^zeit"),
    L_TIME("^uhrzeit"), L_TIME("^datum"), L_TGT("weitergeleitet an", SIG_FORWARD),

    /* ============================================================ French */
    T("connexion", SIG_SIGNIN), T("connecté", SIG_SIGNIN), T("ouverture de session", SIG_SIGNIN),
    S("nouvelle connexion", SIG_SIGNIN), S("nouvel appareil", SIG_SIGNIN),
    S("connexion inhabituelle", SIG_SIGNIN), S("connexion suspecte", SIG_SIGNIN),
    S("s'est connecté", SIG_SIGNIN), S("tentative de connexion", SIG_SIGNIN),
    E("inhabituel*", SIG_SIGNIN | SIG_SENDING), E("suspect*", SIG_SIGNIN), E("détecté*", SIG_SIGNIN | SIG_SENDING),
    T("mot de passe", SIG_PASSWORD),
    S("mot de passe a été modifié", SIG_PASSWORD), S("mot de passe a été changé", SIG_PASSWORD),
    S("modification du mot de passe", SIG_PASSWORD), S("changement de mot de passe", SIG_PASSWORD),
    E("modifié*", CHG), E("changé*", CHG), E("réinitialisé*", SIG_PASSWORD), E("mis à jour", CHG),
    E("ajouté*", ADD), E("supprimé*", SIG_RECOVERY | SIG_2FA), E("créé*", SIG_FORWARD), E("configuré*", ADD),
    T("adresse e-mail de récupération", SIG_RECOVERY), T("e-mail de récupération", SIG_RECOVERY),
    T("adresse de récupération", SIG_RECOVERY), T("téléphone de récupération", SIG_RECOVERY),
    T("informations de sécurité", SIG_RECOVERY), T("e-mail de secours", SIG_RECOVERY),
    T("adresse de secours", SIG_RECOVERY),
    T("transfert", SIG_FORWARD), T("transféré*", SIG_FORWARD), T("redirection", SIG_FORWARD),
    T("règle de boîte*", SIG_FORWARD),
    S("seront transférés", SIG_FORWARD), S("sera transféré", SIG_FORWARD), S("sont transférés", SIG_FORWARD),
    T("validation en deux étapes", SIG_2FA), T("validation en 2 étapes", SIG_2FA),
    T("vérification en deux étapes", SIG_2FA), T("authentification à deux facteurs", SIG_2FA),
    T("double authentification", SIG_2FA), T("authentification en deux étapes", SIG_2FA),
    E("activé*", SIG_2FA | SIG_FORWARD), E("désactivé*", SIG_2FA | SIG_FORWARD),
    ON("activé*"), OFF("désactivé*"), REEN("réactiver"), REEN("réactivez"),
    T("envoi", SIG_SENDING), T("envoyer", SIG_SENDING), T("messages sortants", SIG_SENDING),
    T("courrier sortant", SIG_SENDING), T("envoyés", SIG_SENDING),
    S("envoi limité", SIG_SENDING), S("ne pouvez pas envoyer", SIG_SENDING), S("ne peut pas envoyer", SIG_SENDING),
    S("envoi de messages a été", SIG_SENDING), S("envoi bloqué", SIG_SENDING),
    E("limité*", SIG_SENDING), E("bloqué*", SIG_SENDING), E("suspendu*", SIG_SENDING), E("restreint*", SIG_SENDING),
    ADV("si"), ADV("veuillez"), ADV("nous vous recommandons"), ADV("vérifiez"), ADV("modifiez"),
    ADV("changez"),
    SEC("sécurité"), SEC("alerte"), SEC("compte"), SEC("important"),
    BAIT("sous 24 heures"), BAIT("dans les 24 heures"), BAIT("vérifiez votre compte"),
    BAIT("confirmez votre identité"), BAIT("sera suspendu"), BAIT("sera fermé"),
    CHAT("stockage"), CHAT("facture"), CHAT("boîte de réception est pleine"),
    ASK("piraté"), ASK("as-tu envoyé"), ASK("avez-vous envoyé"), ASK("vraiment de toi"),
    ASK("vraiment de vous"), ASK("message bizarre"),
    QUOTE("a écrit :"), QUOTE("a écrit:"),
    L_DEV("^appareil"), L_DEV("^navigateur"), L_PLACE("^lieu"), L_PLACE("^emplacement"),
    L_PLACE("^localisation"), L_IP("^adresse ip"), L_TIME("^heure"), L_TIME("^date et heure"),
    L_TGT("transférés à", SIG_FORWARD), L_TGT("transféré à", SIG_FORWARD),

    /* ============================================================ Spanish */
    T("inicio de sesión", SIG_SIGNIN), T("inició sesión", SIG_SIGNIN), T("iniciado sesión", SIG_SIGNIN),
    S("nuevo inicio de sesión", SIG_SIGNIN), S("nuevo dispositivo", SIG_SIGNIN),
    S("inicio de sesión inusual", SIG_SIGNIN), S("inicio de sesión sospechoso", SIG_SIGNIN),
    E("inusual", SIG_SIGNIN | SIG_SENDING), E("sospechos*", SIG_SIGNIN), E("detectad*", SIG_SIGNIN | SIG_SENDING),
    T("contraseña", SIG_PASSWORD),
    S("contraseña ha cambiado", SIG_PASSWORD), S("contraseña se ha cambiado", SIG_PASSWORD),
    S("cambio de contraseña", SIG_PASSWORD),
    E("cambiado", CHG), E("cambiada", CHG), E("cambió", CHG), E("modificad*", CHG),
    E("restablecid*", SIG_PASSWORD), E("actualizad*", CHG), E("añadid*", ADD), E("agregad*", ADD),
    E("actualizó", CHG), E("modificó", CHG), E("restableció", SIG_PASSWORD), E("añadió", ADD), E("agregó", ADD),
    E("eliminó", SIG_RECOVERY | SIG_2FA), E("activó", SIG_2FA | SIG_FORWARD), E("desactivó", SIG_2FA | SIG_FORWARD),
    E("ahora es", SIG_RECOVERY), E("agora é", SIG_RECOVERY), E("est désormais", SIG_RECOVERY),
    E("ist jetzt", SIG_RECOVERY), E("ora è", SIG_RECOVERY),
    E("eliminad*", SIG_RECOVERY | SIG_2FA), E("creada", SIG_FORWARD), E("creado", SIG_FORWARD),
    E("configurad*", ADD),
    T("correo de recuperación", SIG_RECOVERY), T("correo electrónico de recuperación", SIG_RECOVERY),
    T("dirección de recuperación", SIG_RECOVERY), T("teléfono de recuperación", SIG_RECOVERY),
    T("información de seguridad", SIG_RECOVERY), T("correo alternativo", SIG_RECOVERY),
    T("reenvío", SIG_FORWARD), T("reenviad*", SIG_FORWARD), T("redirección", SIG_FORWARD),
    S("se reenviarán", SIG_FORWARD), S("se reenviará", SIG_FORWARD), S("regla de reenvío", SIG_FORWARD),
    T("verificación en dos pasos", SIG_2FA), T("verificación en 2 pasos", SIG_2FA),
    T("autenticación de dos factores", SIG_2FA), T("autenticación en dos pasos", SIG_2FA),
    T("doble factor", SIG_2FA),
    E("activad*", SIG_2FA | SIG_FORWARD), E("desactivad*", SIG_2FA | SIG_FORWARD),
    ON("activad*"), OFF("desactivad*"), REEN("vuelve a activar"), REEN("volver a activar"), REEN("reactiva"),
    T("envío", SIG_SENDING), T("enviar", SIG_SENDING), T("correo saliente", SIG_SENDING),
    T("mensajes salientes", SIG_SENDING), T("enviados", SIG_SENDING),
    S("no puedes enviar", SIG_SENDING), S("no puede enviar", SIG_SENDING), S("envío bloqueado", SIG_SENDING),
    S("envío limitado", SIG_SENDING),
    E("limitad*", SIG_SENDING), E("bloquead*", SIG_SENDING), E("suspendid*", SIG_SENDING), E("restringid*", SIG_SENDING),
    ADV("si no"), ADV("si fuiste"), ADV("por favor"), ADV("te recomendamos"), ADV("le recomendamos"),
    ADV("revisa"), ADV("cambia tu"),
    SEC("seguridad"), SEC("alerta"), SEC("cuenta"),
    BAIT("en 24 horas"), BAIT("verifica tu cuenta"), BAIT("confirma tu identidad"), BAIT("será suspendida"), BAIT("será cerrada"),
    CHAT("almacenamiento"), CHAT("factura"),
    ASK("hackeado"), ASK("hackeada"), ASK("enviaste"), ASK("de verdad"), ASK("correo extraño"),
    ASK("es tuyo"),
    QUOTE("escribió:"),
    L_DEV("^dispositivo"), L_DEV("^navegador"), L_PLACE("^ubicación"), L_PLACE("^lugar"),
    L_IP("^dirección ip"), L_TIME("^hora"), L_TIME("^fecha"), L_TGT("reenviados a", SIG_FORWARD),

    /* ============================================================ Portuguese */
    T("login", SIG_SIGNIN), T("acesso", SIG_SIGNIN), T("sessão", SIG_SIGNIN),
    S("novo login", SIG_SIGNIN), S("novo acesso", SIG_SIGNIN), S("novo dispositivo", SIG_SIGNIN),
    S("login suspeito", SIG_SIGNIN), S("acessou sua conta", SIG_SIGNIN), S("nova entrada", SIG_SIGNIN),
    E("suspeit*", SIG_SIGNIN), E("incomum", SIG_SIGNIN | SIG_SENDING), E("detectad*", SIG_SIGNIN),
    T("senha", SIG_PASSWORD),
    S("senha foi alterada", SIG_PASSWORD), S("alteração de senha", SIG_PASSWORD),
    E("alterada", CHG), E("alterado", CHG), E("redefinida", SIG_PASSWORD), E("atualizad*", CHG),
    E("mudada", CHG), E("adicionad*", ADD), E("removid*", SIG_RECOVERY | SIG_2FA), E("criad*", SIG_FORWARD),
    T("e-mail de recuperação", SIG_RECOVERY), T("email de recuperação", SIG_RECOVERY),
    T("telefone de recuperação", SIG_RECOVERY), T("endereço de recuperação", SIG_RECOVERY),
    T("informações de segurança", SIG_RECOVERY),
    T("encaminhamento", SIG_FORWARD), T("encaminhad*", SIG_FORWARD),
    S("serão encaminhadas", SIG_FORWARD), S("serão encaminhados", SIG_FORWARD),
    S("regra de encaminhamento", SIG_FORWARD),
    T("verificação em duas etapas", SIG_2FA), T("verificação em 2 etapas", SIG_2FA),
    T("autenticação de dois fatores", SIG_2FA), T("autenticação em duas etapas", SIG_2FA),
    E("ativad*", SIG_2FA | SIG_FORWARD), E("desativad*", SIG_2FA | SIG_FORWARD), E("suspens*", SIG_SENDING),
    E("bloquead*", SIG_SENDING), E("limitad*", SIG_SENDING),
    ON("ativad*"), OFF("desativad*"), REEN("reative"), REEN("ativar novamente"),
    T("envio", SIG_SENDING), T("enviadas", SIG_SENDING), T("mensagens enviadas", SIG_SENDING),
    S("não pode enviar", SIG_SENDING), S("não é possível enviar", SIG_SENDING), S("envio bloqueado", SIG_SENDING),
    S("envio limitado", SIG_SENDING),
    ADV("se você"), ADV("caso"), ADV("recomendamos"), ADV("verifique"), ADV("altere"),
    SEC("segurança"), SEC("conta"),
    BAIT("em 24 horas"), BAIT("verifique sua conta"), BAIT("confirme sua identidade"), BAIT("será suspensa"), BAIT("será encerrada"),
    CHAT("armazenamento"), CHAT("fatura"),
    ASK("você enviou"), ASK("foi você"), ASK("e-mail estranho"),
    QUOTE("escreveu:"),
    L_PLACE("^localização"), L_PLACE("^local"), L_IP("^endereço ip"), L_TIME("^data"),
    L_TGT("encaminhados para", SIG_FORWARD), L_TGT("encaminhadas para", SIG_FORWARD),

    /* ============================================================ Italian */
    T("accesso", SIG_SIGNIN), T("accedere", SIG_SIGNIN),
    S("nuovo accesso", SIG_SIGNIN), S("accesso insolito", SIG_SIGNIN), S("accesso sospetto", SIG_SIGNIN),
    S("ha effettuato l'accesso", SIG_SIGNIN), S("è stato effettuato l'accesso", SIG_SIGNIN),
    E("insolit*", SIG_SIGNIN | SIG_SENDING), E("sospett*", SIG_SIGNIN), E("rilevat*", SIG_SIGNIN | SIG_SENDING),
    S("password è stata modificata", SIG_PASSWORD), S("modifica della password", SIG_PASSWORD),
    E("modificata", CHG), E("cambiata", CHG), E("reimpostata", SIG_PASSWORD), E("aggiornata", CHG),
    E("aggiunt*", ADD), E("rimoss*", SIG_RECOVERY | SIG_2FA), E("creata", SIG_FORWARD), E("impostat*", ADD),
    T("email di recupero", SIG_RECOVERY), T("e-mail di recupero", SIG_RECOVERY),
    T("indirizzo di recupero", SIG_RECOVERY), T("telefono di recupero", SIG_RECOVERY),
    T("informazioni di sicurezza", SIG_RECOVERY),
    T("inoltro", SIG_FORWARD), T("inoltrat*", SIG_FORWARD), S("verranno inoltrati", SIG_FORWARD),
    S("regola di inoltro", SIG_FORWARD),
    T("verifica in due passaggi", SIG_2FA), T("verifica in 2 passaggi", SIG_2FA),
    T("autenticazione a due fattori", SIG_2FA), T("autenticazione in due passaggi", SIG_2FA),
    E("attivat*", SIG_2FA | SIG_FORWARD), E("disattivat*", SIG_2FA | SIG_FORWARD),
    ON("attivat*"), OFF("disattivat*"), REEN("riattiva"),
    T("invio", SIG_SENDING), T("inviare", SIG_SENDING), T("posta in uscita", SIG_SENDING),
    S("non puoi inviare", SIG_SENDING), S("invio bloccato", SIG_SENDING), S("invio limitato", SIG_SENDING),
    E("limitat*", SIG_SENDING), E("bloccat*", SIG_SENDING), E("sospes*", SIG_SENDING),
    ADV("se non"), ADV("per favore"), ADV("ti consigliamo"),
    SEC("sicurezza"), SEC("avviso"),
    BAIT("entro 24 ore"), BAIT("verifica il tuo account"), BAIT("conferma la tua identità"), BAIT("sarà sospeso"), BAIT("sarà chiuso"),
    CHAT("spazio di archiviazione"), CHAT("fattura"),
    ASK("hackerato"), ASK("hai mandato"), ASK("hai inviato"), ASK("sei stato tu"), ASK("strana email"),
    QUOTE("ha scritto:"),
    L_PLACE("^posizione"), L_PLACE("^luogo"), L_IP("^indirizzo ip"), L_TIME("^ora"),
    L_TGT("inoltrati a", SIG_FORWARD),

    /* ============================================================ Dutch */
    T("aanmelding", SIG_SIGNIN), T("ingelogd", SIG_SIGNIN), T("aangemeld", SIG_SIGNIN),
    S("nieuwe aanmelding", SIG_SIGNIN), S("nieuw apparaat", SIG_SIGNIN),
    S("ongebruikelijke aanmelding", SIG_SIGNIN), S("inlogpoging", SIG_SIGNIN),
    T("wachtwoord", SIG_PASSWORD), S("wachtwoord is gewijzigd", SIG_PASSWORD),
    E("gewijzigd", CHG), E("opnieuw ingesteld", SIG_PASSWORD), E("bijgewerkt", CHG),
    E("toegevoegd", ADD), E("verwijderd", SIG_RECOVERY | SIG_2FA), E("aangemaakt", SIG_FORWARD),
    T("herstel-e-mailadres", SIG_RECOVERY), T("herstelmailadres", SIG_RECOVERY),
    T("hersteltelefoonnummer", SIG_RECOVERY), T("beveiligingsgegevens", SIG_RECOVERY),
    T("doorsturen", SIG_FORWARD), T("doorgestuurd", SIG_FORWARD), S("worden doorgestuurd", SIG_FORWARD),
    T("verificatie in twee stappen", SIG_2FA), T("tweestapsverificatie", SIG_2FA),
    T("tweefactorauthenticatie", SIG_2FA),
    E("ingeschakeld", SIG_2FA | SIG_FORWARD), E("uitgeschakeld", SIG_2FA),
    ON("ingeschakeld"), OFF("uitgeschakeld"),
    T("verzenden", SIG_SENDING), T("uitgaande", SIG_SENDING),
    S("kunt geen e-mail verzenden", SIG_SENDING), S("verzenden is beperkt", SIG_SENDING),
    E("beperkt", SIG_SENDING), E("geblokkeerd", SIG_SENDING), E("opgeschort", SIG_SENDING),
    ADV("als u"), ADV("als je"), ADV("indien"), ADV("controleer"), ADV("wijzig"),
    SEC("beveiliging*"),
    ASK("gehackt"), ASK("echt van jou"), ASK("heb je dit"),
    QUOTE("schreef:"),
    L_DEV("^apparaat"), L_PLACE("^locatie"), L_IP("^ip-adres"), L_TIME("^tijd"),
    L_TGT("doorgestuurd naar", SIG_FORWARD),

    /* ============================================================ Chinese, Korean */
    T("登录", SIG_SIGNIN), T("登入", SIG_SIGNIN), S("新设备登录", SIG_SIGNIN), S("异常登录", SIG_SIGNIN),
    S("新的登录", SIG_SIGNIN), T("密码", SIG_PASSWORD), E("已更改", CHG), E("已修改", CHG),
    E("已重置", SIG_PASSWORD), E("修改成功", CHG), T("转发", SIG_FORWARD), E("已开启", SIG_FORWARD | SIG_2FA),
    E("已启用", SIG_FORWARD | SIG_2FA), E("已添加", ADD), T("两步验证", SIG_2FA), T("双重验证", SIG_2FA),
    T("二次验证", SIG_2FA), T("双因素", SIG_2FA), ON("已开启"), ON("已启用"), OFF("已关闭"), OFF("已停用"),
    OFF("已禁用"), E("已关闭", SIG_2FA), E("已停用", SIG_2FA), T("辅助邮箱", SIG_RECOVERY), T("备用邮箱", SIG_RECOVERY),
    T("密保手机", SIG_RECOVERY), T("发信", SIG_SENDING), S("发信受限", SIG_SENDING), E("受限", SIG_SENDING),
    E("被限制", SIG_SENDING), ADV("如果"), ADV("请"), SEC("安全"),
    T("로그인", SIG_SIGNIN), S("새로운 로그인", SIG_SIGNIN), S("새 기기", SIG_SIGNIN),
    T("비밀번호", SIG_PASSWORD), E("변경되었습니다", CHG), T("2단계 인증", SIG_2FA), ON("사용 설정"),
    OFF("사용 중지"), OFF("해제되었습니다"), E("해제되었습니다", SIG_2FA), T("전달", SIG_FORWARD),
    T("발송", SIG_SENDING), E("제한", SIG_SENDING), ADV("경우"), ADV("주세요"), SEC("보안"),
};

const size_t bw_sig_phrases_count = G_N_ELEMENTS(bw_sig_phrases);

/* ------------------------------------------------------------ the automaton */

static bw_matcher_t *sig_matcher;
static bool *sig_stem;

static gpointer
build_matcher(gpointer unused)
{
    (void)unused;
    const char **pats = g_new(const char *, bw_sig_phrases_count);
    char **owned = g_new0(char *, bw_sig_phrases_count);
    sig_stem = g_new0(bool, bw_sig_phrases_count);
    for (size_t i = 0; i < bw_sig_phrases_count; i++) {
        const char *p = bw_sig_phrases[i].pattern;
        size_t n = strlen(p);
        if (n > 1 && p[n - 1] == '*') {
            owned[i] = g_strndup(p, n - 1);
            pats[i] = owned[i];
            sig_stem[i] = true;
        } else {
            pats[i] = p;
        }
    }
    sig_matcher = bw_matcher_new(pats, bw_sig_phrases_count);
    for (size_t i = 0; i < bw_sig_phrases_count; i++)
        g_free(owned[i]);
    g_free(owned);
    g_free(pats);
    return sig_matcher;
}

const bw_matcher_t *
bw_sig_matcher(void)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, build_matcher, NULL);
    return sig_matcher;
}

bool
bw_sig_phrase_is_stem(size_t id)
{
    return id < bw_sig_phrases_count && sig_stem != NULL && sig_stem[id];
}

/* ------------------------------------------------------------ providers */

#define D(...) ((const char *const[]){__VA_ARGS__, NULL})

const bw_provider_family_t bw_provider_families[] = {
    {"Google", D("gmail.com", "googlemail.com", "google.com", "accounts.google.com", "gappssmtp.com")},
    {"Microsoft", D("outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.co.jp",
                    "live.com", "live.jp", "msn.com", "microsoft.com", "accountprotection.microsoft.com",
                    "office365.com", "outlook.jp")},
    {"Yahoo", D("yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
                "yahoo-inc.com", "yahoodns.net")},
    {"Yahoo! JAPAN", D("yahoo.co.jp", "yahoo.ne.jp", "mail.yahoo.co.jp")},
    {"Apple", D("icloud.com", "me.com", "mac.com", "apple.com", "id.apple.com")},
    {"AOL", D("aol.com", "aim.com")},
    {"GMX / WEB.DE", D("gmx.net", "gmx.de", "gmx.com", "gmx.at", "gmx.ch", "web.de")},
    {"Proton", D("proton.me", "protonmail.com", "protonmail.ch", "pm.me")},
    {"Fastmail", D("fastmail.com", "fastmail.fm", "messagingengine.com")},
    {"Zoho", D("zoho.com", "zohomail.com", "zoho.eu", "zoho.jp")},
    {"Yandex", D("yandex.ru", "yandex.com", "ya.ru")},
    {"Mail.ru", D("mail.ru", "inbox.ru", "list.ru", "bk.ru")},
    {"Orange", D("orange.fr", "wanadoo.fr")},
    {"NTT docomo", D("docomo.ne.jp", "docomo.ne.jp", "nttdocomo.co.jp", "mail.docomo.ne.jp")},
    {"au (KDDI)", D("au.com", "ezweb.ne.jp", "kddi.com", "auone.jp", "auone-net.jp")},
    {"SoftBank", D("softbank.ne.jp", "i.softbank.jp", "softbank.jp", "ymobile.ne.jp", "ymobile1.ne.jp")},
    {"OCN", D("ocn.ne.jp", "ocn.ad.jp", "ntt.com")},
    {"BIGLOBE", D("biglobe.ne.jp", "biglobe.co.jp")},
    {"So-net", D("so-net.ne.jp", "so-net.jp")},
    {"nifty", D("nifty.com", "nifty.ne.jp")},
    {"Plala", D("plala.or.jp", "ocn.ne.jp")},
};

const size_t bw_provider_families_count = G_N_ELEMENTS(bw_provider_families);

const char *const bw_sig_role_words[] = {
    "noreply", "donotreply", "dontreply", "mailerdaemon", "postmaster", "security", "alert",
    "notif", "account", "support", "service", "admin", "abuse", "verif", "system", "robot",
    "bounce", "appleid", "protection", "safety", "info", "team", "news", "help", "auto", "id",
    "mail", "ops", "msg", "sec",
    NULL,
};

const char *const bw_sig_generic_labels[] = {
    "mail", "email", "e-mail", "smtp", "imap", "pop", "mx", "www", "secure", "security", "account",
    "accounts", "login", "online", "service", "services", "support", "example", "server", "host",
    "cloud", "net", "web", "info", "help", "team", "notify", "verify", "update", "home",
    NULL,
};

/* ------------------------------------------------------------ helpers */

char *
bw_sig_domain_of(const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    if (at == NULL || at[1] == '\0' || strlen(at + 1) > 253)
        return NULL;
    return g_ascii_strdown(at + 1, -1);
}

bool
bw_sig_host_under(const char *host, const char *domain)
{
    if (host == NULL || domain == NULL || *domain == '\0')
        return false;
    size_t hl = strlen(host), dl = strlen(domain);
    if (hl < dl || g_ascii_strcasecmp(host + (hl - dl), domain) != 0)
        return false;
    return hl == dl || host[hl - dl - 1] == '.';
}

/* Two-letter second-level labels that are public suffixes under country
 * codes (co.jp, ne.jp, or.jp, co.uk, com.br...). */
static bool
is_second_level_suffix(const char *label, size_t n, const char *tld)
{
    static const char *const sl[] = {
        "co", "ne", "or", "ac", "ad", "ed", "go", "gr", "lg", "com", "net", "org", "gov", "edu",
        "mil", "gob", "nom", "ltd", "plc", "sch", NULL,
    };
    if (strlen(tld) != 2)
        return false;
    for (unsigned i = 0; sl[i]; i++)
        if (strlen(sl[i]) == n && g_ascii_strncasecmp(label, sl[i], n) == 0)
            return true;
    return false;
}

char *
bw_sig_registrable(const char *host)
{
    if (host == NULL || *host == '\0' || *host == '[' || g_hostname_is_ip_address(host))
        return NULL;
    g_autofree char *h = g_ascii_strdown(host, -1);
    size_t n = strlen(h);
    while (n > 0 && h[n - 1] == '.')
        h[--n] = '\0';
    if (n == 0 || n > 253)
        return NULL;
    /* labels from the right */
    const char *labels[128];
    unsigned nl = 0;
    const char *p = h;
    labels[nl++] = p;
    for (const char *c = h; *c && nl < G_N_ELEMENTS(labels); c++)
        if (*c == '.')
            labels[nl++] = c + 1;
    if (nl < 2)
        return g_strdup(h);
    const char *tld = labels[nl - 1];
    unsigned keep = 2;
    const char *second = labels[nl - 2];
    size_t second_len = (size_t)(tld - 1 - second);
    /* the reserved documentation names (RFC 2606, JPRS): each name below
     * example.com/.net/.org/.jp stands for a different organisation */
    bool doc = second_len == 7 && strncmp(second, "example", 7) == 0 &&
               (strcmp(tld, "com") == 0 || strcmp(tld, "net") == 0 || strcmp(tld, "org") == 0 ||
                strcmp(tld, "jp") == 0);
    if (doc || is_second_level_suffix(second, second_len, tld))
        keep = 3;
    if (strcmp(tld, "example") == 0 || strcmp(tld, "test") == 0 || strcmp(tld, "invalid") == 0)
        keep = 2;
    if (nl < keep)
        return g_strdup(h);
    return g_strdup(labels[nl - keep]);
}

char *
bw_sig_brand(const char *registrable)
{
    if (registrable == NULL)
        return NULL;
    const char *dot = strchr(registrable, '.');
    size_t n = dot ? (size_t)(dot - registrable) : strlen(registrable);
    if (n < 4 || n > 63)
        return NULL;
    for (unsigned i = 0; bw_sig_generic_labels[i]; i++)
        if (strlen(bw_sig_generic_labels[i]) == n && strncmp(registrable, bw_sig_generic_labels[i], n) == 0)
            return NULL;
    return g_ascii_strdown(registrable, (gssize)n);
}

bool
bw_sig_is_role_local(const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    if (at == NULL || at == address || at - address > 64)
        return false;
    char flat[80];
    size_t n = 0;
    /* tokens split at separators and digits; the flat form without them */
    char tok[80];
    size_t tn = 0;
    bool hit = false;
    for (const char *c = address; c <= at && !hit; c++) {
        char ch = c < at ? g_ascii_tolower(*c) : '\0';
        bool sep = ch == '\0' || ch == '-' || ch == '.' || ch == '_' || ch == '+' || g_ascii_isdigit(ch);
        if (!sep) {
            if (n + 1 < sizeof flat)
                flat[n++] = ch;
            if (tn + 1 < sizeof tok)
                tok[tn++] = ch;
            continue;
        }
        tok[tn] = '\0';
        for (unsigned i = 0; tn > 0 && bw_sig_role_words[i]; i++)
            if (strlen(bw_sig_role_words[i]) <= 4 && strcmp(tok, bw_sig_role_words[i]) == 0)
                hit = true;
        tn = 0;
    }
    flat[n] = '\0';
    for (unsigned i = 0; !hit && bw_sig_role_words[i]; i++)
        if (strlen(bw_sig_role_words[i]) > 4 && strstr(flat, bw_sig_role_words[i]) != NULL)
            hit = true;
    return hit;
}
