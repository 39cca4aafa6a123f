/* AVX2 (+FMA, F16C) kernels. Compiled only into arch/x86 objects built with -mavx2 -mfma
   -mf16c, and only called after aria_cpu_features() has confirmed the CPU has them. Each has
   the signature of its kernel kind (kernels.h) and returns bit-identical results to the _ref
   function it replaces. */
#ifndef ARIA_KERNELS_AVX2_H
#define ARIA_KERNELS_AVX2_H

#include "kernels.h"

float aria_dot_tq2_0_i8_avx2(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_tq2_0_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                             const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                             int64_t ldy, float d);

/* The same with AVX-VNNI (tq2_0_avxvnni.c, -mavxvnni; only when aria_cpu_avxvnni()). */
float aria_dot_tq2_0_i8_avxvnni(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_tq2_0_i8_avxvnni(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                                const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                                int64_t ldy, float d);

/* I2_S and row-sum TQ2_0 with AVX-VNNI (row_sum_avxvnni.c; only when aria_tier_avxvnni()). */
float aria_dot_i2_s_i8_avxvnni(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_i2_s_i8_avxvnni(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                               const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                               int64_t ldy, float d);
float aria_dot_tq2_0_row_sum_i8_avxvnni(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_tq2_0_row_sum_i8_avxvnni(int64_t n, const uint8_t *w, uint64_t row_bytes,
                                        int32_t n_w, const int8_t *x, const int32_t *xsum,
                                        int32_t n_x, float *y, int64_t ldy, float d);

/* The TQ2_0 GEMM with 512-bit VNNI (tq2_0_avx512.c; only when aria_tier_avx512vnni()). */
void aria_gemm_tq2_0_i8_avx512(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                               const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                               int64_t ldy, float d);
void aria_gemm_tq2_0_row_sum_i8_avx512(int64_t n, const uint8_t *w, uint64_t row_bytes,
                                       int32_t n_w, const int8_t *x, const int32_t *xsum,
                                       int32_t n_x, float *y, int64_t ldy, float d);

/* Q8_0 head GEMM (q8_0_gemm_avx2.c; the AVX-VNNI one only when aria_tier_avxvnni()). */
void aria_gemm_q8_0_q8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const int8_t *xq, const float *xd, int32_t n_x, float *y, int64_t ldy);
void aria_gemm_q8_0_q8_avxvnni(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                               const int8_t *xq, const float *xd, int32_t n_x, float *y,
                               int64_t ldy);

/* TQ1_0, both arithmetics (tq1_0_avx2.c) */
float aria_dot_tq1_0_i8_avx2(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_tq1_0_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                             const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                             int64_t ldy, float d);
float aria_dot_tq1_0_row_sum_i8_avx2(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_tq1_0_row_sum_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes,
                                     int32_t n_w, const int8_t *x, const int32_t *xsum,
                                     int32_t n_x, float *y, int64_t ldy, float d);

/* The 2-bit formats with one scale per tensor: I2_S, and row-sum TQ2_0 (row_sum_avx2.c) */
float aria_dot_i2_s_i8_avx2(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_i2_s_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                            int64_t ldy, float d);
float aria_dot_tq2_0_row_sum_i8_avx2(int64_t n, const void *w, const int8_t *x, float d);
void aria_gemm_tq2_0_row_sum_i8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes,
                                     int32_t n_w, const int8_t *x, const int32_t *xsum,
                                     int32_t n_x, float *y, int64_t ldy, float d);

/* Softmax's exponentials, 4 lanes of detmath.h's double-precision exp (exp_avx2.c). */
void aria_exp_sub_avx2(int64_t n, float *x, float m);

/* Q8_0 head in the x8 layout (q8_0_x8_avx2.c; the AVX-VNNI ones only when aria_tier_avxvnni()). */
float aria_dot_q8_0_x8_q8_avx2(int64_t n, const void *w, const int8_t *xq, const float *xd);
void aria_gemm_q8_0_x8_q8_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                               const int8_t *xq, const float *xd, int32_t n_x, float *y,
                               int64_t ldy);
float aria_dot_q8_0_x8_q8_avxvnni(int64_t n, const void *w, const int8_t *xq, const float *xd);
void aria_gemm_q8_0_x8_q8_avxvnni(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                                  const int8_t *xq, const float *xd, int32_t n_x, float *y,
                                  int64_t ldy);

/* Q8_0 (q8_0_avx2.c) */
float aria_dot_q8_0_i8_avx2(int64_t n, const void *w, const int8_t *x, float d);
float aria_dot_q8_0_q8_avx2(int64_t n, const void *w, const int8_t *xq, const float *xd);
void aria_quantize_row_q8_0_f16_avx2(const void *w, void *y, int64_t n);

float aria_dot_f32_f32_avx2(int64_t n, const void *w, const float *x);
float aria_dot_f16_f32_avx2(int64_t n, const void *w, const float *x);
void aria_gemm_f32_f32_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const float *x, int32_t n_x, float *y, int64_t ldy);
void aria_gemm_f16_f32_avx2(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const float *x, int32_t n_x, float *y, int64_t ldy);

/* The KV cache's f32 -> binary16 rounding and the attention ops of the AVX2 vec table
   (attn_avx2.c: fused for hd % 16 == 0, the reference loops otherwise). */
void aria_to_f16_avx2(int64_t n, const float *x, uint16_t *h);
void aria_attn_scores_avx2(int32_t hd, int32_t nh, const float *q, const uint16_t *k,
                           int64_t k_stride, int32_t n_pos, float scale, float *s,
                           int64_t s_stride);
void aria_attn_mix_avx2(int32_t hd, int32_t nh, const float *a, int64_t a_stride,
                        const uint16_t *v, int64_t v_stride, int32_t n_pos, float *o);

extern const aria_vec_ops aria_vec_avx2;

#endif
