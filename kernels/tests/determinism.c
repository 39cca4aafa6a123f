/* Determinism check (docs/kernels-abi.md, "Determinism"): the bytes a verifier compares.

   Builds small models in memory (tiny_model.c: every BitLinear format, float / Q8_0 heads,
   both activations, GQA and MHA), writes each to a temporary GGUF, loads it, and computes per
   case -- the embedding, pipeline stages (layer ranges) over a fixed input, and the logits --
   the exact output bytes under every variant that must not matter:
     - kernel tier: the scalar reference and each SIMD combination this CPU runs (forced with
       aria_model_bind_kernels: AVX2, AVX-VNNI, AVX-512 VNNI, and the best of them);
     - threads: pools of 1, 2 and 3 threads;
     - call shape: the whole prefill in one call, chunks of 5 rows, token by token, and the
       sequence batched with three others (rows interleaved, one call crossing the engine's
       64-row chunk boundary); logits in one call, per row and in chunks; a layer range run as
       two consecutive shards.
   Within the build every variant must give the same bytes (else it names both variants and
   the first differing value, and exits 1). It prints one line per case, "<case> <sha256 of the
   bytes>", which tests/determinism.sh compares across compilers and optimization levels.
   Linked with the library's own objects (as the benchmarks are), so it can force tiers. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aria.h"
#include "cpu.h"
#include "detmath.h"
#include "kernels.h"
#include "model.h"
#include "tiny_model.h"

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------------------------ */

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} sha256_ctx;

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(sha256_ctx *c, const uint8_t *p) {
    uint32_t w[64], s[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        const uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(s, c->h, sizeof s);
    for (int i = 0; i < 64; i++) {
        const uint32_t t1 = s[7] + (ror(s[4], 6) ^ ror(s[4], 11) ^ ror(s[4], 25)) +
                            ((s[4] & s[5]) ^ (~s[4] & s[6])) + K256[i] + w[i];
        const uint32_t t2 = (ror(s[0], 2) ^ ror(s[0], 13) ^ ror(s[0], 22)) +
                            ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
        memmove(s + 1, s, 7 * sizeof *s);
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++) c->h[i] += s[i];
}

static void sha256_init(sha256_ctx *c) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, h0, sizeof h0);
    c->len = 0, c->n = 0;
}

static void sha256_update(sha256_ctx *c, const void *data, size_t len) {
    const uint8_t *p = data;
    c->len += len;
    while (len > 0) {
        size_t take = 64 - c->n < len ? 64 - c->n : len;
        memcpy(c->buf + c->n, p, take);
        c->n += take, p += take, len -= take;
        if (c->n == 64) {
            sha256_block(c, c->buf);
            c->n = 0;
        }
    }
}

static void sha256_hex(const void *data, size_t len, char out[65]) {
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, data, len);
    const uint64_t bits = c.len * 8;
    uint8_t pad[72] = {0x80};
    const size_t padlen = (c.n < 56 ? 56 : 120) - c.n;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(&c, pad, padlen + 8);
    for (int i = 0; i < 8; i++) snprintf(out + 8 * i, 9, "%08x", c.h[i]);
}

/* ---- cases and variants ------------------------------------------------------------------ */

static int failures, total_variants;

typedef struct {
    char name[96];
    uint8_t *ref; /* the first variant's bytes */
    size_t len;
    char ref_variant[96];
    int n_variants, n_bad;
} dcase;

static void case_begin(dcase *c, const char *model, const char *what) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s/%s", model, what);
}

static void case_add(dcase *c, const char *variant, const void *bytes, size_t len) {
    c->n_variants++, total_variants++;
    if (!c->ref) {
        c->ref = malloc(len ? len : 1);
        if (!c->ref) {
            fprintf(stderr, "determinism: out of memory\n");
            exit(2);
        }
        memcpy(c->ref, bytes, len);
        c->len = len;
        snprintf(c->ref_variant, sizeof c->ref_variant, "%s", variant);
        return;
    }
    if (len == c->len && memcmp(bytes, c->ref, len) == 0) return;
    failures++;
    if (++c->n_bad > 3) return; /* the first three per case; case_end counts the rest */
    if (len != c->len) {
        fprintf(stderr, "determinism: %s: %s gave %zu bytes, %s %zu\n", c->name, variant, len,
                c->ref_variant, c->len);
        return;
    }
    size_t i = 0;
    while (((const uint8_t *)bytes)[i] == c->ref[i]) i++;
    i &= ~(size_t)3; /* the float (4 bytes) holding the first differing byte */
    float a, b;
    memcpy(&a, c->ref + i, 4);
    memcpy(&b, (const uint8_t *)bytes + i, 4);
    fprintf(stderr, "determinism: %s: %s differs from %s at float %zu: %a vs %a\n", c->name,
            variant, c->ref_variant, i / 4, (double)b, (double)a);
}

