/* Q8_0 head GEMM, AVX-VNNI tier (-mavxvnni; only when CPUID reports AVX-VNNI). */
#define Q8_VNNI 1
#define Q8_GEMM aria_gemm_q8_0_q8_avxvnni
#include "arch/x86/q8_0_gemm_x86.h"
