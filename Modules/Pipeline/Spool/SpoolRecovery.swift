// Crash recovery: what a dead worker left in work/<id>/ goes where it belongs. An input whose result
// (or error file) is already durable is finished by moving it on, never processed again; anything else
// goes back to inbox/ for any worker to claim. Results are only renamed into place after they are
// flushed, so "a result exists" means it is whole.
import Foundation
import Tensor

public struct RecoveredInputs: Equatable {
    public var finished = 0
    public var requeued = 0
}

enum SpoolRecovery {
    /// Recovers every worker folder whose lock nobody holds (never `me`'s).
    static func recoverDeadWorkers(_ spool: SpoolDirectory, except me: String) throws -> RecoveredInputs {
        var total = RecoveredInputs()
        var workers = Set<String>()
        for name in FolderListing.names(in: spool.work) {
            workers.insert(name.hasSuffix(".lock") ? String(name.dropLast(5)) : name)
        }
        for id in workers.sorted() where id != me {
            guard let lock = try WorkerLock(spool.workerLock(id)) else { continue }  // alive
            let r = try recoverFolder(spool, worker: id)
            total.finished += r.finished
            total.requeued += r.requeued
            rmdir(spool.workerFolder(id))
            lock.remove()
        }
        return total
    }

    /// Puts each input in work/<worker>/ into done/, failed/ or back into inbox/. The caller holds the
    /// worker's lock.
    static func recoverFolder(_ spool: SpoolDirectory, worker: String) throws -> RecoveredInputs {
        var r = RecoveredInputs()
        let folder = spool.workerFolder(worker)
        for name in FolderListing.names(in: folder) {
            let path = folder + "/" + name
            if pathExists(spool.resultPath(name)) {
                try spool.move(path, into: spool.done, as: name)
                r.finished += 1
            } else if pathExists(spool.errorPath(name)) {
                try spool.move(path, into: spool.failed, as: name)
                r.finished += 1
            } else {
                try spool.move(path, into: spool.inbox, as: name)
                r.requeued += 1
            }
        }
        removeTemporaries(spool, of: worker)
        return r
    }

    /// Results and error files the worker had written but not yet renamed into place.
    static func removeTemporaries(_ spool: SpoolDirectory, of worker: String) {
        let prefix = spool.temporaryPrefix(worker)
        for folder in [spool.results, spool.failed] {
            for name in FolderListing.names(in: folder, prefix: prefix) { unlink(folder + "/" + name) }
        }
    }
}
