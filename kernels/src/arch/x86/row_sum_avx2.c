/* I2_S and row-sum TQ2_0 kernels, AVX2 tier: the shared body in row_sum_x86.h with maddubs. */
#define RS_VNNI 0
#define RS_DOT_I2_S aria_dot_i2_s_i8_avx2
#define RS_GEMM_I2_S aria_gemm_i2_s_i8_avx2
#define RS_DOT_TQ2_0 aria_dot_tq2_0_row_sum_i8_avx2
#define RS_GEMM_TQ2_0 aria_gemm_tq2_0_row_sum_i8_avx2
#include "arch/x86/row_sum_x86.h"