static void case_end(dcase *c) {
    if (c->n_bad > 3)
        fprintf(stderr, "determinism: %s: %d more variants differ from %s\n", c->name,
                c->n_bad - 3, c->ref_variant);
    char hex[65];
    sha256_hex(c->ref, c->len, hex);
    printf("%-40s %s\n", c->name, hex);
    free(c->ref);
    c->ref = NULL;
}

/* ---- the engine under each variant ------------------------------------------------------- */

enum { N_TOK = 16, N_OTHER = 96, MAX_THREADS = 3 };

static aria_pool *pools[MAX_THREADS + 1];

typedef struct {
    int32_t id;
    const char *name;
} tier_t;
static tier_t tier_table[5], *tiers = tier_table;
static int n_tiers;

static void die(const char *what, int st) {
    fprintf(stderr, "determinism: %s failed: %s\n", what, aria_status_name(st));
    exit(2);
}

/* One sequence alone in a shard over [lb, le): in[0, n) in calls of `chunk` rows. */
static void run_alone(aria_model *m, int lb, int le, aria_pool *p, const float *in, int n,
                      int chunk, float *out, int n_ctx) {
    aria_shard *sh = NULL;
    char err[256];
    int32_t s = -1, seq[N_TOK], pos[N_TOK];
    int st = aria_shard_create(m, lb, le, 2, &sh, err, sizeof err);
    if (!st) st = aria_seq_open(sh, n_ctx, &s);
    const int64_t E = m->hp.n_embd;
    for (int p0 = 0; p0 < n && !st; p0 += chunk) {
        const int c = n - p0 < chunk ? n - p0 : chunk;
        for (int k = 0; k < c; k++) seq[k] = s, pos[k] = p0 + k;
        st = aria_shard_forward(sh, p, c, seq, pos, in + p0 * E, out + p0 * E);
    }
    if (st) die("forward (alone)", st);
    aria_shard_free(sh);
}

/* The sequence (slot 2) batched with three others B, C, D whose inputs come from `other`: the
   first call holds n_b0 rows of B, the sequence's first 5 rows, then 10 rows of D (with
   n_b0 = 61 the sequence's rows straddle the engine's 64-row chunks); later calls hold 1 row
   of B, 1 or 2 rows of the sequence, C (joining at step 3 with 7 rows, then 1 per step) and D
   every other step. */
static void run_batched(aria_model *m, int lb, int le, aria_pool *p, const float *in,
                        const float *other, int n, int n_b0, float *out, int n_ctx) {
    const int64_t E = m->hp.n_embd;
    aria_shard *sh = NULL;
    char err[256];
    int st = aria_shard_create(m, lb, le, 4, &sh, err, sizeof err);
    int32_t ids[4];
    for (int k = 0; k < 4 && !st; k++) st = aria_seq_open(sh, n_ctx, &ids[k]);
    if (st) die("shard (batched)", st);
    enum { MAXR = 96 };
    int32_t seq[MAXR], pos[MAXR], npos[4] = {0, 0, 0, 0};
    float *rows = malloc((size_t)MAXR * E * sizeof(float));
    if (!rows) die("malloc", ARIA_E_NOMEM);
    int done = 0, step = 0, o = 0;
    while (done < n) {
        int r = 0, rowA = 0;
#define PUSH(k, src)                                                \
    do {                                                            \
        seq[r] = ids[k], pos[r] = npos[k]++;                        \
        memcpy(rows + r * E, (src), (size_t)E * sizeof(float));     \
        r++;                                                        \
    } while (0)
        const int nB = step == 0 ? n_b0 : 1;
        for (int i = 0; i < nB; i++, o++) PUSH(0, other + (o % N_OTHER) * E);
        const int takeA = step == 0 ? 5 : (step % 3 == 1 && n - done >= 2) ? 2 : 1;
        rowA = r;
        for (int i = 0; i < takeA; i++) PUSH(2, in + (done + i) * E);
        const int nC = step < 3 ? 0 : step == 3 ? 7 : 1;
        for (int i = 0; i < nC; i++, o++) PUSH(1, other + (o % N_OTHER) * E);
        const int nD = step == 0 ? 10 : step % 2;
        for (int i = 0; i < nD; i++, o++) PUSH(3, other + (o % N_OTHER) * E);
#undef PUSH
        st = aria_shard_forward(sh, p, r, seq, pos, rows, rows);
        if (st) die("forward (batched)", st);
        memcpy(out + done * E, rows + rowA * E, (size_t)takeA * E * sizeof(float));
        done += takeA, step++;
    }
    free(rows);
    aria_shard_free(sh);
}

