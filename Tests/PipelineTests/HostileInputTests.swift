// Inputs a hostile or careless user gives: each is a clear per-file error or a handled case, never a trap
// or an exit 0 with a wrong result.
import XCTest
import TestSupport
import Tensor
import Media
@testable import Pipeline

final class HostileInputTests: ScratchFolderTestCase {
    func run(_ conf: String) throws -> RunSummary { try runPipeline(conf, registry: registry) }

    func idx(_ dims: [Int], _ values: [UInt8]) -> Data {
        var d = Data([0, 0, 8, UInt8(dims.count)])
        for s in dims { d += [UInt8(s >> 24 & 255), UInt8(s >> 16 & 255), UInt8(s >> 8 & 255), UInt8(s & 255)] }
        return d + Data(values)
    }

    /// An IDX file with a zero dimension is refused (image.normalize would index out of range).
    func testIDXWithAZeroDimensionIsRefused() throws {
        try idx([2, 0, 28], []).write(to: URL(fileURLWithPath: dir + "/i.idx"))
        XCTAssertThrowsError(try IDX.read(dir + "/i.idx")) {
            XCTAssertTrue("\($0)".contains("IDX dimension 2 of 3 is 0"), "\($0)")
        }
        // A header promising more than the limit is refused before any data is read.
        try idx([1 << 15, 1 << 14], []).write(to: URL(fileURLWithPath: dir + "/big.idx"))
        XCTAssertThrowsError(try IDX.read(dir + "/big.idx")) {
            XCTAssertTrue("\($0)".contains("more than \(IDX.maxValues) values"), "\($0)")
        }
        // More data than the header promises is an error too, not silently ignored.
        try idx([2], [1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/long.idx"))
        XCTAssertThrowsError(try IDX.read(dir + "/long.idx")) {
            XCTAssertTrue("\($0)".contains("file has more"), "\($0)")
        }
    }

    /// A WAV with a valid header and no samples, with an odd n_fft, is an error, not an index out of range.
    func testEmptyClipIsReportedAsNoAudio() throws {
        var wav = Data("RIFF".utf8) + le32(36) + Data("WAVEfmt ".utf8) + le32(16)
        wav += le16(1) + le16(1) + le32(16000) + le32(32000) + le16(2) + le16(16) + Data("data".utf8) + le32(0)
        try FileManager.default.createDirectory(atPath: dir + "/clips", withIntermediateDirectories: true)
        try wav.write(to: URL(fileURLWithPath: dir + "/clips/empty.wav"))
        XCTAssertEqual(Features.powerSpectrogram([], nFFT: 511, hop: 160).first?.count, 0)
        let s = try run(
            "stages:\n  - read.audio: {path: clips}\n  - audio.mfcc: {n_fft: 511}\n  - write.features: {path: out/f.safetensors}\n"
        )
        XCTAssertEqual(s.failures.map { $0.reason }, ["no audio (the clip has 0 samples)"])
    }

    /// n_fft 65536 with hop_length 1 needs ~4 GB per second of audio.
    func testFeaturesBeyondTheMemoryLimitAreRefusedPerClip() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../MediaTests/Fixtures/audio"
        ).standardized.path
        let s = try run(
            "max_memory_mb: 1024\nstages:\n  - read.audio: {path: \(fixtures)}\n  - audio.melspec: {n_fft: 65536, hop_length: 1}\n  - write.features: {path: out/f.safetensors}\n"
        )
        XCTAssertEqual(s.failures.count, 3)
        XCTAssertTrue(
            s.failures.allSatisfy { $0.reason.contains("more than the memory limit of 1.0 GB") }, "\(s.failures)")
    }

