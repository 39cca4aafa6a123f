/* Engine tests: SIMD tiers against the reference at odd sizes, thread pool, and the
   shard / sequence / batch API (determinism across thread counts, batch composition, chunking,
   layer splits, and the error cases). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "kernels.h"
#include "ops.h"
#include "test.h"
#include "tiny_model.h"

#if defined(__x86_64__)
#include "arch/x86/kernels_avx2.h"
#endif

/* Tolerance between kernel tiers: every tier reproduces the reference's order of f32
   operations (kernels.h), so results must agree bit for bit. */
#define TIER_TOL 0.0

static void test_q8_head_gemm(const char *label, aria_gemm_q8_fn gemm);

#if defined(__x86_64__)
static bool have_avx2(void) {
    const uint32_t need = ARIA_CPU_AVX2 | ARIA_CPU_FMA | ARIA_CPU_F16C;
    return (aria_cpu_features() & need) == need;
}
#endif

static void fill_tq2_0(uint8_t *w, size_t n_blocks, uint64_t *rng) {
    /* Random code bytes (code 3 included: it decodes as +2 in every tier) and random d. */
    for (size_t i = 0; i < n_blocks * sizeof(block_tq2_0); i++) w[i] = (uint8_t)tiny_rand(rng);
    for (size_t b = 0; b < n_blocks; b++) {
        float d = (float)(tiny_rand(rng) % 2000) / 4096.0f - 0.25f;
        uint16_t h = aria_fp32_to_fp16(d);
        memcpy(w + b * sizeof(block_tq2_0) + TQ2_0_D_OFFSET, &h, 2);
    }
}

/* SIMD GEMM vs the reference single-row dot, for every (weight row, activation row). */
static void test_gemm_tier(const char *label, aria_type_kernels best) {
    const int blocks[] = {1, 2, 3, 5, 27};
    const int rows_x[] = {1, 3, 7, 13};
    const int rows_w[] = {1, 3, 5, 13};
    uint64_t rng = 0xabc;
    int bad = 0, bad_dot = 0, cases = 0;
    for (size_t bi = 0; bi < sizeof blocks / sizeof *blocks; bi++) {
        for (size_t xi = 0; xi < sizeof rows_x / sizeof *rows_x; xi++) {
            for (size_t wi = 0; wi < sizeof rows_w / sizeof *rows_w; wi++) {
                const int nb = blocks[bi], nx = rows_x[xi], nw = rows_w[wi], n = nb * QK_K;
                const uint64_t rb = (uint64_t)nb * sizeof(block_tq2_0);
                uint8_t *w = malloc((size_t)nw * rb);
                int8_t *x = malloc((size_t)nx * n);
                int32_t *xs = malloc((size_t)nx * (n / 128) * sizeof(int32_t));
                float *y = malloc((size_t)nx * (nw + 2) * sizeof(float));
                if (!w || !x || !xs || !y) {
                    CHECK(0, "out of memory");
                    free(w), free(x), free(xs), free(y);
                    return;
                }
                fill_tq2_0(w, (size_t)nw * nb, &rng);
                for (int i = 0; i < nx * n; i++) x[i] = (int8_t)tiny_rand(&rng);
                x[0] = -128, x[nx * n - 1] = 127;
                for (int r = 0; r < nx; r++)
                    for (int g = 0; g < n / 128; g++) {
                        int32_t t = 0;
                        for (int i = 0; i < 128; i++) t += x[r * n + g * 128 + i];
                        xs[r * (n / 128) + g] = t;
                    }
                const int64_t ldy = nw + 2; /* strided output, untouched padding columns */
                for (int i = 0; i < nx * ldy; i++) y[i] = -7.0f;
                if (best.gemm_i8) best.gemm_i8(n, w, rb, nw, x, xs, nx, y, ldy, 1.0f);
                else aria_gemm_i8_generic(best.dot_i8, n, w, rb, nw, x, nx, y, ldy, 1.0f);
                for (int r = 0; r < nx; r++) {
                    for (int j = 0; j < nw; j++) {
                        const float want = aria_dot_tq2_0_i8_ref(n, w + j * rb, x + r * n, 1.0f);
                        const float got = y[r * ldy + j];
                        if (memcmp(&want, &got, sizeof want) != 0) bad++;
                        const float dot = best.dot_i8(n, w + j * rb, x + r * n, 1.0f);
                        if (memcmp(&want, &dot, sizeof want) != 0) bad_dot++;
                    }
                    if (y[r * ldy + nw] != -7.0f || y[r * ldy + nw + 1] != -7.0f) bad++;
                }
                cases++;
                free(w), free(x), free(xs), free(y);
            }
        }
    }
    CHECK(bad == 0, "%s: %d TQ2_0 GEMM outputs differ from the reference dot (%d shapes)", label, bad, cases);
    CHECK(bad_dot == 0, "%s: %d TQ2_0 dots differ from the reference", label, bad_dot);
}

