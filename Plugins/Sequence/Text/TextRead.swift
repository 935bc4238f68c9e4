// text.read: plain or gzip-compressed UTF-8 text files, one item per file. Invalid UTF-8 is an error that
// names the byte offset, so a user can find the bad spot; a file past max_mb is refused before its
// contents are held.
import Foundation
import Media
import Pipeline

/// text.read's options, parsed once.
struct TextReadOptions {
    enum Key: String, OptionKey { case path, train, test, maxMB = "max_mb" }

    /// The files or folders to read, with the split each gives its texts.
    let sources: [(option: Key, folder: String, split: Split)]
    let maxBytes: Int

    init(_ o: StageOptions) throws {
        sources = [(Key.path, Split.predict), (.train, .train), (.test, .test)].compactMap { key, split in
            o.optionalString(key).map { (key, $0, split) }
        }
        guard !sources.isEmpty else {
            throw ConfigError(o.position, "text.read needs 'path', 'train' or 'test' (a text file or a folder of them)")
        }
        maxBytes = Int(o.float(Key.maxMB) * 1_000_000)
    }

    static let specs: [OptionSpec] = [
        OptionSpec(Key.path, .path, doc: "text file or folder of .txt/.gz files (searched recursively)"),
        OptionSpec(Key.train, .path, doc: "text file or folder for training"),
        OptionSpec(Key.test, .path, doc: "text file or folder held out (never trained on)"),
        OptionSpec(
            Key.maxMB, .float(0.001...4096), default: .float(256),
            doc: "refuse a file whose text is larger than this (MB)"),
    ]
}

final class TextRead: Stage {
    let options: TextReadOptions
    init(_ o: StageOptions) throws { options = try TextReadOptions(o) }

    static let extensions: Set<String> = ["txt", "gz", "text", "md"]
    static let spec = StageSpec(
        name: "text.read", summary: "Read UTF-8 text files (plain or .gz) as texts",
        consumes: [.none], produces: .text, options: TextReadOptions.specs, make: { try TextRead($0) })

    func start(_ ctx: RunContext, emit: Emit) throws {
        var seen: [String: String] = [:]
        for (key, folder, split) in options.sources {
            let option = key.rawValue
            let files: [String]
            do { files = try FileList.files(folder, extensions: Self.extensions) } catch {
                throw StageError("text.read", "\(option): \(error)")
            }
            for f in files {
                let real = URL(fileURLWithPath: f).resolvingSymlinksInPath().path
                if let first = seen[real] {
                    throw StageError("text.read", "\(f) is named twice (by '\(first)' and '\(option)')")
                }
                seen[real] = option
                try ctx.checkCancelled()
                do {
                    var item = Item(file: f, split: split)
                    item.text = try Self.read(f, maxBytes: options.maxBytes)
                    try emit(item)
                } catch let e as MediaError { try ctx.fail(e) }
            }
        }
    }

    /// The text of `path`, decompressed if gzip, checked to be UTF-8.
    static func read(_ path: String, maxBytes: Int) throws -> String {
        let data = try Gzip.read(path, maxBytes: maxBytes)
        if let s = String(validating: data, as: UTF8.self) { return s }
        throw MediaError(path, "not UTF-8 text: invalid byte sequence at byte offset \(firstInvalidUTF8(data))")
    }

    /// Offset of the first byte that does not start or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let n = b < 0x80 ? 1 : b >= 0xC2 && b < 0xE0 ? 2 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xF0 && b < 0xF5 ? 4 : 0
            guard n > 0, i + n <= bytes.count else { return i }
            for k in 1..<n where bytes[i + k] & 0xC0 != 0x80 { return i }
            if String(validating: bytes[i..<(i + n)], as: UTF8.self) == nil { return i }
            i += n
        }
        return bytes.count
    }
}
