// Masking augmentation for feature sequences in training (the batches' augment closure).
import Tensor

/// SpecAugment's masks (Park et al., 2019): a few random stretches of frames and bands of features set
/// to zero — the mean after normalisation — so the model cannot lean on any one part of a clip.
struct SpecAugment {
    var timeMasks = 0, timeWidth = 0, featureMasks = 0, featureWidth = 0
    var isActive: Bool { (timeMasks > 0 && timeWidth > 0) || (featureMasks > 0 && featureWidth > 0) }

    func apply(_ x: Tensor, _ rng: inout SeededRandom) -> Tensor {
        let t = x.shape[0], f = x.shape[1]
        let out = Tensor(uninitialized: x.shape)
        out.data.update(from: x.data, count: x.count)
        for _ in 0..<timeMasks {
            // At most a fifth of a short clip, so a word is never masked away.
            let w = rng.nextInt(min(timeWidth, max(1, t / 5)) + 1), s = rng.nextInt(max(1, t - w + 1))
            for i in s..<min(t, s + w) { (out.data + i * f).update(repeating: 0, count: f) }
        }
        for _ in 0..<featureMasks {
            let w = rng.nextInt(min(featureWidth, f) + 1), s = rng.nextInt(max(1, f - w + 1))
            for i in 0..<t { for j in s..<min(f, s + w) { out.data[i * f + j] = 0 } }
        }
        return out
    }
}
