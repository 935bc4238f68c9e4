// Audio stages: read.audio (any format libsndfile reads, resampled and fitted to a duration),
// audio.mfcc / audio.melspec (librosa-equal features) and write.features (all matrices in one
// safetensors file, keyed by input file).
import Foundation
import Media
import Tensor
import NN
import FilesAndText

final class ReadAudio: FileSource {
    let o: StageOptions
    init(_ o: StageOptions) throws {
        self.o = o
        guard ["path", "train", "manifest"].contains(where: { o.has($0) }) else {
            throw ConfigError(o.position, "read.audio needs 'path' (files), 'train' (labelled folders) or 'manifest'")
        }
    }
    static let extensions: Set<String> = [
        "wav", "flac", "ogg", "oga", "aiff", "aif", "au", "snd", "caf", "w64", "rf64",
    ]
    static let spec = StageSpec(
        name: "read.audio", summary: "Read audio files (WAV, FLAC, OGG, AIFF, …) as mono clips at one sample rate",
        consumes: [.none], produces: .audio,
        options: [
            OptionSpec("path", .path, doc: "file or folder of audio files (searched recursively)"),
            OptionSpec("train", .path, doc: "folder with one sub-folder of clips per label (train split)"),
            OptionSpec("test", .path, doc: "folder with one sub-folder of clips per label (held-out split)"),
            OptionSpec(
                "validation", .path,
                doc:
                    "folder with one sub-folder of clips per label (validation split: never trained on, reported to choose settings by)"
            ),
            OptionSpec("manifest", .path, doc: "CSV with lines 'file,label' (train split)"),
            OptionSpec(
                "sample_rate", .int(1000...192_000), default: .int(16000), doc: "resample every clip to this rate (Hz)"),
            OptionSpec(
                "duration", .float(0...600), default: .float(0),
                doc: "pad/trim every clip to this many seconds (0 = keep)"),
            OptionSpec(
                "max_seconds", .float(0.01...3600), default: .float(600), doc: "reject longer files before reading them"
            ),
            OptionSpec(
                "limit", .int(0...100_000_000), default: .int(0),
                doc: "read at most this many files per split (0 = all)"),
        ],
        serving: .source,
        make: { try ReadAudio($0) })

    func start(_ ctx: RunContext, emit: Emit) throws {
        try read(try inputFiles(o, stage: "read.audio", extensions: Self.extensions, shard: ctx.shard), ctx, emit: emit)
    }

    func read(_ files: [String], _ ctx: RunContext, emit: Emit) throws {
        try read(files.map { InputFile(path: $0, label: nil, split: .predict) }, ctx, emit: emit)
    }

    func read(_ jobs: [InputFile], _ ctx: RunContext, emit: Emit) throws {
        var limits = Audio.Limits()
        limits.maxSeconds = o.float("max_seconds")
        let rate = o.int("sample_rate"), duration = o.float("duration")
        // Bytes of the mono clip after resampling, from the header.
        let cost: (String) -> Int = {
            (try? Audio.info($0, limits: limits)).map { Int($0.duration * Double(rate)) * 4 } ?? 0
        }
        try decodeInOrder(
            jobs.map { $0.path }, stage: "read.audio", ctx, cost: cost,
            decode: {
                try Audio.read($0, sampleRate: rate, duration: duration > 0 ? duration : nil, limits: limits)
            }
        ) { i, clip in
            var item = Item(file: jobs[i].path, split: jobs[i].split, label: jobs[i].label)
            item.audio = clip.samples
            item.sampleRate = clip.sampleRate
            try emit(item)
        }
    }
}

/// audio.mfcc and audio.melspec share this stage; `mfcc` selects the final DCT.
final class AudioFeatures: Stage {
    let settings: SpectrogramSettings
    let mfcc: Bool
    init(_ o: StageOptions, mfcc: Bool) {
        var s = SpectrogramSettings()
        s.nFFT = o.int("n_fft")
        s.hop = o.int("hop_length")
        s.nMels = o.int("n_mels")
        s.scale = o.string("mel_scale") == "htk" ? .htk : .slaney
        if mfcc { s.nMFCC = o.int("n_mfcc") }
        settings = s
        self.mfcc = mfcc
        memoryLimit = o.memoryLimit
    }
    let memoryLimit: Int
    static func options(mfcc: Bool) -> [OptionSpec] {
        var o = [
            OptionSpec(
                "n_fft", .int(16...65536), default: .int(512), doc: "FFT length (any length; powers of two are fastest)"
            ),
            OptionSpec("hop_length", .int(1...65536), default: .int(160), doc: "samples between frames"),
            OptionSpec("n_mels", .int(1...512), default: .int(40), doc: "mel bands"),
            OptionSpec(
                "mel_scale", .choice(["slaney", "htk"]), default: .string("slaney"),
                doc: "mel scale (slaney = librosa's default, with area normalisation)"),
        ]
        if mfcc { o.append(OptionSpec("n_mfcc", .int(1...512), default: .int(13), doc: "cepstral coefficients kept")) }
        return o
    }
    static let mfccSpec = StageSpec(
        name: "audio.mfcc", summary: "MFCCs equal to librosa.feature.mfcc (log-mel with top_db 80, orthonormal DCT-II)",
        consumes: [.audio], produces: .features, options: options(mfcc: true), serving: .perItem,
        make: { AudioFeatures($0, mfcc: true) })
    static let melSpec = StageSpec(
        name: "audio.melspec", summary: "Log-mel spectrogram in dB (librosa.power_to_db of melspectrogram, top_db 80)",
        consumes: [.audio], produces: .features, options: options(mfcc: false), serving: .perItem,
        make: { AudioFeatures($0, mfcc: false) })