/* Every TQ2_0 variant this CPU runs: the dispatched best tier, and each x86 one directly. */
static void test_gemm_tiers(void) {
    aria_type_kernels k;
    CHECK(aria_kernels_for(ARIA_TYPE_TQ2_0, ARIA_TIER_BEST, &k), "TQ2_0 kernels");
    test_gemm_tier("best tier", k);
    aria_gemm_q8_fn q8 = aria_gemm_q8_for(ARIA_TYPE_Q8_0, ARIA_TIER_BEST);
    if (q8) test_q8_head_gemm("best tier", q8);
#if defined(__x86_64__)
    if (have_avx2()) test_q8_head_gemm("AVX2", aria_gemm_q8_0_q8_avx2);
#if defined(ARIA_HAVE_AVXVNNI)
    if (aria_tier_avxvnni(ARIA_TIER_BEST)) test_q8_head_gemm("AVX-VNNI", aria_gemm_q8_0_q8_avxvnni);
#endif
#endif
#if defined(__x86_64__)
    if (have_avx2()) test_gemm_tier("AVX2", (aria_type_kernels){.dot_i8 = aria_dot_tq2_0_i8_avx2, .gemm_i8 = aria_gemm_tq2_0_i8_avx2});
#if defined(ARIA_HAVE_AVXVNNI)
#if defined(ARIA_HAVE_AVX512VNNI)
    if (aria_tier_avx512vnni(ARIA_TIER_BEST))
        test_gemm_tier("AVX-512", (aria_type_kernels){.dot_i8 = aria_dot_tq2_0_i8_avx2, .gemm_i8 = aria_gemm_tq2_0_i8_avx512});
#endif
    if (aria_tier_avxvnni(ARIA_TIER_BEST))
        test_gemm_tier("AVX-VNNI", (aria_type_kernels){.dot_i8 = aria_dot_tq2_0_i8_avxvnni, .gemm_i8 = aria_gemm_tq2_0_i8_avxvnni});
    else
        fprintf(stderr, "note: no AVX-VNNI on this CPU; its TQ2_0 kernels are not tested here\n");
#endif
#endif
}

/* Q8_0 head GEMMs vs the reference single-row dot_q8: weights any int8 (-128 included),
   activations as aria_quantize_row_q8_act makes them ([-127, 127], f32 block scales). */
static void test_q8_head_gemm(const char *label, aria_gemm_q8_fn gemm) {
    const int blocks[] = {1, 3, 7, 8, 9, 16, 17, 85};
    uint64_t rng = 0x8a;
    int bad = 0;
    for (size_t bi = 0; bi < sizeof blocks / sizeof *blocks; bi++) {
        for (int nx = 1; nx <= 6; nx++) {
            const int nb = blocks[bi], n = nb * 32, nw = 5;
            const uint64_t rb = (uint64_t)nb * sizeof(block_q8_0);
            uint8_t *w = malloc(nw * rb);
            int8_t *xq = malloc((size_t)nx * n);
            float *xd = malloc((size_t)nx * nb * sizeof(float)), *xf = malloc((size_t)n * sizeof(float));
            float y[6 * 5];
            if (!w || !xq || !xd || !xf) {
                CHECK(0, "out of memory");
                free(w), free(xq), free(xd), free(xf);
                return;
            }
            for (uint64_t i = 0; i < nw * rb; i++) w[i] = (uint8_t)tiny_rand(&rng);
            for (int b = 0; b < nw * nb; b++) { /* finite d; some all -128 blocks */
                uint16_t h = aria_fp32_to_fp16((float)(tiny_rand(&rng) % 1000) / 8192.0f);
                memcpy(w + b * sizeof(block_q8_0), &h, 2);
                if (b % 7 == 3) memset(w + b * sizeof(block_q8_0) + 2, 0x80, 32);
            }
            for (int r = 0; r < nx; r++) {
                for (int i = 0; i < n; i++) xf[i] = (float)((int64_t)(tiny_rand(&rng) % 2001) - 1000) / 97.0f;
                aria_quantize_row_q8_act(n, xf, xq + r * n, xd + r * nb);
            }
            gemm(n, w, rb, nw, xq, xd, nx, y, nw);
            for (int r = 0; r < nx; r++)
                for (int j = 0; j < nw; j++) {
                    const float want = aria_dot_q8_0_q8_ref(n, w + j * rb, xq + r * n, xd + r * nb);
                    bad += memcmp(&want, &y[r * nw + j], sizeof want) != 0;
                }
            free(w), free(xq), free(xd), free(xf);
        }
    }
    CHECK(bad == 0, "%s: %d Q8_0 head GEMM outputs differ from the reference dot", label, bad);
}

