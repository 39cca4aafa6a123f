/* Weight-format tests (TQ1_0, I2_S, Q8_0):
   - the packings against docs/bitnet-format.md §3.2-3.3, decoded independently here;
   - every _ref dot against a plain dequantize-then-f64 dot, at odd row and block counts;
   - every SIMD tier against _ref: integer block sums exactly equal, dots bit for bit;
   - one model stored as TQ2_0, TQ1_0 and I2_S (same trits, one scale per tensor: the row-sum
     arithmetic): bit-identical hidden states and logits at every tier; with per-row scales
     (TQ2_0 and TQ1_0 only: the per-block arithmetic) the same;
   - the load-time Q8_0 output head (aria_model_load_ex). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aria.h"
#include "cpu.h"
#include "formats.h"
#include "kernels.h"
#include "model.h"
#include "test.h"
#include "tiny_model.h"

/* A dot of nt block terms accumulated in f32 vs the f64 sum: each term is rounded once and
   each lane/accumulator adds at most nt terms, so |error| <= (nt + 5) * 2^-24 * sum|terms|.
   The test rows have at most 83 blocks; 1e-5 covers that with margin, real bugs are O(1). */
#define DOT_REL_TOL 1e-5
/* The Q8_0 head on the tiny random model: max |logit(Q8_0 head) - logit(F16 head)| as a
   fraction of the largest |logit| (observed ~0.4%), and the share of positions whose top-1
   token changes (observed 0-5% on 40 random positions; near-ties flip). */
#define HEAD_Q8_MAX_REL_DIFF 2e-2
#define HEAD_Q8_MIN_TOP1 0.85

static const int row_counts[] = {1, 3, 7, 13};

static float rand_unit(uint64_t *s) { return (float)((double)(tiny_rand(s) >> 11) / 9007199254740992.0); }

/* A finite f16 scale, random sign, magnitude in [2^-10, 0.5). */
static uint16_t rand_d16(uint64_t *s) {
    float d = ldexpf(1.0f + rand_unit(s), -1 - (int)(tiny_rand(s) % 10));
    return aria_fp32_to_fp16(tiny_rand(s) & 1 ? -d : d);
}

static void rand_i8(uint64_t *s, int8_t *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = (int8_t)(tiny_rand(s) & 0xff);
    x[0] = -128;
    x[n - 1] = 127;
}

/* ---- independent decoders from the wording of docs/bitnet-format.md §3 ------------------- */

/* TQ1_0 element j (0..255) of a block as q in {0,1,2}. */
static int spec_tq1_0(const uint8_t *blk, int j) {
    int byte, n;
    if (j < 160) byte = j % 32, n = j / 32;
    else if (j < 240) byte = 32 + (j - 160) % 16, n = (j - 160) / 16;
    else byte = 48 + (j - 240) % 4, n = (j - 240) / 4;
    unsigned p = 1;
    for (int k = 0; k < n; k++) p *= 3;
    return (int)(((unsigned)(uint8_t)(blk[byte] * p) * 3) >> 8);
}

/* I2_S element j of a tensor (flat index) as its 2-bit code. */
static int spec_i2_s(const uint8_t *data, int64_t j) {
    const int64_t b = j / 128;
    const int k = (int)(j % 128);
    return (data[b * 32 + k % 32] >> (6 - 2 * (k / 32))) & 3;
}

static void test_tq1_0_packing(void) {
    /* docs/bitnet-format.md §3.2: a byte holds v = sum q_i 3^(4-i) as ceil(v * 256 / 243);
       trit n decodes as ((uint8)(b * 3^n) * 3) >> 8. Every v, every trit. */
    int bad = 0;
    for (unsigned v = 0; v < 243; v++) {
        const uint8_t b = (uint8_t)((v * 256 + 242) / 243);
        unsigned rest = v, p = 81;
        for (int n = 0; n < 5; n++, p /= 3) {
            const unsigned want = rest / p;
            rest %= p;
            uint8_t blk[54] = {0};
            blk[0] = b; /* element n * 32 */
            if ((unsigned)spec_tq1_0(blk, n * 32) != want) bad++;
        }
    }
    CHECK(bad == 0, "%d of 1215 base-3 trits decode wrongly", bad);

    /* Quantize ternary x d rows and decode them both ways. */
    uint64_t rng = 11;
    enum { NB = 3 };
    float x[NB * QK_K], y[NB * QK_K];
    uint8_t q[NB * sizeof(block_tq1_0)];
    const float d = 0.0390625f; /* exact in f16 */
    for (int i = 0; i < NB * QK_K; i++) x[i] = (float)((int)(tiny_rand(&rng) % 3) - 1) * d;
    for (int b = 0; b < NB; b++) x[b * QK_K + 7] = d; /* every block has max |x| = d */
    aria_quantize_row_tq1_0_ref(x, q, NB * QK_K);
    aria_dequantize_row_tq1_0_ref(q, y, NB * QK_K);
    CHECK(memcmp(x, y, sizeof x) == 0, "ternary x d round-trips through TQ1_0 exactly");
    bad = 0;
    for (int b = 0; b < NB; b++)
        for (int j = 0; j < QK_K; j++)
            if ((float)(spec_tq1_0(q + b * sizeof(block_tq1_0), j) - 1) * d != x[b * QK_K + j]) bad++;
    CHECK(bad == 0, "%d TQ1_0 elements differ from the documented decode", bad);

    /* Random bytes: the library's dequantization equals the documented decode. */
    uint8_t r[sizeof(block_tq1_0)];
    for (size_t i = 0; i < sizeof r; i++) r[i] = (uint8_t)tiny_rand(&rng);
    uint16_t one = aria_fp32_to_fp16(1.0f);
    memcpy(r + TQ1_0_D_OFFSET, &one, 2);
    aria_dequantize_row_tq1_0_ref(r, y, QK_K);
    bad = 0;
    for (int j = 0; j < QK_K; j++) bad += y[j] != (float)(spec_tq1_0(r, j) - 1);
    CHECK(bad == 0, "%d random-byte TQ1_0 elements differ from the documented decode", bad);
}

