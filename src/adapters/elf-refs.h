/* elf-refs.h: how a loaded shared object reaches one of its own exported
 * functions, read from its dynamic section and its code in memory
 * (x86-64 ELF only).
 *
 * A call from a shared object to a function of default visibility that it
 * defines itself goes through its PLT (a JUMP_SLOT relocation: an entry of
 * its GOT, filled by the dynamic linker with the first definition found
 * in the object's lookup scope) unless the object was linked with
 * -Bsymbolic (DT_SYMBOLIC, DF_SYMBOLIC) or the compiler bound the call
 * itself (a direct call or jump, or the address taken with a RELATIVE
 * relocation), or the call names another symbol at the same address (an
 * alias).  bw_elf_refs() reports all of them, so that nm-reopen.c can
 * prove that every call libnotmuch makes to notmuch_database_reopen
 * reaches the definition the GOT entry holds, and tests can call through
 * that entry as libnotmuch does.
 *
 * Every loop is bounded by the object's own segments (every address read
 * is inside one of its PT_LOAD segments, checked before it is read) and by
 * fixed caps. */
#ifndef BW_ELF_REFS_H
#define BW_ELF_REFS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned slots;       /* JUMP_SLOT/GLOB_DAT/64 relocations naming `name` */
    void *slot_value;     /* what the first of them holds now */
    bool slots_differ;    /* another of them holds something else */
    bool symbolic;        /* DT_SYMBOLIC or DF_SYMBOLIC: calls bound at link time */
    bool other_refs;      /* a RELATIVE relocation, a GOT entry of another
                           * name holding `real` (an alias), or a rel32 (call,
                           * jump, lea) in an executable segment reaching it */
} bw_elf_refs_t;

/* Reads the object that holds the code at `real` (the definition of
 * `name` in it).  FALSE when it cannot be read completely (not x86-64 ELF,
 * no dynamic section, REL instead of RELA relocations, an address outside
 * the object, a cap reached): nothing is then known.  `scan_code`: look
 * for direct calls and jumps (one pass over its executable segments,
 * ~150 KB for libnotmuch 0.37). */
bool bw_elf_refs(const void *real, const char *name, bool scan_code, bw_elf_refs_t *out);

/* Are `a` and `b` both inside the PT_LOAD segments of one loaded object?
 * (dl_iterate_phdr: a few thousand instructions, where dladdr reads the
 * object's symbol table.)  FALSE when either is NULL or in none. */
bool bw_elf_same_object(const void *a, const void *b);

#ifdef __cplusplus
}
#endif

#endif