/* Float-weight GEMM / dot tiers and the f32 primitives at odd lengths. */
static void test_float_tiers(void) {
    const aria_vec_ops *ref = aria_vec_ops_for(ARIA_TIER_REF), *best = aria_vec_ops_for(ARIA_TIER_BEST);
    const int lens[] = {1, 3, 7, 13, 16, 17, 31, 32, 127, 128, 129, 255, 256, 300, 2565};
    uint64_t rng = 77;
    int bad = 0;
    enum { NMAX = 2565, NX = 7, NW = 5 };
    float *a = malloc(NMAX * NX * sizeof(float)), *b = malloc(NMAX * sizeof(float));
    int8_t *q1 = malloc(NMAX), *q2 = malloc(NMAX);
    uint8_t *wh = malloc(NMAX * NW * 4 + 3);
    if (!a || !b || !q1 || !q2 || !wh) {
        CHECK(0, "out of memory");
        goto out;
    }
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
        const int n = lens[li];
        for (int i = 0; i < n * NX; i++) a[i] = (float)((int64_t)(tiny_rand(&rng) % 20001) - 10000) / 777.0f;
        for (int i = 0; i < n; i++) b[i] = (float)((int64_t)(tiny_rand(&rng) % 20001) - 10000) / 333.0f;
        if (n > 5) a[3] = NAN, a[4] = INFINITY; /* row 0 only: the NaN rules of amax / round */
#define SAME(x, y) (memcmp(&(x), &(y), sizeof(x)) == 0)
        float r1 = ref->sum(n, a + n), r2 = best->sum(n, a + n);
        bad += !SAME(r1, r2);
        r1 = ref->sumsq(n, a + n), r2 = best->sumsq(n, a + n);
        bad += !SAME(r1, r2);
        r1 = ref->amax(n, a), r2 = best->amax(n, a);
        bad += !SAME(r1, r2);
        int32_t s1[32], s2[32];
        ref->round_i8(n, a, 3.7f, q1, s1);
        best->round_i8(n, a, 3.7f, q2, s2);
        bad += memcmp(q1, q2, (size_t)n) != 0;
        bad += memcmp(s1, s2, (size_t)(n / 128) * sizeof(int32_t)) != 0;
        /* Float weights at an odd byte offset (mapped tensors need no alignment). */
        uint8_t *w = wh + 1;
        for (uint32_t type = ARIA_TYPE_F32; type <= ARIA_TYPE_F16; type++) {
            const size_t es = type == ARIA_TYPE_F32 ? 4 : 2;
            for (int i = 0; i < n * NW; i++) {
                const float v = b[i % n] * (float)(1 + i / n);
                if (type == ARIA_TYPE_F32) memcpy(w + 4 * i, &v, 4);
                else {
                    uint16_t h = aria_fp32_to_fp16(v);
                    memcpy(w + 2 * i, &h, 2);
                }
            }
            aria_type_kernels kr, kb;
            if (!aria_kernels_for(type, ARIA_TIER_REF, &kr) || !aria_kernels_for(type, ARIA_TIER_BEST, &kb)) {
                bad++;
                continue;
            }
            float yg[NX * NW];
            if (kb.gemm_f32) kb.gemm_f32(n, w, n * es, NW, a + n, NX - 1, yg, NW);
            else aria_gemm_f32_generic(kb.dot_f32, n, w, n * es, NW, a + n, NX - 1, yg, NW);
            for (int r = 0; r < NX - 1; r++)
                for (int j = 0; j < NW; j++) {
                    const float want = kr.dot_f32(n, w + j * n * es, a + n + r * n);
                    bad += !SAME(want, yg[r * NW + j]);
                }
        }
#undef SAME
    }
    CHECK(fabs(TIER_TOL) == 0.0 && bad == 0, "%d f32 primitive / float GEMM results differ between tiers", bad);
out:
    free(a), free(b), free(q1), free(q2), free(wh);
}

static void test_cpu_and_pool(void) {
    const uint32_t f = aria_cpu_features();
#if defined(__x86_64__)
    /* cpu.c reads CPUID / XGETBV itself; the compiler's runtime must agree where it can tell
       (clang 14's __builtin_cpu_supports knows no "f16c"; neither knows "avxvnni"). */
    __builtin_cpu_init();
    CHECK(!!(f & ARIA_CPU_AVX2) == !!__builtin_cpu_supports("avx2"), "AVX2 bit");
    CHECK(!!(f & ARIA_CPU_FMA) == !!__builtin_cpu_supports("fma"), "FMA bit");
#if !defined(__clang__)
    CHECK(!!(f & ARIA_CPU_F16C) == !!__builtin_cpu_supports("f16c"), "F16C bit");
#endif
    const bool avx512vnni = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
                            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                            __builtin_cpu_supports("avx512vnni");
    CHECK(!!(f & ARIA_CPU_AVX512VNNI) == avx512vnni, "AVX-512 VNNI bit");
    CHECK(!(f & ARIA_CPU_AVXVNNI) || (f & ARIA_CPU_AVX2), "AVX-VNNI only with AVX2");
    CHECK(aria_cpu_features() == f, "features are stable");
    /* Internal tiers (determinism.c): REF and BEST always run; the x86 ones follow the bits. */
    const uint32_t avx2 = ARIA_CPU_AVX2 | ARIA_CPU_FMA | ARIA_CPU_F16C;
    CHECK(aria_tier_runs(ARIA_TIER_REF) && aria_tier_runs(ARIA_TIER_BEST) && !aria_tier_runs(5), "tiers 0, 1 run");
    CHECK(aria_tier_runs(ARIA_TIER_X86_AVX2) == ((f & avx2) == avx2), "AVX2 tier");
    CHECK(!aria_tier_avxvnni(ARIA_TIER_X86_AVX2) && !aria_tier_avx512vnni(ARIA_TIER_X86_AVX2) &&
              !aria_tier_avx512vnni(ARIA_TIER_X86_AVXVNNI) && !aria_tier_avxvnni(ARIA_TIER_X86_AVX512) &&
              !aria_tier_avxvnni(ARIA_TIER_REF),
          "capped tiers use no VNNI beyond their cap");
    CHECK(!(f & ARIA_CPU_NEON), "no NEON on x86");
#elif defined(__aarch64__)
    CHECK(f & ARIA_CPU_NEON, "NEON on aarch64");
#endif
    aria_pool *p = (aria_pool *)1;
    CHECK(aria_pool_create(0, &p) == ARIA_E_INVALID_ARG && p == NULL, "0 threads");
    CHECK(aria_pool_create(-1, &p) == ARIA_E_INVALID_ARG, "-1 threads");
    CHECK(aria_pool_create(257, &p) == ARIA_E_INVALID_ARG, "257 threads");
    CHECK(aria_pool_create(2, NULL) == ARIA_E_INVALID_ARG, "NULL out");
    CHECK(aria_pool_threads(NULL) == ARIA_E_INVALID_ARG, "NULL pool threads");
    for (int32_t t = 1; t <= 4; t++) {
        CHECK(aria_pool_create(t, &p) == ARIA_OK && aria_pool_threads(p) == t, "pool of %d", t);
        aria_pool_free(p);
    }
    aria_pool_free(NULL);
}

