/* report.c: the report model every reader builds on: the constructors and
 * destructors of reports, recipients and originals (GLib only: the parse
 * front links this without GMime; the header view of the message being
 * read, bw_view_header, is report-view.c).
 *
 * The parser's code runs one way: parse.c (the dispatcher) calls the
 * readers (dsn.c, arf.c, vendor.c, generic.c, autoreply.c, original.c);
 * the readers build on this file and on the helpers below them (message.c,
 * diagnostic.c, reason.c); nothing here calls back up. */
#include "bw-parse.h"
#include <string.h>

/* ------------------------------------------------------------ objects */

bw_recipient_t *
bw_recipient_new(void)
{
    return g_new0(bw_recipient_t, 1);
}

void
bw_recipient_free(bw_recipient_t *r)
{
    if (r == NULL)
        return;
    g_free(r->address);
    g_free(r->original_address);
    g_free(r->action);
    g_free(r->status);
    g_free(r->reply_code);
    g_free(r->remote_mta);
    g_free(r->diagnostic);
    g_free(r);
}

bw_original_t *
bw_original_new(void)
{
    bw_original_t *o = g_new0(bw_original_t, 1);
    o->to = g_ptr_array_new_with_free_func(g_free);
    o->received = g_ptr_array_new_with_free_func(g_free);
    o->url_domains = g_ptr_array_new_with_free_func(g_free);
    return o;
}

void
bw_original_free(bw_original_t *o)
{
    if (o == NULL)
        return;
    g_free(o->message_id);
    g_free(o->from);
    g_ptr_array_unref(o->to);
    g_free(o->subject);
    g_free(o->date);
    g_free(o->return_path);
    g_ptr_array_unref(o->received);
    g_free(o->dkim_domain);
    g_free(o->x_mailer);
    g_free(o->in_reply_to);
    g_free(o->body_text);
    g_ptr_array_unref(o->url_domains);
    g_free(o);
}

bw_report_t *
bw_report_new(void)
{
    bw_report_t *r = g_new0(bw_report_t, 1);
    r->recipients = g_ptr_array_new_with_free_func((GDestroyNotify)bw_recipient_free);
    r->references = g_ptr_array_new_with_free_func(g_free);
    r->to = g_ptr_array_new_with_free_func(g_free);
    return r;
}

void
bw_report_free(bw_report_t *r)
{
    if (r == NULL)
        return;
    if (r->strings != NULL) {
        /* read back from the state: the report, its original, its
         * recipients and every string are in the block (which starts with
         * the report); the lists have no free function */
        g_ptr_array_unref(r->recipients);
        if (r->original != NULL) {
            g_ptr_array_unref(r->original->to);
            g_ptr_array_unref(r->original->received);
            g_ptr_array_unref(r->original->url_domains);
        }
        g_ptr_array_unref(r->references);
        g_ptr_array_unref(r->to);
        g_free(r->strings);   /* r itself */
        return;
    }
    g_ptr_array_unref(r->recipients);
    bw_original_free(r->original);
    g_free(r->feedback_type);
    g_free(r->message_id);
    g_free(r->from);
    g_free(r->subject);
    g_free(r->date);
    g_free(r->in_reply_to);
    g_ptr_array_unref(r->references);
    g_ptr_array_unref(r->to);
    g_free(r->auto_submitted);
    g_free(r);
}
