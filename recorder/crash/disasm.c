/* Disassembly of the instructions around a faulting pc by capstone, made
 * async-signal-safe: capstone allocates from a bump arena reserved at install
 * (CS_OPT_MEM) and formats operands with our own vsnprintf, which neither allocates
 * nor takes the locale lock.
 */
#include "crash_int.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include <capstone/capstone.h>

#include "sigsafe.h"

#define MAX_INSNS RW_CRASH_MAX_INSNS
#define INSNS_BEFORE 8
#define CODE_WINDOW 64 /* bytes read on each side of pc */
#define ARENA_SIZE (4u << 20)

/* ---- capstone's memory: a bump arena (async-signal-safe) ----------------------- */

/* Owner: this file; set at install, then used by the thread that owns the report.
 * Global because capstone's allocator callbacks take no context. */
static struct disasm_state {
    uint8_t *arena;               /* ARENA_SIZE bytes, mmap'd at install */
    _Atomic size_t arena_used;
    csh cs;
    cs_insn *one;                 /* cs_malloc'd at install: decode target */
    int ok;                       /* capstone is usable */
    uint8_t window[2 * CODE_WINDOW]; /* bytes around pc */
} da;

static void *arena_malloc(size_t n)
{
    size_t need = ((n + 15) & ~(size_t)15) + 16;
    size_t at = atomic_fetch_add(&da.arena_used, need);
    if (!da.arena || at + need > ARENA_SIZE)
        return NULL;
    uint8_t *p = da.arena + at;
    memcpy(p, &n, sizeof n); /* size header, for realloc */
    return p + 16;
}

static void *arena_calloc(size_t k, size_t n)
{
    if (n && k > SIZE_MAX / n)
        return NULL;
    void *p = arena_malloc(k * n);
    if (p)
        memset(p, 0, k * n);
    return p;
}

static void *arena_realloc(void *old, size_t n)
{
    void *p = arena_malloc(n);
    if (p && old) {
        size_t was;
        memcpy(&was, (uint8_t *)old - 16, sizeof was);
        memcpy(p, old, was < n ? was : n);
    }
    return p;
}

static void arena_free(void *p)
{
    (void)p; /* capstone frees at cs_close only; the arena lives for the process */
}

/* Minimal vsnprintf for capstone's operand printer: flags - 0 # + space, width,
 * precision, length hh h l ll z j t, conversions d i u x X o c s p %. No locale, no
 * allocation: async-signal-safe, unlike glibc's. */
