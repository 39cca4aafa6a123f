/* aria_cpu_features and tier -> ISA resolution (cpu.h). */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>

/* XCR0 (the register state the OS saves on context switch). xgetbv as inline asm: the
   _xgetbv intrinsic needs -mxsave, and this file is built for the baseline ISA. Only called
   once CPUID reported OSXSAVE. */
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* CPUID and XGETBV directly, with the rules libgcc's __builtin_cpu_supports applies (GCC 12,
   libgcc/config/i386/cpuinfo.h): AVX, AVX2, FMA and F16C count only if the OS saves the YMM
   state (XCR0 bits 1-2), the AVX-512 features only if it also saves the opmask and ZMM state
   (bits 5-7). (clang 14's __builtin_cpu_supports does not know "f16c" nor "avxvnni", so the
   builtins are not used: one detection for every compiler.) */
static uint32_t detect_x86(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned ecx1 = c;
    if (!(ecx1 & bit_OSXSAVE) || !(ecx1 & bit_AVX)) return 0;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* XMM and YMM state */
    const bool zmm = (xcr0 & 0xe6) == 0xe6; /* + opmask, ZMM0-15 upper halves, ZMM16-31 */
    uint32_t f = 0;
    if (ecx1 & bit_FMA) f |= ARIA_CPU_FMA;
    if (ecx1 & bit_F16C) f |= ARIA_CPU_F16C;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    const unsigned max_sub7 = a;
    if (b & bit_AVX2) f |= ARIA_CPU_AVX2;
    if ((f & ARIA_CPU_AVX2) && zmm && (b & bit_AVX512F) && (b & bit_AVX512BW) &&
        (b & bit_AVX512VL) && (c & (1u << 11))) /* CPUID.(7,0):ECX[11] = AVX512_VNNI */
        f |= ARIA_CPU_AVX512VNNI;
    /* AVX-VNNI (VEX-encoded VPDPBUSD) is CPUID.(EAX=7, ECX=1):EAX bit 4; it uses the YMM state
       checked above. */
    if ((f & ARIA_CPU_AVX2) && max_sub7 >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) &&
        (a & (1u << 4)))
        f |= ARIA_CPU_AVXVNNI;
    return f;
}
#endif

/* ARIA_CPU caps what the detection found, never adds to it — a machine with AVX-512 measures or
   tests the tiers most PCs run: "avx2" (AVX2 + FMA + F16C), "avxvnni" (that + AVX-VNNI),
   "avx512" (no cap), "scalar" (the reference kernels). Unset or anything else: no cap. */
static uint32_t cpu_cap(void) {
    const uint32_t avx2 = ARIA_CPU_AVX2 | ARIA_CPU_FMA | ARIA_CPU_F16C;
    const char *cap = getenv("ARIA_CPU");
    if (!cap) return 0xffffffffu;
    if (strcmp(cap, "scalar") == 0) return 0;
    if (strcmp(cap, "avx2") == 0) return avx2;
    if (strcmp(cap, "avxvnni") == 0) return avx2 | ARIA_CPU_AVXVNNI;
    return 0xffffffffu;
}

uint32_t aria_cpu_features(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    /* CPUID traps to the hypervisor on VMs (~1 us or more each), and tier resolution asks for
       the features per weight matrix: the answer is probed once and kept. Every thread computes
       the same value, so the race between first callers is benign (relaxed atomics). Bit 31
       marks a filled cache. */
    static uint32_t cache;
    uint32_t f = __atomic_load_n(&cache, __ATOMIC_RELAXED);
    if (!(f & 0x80000000u)) {
        f = (detect_x86() & cpu_cap()) | 0x80000000u;
        __atomic_store_n(&cache, f, __ATOMIC_RELAXED);
    }
    return f & 0x7fffffffu;
#elif defined(__aarch64__)
    return ARIA_CPU_NEON & cpu_cap(); /* Advanced SIMD is mandatory on AArch64 */
#else
    return 0;
#endif
}

bool aria_tier_runs(int32_t tier) {
    const uint32_t f = aria_cpu_features();
    const uint32_t avx2 = ARIA_CPU_AVX2 | ARIA_CPU_FMA | ARIA_CPU_F16C;
    switch (tier) {
    case ARIA_TIER_REF:
    case ARIA_TIER_BEST: return true;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    case ARIA_TIER_X86_AVX2: return (f & avx2) == avx2;
#if defined(ARIA_HAVE_AVXVNNI)
    case ARIA_TIER_X86_AVXVNNI: return (f & avx2) == avx2 && (f & ARIA_CPU_AVXVNNI);
#endif
#if defined(ARIA_HAVE_AVX512VNNI)
    case ARIA_TIER_X86_AVX512: return (f & avx2) == avx2 && (f & ARIA_CPU_AVX512VNNI);
#endif
#endif
    default: (void)f, (void)avx2; return false;
    }
}

aria_isa aria_isa_for_tier(int32_t tier) {
    if (tier == ARIA_TIER_REF) return ARIA_ISA_SCALAR;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const uint32_t avx2 = ARIA_CPU_AVX2 | ARIA_CPU_FMA | ARIA_CPU_F16C;
    if ((aria_cpu_features() & avx2) == avx2) return ARIA_ISA_AVX2;
#elif defined(__aarch64__)
    return ARIA_ISA_NEON;
#endif
    return ARIA_ISA_SCALAR;
}

bool aria_tier_avxvnni(int32_t tier) {
#if defined(ARIA_HAVE_AVXVNNI)
    return (tier == ARIA_TIER_BEST || tier == ARIA_TIER_X86_AVXVNNI) &&
           aria_isa_for_tier(tier) == ARIA_ISA_AVX2 && (aria_cpu_features() & ARIA_CPU_AVXVNNI);
#else
    (void)tier;
    return false;
#endif
}

bool aria_tier_avx512vnni(int32_t tier) {
#if defined(ARIA_HAVE_AVX512VNNI)
    return (tier == ARIA_TIER_BEST || tier == ARIA_TIER_X86_AVX512) &&
           aria_isa_for_tier(tier) == ARIA_ISA_AVX2 &&
           (aria_cpu_features() & ARIA_CPU_AVX512VNNI);
#else
    (void)tier;
    return false;
#endif
}
