// The Adam/AdamW update in C: Swift's Float.squareRoot() keeps libm's errno check, so a SIMD8 square
// root became eight scalar vsqrtss with a branch each, and the update took 10 % of a training step.
// Built with -fno-math-errno, this loop vectorises to vsqrtps/vdivps. The arithmetic is the same as
// the Swift version's, operation for operation (no FMA contraction).
#include "ckernels.h"

#pragma clang fp contract(off)
void dlp_adam_update(long n, float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                     float b1, float b2, float l2, float decay, float step_size, float inv_bc2_sqrt, float eps) {
    for (long i = 0; i < n; i++) {
        float gi = g[i] + l2 * w[i];
        float mi = b1 * m[i] + (1 - b1) * gi;
        float vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - step_size * mi / (__builtin_sqrtf(vi) * inv_bc2_sqrt + eps);
    }
}