static void bind(aria_model *m, int32_t tier) {
    if (!aria_model_bind_kernels(m, tier)) die("bind kernels", ARIA_E_UNSUPPORTED);
}

/* Case: layers [lb, le) on in[N_TOK], out = the bytes. full: every tier x threads x call
   shape. Else (a range whose parts are full cases) per tier: one prefill, and the range run
   as two consecutive shards split at each layer. */
static void stage_case(const char *model, aria_model *m, int lb, int le, const float *in,
                       float *out, int n_ctx, bool full) {
    const int64_t E = m->hp.n_embd;
    const size_t sz = (size_t)N_TOK * E * sizeof(float);
    float *h = malloc(sz), *h2 = malloc(sz), *other = malloc((size_t)N_OTHER * E * sizeof(float));
    if (!h || !h2 || !other) die("malloc", ARIA_E_NOMEM);
    for (int r = 0; r < N_OTHER; r++) /* other sequences' inputs: the same kind of rows */
        memcpy(other + r * E, in + ((r * 7 + 3) % N_TOK) * E, (size_t)E * sizeof(float));
    dcase c;
    char v[96];
    snprintf(v, sizeof v, "layers[%d,%d)", lb, le);
    case_begin(&c, model, v);
    for (int t = 0; t < n_tiers; t++) {
        bind(m, tiers[t].id);
        if (!full) {
            run_alone(m, lb, le, pools[2], in, N_TOK, N_TOK, h, n_ctx);
            snprintf(v, sizeof v, "[%s, 2 threads, prefill]", tiers[t].name);
            case_add(&c, v, h, sz);
        }
        for (int mid = lb + 1; mid < le && !full; mid++) {
            const int nth = 1 + (mid + t) % MAX_THREADS;
            run_alone(m, lb, mid, pools[nth], in, N_TOK, 7, h2, n_ctx);
            run_alone(m, mid, le, pools[MAX_THREADS + 1 - nth], h2, N_TOK, 3, h, n_ctx);
            snprintf(v, sizeof v, "[%s, shards [%d,%d) + [%d,%d), chunks of 7 then 3]",
                     tiers[t].name, lb, mid, mid, le);
            case_add(&c, v, h, sz);
        }
        for (int nth = 1; nth <= MAX_THREADS && full; nth++) {
            static const int chunks[3] = {N_TOK, 5, 1};
            static const char *const names[3] = {"prefill", "chunks of 5", "token by token"};
            for (int k = 0; k < 3; k++) {
                run_alone(m, lb, le, pools[nth], in, N_TOK, chunks[k], h, n_ctx);
                snprintf(v, sizeof v, "[%s, %d thread%s, %s]", tiers[t].name, nth, nth > 1 ? "s" : "", names[k]);
                case_add(&c, v, h, sz);
            }
            /* one 76-row call (across chunks) with 2 threads, 16 rows otherwise (time) */
            const int n_b0 = nth == 2 ? 61 : 1;
            run_batched(m, lb, le, pools[nth], in, other, N_TOK, n_b0, h, n_ctx);
            snprintf(v, sizeof v, "[%s, %d thread%s, batched with 3 sequences, first call %d rows]",
                     tiers[t].name, nth, nth > 1 ? "s" : "", n_b0 + 15);
            case_add(&c, v, h, sz);
        }
    }
    memcpy(out, c.ref, sz);
    case_end(&c);
    free(h), free(h2), free(other);
}

