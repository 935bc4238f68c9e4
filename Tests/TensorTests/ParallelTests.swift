// The worker pool behind Parallel.run: every index runs exactly once, nested regions run serially
// instead of deadlocking, and regions started from several threads at once all complete.
import XCTest
import Dispatch
@testable import Tensor

final class ParallelTests: XCTestCase {
    override func setUp() { Parallel.threads = 2 }
    override func tearDown() { Parallel.threads = max(1, ProcessInfo.processInfo.activeProcessorCount) }

    func testEveryIndexRunsOnceAcrossManyShortRegions() {
        let counts = UnsafeMutablePointer<Int32>.allocate(capacity: 97)
        defer { counts.deallocate() }
        let C = UnsafeSendable32(counts)
        for round in 0..<20000 {
            counts.initialize(repeating: 0, count: 97)
            let n = 1 + round % 97
            Parallel.run(n) { i in C.p[i] += 1 }
            for i in 0..<n where counts[i] != 1 {
                XCTFail("round \(round): index \(i) ran \(counts[i]) times")
                return
            }
        }
    }

    func testNestedRegionsRunSeriallyInsteadOfDeadlocking() {
        let out = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        defer { out.deallocate() }
        out.initialize(repeating: 0, count: 64)
        let O = UnsafeSendable32(out)
        Parallel.run(8) { i in
            Parallel.run(8) { j in O.p[i * 8 + j] += 1 }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: out, count: 64)), Array(repeating: 1, count: 64))
    }

    func testSeriallyKeepsRegionsOnTheCallingThreadAndNests() {
        let caller = pthread_self()
        let others = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { others.deallocate() }
        others.initialize(to: 0)
        let O = UnsafeSendable32(others)
        let inner = Parallel.serially { () -> Int in
            let nested = Parallel.serially { Parallel.threads }
            XCTAssertEqual(Parallel.threads, 1, "still serial after a nested block ends")
            for _ in 0..<200 {
                Parallel.run(16) { _ in if pthread_equal(pthread_self(), caller) == 0 { O.p[0] += 1 } }
            }
            return nested
        }
        XCTAssertEqual(inner, 1)
        XCTAssertEqual(others.pointee, 0, "a region inside serially ran on another thread")
        XCTAssertEqual(Parallel.threads, 2, "the configured count is back after the block")
    }

    func testRegionsFromSeveralThreadsAtOnceAllComplete() {
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 4)
        let S = UnsafeSendableInt(sums)
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for _ in 0..<500 {
                let parts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
                let P = UnsafeSendableInt(parts)
                Parallel.run(3) { i in P.p[i] = i + 1 }
                S.p[t] += parts[0] + parts[1] + parts[2]
                parts.deallocate()
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: sums, count: 4)), [3000, 3000, 3000, 3000])
    }
}

struct UnsafeSendable32: @unchecked Sendable {
    let p: UnsafeMutablePointer<Int32>
    init(_ p: UnsafeMutablePointer<Int32>) { self.p = p }
}
struct UnsafeSendableInt: @unchecked Sendable {
    let p: UnsafeMutablePointer<Int>
    init(_ p: UnsafeMutablePointer<Int>) { self.p = p }
}
