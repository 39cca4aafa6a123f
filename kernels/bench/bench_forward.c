/* bench_forward: decode / prefill / batched-decode throughput of libaria on a BitNet
   b1.58 2B-4T-shaped model (30 layers, 2560/6912, 20/5 heads, vocab 128256; TQ2_0 BitLinear
   weights, F16 tied embedding). Not a test: for kernel work and profiling.

   usage: bench_forward [model.gguf] [-r runs] [-d decode_tokens] [-t max_threads] [-T min_threads]
                        [-m modes] [-q]
   -q loads with aria_model_load_ex(..., ARIA_HEAD_Q8_0, ...) (Q8_0 output head).
   modes: letters d (decode), p (prefill), b (batch of 4), w (bandwidth); default "wdpb".
   Without a path it writes a synthetic model (random ternary weights) to
   $TMPDIR/aria-bench-2b4t.gguf once and reuses it. Each figure is measured `runs` times;
   best and median are printed. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aria.h"

/* ---- synthetic GGUF ----------------------------------------------------------------------- */

enum { E = 2560, F = 6912, NL = 30, NH = 20, NKV = 5, HD = 128, VOCAB = 128256, CTX = 4096 };
#define KV_DIM (NKV * HD)
#define TYPE_F32 0
#define TYPE_F16 1
#define TYPE_TQ2_0 35

static uint64_t rng_state = 0x2b4;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint16_t f32_to_f16(float f) { /* normal range only, truncating: test data */
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, e = (x >> 23) & 0xff, m = x & 0x7fffff;
    if (e < 113) return (uint16_t)sign;
    return (uint16_t)(sign | ((e - 112) << 10) | (m >> 13));
}

typedef struct {
    char name[64];
    uint32_t type;
    uint64_t ne0, ne1;
    uint64_t nbytes, offset;
} tinfo;

static void w_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void w_u64(FILE *f, uint64_t v) { fwrite(&v, 8, 1, f); }
static void w_str(FILE *f, const char *s) {
    w_u64(f, strlen(s));
    fwrite(s, 1, strlen(s), f);
}
static void kv_u32(FILE *f, const char *k, uint32_t v) { w_str(f, k), w_u32(f, 4), w_u32(f, v); }
static void kv_f32(FILE *f, const char *k, float v) {
    w_str(f, k), w_u32(f, 6);
    fwrite(&v, 4, 1, f);
}

static uint64_t nbytes_of(uint32_t type, uint64_t ne0, uint64_t ne1) {
    if (type == TYPE_TQ2_0) return ne0 / 256 * 66 * ne1;
    return ne0 * ne1 * (type == TYPE_F16 ? 2 : 4);
}

