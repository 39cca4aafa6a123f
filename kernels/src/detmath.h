/* Deterministic exp / sin / cos / pow for the forward pass: the same bits on every machine,
   compiler and libm.

   Why not libm: glibc picks its expf, sinf, cosf and pow at load time by CPU (ifunc: an FMA
   build and an SSE2 build), and the two differ in the last bit for some inputs. Measured on
   glibc 2.36, the default versus GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA, over every float
   with 1e-4 <= |x| <= 90 (expf) or <= 70000 (sinf, cosf): expf(0x1.04845ep+5) =
   0x1.f93e38p+46 vs 0x1.f93e36p+46, expf(-0x1.f8cbb2p+5) differs likewise, and dozens of
   sinf/cosf inputs in the RoPE range (sinf(0x1.ab6152p+5) = -0x1.fa1152p-7 vs -0x1.fa115p-7).
   An honest node on a CPU without FMA (or with another glibc, musl, macOS's libm) would then
   disagree with the others about softmax / SiLU / RoPE. These functions use only IEEE-754
   double +, -, *, / (correctly rounded everywhere), integer and bit operations, in a fixed
   order (the build has -ffp-contract=off and no -ffast-math, so compilers keep that order and
   fuse nothing), then one rounding to float. Accuracy: the double result is within ~2^-50
   relative of the true value, so the float result is the correctly rounded one except in
   rare near-tie cases (and then 1 ulp off): as good as glibc, and identical everywhere.

   Requires binary64 double arithmetic without excess precision (FLT_EVAL_METHOD 0: x86-64
   SSE, AArch64; not i386 x87). */
#ifndef ARIA_DETMATH_H
#define ARIA_DETMATH_H

#include <float.h>
#include <stdint.h>
#include <string.h>

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "libaria's deterministic math needs FLT_EVAL_METHOD == 0 (no excess precision)"
#endif

/* 1.5 * 2^52: x + SHIFT - SHIFT rounds x (|x| < 2^51) to the nearest integer, ties to even,
   and the low bits of x + SHIFT hold that integer (two's complement). */
#define ARIA_DM_SHIFT 0x1.8p52

