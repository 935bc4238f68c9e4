// Labelled file lists. A label comes only from a file's immediate parent
// folder (train/3/x.png → "3"; never matched anywhere in the path) or from a CSV manifest (file,label).
import Foundation
import Tensor

public struct LabeledFile: Equatable {
    public let path: String
    public let label: String
    public init(path: String, label: String) {
        self.path = path
        self.label = label
    }
}

public enum FileList {
    /// `root/<label>/<file>` for files with one of `extensions` (case-insensitive), sorted by label then name.
    public static func labeledFolders(_ root: String, extensions: Set<String>) throws -> [LabeledFile] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else {
            throw MediaError(root, "no such folder")
        }
        guard isDir.boolValue else { throw MediaError(root, "not a folder") }
        var out: [LabeledFile] = []
        let labels = try folderEntries(root).filter { !$0.hasPrefix(".") }
        for label in labels.sorted(by: naturalOrder) {
            let dir = label.hasPrefix("/") ? label : root + "/" + label
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            let files = try folderEntries(dir)
                .filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            for f in files.sorted(by: naturalOrder) {
                out.append(
                    LabeledFile(path: f.hasPrefix("/") ? f : dir + "/" + f, label: UndecodableNames.display(label)))
            }
        }
        guard !out.isEmpty else {
            throw MediaError(root, "no \(extensions.sorted().joined(separator: "/")) files in label sub-folders")
        }
        return out
    }

    /// The files below a folder (searched recursively, following symlinked folders; each real folder
    /// is visited once, so a link loop ends), or the one file `path` names; unlabelled, sorted.
    public static func files(_ path: String, extensions: Set<String>) throws -> [String] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw MediaError(path, "no such file or folder") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return [path] }
        var out: [String] = []
        var visited = Set<FolderIdentity>()
        var pending = [path]
        while let dir = pending.popLast() {
            guard stat(dir, &st) == 0,
                visited.insert(FolderIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))).inserted
            else { continue }
            let names = try folderEntries(dir)
            for name in names where !name.hasPrefix(".") {
                let full = name.hasPrefix("/") ? name : dir + "/" + name
                guard stat(full, &st) == 0 else { continue }  // a dangling link
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    pending.append(full)
                } else if extensions.contains((name as NSString).pathExtension.lowercased()) {
                    out.append(full)
                }
            }
        }
        return out.sorted(by: naturalOrder)
    }

    struct FolderIdentity: Hashable { let device: UInt64, inode: UInt64 }

    /// The names in a folder; an unreadable folder is an error with the system's reason. A name that
    /// is not valid UTF-8 is read through an alias (see `UndecodableNames`), which is what is returned.
    static func folderEntries(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else {
            throw MediaError(dir, "cannot list folder: \(String(cString: strerror(errno)))")
        }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let bytes = withUnsafeBytes(of: e.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if bytes == Array(".".utf8) || bytes == Array("..".utf8) { continue }
            if let name = String(validating: bytes, as: UTF8.self) {
                names.append(name)
            } else if let alias = UndecodableNames.alias(folder: dir, name: bytes) {
                names.append(alias)
            }
        }
        return names
    }

    /// A CSV manifest with lines `file,label` (a `file,label` header line is allowed); paths are relative
    /// to the manifest's folder. Errors name the manifest line.
    public static func manifest(_ csvPath: String) throws -> [LabeledFile] {
        let data = try PNG.readBytes(csvPath, maxBytes: 64 << 20)
        guard let text = String(data: data, encoding: .utf8) else { throw MediaError(csvPath, "not valid UTF-8") }
        let base = (csvPath as NSString).deletingLastPathComponent
        var out: [LabeledFile] = []
        for (i, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .enumerated()
        {
            let line = rawLine.trimmingCharacters(in: CharacterSet(charactersIn: "\r")).trimmingCharacters(
                in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
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

/// File and folder names that are not valid UTF-8 cannot be Swift strings. Each is given an alias: a
/// symlink in a private folder, named after the original with the undecodable bytes written %XX, which
/// points at the original by its raw bytes. Opening the alias opens the file; messages show its name.
/// The private folder is removed when the process exits.
enum UndecodableNames {
    nonisolated(unsafe) static var folder: String?
    static let lock = NSLock()

    /// An absolute path that opens `folder/name`, or nil when no alias can be made.
    static func alias(folder dir: String, name: [UInt8]) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if folder == nil {
            let f = NSTemporaryDirectory() + "dlpipe-names-\(getpid())"
            guard mkdir(f, 0o700) == 0 || errno == EEXIST else { return nil }
            folder = f
            atexit { if let f = UndecodableNames.folder { try? FileManager.default.removeItem(atPath: f) } }
        }
        var escaped = name.map { b -> String in
            b >= 0x80 || b < 0x20 || b == 0x25 ? String(format: "%%%02X", b) : String(UnicodeScalar(b))
        }.joined()
        var k = 1
        while FileManager.default.fileExists(atPath: folder! + "/" + escaped) {
            k += 1
            escaped = "\(k)-" + escaped
        }
        let absolute = dir.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        let target = Array(absolute.utf8) + [0x2F] + name + [0]
        let link = folder! + "/" + escaped
        let ok = target.withUnsafeBufferPointer { t in
            t.withMemoryRebound(to: CChar.self) { symlink($0.baseAddress!, link) == 0 }
        }
        return ok ? link : nil
    }

    /// The name to show for a label folder reached through an alias.
    static func display(_ label: String) -> String {
        label.hasPrefix("/") ? (label as NSString).lastPathComponent : label
    }
}