static int write_model(const char *path) {
    static tinfo t[2 + NL * 11];
    int nt = 0;
#define ADD(nm, ty, a, b)                                        \
    do {                                                         \
        snprintf(t[nt].name, sizeof t[nt].name, "%s", nm);       \
        t[nt].type = ty, t[nt].ne0 = a, t[nt].ne1 = b;           \
        t[nt].nbytes = nbytes_of(ty, a, b);                      \
        nt++;                                                    \
    } while (0)
    ADD("token_embd.weight", TYPE_F16, E, VOCAB);
    ADD("output_norm.weight", TYPE_F32, E, 1);
    char nm[64];
    static const struct { const char *n; int t, a, b; } per[11] = {
        {"attn_norm", TYPE_F32, E, 1},       {"attn_q", TYPE_TQ2_0, E, E},
        {"attn_k", TYPE_TQ2_0, E, KV_DIM},   {"attn_v", TYPE_TQ2_0, E, KV_DIM},
        {"attn_sub_norm", TYPE_F32, E, 1},   {"attn_output", TYPE_TQ2_0, E, E},
        {"ffn_norm", TYPE_F32, E, 1},        {"ffn_gate", TYPE_TQ2_0, E, F},
        {"ffn_up", TYPE_TQ2_0, E, F},        {"ffn_sub_norm", TYPE_F32, F, 1},
        {"ffn_down", TYPE_TQ2_0, F, E},
    };
    for (int il = 0; il < NL; il++)
        for (int k = 0; k < 11; k++) {
            snprintf(nm, sizeof nm, "blk.%d.%s.weight", il, per[k].n);
            ADD(nm, (uint32_t)per[k].t, (uint64_t)per[k].a, (uint64_t)per[k].b);
        }
#undef ADD
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    w_u32(f, 0x46554747u), w_u32(f, 3), w_u64(f, (uint64_t)nt), w_u64(f, 10);
    w_str(f, "general.architecture"), w_u32(f, 8), w_str(f, "bitnet-b1.58");
    kv_u32(f, "bitnet-b1.58.context_length", CTX);
    kv_u32(f, "bitnet-b1.58.embedding_length", E);
    kv_u32(f, "bitnet-b1.58.block_count", NL);
    kv_u32(f, "bitnet-b1.58.feed_forward_length", F);
    kv_u32(f, "bitnet-b1.58.rope.dimension_count", HD);
    kv_u32(f, "bitnet-b1.58.attention.head_count", NH);
    kv_u32(f, "bitnet-b1.58.attention.head_count_kv", NKV);
    kv_f32(f, "bitnet-b1.58.attention.layer_norm_rms_epsilon", 1e-5f);
    kv_f32(f, "bitnet-b1.58.rope.freq_base", 500000.0f);
    uint64_t off = 0;
    for (int i = 0; i < nt; i++) {
        t[i].offset = off;
        off += (t[i].nbytes + 31) / 32 * 32;
        w_str(f, t[i].name);
        w_u32(f, t[i].ne1 == 1 ? 1 : 2);
        w_u64(f, t[i].ne0);
        if (t[i].ne1 != 1) w_u64(f, t[i].ne1);
        w_u32(f, t[i].type);
        w_u64(f, t[i].offset);
    }
    long pos = ftell(f);
    for (long p = pos; p % 32; p++) fputc(0, f);
    /* Valid ternary bytes: four codes in {0, 1, 2}. */
    uint8_t lut[81];
    for (int i = 0; i < 81; i++) lut[i] = (uint8_t)(i % 3 | (i / 3 % 3) << 2 | (i / 9 % 3) << 4 | (i / 27) << 6);
    const size_t bufsz = 1 << 22;
    uint8_t *buf = malloc(bufsz);
    if (!buf) return -1;
    for (int i = 0; i < nt; i++) {
        uint64_t left = t[i].nbytes;
        while (left) {
            size_t n = left < bufsz ? (size_t)left : bufsz;
            if (t[i].type == TYPE_TQ2_0) { /* n is a multiple of 66 */
                const uint16_t d = f32_to_f16(0.03f);
                for (size_t b = 0; b < n; b += 66) {
                    for (int k = 0; k < 64; k += 8) {
                        uint64_t r = rnd();
                        for (int q = 0; q < 8; q++) buf[b + k + q] = lut[((r >> (8 * q)) & 0xff) % 81];
                    }
                    memcpy(buf + b + 64, &d, 2);
                }
            } else if (t[i].type == TYPE_F16) {
                for (size_t k = 0; k < n; k += 2) {
                    uint16_t h = f32_to_f16(((float)(rnd() % 2001) - 1000.0f) * 5e-5f);
                    memcpy(buf + k, &h, 2);
                }
            } else {
                for (size_t k = 0; k < n; k += 4) {
                    float v = 1.0f + ((float)(rnd() % 201) - 100.0f) * 1e-3f;
                    memcpy(buf + k, &v, 4);
                }
            }
            fwrite(buf, 1, n, f);
            left -= n;
        }
        for (uint64_t p = t[i].nbytes; p % 32 && i + 1 < nt; p++) fputc(0, f);
    }
    free(buf);
    return fclose(f);
}

/* ---- timing helpers ----------------------------------------------------------------------- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints best and median of v[n] (higher is better). */
static void report(const char *label, double *v, int n, const char *unit) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    printf("%-44s best %8.2f  median %8.2f %s\n", label, v[n - 1], v[n / 2], unit);
    fflush(stdout);
}

/* ---- memory bandwidth --------------------------------------------------------------------- */

typedef struct {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} bw_arg;

static void *bw_worker(void *p) {
    bw_arg *a = p;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= a->n; i += 4) s0 += a->p[i], s1 += a->p[i + 1], s2 += a->p[i + 2], s3 += a->p[i + 3];
    a->sum = s0 + s1 + s2 + s3;
    return NULL;
}

