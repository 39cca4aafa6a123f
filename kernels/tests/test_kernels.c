/* Kernel tests: half conversions, the TQ2_0 int8 dot product against a plain dequantize-to-float
   dot, activation quantization rounding, the small row ops, and detmath.h's exp / sin / cos. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "detmath.h"
#include "kernels.h"
#include "ops.h"
#include "test.h"
#include "tiny_model.h"

/* f32 accumulation of nb block terms vs. an f64 sum: |error| <= nb * 2^-24 * sum|terms|. */
#define TQ2_0_DOT_REL_TOL 1e-6

static void test_half(void) {
    CHECK(aria_fp32_to_fp16(1.0f) == 0x3c00, "1.0");
    CHECK(aria_fp32_to_fp16(-2.0f) == 0xc000, "-2.0");
    CHECK(aria_fp32_to_fp16(65504.0f) == 0x7bff, "max half");
    CHECK(aria_fp32_to_fp16(65519.0f) == 0x7bff, "rounds down to max");
    CHECK(aria_fp32_to_fp16(65520.0f) == 0x7c00, "rounds to inf");
    CHECK(aria_fp32_to_fp16(ldexpf(1.0f, -24)) == 0x0001, "smallest subnormal");
    CHECK(aria_fp32_to_fp16(ldexpf(1.0f, -25)) == 0x0000, "half of it ties to even 0");
    CHECK(aria_fp32_to_fp16(ldexpf(3.0f, -25)) == 0x0002, "1.5 units ties to even 2");
    CHECK(aria_fp32_to_fp16(1.0f + ldexpf(1.0f, -11)) == 0x3c00, "tie to even (down)");
    CHECK(aria_fp32_to_fp16(1.0f + ldexpf(3.0f, -11)) == 0x3c02, "tie to even (up)");
    CHECK(isnan(aria_fp16_to_fp32(aria_fp32_to_fp16(NAN))), "NaN stays NaN");
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = aria_fp16_to_fp32((uint16_t)h);
        bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan ? !isnan(f) : aria_fp32_to_fp16(f) != h) bad++;
    }
    CHECK(bad == 0, "%d of 65536 halves do not round-trip through f32", bad);
    CHECK(aria_fp16_to_fp32(0x0001) == ldexpf(1.0f, -24), "subnormal decode");
    CHECK(aria_fp16_to_fp32(0x03ff) == ldexpf(1023.0f, -24), "largest subnormal decode");
    CHECK(aria_bf16_to_fp32(0x3f80) == 1.0f, "bf16 1.0");
    CHECK(aria_fp32_to_bf16(1.0f + ldexpf(1.0f, -8)) == 0x3f80, "bf16 tie to even");
    CHECK(aria_fp32_to_bf16(1.0f + ldexpf(3.0f, -8)) == 0x3f82, "bf16 tie to even up");
}

/* Independent decode straight from the wording of docs/bitnet-format.md §3.1: element
   c*128 + n*32 + m is bits 2n..2n+1 of qs[c*32 + m]. */
static int spec_code(const uint8_t *block, int j) {
    int c = j / 128, n = (j % 128) / 32, m = j % 32;
    return (block[c * 32 + m] >> (2 * n)) & 3;
}

