// `dlpipe bench mfcc`: MFCCs of a 1-s 16 kHz clip (13 coefficients, n_fft 512, hop 160, 40 mels, as
// pipelines/speech-features.conf): the first call in the process, the median of later calls one clip at a
// time, and the time per clip when 64 clips are spread over the threads. scripts/bench-sequence.sh times
// librosa.feature.mfcc with the same settings next to it.
import Foundation
import Dispatch
import Tensor
import Media

func benchMFCC(_ opts: BenchOptions) {
    var rng = SeededRandom(seed: 9)
    let clip = (0..<16000).map { i in Float(0.3 * sin(Double(i) * 0.07) + 0.05 * Double(rng.nextNormal())) }
    let s = SpectrogramSettings()
    let t0 = DispatchTime.now().uptimeNanoseconds
    _ = Features.mfcc(clip, sampleRate: 16000, s)
    let first = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3
    let single =
        medianTime(warmup: 3, minSeconds: max(opts.seconds, 0.5)) { _ = Features.mfcc(clip, sampleRate: 16000, s) }
        * 1e6
    var rows: [[String]] = []
    for t in opts.threadCounts {
        withThreads(t) {
            let batch = 64
            let total = medianTime(warmup: 1, minSeconds: max(opts.seconds, 0.5)) {
                Parallel.run(t) { part in
                    for _ in stride(from: part, to: batch, by: t) { _ = Features.mfcc(clip, sampleRate: 16000, s) }
                }
            }
            let perClip = total / Double(batch) * 1e6
            if opts.json {
                print(
                    "{\"bench\":\"mfcc\",\"seconds\":1,\"rate\":16000,\"threads\":\(t),\"first_call_us\":\(fmt(first, 1)),\"single_us\":\(fmt(single, 1)),\"batched_us_per_clip\":\(fmt(perClip, 1))}"
                )
            } else {
                rows.append([
                    "mfcc 13 of 40 mels", "1 s, 16 kHz", "\(t)", fmt(first, 1), fmt(single, 1), fmt(perClip, 1),
                ])
            }
        }
    }
    if !opts.json {
        printTable(["bench", "clip", "threads", "first call µs", "one at a time µs", "batched µs per clip"], rows)
    }
}
