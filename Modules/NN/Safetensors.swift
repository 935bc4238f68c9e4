// safetensors checkpoints (https://huggingface.co/docs/safetensors): u64 little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {..}}, then raw little-endian data.
// We write F32 with PyTorch state_dict names, so `model.load_state_dict(safetensors.torch.load_file(f))`
// works. The reader trusts nothing: every length, offset and shape is checked before use.
import Foundation
import Tensor
import FilesAndText

public struct SafetensorsError: Error, CustomStringConvertible {
    public let file: String, reason: String
    public var description: String { "\(file): \(reason)" }
}

public enum Safetensors {
    /// Largest header we accept (the format's own reference reader uses 100 MB).
    public static let maxHeaderBytes = 100_000_000

    /// Serialises tensors (in the given order) with optional string metadata.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) -> Data {
        var header = "{"
        if !metadata.isEmpty {
            header +=
                "\"__metadata__\":{"
                + metadata.sorted { $0.key < $1.key }
                .map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }.joined(separator: ",") + "},"
        }
        var offset = 0
        header += tensors.map { name, t in
            let end = offset + t.count * 4
            defer { offset = end }
            return
                "\(jsonQuoted(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}"
        }.joined(separator: ",")
        header += "}"
        var h = Data(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }  // pad with spaces so data starts 8-byte aligned
        var out = Data(capacity: 8 + h.count + offset)
        var len = UInt64(h.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(h)
        for (_, t) in tensors {
            // Float bit patterns are little-endian on every platform we build for (x86_64, arm64).
            out.append(UnsafeBufferPointer(start: t.data, count: t.count))
        }
        return out
    }

    /// Writes a checkpoint atomically.
    ///
    ///     try Safetensors.write(model.stateDict(), to: "models/digits.safetensors")
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
        try writeFileAtomically(encode(tensors, metadata: metadata), to: path)
    }

    /// Reads and validates a checkpoint file.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw SafetensorsError(file: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SafetensorsError(file: path, reason: "not a regular file") }
        // Refused before reading: Foundation leaks the buffer it reads an empty file into.
        guard st.st_size >= 8 else {
            throw SafetensorsError(
                file: path, reason: "file is \(st.st_size) bytes, too short for a safetensors header")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw SafetensorsError(file: path, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
        return try decode(data, file: path)
    }

    /// Parses and validates a checkpoint held in memory. `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws -> (
        tensors: [String: Tensor], metadata: [String: String]
    ) {
        func fail(_ r: String) -> SafetensorsError { SafetensorsError(file: file, reason: r) }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, too short for a safetensors header") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(maxHeaderBytes) else { throw fail("header length \(n) is not plausible") }
        guard n <= UInt64(data.count - 8) else {
            throw fail("header length \(n) runs past the end of the \(data.count)-byte file")
        }
        let headerBytes = data.subdata(in: 8..<(8 + Int(n)))
        guard String(data: headerBytes, encoding: .utf8) != nil else { throw fail("header is not valid UTF-8") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw fail("header is not well-formed JSON")
        }
        guard let dict = json as? [String: Any] else { throw fail("header is not a JSON object") }
        let dataStart = 8 + Int(n), dataSize = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("__metadata__ value for '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let e = value as? [String: Any] else { throw fail("tensor '\(name)': entry is not an object") }
            guard let dtype = e["dtype"] as? String else { throw fail("tensor '\(name)': missing dtype") }
            let known = [
                "F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64", "BOOL",
                "F8_E4M3", "F8_E5M2",
            ]
            guard known.contains(dtype) else { throw fail("tensor '\(name)': unknown dtype '\(dtype)'") }
            guard dtype == "F32" else {
                throw fail("tensor '\(name)': dtype \(dtype) is not supported (dlpipe reads F32)")
            }
            guard let shapeAny = e["shape"] as? [Any], let shape = intArray(shapeAny), shape.allSatisfy({ $0 >= 0 })
            else {
                throw fail("tensor '\(name)': shape is not a list of non-negative integers")
            }
            guard let offAny = e["data_offsets"] as? [Any], let off = intArray(offAny), off.count == 2 else {
                throw fail("tensor '\(name)': data_offsets is not [begin, end]")
            }
            guard off[0] >= 0, off[0] <= off[1], off[1] <= dataSize else {
                throw fail(
                    "tensor '\(name)': data_offsets [\(off[0]), \(off[1])] outside the \(dataSize)-byte data section")
            }
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o, p <= dataSize else { throw fail("tensor '\(name)': shape \(shape) is larger than the file") }
                elements = p
            }
            guard elements * 4 == off[1] - off[0] else {
                throw fail(
                    "tensor '\(name)': shape \(shape) needs \(elements * 4) bytes but data_offsets give \(off[1] - off[0])"
                )
            }
            entries.append((name, shape, off[0], off[1]))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for e in entries {
            guard e.begin >= cursor else { throw fail("tensor '\(e.name)': data overlaps the previous tensor") }
            guard e.begin == cursor else {
                throw fail("tensor '\(e.name)': \(e.begin - cursor) unused bytes before its data")
            }
            cursor = e.end
        }
        guard cursor == dataSize else {
            throw fail("\(dataSize - cursor) bytes after the last tensor are not described by the header")
        }
        var tensors: [String: Tensor] = [:]
        data.withUnsafeBytes { raw in
            for e in entries {
                let t = Tensor(uninitialized: e.shape)
                if t.count > 0 {
                    memcpy(t.data, raw.baseAddress! + dataStart + e.begin, e.end - e.begin)
                }
                tensors[e.name] = t
            }
        }
        return (tensors, metadata)
    }

    static func intArray(_ a: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in a {
            guard let num = v as? NSNumber else { return nil }
            let d = num.doubleValue
            guard d == d.rounded(), abs(d) < 9e15, let i = Int(exactly: d) else { return nil }
            out.append(i)
        }
        return out
    }
}

extension Module {
    /// Saves parameters and buffers under their state_dict names.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        try Safetensors.write(stateDict(), metadata: metadata, to: path)
    }

    /// Loads a checkpoint; every name must be present with the right shape, and no extra names allowed.
    public func load(from path: String) throws {
        let (tensors, _) = try Safetensors.read(path)
        try load(tensors, file: path)
    }

    public func load(_ tensors: [String: Tensor], file: String) throws {
        let mine = stateDict()
        let names = Set(mine.map { $0.0 })
        var problems: [String] = [], missing: [String] = []
        for (name, t) in mine {
            guard let src = tensors[name] else {
                missing.append("'\(name)'")
                continue
            }
            if src.shape != t.shape { problems.append("'\(name)' has shape \(src.shape), model expects \(t.shape)") }
        }
        let extra = tensors.keys.sorted().filter { !names.contains($0) }.map { "'\($0)'" }
        func list(_ xs: [String]) -> String { xs.prefix(8).joined(separator: ", ") + (xs.count > 8 ? ", …" : "") }
        if !missing.isEmpty { problems.append("missing \(list(missing))") }
        if !extra.isEmpty { problems.append("unexpected \(list(extra))") }
        guard problems.isEmpty else {
            throw SafetensorsError(file: file, reason: "does not match the model: " + problems.joined(separator: "; "))
        }
        for (name, t) in mine { t.data.update(from: tensors[name]!.data, count: t.count) }
    }
}
