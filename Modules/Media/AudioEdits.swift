// Edits of a mono clip that keep it a clip: cutting the silence around a word, and the random changes
// that make a speech model meet more voices than it was recorded with — speed (tempo and pitch
// together, as Kaldi's speed perturbation), background noise at a chosen signal-to-noise ratio, and
// a shift in time.
import Foundation
import Tensor

public enum AudioEdits {
    /// The samples between the first and last frame within `topDB` of the loudest frame (frames of
    /// `frame` samples every `hop`), as librosa.effects.trim. With `noiseMarginDB`, a frame must also be
    /// that many dB above the clip's noise floor (its quietest tenth of frames), so steady noise before and
    /// after the word is cut too, whatever its level relative to the word. A clip that is silent
    /// throughout stays whole.
    public static func trimmed(_ x: [Float], topDB: Double, frame: Int, hop: Int, noiseMarginDB: Double? = nil)
        -> [Float]
    {
        guard let range = soundRange(x, topDB: topDB, frame: frame, hop: hop, noiseMarginDB: noiseMarginDB) else {
            return x
        }
        return Array(x[range])
    }

    /// Mean power of each frame of `frame` samples every `hop`.
    static func framePowers(_ x: [Float], frame: Int, hop: Int) -> [Double] {
        var power: [Double] = []
        var start = 0
        while start + frame <= x.count {
            var s = 0.0
            for i in start..<(start + frame) { s += Double(x[i]) * Double(x[i]) }
            power.append(s / Double(frame))
            start += hop
        }
        return power
    }

    /// The frame power below which a frame is silence or noise.
    static func silenceThreshold(_ power: [Double], topDB: Double, noiseMarginDB: Double?) -> Double? {
        guard let peak = power.max(), peak > 0 else { return nil }
        var floor = peak * pow(10, -topDB / 10)
        if let margin = noiseMarginDB {
            let noise = power.sorted()[power.count / 10]
            // Never above the loudest frame: a clip of steady sound throughout keeps its loudest part.
            floor = Swift.max(floor, Swift.min(noise * pow(10, margin / 10), peak * 0.999))
        }
        return floor
    }

    /// The samples from the first to the last frame above the silence threshold; nil when there is no sound.
    static func soundRange(_ x: [Float], topDB: Double, frame: Int, hop: Int, noiseMarginDB: Double?) -> Range<Int>? {
        guard x.count > frame, frame > 0, hop > 0 else { return nil }
        let power = framePowers(x, frame: frame, hop: hop)
        guard let floor = silenceThreshold(power, topDB: topDB, noiseMarginDB: noiseMarginDB),
            let first = power.firstIndex(where: { $0 > floor }), let last = power.lastIndex(where: { $0 > floor })
        else { return nil }
        return (first * hop)..<Swift.min(x.count, last * hop + frame)
    }

    /// The clip scaled so that its active level — the RMS of its frames within `topDB` of the loudest and
    /// 6 dB above its noise floor, so pauses, padding and steady noise do not count — is `targetDB` dBFS, as
    /// a speech level meter measures (ITU-T P.56 in spirit); the gain is lowered if the peak would pass 0.99.
    /// A silent clip is returned as it is.
    public static func loudnessNormalized(_ x: [Float], targetDB: Double, topDB: Double, frame: Int, hop: Int)
        -> [Float]
    {
        let power =
            x.count > frame
            ? framePowers(x, frame: frame, hop: hop)
            : [x.reduce(0.0) { $0 + Double($1 * $1) } / Double(max(x.count, 1))]
        guard let floor = silenceThreshold(power, topDB: topDB, noiseMarginDB: 6) else { return x }
        let active = power.filter { $0 >= floor }
        let level = active.reduce(0, +) / Double(active.count)
        var gain = pow(10, targetDB / 20) / level.squareRoot()
        let peak = Double(x.reduce(Float(0)) { Swift.max($0, abs($1)) })
        if peak * gain > 0.99 { gain = 0.99 / peak }
        let g = Float(gain)
        return x.map { $0 * g }
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

extension AudioEdits {
    /// The clip at `factor` times its pitch and its own tempo: played `factor` times faster (pitch and
    /// formants up), then stretched back to its length by WSOLA, which keeps the pitch. Where speed
    /// perturbation moves a voice's pitch and speaking rate together, this moves the pitch alone.
    public static func pitchShifted(_ x: [Float], factor: Double, sampleRate: Int) throws -> [Float] {
        guard factor != 1, !x.isEmpty else { return x }
        let faster = try speeded(x, factor: factor)
        return timeStretched(faster, by: Double(x.count) / Double(max(faster.count, 1)), sampleRate: sampleRate)
    }

    /// The clip `by` times longer at the same pitch (waveform-similarity overlap-add): 32 ms Hann frames laid
    /// every 16 ms, each read from near its nominal place where it best continues the frame before it.
    public static func timeStretched(_ x: [Float], by stretch: Double, sampleRate: Int) -> [Float] {
        let n = max(16, sampleRate * 32 / 1000), hs = n / 2, tolerance = n / 4
        let outCount = Int((Double(x.count) * stretch).rounded())
        guard stretch > 0, x.count > n, outCount > n else { return x }
        let window = (0..<n).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n))) }
        var out = [Float](repeating: 0, count: outCount + n), norm = [Float](repeating: 0, count: outCount + n)
        let ha = Double(hs) / stretch, last = x.count - n
        var previous = 0
        var k = 0
        while k * hs < outCount {
            let nominal = min(last, Int((Double(k) * ha).rounded()))
            var start = nominal
            if k > 0 {
                // The natural continuation of the previous frame, and the offset that resembles it most.
                let natural = min(last, previous + hs)
                var best = -Float.infinity
                for d in -tolerance...tolerance {
                    let p = nominal + d
                    guard p >= 0 && p <= last else { continue }
                    var c: Float = 0
                    for i in stride(from: 0, to: n, by: 2) { c += x[p + i] * x[natural + i] }
                    if c > best {
                        best = c
                        start = p
                    }
                }
            }
            for i in 0..<n {
                out[k * hs + i] += window[i] * x[start + i]
                norm[k * hs + i] += window[i]
            }
            previous = start
            k += 1
        }
        return (0..<outCount).map { norm[$0] > 1e-3 ? out[$0] / norm[$0] : out[$0] }
    }
}