static void test_i2_s_packing(void) {
    /* bitnet.cpp layout: 128-blocks of 32 bytes, first 32 elements in the top bits, scale
       = max|x| at byte n / 4, 32-byte tail. K = 384: a row of three blocks. */
    enum { K = 384, ROWS = 3, N = K * ROWS };
    uint64_t rng = 5;
    static float x[N], y[N];
    static uint8_t q[N / 4 + I2_S_TAIL_BYTES];
    const float s = 0.8125f;
    for (int i = 0; i < N; i++) x[i] = (float)((int)(tiny_rand(&rng) % 3) - 1) * s;
    x[1] = s;
    aria_quantize_i2_s_ref(x, q, N);
    int bad = 0;
    for (int64_t j = 0; j < N; j++) bad += (float)(spec_i2_s(q, j) - 1) * s != x[j];
    CHECK(bad == 0, "%d I2_S codes differ from the documented layout", bad);
    CHECK(aria_i2_s_scale(q, N) == s && aria_load_f32(q + N / 4) == s, "I2_S scale in the tail");
    int tail_zero = 1;
    for (int i = 4; i < I2_S_TAIL_BYTES; i++) tail_zero &= q[N / 4 + i] == 0;
    CHECK(tail_zero, "I2_S tail padding is zero");
    for (int r = 0; r < ROWS; r++) aria_dequantize_row_i2_s_ref(q + r * K / 4, y + r * K, K, s);
    CHECK(memcmp(x, y, sizeof x) == 0, "rows of K / 4 bytes dequantize back");
    /* code 3 (never written) counts as +2 in the dot */
    uint8_t blk[32];
    memset(blk, 0xff, sizeof blk);
    int8_t ones[128];
    memset(ones, 1, sizeof ones);
    CHECK(aria_i2_s_block_isum_ref(blk, ones) == 256, "code 3 counts as +2");
}

static void test_q8_0_quantize(void) {
    uint64_t rng = 3;
    enum { N = 7 * QK8_0 };
    float x[N], y[N];
    uint8_t q[7 * sizeof(block_q8_0)];
    for (int i = 0; i < N; i++) x[i] = (rand_unit(&rng) - 0.5f) * ldexpf(1.0f, (int)(i / 32) - 3);
    for (int i = 0; i < QK8_0; i++) x[2 * QK8_0 + i] = 0.0f; /* an all-zero block */
    x[5 * QK8_0] = NAN;                                    /* NaN is ignored by max, quantizes to 0 */
    aria_quantize_row_q8_0_ref(x, q, N);
    aria_dequantize_row_q8_0_ref(q, y, N);
    int bad = 0, range = 0;
    for (int b = 0; b < 7; b++) {
        const float d = aria_fp16_to_fp32(aria_load_u16(q + b * sizeof(block_q8_0)));
        for (int j = 0; j < QK8_0; j++) {
            const int8_t v = (int8_t)q[b * sizeof(block_q8_0) + 2 + j];
            range += v < -127;
            const float xi = x[b * QK8_0 + j];
            /* half a step, plus the f16 rounding of d (2^-11 relative) times 127 steps */
            if (!isnan(xi) && fabsf(y[b * QK8_0 + j] - xi) > 0.5f * d + 127.0f * d * 0x1p-11f + 1e-30f) bad++;
            if (isnan(xi) && v != 0) bad++;
        }
    }
    CHECK(bad == 0, "%d Q8_0 values off by more than half a step", bad);
    CHECK(range == 0, "Q8_0 quantization stays in [-127, 127]");
    CHECK(aria_load_u16(q + 2 * sizeof(block_q8_0)) == 0, "all-zero block has d = 0");

    int8_t xq[N];
    float xd[N / QK8_0];
    aria_quantize_row_q8_act(N, x, xq, xd);
    bad = 0;
    for (int i = 0; i < N; i++)
        if (!isnan(x[i]) && fabsf((float)xq[i] * xd[i / QK8_0] - x[i]) > 0.5f * xd[i / QK8_0] * 1.0001f) bad++;
    CHECK(bad == 0, "%d activation values off by more than half a step", bad);
}

/* Head requantization: every tier writes the bytes of aria_row_to_f32 + quantize_row_q8_0_ref,
   for any F16 input (random bit patterns: NaN, inf, subnormals; zero and extreme blocks). */
static void test_requant_f16(void) {
    enum { NB = 64, N = NB * QK8_0 };
    static uint16_t h[N];
    static float f[N];
    static uint8_t want[NB * sizeof(block_q8_0)], got[2][NB * sizeof(block_q8_0)];
    uint64_t rng = 808;
    int bad = 0;
    for (int it = 0; it < 50; it++) {
        for (int i = 0; i < N; i++) {
            const uint64_t r = tiny_rand(&rng);
            h[i] = it % 2 ? (uint16_t)r : aria_fp32_to_fp16((float)((int)(r % 2001) - 1000) / 4096.0f);
        }
        for (int i = 0; i < QK8_0; i++) h[i] = 0;                       /* zero block */
        for (int i = QK8_0; i < 2 * QK8_0; i++) h[i] = i % 2 ? 0x7bff : 0xfbff; /* +-65504 */
        h[2 * QK8_0] = 0x7c00;                                          /* inf */
        h[3 * QK8_0 + 5] = 0x7e01;                                      /* NaN */
        for (int i = 4 * QK8_0; i < 5 * QK8_0; i++) h[i] = (uint16_t)(i & 0x83ff); /* subnormals */
        aria_row_to_f32(ARIA_TYPE_F16, h, f, N);
        aria_quantize_row_q8_0_ref(f, want, N);
        aria_requant_f16_q8_0_for(ARIA_TIER_REF)(h, got[0], N);
        aria_requant_f16_q8_0_for(ARIA_TIER_BEST)(h, got[1], N);
        bad += memcmp(want, got[0], sizeof want) != 0;
        bad += memcmp(want, got[1], sizeof want) != 0;
    }
    CHECK(bad == 0, "%d F16 -> Q8_0 requantizations differ from the reference bytes", bad);
}

/* ---- dots vs dequantize-then-f64, and tiers vs _ref ------------------------------------------ */

typedef struct {
    const char *name;
    uint32_t type;     /* the layout */
    uint32_t key;      /* the kernels (formats.h): the type, or its row-sum key */
    int64_t blk;       /* elements per block */
    int64_t blk_bytes; /* bytes per block */
    bool q8;           /* the head kind (per-block activation scales) */
} fmt;

static const fmt fmts[] = {
    {"TQ1_0", ARIA_TYPE_TQ1_0, ARIA_TYPE_TQ1_0, QK_K, sizeof(block_tq1_0), false},
    {"I2_S", ARIA_TYPE_I2_S, ARIA_TYPE_I2_S, QK_I2_S, I2_S_BLOCK_BYTES, false},
    {"Q8_0", ARIA_TYPE_Q8_0, ARIA_TYPE_Q8_0, QK8_0, sizeof(block_q8_0), false},
    {"Q8_0 head", ARIA_TYPE_Q8_0, ARIA_TYPE_Q8_0, QK8_0, sizeof(block_q8_0), true},
    {"TQ2_0 row sum", ARIA_TYPE_TQ2_0, ARIA_KERNELS_TQ2_0_ROW_SUM, QK_K, sizeof(block_tq2_0), false},
    {"TQ1_0 row sum", ARIA_TYPE_TQ1_0, ARIA_KERNELS_TQ1_0_ROW_SUM, QK_K, sizeof(block_tq1_0), false},
};

