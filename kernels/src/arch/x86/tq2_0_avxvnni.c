/* TQ2_0 x int8 kernels, AVX-VNNI tier (built with -mavxvnni, called only when CPUID reports
   AVX-VNNI): the shared body in tq2_0_x86.h with vpdpbusd. */
#define TQ2_VNNI 1
#define TQ2_DOT aria_dot_tq2_0_i8_avxvnni
#define TQ2_GEMM aria_gemm_tq2_0_i8_avxvnni
#include "arch/x86/tq2_0_x86.h"
