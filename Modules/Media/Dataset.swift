// Labelled file lists. A label comes only from a file's immediate parent
// folder (train/3/x.png → "3"; never matched anywhere in the path) or from a CSV manifest (file,label).
import Foundation
import Tensor

public struct LabeledFile: Equatable {
    public let path: String
    public let label: String
    public init(path: String, label: String) { self.path = path; self.label = label }
}

public enum FileList {
    /// `root/<label>/<file>` for files with one of `extensions` (case-insensitive), sorted by label then name.
    public static func labeledFolders(_ root: String, extensions: Set<String>) throws -> [LabeledFile] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else { throw MediaError(root, "no such folder") }
        guard isDir.boolValue else { throw MediaError(root, "not a folder") }
        var out: [LabeledFile] = []
        let labels = try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.hasPrefix(".") }
        for label in labels.sorted(by: naturalOrder) {
            let dir = root + "/" + label
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            let files = try FileManager.default.contentsOfDirectory(atPath: dir)
                .filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            for f in files.sorted(by: naturalOrder) { out.append(LabeledFile(path: dir + "/" + f, label: label)) }
        }
        guard !out.isEmpty else { throw MediaError(root, "no \(extensions.sorted().joined(separator: "/")) files in label sub-folders") }
        return out
    }

    /// Files directly in a folder (or one file), unlabelled, sorted.
    public static func files(_ path: String, extensions: Set<String>) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw MediaError(path, "no such file or folder") }
        guard isDir.boolValue else { return [path] }
        guard let e = FileManager.default.enumerator(atPath: path) else { throw MediaError(path, "cannot list folder") }
        var out: [String] = []
        for case let rel as String in e {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") { continue }
            if extensions.contains((rel as NSString).pathExtension.lowercased()) { out.append(path + "/" + rel) }
        }
        return out.sorted(by: naturalOrder)
    }

    /// A CSV manifest with lines `file,label` (a `file,label` header line is allowed); paths are relative
    /// to the manifest's folder. Errors name the manifest line.
    public static func manifest(_ csvPath: String) throws -> [LabeledFile] {
        let data = try PNG.readBytes(csvPath, maxBytes: 64 << 20)
        guard let text = String(data: data, encoding: .utf8) else { throw MediaError(csvPath, "not valid UTF-8") }
        let base = (csvPath as NSString).deletingLastPathComponent
        var out: [LabeledFile] = []
        for (i, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = rawLine.trimmingCharacters(in: CharacterSet(charactersIn: "\r")).trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if i == 0 && parts.first?.lowercased() == "file" { continue }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw MediaError("\(csvPath):\(i + 1)", "expected 'file,label', got '\(line)'")
            }
            let p = parts[0].hasPrefix("/") ? parts[0] : (base.isEmpty ? parts[0] : base + "/" + parts[0])
            out.append(LabeledFile(path: p, label: parts[1]))
        }
        guard !out.isEmpty else { throw MediaError(csvPath, "manifest lists no files") }
        return out
    }

    /// "2" < "10", then plain string order.
    public static func naturalOrder(_ a: String, _ b: String) -> Bool {
        if let x = Int(a), let y = Int(b), x != y { return x < y }
        return a.compare(b, options: .numeric) == .orderedAscending
    }
}