    /// Names that collide (IDX items "imgs.idx#k"; a/1.png and b/1.png) never overwrite each other.
    func testWritePNGNamesAreUniqueAndCountsTrue() throws {
        try idx([3, 2, 2], Array(repeating: 200, count: 12)).write(to: URL(fileURLWithPath: dir + "/imgs.idx"))
        try idx([3], [0, 1, 2]).write(to: URL(fileURLWithPath: dir + "/labels.idx"))
        let s = try run(
            "stages:\n  - read.idx: {train_images: imgs.idx, train_labels: labels.idx}\n  - write.png: {folder: out}\n")
        XCTAssertEqual(s.succeeded, 3)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted(),
            ["imgs_0.png", "imgs_1.png", "imgs_2.png"])
        for sub in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: dir + "/in/\(sub)", withIntermediateDirectories: true)
            try PNG.write(
                Image(width: 3, height: 3, channels: 1, fill: sub == "a" ? 0.2 : 0.8), to: dir + "/in/\(sub)/1.png")
        }
        let s2 = try run("stages:\n  - read.png: {path: in}\n  - write.png: {folder: out2}\n")
        XCTAssertEqual(s2.succeeded, 2)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/out2").sorted(), ["1-2.png", "1.png"])
    }

    /// `path` and `train` naming the same files never make write.features write duplicate keys.
    func testAFileNamedTwiceIsRefusedUpFront() throws {
        try FileManager.default.createDirectory(atPath: dir + "/d/x", withIntermediateDirectories: true)
        try PNG.write(Image(width: 3, height: 3, channels: 1, fill: 0.5), to: dir + "/d/x/1.png")
        XCTAssertThrowsError(try run("stages:\n  - read.png: {path: d, train: d}\n  - write.png: {folder: out}\n")) {
            e in
            XCTAssertTrue("\(e)".contains("is named twice (by 'path' and 'train')"), "\(e)")
        }
    }

    /// Symlinked folders are followed, and a link loop ends.
    func testSymlinkedFoldersAreFollowedOnce() throws {
        try FileManager.default.createDirectory(atPath: dir + "/real/sub", withIntermediateDirectories: true)
        try PNG.write(Image(width: 3, height: 3, channels: 1, fill: 0.5), to: dir + "/real/sub/a.png")
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real")
        try FileManager.default.createSymbolicLink(atPath: dir + "/real/sub/loop", withDestinationPath: dir + "/real")
        XCTAssertEqual(try FileList.files(dir + "/link", extensions: ["png"]), [dir + "/link/sub/a.png"])
    }

    /// An 8 KB PNG whose header says 8192×8192 would decode to 1 GB: the pixel limit and the reader's memory
    /// budget (not 512 decoded images at once) bound it.
    func testHugePNGsAreRefusedBeforeDecodingAndDecodedBytesAreBounded() throws {
        try FileManager.default.createDirectory(atPath: dir + "/big", withIntermediateDirectories: true)
        try PNG.write(Image(width: 1, height: 1, channels: 1, fill: 0.5), to: dir + "/big/a.png")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/big/a.png"))
        bytes.replaceSubrange(16..<24, with: [0, 0, 0x20, 0, 0, 0, 0x20, 0])  // IHDR: 8192 × 8192
        try bytes.write(to: URL(fileURLWithPath: dir + "/big/a.png"))
        let s = try run("stages:\n  - read.png: {path: big}\n  - write.png: {folder: out}\n")
        XCTAssertEqual(s.failures.map { $0.reason }, ["image has 67108864 pixels; the limit is 16777216"])
        // Chunks are cut by decoded bytes: with 100 MB per file, at most 3 results wait at once (256 MB budget).
        let ctx = RunContext(progress: ProgressReporter(quiet: true), stopOnError: false)
        let lock = NSLock()
        var waiting = 0, most = 0
        try decodeInOrder(
            (0..<10).map { "f\($0)" }, stage: "t", ctx, cost: { _ in 100 << 20 },
            decode: { name -> String in
                lock.lock()
                waiting += 1
                most = max(most, waiting)
                lock.unlock()
                return name
            }
        ) { _, _ in
            lock.lock()
            waiting -= 1
            lock.unlock()
        }
        XCTAssertEqual(waiting, 0)
        XCTAssertLessThanOrEqual(most, 3)
    }

    /// A file name that is not UTF-8 is read; an escape sequence in a name is never printed raw to the
    /// terminal.
    func testAnyByteStringNameIsReadAndControlCharactersAreEscaped() throws {
        try FileManager.default.createDirectory(atPath: dir + "/names", withIntermediateDirectories: true)
        let png = try PNG.encode(Image(width: 3, height: 3, channels: 1, fill: 0.5))
        let raw = Array((dir + "/names/bad").utf8) + [0xFF, 0x1B] + Array("[31mx.png".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = png.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        try png.write(to: URL(fileURLWithPath: dir + "/names/ok.png"))
        let s = try run("stages:\n  - read.png: {path: names}\n  - write.png: {folder: out}\n")
        XCTAssertEqual(s.succeeded, 2)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted(),
            ["bad%FF%1B[31mx.png", "ok.png"])
        XCTAssertEqual(terminalSafe("a\u{1B}[31mb\nc\u{9B}"), "a\\u{1b}[31mb\nc\\u{9b}")
    }

    /// The montage holds thumbnails, never 100 full-size images and a grid of their full size.
    func testMontageIsMadeOfThumbnails() throws {
        try FileManager.default.createDirectory(atPath: dir + "/large", withIntermediateDirectories: true)
        for i in 0..<3 {
            try PNG.write(
                Image(width: 1000, height: 600, channels: 1, fill: 0.1 * Float(i)), to: dir + "/large/\(i).png")
        }
        _ = try run("stages:\n  - read.png: {path: large}\n  - write.png: {folder: out, montage: m.png}\n")
        let info = try PNG.info(path: dir + "/m.png")
        XCTAssertLessThanOrEqual(info.width, 3 * 256 + 4 * 2)
        XCTAssertLessThanOrEqual(info.height, 256 + 2 * 2)
    }

    /// A non-finite prediction must still give valid JSON.
    func testNonFinitePredictionsAreNullInJSONLines() throws {
        let opts = StageOptions(
            stage: "write.jsonl", position: SourcePosition(file: "t", line: 1, column: 1),
            values: ["path": .string(dir + "/p.jsonl")], configDirectory: dir)
        let w = WriteJSONL(opts)
        var item = Item(file: "x.png", split: .predict)
        item.prediction = Prediction(label: "a", confidence: .nan, top: [("a", .nan)], logits: [.infinity, 1])
        let ctx = RunContext(progress: ProgressReporter(quiet: true), stopOnError: false)
        try w.process(item, ctx) { _ in }
        try w.finish(ctx) { _ in }
        let line = try String(contentsOfFile: dir + "/p.jsonl", encoding: .utf8)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), line)
        XCTAssertTrue(line.contains("\"confidence\":null"), line)
    }
}

func le32(_ v: UInt32) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
func le16(_ v: UInt16) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
