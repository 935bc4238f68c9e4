// Central finite differences (accumulated in Double) against autograd, with the max difference printed
// per check, as llm.c and micrograd do.
import XCTest
@testable import Tensor

/// Checks d(Σ wᵢ·f(inputs)ᵢ)/d(input) from backward() against central differences.
func checkGradients(
    _ name: String, _ inputs: [Tensor], eps: Float = 1e-2, tol: Double = 2e-2,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor
) {
    for t in inputs {
        t.requiresGrad = true
        t.grad = nil
    }
    let out = f(inputs)
    let w = Tensor.uniform(out.shape, low: -1, high: 1, seed: 99)
    (out * w).sum().backward()
    func loss() -> Double {
        Autograd.noGrad {
            let o = f(inputs)
            var s = 0.0
            for i in 0..<o.count { s += Double(o.data[i]) * Double(w.data[i]) }
            return s
        }
    }
    var maxDiff = 0.0
    for (k, t) in inputs.enumerated() {
        guard let g = t.grad else {
            XCTFail("\(name): input \(k) got no gradient", file: file, line: line)
            continue
        }
        XCTAssertEqual(g.shape, t.shape, "\(name): gradient shape", file: file, line: line)
        // Check every element of small inputs, a spread sample of large ones.
        let step = max(1, t.count / 64)
        for i in stride(from: 0, to: t.count, by: step) {
            let old = t.data[i]
            t.data[i] = old + eps
            let lp = loss()
            t.data[i] = old - eps
            let lm = loss()
            t.data[i] = old
            let num = (lp - lm) / (2 * Double(eps))
            let ana = Double(g.data[i])
            let diff = abs(num - ana) / max(1, abs(num))
            maxDiff = max(maxDiff, diff)
            if diff > tol {
                XCTFail("\(name): input \(k)[\(i)] analytic \(ana) vs numeric \(num)", file: file, line: line)
                return
            }
        }
    }
    print("GRAD OK \(name): maxdiff = \(String(format: "%.2e", maxDiff))")
}

/// Random tensor with values kept away from 0 (so kinks of relu/abs are not straddled by ±eps).
func rnd(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    let t = Tensor.uniform(shape, low: low, high: high, seed: seed)
    for i in 0..<t.count where abs(t.data[i]) < 0.05 { t.data[i] += t.data[i] < 0 ? -0.05 : 0.05 }
    return t
}