static bool is_row_sum(uint32_t key) {
    return key == ARIA_KERNELS_TQ2_0_ROW_SUM || key == ARIA_KERNELS_TQ1_0_ROW_SUM;
}

/* Random weight rows: random bytes (every code, -128 included), valid finite scales; one d
   for every block under a row-sum key. */
static void rand_rows(const fmt *f, uint64_t *s, uint8_t *w, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks * f->blk_bytes; i++) w[i] = (uint8_t)tiny_rand(s);
    const uint16_t shared = rand_d16(s);
    for (int64_t b = 0; b < n_blocks; b++) {
        const uint16_t d = is_row_sum(f->key) ? shared : rand_d16(s);
        if (f->type == ARIA_TYPE_TQ1_0) memcpy(w + b * f->blk_bytes + TQ1_0_D_OFFSET, &d, 2);
        if (f->type == ARIA_TYPE_TQ2_0) memcpy(w + b * f->blk_bytes + TQ2_0_D_OFFSET, &d, 2);
        if (f->type == ARIA_TYPE_Q8_0) memcpy(w + b * f->blk_bytes, &d, 2);
    }
}

static void dequant_row(const fmt *f, const uint8_t *w, float *y, int64_t n, float d) {
    if (f->type == ARIA_TYPE_TQ2_0) aria_dequantize_row_tq2_0_ref(w, y, n);
    else if (f->type == ARIA_TYPE_TQ1_0) aria_dequantize_row_tq1_0_ref(w, y, n);
    else if (f->type == ARIA_TYPE_I2_S) aria_dequantize_row_i2_s_ref(w, y, n, d);
    else aria_dequantize_row_q8_0_ref(w, y, n);
}

static float call_dot(const aria_type_kernels *k, const fmt *f, int64_t n, const uint8_t *w,
                      const int8_t *x, const float *xd, float d) {
    return f->q8 ? k->dot_q8(n, w, x, xd) : k->dot_i8(n, w, x, d);
}

static void test_dots(const fmt *f, const int *block_counts, int n_bc) {
    aria_type_kernels ref, best;
    CHECK(aria_kernels_for(f->key, ARIA_TIER_REF, &ref) && aria_kernels_for(f->key, ARIA_TIER_BEST, &best) &&
              (ref.dot_i8 || ref.dot_q8),
          "%s: kernels", f->name);
    uint64_t rng = 0xd07 + f->key;
    int ref_bad = 0, tier_bad = 0, n_cases = 0;
    char first[160] = "";
    for (int bi = 0; bi < n_bc; bi++) {
        for (size_t ri = 0; ri < sizeof row_counts / sizeof *row_counts; ri++) {
            const int64_t nb = block_counts[bi], rows = row_counts[ri], n = nb * f->blk;
            uint8_t *w = malloc((size_t)(rows * nb * f->blk_bytes));
            int8_t *x = malloc((size_t)n);
            float *xf = malloc((size_t)n * sizeof *xf), *deq = malloc((size_t)n * sizeof *deq);
            float *xd = malloc((size_t)(n / QK8_0 + 1) * sizeof *xd);
            if (!w || !x || !xf || !deq || !xd) {
                CHECK(0, "out of memory");
                free(w), free(x), free(xf), free(deq), free(xd);
                return;
            }
            rand_rows(f, &rng, w, rows * nb);
            if (f->q8) { /* activations as the head quantizes them */
                for (int64_t i = 0; i < n; i++) xf[i] = (rand_unit(&rng) - 0.5f) * ldexpf(1.0f, (int)(i % 7) - 2);
                aria_quantize_row_q8_act(n, xf, x, xd);
            } else {
                rand_i8(&rng, x, n);
            }
            /* I2_S: a random tail scale; row sum: the blocks' shared d (the loader passes it) */
            float d = f->type == ARIA_TYPE_I2_S ? 0.25f + rand_unit(&rng) : 1.0f;
            if (is_row_sum(f->key))
                d = aria_fp16_to_fp32(aria_load_u16(w + (f->type == ARIA_TYPE_TQ2_0 ? TQ2_0_D_OFFSET : TQ1_0_D_OFFSET)));
            for (int64_t r = 0; r < rows; r++) {
                const uint8_t *row = w + r * nb * f->blk_bytes;
                dequant_row(f, row, deq, n, d);
                double want = 0.0, mag = 0.0;
                for (int64_t i = 0; i < n; i++) {
                    const double xi = f->q8 ? (double)x[i] * xd[i / QK8_0] : (double)x[i];
                    want += (double)deq[i] * xi;
                    mag += fabs((double)deq[i] * xi);
                }
                const float got = call_dot(&ref, f, n, row, x, xd, d);
                for (int tier = 1; tier <= ARIA_TIER_MAX; tier++) { /* every tier this CPU runs */
                    aria_type_kernels k;
                    if (!aria_tier_runs(tier) || !aria_kernels_for(f->key, tier, &k)) continue;
                    const float simd = call_dot(&k, f, n, row, x, xd, d);
                    if (memcmp(&got, &simd, sizeof got) != 0) tier_bad++;
                }
                if (fabs((double)got - want) > DOT_REL_TOL * mag + 1e-30) {
                    if (!ref_bad++)
                        snprintf(first, sizeof first, "%lld blocks: got %.9g want %.9g", (long long)nb, (double)got, want);
                }
                n_cases++;
            }
            free(w), free(x), free(xf), free(deq), free(xd);
        }
    }
    CHECK(ref_bad == 0, "%s: %d of %d _ref dots differ from the dequantized f64 dot (%s)", f->name, ref_bad, n_cases, first);
    CHECK(tier_bad == 0, "%s: %d dots of %d cases at some tier differ from _ref", f->name, tier_bad, n_cases);
}

/* GEMM kinds (tuned or generic) against the tier's single-row dot, bit for bit, at odd numbers
   of weight and activation rows (padding lanes), K with a trailing 128-group. One-scale kinds
   (I2_S, row sum) also against the reference dot, and with extreme rows: code 3 (+2) against
   -128 and 127 for longer than their int16 sums may run. */
