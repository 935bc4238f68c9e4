// A recurrent layer's per-step work in C, where FMA contraction and the AVX-512 target attribute are
// available (Swift has neither per function): the small product h·W_hh over rows addressed by pointer (the
// rows of one step are strided, and BPTT skips finished sequences), and the LSTM cell's fused passes.
#include "ckernels.h"
#include <math.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>

#define RROW(i) const float *a##i = (i < mr) ? a[i] + aoff : a[0] + aoff; \
    __m512 c##i##a, c##i##b; \
    if (mode == 0 || i >= mr) { c##i##a = _mm512_setzero_ps(); c##i##b = _mm512_setzero_ps(); } \
    else { const float *s = (mode == 2 ? init[i] : c[i]) + coff; \
           c##i##a = _mm512_maskz_loadu_ps(m0, s); c##i##b = _mm512_maskz_loadu_ps(m1, s + 16); }
#define RFMA(i) { __m512 x = _mm512_set1_ps(a##i[p]); \
    c##i##a = _mm512_fmadd_ps(x, b0, c##i##a); c##i##b = _mm512_fmadd_ps(x, b1, c##i##b); }
#define ROUT(i) if (i < mr) { _mm512_mask_storeu_ps(c[i] + coff, m0, c##i##a); _mm512_mask_storeu_ps(c[i] + coff + 16, m1, c##i##b); }

__attribute__((target("avx512f")))
void dlp_sgemm_rows_8x32(long k, const float *const *a, long aoff, const float *b, float *const *c, long coff,
                         const float *const *init, long mr, long nr, int mode) {
    __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : ((1u << nr) - 1));
    __mmask16 m1 = (__mmask16)(nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : ((1u << (nr - 16)) - 1));
    RROW(0) RROW(1) RROW(2) RROW(3) RROW(4) RROW(5) RROW(6) RROW(7)
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        RFMA(0) RFMA(1) RFMA(2) RFMA(3) RFMA(4) RFMA(5) RFMA(6) RFMA(7)
        b += 32;
    }
    ROUT(0) ROUT(1) ROUT(2) ROUT(3) ROUT(4) ROUT(5) ROUT(6) ROUT(7)
}

#define TROW(i) __m512 c##i##a, c##i##b; \
    if (accumulate && i < mr) { c##i##a = _mm512_maskz_loadu_ps(m0, c + i * ldc); c##i##b = _mm512_maskz_loadu_ps(m1, c + i * ldc + 16); } \
    else { c##i##a = _mm512_setzero_ps(); c##i##b = _mm512_setzero_ps(); }
#define TFMA(i) { __m512 x = _mm512_set1_ps(a[i < mr ? i : 0]); \
    c##i##a = _mm512_fmadd_ps(x, b0, c##i##a); c##i##b = _mm512_fmadd_ps(x, b1, c##i##b); }
#define TOUT(i) if (i < mr) { _mm512_mask_storeu_ps(c + i * ldc, m0, c##i##a); _mm512_mask_storeu_ps(c + i * ldc + 16, m1, c##i##b); }

__attribute__((target("avx512f")))
void dlp_sgemm_tn_12x32(long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc, long mr, long nr,
                        int accumulate) {
    __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : ((1u << nr) - 1));
    __mmask16 m1 = (__mmask16)(nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : ((1u << (nr - 16)) - 1));
    TROW(0) TROW(1) TROW(2) TROW(3) TROW(4) TROW(5) TROW(6) TROW(7) TROW(8) TROW(9) TROW(10) TROW(11)
    for (long p = 0; p < k; p++) {
        // The rows are lda/ldb apart (often 1 KB): too far apart for the hardware prefetcher to follow.
        _mm_prefetch((const char *)(a + 8 * lda), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 8 * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + 8 * ldb + 16), _MM_HINT_T0);
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
        TFMA(0) TFMA(1) TFMA(2) TFMA(3) TFMA(4) TFMA(5) TFMA(6) TFMA(7) TFMA(8) TFMA(9) TFMA(10) TFMA(11)
        a += lda; b += ldb;
    }
    TOUT(0) TOUT(1) TOUT(2) TOUT(3) TOUT(4) TOUT(5) TOUT(6) TOUT(7) TOUT(8) TOUT(9) TOUT(10) TOUT(11)
}

// exp on 8 lanes: n = round(x/ln2), r = x − n·ln2 in two parts, a degree-6 polynomial, times 2^n built in
// the exponent bits (the same constants as Kernels/Vector.swift's exp8, so both paths agree to rounding).
static inline __m256 exp_ps(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.98756915e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.39819995e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.33345190e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.16657960e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.66666655e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.00000010e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic)),
                                                      _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}
