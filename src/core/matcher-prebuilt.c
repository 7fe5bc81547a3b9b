/* matcher-prebuilt.c: the automata of the phrase tables, built by make.
 *
 * Building them at every start cost each process ~7 M instructions and
 * ~1,150 page faults (4.3 MB of transition tables written into fresh
 * memory) before its first message: more than parsing one.  matcher-gen.c
 * builds them at build time with the same code (vendor-match.c) and writes
 * them out as constant arrays (matcher-tables.h), which the program maps
 * from its file on demand: a process only pages in the rows its texts
 * visit, and builds nothing.  bw_matcher_new serves a list of patterns from
 * here when its key (bw_matcher_key: a hash of every pattern byte) and
 * count match one, else builds it (other lists: the tests, the fuzzing
 * build, which compiles this file without the tables). */
#include "bw-matcher-private.h"

#ifdef BW_MATCHER_TABLES
#include "matcher-tables.h"
#endif

const bw_matcher_t *
bw_matcher_prebuilt_find(guint64 key, size_t n)
{
#ifdef BW_MATCHER_TABLES
    for (size_t i = 0; i < G_N_ELEMENTS(bw_prebuilt); i++)
        if (bw_prebuilt[i].key == key && bw_prebuilt[i].matcher->npatterns == n)
            return bw_prebuilt[i].matcher;
#else
    (void)key;
    (void)n;
#endif
    return NULL;
}

size_t
bw_matcher_prebuilt_count(void)
{
#ifdef BW_MATCHER_TABLES
    return G_N_ELEMENTS(bw_prebuilt);
#else
    return 0;
#endif
}