static void test_gemms(void) {
    enum { NT = 6 };
    const uint32_t types[NT] = {ARIA_TYPE_TQ2_0, ARIA_TYPE_TQ1_0, ARIA_TYPE_I2_S, ARIA_TYPE_Q8_0,
                                ARIA_TYPE_TQ2_0, ARIA_TYPE_TQ1_0};
    const uint32_t keys[NT] = {ARIA_TYPE_TQ2_0, ARIA_TYPE_TQ1_0, ARIA_TYPE_I2_S, ARIA_TYPE_Q8_0,
                               ARIA_KERNELS_TQ2_0_ROW_SUM, ARIA_KERNELS_TQ1_0_ROW_SUM};
    const int64_t blk_bytes[NT] = {sizeof(block_tq2_0), sizeof(block_tq1_0), I2_S_BLOCK_BYTES,
                                   sizeof(block_q8_0), sizeof(block_tq2_0), sizeof(block_tq1_0)};
    const int64_t blk[NT] = {QK_K, QK_K, QK_I2_S, QK8_0, QK_K, QK_K};
    const int n_ws[] = {1, 3, 7, 13, 17}, n_xs[] = {1, 2, 3, 4, 5, 8, 9, 13};
    uint64_t rng = 31337;
    for (int t = 0; t < NT; t++) {
        const bool one_scale = types[t] == ARIA_TYPE_I2_S || is_row_sum(keys[t]);
        /* one scale: 11 or 12 units of 128, past the 8 the AVX2 kernels sum in int16 */
        const int64_t n = types[t] == ARIA_TYPE_I2_S ? 1408 : one_scale ? 1536 : 512;
        const int64_t row_bytes = n / blk[t] * blk_bytes[t];
        uint8_t *w = malloc((size_t)(17 * row_bytes));
        int8_t *x = malloc((size_t)(13 * n));
        int32_t *xsum = calloc((size_t)(13 * n / 128), sizeof *xsum);
        float *y = malloc((size_t)(13 * 17) * sizeof *y);
        if (!w || !x || !xsum || !y) {
            CHECK(0, "out of memory");
            free(w), free(x), free(xsum), free(y);
            return;
        }
        const fmt f = {"", types[t], keys[t], blk[t], blk_bytes[t], false};
        rand_rows(&f, &rng, w, 17 * n / blk[t]);
        rand_i8(&rng, x, 13 * n);
        if (one_scale) { /* extremes (block d bytes too: these kernels take d as an argument) */
            memset(w, 0xff, (size_t)(3 * row_bytes));
            memset(x, -128, (size_t)n);
            memset(x + n, 127, (size_t)n);
        }
        for (int64_t i = 0; i < 13 * n; i++) xsum[i / 128] += x[i];
        aria_type_kernels ref;
        aria_kernels_for(keys[t], ARIA_TIER_REF, &ref);
        int bad = 0, cases = 0;
        for (int tier = 0; tier <= ARIA_TIER_MAX; tier++) { /* every tier this CPU runs */
            aria_type_kernels k;
            if (!aria_tier_runs(tier)) continue;
            aria_kernels_for(keys[t], tier, &k);
            for (size_t a = 0; a < sizeof n_ws / sizeof *n_ws; a++) {
                for (size_t b = 0; b < sizeof n_xs / sizeof *n_xs; b++) {
                    const int nw = n_ws[a], nx = n_xs[b];
                    if (k.gemm_i8) k.gemm_i8(n, w, (uint64_t)row_bytes, nw, x, xsum, nx, y, 17, 0.375f);
                    else aria_gemm_i8_generic(k.dot_i8, n, w, (uint64_t)row_bytes, nw, x, nx, y, 17, 0.375f);
                    for (int r = 0; r < nx; r++)
                        for (int j = 0; j < nw; j++) {
                            const float want = k.dot_i8(n, w + j * row_bytes, x + r * n, 0.375f);
                            bad += memcmp(&want, &y[r * 17 + j], sizeof want) != 0;
                            if (one_scale) { /* one exact row sum: every tier alike */
                                const float rv = ref.dot_i8(n, w + j * row_bytes, x + r * n, 0.375f);
                                bad += memcmp(&want, &rv, sizeof rv) != 0;
                            }
                            cases++;
                        }
                }
            }
        }
        CHECK(bad == 0, "kernels %#x: %d of %d GEMM outputs differ from the dot", keys[t], bad, cases);
        free(w), free(x), free(xsum), free(y);
    }
}

/* One-scale GEMMs on rows too long for 8 activation rows to stay in L1 (ffn_down's shape): the
   x86 kernels take them in K slices over runs of weight rows, carrying int32 partial sums.
   K here is not a multiple of the slice and the weight rows overrun one run; every output
   must still equal the reference dot bit for bit, at every tier. */
static void test_gemm_long_rows(void) {
    enum { NW = 261, NX = 9 };
    const uint32_t types[2] = {ARIA_TYPE_I2_S, ARIA_TYPE_TQ2_0};
    const uint32_t keys[2] = {ARIA_TYPE_I2_S, ARIA_KERNELS_TQ2_0_ROW_SUM};
    const int64_t blk_bytes[2] = {I2_S_BLOCK_BYTES, sizeof(block_tq2_0)};
    const int64_t blk[2] = {QK_I2_S, QK_K};
    uint64_t rng = 4711;
    for (int t = 0; t < 2; t++) {
        const int64_t n = types[t] == ARIA_TYPE_I2_S ? 6912 + 128 : 6912 - 256;
        const int64_t row_bytes = n / blk[t] * blk_bytes[t];
        uint8_t *w = malloc((size_t)(NW * row_bytes));
        int8_t *x = malloc((size_t)(NX * n));
        int32_t *xsum = calloc((size_t)(NX * n / 128), sizeof *xsum);
        float *y = malloc((size_t)(NX * NW) * sizeof *y);
        if (!w || !x || !xsum || !y) {
            CHECK(0, "out of memory");
            free(w), free(x), free(xsum), free(y);
            return;
        }
        const fmt f = {"", types[t], keys[t], blk[t], blk_bytes[t], false};
        rand_rows(&f, &rng, w, NW * n / blk[t]);
        rand_i8(&rng, x, NX * n);
        memset(w, 0xff, (size_t)row_bytes); /* code 3 (+2) against the extremes */
        memset(x, -128, (size_t)n);
        memset(x + n, 127, (size_t)n);
        for (int64_t i = 0; i < NX * n; i++) xsum[i / 128] += x[i];
        aria_type_kernels ref;
        aria_kernels_for(keys[t], ARIA_TIER_REF, &ref);
        int bad = 0, cases = 0;
        for (int tier = 0; tier <= ARIA_TIER_MAX; tier++) {
            aria_type_kernels k;
            if (!aria_tier_runs(tier) || !aria_kernels_for(keys[t], tier, &k) || !k.gemm_i8) continue;
            for (int nx = NX - 1; nx <= NX; nx++) { /* 8 rows: one full tile group; 9: and one more */
                memset(y, 0, (size_t)(NX * NW) * sizeof *y);
                k.gemm_i8(n, w, (uint64_t)row_bytes, NW, x, xsum, nx, y, NW, 0.375f);
                for (int r = 0; r < nx; r++)
                    for (int j = 0; j < NW; j++) {
                        const float want = ref.dot_i8(n, w + j * row_bytes, x + r * n, 0.375f);
                        bad += memcmp(&want, &y[r * NW + j], sizeof want) != 0;
                        cases++;
                    }
            }
        }
#if defined(__x86_64__)
        CHECK(cases > 0 || !(aria_cpu_features() & ARIA_CPU_AVX2), "kernels %#x: no x86 GEMM ran",
              keys[t]); /* NEON has none yet */
#endif
        CHECK(bad == 0, "kernels %#x, K = %lld: %d of %d long-row GEMM outputs differ from the reference dot",
              keys[t], (long long)n, bad, cases);
        free(w), free(x), free(xsum), free(y);
    }
}