static int fmt_vsnprintf(char *out, size_t cap, const char *fmt, va_list ap)
{
    size_t n = 0;
#define PUT(ch)                                                                        \
    do {                                                                               \
        if (n + 1 < cap)                                                               \
            out[n] = (ch);                                                             \
        n++;                                                                           \
    } while (0)
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            PUT(*p);
            continue;
        }
        p++;
        int left = 0, zero = 0, alt = 0, plus = 0, space = 0, width = 0, prec = -1, len = 0;
        for (;; p++) {
            if (*p == '-')
                left = 1;
            else if (*p == '0')
                zero = 1;
            else if (*p == '#')
                alt = 1;
            else if (*p == '+')
                plus = 1;
            else if (*p == ' ')
                space = 1;
            else
                break;
        }
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        if (*p == '.') {
            p++;
            prec = 0;
            if (*p == '*') {
                prec = va_arg(ap, int);
                p++;
            }
            while (*p >= '0' && *p <= '9')
                prec = prec * 10 + (*p++ - '0');
        }
        for (;; p++) {
            if (*p == 'h')
                len = len == -1 ? -2 : -1;
            else if (*p == 'l')
                len++;
            else if (*p == 'z' || *p == 'j' || *p == 't')
                len = 2;
            else
                break;
        }
        char c = *p, digits[72];
        const char *s = digits;
        size_t slen = 0;
        char sign = 0;
        const char *prefix = "";
        if (c == '\0')
            break;
        if (c == '%') {
            PUT('%');
            continue;
        }
        if (c == 's') {
            s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            while (s[slen] && (prec < 0 || (int)slen < prec))
                slen++;
        } else if (c == 'c') {
            digits[0] = (char)va_arg(ap, int);
            slen = 1;
        } else if (strchr("diuxXop", c)) {
            unsigned long long v;
            if (c == 'p') {
                v = (uintptr_t)va_arg(ap, void *);
                alt = 1;
            } else if (c == 'd' || c == 'i') {
                long long sv = len >= 2 ? va_arg(ap, long long)
                               : len == 1 ? va_arg(ap, long)
                                          : va_arg(ap, int);
                if (len == -1)
                    sv = (short)sv;
                else if (len == -2)
                    sv = (signed char)sv;
                sign = sv < 0 ? '-' : plus ? '+' : space ? ' ' : 0;
                v = sv < 0 ? 0ull - (unsigned long long)sv : (unsigned long long)sv;
            } else {
                v = len >= 2 ? va_arg(ap, unsigned long long)
                    : len == 1 ? va_arg(ap, unsigned long)
                               : va_arg(ap, unsigned);
                if (len == -1)
                    v = (unsigned short)v;
                else if (len == -2)
                    v = (unsigned char)v;
            }
            unsigned base = c == 'o' ? 8 : (c == 'x' || c == 'X' || c == 'p') ? 16 : 10;
            const char *dig = c == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            char tmp[64];
            size_t k = 0;
            do {
                tmp[k++] = dig[v % base];
                v /= base;
            } while (v);
            while (prec >= 0 && (int)k < prec && k < sizeof tmp)
                tmp[k++] = '0';
            if (alt && base == 16 && !(k == 1 && tmp[0] == '0'))
                prefix = c == 'X' ? "0X" : "0x";
            else if (alt && base == 8 && tmp[k - 1] != '0')
                prefix = "0";
            for (size_t i = 0; i < k; i++)
                digits[i] = tmp[k - 1 - i];
            slen = k;
        } else {
            PUT('%');
            PUT(c);
            continue;
        }
        int plen = (int)strlen(prefix) + (sign != 0);
        int pad = width > (int)slen + plen ? width - (int)slen - plen : 0;
        if (!left && !(zero && c != 's' && c != 'c'))
            for (; pad > 0; pad--)
                PUT(' ');
        if (sign)
            PUT(sign);
        for (const char *q = prefix; *q; q++)
            PUT(*q);
        if (!left)
            for (; pad > 0; pad--)
                PUT('0');
        for (size_t i = 0; i < slen; i++)
            PUT(s[i]);
        for (; pad > 0; pad--)
            PUT(' ');
    }
#undef PUT
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return (int)n;
}

/* ---- disassembly (async-signal-safe) ------------------------------------------------ */

/* Disassembles one instruction at addr from bytes p (n available) into da.one; returns
 * its size, 0 when it does not decode. */
static size_t decode_one(const uint8_t *p, size_t n, uint64_t addr)
{
    const uint8_t *bytes = p;
    size_t size = n;
    uint64_t a = addr;
    if (!cs_disasm_iter(da.cs, &bytes, &size, &a, da.one))
        return 0;
    return da.one->size;
}

static void add_insn(rw_crash_report *r, uint64_t pc)
{
    rw_crash_insn *in = &r->insns[r->m.n_instructions];
    rewind__crash_insn__init(&in->m);
    in->m.address = da.one->address;
    memcpy(in->bytes, da.one->bytes, da.one->size);
    in->m.bytes.data = in->bytes;
    in->m.bytes.len = da.one->size;
    rw_sigsafe_copy(in->mnemonic, sizeof in->mnemonic, da.one->mnemonic);
    rw_sigsafe_copy(in->operands, sizeof in->operands, da.one->op_str);
    in->m.mnemonic = in->mnemonic;
    in->m.operands = in->operands;
    in->m.faulting = da.one->address == pc;
    r->insnp[r->m.n_instructions++] = &in->m;
}

/* An instruction capstone cannot decode (capstone 4 misses some AVX-512 forms): its
 * first bytes, shown as "(bad)", so that the faulting pc is still marked. */
