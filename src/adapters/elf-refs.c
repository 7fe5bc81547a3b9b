/* elf-refs.c: see elf-refs.h. */
#include "elf-refs.h"

#include <string.h>

#if defined(__x86_64__) && defined(__ELF__) && defined(__linux__)

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_PHDRS 256u            /* program headers looked at */
#define MAX_DYN 4096u             /* dynamic entries */
#define MAX_RELA (1u << 20)       /* relocations of one table */
#define MAX_CODE ((size_t)256 << 20)   /* bytes of one executable segment */

typedef struct {
    uintptr_t real;
    const char *name;
    bool scan_code;
    bw_elf_refs_t *out;
    bool found;   /* the object holding `real` was met */
    bool ok;      /* and read completely */
} walk_t;

/* [addr, addr + len) lies inside one PT_LOAD segment of the object. */
static bool
in_object(const struct dl_phdr_info *info, uintptr_t addr, size_t len)
{
    if (addr + len < addr)
        return false;
    for (size_t i = 0; i < info->dlpi_phnum && i < MAX_PHDRS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (lo < info->dlpi_addr || lo + ph->p_memsz < lo)
            continue;
        if (addr >= lo && addr + len <= lo + ph->p_memsz)
            return true;
    }
    return false;
}

/* A d_ptr of the dynamic section as an address: glibc adds the load
 * address to some entries in place when it loads the object (its
 * get-dynamic-info.h), others keep the link-time value. */
static uintptr_t
dyn_addr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
    return v >= info->dlpi_addr ? (uintptr_t)v : (uintptr_t)(info->dlpi_addr + v);
}

typedef struct {
    uintptr_t symtab, strtab;
    size_t strsz;
} names_t;

/* Does symbol `sym` of the object name `name`? */
static bool
sym_is(const struct dl_phdr_info *info, const names_t *n, size_t sym, const char *name, bool *bad)
{
    uintptr_t at = n->symtab + sym * sizeof(ElfW(Sym));
    if (sym > MAX_RELA || !in_object(info, at, sizeof(ElfW(Sym)))) {
        *bad = true;
        return false;
    }
    const ElfW(Sym) *s = (const ElfW(Sym) *)at;
    size_t len = strlen(name) + 1;
    if (s->st_name >= n->strsz || n->strsz - s->st_name < len)
        return false;   /* too short to be `name` (still in the table) */
    uintptr_t str = n->strtab + s->st_name;
    if (!in_object(info, str, len)) {
        *bad = true;
        return false;
    }
    return memcmp((const void *)str, name, len) == 0;
}

/* One table of Elf64_Rela: FALSE when it cannot be read. */
static bool
read_rela(const struct dl_phdr_info *info, const names_t *n, uintptr_t table, size_t size,
          walk_t *w)
{
    if (table == 0 || size == 0)
        return true;
    size_t count = size / sizeof(ElfW(Rela));
    if (size % sizeof(ElfW(Rela)) != 0 || count > MAX_RELA ||
        !in_object(info, table, count * sizeof(ElfW(Rela))))
        return false;
    const ElfW(Rela) *r = (const ElfW(Rela) *)table;
    for (size_t i = 0; i < count; i++) {
        unsigned long type = ELF64_R_TYPE(r[i].r_info);
        size_t sym = ELF64_R_SYM(r[i].r_info);
        if (type == R_X86_64_RELATIVE) {
            if (info->dlpi_addr + (uintptr_t)r[i].r_addend == w->real)
                w->out->other_refs = true;   /* its address stored locally */
            continue;
        }
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT && type != R_X86_64_64)
            continue;
        if (sym == 0)
            continue;
        uintptr_t slot = info->dlpi_addr + r[i].r_offset;
        if (!in_object(info, slot, sizeof(void *)))
            return false;
        void *value = *(void *const *)slot;
        bool bad = false;
        bool match = sym_is(info, n, sym, w->name, &bad);
        if (bad)
            return false;
        if (!match) {
            if ((uintptr_t)value == w->real)
                w->out->other_refs = true;   /* another name bound to it */
            continue;
        }
        if (type == R_X86_64_64 && r[i].r_addend != 0)
            w->out->slots_differ = true;
        if (w->out->slots == 0)
            w->out->slot_value = value;
        else if (value != w->out->slot_value)
            w->out->slots_differ = true;
        w->out->slots++;
    }
    return true;
}

/* Any rel32 in the object's code that reaches `real` from the end of its
 * four bytes: a direct call (e8), jump (e9, 0f 8x) or RIP-relative lea.
 * Every offset is tried, so a match inside another instruction is
 * possible: it only makes the answer "not proven". */
static void
scan_code(const struct dl_phdr_info *info, walk_t *w)
{
    for (size_t i = 0; i < info->dlpi_phnum && i < MAX_PHDRS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        size_t len = ph->p_filesz < ph->p_memsz ? ph->p_filesz : ph->p_memsz;
        uintptr_t base = info->dlpi_addr + ph->p_vaddr;
        if (len < 4 || len > MAX_CODE || !in_object(info, base, len)) {
            w->out->other_refs = true;   /* cannot tell: as if found */
            continue;
        }
        const unsigned char *p = (const unsigned char *)base;
        /* real = base + j + 4 + rel32(j): rel32(j) == want - j */
        uint32_t want = (uint32_t)(w->real - base - 4);
        for (size_t j = 0; j + 4 <= len; j++) {
            uint32_t rel;
            memcpy(&rel, p + j, 4);
            if (rel == want - (uint32_t)j) {
                w->out->other_refs = true;
                return;
            }
        }
    }
}