static inline uint64_t aria_dm_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double aria_dm_from_bits(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* 2^(j/64), j = 0..63, each the double nearest to the exact value. */
static const double aria_dm_exp2_64[64] = {
    0x1.0000000000000p+0, 0x1.02c9a3e778061p+0, 0x1.059b0d3158574p+0, 0x1.0874518759bc8p+0,
    0x1.0b5586cf9890fp+0, 0x1.0e3ec32d3d1a2p+0, 0x1.11301d0125b51p+0, 0x1.1429aaea92de0p+0,
    0x1.172b83c7d517bp+0, 0x1.1a35beb6fcb75p+0, 0x1.1d4873168b9aap+0, 0x1.2063b88628cd6p+0,
    0x1.2387a6e756238p+0, 0x1.26b4565e27cddp+0, 0x1.29e9df51fdee1p+0, 0x1.2d285a6e4030bp+0,
    0x1.306fe0a31b715p+0, 0x1.33c08b26416ffp+0, 0x1.371a7373aa9cbp+0, 0x1.3a7db34e59ff7p+0,
    0x1.3dea64c123422p+0, 0x1.4160a21f72e2ap+0, 0x1.44e086061892dp+0, 0x1.486a2b5c13cd0p+0,
    0x1.4bfdad5362a27p+0, 0x1.4f9b2769d2ca7p+0, 0x1.5342b569d4f82p+0, 0x1.56f4736b527dap+0,
    0x1.5ab07dd485429p+0, 0x1.5e76f15ad2148p+0, 0x1.6247eb03a5585p+0, 0x1.6623882552225p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6dfb23c651a2fp+0, 0x1.71f75e8ec5f74p+0, 0x1.75feb564267c9p+0,
    0x1.7a11473eb0187p+0, 0x1.7e2f336cf4e62p+0, 0x1.82589994cce13p+0, 0x1.868d99b4492edp+0,
    0x1.8ace5422aa0dbp+0, 0x1.8f1ae99157736p+0, 0x1.93737b0cdc5e5p+0, 0x1.97d829fde4e50p+0,
    0x1.9c49182a3f090p+0, 0x1.a0c667b5de565p+0, 0x1.a5503b23e255dp+0, 0x1.a9e6b5579fdbfp+0,
    0x1.ae89f995ad3adp+0, 0x1.b33a2b84f15fbp+0, 0x1.b7f76f2fb5e47p+0, 0x1.bcc1e904bc1d2p+0,
    0x1.c199bdd85529cp+0, 0x1.c67f12e57d14bp+0, 0x1.cb720dcef9069p+0, 0x1.d072d4a07897cp+0,
    0x1.d5818dcfba487p+0, 0x1.da9e603db3285p+0, 0x1.dfc97337b9b5fp+0, 0x1.e502ee78b3ff6p+0,
    0x1.ea4afa2a490dap+0, 0x1.efa1bee615a27p+0, 0x1.f50765b6e4540p+0, 0x1.fa7c1819e90d8p+0,
};

/* e^x for |x| < 700 (callers clamp): x = (64k + j) ln2/64 + r with |r| <= ln2/128
   (Cody-Waite with a two-part ln2/64 whose head has 37 bits: n * head is exact for
   |n| < 2^16), e^x = 2^k * 2^(j/64) * e^r, e^r by its Taylor series to r^5 (truncation
   < 2^-54) in a fixed Estrin order. Relative error below ~2^-51. */
static inline double aria_exp_d(double x) {
    const double z = x * 0x1.71547652b82fep+6 + ARIA_DM_SHIFT; /* x * 64 / ln2 */
    const double nd = z - ARIA_DM_SHIFT;
    const int64_t n = (int64_t)nd; /* |n| < 2^16: exact */
    const uint64_t j = (uint64_t)n & 63;
    const int64_t k = (n - (int64_t)j) / 64;
    const double r = (x - nd * 0x1.62e42fefa0000p-7) - nd * 0x1.cf79abc9e3b3ap-46;
    const double r2 = r * r;
    const double p = (1.0 + r) + r2 * ((0.5 + r * 0x1.5555555555555p-3) +
                                       r2 * (0x1.5555555555555p-5 + r * 0x1.1111111111111p-7));
    /* 2^k * 2^(j/64) by adding k to the table entry's exponent (normal for |k| < 1010) */
    const double t = aria_dm_from_bits(aria_dm_bits(aria_dm_exp2_64[j]) + ((uint64_t)k << 52));
    return t * p;
}

/* e^x rounded to float. NaN -> NaN, +inf -> +inf, -inf -> +0; overflow and underflow as the
   float conversion of the double result gives them (round to nearest). */
static inline float aria_expf(float x) {
    if (x != x) return x + x;
    double xd = x;
    if (xd > 100.0) xd = 100.0;   /* e^100 > FLT_MAX: +inf */
    if (xd < -110.0) xd = -110.0; /* e^-110 < 2^-150: +0 */
    return (float)aria_exp_d(xd);
}

/* ln x for finite x > 0 (callers check): x = m 2^e with m in [sqrt(1/2), sqrt(2)),
   ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716, series to s^25 (< 2^-62). */
static inline double aria_log_d(double x) {
    uint64_t u = aria_dm_bits(x);
    int64_t e = (int64_t)(u >> 52) - 1023;
    if (e == -1023) { /* subnormal: scale up by 2^54 first */
        u = aria_dm_bits(x * 0x1p54);
        e = (int64_t)(u >> 52) - 1023 - 54;
    }
    double m = aria_dm_from_bits((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull); /* [1,2) */
    if (m > 0x1.6a09e667f3bcdp+0) { /* sqrt(2) */
        m *= 0.5;
        e += 1;
    }
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 25;
    for (int n = 23; n >= 1; n -= 2) p = p * s2 + 1.0 / n;
    const double ed = (double)e;
    return (ed * 0x1.62e42feep-1 + 2.0 * s * p) + ed * 0x1.a39ef35793c76p-33;
}

/* base^e for finite base > 0 (model hyperparameters), |e * ln(base)| < 700. */
static inline double aria_pow_d(double base, double e) { return aria_exp_d(e * aria_log_d(base)); }

/* sin x and cos x rounded to float. x = k pi/2 + r with fdlibm's three-part pi/2 (33 + 33 +
   53 bits: k * P1 and k * P2 are exact and the reduction is accurate for |x| < 2^20 pi/2,
   i.e. RoPE positions below ~1.6 million; beyond that the results lose accuracy but stay
   deterministic). sin r to r^15 and cos r to r^16 (|r| <= pi/4: truncation < 2^-54), then
   the quadrant k mod 4. NaN and infinities give NaN. */
static inline void aria_sincosf(float x, float *sin_out, float *cos_out) {
    const double xd = x;
    const double z = xd * 0x1.45f306dc9c883p-1 + ARIA_DM_SHIFT; /* x * 2/pi */
    const double kd = z - ARIA_DM_SHIFT;
    const unsigned q = (unsigned)(aria_dm_bits(z) & 3);
    const double r = ((xd - kd * 0x1.921fb544p+0) - kd * 0x1.0b4611a6p-34) -
                     kd * 0x1.3198a2e037073p-69;
    const double r2 = r * r;
    /* sin r = r (1 - r2/3! + r2^2/5! - ... - r2^7/15!) */
    double s = -0x1.ae7f3e733b81fp-41; /* -1/15! */
    s = s * r2 + 0x1.6124613a86d09p-33; /* 1/13! */
    s = s * r2 - 0x1.ae64567f544e4p-26; /* 1/11! */
    s = s * r2 + 0x1.71de3a556c734p-19; /* 1/9! */
    s = s * r2 - 0x1.a01a01a01a01ap-13; /* 1/7! */
    s = s * r2 + 0x1.1111111111111p-7;  /* 1/5! */
    s = s * r2 - 0x1.5555555555555p-3;  /* 1/3! */
    s = r + r * (r2 * s);
    /* cos r = 1 - r2/2! + r2^2/4! - ... + r2^8/16! */
    double c = 0x1.ae7f3e733b81fp-45;   /* 1/16! */
    c = c * r2 - 0x1.93974a8c07c9dp-37; /* 1/14! */
    c = c * r2 + 0x1.1eed8eff8d898p-29; /* 1/12! */
    c = c * r2 - 0x1.27e4fb7789f5cp-22; /* 1/10! */
    c = c * r2 + 0x1.a01a01a01a01ap-16; /* 1/8! */
    c = c * r2 - 0x1.6c16c16c16c17p-10; /* 1/6! */
    c = c * r2 + 0x1.5555555555555p-5;  /* 1/4! */
    c = c * r2 - 0.5;
    c = 1.0 + r2 * c;
    double sv, cv;
    switch (q) {
    case 0: sv = s, cv = c; break;
    case 1: sv = c, cv = -s; break;
    case 2: sv = -s, cv = -c; break;
    default: sv = -c, cv = s; break;
    }
    *sin_out = (float)sv;
    *cos_out = (float)cv;
}

#endif