static void test_tq2_0_dot(void) {
    const int block_counts[] = {1, 2, 3, 5, 8};
    const int row_counts[] = {1, 3, 7, 13};
    uint64_t rng = 42;
    int isum_bad = 0, dot_bad = 0, deq_bad = 0, n_cases = 0;
    for (size_t bi = 0; bi < sizeof block_counts / sizeof *block_counts; bi++) {
        for (size_t ri = 0; ri < sizeof row_counts / sizeof *row_counts; ri++) {
            const int nb = block_counts[bi], rows = row_counts[ri], n = nb * QK_K;
            uint8_t *w = malloc((size_t)rows * nb * sizeof(block_tq2_0));
            int8_t *x = malloc((size_t)n);
            float *deq = malloc((size_t)n * sizeof *deq);
            if (!w || !x || !deq) {
                CHECK(0, "out of memory");
                free(w), free(x), free(deq);
                return;
            }
            /* Random bytes (code 3 included: it decodes as +2 in both paths) and random d. */
            for (size_t i = 0; i < (size_t)rows * nb * sizeof(block_tq2_0); i++) w[i] = (uint8_t)tiny_rand(&rng);
            for (int r = 0; r < rows * nb; r++) {
                float d = (float)(tiny_rand(&rng) % 2000) / 4096.0f - 0.25f;
                uint16_t h = aria_fp32_to_fp16(d);
                memcpy(w + (size_t)r * sizeof(block_tq2_0) + TQ2_0_D_OFFSET, &h, 2);
            }
            for (int i = 0; i < n; i++) x[i] = (int8_t)(tiny_rand(&rng) & 0xff);
            x[0] = -128, x[n - 1] = 127;
            for (int r = 0; r < rows; r++) {
                const uint8_t *row = w + (size_t)r * nb * sizeof(block_tq2_0);
                double want = 0.0, mag = 0.0;
                for (int b = 0; b < nb; b++) {
                    const uint8_t *blk = row + (size_t)b * sizeof(block_tq2_0);
                    int32_t isum = 0;
                    for (int j = 0; j < QK_K; j++) isum += (spec_code(blk, j) - 1) * x[b * QK_K + j];
                    if (aria_tq2_0_block_isum_ref(blk, x + b * QK_K) != isum) isum_bad++;
                    double term = (double)isum * aria_fp16_to_fp32(aria_load_u16(blk + TQ2_0_D_OFFSET));
                    want += term;
                    mag += fabs(term);
                }
                float got = aria_dot_tq2_0_i8_ref(n, row, x, 1.0f);
                if (fabs((double)got - want) > TQ2_0_DOT_REL_TOL * mag + 1e-30) dot_bad++;
                /* plain dequantize-to-float dot */
                aria_dequantize_row_tq2_0_ref(row, deq, n);
                double plain = 0.0;
                for (int j = 0; j < n; j++) plain += (double)deq[j] * x[j];
                if (fabs((double)got - plain) > TQ2_0_DOT_REL_TOL * mag + 1e-30) deq_bad++;
                n_cases++;
            }
            free(w), free(x), free(deq);
        }
    }
    CHECK(isum_bad == 0, "%d block integer sums differ from the independent decode", isum_bad);
    CHECK(dot_bad == 0, "%d of %d scaled dots outside tolerance", dot_bad, n_cases);
    CHECK(deq_bad == 0, "%d of %d dots differ from the dequantized float dot", deq_bad, n_cases);
}

static void test_tq2_0_roundtrip(void) {
    uint64_t rng = 7;
    float x[2 * QK_K], y[2 * QK_K];
    uint8_t q[2 * sizeof(block_tq2_0)];
    for (int i = 0; i < 2 * QK_K; i++) x[i] = (float)((int)(tiny_rand(&rng) % 3) - 1) * 0.046875f;
    x[0] = 0.046875f; /* both blocks have max |x| = d */
    x[QK_K] = -0.046875f;
    aria_quantize_row_tq2_0_ref(x, q, 2 * QK_K);
    aria_dequantize_row_tq2_0_ref(q, y, 2 * QK_K);
    CHECK(memcmp(x, y, sizeof x) == 0, "ternary x d round-trips through TQ2_0 exactly");
}

