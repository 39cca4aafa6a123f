/* Run-time kernel dispatch: per weight type, the reference kernels and the SIMD ones per ISA
   (kernels.h). The table is const; the tier -> ISA choice reads the CPU features (cpu.c). */
#include <stddef.h>

#include "cpu.h"
#include "kernels.h"

#if defined(__x86_64__)
#include "arch/x86/kernels_avx2.h"
#elif defined(__aarch64__)
#include "arch/arm/kernels_neon.h"
#endif

typedef struct {
    uint32_t type;
    aria_type_kernels ref;
    aria_type_kernels avx2; /* NULL members fall back to ref */
    aria_type_kernels neon;
} type_row;

#if defined(__x86_64__)
#define AVX2(...) __VA_ARGS__
#else
#define AVX2(...) NULL, NULL, NULL, NULL, NULL
#endif
#if defined(__aarch64__)
#define NEON(...) __VA_ARGS__
#else
#define NEON(...) NULL, NULL, NULL, NULL, NULL
#endif

/* HOOK: one row per weight type (or dispatch key, formats.h). Columns: {dot_i8, gemm_i8, dot_f32, gemm_f32, dot_q8} for the
   reference tier, then AVX2, then NEON. Formats' owners add their rows here. */
static const type_row rows[] = {
    {ARIA_TYPE_TQ2_0,
     {aria_dot_tq2_0_i8_ref, aria_gemm_tq2_0_i8_ref, NULL, NULL, NULL},
     {AVX2(aria_dot_tq2_0_i8_avx2, aria_gemm_tq2_0_i8_avx2, NULL, NULL, NULL)},
     {NEON(aria_dot_tq2_0_i8_neon, NULL, NULL, NULL, NULL)}},
    {ARIA_TYPE_TQ1_0,
     {aria_dot_tq1_0_i8_ref, NULL, NULL, NULL, NULL},
     {AVX2(aria_dot_tq1_0_i8_avx2, aria_gemm_tq1_0_i8_avx2, NULL, NULL, NULL)},
     {NULL, NULL, NULL, NULL, NULL}},
    {ARIA_KERNELS_TQ2_0_ROW_SUM, /* TQ2_0 whose blocks share one d (formats.h) */
     {aria_dot_tq2_0_row_sum_i8_ref, NULL, NULL, NULL, NULL},
     {AVX2(aria_dot_tq2_0_row_sum_i8_avx2, aria_gemm_tq2_0_row_sum_i8_avx2, NULL, NULL, NULL)},
     {NEON(aria_dot_tq2_0_row_sum_i8_neon, NULL, NULL, NULL, NULL)}},
    {ARIA_KERNELS_TQ1_0_ROW_SUM, /* TQ1_0 whose blocks share one d */
     {aria_dot_tq1_0_row_sum_i8_ref, NULL, NULL, NULL, NULL},
     {AVX2(aria_dot_tq1_0_row_sum_i8_avx2, aria_gemm_tq1_0_row_sum_i8_avx2, NULL, NULL, NULL)},
     {NULL, NULL, NULL, NULL, NULL}},
    {ARIA_TYPE_I2_S, /* only reached for files whose ids are the bitnet.cpp fork's */
     {aria_dot_i2_s_i8_ref, NULL, NULL, NULL, NULL},
     {AVX2(aria_dot_i2_s_i8_avx2, aria_gemm_i2_s_i8_avx2, NULL, NULL, NULL)},
     {NULL, NULL, NULL, NULL, NULL}},
    {ARIA_TYPE_Q8_0,
     {aria_dot_q8_0_i8_ref, NULL, NULL, NULL, aria_dot_q8_0_q8_ref},
     {AVX2(aria_dot_q8_0_i8_avx2, NULL, NULL, NULL, aria_dot_q8_0_q8_avx2)},
     {NULL, NULL, NULL, NULL, NULL}},
    {ARIA_KERNELS_Q8_0_X8, /* the output head's heap copy (kernels.h) */
     {NULL, NULL, NULL, NULL, aria_dot_q8_0_x8_q8_ref},
     {AVX2(NULL, NULL, NULL, NULL, aria_dot_q8_0_x8_q8_avx2)},
     {NULL, NULL, NULL, NULL, NULL}},
    {ARIA_TYPE_F32,
     {aria_dot_f32_i8_ref, NULL, aria_dot_f32_f32_ref, NULL, NULL},
     {AVX2(NULL, NULL, aria_dot_f32_f32_avx2, aria_gemm_f32_f32_avx2, NULL)},
     {NULL, NULL, NULL, NULL, NULL}},
    {ARIA_TYPE_F16,
     {aria_dot_f16_i8_ref, NULL, aria_dot_f16_f32_ref, NULL, NULL},
     {AVX2(NULL, NULL, aria_dot_f16_f32_avx2, aria_gemm_f16_f32_avx2, NULL)},
     {NEON(NULL, NULL, aria_dot_f16_f32_neon, NULL, NULL)}},
    {ARIA_TYPE_BF16,
     {aria_dot_bf16_i8_ref, NULL, aria_dot_bf16_f32_ref, NULL, NULL},
     {NULL, NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL, NULL, NULL}},
};