/* The x8 layout of the head copy: aria_q8_0_to_x8 moves every byte (a round trip through the
   element offsets), and each tier's x8 dot and GEMM on it, with activations in x8 order, equal
   the plain Q8_0 reference dot bit for bit -- with and without a tail of plain blocks, at odd
   row counts, and at the extremes (|w| = 127 against x = +-127 for whole rows). */
static void test_q8_x8(void) {
    enum { MAXB = 83, NW = 5, NX = 9 };
    const int nbs[] = {1, 7, 8, 9, 16, 17, 24, 80, 83};
    uint64_t rng = 8088;
    const int64_t bb = (int64_t)sizeof(block_q8_0);
    uint8_t *plain = malloc((size_t)(NW * MAXB * bb)), *x8 = malloc((size_t)(NW * MAXB * bb));
    int8_t *xq = malloc((size_t)(NX * MAXB * QK8_0)), *xo = malloc((size_t)(NX * MAXB * QK8_0));
    float *xf = malloc((size_t)(MAXB * QK8_0) * sizeof *xf), *xd = malloc((size_t)(NX * MAXB) * sizeof *xd);
    float *y = malloc((size_t)(NX * NW) * sizeof *y);
    if (!plain || !x8 || !xq || !xo || !xf || !xd || !y) {
        CHECK(0, "out of memory");
        free(plain), free(x8), free(xq), free(xo), free(xf), free(xd), free(y);
        return;
    }
    int bad_layout = 0, bad = 0, cases = 0;
    for (size_t c = 0; c < sizeof nbs / sizeof *nbs; c++) {
        const int64_t nb = nbs[c], n = nb * QK8_0, rb = nb * bb;
        for (int64_t i = 0; i < NW * nb; i++) {
            uint8_t *b = plain + i * bb;
            const uint16_t d = rand_d16(&rng);
            memcpy(b, &d, 2);
            for (int k = 0; k < QK8_0; k++) b[Q8_0_QS_OFFSET + k] = (uint8_t)(int8_t)((int)(tiny_rand(&rng) % 255) - 127);
        }
        for (int64_t k = 0; k < n; k++) plain[Q8_0_QS_OFFSET + k / QK8_0 * bb + k % QK8_0] = (uint8_t)(int8_t)(k % 2 ? 127 : -127);
        for (int r = 0; r < NX; r++) {
            for (int64_t k = 0; k < n; k++) xf[k] = (rand_unit(&rng) - 0.5f) * 4.0f;
            if (r == 0) for (int64_t k = 0; k < n; k++) xf[k] = k % 2 ? 1.0f : -1.0f; /* -> +-127 */
            aria_quantize_row_q8_act(n, xf, xq + r * n, xd + r * nb);
            memcpy(xo + r * n, xq + r * n, (size_t)n);
            aria_q8_x8_order_act(n, xo + r * n);
        }
        for (int j = 0; j < NW; j++) aria_q8_0_to_x8(plain + j * rb, x8 + j * rb, n);
        /* every plain byte is somewhere in the x8 row, and the reordered activations agree */
        for (int64_t e = 0; e < n; e++) {
            const int64_t g = e / (8 * QK8_0), l = e / QK8_0 % 8, k = e % QK8_0;
            const bool tail = g >= nb / 8;
            const int64_t o = tail ? e / QK8_0 * bb + Q8_0_QS_OFFSET + k
                                   : g * Q8_0_X8_GROUP_BYTES + 16 + k / 4 * 32 + l * 4 + k % 4;
            const int64_t xo_at = tail ? e : o - g * Q8_0_X8_GROUP_BYTES - 16 + g * 8 * QK8_0;
            bad_layout += x8[o] != plain[e / QK8_0 * bb + Q8_0_QS_OFFSET + k];
            bad_layout += xo[xo_at] != xq[e];
        }
        for (int tier = 0; tier <= ARIA_TIER_MAX; tier++) {
            aria_type_kernels k;
            if (!aria_tier_runs(tier) || !aria_kernels_for(ARIA_KERNELS_Q8_0_X8, tier, &k)) continue;
            const aria_gemm_q8_fn gemm = aria_gemm_q8_for(ARIA_KERNELS_Q8_0_X8, tier);
            for (int nx = 1; nx <= NX; nx++) {
                if (gemm) gemm(n, x8, (uint64_t)rb, NW, xo, xd, nx, y, NW);
                for (int r = 0; r < nx; r++)
                    for (int j = 0; j < NW; j++) {
                        const float want = aria_dot_q8_0_q8_ref(n, plain + j * rb, xq + r * n, xd + r * nb);
                        const float dot = k.dot_q8(n, x8 + j * rb, xo + r * n, xd + r * nb);
                        bad += memcmp(&want, &dot, sizeof want) != 0;
                        if (gemm) bad += memcmp(&want, &y[r * NW + j], sizeof want) != 0;
                        cases++;
                    }
            }
        }
    }
    CHECK(bad_layout == 0, "x8 layout: %d bytes misplaced", bad_layout);
    CHECK(bad == 0, "x8 head kernels: %d of %d results differ from the plain Q8_0 reference dot", bad, cases);
    free(plain), free(x8), free(xq), free(xo), free(xf), free(xd), free(y);
}

