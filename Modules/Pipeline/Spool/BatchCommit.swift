// Group commit of one batch's outcomes: every result (results/<name>.json) and error file
// (failed/<name>.error.txt) is written to a temp name, one flush makes them durable, they are renamed
// into place, a second flush makes the names durable, and only then do the inputs leave work/ for done/
// or failed/. Two flushes per batch instead of one fsync per file is what lets thousands of files a
// second be durable. A crash at any point leaves each input either still in work/ with no result (it is
// processed again) or with a whole result (recovery moves it on): never a half or a second result.
import Foundation
import Tensor
import CSystem
import FilesAndText

public struct BatchTally: Equatable {
    public var done = 0
    public var failed = 0
}

/// One claimed input's outcome, by the name it has in the worker's folder.
struct ClaimedOutcome {
    let name: String
    let outcome: ServedOutcome
}

struct BatchCommit {
    let spool: SpoolDirectory
    let worker: String
    let model: String?

    func commit(_ batch: [ClaimedOutcome], started: Date) throws -> BatchTally {
        let time = ResultJSON.timestamp(Date())
        let ms = Date().timeIntervalSince(started) * 1000
        var renames: [(temp: String, folder: String, name: String)] = []
        defer { for r in renames { unlink(r.temp) } }  // only temp names still there: a failed commit
        for c in batch {
            let (folder, name, text): (String, String, String)
            switch c.outcome {
            case .result(let item):
                (folder, name, text) = (
                    spool.results, c.name + ".json",
                    ResultJSON.make(c.name, item, model: model, worker: worker, time: time, ms: ms)
                )
            case .failed(let reason):
                (folder, name, text) = (
                    spool.failed, c.name + ".error.txt", "\(c.name): \(reason)\n(worker \(worker), \(time))\n"
                )
            }
            let temp = folder + "/" + spool.temporaryPrefix(worker) + name
            unlink(temp)
            try writeNewFile(Data(text.utf8), to: temp, sync: false)
            renames.append((temp, folder, name))
        }
        try flush()
        for r in renames { try spool.move(r.temp, into: r.folder, as: r.name) }
        renames.removeAll()
        try flush()
        var tally = BatchTally()
        for c in batch {
            let from = spool.workerFolder(worker) + "/" + c.name
            if case .result = c.outcome {
                try spool.move(from, into: spool.done, as: c.name)
                tally.done += 1
            } else {
                try spool.move(from, into: spool.failed, as: c.name)
                tally.failed += 1
            }
        }
        return tally
    }

    /// One flush of the spool's file system (data and names of everything written so far).
    func flush() throws {
        let fd = open(spool.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileWriteError(path: spool.root, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if dlp_syncfs(fd) != 0 {
            throw FileWriteError(path: spool.root, reason: "flush failed: \(String(cString: strerror(errno)))")
        }
    }
}
