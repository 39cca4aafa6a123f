/* I2_S kernels (bitnet.cpp's 2-bit format), reference tier (layout in formats.h and
   docs/bitnet-format.md §3.3). */
#include <math.h>

#include "kernels.h"

/* Code of element j of a 128-element block: shift 6 - 2 * (j / 32) of byte j % 32. */
static inline int i2_s_code(const uint8_t *block, int j) {
    return (block[j % 32] >> (6 - 2 * (j / 32))) & 3;
}

int32_t aria_i2_s_block_isum_ref(const uint8_t *block, const int8_t *x) {
    /* (code - 1) in [-1, 2] (code 3 is +2, as in bitnet.cpp's sum code*x - sum x): exact.
       Group by group (element g * 32 + m), a loop compilers vectorize. */
    int32_t sum = 0;
    for (int g = 0; g < 4; g++)
        for (int m = 0; m < 32; m++) sum += (((block[m] >> (6 - 2 * g)) & 3) - 1) * x[g * 32 + m];
    return sum;
}

/* The row's exact int32 sum of (code - 1) * x, times the tensor scale once (kernels.h): what
   bitnet.cpp computes, and independent of the order any SIMD tier sums in. */
float aria_dot_i2_s_i8_ref(int64_t n, const void *w, const int8_t *x, float d) {
    const uint8_t *b = w;
    int32_t isum = 0;
    for (int64_t i = 0; i < n; i += QK_I2_S) isum += aria_i2_s_block_isum_ref(b + i / 4, x + i);
    return (float)isum * d;
}

float aria_i2_s_scale(const void *data, int64_t n_elements) {
    return aria_load_f32((const uint8_t *)data + n_elements / 4);
}

void aria_quantize_i2_s_ref(const float *x, void *y, int64_t n) {
    uint8_t *b = y;
    float amax = 0.0f;
    for (int64_t i = 0; i < n; i++) amax = fmaxf(amax, fabsf(x[i]));
    const float id = amax ? 1.0f / amax : 0.0f;
    memset(b, 0, (size_t)(n / 4 + I2_S_TAIL_BYTES));
    for (int64_t i = 0; i < n; i++) {
        const float r = roundf(x[i] * id); /* |x * id| <= 1; NaN: code 1 (zero) */
        const int code = r > 0.0f ? 2 : r < 0.0f ? 0 : 1;
        const int64_t blk = i / QK_I2_S;
        const int j = (int)(i % QK_I2_S);
        b[blk * I2_S_BLOCK_BYTES + j % 32] |= (uint8_t)(code << (6 - 2 * (j / 32)));
    }
    memcpy(b + n / 4, &amax, sizeof amax);
}

void aria_dequantize_row_i2_s_ref(const void *w, float *y, int64_t n, float d) {
    const uint8_t *b = w;
    for (int64_t i = 0; i < n; i += QK_I2_S, b += I2_S_BLOCK_BYTES)
        for (int j = 0; j < QK_I2_S; j++) y[i + j] = (float)(i2_s_code(b, j) - 1) * d;
}
