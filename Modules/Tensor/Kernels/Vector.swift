// Vectorised elementwise kernels on raw buffers (SIMD8 main loop + scalar tail). Reductions use SIMD
// accumulators: a scalar float sum does not auto-vectorise (strict FP forbids reassociation).
import Foundation

public typealias F8 = SIMD8<Float>

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> F8 { UnsafeRawPointer(p).loadUnaligned(as: F8.self) }
@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> F8 { UnsafeRawPointer(p).loadUnaligned(as: F8.self) }
@inline(__always) func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self)
}

/// y[i] += x[i]
@inline(__always)
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        store8(load8(y + i) + load8(x + i), y + i)
        i += 8
    }
    while i < n {
        y[i] += x[i]
        i += 1
    }
}

/// dst[0..<n] = src[0..<n]. Inline SIMD for the short rows of im2col and channel gathers, where a
/// memmove call per 11–26 floats cost more than the copy itself.
@inline(__always)
public func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    if n >= 256 {
        dst.update(from: src, count: n)
        return
    }
    var i = 0
    while i + 8 <= n {
        store8(load8(src + i), dst + i)
        i += 8
    }
    while i < n {
        dst[i] = src[i]
        i += 1
    }
}

/// out[i] = f(a[i], b[i]) for two equally long buffers.
@inline(__always)
func zip8(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
    _ v: (F8, F8) -> F8, _ s: (Float, Float) -> Float
) {
    var i = 0
    while i + 8 <= n {
        store8(v(load8(a + i), load8(b + i)), out + i)
        i += 8
    }
    while i < n {
        out[i] = s(a[i], b[i])
        i += 1
    }
}

/// out[i] = f(a[i]).
@inline(__always)
func map8(
    _ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
    _ v: (F8) -> F8, _ s: (Float) -> Float
) {
    var i = 0
    while i + 8 <= n {
        store8(v(load8(a + i)), out + i)
        i += 8
    }
    while i < n {
        out[i] = s(a[i])
        i += 1
    }
}

/// Σ x[i]·y[i] with four SIMD8 accumulators.
@inline(__always)
public func dotFloats(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
    var i = 0
    while i + 32 <= n {
        a0 = a0.addingProduct(load8(x + i), load8(y + i))
        a1 = a1.addingProduct(load8(x + i + 8), load8(y + i + 8))
        a2 = a2.addingProduct(load8(x + i + 16), load8(y + i + 16))
        a3 = a3.addingProduct(load8(x + i + 24), load8(y + i + 24))
        i += 32
    }
    while i + 8 <= n {
        a0 = a0.addingProduct(load8(x + i), load8(y + i))
        i += 8
    }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while i < n {
        s += x[i] * y[i]
        i += 1
    }
    return s
}

/// y[i] += s·x[i]
@inline(__always)
public func axpyFloats(_ y: UnsafeMutablePointer<Float>, _ s: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    let sv = F8(repeating: s)
    var i = 0
    while i + 8 <= n {
        store8(load8(y + i).addingProduct(sv, load8(x + i)), y + i)
        i += 8
    }
    while i < n {
        y[i] += s * x[i]
        i += 1
    }
}

/// Sum of n floats with four SIMD8 accumulators.
public func sumFloats(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
    var i = 0
    while i + 32 <= n {
        a0 += load8(x + i)
        a1 += load8(x + i + 8)
        a2 += load8(x + i + 16)
        a3 += load8(x + i + 24)
        i += 32
    }
    while i + 8 <= n {
        a0 += load8(x + i)
        i += 8
    }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while i < n {
        s += x[i]
        i += 1
    }
    return s
}

/// Max of n ≥ 1 floats.
public func maxFloats(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    var i = 0
    if n >= 8 {
        var v = load8(x)
        i = 8
        while i + 8 <= n {
            v = pointwiseMax8(v, load8(x + i))
            i += 8
        }
        m = v.max()
    }
    while i < n {
        m = Swift.max(m, x[i])
        i += 1
    }
    return m
}

@inline(__always) func pointwiseMax8(_ a: F8, _ b: F8) -> F8 { a.replacing(with: b, where: b .> a) }
@inline(__always) func pointwiseMin8(_ a: F8, _ b: F8) -> F8 { a.replacing(with: b, where: b .< a) }

/// exp on 8 lanes: Cody–Waite range reduction + degree-6 polynomial, ~1 ulp vs expf, written with
/// plain lane ops (stdlib's generic clamped()/rounding conversions did not inline and ran 40× slower).
@inline(__always)
public func exp8(_ x0: F8) -> F8 {
    let x = pointwiseMin8(pointwiseMax8(x0, F8(repeating: -87.3)), F8(repeating: 88.3))
    // n = round(x / ln2) via the 1.5·2^23 magic-number trick.
    let magic = F8(repeating: 12_582_912)
    let t = x * F8(repeating: 1.442_695_04) + magic
    let n = t - magic
    var r = x - n * F8(repeating: 0.693_359_375)
    r = r - n * F8(repeating: -2.121_944_4e-4)
    var p = F8(repeating: 1.987_569_15e-4)
    p = p * r + F8(repeating: 1.398_199_95e-3)
    p = p * r + F8(repeating: 8.333_451_9e-3)
    p = p * r + F8(repeating: 4.166_579_6e-2)
    p = p * r + F8(repeating: 1.666_666_55e-1)
    p = p * r + F8(repeating: 5.000_000_1e-1)
    p = p * (r * r) + r + F8(repeating: 1)
    // 2^n: build the exponent bits directly from the magic-number result's low bits.
    let tb = unsafeBitCast(t, to: SIMD8<UInt32>.self), mb = unsafeBitCast(magic, to: SIMD8<UInt32>.self)
    let bits = (tb &- mb &+ SIMD8<UInt32>(repeating: 127)) &<< 23
    return p * unsafeBitCast(bits, to: F8.self)
}
