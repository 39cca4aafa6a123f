/* Thread pool: see pool.h. */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* Waiting, in three phases: SPIN_ITERS pause instructions (a few microseconds: the usual gap
   between two ops of a forward pass), then up to YIELD_ITERS sched_yield() calls (on a machine
   busier than it has cores, the thread we wait for may need this very core), then sleep on a
   condition variable (the gap between two tokens, or an idle pool). */
#define SPIN_ITERS 2048
#define YIELD_ITERS 256

#define JOB_OPEN 0x80000000u

struct aria_pool {
    int32_t n_threads;
    pthread_t *threads; /* [n_threads - 1] workers; thread ith runs as worker ith (1-based) */
    bool cond_ok;       /* mutex and condition variables initialised */

    /* Current job; written by the caller before gen is bumped (release), read after (acquire). */
    aria_task_fn fn;
    void *ctx;

    _Atomic uint64_t gen;       /* job generation; workers look for a job when it changes */
    /* JOB_OPEN while workers may still join the current job, plus the number of workers
       inside it. The caller closes the job when its own call returns -- by then every work
       item has been claimed (tasks take items until none are left) -- and waits only for
       the workers that joined. A worker the OS has not scheduled yet simply skips the job, so
       a busy machine never makes the caller wait for a thread that has nothing to do. */
    _Atomic uint32_t state;
    _Atomic int32_t n_sleeping; /* workers blocked on cv_work */
    _Atomic bool caller_waits;  /* the caller is blocked on cv_done */
    _Atomic bool stop;

    pthread_mutex_t mu;
    pthread_cond_t cv_work; /* gen changed or stop */
    pthread_cond_t cv_done; /* the workers inside a closed job have all left */
};

typedef struct {
    aria_pool *pool;
    int32_t ith;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg *a = p;
    aria_pool *pool = a->pool;
    const int32_t ith = a->ith;
    free(a);
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->gen, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&pool->stop, memory_order_acquire)) {
            if (++spins < SPIN_ITERS) {
                cpu_relax();
                continue;
            }
            if (spins < SPIN_ITERS + YIELD_ITERS) {
                sched_yield();
                continue;
            }
            /* Sleep. n_sleeping is raised before gen is re-checked under the mutex, and the
               caller bumps gen before reading n_sleeping (both seq_cst): either we see the new
               gen here or the caller sees us sleeping and broadcasts under the same mutex. */
            pthread_mutex_lock(&pool->mu);
            atomic_fetch_add(&pool->n_sleeping, 1);
            while (atomic_load(&pool->gen) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->cv_work, &pool->mu);
            atomic_fetch_sub(&pool->n_sleeping, 1);
            pthread_mutex_unlock(&pool->mu);
            spins = 0;
        }
        if (atomic_load_explicit(&pool->stop, memory_order_acquire)) break;
        seen = g;
        uint32_t st = atomic_load_explicit(&pool->state, memory_order_relaxed);
        while ((st & JOB_OPEN) &&
               !atomic_compare_exchange_weak_explicit(&pool->state, &st, st + 1,
                                                      memory_order_acquire, memory_order_relaxed)) {
        }
        if (!(st & JOB_OPEN)) continue; /* closed before we got here: nothing left to do */
        /* Joined: fn/ctx belong to the open job and stay put until we leave it. */
        pool->fn(pool->ctx, ith, pool->n_threads);
        /* Leaving: seq_cst, with the caller's seq_cst store of caller_waits and load of state
           (Dekker: one of the two sees the other). acq_rel here left that to the hardware; under
           qemu-user on an x86 host an aarch64 build lost this wakeup and hung. */
        if (atomic_fetch_sub(&pool->state, 1) == 1 && atomic_load(&pool->caller_waits)) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->cv_done);
            pthread_mutex_unlock(&pool->mu);
        }
    }
    return NULL;
}

int32_t aria_pool_nth(const aria_pool *pool) { return pool ? pool->n_threads : 1; }

