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
            for i in 0..<t {
                let v = Double(x.data[i * f + j])
                mean += v
                square += v * v
            }
            mean /= Double(t)
            // A floor on the deviation: a constant feature (silence, a one-frame clip) stays finite.
            let sd = max((square / Double(t) - mean * mean).squareRoot(), 1e-3)
            for i in 0..<t { out.data[i * f + j] = Float((Double(x.data[i * f + j]) - mean) / sd) }
        }
        return out
    }
}