/* SIMD member if present, else the reference one. A SIMD dot without a SIMD GEMM leaves the
   GEMM NULL so callers run the generic GEMM over the faster dot. */
static void resolve(const aria_type_kernels *ref, const aria_type_kernels *isa,
                    aria_type_kernels *out) {
    out->dot_i8 = isa->dot_i8 ? isa->dot_i8 : ref->dot_i8;
    out->gemm_i8 = isa->gemm_i8 ? isa->gemm_i8 : isa->dot_i8 ? NULL : ref->gemm_i8;
    out->dot_f32 = isa->dot_f32 ? isa->dot_f32 : ref->dot_f32;
    out->gemm_f32 = isa->gemm_f32 ? isa->gemm_f32 : isa->dot_f32 ? NULL : ref->gemm_f32;
    out->dot_q8 = isa->dot_q8 ? isa->dot_q8 : ref->dot_q8;
}

bool aria_kernels_for(uint32_t type, int32_t tier, aria_type_kernels *out) {
    const aria_isa isa = aria_isa_for_tier(tier);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (rows[i].type != type) continue;
        const type_row *t = &rows[i];
        if (isa == ARIA_ISA_AVX2) {
            resolve(&t->ref, &t->avx2, out);
#if defined(ARIA_HAVE_AVXVNNI)
            if (type == ARIA_TYPE_TQ2_0 && aria_tier_avxvnni(tier)) { /* VPDPBUSD variants */
                out->dot_i8 = aria_dot_tq2_0_i8_avxvnni;
                out->gemm_i8 = aria_gemm_tq2_0_i8_avxvnni;
            }
            if (type == ARIA_TYPE_I2_S && aria_tier_avxvnni(tier)) {
                out->dot_i8 = aria_dot_i2_s_i8_avxvnni;
                out->gemm_i8 = aria_gemm_i2_s_i8_avxvnni;
            }
            if (type == ARIA_KERNELS_Q8_0_X8 && aria_tier_avxvnni(tier))
                out->dot_q8 = aria_dot_q8_0_x8_q8_avxvnni;
            if (type == ARIA_KERNELS_TQ2_0_ROW_SUM && aria_tier_avxvnni(tier)) {
                out->dot_i8 = aria_dot_tq2_0_row_sum_i8_avxvnni;
                out->gemm_i8 = aria_gemm_tq2_0_row_sum_i8_avxvnni;
            }
#endif
#if defined(ARIA_HAVE_AVX512VNNI)
            if (type == ARIA_TYPE_TQ2_0 && aria_tier_avx512vnni(tier))
                out->gemm_i8 = aria_gemm_tq2_0_i8_avx512;
            if (type == ARIA_KERNELS_TQ2_0_ROW_SUM && aria_tier_avx512vnni(tier))
                out->gemm_i8 = aria_gemm_tq2_0_row_sum_i8_avx512;
#endif
        }
        else if (isa == ARIA_ISA_NEON) resolve(&t->ref, &t->neon, out);
        else *out = t->ref;
        return out->dot_i8 || out->dot_f32 || out->dot_q8;
    }
    return false;
}

aria_requant_f16_q8_0_fn aria_requant_f16_q8_0_for(int32_t tier) {
#if defined(__x86_64__)
    if (aria_isa_for_tier(tier) == ARIA_ISA_AVX2) return aria_quantize_row_q8_0_f16_avx2;
#endif
    (void)tier;
    return aria_quantize_row_q8_0_f16_ref;
}

void aria_gemm_i8_generic(aria_dot_i8_fn dot, int64_t n, const uint8_t *w, uint64_t row_bytes,
                          int32_t n_w, const int8_t *x, int32_t n_x, float *y, int64_t ldy,
                          float d) {
    for (int32_t j = 0; j < n_w; j++)
        for (int32_t r = 0; r < n_x; r++)
            y[r * ldy + j] = dot(n, w + j * row_bytes, x + r * n, d);
}

void aria_gemm_f32_generic(aria_dot_f32_fn dot, int64_t n, const uint8_t *w, uint64_t row_bytes,
                           int32_t n_w, const float *x, int32_t n_x, float *y, int64_t ldy) {
    for (int32_t j = 0; j < n_w; j++)
        for (int32_t r = 0; r < n_x; r++) y[r * ldy + j] = dot(n, w + j * row_bytes, x + r * n);
}

aria_gemm_q8_fn aria_gemm_q8_for(uint32_t key, int32_t tier) {
    if (key != ARIA_TYPE_Q8_0 && key != ARIA_KERNELS_Q8_0_X8) return NULL;
    const bool x8 = key == ARIA_KERNELS_Q8_0_X8;
#if defined(ARIA_HAVE_AVXVNNI)
    if (aria_tier_avxvnni(tier)) return x8 ? aria_gemm_q8_0_x8_q8_avxvnni : aria_gemm_q8_0_q8_avxvnni;
#endif
#if defined(__x86_64__)
    if (aria_isa_for_tier(tier) == ARIA_ISA_AVX2) return x8 ? aria_gemm_q8_0_x8_q8_avx2 : aria_gemm_q8_0_q8_avx2;
#endif
    (void)tier, (void)x8;
    return NULL;
}
