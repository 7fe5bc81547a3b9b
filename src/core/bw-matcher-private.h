/* bw-matcher-private.h: the layout of an automaton (vendor-match.c), shared
 * with the build-time generator (matcher-gen.c) that writes the automata of
 * the phrase tables out as constant arrays, and with matcher-prebuilt.c that
 * serves them (so a process that starts builds none).  Not part of the API. */
#ifndef BW_MATCHER_PRIVATE_H
#define BW_MATCHER_PRIVATE_H

#include "bw-vendor.h"

typedef struct {
    guint32 first_child;   /* index of the first child, 0 = none */
    guint32 next_sibling;  /* next child of the same parent, 0 = none */
    guint32 fail;          /* longest proper suffix that is a trie node */
    guint32 dict;          /* nearest node on the fail chain with output, 0 = none */
    gint32 out;            /* first pattern id ending here, -1 = none */
    guint8 byte;
} ac_node_t;

struct bw_matcher {
    const ac_node_t *nodes; /* node 0 is the root */
    guint32 nnodes;
    GArray *node_store;     /* the nodes while they are built; NULL when
                               the automaton is a constant (prebuilt) */
    bool prebuilt;          /* constant data: bw_matcher_free leaves it */
    guint32 root_next[256]; /* the root's transitions, 0 = stay at root */
    const gint32 *out_next; /* per pattern id: next id ending at the same node */
    const guint16 *plen;    /* normalised length of each pattern */
    const bool *anchored;   /* pattern must start a line */
    size_t npatterns;
    /* The automaton as a table: delta[state * nclasses + byte_class[c]]
     * is the next state, with DELTA_OUTPUT set when a pattern ends there
     * (so the scan reads no node for the common byte).  NULL when the trie
     * has more states than 15 bits hold, or more than 254 classes (then
     * the scan walks the trie). */
    guint8 byte_class[256]; /* 0: a byte no pattern contains */
    /* The class of a byte on the scan's run: byte_class for the bytes
     * bw_matcher_runs_as_is names; for ' ', the class before the last
     * (nclasses - 2), whose column is the move on ' ' where a blank after
     * a blank leaves the run (see build_table); else the last class
     * (nclasses - 1), which no byte of byte_class has and whose column is
     * DELTA_ESCAPE in every row: the run reads one table entry per byte,
     * and another blank, a control byte or a byte the scan reads
     * specially leaves it through the same test as a match. */
    guint8 run_class[256];
    guint32 nclasses;       /* the run's blank and the escape included */
    const guint16 *delta;
};

/* The bytes the scan feeds as they are, one for one: printable ASCII
 * ('!' to DEL; the table folds its case) and the 8-bit bytes but the
 * three it reads specially (0xC3 and 0xD0 start a pair it folds, 0xE2 a
 * typographic apostrophe).  They take the scan's fast path. */
static inline bool
bw_matcher_runs_as_is(unsigned char c)
{
    return (c > ' ' && c < 0x80) || (c >= 0x80 && c != 0xC3 && c != 0xD0 && c != 0xE2);
}

#define DELTA_STATE 0x7FFFu
#define DELTA_OUTPUT 0x8000u
/* The escape column's entry: no state is DELTA_STATE (a table holds at
 * most DELTA_STATE states, 0 to DELTA_STATE - 1). */
#define DELTA_ESCAPE 0xFFFFu

/* The key of a list of patterns: a 64-bit FNV-1a hash over the count and
 * every pattern's bytes with its terminating NUL (a NULL pattern hashes as
 * one byte 0xFF), the same in the generator and at run time. */
guint64 bw_matcher_key(const char *const *patterns, size_t n);

/* The prebuilt automaton of a list of patterns with this key and count, or
 * NULL (matcher-prebuilt.c: the generated tables; empty where the build
 * made none, as in the fuzzing build, which builds every automaton). */
const bw_matcher_t *bw_matcher_prebuilt_find(guint64 key, size_t n);

/* The automaton of a list of patterns built at run time, even where a
 * prebuilt one exists (bw_matcher_new: the prebuilt one, else this). */
bw_matcher_t *bw_matcher_build(const char *const *patterns, size_t n);

/* Called by bw_matcher_new with every automaton it builds at run time (the
 * generator sets it to write them out); NULL in the program. */
extern void (*bw_matcher_built_hook)(const bw_matcher_t *m, guint64 key);
/* Called by bw_matcher_new with every prebuilt automaton it serves, and the
 * list it was asked for (the unit test compares each with the automaton
 * built at run time from that list); NULL in the program. */
extern void (*bw_matcher_served_hook)(const bw_matcher_t *m, const char *const *patterns,
                                      size_t n);
/* How many automata the build prebuilt (0 without the tables). */
size_t bw_matcher_prebuilt_count(void);

/* Builds every automaton of the phrase tables (vendor.c, reason.c,
 * generic.c, autoreply.c, original.c, signal-table.c): the generator's list
 * of what to write out, and the unit test that each one is prebuilt. */
void bw_matchers_build_all(void);
/* Their lazy initialisers (generic.c, autoreply.c), for it. */
void bw_generic_automata_init(void);
void bw_autoreply_matchers_init(void);

#endif /* BW_MATCHER_PRIVATE_H */