    /// librosa's coefficient-by-frame rows as a [T, F] sequence (one row of features per frame).
    static func sequence(_ rows: [[Double]]) -> Tensor {
        let f = rows.count, t = rows.first?.count ?? 0
        let out = Tensor(uninitialized: [t, f])
        for (j, row) in rows.enumerated() { for (i, v) in row.enumerated() { out.data[i * f + j] = Float(v) } }
        return out
    }

    /// Bytes the features of `samples` samples need on the way (power spectrogram, mel rows, padding).
    static func bytesNeeded(samples: Int, _ s: SpectrogramSettings) -> Int {
        let frames = 1 + (samples + 2 * (s.nFFT / 2)) / s.hop, bins = s.nFFT / 2 + 1
        let (p, o) = (bins + 2 * s.nMels).multipliedReportingOverflow(by: frames)
        return o || p > Int.max / 16 ? Int.max : p * 8 + samples * 8
    }

    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let y = item.audio, let sr = item.sampleRate else { return }
        guard !y.isEmpty else {
            try ctx.fail(item.file, "no audio (the clip has 0 samples)")
            return
        }
        let need = Self.bytesNeeded(samples: y.count, settings)
        guard need <= memoryLimit else {
            try ctx.fail(
                item.file,
                String(
                    format:
                        "features of this %.1f s clip would need %.1f GB with n_fft %d and hop_length %d, more than the memory limit of %.1f GB (raise hop_length or max_memory_mb)",
                    Double(y.count) / Double(sr), Double(need) / Double(1 << 30), settings.nFFT, settings.hop,
                    Double(memoryLimit) / Double(1 << 30)))
            return
        }
        var it = item
        var settings = self.settings
        settings.warp = item[.vocalTractWarp] ?? 1
        let rows =
            mfcc
            ? Features.mfcc(y, sampleRate: sr, settings)
            : Features.powerToDB(Features.melSpectrogram(y, sampleRate: sr, settings), topDB: settings.topDB)
        it.features = Self.sequence(rows)
        it.audio = nil
        try emit(it)
    }
}

final class WriteFeatures: Stage {
    let path: String
    var entries: [(String, Tensor)] = []
    var labels: [String: String] = [:]
    var keys = Set<String>()
    init(_ o: StageOptions) { path = o.string("path") }
    static let spec = StageSpec(
        name: "write.features",
        summary:
            "Write every feature sequence into one safetensors file as [features, frames] (key = input file; labels in metadata)",
        consumes: [.features], produces: .none,
        options: [
            OptionSpec("path", .outputFile, required: true, doc: "output .safetensors file (written atomically)")
        ],
        make: { WriteFeatures($0) })
    func process(_ item: Item, _ ctx: RunContext, emit: Emit) throws {
        guard let f = item.features else { return }
        // Keys are input files; a file that arrives twice would make a file no reader accepts.
        guard keys.insert(item.file).inserted else {
            try ctx.fail(item.file, "arrived twice; write.features keeps one entry per input file")
            return
        }
        // Stored coefficient by frame, as librosa returns them (and as earlier files hold them).
        entries.append((item.file, Autograd.noGrad { f.transposed() }))
        if let l = item.label { labels[item.file] = l }
        ctx.countSuccess(item.file)
    }
    func finish(_ ctx: RunContext, emit: Emit) throws {
        var meta: [String: String] = ["format": "dlpipe.features.v1"]
        if !labels.isEmpty {
            meta["labels"] =
                "{"
                + labels.sorted { $0.key < $1.key }.map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }.joined(
                    separator: ",") + "}"
        }
        let data = Safetensors.encode(entries, metadata: meta)
        do {
            try makeParentFolder(path)
            try writeFileAtomically(data, to: path)
        } catch { throw writeFailure("write.features", path, error) }
        ctx.progress.info("wrote \(entries.count) feature sequences to \(path)")
    }
}
