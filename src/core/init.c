/* init.c: the core's one-time initialisation (GMime, libsodium), apart
 * from status.c's strings so that the parse front, which links those
 * without initialising anything, does not load GMime or libsodium. */
#include "bw-private.h"
#include <sodium.h>

static gsize bw_initialised = 0;


bw_status_t
bw_init(void)
{
    if (g_once_init_enter(&bw_initialised)) {
        g_mime_init();
        int rc = sodium_init();
        g_once_init_leave(&bw_initialised, rc < 0 ? 2 : 1);
    }
    return bw_initialised == 1 ? BW_OK : BW_E_INTERNAL;
}

void
bw_shutdown(void)
{
    /* g_mime_shutdown() would break a later bw_init() in the same process
     * (tests, the agent), so the GMime state stays until exit. */
}