static void logits_case(const char *model, aria_model *m, const float *hidden) {
    const int64_t V = m->hp.n_vocab, E = m->hp.n_embd;
    const size_t sz = (size_t)N_TOK * V * sizeof(float);
    float *l = malloc(sz);
    if (!l) die("malloc", ARIA_E_NOMEM);
    dcase c;
    case_begin(&c, model, "logits");
    char v[96];
    for (int t = 0; t < n_tiers; t++) {
        bind(m, tiers[t].id);
        int st = aria_logits(m, hidden, N_TOK, l);
        if (st) die("logits", st);
        snprintf(v, sizeof v, "[%s, calling thread, all rows]", tiers[t].name);
        case_add(&c, v, l, sz);
        for (int nth = 1; nth <= MAX_THREADS; nth++) {
            static const int chunks[3] = {N_TOK, 5, 1};
            for (int k = 0; k < 3; k++) {
                for (int r0 = 0; r0 < N_TOK && !st; r0 += chunks[k]) {
                    const int n = N_TOK - r0 < chunks[k] ? N_TOK - r0 : chunks[k];
                    st = aria_logits_mt(m, pools[nth], hidden + r0 * E, n, l + r0 * V);
                }
                if (st) die("logits_mt", st);
                snprintf(v, sizeof v, "[%s, %d thread%s, rows in calls of %d]", tiers[t].name, nth,
                         nth > 1 ? "s" : "", chunks[k]);
                case_add(&c, v, l, sz);
            }
        }
    }
    case_end(&c);
    free(l);
}

/* The ARIA_HEAD_Q8_0 copy made at load (best tier) == each tier's requantization, in the
   copy's x8 layout. */
static void head_q8_case(const char *model, aria_model *m) {
    if (!m->head_q8 || m->token_embd.type != ARIA_TYPE_F16) return;
    const int64_t V = m->hp.n_vocab, E = m->hp.n_embd;
    const size_t row = (size_t)(E / 32) * sizeof(block_q8_0), sz = (size_t)V * row;
    uint8_t *q = malloc(sz), *plain = malloc(row);
    if (!q || !plain) die("malloc", ARIA_E_NOMEM);
    dcase c;
    case_begin(&c, model, "head-q8_0-bytes");
    case_add(&c, "[loaded copy]", m->head_q8, sz);
    char v[96];
    for (int t = 0; t < n_tiers; t++) {
        const aria_requant_f16_q8_0_fn f = aria_requant_f16_q8_0_for(tiers[t].id);
        for (int64_t r = 0; r < V; r++) {
            f(m->token_embd.data + (uint64_t)r * m->token_embd.row_bytes, plain, E);
            aria_q8_0_to_x8(plain, q + r * row, E);
        }
        snprintf(v, sizeof v, "[%s requantization]", tiers[t].name);
        case_add(&c, v, q, sz);
    }
    case_end(&c);
    free(q), free(plain);
}

/* ---- models ------------------------------------------------------------------------------ */