int32_t aria_pool_threads(const aria_pool *pool) {
    return pool ? pool->n_threads : ARIA_E_INVALID_ARG;
}

void aria_pool_run(aria_pool *pool, aria_task_fn fn, void *ctx) {
    if (!pool || pool->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->state, JOB_OPEN, memory_order_release); /* publishes fn/ctx */
    atomic_fetch_add(&pool->gen, 1); /* seq_cst: orders the n_sleeping read below */
    if (atomic_load(&pool->n_sleeping) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->cv_work);
        pthread_mutex_unlock(&pool->mu);
    }
    fn(ctx, 0, pool->n_threads);
    /* Close the job, then wait for the workers inside it. */
    atomic_fetch_and_explicit(&pool->state, ~JOB_OPEN, memory_order_acq_rel);
    int spins = 0;
    while (atomic_load_explicit(&pool->state, memory_order_acquire) != 0) {
        if (++spins < SPIN_ITERS) {
            cpu_relax();
            continue;
        }
        if (spins < SPIN_ITERS + YIELD_ITERS) {
            sched_yield();
            continue;
        }
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->caller_waits, true);
        atomic_thread_fence(memory_order_seq_cst); /* store before the load below, on any ISA */
        while (atomic_load(&pool->state) != 0) pthread_cond_wait(&pool->cv_done, &pool->mu);
        atomic_store(&pool->caller_waits, false);
        pthread_mutex_unlock(&pool->mu);
    }
}

static void pool_stop(aria_pool *pool, int32_t n_started) {
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->stop, true);
    pthread_cond_broadcast(&pool->cv_work);
    pthread_mutex_unlock(&pool->mu);
    for (int32_t i = 0; i < n_started; i++) pthread_join(pool->threads[i], NULL);
}

int aria_pool_create(int32_t n_threads, aria_pool **out) {
    if (out) *out = NULL;
    if (!out || n_threads < 1 || n_threads > ARIA_MAX_THREADS) return ARIA_E_INVALID_ARG;
    aria_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return ARIA_E_NOMEM;
    pool->n_threads = n_threads;
    atomic_init(&pool->gen, 0);
    atomic_init(&pool->state, 0);
    atomic_init(&pool->n_sleeping, 0);
    atomic_init(&pool->caller_waits, false);
    atomic_init(&pool->stop, false);
    if (n_threads == 1) {
        *out = pool;
        return ARIA_OK;
    }
    pool->threads = calloc((size_t)n_threads - 1, sizeof *pool->threads);
    if (!pool->threads) {
        free(pool);
        return ARIA_E_NOMEM;
    }
    if (pthread_mutex_init(&pool->mu, NULL) != 0) goto fail_mu;
    if (pthread_cond_init(&pool->cv_work, NULL) != 0) goto fail_cv_work;
    if (pthread_cond_init(&pool->cv_done, NULL) != 0) goto fail_cv_done;
    pool->cond_ok = true;
    for (int32_t i = 0; i < n_threads - 1; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) {
            a->pool = pool;
            a->ith = i + 1;
        }
        if (!a || pthread_create(&pool->threads[i], NULL, worker_main, a) != 0) {
            free(a);
            pool_stop(pool, i);
            pool->n_threads = 1; /* nothing left to join in aria_pool_free */
            aria_pool_free(pool);
            return ARIA_E_NOMEM;
        }
    }
    *out = pool;
    return ARIA_OK;
fail_cv_done:
    pthread_cond_destroy(&pool->cv_work);
fail_cv_work:
    pthread_mutex_destroy(&pool->mu);
fail_mu:
    free(pool->threads);
    free(pool);
    return ARIA_E_NOMEM;
}

void aria_pool_free(aria_pool *pool) {
    if (!pool) return;
    if (pool->n_threads > 1) pool_stop(pool, pool->n_threads - 1);
    if (pool->cond_ok) {
        pthread_cond_destroy(&pool->cv_done);
        pthread_cond_destroy(&pool->cv_work);
        pthread_mutex_destroy(&pool->mu);
    }
    free(pool->threads);
    free(pool);
}