/* Integer block sums: with every scale 1 a one-block dot is (float)isum exactly. */
static void test_isums(void) {
    aria_type_kernels ref[3], best[3];
    const uint32_t types[3] = {ARIA_TYPE_TQ1_0, ARIA_TYPE_I2_S, ARIA_TYPE_Q8_0};
    for (int t = 0; t < 3; t++) {
        aria_kernels_for(types[t], ARIA_TIER_REF, &ref[t]);
        aria_kernels_for(types[t], ARIA_TIER_BEST, &best[t]);
    }
    uint64_t rng = 77;
    const uint16_t one = aria_fp32_to_fp16(1.0f);
    int bad = 0;
    for (int it = 0; it < 2000; it++) {
        uint8_t w[sizeof(block_tq1_0) > 2 * I2_S_BLOCK_BYTES ? sizeof(block_tq1_0) : 2 * I2_S_BLOCK_BYTES];
        int8_t x[QK_K];
        for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)tiny_rand(&rng);
        rand_i8(&rng, x, QK_K);
        if (it % 3 == 0) memset(x, it % 2 ? 127 : -128, sizeof x); /* extremes */
        /* TQ1_0 */
        memcpy(w + TQ1_0_D_OFFSET, &one, 2);
        int32_t want = aria_tq1_0_block_isum_ref(w, x);
        bad += best[0].dot_i8(QK_K, w, x, 1.0f) != (float)want || ref[0].dot_i8(QK_K, w, x, 1.0f) != (float)want;
        /* I2_S: one block, and a two-block group */
        want = aria_i2_s_block_isum_ref(w, x);
        bad += best[1].dot_i8(QK_I2_S, w, x, 1.0f) != (float)want;
        want += aria_i2_s_block_isum_ref(w + I2_S_BLOCK_BYTES, x + QK_I2_S);
        bad += best[1].dot_i8(2 * QK_I2_S, w, x, 1.0f) != (float)want;
        /* Q8_0 */
        memcpy(w, &one, 2);
        want = 0;
        for (int j = 0; j < QK8_0; j++) want += (int8_t)w[2 + j] * x[j];
        bad += best[2].dot_i8(QK8_0, w, x, 1.0f) != (float)want || ref[2].dot_i8(QK8_0, w, x, 1.0f) != (float)want;
    }
    CHECK(bad == 0, "%d integer block sums differ between tiers / from the plain sum", bad);
    if (aria_cpu_features() & ARIA_CPU_AVX2)
        CHECK(ref[0].dot_i8 != best[0].dot_i8 && ref[1].dot_i8 != best[1].dot_i8 &&
                  ref[2].dot_q8 != best[2].dot_q8,
              "AVX2 CPU: the best tier is not the reference");
}

/* ---- models ------------------------------------------------------------------------------ */

static aria_model *load_cfg(const tiny_cfg *c, int32_t head_type, char **path_out) {
    gw_file f;
    size_t len = 0;
    uint8_t *bytes = tiny_build(&f, c) ? gw_serialize(&f, &len, NULL) : NULL;
    gw_free(&f);
    char *path = bytes ? test_write_temp(bytes, len) : NULL;
    free(bytes);
    aria_model *m = NULL;
    char err[256] = "";
    if (path && aria_model_load_ex(path, head_type, &m, err, sizeof err) != ARIA_OK) m = NULL;
    CHECK(m != NULL, "load %s: %s", c->arch, err);
    if (path_out) *path_out = path;
    else if (path) unlink(path), free(path);
    return m;
}

/* embed -> all layers -> logits for n tokens; false on any error. */
static bool run(aria_model *m, const tiny_cfg *c, const int32_t *tok, int n, float *h, float *logits) {
    aria_session *s;
    char err[256];
    if (aria_session_create(m, 0, c->n_layer, c->n_ctx, &s, err, sizeof err) != ARIA_OK) return false;
    bool ok = aria_embed(m, tok, n, h) == ARIA_OK && aria_session_forward(s, h, n, 0, h) == ARIA_OK &&
              aria_logits(m, h, n, logits) == ARIA_OK;
    aria_session_free(s);
    return ok;
}


/* The same trits and scales stored as TQ2_0, TQ1_0 and (one scale per tensor only) I2_S give
   the same hidden states and logits, bit for bit, at every tier. With one scale per tensor the
   loader binds TQ2_0 / TQ1_0 to the row-sum kernels; with per-row scales to the per-block ones. */
static void test_same_trits(const char *arch, int n_ff /* % 256 == 0: TQ2_0 needs it */,
                            bool row_scales) {
    enum { N = 24, NT = 3 };
    const uint32_t types[NT] = {ARIA_TYPE_TQ2_0, ARIA_TYPE_TQ1_0, ARIA_TYPE_I2_S};
    const char *names[NT] = {"TQ2_0", "TQ1_0", "I2_S"};
    tiny_cfg c = tiny_default();
    c.arch = arch;
    c.n_ff = n_ff;
    c.with_scales = strcmp(arch, "bitnet") == 0;
    c.row_scales = row_scales;
    const size_t hn = (size_t)N * c.n_embd, ln = (size_t)N * c.n_vocab;
    float *h = malloc(2 * NT * hn * sizeof(float)), *lg = malloc(2 * NT * ln * sizeof(float));
    int32_t tok[N];
    uint64_t rng = 99;
    for (int i = 0; i < N; i++) tok[i] = (int32_t)(tiny_rand(&rng) % (uint64_t)c.n_vocab);
    bool ran[2 * NT] = {false};
    int n_ok = 0, n_runs = 0, wrong_kernels = 0;
    for (int t = 0; t < NT && h && lg; t++) {
        /* I2_S ids are the fork's only, and I2_S holds one scale per tensor */
        if (types[t] == ARIA_TYPE_I2_S && (strcmp(arch, "bitnet") == 0 || row_scales)) continue;
        c.linear_type = types[t];
        aria_model *m = load_cfg(&c, ARIA_HEAD_AS_IS, NULL);
        if (m && types[t] != ARIA_TYPE_I2_S)
            for (int il = 0; il < c.n_layer; il++) {
                const aria_layer *L = &m->layers[il];
                const aria_matrix *ws[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down};
                for (int k = 0; k < 7; k++) wrong_kernels += ws[k]->row_sum == row_scales;
            }
        for (int tier = 0; tier < 2 && m; tier++) {
            const int k = 2 * t + tier;
            n_runs++;
            ran[k] = aria_set_kernel_tier(m, tier) == ARIA_OK && run(m, &c, tok, N, h + k * hn, lg + k * ln);
            n_ok += ran[k];
        }
        aria_model_free(m);
    }
    const char *what = row_scales ? "per-row scales" : "one scale";
    CHECK(n_ok == n_runs && n_runs >= 4, "%s, %s: %d of %d runs", arch, what, n_ok, n_runs);
    CHECK(wrong_kernels == 0, "%s, %s: %d BitLinear tensors bound to the wrong arithmetic", arch, what, wrong_kernels);
    for (int k = 1; k < 2 * NT && n_ok == n_runs; k++) {
        if (!ran[k]) continue;
        CHECK(memcmp(h, h + k * hn, hn * sizeof(float)) == 0, "%s ffn %d, %s: hidden states of %s tier %d differ from TQ2_0 ref",
              arch, n_ff, what, names[k / 2], k % 2);
        CHECK(memcmp(lg, lg + k * ln, ln * sizeof(float)) == 0, "%s ffn %d, %s: logits of %s tier %d differ", arch, n_ff, what,
              names[k / 2], k % 2);
    }
    free(h), free(lg);
}

