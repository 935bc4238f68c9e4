// audio.trim (cut the silence around the sound), audio.normalize (one loudness for every clip) and
// audio.augment (extra, randomly changed copies of the training clips: other speeds, background noise,
// shifts), between read.audio and the features. Frames are given in milliseconds, so a clip read at 8 kHz
// and the same clip at 48 kHz are cut and scaled alike.
import Foundation
import Media
import Tensor

/// Which copy of an input an augmented item is (1, 2, …); absent on the input itself. Trainers count
/// an input once, however many copies of it they learn from.
extension PayloadKey where Value == Int {
    public static let augmentedCopy = PayloadKey("augmented_copy")
}

/// The vocal-tract-length perturbation factor a training copy's features are computed with (audio.augment's
/// vtlp_min…vtlp_max); absent means none.
extension PayloadKey where Value == Double {
    public static let vocalTractWarp = PayloadKey("vocal_tract_warp")
}

final class TrimAudio: Stage {
    let topDB: Double, frameSeconds: Double, hopSeconds: Double
    /// dB above the clip's noise floor a frame must reach to count as sound; nil = the peak rule alone.
    let noiseMarginDB: Double?
    init(_ o: StageOptions) {
        topDB = o.float("top_db")
        frameSeconds = o.float("frame") / 1000
        hopSeconds = o.float("hop") / 1000
        noiseMarginDB = o.float("noise_margin_db") > 0 ? o.float("noise_margin_db") : nil
    }
    static let spec = StageSpec(
        name: "audio.trim",
        summary:
            "Cut leading and trailing silence (frames quieter than top_db below the loudest), as librosa.effects.trim",
        consumes: [.audio], produces: .audio,
        options: [
            OptionSpec(
                "top_db", .float(1...120), default: .float(30),
                doc: "frames this many dB below the loudest count as silence"),
            OptionSpec("frame", .float(1...1000), default: .float(25), doc: "frame length in ms"),
            OptionSpec("hop", .float(1...1000), default: .float(10), doc: "frame step in ms"),
            OptionSpec(
                "noise_margin_db", .float(0...60), default: .float(0),
                doc:
                    "also count as silence frames less than this many dB above the clip's noise floor (its quietest tenth of frames), so steady noise around the word is cut at any level (0 = off)"
            ),
        ],
        serving: .perItem,
        make: { TrimAudio($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let y = item.audio, let sr = item.sampleRate else { return try emit(item) }
        var it = item
        it.audio = AudioEdits.trimmed(
            y, topDB: topDB, frame: max(1, Int(frameSeconds * Double(sr))), hop: max(1, Int(hopSeconds * Double(sr))),
            noiseMarginDB: noiseMarginDB)
        try emit(it)
    }
}

final class NormalizeAudio: Stage {
    let targetDB: Double, topDB: Double
    init(_ o: StageOptions) {
        targetDB = o.float("target_db")
        topDB = o.float("top_db")
    }
    static let spec = StageSpec(
        name: "audio.normalize",
        summary:
            "Scale every clip to one active speech level (RMS of its frames within top_db of the loudest and 6 dB above its noise floor, dBFS), peaks kept below 0.99",
        consumes: [.audio], produces: .audio,
        options: [
            OptionSpec("target_db", .float(-60 ... -1), default: .float(-23), doc: "active level to reach, dBFS"),
            OptionSpec(
                "top_db", .float(1...120), default: .float(30),
                doc: "frames this many dB below the loudest are pauses and do not count towards the level"),
        ],
        serving: .perItem,
        make: { NormalizeAudio($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let y = item.audio, let sr = item.sampleRate else { return try emit(item) }
        var it = item
        // 25 ms frames every 10 ms, as audio.trim's defaults.
        it.audio = AudioEdits.loudnessNormalized(
            y, targetDB: targetDB, topDB: topDB, frame: max(1, sr / 40), hop: max(1, sr / 100))
        try emit(it)
    }
}

final class AugmentAudio: Stage {
    let copies: Int, speed: ClosedRange<Double>, snr: ClosedRange<Double>?, shift: Double
    /// The range a copy's vocal-tract warp is drawn from; nil leaves the copies unwarped (and the random
    /// stream as without the option).
    let warp: ClosedRange<Double>?
    /// The range a copy's pitch factor (tempo kept) is drawn from; nil: no pitch shift, the stream unchanged.
    let pitch: ClosedRange<Double>?
    var rng: SeededRandom
    init(_ o: StageOptions) throws {
        copies = o.int("copies")
        guard o.float("speed_min") <= o.float("speed_max") else {
            throw ConfigError(o.position, "audio.augment: speed_min must not exceed speed_max")
        }
        guard o.float("snr_min") <= o.float("snr_max") else {
            throw ConfigError(o.position, "audio.augment: snr_min must not exceed snr_max")
        }
        speed = o.float("speed_min")...o.float("speed_max")
        snr = o.float("snr_max") > 0 ? o.float("snr_min")...o.float("snr_max") : nil
        shift = o.float("shift")
        warp = try Self.factorRange(o, "vtlp")
        pitch = try Self.factorRange(o, "pitch")
        rng = SeededRandom(seed: UInt64(o.int("seed")))
    }
    /// `<name>_min…<name>_max`, or nil when both are 1 (no change, and no draw from the random stream).
    static func factorRange(_ o: StageOptions, _ name: String) throws -> ClosedRange<Double>? {
        let lo = o.float(name + "_min"), hi = o.float(name + "_max")
        guard lo <= hi else { throw ConfigError(o.position, "audio.augment: \(name)_min must not exceed \(name)_max") }
        return lo == 1 && hi == 1 ? nil : lo...hi
    }

    static let spec = StageSpec(
        name: "audio.augment",
        summary:
            "Add randomly changed copies of each training clip (speed, pitch, noise at an SNR, time shift, vocal-tract warp); test clips pass unchanged",
        consumes: [.audio], produces: .audio,
        options: [
            OptionSpec(
                "copies", .int(0...100), default: .int(2),
                doc: "changed copies per training clip (the clip itself is kept)"),
            OptionSpec(
                "speed_min", .float(0.5...2), default: .float(0.9),
                doc: "slowest speed factor (tempo and pitch together)"),
            OptionSpec("speed_max", .float(0.5...2), default: .float(1.1), doc: "fastest speed factor"),
            OptionSpec(
                "snr_min", .float(0...100), default: .float(10),
                doc: "lowest signal-to-noise ratio of the added white noise, dB"),
            OptionSpec(
                "snr_max", .float(0...100), default: .float(30), doc: "highest signal-to-noise ratio, dB (0 = no noise)"
            ),
            OptionSpec(
                "shift", .float(0...10), default: .float(0.1),
                doc: "at most this many seconds of silence added before and after, at random"),
            OptionSpec(
                "vtlp_min", .float(0.7...1.4), default: .float(1),
                doc:
                    "vocal-tract-length perturbation: each copy's features come from a mel filterbank whose frequency axis is stretched by a factor drawn from vtlp_min…vtlp_max (1…1 = none; women's formants sit 15–20 % above men's)"
            ),
            OptionSpec("vtlp_max", .float(0.7...1.4), default: .float(1), doc: "largest vocal-tract-length factor"),
            OptionSpec(
                "pitch_min", .float(0.5...2), default: .float(1),
                doc:
                    "each copy's pitch is also multiplied by a factor drawn from pitch_min…pitch_max with its tempo kept (WSOLA; 1…1 = none)"
            ),
            OptionSpec("pitch_max", .float(0.5...2), default: .float(1), doc: "largest pitch factor"),
            OptionSpec(
                "seed", .int(0...Int(Int32.max)), default: .int(1),
                doc: "random seed: the same seed gives the same copies"),
        ],
        serving: .perItem,
        make: { try AugmentAudio($0) })

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        try emit(item)
        guard item.split == .train, let y = item.audio, let sr = item.sampleRate, !y.isEmpty else { return }
        guard copies > 0 else { return }
        for k in 1...copies {
            var z = try AudioEdits.speeded(y, factor: Double.random(in: speed, using: &rng))
            if let pitch {
                // Hundredths, as the speed: the resampler's table stays small.
                let f = (Double.random(in: pitch, using: &rng) * 100).rounded() / 100
                z = try AudioEdits.pitchShifted(z, factor: f, sampleRate: sr)
            }
            if let snr { z = AudioEdits.withNoise(z, snrDB: Double.random(in: snr, using: &rng), rng: &rng) }
            let most = Int(shift * Double(sr))
            if most > 0 { z = AudioEdits.padded(z, before: rng.nextInt(most + 1), after: rng.nextInt(most + 1)) }
            var copy = item
            copy.file = "\(item.file)#aug\(k)"
            copy.audio = z
            copy[.augmentedCopy] = k
            if let warp { copy[.vocalTractWarp] = (Double.random(in: warp, using: &rng) * 100).rounded() / 100 }
            try emit(copy)
        }
    }
}
