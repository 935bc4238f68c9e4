// The one check every trainer makes after a step's forward pass: a loss that is NaN or infinite ends
// training there, saying where and which checkpoint to go back to, instead of training on and writing a
// model of NaN.

public enum FiniteLossGuard {
    /// Throws when `loss` is not finite. `name` says which loss ("loss", "generator loss"), `hint` what to
    /// change; `epoch` and `step` are 0-based.
    public static func check(
        _ loss: Float, name: String = "loss", epoch: Int, step: Int, lastCheckpoint: @autoclosure () -> String?,
        hint: String = "lower learning_rate or set clip_norm"
    ) throws {
        guard !loss.isFinite else { return }
        let resume = lastCheckpoint().map { "; the last good checkpoint is \($0)" } ?? ""
        throw TrainingError(
            "training diverged: the \(name) is \(loss) at epoch \(epoch + 1), step \(step + 1) (\(hint))\(resume)")
    }
}
