/* CPU features detected at run time and the kernel tier they select.
   One build runs on any x86-64: only files under arch/x86/ are compiled with AVX2/FMA/F16C, and
   they are only called when aria_cpu_features() reports all three. aarch64 always has NEON. */
#ifndef ARIA_CPU_H
#define ARIA_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "aria.h"

/* Kernel tiers. Every tier computes bit-identical results (kernels.h); tiers only differ in
   speed, and ARIA_TIER_REF exists so tests can compare the SIMD code against the reference. */
enum {
    ARIA_TIER_REF = 0,  /* portable scalar C */
    ARIA_TIER_BEST = 1, /* the best SIMD tier this CPU runs (falls back to REF) */
};

/* Which SIMD code a tier resolves to. */
typedef enum {
    ARIA_ISA_SCALAR = 0,
    ARIA_ISA_AVX2 = 1, /* AVX2 + FMA + F16C */
    ARIA_ISA_NEON = 2,
} aria_isa;

aria_isa aria_isa_for_tier(int32_t tier);

/* True when tier resolves to AVX2 and the CPU also has AVX-VNNI (and this build has its
   kernels): the TQ2_0 kernels then use VPDPBUSD. Same results, fewer instructions. */
bool aria_tier_avxvnni(int32_t tier);
/* Likewise for AVX-512 F + BW + VNNI: the TQ2_0 GEMM then uses 512-bit VPDPBUSD. */
bool aria_tier_avx512vnni(int32_t tier);

#endif
