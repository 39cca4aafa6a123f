/* Q8_0 head in the x8 layout, AVX2 tier: the body in q8_0_x8_x86.h with maddubs. */
#define X8_VNNI 0
#define X8_DOT aria_dot_q8_0_x8_q8_avx2
#define X8_GEMM aria_gemm_q8_0_x8_q8_avx2
#include "arch/x86/q8_0_x8_x86.h"
