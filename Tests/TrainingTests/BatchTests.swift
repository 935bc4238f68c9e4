// The batch loader over images, feature sequences and token windows: every example once per epoch,
// seeded order, payloads that follow their labels, padding with true lengths.
import XCTest
import Tensor
@testable import Training

final class BatchTests: XCTestCase {
    func testImageBatchesCoverEverySampleOnceAndAreSeeded() {
        let n = 37
        let x = Tensor(uninitialized: [n, 1, 2, 2])
        for i in 0..<n { for j in 0..<4 { x.data[i * 4 + j] = Float(i) } }
        let labels = Array(0..<n)
        let source = ImageBatches(images: x, labels: labels)
        func epoch(_ seed: UInt64) -> [Int] {
            var seen: [Int] = []
            for b in BatchLoader(source, batchSize: 8, seed: seed) {
                XCTAssertEqual(b.x.shape[0], b.labels.count)
                // Images follow their labels.
                for (k, l) in b.labels.enumerated() { XCTAssertEqual(b.x.data[k * 4], Float(l)) }
                seen += b.labels
            }
            return seen
        }
        let a = epoch(1)
        XCTAssertEqual(a.sorted(), labels)
        XCTAssertEqual(a, epoch(1))
        XCTAssertNotEqual(a, epoch(2))
        let dropped = BatchLoader(source, batchSize: 8, seed: 1, dropLast: true)
        XCTAssertEqual(dropped.reduce(0) { $0 + $1.labels.count }, 32)
        // Unlabelled images batch too.
        XCTAssertEqual(
            BatchLoader(ImageBatches(images: x), batchSize: 10, shuffle: false).map { $0.x.shape[0] }, [10, 10, 10, 7])
    }

    func testSequenceBatchesPadToTheLongestAndKeepLengths() {
        let seqs = [3, 1, 4, 2].map { t in Tensor((0..<(t * 2)).map { Float($0 + 1) }, shape: [t, 2]) }
        let loader = BatchLoader(SequenceBatches(sequences: seqs, labels: [0, 1, 2, 3]), batchSize: 3, shuffle: false)
        let batches = Array(loader)
        XCTAssertEqual(batches.map { $0.lengths }, [[3, 1, 4], [2]])
        XCTAssertEqual(batches[0].x.shape, [3, 4, 2])
        // The 1-frame sequence is followed by zeros.
        XCTAssertEqual(Array(batches[0].x.scalars[8..<16]), [1, 2, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(batches[1].labels, [3])
    }

    func testTokenWindowsPredictTheNextToken() {
        let tokens: [Int32] = Array(0..<11)
        let source = TokenBatches(tokens: tokens, window: 4)
        XCTAssertEqual(source.count, 2)
        let b = Array(BatchLoader(source, batchSize: 2, shuffle: false))[0]
        XCTAssertEqual(b.inputs.scalars, [0, 1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(b.targets, [1, 2, 3, 4, 5, 6, 7, 8])
    }
}