/* aria_matmul_i8 at odd shapes against per-row dots: y = dot / xs * scale. */
static void test_matmul_i8(void) {
    enum { NB = 3, N_IN = NB * QK_K, N_OUT = 7, ROWS = 5 };
    uint64_t rng = 99;
    static uint8_t w[N_OUT * NB * sizeof(block_tq2_0)];
    static float xf[ROWS][N_IN], y[ROWS][N_OUT];
    static int8_t xq[ROWS][N_IN];
    float xs[ROWS];
    float wf[N_IN];
    for (int j = 0; j < N_OUT; j++) {
        for (int i = 0; i < N_IN; i++) wf[i] = (float)((int)(tiny_rand(&rng) % 3) - 1) * 0.25f;
        aria_quantize_row_tq2_0_ref(wf, w + (size_t)j * NB * sizeof(block_tq2_0), N_IN);
    }
    for (int r = 0; r < ROWS; r++) {
        for (int i = 0; i < N_IN; i++) xf[r][i] = (float)r + 0.5f * sinf((float)(i * (r + 1)));
        xs[r] = aria_quantize_row_i8(N_IN, xf[r], xq[r]);
    }
    aria_matrix m = {.data = w, .type = ARIA_TYPE_TQ2_0, .n_in = N_IN, .n_out = N_OUT,
                     .row_bytes = NB * sizeof(block_tq2_0), .scale = 1.5f, .d = 1.0f,
                     .dot_i8 = aria_dot_i8_for(ARIA_TYPE_TQ2_0)};
    aria_matmul_i8(&m, ROWS, &xq[0][0], xs, &y[0][0]);
    int bad = 0;
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < N_OUT; j++) {
            float want = aria_dot_tq2_0_i8_ref(N_IN, w + (size_t)j * NB * sizeof(block_tq2_0), xq[r], 1.0f) / xs[r] * 1.5f;
            if (memcmp(&want, &y[r][j], sizeof want) != 0) bad++;
        }
    CHECK(bad == 0, "%d matmul outputs differ from the per-row dot", bad);
}

static void test_act_quant(void) {
    /* Rounding alone, s = 1: half to even, clamp to [-128, 127], NaN -> 0. */
    const float in[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, 127.5f, 128.0f, 1000.0f,
                        -127.5f, -128.5f, -129.0f, -1e9f, NAN, INFINITY, -INFINITY, 0.49999997f};
    const int8_t want[] = {0, 2, 2, 0, -2, -2, 126, 127, 127, 127, -128, -128, -128, -128, 0, 127, -128, 0};
    int8_t q[sizeof in / sizeof *in];
    aria_round_i8((int64_t)(sizeof in / sizeof *in), in, 1.0f, q);
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        CHECK(q[i] == want[i], "round(%g) = %d, want %d", (double)in[i], q[i], want[i]);

    /* amax = 127 -> s = 1 exactly. */
    const float a[] = {127.0f, 2.5f, 3.5f, -2.5f, -0.5f, -127.0f};
    const int8_t qa_want[] = {127, 2, 4, -2, 0, -127};
    int8_t qa[6];
    float s = aria_quantize_row_i8(6, a, qa);
    CHECK(s == 1.0f, "s = %g", (double)s);
    CHECK(memcmp(qa, qa_want, sizeof qa) == 0, "half-even at s = 1");

    /* amax = 254 -> s = 0.5: x*s = 2.5 -> 2, 3.5 -> 4. */
    const float b[] = {254.0f, 5.0f, 7.0f, -5.0f, -254.0f};
    const int8_t qb_want[] = {127, 2, 4, -2, -127};
    int8_t qb[5];
    s = aria_quantize_row_i8(5, b, qb);
    CHECK(s == 0.5f, "s = %g", (double)s);
    CHECK(memcmp(qb, qb_want, sizeof qb) == 0, "half-even at s = 0.5");

    /* amax below 1e-5 is clamped: s = 127 / 1e-5. */
    const float c[] = {0.0f, 1e-6f, -1e-6f};
    int8_t qc[3];
    s = aria_quantize_row_i8(3, c, qc);
    CHECK(s == 127.0f / 1e-5f, "clamped scale %g", (double)s);
    CHECK(qc[0] == 0 && qc[1] == 13 && qc[2] == -13, "tiny values: %d %d %d", qc[0], qc[1], qc[2]);

    /* NaN is ignored by absmax and quantizes to 0. */
    const float d[] = {NAN, 2.0f, -1.0f};
    int8_t qd[3];
    s = aria_quantize_row_i8(3, d, qd);
    CHECK(s == 63.5f && qd[0] == 0 && qd[1] == 127 && qd[2] == -64, "NaN row: s %g q %d %d %d",
          (double)s, qd[0], qd[1], qd[2]);
}