/* ---- model-level ---------------------------------------------------------------------- */

typedef struct {
    tiny_cfg cfg;
    char *path;
    aria_model *m;
    int E, V, L;
    float *emb; /* (N_TOK, E) */
} fixture;

enum { N_TOK = 40 };

static bool fixture_open_ex(fixture *fx, const tiny_cfg *c, int32_t head_type);
static bool fixture_open(fixture *fx, const tiny_cfg *c) { return fixture_open_ex(fx, c, ARIA_HEAD_AS_IS); }

static bool fixture_open_ex(fixture *fx, const tiny_cfg *c, int32_t head_type) {
    memset(fx, 0, sizeof *fx);
    fx->cfg = *c;
    gw_file f;
    size_t len = 0;
    uint8_t *bytes = tiny_build(&f, c) ? gw_serialize(&f, &len, NULL) : NULL;
    gw_free(&f);
    fx->path = bytes ? test_write_temp(bytes, len) : NULL;
    free(bytes);
    char err[256];
    if (!fx->path || aria_model_load_ex(fx->path, head_type, &fx->m, err, sizeof err) != ARIA_OK) return false;
    fx->E = c->n_embd, fx->V = c->n_vocab, fx->L = c->n_layer;
    fx->emb = malloc((size_t)N_TOK * fx->E * sizeof(float));
    int32_t tok[N_TOK];
    uint64_t rng = 99;
    for (int i = 0; i < N_TOK; i++) tok[i] = (int32_t)(tiny_rand(&rng) % (uint64_t)fx->V);
    return fx->emb && aria_embed(fx->m, tok, N_TOK, fx->emb) == ARIA_OK;
}

static void fixture_close(fixture *fx) {
    aria_model_free(fx->m);
    if (fx->path) unlink(fx->path);
    free(fx->path);
    free(fx->emb);
}

/* Prefills emb[0, n) into one sequence of a fresh shard over layers [lb, le), chunk rows per
   call, with a pool of nth threads; out (n, E). */
static int run_seq(fixture *fx, int lb, int le, int nth, const float *in, int n, int chunk, float *out) {
    aria_pool *p = NULL;
    aria_shard *sh = NULL;
    char err[256];
    int32_t s = -1;
    int st = aria_pool_create(nth, &p);
    if (!st) st = aria_shard_create(fx->m, lb, le, 2, &sh, err, sizeof err);
    if (!st) st = aria_seq_open(sh, fx->cfg.n_ctx, &s);
    int32_t seq[N_TOK], pos[N_TOK];
    for (int p0 = 0; p0 < n && !st; p0 += chunk) {
        const int c = n - p0 < chunk ? n - p0 : chunk;
        for (int k = 0; k < c; k++) seq[k] = s, pos[k] = p0 + k;
        st = aria_shard_forward(sh, p, c, seq, pos, in + (size_t)p0 * fx->E, out + (size_t)p0 * fx->E);
    }
    if (!st && aria_seq_n_past(sh, s) != n) st = -100;
    aria_shard_free(sh);
    aria_pool_free(p);
    return st;
}

