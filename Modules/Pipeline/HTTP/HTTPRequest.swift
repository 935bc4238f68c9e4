// An HTTP/1.1 request read from a client that may be hostile: every read is bounded before anything is
// allocated for it (the request line and headers together, the number of headers, the body), a body
// comes with Content-Length or chunked transfer coding, and a malformed request is an HTTPError with the
// status to answer, never a crash. The parser works on bytes already received and says how many more it
// needs, so the server decides how long to wait and the fuzz target can feed it anything.
import Foundation

/// A parsed request.
public struct HTTPRequest: Equatable {
    public var method: String
    /// The path without the query, percent-decoded.
    public var path: String
    /// Query parameters, percent-decoded (a repeated name keeps its last value).
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
    /// Whether the connection stays open after the response (HTTP/1.1 unless "Connection: close").
    public var keepAlive: Bool

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A request the server refuses, with the status to answer and the reason to show.
public struct HTTPError: Error, Equatable, CustomStringConvertible {
    public let status: Int, reason: String
    public init(_ status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }
    public var description: String { "\(status): \(reason)" }
}

/// Bounds on what one request may hold.
public struct HTTPLimits: Sendable {
    public var maxHeaderBytes = 16 * 1024
    public var maxHeaders = 64
    public var maxBodyBytes = 16 * 1024 * 1024
    public init() {}
}

public enum HTTPRequestParser {
    /// The outcome of looking at the bytes received so far.
    public enum Result: Equatable {
        /// A whole request, and how many bytes of `buffer` it used (the rest belongs to the next one).
        case request(HTTPRequest, consumed: Int)
        /// Not enough bytes yet.
        case needMore
    }

    /// Parses the request at the start of `buffer`.
    public static func parse(_ buffer: [UInt8], limits: HTTPLimits = HTTPLimits()) throws -> Result {
        guard let headEnd = find([13, 10, 13, 10], in: buffer, limit: limits.maxHeaderBytes + 4) else {
            if buffer.count > limits.maxHeaderBytes {
                throw HTTPError(431, "request line and headers exceed \(limits.maxHeaderBytes) bytes")
            }
            return .needMore
        }
        guard let head = String(validating: buffer[0..<headEnd], as: UTF8.self) else {
            throw HTTPError(400, "request head is not UTF-8")
        }
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3 else { throw HTTPError(400, "malformed request line") }
        let method = String(requestLine[0]), target = String(requestLine[1]), version = String(requestLine[2])
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw HTTPError(400, "malformed method")
        }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPError(505, "only HTTP/1.1 and HTTP/1.0 are served")
        }
        guard lines.count <= limits.maxHeaders else { throw HTTPError(431, "more than \(limits.maxHeaders) headers") }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw HTTPError(400, "malformed header line")
            }
            let name = line[..<colon].lowercased()
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw HTTPError(400, "malformed header name")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length", let earlier = headers[name], earlier != value {
                throw HTTPError(400, "conflicting Content-Length headers")
            }
            headers[name] = value
        }
        let (path, query) = try splitTarget(target)
        var keepAlive = version == "HTTP/1.1"
        if let c = headers["connection"]?.lowercased() {
            if c.contains("close") { keepAlive = false } else if c.contains("keep-alive") { keepAlive = true }
        }
        let bodyStart = headEnd + 4
        let bodyResult: (body: [UInt8], end: Int)?
        if let te = headers["transfer-encoding"] {
            guard te.lowercased() == "chunked" else { throw HTTPError(501, "transfer coding '\(te)' is not supported") }
            guard headers["content-length"] == nil else {
                throw HTTPError(400, "both Content-Length and Transfer-Encoding")
            }
            bodyResult = try chunkedBody(buffer, from: bodyStart, limit: limits.maxBodyBytes)
        } else if let cl = headers["content-length"] {
            guard let n = Int(cl), n >= 0, cl.allSatisfy(\.isNumber) else {
                throw HTTPError(400, "malformed Content-Length")
            }
            guard n <= limits.maxBodyBytes else {
                throw HTTPError(413, "body of \(n) bytes exceeds the limit of \(limits.maxBodyBytes)")
            }
            bodyResult =
                buffer.count - bodyStart >= n ? (Array(buffer[bodyStart..<(bodyStart + n)]), bodyStart + n) : nil
        } else {
            bodyResult = ([], bodyStart)
        }
        guard let (body, end) = bodyResult else { return .needMore }
        let request = HTTPRequest(
            method: method, path: path, query: query, headers: headers, body: body, keepAlive: keepAlive)
        return .request(request, consumed: end)
    }

    /// The path and query of a request target ("/a/b?x=1"); only origin-form targets are served.
    static func splitTarget(_ target: String) throws -> (String, [String: String]) {
        guard target.hasPrefix("/") else { throw HTTPError(400, "request target must start with '/'") }
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let path = String(parts[0]).removingPercentEncoding else {
            throw HTTPError(400, "malformed percent-encoding in path")
        }
        guard !path.contains("\0") else { throw HTTPError(400, "NUL in path") }
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let decode = { (s: Substring) in
                    String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
                }
                guard let k = decode(kv[0]), let v = kv.count == 2 ? decode(kv[1]) : "" else {
                    throw HTTPError(400, "malformed percent-encoding in query")
                }
                query[k] = v
            }
        }
        return (path, query)
    }

    /// A chunked body starting at `start`: its bytes and where it ends, or nil when more is needed.
    static func chunkedBody(_ b: [UInt8], from start: Int, limit: Int) throws -> (body: [UInt8], end: Int)? {
        var body: [UInt8] = [], i = start
        while true {
            guard let lineEnd = find([13, 10], in: b, from: i, limit: 64) else {
                if b.count - i > 64 { throw HTTPError(400, "malformed chunk size line") }
                return nil
            }
            let sizeText =
                String(decoding: b[i..<lineEnd], as: UTF8.self).split(separator: ";", maxSplits: 1).first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw HTTPError(400, "malformed chunk size")
            }
            guard size <= limit - body.count else {
                throw HTTPError(413, "chunked body exceeds the limit of \(limit) bytes")
            }
            let dataStart = lineEnd + 2
            if size == 0 {
                // No trailers are accepted: the last chunk is followed by the final CRLF.
                guard b.count >= dataStart + 2 else { return nil }
                guard b[dataStart] == 13, b[dataStart + 1] == 10 else {
                    throw HTTPError(400, "trailers are not supported")
                }
                return (body, dataStart + 2)
            }
            guard b.count >= dataStart + size + 2 else { return nil }
            guard b[dataStart + size] == 13, b[dataStart + size + 1] == 10 else {
                throw HTTPError(400, "chunk not followed by CRLF")
            }
            body += b[dataStart..<(dataStart + size)]
            i = dataStart + size + 2
        }
    }

    /// The index of `needle` in `haystack` at or after `from`, looking no further than `limit` bytes past it.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int = 0, limit: Int) -> Int? {
        let end = min(haystack.count, from + limit)
        guard end - from >= needle.count else { return nil }
        var i = from
        while i + needle.count <= end {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
