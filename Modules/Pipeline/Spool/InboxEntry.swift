// A name read from a spool folder, kept as the system's bytes (any name may arrive, UTF-8 or not).
import Foundation
import FilesAndText

/// A file in inbox/ as the directory holds it: its name's bytes (any bytes but "/" and NUL) and the name
/// it gets in the spool (valid UTF-8, short enough for the result and error files next to it).
struct InboxEntry {
    /// The name's bytes, NUL-terminated.
    let raw: [CChar]

    /// Invalid UTF-8 becomes "_"; a name too long to carry ".json" or ".error.txt" (and a worker's temp
    /// prefix) within the file system's 255 bytes is shortened, keeping its extension and a hash of the
    /// whole name so two long names stay apart.
    func spoolName(worker: String) -> String {
        var name = self.name.replacingOccurrences(of: "\u{FFFD}", with: "_")
        let room = 255 - ".tmp.".utf8.count - worker.utf8.count - 1 - ".error.txt".utf8.count - 8
        if name.utf8.count > room {
            let ext = (name as NSString).pathExtension
            let keepExt = !ext.isEmpty && ext.utf8.count <= 16
            let suffix = "~" + FNV1a.hex(raw.dropLast().map { UInt8(bitPattern: $0) }) + (keepExt ? "." + ext : "")
            var stem = ""
            for c in name.unicodeScalars {
                if stem.utf8.count + String(c).utf8.count + suffix.utf8.count > room { break }
                stem.unicodeScalars.append(c)
            }
            name = stem + suffix
        }
        return name
    }

    /// The name as text (invalid UTF-8 shown as U+FFFD).
    var name: String { String(decoding: raw.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self) }
}
