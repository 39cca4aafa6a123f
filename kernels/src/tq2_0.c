/* TQ2_0 ternary kernels, reference tier (layout in formats.h). */
#include <math.h>

#include "kernels.h"

int32_t aria_tq2_0_block_isum_ref(const uint8_t *block, const int8_t *x) {
    /* |(q - 1) * x| <= 2 * 128 and 256 terms: the int32 sum is exact. */
    int32_t sum = 0;
    for (int c = 0; c < 2; c++) {
        for (int n = 0; n < 4; n++) {
            const int8_t *xs = x + c * 128 + n * 32;
            for (int m = 0; m < 32; m++) {
                int q = (block[c * 32 + m] >> (2 * n)) & 3;
                sum += (q - 1) * xs[m];
            }
        }
    }
    return sum;
}

float aria_dot_tq2_0_i8_ref(int64_t n, const void *w, const int8_t *x, float d_tensor) {
    (void)d_tensor; /* per-block scales */
    const uint8_t *b = w;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq2_0)) {
        float d = aria_fp16_to_fp32(aria_load_u16(b + TQ2_0_D_OFFSET));
        acc += (float)aria_tq2_0_block_isum_ref(b, x + i * QK_K) * d;
    }
    return acc;
}

/* One scale for the tensor (kernels.h): the row's exact int32 sum, times d once. */
float aria_dot_tq2_0_row_sum_i8_ref(int64_t n, const void *w, const int8_t *x, float d) {
    const uint8_t *b = w;
    int32_t isum = 0;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq2_0))
        isum += aria_tq2_0_block_isum_ref(b, x + i * QK_K);
    return (float)isum * d;
}

/* ggml's quantize_row_tq2_0_ref: d = max|x| per block, q = round(x / d) + 1. Inputs that are
   already ternary multiples of one scale round-trip exactly. */
void aria_quantize_row_tq2_0_ref(const float *x, void *y, int64_t n) {
    uint8_t *b = y;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq2_0), x += QK_K) {
        float amax = 0.0f;
        for (int j = 0; j < QK_K; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float id = amax ? 1.0f / amax : 0.0f;
        for (int j = 0; j < QK_K / 4; j++) b[j] = 0;
        for (int j = 0; j < QK_K; j++) {
            int c = j / 128, nn = (j % 128) / 32, m = j % 32;
            long q = lroundf(x[j] * id) + 1;
            b[c * 32 + m] |= (uint8_t)((q & 3) << (2 * nn));
        }
        uint16_t d = aria_fp32_to_fp16(amax);
        memcpy(b + TQ2_0_D_OFFSET, &d, sizeof d);
    }
}

void aria_dequantize_row_tq2_0_ref(const void *w, float *y, int64_t n) {
    const uint8_t *b = w;
    for (int64_t i = 0; i < n / QK_K; i++, b += sizeof(block_tq2_0), y += QK_K) {
        float d = aria_fp16_to_fp32(aria_load_u16(b + TQ2_0_D_OFFSET));
        for (int j = 0; j < QK_K; j++) {
            int c = j / 128, nn = (j % 128) / 32, m = j % 32;
            int q = (b[c * 32 + m] >> (2 * nn)) & 3;
            y[j] = (float)(q - 1) * d;
        }
    }
}

/* Reference GEMM: the single-row dot for every (weight row, activation row). */
void aria_gemm_tq2_0_i8_ref(int64_t n, const uint8_t *w, uint64_t row_bytes, int32_t n_w,
                            const int8_t *x, const int32_t *xsum, int32_t n_x, float *y,
                            int64_t ldy, float d) {
    (void)xsum;
    for (int32_t j = 0; j < n_w; j++)
        for (int32_t r = 0; r < n_x; r++)
            y[r * ldy + j] = aria_dot_tq2_0_i8_ref(n, w + j * row_bytes, x + r * n, d);
}
