/* TQ2_0 x int8 dot, NEON tier. Codes are decoded to t = q - 1 in {-1, 0, 1, 2} (code 3 -> 2,
   as in the reference) and multiplied with vmlal_s8 into int16 lanes: a block puts 32 products
   of |t * x| <= 2 * 128 = 256 in each lane, at most 8192, so int16 is exact; the lanes are then
   widened and added. The float part, (float)isum * d added in block order, is the reference's
   scalar code; for a tensor whose blocks share one d, the block sums are added in int32 and
   multiplied by d once (the row-sum arithmetic). Rows go through the generic GEMM. */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "arch/arm/kernels_neon.h"

static int32_t block_isum(const uint8_t *b, const int8_t *x) {
    const uint8x16_t m3 = vdupq_n_u8(3);
    const int8x16_t one = vdupq_n_s8(1);
    int16x8_t acc = vdupq_n_s16(0);
    for (int c = 0; c < 2; c++) {
        for (int h = 0; h < 2; h++) { /* 16 of the 32 bytes of chunk c */
            const uint8x16_t qs = vld1q_u8(b + c * 32 + h * 16);
            const uint8x16_t q[4] = {vandq_u8(qs, m3), vandq_u8(vshrq_n_u8(qs, 2), m3),
                                     vandq_u8(vshrq_n_u8(qs, 4), m3), vshrq_n_u8(qs, 6)};
            for (int n = 0; n < 4; n++) {
                const int8x16_t t = vsubq_s8(vreinterpretq_s8_u8(q[n]), one);
                const int8x16_t xv = vld1q_s8(x + c * 128 + n * 32 + h * 16);
                acc = vmlal_s8(acc, vget_low_s8(t), vget_low_s8(xv));
                acc = vmlal_s8(acc, vget_high_s8(t), vget_high_s8(xv));
            }
        }
    }
    return vaddvq_s32(vpaddlq_s16(acc));
}

float aria_dot_tq2_0_i8_neon(int64_t n, const void *w, const int8_t *x, float d_tensor) {
    (void)d_tensor; /* per-block scales */
    const uint8_t *b = w;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq2_0)) {
        const float d = aria_fp16_to_fp32(aria_load_u16(b + TQ2_0_D_OFFSET));
        acc += (float)block_isum(b, x + i * QK_K) * d;
    }
    return acc;
}

float aria_dot_tq2_0_row_sum_i8_neon(int64_t n, const void *w, const int8_t *x, float d) {
    const uint8_t *b = w;
    int32_t isum = 0;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq2_0))
        isum += block_isum(b, x + i * QK_K);
    return (float)isum * d;
}
#endif