static void test_row_ops(void) {
    const float x[2] = {3.0f, 4.0f}, w[2] = {1.0f, 2.0f};
    float y[2];
    aria_rmsnorm(2, x, w, 0.0f, y);
    const float inv = 1.0f / sqrtf(12.5f);
    CHECK(y[0] == 3.0f * inv && y[1] == 2.0f * (4.0f * inv), "rmsnorm %g %g", (double)y[0], (double)y[1]);

    float p[4] = {1.0f, 2.0f, 3.0f, 1000.0f};
    aria_softmax(p, 4);
    CHECK(p[3] > 0.999f && p[0] >= 0.0f && fabsf(p[0] + p[1] + p[2] + p[3] - 1.0f) < 1e-6f, "softmax");

    /* NeoX pairs (i, i + rope_dims/2); dims past rope_dims untouched; pos 0 is identity. */
    const float inv_freq[2] = {1.0f, 0.01f};
    float v[6] = {1, 0, 0, 0, 5, 6}, v0[6];
    memcpy(v0, v, sizeof v);
    aria_rope_neox(v, 1, 6, 4, inv_freq, 0);
    CHECK(memcmp(v, v0, sizeof v) == 0, "rope at pos 0 is the identity");
    aria_rope_neox(v, 1, 6, 4, inv_freq, 2);
    float s2, c2;
    aria_sincosf(2.0f, &s2, &c2);
    CHECK(v[0] == c2 && v[2] == s2 && v[1] == 0.0f && v[3] == 0.0f, "rope pair (0, 2)");
    CHECK(v[4] == 5.0f && v[5] == 6.0f, "rope leaves dims past rope_dims");
}

/* The binary16 KV cache: every tier's to_f16 against aria_fp32_to_fp16 (round to nearest
   even; overflow, subnormals, zero signs, infinities, NaN), and the fused attention ops of
   every tier against the reference arithmetic, bit for bit: head sizes on the fused path
   (multiples of 16) and off it, 1..5 heads (a group of 4 and a remainder), odd position
   counts. */
static void test_attn_ops(void) {
    enum { MAX_HD = 144, MAX_NH = 5, MAX_POS = 37, STRIDE = 3 * MAX_HD, NF = 4099 };
    static float q[MAX_NH * MAX_HD], f[STRIDE * MAX_POS], a[MAX_NH * MAX_POS];
    static uint16_t kv[MAX_POS * STRIDE], h16[NF];
    static float want[MAX_NH * MAX_HD], got[MAX_NH * MAX_HD], sw[MAX_NH * MAX_POS], sg[MAX_NH * MAX_POS];
    uint64_t rng = 0xa77;
    for (size_t i = 0; i < sizeof q / sizeof *q; i++) q[i] = (float)((int64_t)(tiny_rand(&rng) % 2001) - 1000) / 333.0f;
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) f[i] = (float)((int64_t)(tiny_rand(&rng) % 2001) - 1000) / 77.0f;
    for (size_t i = 0; i < sizeof a / sizeof *a; i++) a[i] = (float)(tiny_rand(&rng) % 1000) / 997.0f;
    /* conversion inputs: random bit patterns (every exponent, NaNs, infinities) and edges */
    static float x[NF];
    for (int i = 0; i < NF; i++) {
        uint32_t b = (uint32_t)tiny_rand(&rng);
        if (i % 3 == 0) b = (b & 0x807fffffu) | ((uint32_t)(102 + i % 40) << 23); /* around the f16 range */
        memcpy(&x[i], &b, 4);
    }
    const float edges[] = {65504.0f, 65519.99f, 65520.0f, -65520.0f, 0x1p-24f, 0x1p-25f, 0x1.8p-25f, -0.0f, 0x1.ffcp-15f};
    memcpy(x, edges, sizeof edges);
    int bad_h = 0;
    const aria_vec_ops *ref = aria_vec_ops_for(ARIA_TIER_REF);
    for (int tier = 1; tier <= ARIA_TIER_MAX; tier++) {
        if (!aria_tier_runs(tier)) continue;
        aria_vec_ops_for(tier)->to_f16(NF, x, h16);
        for (int i = 0; i < NF; i++) bad_h += h16[i] != aria_fp32_to_fp16(x[i]);
    }
    CHECK(bad_h == 0, "%d binary16 conversions differ from aria_fp32_to_fp16", bad_h);

    ref->to_f16(STRIDE * MAX_POS, f, kv);
    const int hds[] = {16, 40, 64, 128, 144}, nps[] = {1, 2, 17, 37};
    int bad = 0, cases = 0;
    for (int tier = 0; tier <= ARIA_TIER_MAX; tier++) {
        if (!aria_tier_runs(tier)) continue;
        const aria_vec_ops *v = aria_vec_ops_for(tier);
        for (size_t hi = 0; hi < sizeof hds / sizeof *hds; hi++)
            for (int nh = 1; nh <= MAX_NH; nh++)
                for (size_t pi = 0; pi < sizeof nps / sizeof *nps; pi++) {
                    const int hd = hds[hi], np = nps[pi];
                    for (int t = 0; t < np; t++)
                        for (int h = 0; h < nh; h++)
                            sw[h * MAX_POS + t] = ref->dot_f16(hd, kv + t * STRIDE, q + h * hd) * 0.125f;
                    v->attn_scores(hd, nh, q, kv, STRIDE, np, 0.125f, sg, MAX_POS);
                    for (int h = 0; h < nh; h++) bad += memcmp(sw + h * MAX_POS, sg + h * MAX_POS, (size_t)np * sizeof(float)) != 0;
                    for (int i = 0; i < nh * hd; i++) want[i] = got[i] = q[i]; /* a non-zero start */
                    for (int t = 0; t < np; t++)
                        for (int h = 0; h < nh; h++)
                            for (int i = 0; i < hd; i++)
                                want[h * hd + i] += a[h * MAX_POS + t] * aria_fp16_to_fp32(kv[t * STRIDE + 7 + i]);
                    v->attn_mix(hd, nh, a, MAX_POS, kv + 7, STRIDE, np, got);
                    bad += memcmp(want, got, (size_t)(nh * hd) * sizeof(float)) != 0;
                    cases += 2;
                }
    }
    CHECK(bad == 0, "%d of %d fused attention results differ from the reference", bad, cases);
}