/* Half-to-even top-1 agreement and the largest logit change between two heads. */
static void compare_logits(const float *a, const float *b, int n, int V, double *max_rel, double *top1) {
    double md = 0.0, mx = 0.0;
    int agree = 0;
    for (int p = 0; p < n; p++) {
        int ia = 0, ib = 0;
        for (int v = 0; v < V; v++) {
            const float x = a[(size_t)p * V + v], y = b[(size_t)p * V + v];
            md = fmax(md, fabs((double)x - y));
            mx = fmax(mx, fabs((double)x));
            if (x > a[(size_t)p * V + ia]) ia = v;
            if (y > b[(size_t)p * V + ib]) ib = v;
        }
        agree += ia == ib;
    }
    *max_rel = mx > 0 ? md / mx : md;
    *top1 = (double)agree / n;
}

static void test_head_q8(void) {
    enum { N = 40 };
    tiny_cfg c = tiny_default(); /* tied F16 head */
    char *path = NULL;
    aria_model *m0 = load_cfg(&c, ARIA_HEAD_AS_IS, &path);
    aria_model *m1 = NULL;
    char err[256] = "";
    if (path) {
        CHECK(aria_model_load_ex(path, ARIA_HEAD_Q8_0, &m1, err, sizeof err) == ARIA_OK, "Q8_0 head: %s", err);
        aria_model *bad = (aria_model *)1;
        CHECK(aria_model_load_ex(path, 2, &bad, err, sizeof err) == ARIA_E_INVALID_ARG && bad == NULL && err[0],
              "unknown head_type");
        CHECK(aria_model_load_ex(path, -1, &bad, err, sizeof err) == ARIA_E_INVALID_ARG, "negative head_type");
        unlink(path);
        free(path);
    }
    if (!m0 || !m1) {
        aria_model_free(m0), aria_model_free(m1);
        return;
    }
    const int E = c.n_embd, V = c.n_vocab;
    uint64_t a0, a1;
    aria_model_memory(m0, NULL, &a0);
    aria_model_memory(m1, NULL, &a1);
    const uint64_t q8_bytes = (uint64_t)V * (E / QK8_0) * sizeof(block_q8_0);
    CHECK(a1 == a0 + q8_bytes, "Q8_0 head allocates %llu bytes (got %llu)", (unsigned long long)q8_bytes,
          (unsigned long long)(a1 - a0));

    int32_t tok[N];
    uint64_t rng = 4242;
    for (int i = 0; i < N; i++) tok[i] = (int32_t)(tiny_rand(&rng) % (uint64_t)V);
    float *h0 = malloc((size_t)N * E * sizeof(float)), *h1 = malloc((size_t)N * E * sizeof(float));
    float *l0 = malloc((size_t)N * V * sizeof(float)), *l1 = malloc((size_t)N * V * sizeof(float));
    float *l2 = malloc((size_t)N * V * sizeof(float));
    float *xn = malloc((size_t)E * sizeof(float)), *wrow = malloc((size_t)E * sizeof(float));
    int8_t *xq = malloc((size_t)E);
    float *xd = malloc((size_t)(E / QK8_0) * sizeof(float));
    uint8_t *qrow = malloc((size_t)(E / QK8_0) * sizeof(block_q8_0));
    if (h0 && h1 && l0 && l1 && l2 && xn && wrow && xq && xd && qrow) {
        CHECK(aria_embed(m0, tok, N, h0) == ARIA_OK && aria_embed(m1, tok, N, h1) == ARIA_OK &&
                  memcmp(h0, h1, (size_t)N * E * sizeof(float)) == 0,
              "embeddings still read the F16 rows");
        CHECK(run(m0, &c, tok, N, h0, l0) && run(m1, &c, tok, N, h1, l1), "forward");
        CHECK(memcmp(h0, h1, (size_t)N * E * sizeof(float)) == 0, "the head type does not touch the layers");
        double max_rel, top1;
        compare_logits(l0, l1, N, V, &max_rel, &top1);
        if (getenv("ARIA_TEST_VERBOSE"))
            fprintf(stderr, "Q8_0 head on the tiny model: max |dlogit| / max |logit| %.4g, top-1 %.3f\n", max_rel, top1);
        CHECK(max_rel < HEAD_Q8_MAX_REL_DIFF && top1 >= HEAD_Q8_MIN_TOP1, "Q8_0 head vs F16: max rel %g, top-1 %g",
              max_rel, top1);

        /* Bit-exact against the definition: rmsnorm, per-32-block activation quantization,
           head rows requantized by aria_quantize_row_q8_0_ref, reference dot. Both tiers. */
        const aria_matrix *emb = &m0->token_embd;
        int bad = 0;
        for (int p = 0; p < N; p++) {
            aria_rmsnorm(E, h1 + (size_t)p * E, m1->output_norm, c.eps, xn);
            aria_quantize_row_q8_act(E, xn, xq, xd);
            for (int v = 0; v < V; v++) {
                aria_row_to_f32(emb->type, emb->data + (uint64_t)v * emb->row_bytes, wrow, E);
                aria_quantize_row_q8_0_ref(wrow, qrow, E);
                const float want = aria_dot_q8_0_q8_ref(E, qrow, xq, xd);
                bad += memcmp(&want, &l1[(size_t)p * V + v], sizeof want) != 0;
            }
        }
        CHECK(bad == 0, "%d Q8_0-head logits differ from the reference definition", bad);
        CHECK(aria_set_kernel_tier(m1, ARIA_TIER_REF) == ARIA_OK && run(m1, &c, tok, N, h1, l2) &&
                  memcmp(l1, l2, (size_t)N * V * sizeof(float)) == 0,
              "Q8_0 head: reference tier == best tier");
    }
    free(h0), free(h1), free(l0), free(l1), free(l2), free(xn), free(wrow), free(xq), free(xd), free(qrow);
    aria_model_free(m0);
    aria_model_free(m1);

    /* An untied F16 output.weight is requantized too, and its F16 original is not kept; a Q8_0
       one is kept as it is. */
    c = tiny_default();
    c.with_output = true;
    m0 = load_cfg(&c, ARIA_HEAD_AS_IS, NULL);
    m1 = load_cfg(&c, ARIA_HEAD_Q8_0, NULL);
    if (m0 && m1) {
        aria_model_memory(m0, NULL, &a0);
        aria_model_memory(m1, NULL, &a1);
        const uint64_t f16_head = ((uint64_t)V * E * 2 + 63) / 64 * 64;
        CHECK(a1 == a0 - f16_head + q8_bytes, "untied F16 head requantized, the F16 copy dropped (%llu vs %llu)",
              (unsigned long long)a1, (unsigned long long)(a0 - f16_head + q8_bytes));
    }
    aria_model_free(m0), aria_model_free(m1);
    c.embd_type = ARIA_TYPE_Q8_0;
    m0 = load_cfg(&c, ARIA_HEAD_AS_IS, NULL);
    m1 = load_cfg(&c, ARIA_HEAD_Q8_0, NULL);
    if (m0 && m1) {
        aria_model_memory(m0, NULL, &a0);
        aria_model_memory(m1, NULL, &a1);
        CHECK(a1 == a0, "a Q8_0 head is not copied");
    }
    aria_model_free(m0), aria_model_free(m1);
}

