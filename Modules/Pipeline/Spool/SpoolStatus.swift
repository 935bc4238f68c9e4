// `dlpipe status SPOOL`: what is queued, in work (per worker, with the age of its oldest input and
// whether the worker is alive), done and failed, and how many inputs finished in the last minute (a
// rename sets a file's ctime, so done/ and failed/ entries tell when they arrived).
import Foundation
import Tensor
import FilesAndText

public struct SpoolStatus {
    public struct Worker {
        public let id: String
        public let inputs: Int
        /// Seconds since the oldest input in its folder was claimed.
        public let oldestAge: Double?
        public let alive: Bool
    }

    public let queued: Int
    public let workers: [Worker]
    public let done: Int
    public let failed: Int
    /// Inputs that reached done/ or failed/ in the last 60 s.
    public let lastMinute: Int

    public static func read(_ spool: SpoolDirectory, now: Date = Date()) -> SpoolStatus {
        let queued = FolderListing.names(in: spool.inbox).count
        var ids = Set<String>()
        for name in FolderListing.names(in: spool.work) {
            ids.insert(name.hasSuffix(".lock") ? String(name.dropLast(5)) : name)
        }
        let workers = ids.sorted().map { id -> Worker in
            let folder = spool.workerFolder(id)
            let names = FolderListing.names(in: folder)
            let oldest = names.compactMap { changeTime(folder + "/" + $0) }.min()
            return Worker(
                id: id, inputs: names.count, oldestAge: oldest.map { now.timeIntervalSince1970 - $0 },
                alive: WorkerLock.isHeld(spool.workerLock(id)))
        }
        let done = FolderListing.names(in: spool.done)
        let failed = FolderListing.names(in: spool.failed).filter { !$0.hasSuffix(".error.txt") }
        let since = now.timeIntervalSince1970 - 60
        var recent = 0
        for (folder, names) in [(spool.done, done), (spool.failed, failed)] {
            for n in names where (changeTime(folder + "/" + n) ?? 0) >= since { recent += 1 }
        }
        return SpoolStatus(queued: queued, workers: workers, done: done.count, failed: failed.count, lastMinute: recent)
    }

    static func changeTime(_ path: String) -> Double? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) * 1e-9
    }

    public var text: String {
        var lines = ["queued:  \(queued)"]
        let inWork = workers.reduce(0) { $0 + $1.inputs }
        lines.append(
            "in work: \(inWork)" + (workers.isEmpty ? "" : " (\(workers.count) worker\(workers.count == 1 ? "" : "s"))")
        )
        for w in workers {
            let age = w.oldestAge.map { String(format: ", oldest %.1f s", $0) } ?? ""
            lines.append(
                "  \(w.id): \(w.inputs) input\(w.inputs == 1 ? "" : "s")\(age)\(w.alive ? "" : " — not running (its inputs are recovered by the next worker)")"
            )
        }
        lines.append("done:    \(done)")
        lines.append("failed:  \(failed)")
        lines.append(
            String(format: "rate:    %d in the last minute (%.1f files/s)", lastMinute, Double(lastMinute) / 60))
        return lines.joined(separator: "\n")
    }

    public var json: String {
        let ws = workers.map { w in
            "{\"id\":\(jsonQuoted(w.id)),\"inputs\":\(w.inputs),\"oldest_seconds\":\(w.oldestAge.map { jsonNumber($0, format: "%.3f") } ?? "null"),\"alive\":\(w.alive)}"
        }
        return
            "{\"queued\":\(queued),\"in_work\":\(workers.reduce(0) { $0 + $1.inputs }),\"workers\":[\(ws.joined(separator: ","))],"
            + "\"done\":\(done),\"failed\":\(failed),\"last_minute\":\(lastMinute),\"per_second\":\(jsonNumber(Double(lastMinute) / 60, format: "%.2f"))}"
    }
}