static double bandwidth(int nth) {
    const size_t bytes = (size_t)1 << 30, n = bytes / 8;
    uint64_t *buf = malloc(bytes);
    if (!buf) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = rnd(); /* distinct pages: nothing can dedupe them */
    double best = 0;
    for (int run = 0; run < 3; run++) {
        pthread_t th[8];
        bw_arg a[8];
        double t0 = now();
        for (int i = 0; i < nth; i++) {
            a[i] = (bw_arg){buf + n / nth * i, n / nth, 0};
            pthread_create(&th[i], NULL, bw_worker, &a[i]);
        }
        for (int i = 0; i < nth; i++) pthread_join(th[i], NULL);
        double gbs = (double)bytes / (now() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    free(buf);
    return best;
}

/* ---- the benchmarks ----------------------------------------------------------------------- */

static aria_model *model;
static int runs = 5, n_decode = 32;

#define CHECKED(call)                                                                     \
    do {                                                                                  \
        int st_ = (call);                                                                 \
        if (st_ != ARIA_OK) {                                                             \
            fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #call, aria_status_name(st_)); \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* n_seq sequences, each prefilled with 8 tokens, then steps of one token per sequence
   (forward + logits of the n_seq rows). Returns aggregate tok/s; *layers_only gets the rate
   without the logits. */
static double decode(aria_pool *pool, int n_seq, double *layers_only) {
    aria_shard *sh;
    char err[256];
    CHECKED(aria_shard_create(model, 0, NL, n_seq, &sh, err, sizeof err));
    float *h = malloc((size_t)n_seq * 8 * E * sizeof(float));
    float *logits = malloc((size_t)n_seq * VOCAB * sizeof(float));
    int32_t seq[64], pos[64], tok[64];
    for (int s = 0; s < n_seq; s++) {
        int32_t id;
        CHECKED(aria_seq_open(sh, 512, &id));
        for (int i = 0; i < 8; i++) seq[i] = id, pos[i] = i, tok[i] = (int32_t)(rnd() % VOCAB);
        CHECKED(aria_embed(model, tok, 8, h));
        CHECKED(aria_shard_forward(sh, pool, 8, seq, pos, h, h));
    }
    double t_layers = 0, t0 = now();
    for (int step = 0; step < n_decode; step++) {
        for (int s = 0; s < n_seq; s++) seq[s] = s, pos[s] = 8 + step, tok[s] = (int32_t)(rnd() % VOCAB);
        CHECKED(aria_embed(model, tok, n_seq, h));
        double t1 = now();
        CHECKED(aria_shard_forward(sh, pool, n_seq, seq, pos, h, h));
        t_layers += now() - t1;
        CHECKED(aria_logits_mt(model, pool, h, n_seq, logits));
    }
    double dt = now() - t0;
    *layers_only = n_seq * n_decode / t_layers;
    free(h), free(logits);
    aria_shard_free(sh);
    return n_seq * n_decode / dt;
}

/* One sequence, one chunk of n tokens + logits of the last row. tok/s. */
static double prefill(aria_pool *pool, int n) {
    aria_shard *sh;
    char err[256];
    CHECKED(aria_shard_create(model, 0, NL, 1, &sh, err, sizeof err));
    int32_t id;
    CHECKED(aria_seq_open(sh, 512, &id));
    float *h = malloc((size_t)n * E * sizeof(float)), *logits = malloc((size_t)VOCAB * sizeof(float));
    int32_t *seq = malloc((size_t)n * 4), *pos = malloc((size_t)n * 4), *tok = malloc((size_t)n * 4);
    for (int i = 0; i < n; i++) seq[i] = id, pos[i] = i, tok[i] = (int32_t)(rnd() % VOCAB);
    CHECKED(aria_embed(model, tok, n, h));
    double t0 = now();
    CHECKED(aria_shard_forward(sh, pool, n, seq, pos, h, h));
    CHECKED(aria_logits_mt(model, pool, h + (size_t)(n - 1) * E, 1, logits));
    double dt = now() - t0;
    free(h), free(logits), free(seq), free(pos), free(tok);
    aria_shard_free(sh);
    return n / dt;
}

int main(int argc, char **argv) {
    const char *path = NULL;
    int max_threads = 2, min_threads = 1;
    const char *modes = "wdpb";
    int q8_head = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-d") && i + 1 < argc) n_decode = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) max_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-T") && i + 1 < argc) min_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc) modes = argv[++i];
        else if (!strcmp(argv[i], "-q")) q8_head = 1;
        else path = argv[i];
    }
    if (runs < 1) runs = 1;
    char def[512];
    if (!path) {
        const char *dir = getenv("TMPDIR");
        snprintf(def, sizeof def, "%s/aria-bench-2b4t.gguf", dir && *dir ? dir : "/tmp");
        path = def;
        struct stat stt;
        if (stat(path, &stt) != 0) {
            fprintf(stderr, "writing synthetic 2B-4T model to %s ...\n", path);
            if (write_model(path) != 0) {
                fprintf(stderr, "cannot write %s\n", path);
                return 1;
            }
        }
    }
    char err[256];
    CHECKED(aria_model_load_ex(path, q8_head ? ARIA_HEAD_Q8_0 : ARIA_HEAD_AS_IS, &model, err,
                               sizeof err));
    uint64_t mapped = 0, alloc = 0;
    aria_model_memory(model, &mapped, &alloc);
    /* Bytes one decode step must read: every BitLinear weight + the output head (tied F16
       embedding here) -- the roofline's denominator. */
    const double w_bytes = NL * (double)(E * (double)E * 2 + 2.0 * E * KV_DIM + 3.0 * E * F) / 256 * 66;
    const double head_bytes = (double)VOCAB * E * (q8_head ? 34.0 / 32.0 : 2.0);
    printf("model %s: mapped %.0f MB; per-token weight bytes %.0f MB (+ head %.0f MB)\n", path,
           mapped / 1e6, w_bytes / 1e6, head_bytes / 1e6);
    printf("cpu features 0x%x\n", aria_cpu_features());
    /* Warm the page cache / mapping. */
    {
        aria_pool *p;
        CHECKED(aria_pool_create(max_threads, &p));
        double lo;
        decode(p, 1, &lo);
        aria_pool_free(p);
    }
    if (strchr(modes, 'w')) {
        double bw1 = bandwidth(1), bw2 = bandwidth(2);
        printf("read bandwidth: 1 thread %.1f GB/s, 2 threads %.1f GB/s\n", bw1, bw2);
        printf("roofline decode (weights + %s head): %.1f tok/s at %.1f GB/s, %.1f tok/s at 33 GB/s\n",
               q8_head ? "Q8_0" : "F16", bw2 * 1e9 / (w_bytes + head_bytes), bw2,
               33e9 / (w_bytes + head_bytes));
    }

    double *v = malloc((size_t)runs * sizeof *v), *v2 = malloc((size_t)runs * sizeof *v2);
    for (int nth = min_threads; nth <= max_threads; nth++) {
        aria_pool *p;
        CHECKED(aria_pool_create(nth, &p));
        char label[96];
        if (strchr(modes, 'd')) {
            for (int r = 0; r < runs; r++) v[r] = decode(p, 1, &v2[r]);
            snprintf(label, sizeof label, "decode 1 seq, %d thread(s)", nth);
            report(label, v, runs, "tok/s");
            snprintf(label, sizeof label, "  layers only (no head)");
            report(label, v2, runs, "tok/s");
        }
        if (strchr(modes, 'p')) {
            for (int r = 0; r < runs; r++) v[r] = prefill(p, 128);
            snprintf(label, sizeof label, "prefill 128-token chunk, %d thread(s)", nth);
            report(label, v, runs, "tok/s");
        }
        if (strchr(modes, 'b')) {
            for (int r = 0; r < runs; r++) v[r] = decode(p, 4, &v2[r]);
            snprintf(label, sizeof label, "decode batch of 4 seqs, %d thread(s), total", nth);
            report(label, v, runs, "tok/s");
            snprintf(label, sizeof label, "  layers only (no head)");
            report(label, v2, runs, "tok/s");
        }
        aria_pool_free(p);
    }
    free(v), free(v2);
    aria_model_free(model);
    return 0;
}
