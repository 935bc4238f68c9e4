// How a feature sequence is prepared before a sequence model sees it — the same way in training and in
// classification, because the model file records it. Per-clip normalisation gives every feature zero
// mean and unit variance over the clip's frames: it removes the loudness and the channel (microphone,
// room) a speaker was recorded with, which a model would otherwise learn as part of the word.
import Foundation
import Tensor

enum FeatureNormalization: String, CaseIterable {
    case clip, none

    /// The key in the model file's preprocessing.
    static let key = "normalize"

    func apply(_ x: Tensor) -> Tensor {
        guard self == .clip else { return x }
        let t = x.shape[0], f = x.shape[1]
        let out = Tensor(uninitialized: x.shape)
        for j in 0..<f {
            var mean = 0.0, square = 0.0
            for i in 0..<t { let v = Double(x.data[i * f + j]); mean += v; square += v * v }
            mean /= Double(t)
            // A floor on the deviation: a constant feature (silence, a one-frame clip) stays finite.
            let sd = max((square / Double(t) - mean * mean).squareRoot(), 1e-3)
            for i in 0..<t { out.data[i * f + j] = Float((Double(x.data[i * f + j]) - mean) / sd) }
        }
        return out
    }
}

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
