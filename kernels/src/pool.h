/* Persistent worker threads with a cheap fork-join dispatch (pthreads, no OpenMP).

   aria_pool_run(pool, fn, ctx) runs fn(ctx, ith, nth) once on each of the nth threads (ith 0 is
   the calling thread) and returns when all have returned. Idle workers spin briefly on a
   generation counter, then sleep on a condition variable, so back-to-back ops of one forward
   pass cost well under a microsecond to dispatch while an idle pool costs no CPU.

   Contract for fn: it must finish all of its work even if it turns out to be the only thread
   that runs (tasks take work items from an aria_counter until none are left): workers that
   are not scheduled in time skip a job instead of being waited for.

   Determinism is the caller's job and is kept by construction: tasks split work by output
   element (each element written by exactly one thread, computed by the same code whatever
   thread runs it), so results never depend on nth or on which thread took which chunk. */
#ifndef ARIA_POOL_H
#define ARIA_POOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "aria.h"

/* Upper bound on n_threads (far above any machine this serves; keeps per-thread scratch
   arrays small and sizes safe). */
#define ARIA_MAX_THREADS 256

typedef void (*aria_task_fn)(void *ctx, int32_t ith, int32_t nth);

/* Runs fn on every thread of pool; pool NULL runs fn(ctx, 0, 1) on the caller. */
void aria_pool_run(aria_pool *pool, aria_task_fn fn, void *ctx);

/* Thread count of pool; 1 for NULL. */
int32_t aria_pool_nth(const aria_pool *pool);

/* Dynamic work split: tasks take chunks [begin, begin + chunk) of [0, n) from a shared counter
   until none are left. Which thread takes which chunk varies run to run; what each chunk
   computes does not. */
typedef struct {
    _Atomic int64_t next;
} aria_counter;

static inline void aria_counter_init(aria_counter *c) { atomic_init(&c->next, 0); }

/* Claims the next chunk of up to `chunk` items below n; false when the work is done. */
static inline int aria_counter_take(aria_counter *c, int64_t n, int64_t chunk, int64_t *begin,
                                    int64_t *end) {
    int64_t b = atomic_fetch_add_explicit(&c->next, chunk, memory_order_relaxed);
    if (b >= n) return 0;
    *begin = b;
    *end = b + chunk < n ? b + chunk : n;
    return 1;
}

#endif
