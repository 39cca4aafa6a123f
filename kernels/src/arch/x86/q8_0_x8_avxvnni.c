/* Q8_0 head in the x8 layout, AVX-VNNI tier (-mavxvnni; only when CPUID reports AVX-VNNI). */
#define X8_VNNI 1
#define X8_DOT aria_dot_q8_0_x8_q8_avxvnni
#define X8_GEMM aria_gemm_q8_0_x8_q8_avxvnni
#include "arch/x86/q8_0_x8_x86.h"
