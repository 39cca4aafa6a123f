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

/* e^x for -745 < x < 709 (callers clamp): x = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite with
   fdlibm's two-part ln2: k * LN2_HI is exact for |k| < 2^21), e^r by its Taylor series to r^13
   (truncation < 2^-57 relative) in Horner form, times 2^k. */
static inline double aria_exp_d(double x) {
    const double z = x * 0x1.71547652b82fep+0 + ARIA_DM_SHIFT; /* x / ln2 */
    const double kd = z - ARIA_DM_SHIFT;
    const int64_t k = (int64_t)kd; /* |k| < 1075: exact */
    const double r = (x - kd * 0x1.62e42feep-1) - kd * 0x1.a39ef35793c76p-33;
    double p = 0x1.6124613a86d09p-33; /* 1/13! */
    p = p * r + 0x1.1eed8eff8d898p-29; /* 1/12! */
    p = p * r + 0x1.ae64567f544e4p-26; /* 1/11! */
    p = p * r + 0x1.27e4fb7789f5cp-22; /* 1/10! */
    p = p * r + 0x1.71de3a556c734p-19; /* 1/9! */
    p = p * r + 0x1.a01a01a01a01ap-16; /* 1/8! */
    p = p * r + 0x1.a01a01a01a01ap-13; /* 1/7! */
    p = p * r + 0x1.6c16c16c16c17p-10; /* 1/6! */
    p = p * r + 0x1.1111111111111p-7;  /* 1/5! */
    p = p * r + 0x1.5555555555555p-5;  /* 1/4! */
    p = p * r + 0x1.5555555555555p-3;  /* 1/3! */
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* 2^k in two factors so that k down to -1074 - 52 and up to 1023 stay representable. */
    const int64_t k1 = k / 2, k2 = k - k1;
    return p * aria_dm_from_bits((uint64_t)(k1 + 1023) << 52) *
           aria_dm_from_bits((uint64_t)(k2 + 1023) << 52);
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
