// A small worker pool for dlpipe's parallel regions. Workers spin briefly (~200 µs) after each job
// before sleeping, so the many short regions of a training step (conv chunks, pooling, GEMM phases)
// start in well under a microsecond instead of waiting for a sleeping thread to be woken.
// An empty region costs about 0.25 µs here against about 7 µs with DispatchQueue.concurrentPerform, so
// two 70 µs halves run nearly twice as fast as one serial pass (docs/benchmarks.md).
// One job runs at a time (run_mu); a region started from inside a job runs serially (no deadlock).
#include "ckernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() do { } while (0)
#endif

#define MAX_WORKERS 255
#define SPIN_NS 200000u

static pthread_mutex_t sleep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;
static long nworkers = 0;
static _Atomic uint64_t generation = 0;
static _Atomic uint64_t next_item = 0;          // (generation << 32) | next index
static _Atomic long remaining = 0;
static _Atomic int sleepers = 0;
static _Atomic(dlp_job_fn) job_fn = 0;
static _Atomic(void *) job_ctx = 0;
static _Atomic long job_count = 0;
static _Thread_local int in_job = 0;
static _Thread_local long serial_depth = 0;

void dlp_serial_begin(void) { serial_depth++; }
void dlp_serial_end(void) { serial_depth--; }
int dlp_serial_active(void) { return in_job || serial_depth > 0; }

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Claims and runs items of job `gen` until none are left. An item is claimed by a compare-and-swap on
// next_item, which also carries the job's generation: a late thread can never run an item of a newer job
// with the fields of an older one (the caller publishes a new job only after every item is done).
static void work(uint64_t gen) {
    dlp_job_fn fn = atomic_load(&job_fn);
    void *ctx = atomic_load(&job_ctx);
    long count = atomic_load(&job_count);
    in_job = 1;
    for (;;) {
        uint64_t v = atomic_load(&next_item);
        if ((v >> 32) != (gen & 0xffffffffu) || (long)(v & 0xffffffffu) >= count) break;
        if (!atomic_compare_exchange_weak(&next_item, &v, v + 1)) continue;
        fn(ctx, (long)(v & 0xffffffffu));
        atomic_fetch_sub(&remaining, 1);
    }
    in_job = 0;
}

static void *worker_main(void *arg) {
    (void)arg;
    uint64_t seen = atomic_load(&generation);
    for (;;) {
        uint64_t g;
        uint64_t start = now_ns();
        unsigned spins = 0;
        while ((g = atomic_load(&generation)) == seen) {
            CPU_RELAX();
            if ((++spins & 255u) == 0 && now_ns() - start > SPIN_NS) {
                pthread_mutex_lock(&sleep_mu);
                atomic_fetch_add(&sleepers, 1);
                while ((g = atomic_load(&generation)) == seen) pthread_cond_wait(&sleep_cv, &sleep_mu);
                atomic_fetch_sub(&sleepers, 1);
                pthread_mutex_unlock(&sleep_mu);
                break;
            }
        }
        seen = g;
        work(g);
    }
    return 0;
}

void dlp_pool_run(long count, long threads, dlp_job_fn fn, void *ctx) {
    if (count <= 0) return;
    if (threads <= 1 || count == 1 || dlp_serial_active()) {
        for (long i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&run_mu);
    long want = threads - 1 < MAX_WORKERS ? threads - 1 : MAX_WORKERS;
    while (nworkers < want) {
        pthread_t t;
        if (pthread_create(&t, 0, worker_main, 0) != 0) break;
        pthread_detach(t);
        nworkers++;
    }
    // next_item moves to the new generation *before* the job's fields change. A late worker of the previous
    // job may read some of the new fields; its next claim then already sees the new generation and stops.
    // (Publishing next_item after the fields let such a worker pair the new job's count with an old claim
    // and run an item of the new job twice: caught by ParallelTests once in a few thousand rounds.)
    uint64_t g = atomic_load(&generation) + 1;
    atomic_store(&next_item, (g & 0xffffffffu) << 32);
    atomic_store(&job_fn, fn);
    atomic_store(&job_ctx, ctx);
    atomic_store(&job_count, count);
    atomic_store(&remaining, count);
    atomic_store(&generation, g);
    if (atomic_load(&sleepers) > 0) {
        // Taking the mutex orders this broadcast after a sleeper's check of `generation`.
        pthread_mutex_lock(&sleep_mu);
        pthread_cond_broadcast(&sleep_cv);
        pthread_mutex_unlock(&sleep_mu);
    }
    work(g);
    while (atomic_load(&remaining) > 0) CPU_RELAX();
    pthread_mutex_unlock(&run_mu);
}