/* Softmax's exponentials: every tier's exp_sub against aria_expf(x - m) bit for bit, over a
   sweep of every exponent and sign, the clamp edges, overflow and subnormal results,
   infinities and NaNs, and lengths that leave a scalar tail. */
static void test_exp_sub(void) {
    enum { N = 2 * 2048 + 3 };
    static float in[N], want[N], got[N];
    const float edges[] = {0.0f, -0.0f, 100.0f, 100.5f, -110.0f, -110.5f, 88.72283f, 88.72284f,
                           -87.33655f, -103.27893f, -103.97208f, -104.0f, INFINITY, -INFINITY, NAN, -NAN};
    int n_in = 0;
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) in[n_in++] = edges[i];
    for (uint32_t u = 0; n_in < N - 1; u += 0x7f800000u / (N / 2)) {
        float x;
        memcpy(&x, &u, 4);
        in[n_in++] = x;
        in[n_in++] = -x;
    }
    const float ms[] = {0.0f, 1.5f, -3.25f, 40.0f};
    int bad = 0, cases = 0;
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
        for (int tier = 0; tier <= ARIA_TIER_MAX; tier++) {
            if (!aria_tier_runs(tier)) continue;
            for (int len = N - 3; len <= N; len++) { /* a multiple of 4, then tails of 1..3 */
                for (int i = 0; i < len; i++) want[i] = aria_expf(in[i] - ms[mi]);
                memcpy(got, in, sizeof got);
                aria_vec_ops_for(tier)->exp_sub(len, got, ms[mi]);
                bad += memcmp(want, got, (size_t)len * sizeof(float)) != 0;
                cases++;
            }
        }
    CHECK(bad == 0, "%d of %d exp_sub runs differ from aria_expf", bad, cases);
}

/* Distance in ulps between two finite floats of the same sign or zero. */
static int64_t ulps(float a, float b) {
    int32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    if (x < 0) x = INT32_MIN - x;
    if (y < 0) y = INT32_MIN - y;
    return x > y ? (int64_t)x - y : (int64_t)y - x;
}

/* detmath.h: within 1 ulp of the double libm result rounded to float (in practice equal), the
   correctly rounded value at inputs where glibc's FMA and SSE2 variants disagree, and the
   special values. */