static bool
read_object(const struct dl_phdr_info *info, walk_t *w)
{
    const ElfW(Dyn) *dyn = NULL;
    size_t ndyn = 0;
    for (size_t i = 0; i < info->dlpi_phnum && i < MAX_PHDRS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC) {
            uintptr_t at = info->dlpi_addr + ph->p_vaddr;
            ndyn = ph->p_memsz / sizeof(ElfW(Dyn));
            if (ndyn > MAX_DYN || !in_object(info, at, ndyn * sizeof(ElfW(Dyn))))
                return false;
            dyn = (const ElfW(Dyn) *)at;
        }
    }
    if (dyn == NULL)
        return false;
    names_t n = { 0, 0, 0 };
    uintptr_t rela = 0, jmprel = 0;
    size_t relasz = 0, pltrelsz = 0;
    bool ended = false;
    for (size_t i = 0; i < ndyn; i++) {
        ElfW(Sxword) tag = dyn[i].d_tag;
        if (tag == DT_NULL) {
            ended = true;
            break;
        }
        switch (tag) {
        case DT_SYMTAB: n.symtab = dyn_addr(info, dyn[i].d_un.d_ptr); break;
        case DT_STRTAB: n.strtab = dyn_addr(info, dyn[i].d_un.d_ptr); break;
        case DT_STRSZ: n.strsz = dyn[i].d_un.d_val; break;
        case DT_RELA: rela = dyn_addr(info, dyn[i].d_un.d_ptr); break;
        case DT_RELASZ: relasz = dyn[i].d_un.d_val; break;
        case DT_JMPREL: jmprel = dyn_addr(info, dyn[i].d_un.d_ptr); break;
        case DT_PLTRELSZ: pltrelsz = dyn[i].d_un.d_val; break;
        case DT_SYMENT:
            if (dyn[i].d_un.d_val != sizeof(ElfW(Sym)))
                return false;
            break;
        case DT_RELAENT:
            if (dyn[i].d_un.d_val != sizeof(ElfW(Rela)))
                return false;
            break;
        case DT_PLTREL:
            if (dyn[i].d_un.d_val != DT_RELA)
                return false;
            break;
        case DT_REL: case DT_RELSZ: case DT_TEXTREL:
            return false;   /* not what x86-64 objects use: not read */
        case DT_SYMBOLIC:
            w->out->symbolic = true;
            break;
        case DT_FLAGS:
            if (dyn[i].d_un.d_val & (DF_SYMBOLIC | DF_TEXTREL))
                w->out->symbolic = true;
            break;
        default:
            break;
        }
    }
    if (!ended || n.symtab == 0 || n.strtab == 0 || n.strsz == 0 ||
        !in_object(info, n.strtab, n.strsz))
        return false;
    if (!read_rela(info, &n, rela, relasz, w) || !read_rela(info, &n, jmprel, pltrelsz, w))
        return false;
    if (w->scan_code)
        scan_code(info, w);
    return true;
}

static int
each_object(struct dl_phdr_info *info, size_t size, void *data)
{
    walk_t *w = data;
    if (size < offsetof(struct dl_phdr_info, dlpi_phnum) + sizeof info->dlpi_phnum ||
        !in_object(info, w->real, 1))
        return 0;
    w->found = true;
    w->ok = read_object(info, w);
    return 1;
}

bool
bw_elf_refs(const void *real, const char *name, bool scan, bw_elf_refs_t *out)
{
    memset(out, 0, sizeof *out);
    if (real == NULL || name == NULL)
        return false;
    walk_t w = { (uintptr_t)real, name, scan, out, false, false };
    dl_iterate_phdr(each_object, &w);
    return w.found && w.ok;
}

typedef struct {
    uintptr_t a, b;
    int found;   /* -1 none yet, 0 apart, 1 together */
} same_t;

static int
each_same(struct dl_phdr_info *info, size_t size, void *data)
{
    same_t *w = data;
    if (size < offsetof(struct dl_phdr_info, dlpi_phnum) + sizeof info->dlpi_phnum)
        return 0;
    bool has_a = in_object(info, w->a, 1), has_b = in_object(info, w->b, 1);
    if (!has_a && !has_b)
        return 0;
    w->found = has_a && has_b;
    return 1;
}

bool
bw_elf_same_object(const void *a, const void *b)
{
    if (a == NULL || b == NULL)
        return false;
    same_t w = { (uintptr_t)a, (uintptr_t)b, -1 };
    dl_iterate_phdr(each_same, &w);
    return w.found == 1;
}

#else

bool
bw_elf_same_object(const void *a, const void *b)
{
    (void)a;
    (void)b;
    return false;
}

bool
bw_elf_refs(const void *real, const char *name, bool scan, bw_elf_refs_t *out)
{
    (void)real;
    (void)name;
    (void)scan;
    memset(out, 0, sizeof *out);
    return false;
}

#endif
