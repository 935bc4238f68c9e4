// Making the folders an output goes into, with errors that name the folder and the system's reason.
import Foundation

/// Creates the folder `path` will be written into (and its parents).
public func makeParentFolder(_ path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    if !dir.isEmpty { try makeFolder(dir) }
}

/// mkdir -p, with the system's reason and the folder that could not be made in the error.
public func makeFolder(_ dir: String) throws {
    var st = stat()
    if stat(dir, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw FileWriteError(path: dir, reason: "exists and is not a folder")
        }
        return
    }
    let parent = (dir as NSString).deletingLastPathComponent
    if !parent.isEmpty && parent != dir { try makeFolder(parent) }
    if mkdir(dir, 0o755) != 0 && errno != EEXIST {
        throw FileWriteError(path: dir, reason: "cannot create folder: \(String(cString: strerror(errno)))")
    }
}