static inline __m256 sigmoid_ps(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
// tanh(x) = 2σ(2x) − 1.
static inline __m256 tanh_ps(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 s = _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(one, exp_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), x))));
    return _mm256_sub_ps(s, one);
}
#define VEC_UNITS 8

// The same on 16 lanes for AVX-512 CPUs: 2^n by scalef, 1/x by rcp14 and one Newton step (≈ 2^-28 relative,
// below float rounding) — a division is as slow on 16 lanes as on 8.
__attribute__((target("avx512f"))) static inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.98756915e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.39819995e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.33345190e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16657960e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666655e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.00000010e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}
__attribute__((target("avx512f"))) static inline __m512 reciprocal16(__m512 d) {
    __m512 y = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(y, _mm512_fnmadd_ps(d, y, _mm512_set1_ps(2.0f)));
}
__attribute__((target("avx512f"))) static inline __m512 sigmoid16(__m512 x) {
    return reciprocal16(_mm512_add_ps(_mm512_set1_ps(1.0f), exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}
__attribute__((target("avx512f"))) static inline __m512 tanh16(__m512 x) {
    __m512 s = reciprocal16(_mm512_add_ps(_mm512_set1_ps(1.0f), exp16(_mm512_mul_ps(_mm512_set1_ps(-2.0f), x))));
    return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), s, _mm512_set1_ps(1.0f));
}

__attribute__((target("avx512f")))
static long lstm_cell_forward16(float *g, const float *c, float *c_next, float *h_next, long h) {
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        __m512 ig = sigmoid16(_mm512_loadu_ps(g + j)), fg = sigmoid16(_mm512_loadu_ps(g + h + j));
        __m512 gg = tanh16(_mm512_loadu_ps(g + 2 * h + j)), og = sigmoid16(_mm512_loadu_ps(g + 3 * h + j));
        _mm512_storeu_ps(g + j, ig); _mm512_storeu_ps(g + h + j, fg);
        _mm512_storeu_ps(g + 2 * h + j, gg); _mm512_storeu_ps(g + 3 * h + j, og);
        __m512 cn = _mm512_fmadd_ps(fg, _mm512_loadu_ps(c + j), _mm512_mul_ps(ig, gg));
        _mm512_storeu_ps(c_next + j, cn);
        _mm512_storeu_ps(h_next + j, _mm512_mul_ps(og, tanh16(cn)));
    }
    return j;
}

__attribute__((target("avx512f")))
static long lstm_cell_backward16(const float *g, const float *c_prev, const float *c_cur, const float *dh, float *dc,
                                 float *da, long h) {
    const __m512 one = _mm512_set1_ps(1.0f);
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        __m512 ig = _mm512_loadu_ps(g + j), fg = _mm512_loadu_ps(g + h + j);
        __m512 gg = _mm512_loadu_ps(g + 2 * h + j), og = _mm512_loadu_ps(g + 3 * h + j);
        __m512 tc = tanh16(_mm512_loadu_ps(c_cur + j)), dhj = _mm512_loadu_ps(dh + j);
        __m512 dcj = _mm512_fmadd_ps(_mm512_mul_ps(dhj, og), _mm512_fnmadd_ps(tc, tc, one), _mm512_loadu_ps(dc + j));
        _mm512_storeu_ps(da + j, _mm512_mul_ps(_mm512_mul_ps(dcj, gg), _mm512_mul_ps(ig, _mm512_sub_ps(one, ig))));
        _mm512_storeu_ps(da + h + j, _mm512_mul_ps(_mm512_mul_ps(dcj, _mm512_loadu_ps(c_prev + j)),
                                                   _mm512_mul_ps(fg, _mm512_sub_ps(one, fg))));
        _mm512_storeu_ps(da + 2 * h + j, _mm512_mul_ps(_mm512_mul_ps(dcj, ig), _mm512_fnmadd_ps(gg, gg, one)));
        _mm512_storeu_ps(da + 3 * h + j, _mm512_mul_ps(_mm512_mul_ps(dhj, tc), _mm512_mul_ps(og, _mm512_sub_ps(one, og))));
        _mm512_storeu_ps(dc + j, _mm512_mul_ps(dcj, fg));
    }
    return j;
}