static void test_threads_and_chunks(fixture *fx, const char *label) {
    const size_t sz = (size_t)N_TOK * fx->E * sizeof(float), lsz = (size_t)N_TOK * fx->V * sizeof(float);
    float *h1 = malloc(sz), *h = malloc(sz), *h2 = malloc(sz), *l1 = malloc(lsz), *l = malloc(lsz);
    if (!h1 || !h || !h2 || !l1 || !l) {
        CHECK(0, "out of memory");
        goto out;
    }
    int st = run_seq(fx, 0, fx->L, 1, fx->emb, N_TOK, 1, h1);
    CHECK(st == ARIA_OK, "%s: token-by-token forward: %d", label, st);
    CHECK(aria_logits(fx->m, h1, N_TOK, l1) == ARIA_OK, "%s: logits", label);
    /* Session API == shard API. */
    aria_session *sess;
    char err[256];
    if (aria_session_create(fx->m, 0, fx->L, fx->cfg.n_ctx, &sess, err, sizeof err) == ARIA_OK) {
        CHECK(aria_session_forward(sess, fx->emb, N_TOK, 0, h) == ARIA_OK && memcmp(h, h1, sz) == 0,
              "%s: session == shard", label);
        aria_session_free(sess);
    }
    /* Chunked prefill (1, 5, 32, whole) and thread counts 1..4 all give the same bits. */
    const int chunks[] = {1, 5, 32, N_TOK};
    for (int nth = 1; nth <= 4; nth++) {
        for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++) {
            st = run_seq(fx, 0, fx->L, nth, fx->emb, N_TOK, chunks[ci], h);
            CHECK(st == ARIA_OK && memcmp(h, h1, sz) == 0, "%s: %d threads, chunks of %d == 1 thread token by token",
                  label, nth, chunks[ci]);
        }
        aria_pool *p;
        if (aria_pool_create(nth, &p) == ARIA_OK) {
            CHECK(aria_logits_mt(fx->m, p, h1, N_TOK, l) == ARIA_OK && memcmp(l, l1, lsz) == 0,
                  "%s: logits with %d threads", label, nth);
            aria_pool_free(p);
        }
    }
    /* Layer split [0, k) + [k, L) == [0, L). */
    for (int k = 1; k < fx->L; k++) {
        st = run_seq(fx, 0, k, 2, fx->emb, N_TOK, 7, h2);
        if (!st) st = run_seq(fx, k, fx->L, 3, h2, N_TOK, 32, h);
        CHECK(st == ARIA_OK && memcmp(h, h1, sz) == 0, "%s: shards [0,%d) + [%d,%d) == [0,%d)", label, k, k, fx->L, fx->L);
    }
    /* The reference tier gives the same bits as the best one. */
    CHECK(aria_set_kernel_tier(fx->m, ARIA_TIER_REF) == ARIA_OK, "tier 0");
    st = run_seq(fx, 0, fx->L, 2, fx->emb, N_TOK, 32, h);
    CHECK(st == ARIA_OK && memcmp(h, h1, sz) == 0, "%s: reference tier hidden states == best tier", label);
    CHECK(aria_logits(fx->m, h1, N_TOK, l) == ARIA_OK && memcmp(l, l1, lsz) == 0,
          "%s: reference tier logits == best tier", label);
    CHECK(aria_set_kernel_tier(fx->m, ARIA_TIER_BEST) == ARIA_OK, "tier 1");
    CHECK(aria_set_kernel_tier(fx->m, 2) == ARIA_E_INVALID_ARG && aria_set_kernel_tier(NULL, 0) == ARIA_E_INVALID_ARG,
          "bad tier");
out:
    free(h1), free(h), free(h2), free(l1), free(l);
}

/* Sequence A decoded alone == A decoded in a batch with 3 other sequences at other positions
   (rows interleaved, other sequences prefilled to different lengths first). */
static void test_batch_composition(fixture *fx, const char *label) {
    const int E = fx->E, nA = 24;
    const size_t sz = (size_t)N_TOK * E * sizeof(float);
    float *alone = malloc(sz), *rows = malloc(sz), *res = malloc(sz);
    aria_pool *p = NULL;
    aria_shard *sh = NULL;
    char err[256];
    if (!alone || !rows || !res) {
        CHECK(0, "out of memory");
        goto out;
    }
    int st = run_seq(fx, 0, fx->L, 1, fx->emb, nA, 1, alone);
    CHECK(st == ARIA_OK, "%s: alone", label);
    st = aria_pool_create(3, &p);
    if (!st) st = aria_shard_create(fx->m, 0, fx->L, 5, &sh, err, sizeof err);
    CHECK(st == ARIA_OK, "%s: shard: %s", label, err);
    if (st) goto out;
    int32_t ids[4];
    for (int k = 0; k < 4; k++) CHECK(aria_seq_open(sh, fx->cfg.n_ctx, &ids[k]) == ARIA_OK && ids[k] == k, "open %d", k);
    /* B, C, D get prefixes of 3, 9, 0 tokens (from other parts of emb). */
    const int pre[4] = {0, 3, 9, 0};
    int32_t seq[N_TOK], pos[N_TOK];
    for (int k = 1; k < 4; k++) {
        for (int i = 0; i < pre[k]; i++) seq[i] = ids[k], pos[i] = i;
        if (pre[k]) CHECK(aria_shard_forward(sh, p, pre[k], seq, pos, fx->emb + (size_t)(10 + k) * E, res) == ARIA_OK, "prefix %d", k);
    }
    /* A: prefill 5 tokens as part of a mixed batch, then decode one token per step alongside
       the others (whose inputs are arbitrary embedding rows). */
    int npos[4] = {0, pre[1], pre[2], pre[3]};
    int doneA = 0;
    bool ok = true;
    while (doneA < nA && ok) {
        int n = 0, rowA0 = -1;
        const int takeA = doneA == 0 ? 5 : 1;
        /* interleave: other sequence first, then A's rows, then the rest */
        for (int k = 1; k < 4; k++) {
            if (k == 2) {
                rowA0 = n;
                for (int i = 0; i < takeA; i++) {
                    seq[n] = ids[0], pos[n] = doneA + i;
                    memcpy(rows + (size_t)n * E, fx->emb + (size_t)(doneA + i) * E, (size_t)E * sizeof(float));
                    n++;
                }
            }
            if (npos[k] + 1 < fx->cfg.n_ctx && n < N_TOK) {
                seq[n] = ids[k], pos[n] = npos[k]++;
                memcpy(rows + (size_t)n * E, fx->emb + (size_t)((npos[k] * 7 + k) % N_TOK) * E, (size_t)E * sizeof(float));
                n++;
            }
        }
        ok = aria_shard_forward(sh, p, n, seq, pos, rows, rows) == ARIA_OK;
        if (ok) memcpy(res + (size_t)doneA * E, rows + (size_t)rowA0 * E, (size_t)takeA * E * sizeof(float));
        doneA += takeA;
    }
    CHECK(ok && memcmp(res, alone, (size_t)nA * E * sizeof(float)) == 0,
          "%s: a sequence decoded in a batch of 4 == decoded alone", label);
    CHECK(aria_seq_n_past(sh, ids[0]) == nA && aria_seq_n_past(sh, ids[2]) == npos[2], "n_past per sequence");
out:
    aria_shard_free(sh);
    aria_pool_free(p);
    free(alone), free(rows), free(res);
}

