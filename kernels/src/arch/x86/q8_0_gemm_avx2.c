/* Q8_0 head GEMM, AVX2 tier: the body in q8_0_gemm_x86.h with maddubs. */
#define Q8_VNNI 0
#define Q8_GEMM aria_gemm_q8_0_q8_avx2
#include "arch/x86/q8_0_gemm_x86.h"
