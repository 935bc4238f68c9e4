// Errors from reading or writing outside data: always "file: reason".

public struct MediaError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String
    public init(_ file: String, _ reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "\(file): \(reason)" }
}