/* What ARIA_NUMERICS_VERSION promises: the bits a build computes. A hash of hidden rows and
   logits of tiny models covering each arithmetic (row-sum and per-block TQ2_0, I2_S, the F16
   head and its Q8_0 copy, the binary16 KV cache through token-by-token decode) is recorded
   with the version; any change to those bits fails here until the version is raised and the
   new hash recorded (docs/kernels-abi.md, "Numerics version"). Every tier and compiler gives
   the same bits (make determinism), so the hash is the same on every machine. */
#define NUMERICS_HASH UINT64_C(0x5174d0d609fa1eea)

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* Prefill of N - D tokens, then D single-token steps; hashes every hidden row and logit. */
static uint64_t numerics_case(uint64_t h, const tiny_cfg *c, int32_t head_type, bool *ok) {
    enum { N = 20, D = 4 };
    aria_model *m = load_cfg(c, head_type, NULL);
    aria_session *s = NULL;
    char err[256];
    float *x = malloc((size_t)N * c->n_embd * sizeof *x), *l = malloc((size_t)c->n_vocab * sizeof *l);
    if (!m || !x || !l || aria_session_create(m, 0, c->n_layer, c->n_ctx, &s, err, sizeof err) != ARIA_OK) {
        *ok = false;
    } else {
        int32_t tok[N];
        uint64_t rng = 2026;
        for (int i = 0; i < N; i++) tok[i] = (int32_t)(tiny_rand(&rng) % (uint64_t)c->n_vocab);
        for (int at = 0; at < N && *ok; at += at < N - D ? N - D : 1) {
            const int n = at < N - D ? N - D : 1;
            float *xr = x + (size_t)at * c->n_embd;
            *ok = aria_embed(m, tok + at, n, xr) == ARIA_OK && aria_session_forward(s, xr, n, at, xr) == ARIA_OK &&
                  aria_logits(m, xr + (size_t)(n - 1) * c->n_embd, 1, l) == ARIA_OK;
            h = fnv1a(h, xr, (size_t)n * c->n_embd * sizeof *x);
            h = fnv1a(h, l, (size_t)c->n_vocab * sizeof *l);
        }
    }
    aria_session_free(s);
    aria_model_free(m);
    free(x), free(l);
    return h;
}

static void test_numerics_version(void) {
    CHECK(aria_numerics_version() == ARIA_NUMERICS_VERSION, "aria_numerics_version %u", aria_numerics_version());
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    bool ok = true;
    tiny_cfg c = tiny_default(); /* row-sum TQ2_0, tied F16 head */
    h = numerics_case(h, &c, ARIA_HEAD_AS_IS, &ok);
    h = numerics_case(h, &c, ARIA_HEAD_Q8_0, &ok);
    c.row_scales = true; /* per-block TQ2_0 */
    h = numerics_case(h, &c, ARIA_HEAD_AS_IS, &ok);
    c = tiny_default();
    c.linear_type = ARIA_TYPE_I2_S;
    h = numerics_case(h, &c, ARIA_HEAD_Q8_0, &ok);
    CHECK(ok, "numerics cases ran");
    CHECK(h == NUMERICS_HASH,
          "outputs of numerics version %d hash to 0x%016llx, not the recorded 0x%016llx: if the "
          "arithmetic changed on purpose, raise ARIA_NUMERICS_VERSION (aria.h) and record the new hash",
          ARIA_NUMERICS_VERSION, (unsigned long long)h, (unsigned long long)NUMERICS_HASH);
}

void test_formats(void) {
    test_tq1_0_packing();
    test_i2_s_packing();
    test_q8_0_quantize();
    test_requant_f16();
    const int tq_blocks[] = {1, 2, 3, 5, 8};
    const int i2_blocks[] = {1, 2, 3, 5, 8, 9};
    const int q8_blocks[] = {1, 7, 8, 9, 16, 17, 33, 80, 83};
    test_dots(&fmts[0], tq_blocks, 5);
    test_dots(&fmts[1], i2_blocks, 6);
    test_dots(&fmts[2], q8_blocks, 9);
    test_dots(&fmts[3], q8_blocks, 9);
    test_isums();
    test_gemms();
    test_gemm_long_rows();
    test_q8_x8();
    test_numerics_version();
    for (int row_scales = 0; row_scales < 2; row_scales++) {
        test_same_trits("bitnet-b1.58", 512, row_scales);
        test_same_trits("bitnet-25", 768, row_scales);
        test_same_trits("bitnet", 512, row_scales); /* TQ2_0 vs TQ1_0 (I2_S ids are the fork's only) */
    }
    test_dots(&fmts[4], tq_blocks, 5);
    test_dots(&fmts[5], tq_blocks, 5);
    test_head_q8();
}
