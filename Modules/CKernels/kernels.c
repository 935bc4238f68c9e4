#include "ckernels.h"
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int dlp_cpu_has_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27))) return 0;                 // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6) != 0xE6) return 0;                // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM enabled
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 16)) ? 1 : 0;                  // AVX512F
}

__attribute__((target("avx512f")))
void dlp_sgemm_kernel_12x32(long kc, const float *a, const float *b, float *c, long ldc, long mr, long nr) {
    __m512 acc[12][2];
    for (int i = 0; i < 12; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        for (int i = 0; i < 12; i++) {
            __m512 x = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
        }
        a += 12; b += 32;
    }
    if (mr == 12 && nr == 32) {
        for (int i = 0; i < 12; i++) {
            float *row = c + i * ldc;
            _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[i][0]));
            _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[i][1]));
        }
    } else {
        for (long i = 0; i < mr; i++) {
            float *row = c + i * ldc;
            __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : ((1u << nr) - 1));
            __mmask16 m1 = (__mmask16)(nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : ((1u << (nr - 16)) - 1));
            _mm512_mask_storeu_ps(row, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), acc[i][0]));
            _mm512_mask_storeu_ps(row + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), acc[i][1]));
        }
    }
}
#else
int dlp_cpu_has_avx512(void) { return 0; }
void dlp_sgemm_kernel_12x32(long kc, const float *a, const float *b, float *c, long ldc, long mr, long nr) {
    (void)kc; (void)a; (void)b; (void)c; (void)ldc; (void)mr; (void)nr;
}
#endif
