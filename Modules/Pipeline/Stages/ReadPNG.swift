// read.png: PNG files into image items — a folder/glob of unlabelled files to predict, or labelled
// train/test folders (label = immediate sub-folder name) or a CSV manifest. Files are decoded on all
// cores in chunks and emitted in order; a bad file is reported ("file: reason") and skipped.
import Foundation
import Media
import Tensor

final class ReadPNG: FileSource {
    let opts: StageOptions
    init(_ o: StageOptions) throws {
        opts = o
        let sources = ["path", "train", "manifest"].filter { o.has($0) }
        guard !sources.isEmpty else {
            throw ConfigError(
                o.position, "read.png needs 'path' (files to predict), 'train' (labelled folders) or 'manifest'")
        }
        if o.has("test") && !o.has("train") && !o.has("manifest") {
            throw ConfigError(o.position, "read.png: 'test' needs 'train' or 'manifest' too")
        }
    }

    static let spec = StageSpec(
        name: "read.png", summary: "Read PNG files (any size, colour type, bit depth) as images",
        consumes: [.none], produces: .image,
        options: [
            OptionSpec("path", .path, doc: "file or folder of PNGs to predict (searched recursively)"),
            OptionSpec("train", .path, doc: "folder with one sub-folder of PNGs per label (train split)"),
            OptionSpec("test", .path, doc: "folder with one sub-folder of PNGs per label (held-out split)"),
            OptionSpec("manifest", .path, doc: "CSV with lines 'file,label' (train split), paths relative to it"),
            OptionSpec(
                "mode", .choice(["gray", "rgb"]), default: .string("gray"), doc: "decode as gray (Rec.601) or RGB"),
            OptionSpec(
                "limit", .int(0...100_000_000), default: .int(0),
                doc: "read at most this many files per split (0 = all)"),
            OptionSpec(
                "max_pixels", .int(1...(16384 * 16384)), default: .int(4096 * 4096),
                doc: "refuse an image with more pixels than this before decoding it"),
        ],
        shape: { o, _ in [o.string("mode") == "rgb" ? 3 : 1, 0, 0] },
        serving: .source,
        make: { try ReadPNG($0) })

    func start(_ ctx: RunContext, emit: Emit) throws {
        try read(try inputFiles(opts, stage: "read.png", extensions: ["png"], shard: ctx.shard), ctx, emit: emit)
    }

    func read(_ files: [String], _ ctx: RunContext, emit: Emit) throws {
        try read(files.map { InputFile(path: $0, label: nil, split: .predict) }, ctx, emit: emit)
    }

    func read(_ jobs: [InputFile], _ ctx: RunContext, emit: Emit) throws {
        let mode: PNG.Mode = opts.string("mode") == "rgb" ? .rgb : .gray
        var limits = PNG.Limits()
        limits.maxPixels = opts.int("max_pixels")
        let channels = mode == .rgb ? 3 : 1
        // Bytes the decoded image will hold (and its decoding briefly needs about 4× that).
        let cost: (String) -> Int = {
            (try? PNG.header(path: $0, limits: limits)).map { $0.width * $0.height * channels * 4 } ?? 0
        }
        try decodeInOrder(
            jobs.map { $0.path }, stage: "read.png", ctx, cost: cost,
            decode: { try PNG.read($0, as: mode, limits: limits) }
        ) { i, img in
            try emit(Item(file: jobs[i].path, split: jobs[i].split, label: jobs[i].label, image: img))
        }
    }
}

/// Decoded bytes one reading stage holds at once (a chunk's results wait to be handed on in order).
let decodeBudgetBytes = 256 << 20

/// Decodes files on all cores in chunks and hands the results over in input order; a file that fails
/// is reported ("file: reason") and skipped. A chunk holds at most 512 files and, by `cost` (decoded
/// bytes, estimated from headers), at most `decodeBudgetBytes` — or a single file, whatever its size.
/// Shared by the file-reading stages.
func decodeInOrder<T>(
    _ files: [String], stage: String, _ ctx: RunContext, cost: @escaping (String) -> Int,
    decode: @escaping (String) throws -> T, _ deliver: (Int, T) throws -> Void
) throws {
    let task = ctx.progress.task(stage, total: files.count, unit: "files")
    var start = 0
    while start < files.count {
        try ctx.checkCancelled()
        var end = start, bytes = 0
        while end < files.count && end - start < 512 {
            let c = cost(files[end])
            if end > start && bytes + c > decodeBudgetBytes { break }
            bytes += c
            end += 1
        }
        let part = Array(files[start..<end])
        var results = [Result<T, MediaError>?](repeating: nil, count: part.count)
        results.withUnsafeMutableBufferPointer { buf in
            let out = UnsafeSendablePointer(buf.baseAddress!)
            Parallel.forRanges(part.count, minChunk: 8) { r in
                for i in r {
                    do { out.p[i] = .success(try decode(part[i])) } catch let e as MediaError {
                        out.p[i] = .failure(e)
                    } catch { out.p[i] = .failure(MediaError(part[i], "\(error)")) }
                }
            }
        }
        try ctx.checkCancelled()  // a decode stopped by Ctrl-C is not a bad file
        for (i, r) in results.enumerated() {
            switch r! {
            case .success(let v): try deliver(start + i, v)
            case .failure(let e): try ctx.fail(e)
            }
        }
        task.update(end)
        start = end
    }
    task.finish(files.count)
}

/// For a missing input folder: the shipped pipelines read datasets that a script fetches.
func missingDataHint(_ e: MediaError) -> String {
    e.reason.hasPrefix("no such") ? " (the shipped pipelines' data comes from scripts/fetch-data.sh)" : ""
}

/// A pointer that may cross into concurrentPerform closures.
struct UnsafeSendablePointer<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { self.p = p }
}
