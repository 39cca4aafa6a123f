/*
 * stream.c - this machine's memory read bandwidth, the ceiling of token generation (every decode
 * step streams all weights once).
 *
 *   cc -O2 -march=native -pthread -o stream stream.c && ./stream MIB PASSES MAX_THREADS
 *   -> one JSON object: {"buffer_mib": .., "passes": .., "gb_s": {"1": .., "2": ..}}
 *
 * Each of n threads sums its contiguous slice of one buffer (far larger than the caches) with
 * 8 independent 64-bit accumulators, which the compiler vectorizes; the pass time is from a
 * barrier before the first read to the last thread's finish. GB/s = bytes / best pass (10^9).
 * The buffer is written once first so every page is really backed by memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    const uint64_t *data; /* [n] this thread's slice */
    size_t n;
    pthread_barrier_t *start;
    uint64_t sum;         /* kept so the reads cannot be optimized away */
    double done;          /* finish time, seconds */
} worker;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *run(void *arg) {
    worker *w = arg;
    uint64_t acc[8] = {0};
    pthread_barrier_wait(w->start);
    size_t i = 0;
    for (; i + 8 <= w->n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += w->data[i + k];
    for (; i < w->n; i++) acc[0] += w->data[i];
    w->done = now();
    uint64_t s = 0;
    for (int k = 0; k < 8; k++) s += acc[k];
    w->sum = s;
    return NULL;
}

/* Best pass time in seconds for n_threads threads over buf [n]. */
static double best_pass(const uint64_t *buf, size_t n, int n_threads, int passes, uint64_t *check) {
    double best = 1e30;
    for (int p = 0; p < passes; p++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)n_threads + 1);
        worker w[64];
        pthread_t th[64];
        size_t per = n / (size_t)n_threads;
        for (int t = 0; t < n_threads; t++) {
            w[t] = (worker){buf + (size_t)t * per, t == n_threads - 1 ? n - (size_t)t * per : per, &start, 0, 0};
            pthread_create(&th[t], NULL, run, &w[t]);
        }
        double t0 = now();
        pthread_barrier_wait(&start);
        double end = 0;
        for (int t = 0; t < n_threads; t++) {
            pthread_join(th[t], NULL);
            if (w[t].done > end) end = w[t].done;
            *check += w[t].sum;
        }
        pthread_barrier_destroy(&start);
        if (end - t0 < best) best = end - t0;
    }
    return best;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 1024;
    int passes = argc > 2 ? atoi(argv[2]) : 10;
    int max_threads = argc > 3 ? atoi(argv[3]) : 2;
    if (mib < 1 || passes < 1 || max_threads < 1 || max_threads > 64) {
        fprintf(stderr, "usage: stream MIB PASSES MAX_THREADS (1..64)\n");
        return 2;
    }
    size_t n = mib * (1u << 20) / sizeof(uint64_t);
    uint64_t *buf = malloc(n * sizeof(uint64_t));
    if (!buf) {
        fprintf(stderr, "stream: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < n; i++) buf[i] = i * 0x9e3779b97f4a7c15ull;
    uint64_t check = 0;
    printf("{\"buffer_mib\": %zu, \"passes\": %d, \"gb_s\": {", mib, passes);
    for (int t = 1; t <= max_threads; t++) {
        double s = best_pass(buf, n, t, passes, &check);
        printf("%s\"%d\": %.3f", t > 1 ? ", " : "", t, (double)(n * sizeof(uint64_t)) / s / 1e9);
    }
    printf("}, \"checksum\": %llu}\n", (unsigned long long)(check & 0xffff));
    free(buf);
    return 0;
}
