/* TQ2_0 x int8 kernels, AVX2 tier: the shared body in tq2_0_x86.h with maddubs. */
#define TQ2_VNNI 0
#define TQ2_DOT aria_dot_tq2_0_i8_avx2
#define TQ2_GEMM aria_gemm_tq2_0_i8_avx2
#include "arch/x86/tq2_0_x86.h"
