// Listing the spool's folders with readdir, and the two file tests the spool needs.
import Foundation

func pathExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

func isFolder(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// readdir without Foundation's per-entry cost: the spool lists folders of many thousands of files.
enum FolderListing {
    /// Entry names in `folder` that start with `prefix`; with the default "", every name except those
    /// starting with "." ("." and "..", temp files).
    static func names(in folder: String, prefix: String = "", limit: Int = Int.max) -> [String] {
        entries(in: folder, prefix: prefix, limit: limit).map { $0.name }
    }

    static func entries(in folder: String, prefix: String = "", limit: Int = Int.max) -> [InboxEntry] {
        guard let d = opendir(folder) else { return [] }
        defer { closedir(d) }
        let want = Array(prefix.utf8).map { CChar(bitPattern: $0) }
        var out: [InboxEntry] = []
        while out.count < limit, let e = readdir(d) {
            let raw: [CChar] = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { p in
                    Array(UnsafeBufferPointer(start: p, count: strlen(p) + 1))
                }
            }
            let keep = want.isEmpty ? raw[0] != CChar(UInt8(ascii: ".")) : raw.starts(with: want)
            if keep { out.append(InboxEntry(raw: raw)) }
        }
        return out
    }
}