static void test_seq_errors(fixture *fx) {
    aria_shard *sh = (aria_shard *)1;
    char err[256] = "x";
    const int L = fx->L, E = fx->E, ctx = fx->cfg.n_ctx;
    CHECK(aria_shard_create(fx->m, 0, 0, 2, &sh, err, sizeof err) == ARIA_E_INVALID_ARG && sh == NULL && err[0], "empty range");
    CHECK(aria_shard_create(fx->m, 0, L + 1, 2, &sh, err, sizeof err) == ARIA_E_INVALID_ARG, "end > n_layer");
    CHECK(aria_shard_create(fx->m, 0, L, 0, &sh, err, sizeof err) == ARIA_E_INVALID_ARG, "n_seq_max 0");
    CHECK(aria_shard_create(NULL, 0, L, 1, &sh, err, sizeof err) == ARIA_E_INVALID_ARG, "NULL model");
    CHECK(aria_shard_create(fx->m, 0, L, 2, &sh, err, sizeof err) == ARIA_OK && err[0] == '\0', "create");
    if (!sh) return;
    const uint64_t mem0 = aria_shard_memory(sh);
    int32_t a = -1, b = -1, c = -1;
    CHECK(aria_seq_open(sh, 0, &a) == ARIA_E_INVALID_ARG, "n_ctx 0");
    CHECK(aria_seq_open(sh, ctx + 1, &a) == ARIA_E_RANGE, "n_ctx > train");
    CHECK(aria_seq_open(sh, 16, &a) == ARIA_OK && a == 0, "open a");
    CHECK(aria_shard_memory(sh) == mem0 + 2ull * L * 16 * (E / fx->cfg.n_head * fx->cfg.n_head_kv) * 2,
          "memory grows by the requested binary16 cache (n_ctx 16), not the model's maximum");
    CHECK(aria_seq_open(sh, ctx, &b) == ARIA_OK && b == 1, "open b");
    CHECK(aria_seq_open(sh, 8, &c) == ARIA_E_RANGE && c == -1, "out of slots");
    float *buf = malloc((size_t)20 * E * sizeof(float));
    if (!buf) goto out;
    memcpy(buf, fx->emb, (size_t)20 * E * sizeof(float));
    int32_t seq[20], pos[20];
    for (int i = 0; i < 4; i++) seq[i] = a, pos[i] = i;
    CHECK(aria_shard_forward(sh, NULL, 4, seq, pos, buf, buf) == ARIA_OK && aria_seq_n_past(sh, a) == 4, "forward a");
    seq[0] = 5;
    CHECK(aria_shard_forward(sh, NULL, 1, seq, pos, buf, buf) == ARIA_E_INVALID_ARG, "seq id out of range");
    seq[0] = -1;
    CHECK(aria_shard_forward(sh, NULL, 1, seq, pos, buf, buf) == ARIA_E_INVALID_ARG, "negative seq id");
    seq[0] = a, pos[0] = 5;
    CHECK(aria_shard_forward(sh, NULL, 1, seq, pos, buf, buf) == ARIA_E_RANGE, "pos0 > n_past");
    pos[0] = -1;
    CHECK(aria_shard_forward(sh, NULL, 1, seq, pos, buf, buf) == ARIA_E_RANGE, "negative position");
    seq[0] = a, pos[0] = 4, seq[1] = b, pos[1] = 0, seq[2] = a, pos[2] = 6;
    CHECK(aria_shard_forward(sh, NULL, 3, seq, pos, buf, buf) == ARIA_E_INVALID_ARG, "gap in positions");
    pos[2] = 4;
    CHECK(aria_shard_forward(sh, NULL, 3, seq, pos, buf, buf) == ARIA_E_INVALID_ARG, "repeated position");
    for (int i = 0; i < 13; i++) seq[i] = a, pos[i] = 4 + i;
    CHECK(aria_shard_forward(sh, NULL, 13, seq, pos, buf, buf) == ARIA_E_RANGE, "past n_ctx 16");
    CHECK(aria_seq_n_past(sh, a) == 4 && aria_seq_n_past(sh, b) == 0, "failed calls change nothing");
    CHECK(aria_shard_forward(sh, NULL, 12, seq, pos, buf, buf) == ARIA_OK && aria_seq_n_past(sh, a) == 16, "fill to n_ctx");
    CHECK(aria_shard_forward(sh, NULL, -1, seq, pos, buf, buf) == ARIA_E_INVALID_ARG, "negative n");
    CHECK(aria_shard_forward(sh, NULL, 1, NULL, pos, buf, buf) == ARIA_E_INVALID_ARG, "NULL seq");
    CHECK(aria_shard_forward(sh, NULL, 1, seq, pos, NULL, buf) == ARIA_E_INVALID_ARG, "NULL in");
    CHECK(aria_shard_forward(sh, NULL, 0, NULL, NULL, NULL, NULL) == ARIA_OK, "n = 0");
    CHECK(aria_shard_forward(NULL, NULL, 0, NULL, NULL, NULL, NULL) == ARIA_E_INVALID_ARG, "NULL shard");
    /* truncate */
    CHECK(aria_seq_truncate(sh, a, 17) == ARIA_E_RANGE, "truncate past n_past");
    CHECK(aria_seq_truncate(sh, a, -1) == ARIA_E_INVALID_ARG, "negative truncate");
    CHECK(aria_seq_truncate(sh, 7, 0) == ARIA_E_INVALID_ARG, "truncate bad seq");
    CHECK(aria_seq_truncate(sh, a, 3) == ARIA_OK && aria_seq_n_past(sh, a) == 3, "truncate");
    seq[0] = a, pos[0] = 4;
    CHECK(aria_shard_forward(sh, NULL, 1, seq, pos, buf, buf) == ARIA_E_RANGE, "pos0 > n_past after truncate");
    CHECK(aria_seq_truncate(sh, a, 0) == ARIA_OK && aria_seq_n_past(sh, a) == 0, "reset");
    /* close / reopen */
    CHECK(aria_seq_close(sh, a) == ARIA_OK, "close a");
    CHECK(aria_seq_close(sh, a) == ARIA_E_INVALID_ARG, "close twice");
    CHECK(aria_seq_n_past(sh, a) < 0 && aria_seq_n_past(NULL, 0) < 0 && aria_seq_n_past(sh, 99) < 0, "n_past of bad seq");
    seq[0] = a, pos[0] = 0;
    CHECK(aria_shard_forward(sh, NULL, 1, seq, pos, buf, buf) == ARIA_E_INVALID_ARG, "forward on a closed seq");
    CHECK(aria_seq_open(sh, 4, &c) == ARIA_OK && c == a && aria_seq_n_past(sh, c) == 0, "reopen gets the lowest id");
    CHECK(aria_seq_open(NULL, 4, &c) == ARIA_E_INVALID_ARG && aria_seq_open(sh, 4, NULL) == ARIA_E_INVALID_ARG, "NULL args");
    CHECK(aria_shard_memory(NULL) == 0, "NULL memory");
out:
    free(buf);
    aria_shard_free(sh);
    aria_shard_free(NULL);
}

