/* status.c: the error setter, and names of the core's enumerations
 * (status, kind, reason). */
#include "bw-private.h"
#include <stdarg.h>
#include <string.h>

bw_status_t
bw_error_set(char **detail, bw_status_t status, const char *fmt, ...)
{
    if (detail == NULL || *detail != NULL)
        return status;
    va_list ap;
    va_start(ap, fmt);
    *detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return status;
}

const char *
bw_status_to_string(bw_status_t status)
{
    switch (status) {
    case BW_OK: return "success";
    case BW_E_NOMEM: return "out of memory";
    case BW_E_IO: return "cannot read the file";
    case BW_E_NOT_MAIL: return "not an e-mail message";
    case BW_E_TOO_LARGE: return "message too large";
    case BW_E_INVALID: return "invalid argument";
    case BW_E_STATE: return "state store error";
    case BW_E_DATABASE: return "mail database error";
    case BW_E_INTERNAL: return "internal error";
    case BW_E_REFUSED: return "refused by a structural limit";
    case BW_E_CONFIG: return "not configured";
    case BW_STATUS_LAST: break;
    }
    return "unknown status";
}

static const char *const kind_names[] = {
    [BW_KIND_NONE] = NULL,
    [BW_KIND_DSN] = "dsn",
    [BW_KIND_BOUNCE] = "bounce",
    [BW_KIND_AUTOREPLY] = "autoreply",
    [BW_KIND_CHALLENGE] = "challenge",
    [BW_KIND_VIRUS] = "virus",
    [BW_KIND_FEEDBACK] = "feedback",
};

const char *
bw_kind_to_string(bw_kind_t kind)
{
    if ((unsigned)kind >= G_N_ELEMENTS(kind_names))
        return NULL;
    return kind_names[kind];
}

bw_kind_t
bw_kind_from_string(const char *s)
{
    if (s == NULL)
        return BW_KIND_NONE;
    for (unsigned i = 1; i < G_N_ELEMENTS(kind_names); i++)
        if (strcmp(kind_names[i], s) == 0)
            return (bw_kind_t)i;
    return BW_KIND_NONE;
}

static const char *const reason_names[BW_REASON_LAST] = {
    [BW_REASON_UNKNOWN] = "unknown",
    [BW_REASON_USER_UNKNOWN] = "user-unknown",
    [BW_REASON_HOST_UNKNOWN] = "host-unknown",
    [BW_REASON_MAILBOX_FULL] = "mailbox-full",
    [BW_REASON_MESSAGE_TOO_LARGE] = "message-too-large",
    [BW_REASON_CONTENT_REJECTED] = "content-rejected",
    [BW_REASON_VIRUS] = "virus",
    [BW_REASON_SPAM] = "spam",
    [BW_REASON_BLOCKED] = "blocked",
    [BW_REASON_POLICY] = "policy",
    [BW_REASON_AUTH_FAILURE] = "auth-failure",
    [BW_REASON_SUSPENDED] = "suspended",
    [BW_REASON_RATE_LIMITED] = "rate-limited",
    [BW_REASON_NETWORK_ERROR] = "network-error",
    [BW_REASON_EXPIRED] = "expired",
    [BW_REASON_SYSTEM_ERROR] = "system-error",
    [BW_REASON_TLS_ERROR] = "tls-error",
    [BW_REASON_VACATION] = "vacation",
    [BW_REASON_FEEDBACK] = "feedback",
    [BW_REASON_DELIVERED] = "delivered",
};

const char *
bw_reason_to_string(bw_reason_t reason)
{
    if ((unsigned)reason >= BW_REASON_LAST)
        return "unknown";
    return reason_names[reason];
}

bw_reason_t
bw_reason_from_string(const char *s)
{
    if (s == NULL)
        return BW_REASON_UNKNOWN;
    for (unsigned i = 0; i < BW_REASON_LAST; i++)
        if (strcmp(reason_names[i], s) == 0)
            return (bw_reason_t)i;
    return BW_REASON_UNKNOWN;
}
