/* aria_cpu_features and tier -> ISA resolution (cpu.h). */
#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

uint32_t aria_cpu_features(void) {
    uint32_t f = 0;
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    /* libgcc / compiler-rt fill the feature bits from CPUID (and check OS XSAVE support for
       the AVX state) in a constructor; these reads are cheap and touch no state of ours. */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) f |= ARIA_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= ARIA_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) f |= ARIA_CPU_F16C;
    /* AVX-VNNI is CPUID.(EAX=7, ECX=1):EAX bit 4 (older compilers' __builtin_cpu_supports do
       not know it); it uses the AVX register state the avx2 check above already confirmed. */
    if ((f & ARIA_CPU_AVX2) && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512vnni"))
        f |= ARIA_CPU_AVX512VNNI; /* the checks include the OS's ZMM state (XCR0) */
    unsigned a, b, c, d;
    if ((f & ARIA_CPU_AVX2) && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4)))
        f |= ARIA_CPU_AVXVNNI;
#elif defined(__aarch64__)
    f |= ARIA_CPU_NEON; /* Advanced SIMD is mandatory on AArch64 */
#endif
    return f;
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
    return aria_isa_for_tier(tier) == ARIA_ISA_AVX2 && (aria_cpu_features() & ARIA_CPU_AVXVNNI);
#else
    (void)tier;
    return false;
#endif
}

bool aria_tier_avx512vnni(int32_t tier) {
#if defined(ARIA_HAVE_AVX512VNNI)
    return aria_isa_for_tier(tier) == ARIA_ISA_AVX2 &&
           (aria_cpu_features() & ARIA_CPU_AVX512VNNI);
#else
    (void)tier;
    return false;
#endif
}
