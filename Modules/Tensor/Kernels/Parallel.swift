// Work splitting over cores, on a small spinning worker pool (Modules/CKernels/pool.c): a parallel
// region starts in ~0.25 µs, where DispatchQueue.concurrentPerform took ~7 µs plus tens of µs to wake a
// sleeping worker after a serial stretch. The thread count comes from DLPIPE_THREADS (default: all cores).
import Foundation
import CKernels

/// Number of worker threads kernels may use. Set with `DLPIPE_THREADS` or assign directly.
///
///     Parallel.threads = 1
public enum Parallel {
    /// 1 inside `serially` (on that thread) and inside a parallel region; the configured count otherwise.
    public static var threads: Int {
        get { dlp_serial_active() != 0 ? 1 : configured }
        set { configured = newValue }
    }
    nonisolated(unsafe) static var configured: Int = {
        if let s = ProcessInfo.processInfo.environment["DLPIPE_THREADS"], let n = Int(s), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` with every kernel it calls on the calling thread only: for work so small that
    /// handing half of it to another core costs more than it saves.
    ///
    ///     let logits = Parallel.serially { net(oneImage) }
    public static func serially<R>(_ body: () throws -> R) rethrows -> R {
        dlp_serial_begin()
        defer { dlp_serial_end() }
        return try body()
    }

    /// Runs `body(i)` for i in 0..<n, in parallel when n > 1 and more than one thread is allowed.
    @inline(__always)
    public static func run(_ n: Int, _ body: (Int) -> Void) {
        if n <= 1 || threads <= 1 {
            for i in 0..<n { body(i) }
            return
        }
        withoutActuallyEscaping(body) { b in
            let job = Job(b)
            withExtendedLifetime(job) {
                dlp_pool_run(
                    n, threads, { ctx, i in Unmanaged<Job>.fromOpaque(ctx!).takeUnretainedValue().body(i) },
                    Unmanaged.passUnretained(job).toOpaque())
            }
        }
    }

    /// The region body, boxed so C can hold it as a context pointer for the duration of the call.
    final class Job: @unchecked Sendable {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }

    /// Splits 0..<total into at most `threads` contiguous ranges of at least `minChunk` items
    /// (aligned to `align`) and runs them in parallel.
    public static func forRanges(
        _ total: Int, minChunk: Int, align: Int = 1,
        _ body: (Range<Int>) -> Void
    ) {
        let parts = max(1, min(threads, total / max(minChunk, 1)))
        if parts <= 1 {
            body(0..<total)
            return
        }
        var per = (total + parts - 1) / parts
        per = (per + align - 1) / align * align
        let n = (total + per - 1) / per
        run(n) { i in
            let lo = i * per, hi = min(total, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Raw pointer that may cross into concurrentPerform closures (Swift 6 Sendable checking).
public struct SendablePointer: @unchecked Sendable {
    public let p: UnsafeMutablePointer<Float>
    @inline(__always) public init(_ p: UnsafeMutablePointer<Float>) { self.p = p }
}
