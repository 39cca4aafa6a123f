/* I2_S and row-sum TQ2_0 kernels, AVX-VNNI tier (built with -mavxvnni, called only when CPUID
   reports AVX-VNNI): the shared body in row_sum_x86.h with vpdpbusd. */
#define RS_VNNI 1
#define RS_DOT_I2_S aria_dot_i2_s_i8_avxvnni
#define RS_GEMM_I2_S aria_gemm_i2_s_i8_avxvnni
#define RS_DOT_TQ2_0 aria_dot_tq2_0_row_sum_i8_avxvnni
#define RS_GEMM_TQ2_0 aria_gemm_tq2_0_row_sum_i8_avxvnni
#include "arch/x86/row_sum_x86.h"
