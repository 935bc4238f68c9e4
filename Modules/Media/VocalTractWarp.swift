// Vocal-tract-length perturbation (Jaitly & Hinton 2013): the frequency axis of the mel filterbank is
// stretched by a factor α, piecewise linearly so the top of the band stays at the Nyquist frequency. A
// speaker with a shorter vocal tract has formants higher by about this factor (women's roughly 15–20 %
// above men's), so training copies warped by random α teach the model voices it has not heard.

public enum VocalTractWarp {
    /// The frequency `f` (Hz) a filterbank with warp `alpha` reads for a component at `f`: α·f up to the
    /// boundary f_hi·min(α, 1)/α (f_hi is 60 % of Nyquist, 4.8 kHz at 16 kHz as in the paper), then the
    /// straight line that ends at Nyquist.
    public static func warped(_ f: Double, alpha: Double, nyquist: Double) -> Double {
        guard alpha != 1 else { return f }
        let fHi = 0.6 * nyquist
        let knee = fHi * min(alpha, 1) / alpha
        if f <= knee { return alpha * f }
        let warpedKnee = fHi * min(alpha, 1)
        return nyquist - (nyquist - warpedKnee) / (nyquist - knee) * (nyquist - f)
    }
}
