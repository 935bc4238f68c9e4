// Storage: one 64-byte-aligned Float allocation, owned by a final class so tensors can share it (views)
// and free it deterministically. Freed buffers go back to a size-keyed pool, so a training loop that
// allocates the same shapes every step reaches a steady state with no malloc at all.
import Foundation

/// A contiguous, 64-byte-aligned buffer of `count` Floats. Contents are uninitialised unless zeroed.
///
///     let s = Storage(count: 1024, zeroed: true)
public final class Storage {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int, zeroed: Bool = false) {
        precondition(count >= 0, "Storage: negative size \(count)")
        self.count = count
        base = BufferPool.shared.take(count)
        if zeroed { base.initialize(repeating: 0, count: count) }
    }

    deinit { BufferPool.shared.give(base, count) }
}

/// Recycles buffers by exact element count. Bounded so a one-off huge tensor does not stay cached forever.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedFloats = 0
    /// Buffers that had to come from the system allocator (not the pool) since start.
    public private(set) var freshAllocations = 0
    private let maxCachedFloats = 256 << 20 / 4  // 256 MB
    private var lock = pthread_mutex_t()

    init() { pthread_mutex_init(&lock, nil) }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        pthread_mutex_lock(&lock)
        if var list = free[n], let p = list.popLast() {
            free[n] = list
            cachedFloats -= n
            pthread_mutex_unlock(&lock)
            return p
        }
        freshAllocations += 1
        pthread_mutex_unlock(&lock)
        return Self.allocateAligned(n)
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = max(count, 1)
        pthread_mutex_lock(&lock)
        if cachedFloats + n <= maxCachedFloats {
            free[n, default: []].append(p)
            cachedFloats += n
            pthread_mutex_unlock(&lock)
        } else {
            pthread_mutex_unlock(&lock)
            Foundation.free(p)
        }
    }

    static func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let bytes = (count * 4 + 63) & ~63
        guard posix_memalign(&raw, 64, bytes) == 0, let r = raw else {
            fatalError("dlpipe: out of memory allocating \(bytes) bytes")
        }
        return r.bindMemory(to: Float.self, capacity: count)
    }
}

/// Scratch for Int32 index tables: the same pooled memory as `withScratch`, rebound for the call.
///
///     withScratchInt32(n) { offsets in ... }
@inline(__always)
public func withScratchInt32<R>(_ count: Int, _ body: (UnsafeMutablePointer<Int32>) throws -> R) rethrows -> R {
    try withScratch(count) { try $0.withMemoryRebound(to: Int32.self, capacity: Swift.max(count, 1), body) }
}

/// A scratch buffer for kernels (packing panels, im2col columns), returned to the pool when done.
///
///     withScratch(n) { p in ... }
@inline(__always)
public func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let p = BufferPool.shared.take(count)
    defer { BufferPool.shared.give(p, count) }
    return try body(p)
}
