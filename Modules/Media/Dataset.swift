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
        let labels = try folderEntries(root).filter { !$0.hasPrefix(".") }
        for label in labels.sorted(by: naturalOrder) {
            let dir = root + "/" + label
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            let files = try folderEntries(dir)
                .filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            for f in files.sorted(by: naturalOrder) { out.append(LabeledFile(path: dir + "/" + f, label: label)) }
        }
        guard !out.isEmpty else { throw MediaError(root, "no \(extensions.sorted().joined(separator: "/")) files in label sub-folders") }
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
            guard stat(dir, &st) == 0, visited.insert(FolderIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))).inserted else { continue }
            let names = try folderEntries(dir)
            for name in names where !name.hasPrefix(".") {
                let full = dir + "/" + name
                guard stat(full, &st) == 0 else { continue }   // a dangling link
                if (st.st_mode & S_IFMT) == S_IFDIR { pending.append(full) }
                else if extensions.contains((name as NSString).pathExtension.lowercased()) { out.append(full) }
            }
        }
        return out.sorted(by: naturalOrder)
    }

    struct FolderIdentity: Hashable { let device: UInt64, inode: UInt64 }

    /// The names in a folder; an unreadable folder is an error with the system's reason.
    static func folderEntries(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw MediaError(dir, "cannot list folder: \(String(cString: strerror(errno)))") }
        closedir(d)
        do { return try FileManager.default.contentsOfDirectory(atPath: dir) }
        catch { throw MediaError(dir, "cannot list folder") }
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
