// `dlpipe run --shard K/N`: this run reads only the inputs whose relative path hashes to K modulo N, so N
// runs with K = 0 … N−1 (a Slurm job array, a Kubernetes Indexed Job) cover every input exactly once with no
// coordination. The hash is FNV-1a of the path relative to the reader's folder option: the same on every
// machine, whatever the folder is mounted as.
import FilesAndText

public struct Shard: Equatable, CustomStringConvertible {
    public let index: Int, count: Int

    /// Parses "K/N" with 0 ≤ K < N ≤ 1,000,000.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 1_000_000, k >= 0, k < n
        else { return nil }
        index = k
        count = n
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether the input at `relativePath` belongs to this shard.
    public func contains(relativePath: String) -> Bool {
        FNV1a.hash(relativePath) % UInt64(count) == UInt64(index)
    }
}