static void add_bad(rw_crash_report *r, const uint8_t *p, size_t n, uint64_t addr,
                    uint64_t pc)
{
    rw_crash_insn *in = &r->insns[r->m.n_instructions];
    rewind__crash_insn__init(&in->m);
    in->m.address = addr;
    size_t k = n < 8 ? n : 8;
    memcpy(in->bytes, p, k);
    in->m.bytes.data = in->bytes;
    in->m.bytes.len = k;
    rw_sigsafe_copy(in->mnemonic, sizeof in->mnemonic, "(bad)");
    in->operands[0] = '\0';
    in->m.mnemonic = in->mnemonic;
    in->m.operands = in->operands;
    in->m.faulting = addr == pc;
    r->insnp[r->m.n_instructions++] = &in->m;
}

/* Up to INSNS_BEFORE instructions before pc and the rest of MAX_INSNS from pc on. x86
 * cannot be decoded backwards: start at the farthest byte before pc from which
 * decoding lands exactly on pc. */
void rw_crash_disasm(rw_crash_report *r, uint64_t pc)
{
    r->m.n_instructions = 0;
    r->m.instructions = r->insnp;
    if (!da.ok || pc < CODE_WINDOW)
        return;
    size_t after = rw_crash_maps_copy(pc, da.window + CODE_WINDOW, CODE_WINDOW);
    if (after == 0) {
        rw_crash_report_note(r, "the faulting pc is not in readable memory");
        return;
    }
    /* Readable bytes just before pc: walk back while mapped. */
    size_t before = 0;
    rw_crash_mapping mp;
    if (rw_crash_maps_find(pc - 1, &mp) && mp.readable) {
        uint64_t lo = mp.start > pc - CODE_WINDOW ? mp.start : pc - CODE_WINDOW;
        before = (size_t)(pc - lo);
        memcpy(da.window + CODE_WINDOW - before, (const void *)(uintptr_t)lo, before);
    }
    size_t start = 0; /* bytes before pc to start from */
    for (size_t k = before; k > 0; k--) {
        const uint8_t *p = da.window + CODE_WINDOW - k;
        size_t off = 0, sz;
        while (off < k && (sz = decode_one(p + off, k + after - off, pc - k + off)) > 0)
            off += sz;
        if (off == k) {
            start = k;
            break;
        }
    }
    /* Pass 1: count instructions before pc to skip all but the last INSNS_BEFORE. */
    size_t nbefore = 0, off = 0, sz;
    const uint8_t *p = da.window + CODE_WINDOW - start;
    while (off < start && (sz = decode_one(p + off, start + after - off, pc - start + off)))
        off += sz, nbefore++;
    size_t skip = nbefore > INSNS_BEFORE ? nbefore - INSNS_BEFORE : 0;
    off = 0;
    for (size_t i = 0; r->m.n_instructions < MAX_INSNS && off < start + after; i++) {
        sz = decode_one(p + off, start + after - off, pc - start + off);
        if (!sz) {
            add_bad(r, p + off, start + after - off, pc - start + off, pc);
            break;
        }
        if (i >= skip)
            add_insn(r, pc);
        off += sz;
    }
}

/* ---- install ------------------------------------------------------------------------ */

rw_code rw_crash_disasm_setup(rw_err *err)
{
    da.arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (da.arena == MAP_FAILED) {
        da.arena = NULL;
        return rw_err_set(err, RW_ENOMEM, "cannot reserve capstone's memory");
    }
    cs_opt_mem mem = {arena_malloc, arena_calloc, arena_realloc, arena_free, fmt_vsnprintf};
    if (cs_option(0, CS_OPT_MEM, (size_t)&mem) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_64, &da.cs) != CS_ERR_OK)
        return rw_err_set(err, RW_ENOMEM, "capstone: cannot open an x86-64 disassembler");
    da.one = cs_malloc(da.cs);
    if (!da.one)
        return rw_err_set(err, RW_ENOMEM, "capstone: out of memory");
    da.ok = 1;
    return RW_OK;
}