/* Range loads: a shard of a range-loaded model computes exactly what the whole model's shard
   does; what the range does not hold is refused by name; it holds less memory. */
static void test_range_load(fixture *fx, const char *label) {
    const int L = fx->L, E = fx->E, half = L / 2;
    const size_t sz = (size_t)N_TOK * E * sizeof(float);
    float *h_whole = malloc(sz), *h_range = malloc(sz), *h_mid = malloc(sz), *logits = malloc((size_t)fx->V * sizeof(float));
    char err[256];
    aria_model *first = NULL, *last = NULL;
    int st1 = aria_model_load_range(fx->path, ARIA_HEAD_AS_IS, 0, half, &first, err, sizeof err);
    int st2 = aria_model_load_range(fx->path, ARIA_HEAD_AS_IS, half, -1, &last, err, sizeof err);
    CHECK(st1 == ARIA_OK && st2 == ARIA_OK, "%s: range loads: %d %d %s", label, st1, st2, err);
    if (!h_whole || !h_range || !h_mid || !logits || !first || !last) {
        free(h_whole), free(h_range), free(h_mid), free(logits);
        aria_model_free(first), aria_model_free(last);
        return;
    }
    /* The whole model, all layers; then the two halves from their own loads. */
    CHECK(run_seq(fx, 0, L, 1, fx->emb, N_TOK, N_TOK, h_whole) == ARIA_OK, "%s: whole forward", label);
    aria_model *whole = fx->m;
    fx->m = first;
    CHECK(run_seq(fx, 0, half, 2, fx->emb, N_TOK, 7, h_mid) == ARIA_OK, "%s: first half forward", label);
    fx->m = last;
    CHECK(run_seq(fx, half, L, 2, h_mid, N_TOK, 5, h_range) == ARIA_OK, "%s: second half forward", label);
    fx->m = whole;
    CHECK(memcmp(h_whole, h_range, sz) == 0, "%s: a split over two range loads is bit-identical to the whole", label);
    float *l2 = malloc((size_t)fx->V * sizeof(float));
    CHECK(l2 && aria_logits(last, h_range + (size_t)(N_TOK - 1) * E, 1, logits) == ARIA_OK &&
              aria_logits(whole, h_whole + (size_t)(N_TOK - 1) * E, 1, l2) == ARIA_OK &&
              memcmp(logits, l2, (size_t)fx->V * sizeof(float)) == 0,
          "%s: the last stage's logits equal the whole model's", label);
    free(l2);
    /* What a range does not hold. */
    aria_shard *sh = NULL;
    CHECK(aria_shard_create(first, half, L, 1, &sh, err, sizeof err) == ARIA_E_NOT_LOADED && !sh, "%s: shard outside the range", label);
    CHECK(aria_shard_create(last, 0, half, 1, &sh, err, sizeof err) == ARIA_E_NOT_LOADED, "%s: shard before the range", label);
    int32_t tok = 1;
    CHECK(aria_embed(last, &tok, 1, h_mid) == ARIA_E_NOT_LOADED, "%s: no embedding after the first stage", label);
    CHECK(aria_logits(first, h_mid, 1, logits) == ARIA_E_NOT_LOADED, "%s: no head before the last stage", label);
    CHECK(strcmp(aria_status_name(ARIA_E_NOT_LOADED), "ARIA_E_NOT_LOADED") == 0, "status name");
    aria_model *bad = NULL;
    CHECK(aria_model_load_range(fx->path, ARIA_HEAD_AS_IS, half, half, &bad, err, sizeof err) == ARIA_E_INVALID_ARG && !bad, "%s: empty range", label);
    CHECK(aria_model_load_range(fx->path, ARIA_HEAD_AS_IS, 0, L + 1, &bad, err, sizeof err) == ARIA_E_INVALID_ARG, "%s: range past the end", label);
    /* Memory: each part holds less than the whole, and the file is no longer mapped. */
    uint64_t map_w, heap_w, map_1, heap_1, map_2, heap_2;
    aria_model_memory(whole, &map_w, &heap_w);
    aria_model_memory(first, &map_1, &heap_1);
    aria_model_memory(last, &map_2, &heap_2);
    CHECK(map_1 == 0 && map_2 == 0 && heap_1 < heap_w && heap_2 < heap_w, "%s: range memory %llu and %llu of %llu", label,
          (unsigned long long)heap_1, (unsigned long long)heap_2, (unsigned long long)heap_w);
    aria_model_free(first);
    aria_model_free(last);
    free(h_whole), free(h_range), free(h_mid), free(logits);
}

