// Edits of a mono clip that keep it a clip: cutting the silence around a word, and the random changes
// that make a speech model meet more voices than it was recorded with — speed (tempo and pitch
// together, as Kaldi's speed perturbation), background noise at a chosen signal-to-noise ratio, and
// a shift in time.
import Foundation
import Tensor

public enum AudioEdits {
    /// The samples between the first and last frame within `topDB` of the loudest frame (frames of
    /// `frame` samples every `hop`), as librosa.effects.trim. A clip that is silent throughout stays whole.
    public static func trimmed(_ x: [Float], topDB: Double, frame: Int, hop: Int) -> [Float] {
        guard x.count > frame, frame > 0, hop > 0 else { return x }
        var power: [Double] = []
        var start = 0
        while start + frame <= x.count {
            var s = 0.0
            for i in start..<(start + frame) { s += Double(x[i]) * Double(x[i]) }
            power.append(s / Double(frame))
            start += hop
        }
        guard let peak = power.max(), peak > 0 else { return x }
        let floor = peak * pow(10, -topDB / 10)
        guard let first = power.firstIndex(where: { $0 > floor }), let last = power.lastIndex(where: { $0 > floor })
        else { return x }
        return Array(x[(first * hop)..<min(x.count, last * hop + frame)])
    }

    /// The clip played `factor` times faster (shorter and higher for factor > 1), by resampling. The
    /// factor is rounded to hundredths: the resampler's table then has at most 100 phases (8000 Hz to
    /// 8000/1.07 Hz would need 4096 and take 10 ms to tabulate, for every copy).
    public static func speeded(_ x: [Float], factor: Double) throws -> [Float] {
        let hundredths = max(1, Int((factor * 100).rounded()))
        return try Resampler.resample(x, from: hundredths, to: 100)
    }

    /// The clip with white noise added at `snrDB` below its own power.
    public static func withNoise(_ x: [Float], snrDB: Double, rng: inout SeededRandom) -> [Float] {
        guard !x.isEmpty else { return x }
        let power = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)
        let sigma = Float((power / pow(10, snrDB / 10)).squareRoot())
        return x.map { $0 + sigma * rng.nextNormal() }
    }

    /// The clip with `before` and `after` samples of silence around it.
    public static func padded(_ x: [Float], before: Int, after: Int) -> [Float] {
        [Float](repeating: 0, count: before) + x + [Float](repeating: 0, count: after)
    }
}