static void test_detmath(void) {
    int64_t worst_e = 0, worst_s = 0, worst_c = 0;
    int n_e = 0, n_t = 0;
    for (uint32_t u = 0; u < 0x7f800000u; u += 4093) {
        float x;
        memcpy(&x, &u, 4);
        for (int sg = 0; sg < 2; sg++, x = -x) {
            if (fabsf(x) <= 110.0f) {
                const int64_t d = ulps(aria_expf(x), (float)exp((double)x));
                worst_e = d > worst_e ? d : worst_e, n_e++;
            }
            if (fabsf(x) <= 1e6f) {
                float s, c;
                aria_sincosf(x, &s, &c);
                const int64_t ds = ulps(s, (float)sin((double)x)), dc = ulps(c, (float)cos((double)x));
                worst_s = ds > worst_s ? ds : worst_s, worst_c = dc > worst_c ? dc : worst_c, n_t++;
            }
        }
    }
    CHECK(worst_e <= 1 && n_e > 100000, "aria_expf: %lld ulp from exp over %d inputs", (long long)worst_e, n_e);
    CHECK(worst_s <= 1 && worst_c <= 1 && n_t > 100000, "aria_sincosf: %lld / %lld ulp over %d inputs",
          (long long)worst_s, (long long)worst_c, n_t);
    /* Exact values (50-digit references) lie within 0.0014 ulp of a rounding midpoint here. */
    CHECK(aria_expf(0x1.04845ep+5f) == 0x1.f93e36p+46f && aria_expf(-0x1.f8cbb2p+5f) == 0x1.f45324p-92f,
          "expf near ties: %a %a", (double)aria_expf(0x1.04845ep+5f), (double)aria_expf(-0x1.f8cbb2p+5f));
    float s, c;
    aria_sincosf(0x1.ab6152p+5f, &s, &c);
    CHECK(s == -0x1.fa115p-7f, "sin near a tie: %a", (double)s);
    aria_sincosf(0x1.46b80ep+6f, &s, &c);
    CHECK(s == -0x1.b54768p-10f, "sin near a tie: %a", (double)s);
    aria_sincosf(0.0f, &s, &c);
    CHECK(s == 0.0f && c == 1.0f, "sincos(0)");
    aria_sincosf(NAN, &s, &c);
    CHECK(isnan(s) && isnan(c), "sincos(NaN)");
    aria_sincosf(INFINITY, &s, &c);
    CHECK(isnan(s) && isnan(c), "sincos(inf)");
    CHECK(aria_expf(0.0f) == 1.0f && isnan(aria_expf(NAN)) && aria_expf(INFINITY) == INFINITY &&
              aria_expf(-INFINITY) == 0.0f && aria_expf(89.0f) == INFINITY &&
              aria_expf(88.72283f) == 0x1.ffff08p+127f && aria_expf(-103.9f) == 0x1p-149f &&
              aria_expf(-104.0f) == 0.0f,
          "expf special values");
    /* pow for the RoPE table: base^(-2i/d) as libm's pow rounded to float, on common bases. */
    int bad = 0;
    for (int b = 0; b < 3; b++) {
        const double base = b == 0 ? 10000.0 : b == 1 ? 500000.0 : 1e6;
        for (int i = 0; i < 64; i++)
            bad += ulps((float)aria_pow_d(base, -2.0 * i / 128), (float)pow(base, -2.0 * i / 128)) > 1;
    }
    CHECK(bad == 0, "aria_pow_d: %d table entries off by more than 1 ulp", bad);
    /* Output NaNs: one bit pattern whatever their sign and payload; nothing else changes. */
    const uint32_t in[8] = {0x7fa00001u, 0xffc00000u, 0x7fffffffu, 0xff800001u,
                            0x7f800000u, 0xff800000u, 0x00000001u, 0x80000000u};
    const uint32_t want[8] = {0x7fc00000u, 0x7fc00000u, 0x7fc00000u, 0x7fc00000u,
                              0x7f800000u, 0xff800000u, 0x00000001u, 0x80000000u};
    float fv[8];
    memcpy(fv, in, sizeof fv);
    aria_canonical_nans(fv, 8);
    CHECK(memcmp(fv, want, sizeof fv) == 0, "canonical NaNs");
}

void test_kernels(void) {
    test_detmath();
    test_half();
    test_tq2_0_dot();
    test_tq2_0_roundtrip();
    test_matmul_i8();
    test_act_quant();
    test_row_ops();
    test_attn_ops();
    test_exp_sub();
}
