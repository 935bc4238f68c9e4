// Optional AVX-512 GEMM micro-kernel, chosen at run time when the CPU supports it.
// Swift has no per-function target attribute, so the wider kernel lives in C where
// __attribute__((target)) keeps AVX-512 code out of everything else (the binary still runs on AVX2 CPUs).
#ifndef DLPIPE_CKERNELS_H
#define DLPIPE_CKERNELS_H

/// 1 when the CPU and OS support AVX-512F (zmm state enabled in XCR0) and the CPU runs 512-bit FMAs at full
/// width (not AMD Zen 4, which splits them in two halves), else 0.
int dlp_cpu_prefers_avx512(void);

/// C[0..mr, 0..nr] (+)= A(kc×12 panel) · B(kc×32 panel); a and b are 64-byte aligned packed panels.
/// overwrite != 0 stores the product instead of adding it to C.
void dlp_sgemm_kernel_12x32(long kc, const float *a, const float *b, float *c, long ldc, long mr, long nr,
                            int overwrite);

/// Runs `iterations` rounds of independent register-only FMA chains (AVX-512 where the GEMM uses it, else
/// AVX2) and returns the floating-point operations done; *sink receives a result so nothing is elided.
double dlp_fma_peak_flops(long iterations, float *sink);

/// A parallel-region body: called once per index.
typedef void (*dlp_job_fn)(void *ctx, long index);

/// Runs fn(ctx, i) for i in 0..<count on up to `threads` threads (the caller included), returning when all
/// are done. Workers spin ~200 µs between jobs before sleeping. Nested calls run serially.
void dlp_pool_run(long count, long threads, dlp_job_fn fn, void *ctx);

/// Calls between begin and end (they nest) on this thread run their regions serially.
void dlp_serial_begin(void);
void dlp_serial_end(void);
/// 1 when regions started on this thread run serially (inside dlp_serial_begin/end or inside a job).
int dlp_serial_active(void);

/// One Adam/AdamW step over n parameters: g' = g + l2·w, m = b1·m + (1−b1)·g', v = b2·v + (1−b2)·g'²,
/// w = w·decay − step_size·m / (√v·inv_bc2_sqrt + eps). The arrays must not overlap.
void dlp_adam_update(long n, float *w, const float *g, float *m, float *v, float b1, float b2, float l2,
                     float decay, float step_size, float inv_bc2_sqrt, float eps);

/// Rows of C (+)= rows of A · one packed B panel (k×32, as PackedB lays it out), the rows addressed by
/// pointer: row i reads a[i] + aoff (k floats) and writes c[i] + coff (nr ≤ 32 columns), i < mr ≤ 8.
/// mode 0 stores the product, 1 adds it to C, 2 adds it to init[i] + coff and stores that in C.
/// AVX-512 only: call it when dlp_cpu_prefers_avx512() is 1.
void dlp_sgemm_rows_8x32(long k, const float *const *a, long aoff, const float *b, float *const *c, long coff,
                         const float *const *init, long mr, long nr, int mode);

/// C[0..mr, 0..nr] (+)= Σ_p a[p·lda + i] · b[p·ldb + j], i < mr ≤ 12, j < nr ≤ 32: the product Aᵀ·B of two
/// matrices stored with k as their rows, read in place (no packing) — a weight gradient Σ_t dA_tᵀ·x_t.
/// accumulate != 0 adds to C. AVX-512 only: call it when dlp_cpu_prefers_avx512() is 1.
void dlp_sgemm_tn_12x32(long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc, long mr, long nr,
                        int accumulate);

/// One sequence's LSTM cell at one step: g holds the pre-activations i, f, g, o (4h floats) and is
/// overwritten with the activated gates; c' = f·c + i·g, h' = o·tanh(c').
void dlp_lstm_cell_forward(float *g, const float *c, float *c_next, float *h_next, long h);

/// The same cell backwards: from dh and dc (in: from the next step; out: to the previous one) and the
/// kept gates, the pre-activation gradients da (4h floats).
void dlp_lstm_cell_backward(const float *g, const float *c_prev, const float *c_cur, const float *dh, float *dc,
                            float *da, long h);

#endif
