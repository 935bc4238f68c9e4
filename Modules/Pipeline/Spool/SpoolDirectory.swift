// The spool's folders, Maildir-style: writers rename files into inbox/; a worker claims one by renaming
// it into work/<worker-id>/; its result goes to results/<name>.json, then the input to done/ (or, with
// <name>.error.txt, to failed/). Every move is a rename within one file system, so on a shared POSIX
// file system the rename is the claim: two workers can never both hold an input.
import Foundation
import Tensor
import CSystem
import FilesAndText

public struct SpoolDirectory: Sendable {
    public let root: String
    public var inbox: String { root + "/inbox" }
    public var work: String { root + "/work" }
    public var results: String { root + "/results" }
    public var done: String { root + "/done" }
    public var failed: String { root + "/failed" }

    public init(_ root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    /// Creates the folders that are missing; a path that exists and is not a folder is an error.
    public func create() throws {
        for f in [root, inbox, work, results, done, failed] { try makeFolder(f) }
    }

    /// Whether this looks like a spool (for `dlpipe status`, which must not create one).
    public var isSpool: Bool {
        [inbox, work, results, done, failed].allSatisfy { isFolder($0) }
    }

    public func workerFolder(_ worker: String) -> String { work + "/" + worker }
    public func workerLock(_ worker: String) -> String { work + "/" + worker + ".lock" }
    public func resultPath(_ name: String) -> String { results + "/" + name + ".json" }
    public func errorPath(_ name: String) -> String { failed + "/" + name + ".error.txt" }

    /// Whether an earlier input of this name has left a result or an error file: a name dropped again
    /// is claimed under a new name instead, so nothing earlier is overwritten.
    func nameIsTaken(_ name: String) -> Bool {
        pathExists(resultPath(name)) || pathExists(errorPath(name))
    }

    /// Claims an inbox file for `worker`: moves it into the worker's folder under its spool name unless
    /// that name has a result already (then "name~2", "name~3", … — the extension kept last). Returns the
    /// claimed name, or nil when another worker got it first.
    func claim(_ entry: InboxEntry, for worker: String) -> String? {
        let from = Array(inbox.utf8CString.dropLast()) + [CChar(UInt8(ascii: "/"))] + entry.raw
        let name = entry.spoolName(worker: worker), folder = workerFolder(worker) + "/"
        var target = name, k = 1
        while true {
            if !nameIsTaken(target) {
                if dlp_rename_noreplace(from, folder + target) == 0 { return target }
                if errno != EEXIST && errno != ENOTEMPTY { return nil }  // gone: another worker has it
            }
            k += 1
            target = Self.numbered(name, k)
        }
    }

    /// "a.png", 2 → "a~2.png"; "notes", 3 → "notes~3".
    static func numbered(_ name: String, _ k: Int) -> String {
        let ext = (name as NSString).pathExtension
        guard !ext.isEmpty, name.count > ext.count + 1 else { return "\(name)~\(k)" }
        return "\((name as NSString).deletingPathExtension)~\(k).\(ext)"
    }

    /// Moves `from` into `folder` as `name`, or "name~2", … when that exists (never over a file);
    /// returns the name used.
    @discardableResult
    func move(_ from: String, into folder: String, as name: String) throws -> String {
        var target = name, k = 1
        while dlp_rename_noreplace(from, folder + "/" + target) != 0 {
            guard errno == EEXIST || errno == ENOTEMPTY else {
                throw FileWriteError(
                    path: from, reason: "cannot move into \(folder): \(String(cString: strerror(errno)))")
            }
            k += 1
            target = Self.numbered(name, k)
        }
        return target
    }

    /// Temp-file name prefix of one worker's unfinished writes in results/ and failed/.
    func temporaryPrefix(_ worker: String) -> String { ".tmp." + worker + "." }

    /// Files waiting in inbox/ (at most `limit`, in name order within one read); names starting with
    /// "." are writers' temp files and are left alone.
    func inboxEntries(limit: Int) -> [InboxEntry] {
        FolderListing.entries(in: inbox, limit: limit).sorted { $0.raw.lexicographicallyPrecedes($1.raw) }
    }
}
