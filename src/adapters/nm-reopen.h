/* nm-reopen.h: libnotmuch's silent reopen made visible.
 *
 * libnotmuch 0.37 moves its handle to the newest revision by itself when
 * a message getter meets Xapian's DatabaseModifiedError: the catch in
 * _notmuch_message_ensure_metadata (lib/message.cc:445) calls
 * notmuch_database_reopen(), and tells no one.  It is the only caller in
 * libnotmuch, and that function is the only place libnotmuch reopens its
 * Xapian database (open.cc:727-772).  libnotmuch (Debian's libnotmuch.so.5,
 * BIND_NOW, no -Bsymbolic) makes that call through its PLT, so it reaches
 * the first definition of notmuch_database_reopen in libnotmuch's lookup
 * scope.  nm-reopen.c defines one, exported from the engine module
 * (Makefile.am): the module is loaded RTLD_LOCAL (RTLD_DEEPBIND or not),
 * so its own scope comes before libnotmuch's, which it loads.  It counts
 * every call and forwards it to libnotmuch's own function.
 *
 * Whether libnotmuch's call really reaches it is proven at the first
 * question, from libnotmuch as loaded (bw_nm_reopen_proven); until then,
 * and when it is not, no answer relies on the count. */
#ifndef BW_NM_REOPEN_H
#define BW_NM_REOPEN_H

#include <stdbool.h>
#include <notmuch.h>

/* Calls of notmuch_database_reopen by anyone but bw_nm_reopen_own, in this
 * process since it started (every thread, every database). */
unsigned long bw_nm_reopen_calls(void);

/* notmuch_database_reopen, not counted: the reopens nm-source.c makes
 * itself and accounts for. */
notmuch_status_t bw_nm_reopen_own(notmuch_database_t *db, notmuch_database_mode_t mode);

/* Does every call libnotmuch makes to notmuch_database_reopen go through
 * the counting definition?  TRUE only when all of these are read in
 * libnotmuch as loaded (elf-refs.h), on x86-64:
 *   - it is linked without -Bsymbolic (no DT_SYMBOLIC, no DF_SYMBOLIC);
 *   - it has at least one GOT entry for notmuch_database_reopen (its PLT
 *     call) and each one holds the counting definition now (BIND_NOW: the
 *     entries are filled at load; a lazy entry still holds the PLT stub,
 *     and the answer is then FALSE);
 *   - no direct call, jump or RIP-relative address of its own definition
 *     in its code, and no RELATIVE relocation to it (the call bound
 *     inside libnotmuch, as -fno-semantic-interposition with LTO may do).
 * Computed once per process, when first asked (~1 M instructions: one pass
 * over libnotmuch's ~150 KB of code).  BOUNCEWATCH_TEST_REOPEN_PROOF=off:
 * FALSE (tests). */
bool bw_nm_reopen_proven(void);

#endif