static char *write_temp(const void *bytes, size_t len) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    size_t n = strlen(dir) + 40;
    char *path = malloc(n);
    if (!path) return NULL;
    snprintf(path, n, "%s/aria-determinism-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    const char *p = bytes;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) break;
        p += w, len -= (size_t)w;
    }
    close(fd);
    if (len) {
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

/* Every case of one model. stages = false: only the logits (and the Q8_0 head bytes) of the
   hidden rows computed with the best tier (a model whose layers another case covers).
   all_tiers = false: only the reference and the best tier (a path without SIMD kernels). */
static void model_cases(const char *name, const tiny_cfg *cfg, int32_t head, bool stages,
                        bool all_tiers, bool specials) {
    gw_file f;
    size_t len = 0;
    uint8_t *bytes = tiny_build(&f, cfg) ? gw_serialize(&f, &len, NULL) : NULL;
    gw_free(&f);
    if (!bytes) die("tiny_build", ARIA_E_NOMEM);
    dcase c;
    case_begin(&c, name, "gguf"); /* the input file itself */
    case_add(&c, "[written]", bytes, len);
    case_end(&c);
    char *path = write_temp(bytes, len);
    free(bytes);
    if (!path) die("temporary file", ARIA_E_IO);
    aria_model *m = NULL;
    char err[256];
    int st = aria_model_load_ex(path, head, &m, err, sizeof err);
    unlink(path);
    free(path);
    if (st) {
        fprintf(stderr, "determinism: %s: load: %s\n", name, err);
        exit(2);
    }
    const int64_t E = m->hp.n_embd;
    const int L = m->hp.n_layer;
    const size_t sz = (size_t)N_TOK * E * sizeof(float);
    float *emb = malloc(sz), *h1 = malloc(sz), *h2 = malloc(sz);
    if (!emb || !h1 || !h2) die("malloc", ARIA_E_NOMEM);
    tier_t *saved_tiers = tiers;
    const int saved_n = n_tiers;
    tier_t ref_best[2] = {tiers[0], tiers[n_tiers - 1]};
    if (!all_tiers) tiers = ref_best, n_tiers = 2;
    int32_t tok[N_TOK];
    uint64_t rng = 0xde7e;
    for (int i = 0; i < N_TOK; i++) tok[i] = (int32_t)(tiny_rand(&rng) % (uint64_t)cfg->n_vocab);
    case_begin(&c, name, "embed");
    for (int t = 0; t < n_tiers; t++) {
        bind(m, tiers[t].id);
        if ((st = aria_embed(m, tok, N_TOK, emb))) die("embed", st);
        char v[64];
        snprintf(v, sizeof v, "[%s]", tiers[t].name);
        case_add(&c, v, emb, sz);
    }
    case_end(&c);
    if (stages) {
        /* Pipeline stages: the first layer, the rest on its output, and the whole range. */
        stage_case(name, m, 0, 1, emb, h1, cfg->n_ctx, true);
        stage_case(name, m, 1, L, h1, h2, cfg->n_ctx, true);
        stage_case(name, m, 0, L, emb, h1, cfg->n_ctx, false);
        if (memcmp(h1, h2, sz) != 0) {
            fprintf(stderr, "determinism: %s: layers [0,1) then [1,%d) differ from [0,%d)\n", name, L, L);
            failures++;
        }
    } else {
        bind(m, ARIA_TIER_BEST);
        run_alone(m, 0, L, pools[1], emb, N_TOK, N_TOK, h1, cfg->n_ctx);
    }
    logits_case(name, m, h1);
    head_q8_case(name, m);
    if (specials) {
        /* Inputs another node could send: NaNs of every kind (signalling, negative, with
           payloads), infinities, a row that overflows its sum of squares, subnormals. */
        static const uint32_t nan_bits[4] = {0x7fa00001u, 0xffc12345u, 0x7fffffffu, 0xff800001u};
        for (int i = 0; i < 4; i++) memcpy(&emb[(2 + i) * E + 5 * i], &nan_bits[i], 4);
        emb[7 * E + 3] = INFINITY, emb[7 * E + 4] = -INFINITY, emb[8 * E + 9] = -INFINITY;
        for (int64_t i = 0; i < E; i++) emb[9 * E + i] = (i % 2 ? -3e38f : 3e38f);
        for (int64_t i = 0; i < E; i++) emb[10 * E + i] = 0x1p-140f * (float)(i % 7);
        char nm[64];
        snprintf(nm, sizeof nm, "%s+specials", name);
        if (stages) {
            stage_case(nm, m, 0, L, emb, h1, cfg->n_ctx, true);
        } else {
            bind(m, ARIA_TIER_BEST);
            run_alone(m, 0, L, pools[1], emb, N_TOK, N_TOK, h1, cfg->n_ctx);
        }
        logits_case(nm, m, h1);
    }
    aria_model_free(m);
    free(emb), free(h1), free(h2);
    tiers = saved_tiers, n_tiers = saved_n;
}

/* detmath.h as this compiler builds it, over a sweep that includes inputs where glibc's FMA
   and SSE2 expf / sinf / cosf disagree. */
static void detmath_cases(void) {
    enum { N = 1 << 16 };
    static float out[2 * N + 8];
    static const float glibc_split[] = {0x1.04845ep+5f, -0x1.f8cbb2p+5f, 0x1.ab6152p+5f,
                                        0x1.46b80ep+6f, 0x1.1475b6p+4f, 0x1.d0f4aap+5f};
    dcase c;
    case_begin(&c, "detmath", "expf");
    for (int i = 0; i < N; i++) out[i] = aria_expf(-104.0f + 208.0f * (float)i / (float)N);
    for (int i = 0; i < 6; i++) out[N + i] = aria_expf(glibc_split[i]);
    case_add(&c, "[sweep]", out, (N + 6) * sizeof(float));
    case_end(&c);
    case_begin(&c, "detmath", "sincosf");
    for (int i = 0; i < N; i++) aria_sincosf(4096.0f * (float)i / (float)N, &out[2 * i], &out[2 * i + 1]);
    for (int i = 0; i < 4; i++) aria_sincosf(glibc_split[2 + i], &out[2 * N + 2 * i], &out[2 * N + 2 * i + 1]);
    case_add(&c, "[sweep]", out, (2 * N + 8) * sizeof(float));
    case_end(&c);
}

int main(void) {
    tiers[n_tiers++] = (tier_t){ARIA_TIER_REF, "ref"}; /* first */
    if (aria_tier_runs(ARIA_TIER_X86_AVX2)) tiers[n_tiers++] = (tier_t){ARIA_TIER_X86_AVX2, "avx2"};
    if (aria_tier_runs(ARIA_TIER_X86_AVXVNNI)) tiers[n_tiers++] = (tier_t){ARIA_TIER_X86_AVXVNNI, "avx-vnni"};
    if (aria_tier_runs(ARIA_TIER_X86_AVX512)) tiers[n_tiers++] = (tier_t){ARIA_TIER_X86_AVX512, "avx512-vnni"};
    tiers[n_tiers++] = (tier_t){ARIA_TIER_BEST, "best"}; /* last */
    for (int t = 1; t <= MAX_THREADS; t++) {
        int st = aria_pool_create(t, &pools[t]);
        if (st) die("pool", st);
    }

    detmath_cases();
    tiny_cfg c = tiny_default(); /* bitnet-b1.58, TQ2_0, tied F16 head, GQA 4/2, relu^2 */
    model_cases("b158-tq2_0-f16", &c, ARIA_HEAD_AS_IS, true, true, true);
    model_cases("b158-tq2_0-q8head", &c, ARIA_HEAD_Q8_0, false, true, true); /* layers as above */
    c = tiny_default(); /* 'bitnet': SiLU, MHA, per-tensor scales, TQ1_0, separate F32 head */
    c.arch = "bitnet", c.n_head_kv = 4, c.n_ff = 768, c.with_scales = true;
    c.linear_type = ARIA_TYPE_TQ1_0, c.embd_type = ARIA_TYPE_F32, c.with_output = true;
    c.seed = 0xb17;
    model_cases("bitnet-tq1_0-f32", &c, ARIA_HEAD_AS_IS, true, true, true);
    c = tiny_default(); /* I2_S weights, Q8_0 tied embedding / head */
    c.linear_type = ARIA_TYPE_I2_S, c.embd_type = ARIA_TYPE_Q8_0, c.seed = 0x125;
    model_cases("b158-i2_s-q8_0", &c, ARIA_HEAD_AS_IS, true, true, false);
    c = tiny_default(); /* Q8_0 BitLinear weights, BF16 head */
    c.linear_type = ARIA_TYPE_Q8_0, c.embd_type = ARIA_TYPE_BF16, c.seed = 0x808;
    model_cases("b158-q8_0-bf16", &c, ARIA_HEAD_AS_IS, true, true, false);
    /* Float (F16) ternary BitLinear weights: the dot is the reference one in every tier (and
       slow), so a smaller model (2 layers, 128 wide, 2 heads of 64) and only ref and best. */
    c = tiny_default();
    c.linear_type = ARIA_TYPE_F16, c.seed = 0xf16;
    c.n_layer = 2, c.n_embd = 128, c.n_head = 2, c.n_head_kv = 1, c.n_ff = 256;
    model_cases("b158-f16", &c, ARIA_HEAD_AS_IS, true, false, false);

    for (int t = 1; t <= MAX_THREADS; t++) aria_pool_free(pools[t]);
    printf("# %d variants compared (tiers:", total_variants);
    for (int t = 0; t < n_tiers; t++) printf(" %s", tiers[t].name);
    printf("; threads 1-%d; prefill, chunks, token by token, batched, split shards)\n", MAX_THREADS);
    if (failures) {
        fprintf(stderr, "determinism: %d variant(s) differ within this build\n", failures);
        return 1;
    }
    return 0;
}
