// The FMA ceiling of one core: independent chains of fused multiply-adds on registers only (no memory
// traffic), enough of them in flight to cover the FMA latency on every FMA port. `dlpipe bench peak`
// runs it on 1…N threads, so other benchmarks can be read as a fraction of what the cores can do.
#include "ckernels.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define CHAINS 24

__attribute__((target("avx512f")))
static float peak_avx512(long iterations) {
    __m512 acc[CHAINS];
    const __m512 scale = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < iterations; k++) {
#pragma GCC unroll 24
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], scale, add);
    }
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += _mm512_reduce_add_ps(acc[i]);
    return s;
}

__attribute__((target("avx2,fma")))
static float peak_avx2(long iterations) {
    // 12 chains: AVX2 machines have 16 ymm registers.
    __m256 acc[12];
    const __m256 scale = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < iterations; k++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], scale, add);
    }
    float s = 0, lanes[8];
    for (int i = 0; i < 12; i++) { _mm256_storeu_ps(lanes, acc[i]); for (int j = 0; j < 8; j++) s += lanes[j]; }
    return s;
}

double dlp_fma_peak_flops(long iterations, float *sink) {
    if (dlp_cpu_prefers_avx512()) { *sink = peak_avx512(iterations); return 2.0 * 16 * CHAINS * (double)iterations; }
    *sink = peak_avx2(iterations);
    return 2.0 * 8 * 12 * (double)iterations;
}
#else
double dlp_fma_peak_flops(long iterations, float *sink) { (void)iterations; *sink = 0; return 0; }
#endif