void test_engine(void) {
    test_cpu_and_pool();
    /* Without a SIMD tier (non-x86, or a CPU without AVX2) both tiers are the reference and
       the comparisons are trivially equal; they still run. */
    if (aria_isa_for_tier(ARIA_TIER_BEST) == ARIA_ISA_SCALAR)
        fprintf(stderr, "note: no SIMD tier on this CPU; tier tests compare ref with ref\n");
    test_gemm_tiers();
    test_float_tiers();
    tiny_cfg c = tiny_default();
    fixture fx;
    CHECK(fixture_open(&fx, &c), "engine fixture (default tiny model)");
    if (fx.m) {
        test_threads_and_chunks(&fx, "tiny TQ2_0");
        test_range_load(&fx, "tiny TQ2_0");
        test_batch_composition(&fx, "tiny TQ2_0");
        test_seq_errors(&fx);
    }
    fixture_close(&fx);
    /* Q8_0 output head: logits identical for 1..4 threads and for the reference tier. */
    c = tiny_default();
    CHECK(fixture_open_ex(&fx, &c, ARIA_HEAD_Q8_0), "engine fixture (Q8_0 head)");
    if (fx.m) {
        const size_t lsz = (size_t)N_TOK * fx.V * sizeof(float);
        float *l1 = malloc(lsz), *l = malloc(lsz);
        if (l1 && l && aria_logits(fx.m, fx.emb, N_TOK, l1) == ARIA_OK) {
            for (int nth = 2; nth <= 4; nth++) {
                aria_pool *p;
                if (aria_pool_create(nth, &p) != ARIA_OK) continue;
                CHECK(aria_logits_mt(fx.m, p, fx.emb, N_TOK, l) == ARIA_OK && memcmp(l, l1, lsz) == 0,
                      "Q8_0 head logits with %d threads", nth);
                aria_pool_free(p);
            }
            aria_set_kernel_tier(fx.m, ARIA_TIER_REF);
            CHECK(aria_logits(fx.m, fx.emb, N_TOK, l) == ARIA_OK && memcmp(l, l1, lsz) == 0,
                  "Q8_0 head logits: reference tier == best tier");
        } else {
            CHECK(0, "Q8_0 head logits");
        }
        free(l1), free(l);
    }
    fixture_close(&fx);

    /* MHA, 3-block FFN, SiLU and per-tensor scales (the 'bitnet' arch with TQ2_0 weights). */
    c = tiny_default();
    c.arch = "bitnet";
    c.n_head_kv = 4;
    c.n_ff = 768;
    c.with_scales = true;
    CHECK(fixture_open(&fx, &c), "engine fixture (bitnet arch)");
    if (fx.m) {
        test_threads_and_chunks(&fx, "tiny bitnet MHA");
        test_batch_composition(&fx, "tiny bitnet MHA");
    }
    fixture_close(&fx);
}