// Whether to take the 16-lane paths, as GemmBlocking.useWide decides: the CPU (and DLPIPE_NO_AVX512)
// checked once (a benign race: every thread computes the same).
static int wide_cells(void) {
    static int wide = -1;
    if (wide < 0) wide = getenv("DLPIPE_NO_AVX512") == 0 && dlp_cpu_prefers_avx512();
    return wide;
}
#else
void dlp_sgemm_rows_8x32(long k, const float *const *a, long aoff, const float *b, float *const *c, long coff,
                         const float *const *init, long mr, long nr, int mode) {
    (void)k; (void)a; (void)aoff; (void)b; (void)c; (void)coff; (void)init; (void)mr; (void)nr; (void)mode;
}
void dlp_sgemm_tn_12x32(long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc, long mr, long nr,
                        int accumulate) {
    (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc; (void)mr; (void)nr; (void)accumulate;
}
#define VEC_UNITS 0
#endif

static inline float sigmoidf1(float x) { return 1.0f / (1.0f + expf(-x)); }

void dlp_lstm_cell_forward(float *g, const float *c, float *c_next, float *h_next, long h) {
    long j = 0;
#if VEC_UNITS
    if (wide_cells()) j = lstm_cell_forward16(g, c, c_next, h_next, h);
    for (; j + 8 <= h; j += 8) {
        __m256 ig = sigmoid_ps(_mm256_loadu_ps(g + j)), fg = sigmoid_ps(_mm256_loadu_ps(g + h + j));
        __m256 gg = tanh_ps(_mm256_loadu_ps(g + 2 * h + j)), og = sigmoid_ps(_mm256_loadu_ps(g + 3 * h + j));
        _mm256_storeu_ps(g + j, ig); _mm256_storeu_ps(g + h + j, fg);
        _mm256_storeu_ps(g + 2 * h + j, gg); _mm256_storeu_ps(g + 3 * h + j, og);
        __m256 cn = _mm256_fmadd_ps(fg, _mm256_loadu_ps(c + j), _mm256_mul_ps(ig, gg));
        _mm256_storeu_ps(c_next + j, cn);
        _mm256_storeu_ps(h_next + j, _mm256_mul_ps(og, tanh_ps(cn)));
    }
#endif
    for (; j < h; j++) {
        float ig = sigmoidf1(g[j]), fg = sigmoidf1(g[h + j]), gg = tanhf(g[2 * h + j]), og = sigmoidf1(g[3 * h + j]);
        g[j] = ig; g[h + j] = fg; g[2 * h + j] = gg; g[3 * h + j] = og;
        float cn = fg * c[j] + ig * gg;
        c_next[j] = cn;
        h_next[j] = og * tanhf(cn);
    }
}

void dlp_lstm_cell_backward(const float *g, const float *c_prev, const float *c_cur, const float *dh, float *dc,
                            float *da, long h) {
    long j = 0;
#if VEC_UNITS
    if (wide_cells()) j = lstm_cell_backward16(g, c_prev, c_cur, dh, dc, da, h);
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; j + 8 <= h; j += 8) {
        __m256 ig = _mm256_loadu_ps(g + j), fg = _mm256_loadu_ps(g + h + j);
        __m256 gg = _mm256_loadu_ps(g + 2 * h + j), og = _mm256_loadu_ps(g + 3 * h + j);
        __m256 tc = tanh_ps(_mm256_loadu_ps(c_cur + j)), dhj = _mm256_loadu_ps(dh + j);
        __m256 dcj = _mm256_fmadd_ps(_mm256_mul_ps(dhj, og), _mm256_fnmadd_ps(tc, tc, one), _mm256_loadu_ps(dc + j));
        _mm256_storeu_ps(da + j, _mm256_mul_ps(_mm256_mul_ps(dcj, gg), _mm256_mul_ps(ig, _mm256_sub_ps(one, ig))));
        _mm256_storeu_ps(da + h + j, _mm256_mul_ps(_mm256_mul_ps(dcj, _mm256_loadu_ps(c_prev + j)),
                                                   _mm256_mul_ps(fg, _mm256_sub_ps(one, fg))));
        _mm256_storeu_ps(da + 2 * h + j, _mm256_mul_ps(_mm256_mul_ps(dcj, ig), _mm256_fnmadd_ps(gg, gg, one)));
        _mm256_storeu_ps(da + 3 * h + j, _mm256_mul_ps(_mm256_mul_ps(dhj, tc), _mm256_mul_ps(og, _mm256_sub_ps(one, og))));
        _mm256_storeu_ps(dc + j, _mm256_mul_ps(dcj, fg));
    }
#endif
    for (; j < h; j++) {
        float ig = g[j], fg = g[h + j], gg = g[2 * h + j], og = g[3 * h + j];
        float tc = tanhf(c_cur[j]), dhj = dh[j];
        float dcj = dc[j] + dhj * og * (1 - tc * tc);
        da[j] = dcj * gg * ig * (1 - ig);
        da[h + j] = dcj * c_prev[j] * fg * (1 - fg);
        da[2 * h + j] = dcj * ig * (1 - gg * gg);
        da[3 * h + j] = dhj * tc * og * (1 - og);
        dc[j] = dcj * fg;
    }
}
