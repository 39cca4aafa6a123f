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
    /* Internal x86 tiers, so one machine can run the kernel combination another CPU would get
       as its BEST (tests/determinism.c; aria_set_kernel_tier accepts only REF and BEST, the
       internal aria_model_bind_kernels takes these too). Only valid where aria_tier_runs(). */
    ARIA_TIER_X86_AVX2 = 2,    /* AVX2 + FMA + F16C kernels, no VNNI (Haswell .. Zen 3) */
    ARIA_TIER_X86_AVXVNNI = 3, /* + AVX-VNNI TQ2_0, I2_S and Q8_0 kernels, no AVX-512 (Alder Lake) */
    ARIA_TIER_X86_AVX512 = 4,  /* + the AVX-512 VNNI TQ2_0 GEMMs, no AVX-VNNI (Ice Lake, Zen 4) */
    ARIA_TIER_MAX = ARIA_TIER_X86_AVX512
};

/* True when this CPU (and this build) runs tier exactly as named: REF and BEST always. */
bool aria_tier_runs(int32_t tier);

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
