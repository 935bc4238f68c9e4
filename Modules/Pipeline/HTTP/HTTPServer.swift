// An HTTP/1.1 server on the system's sockets: one listening socket, a thread per connection up to a
// bound (past it a new connection is answered 503 and closed), keep-alive, and every wait bounded: a
// client idle between requests is closed after `idleTimeout`, and one that takes longer than
// `requestTimeout` to send a whole request is answered 408, so a slow client never holds a thread for
// long. `stop()` closes the listener and waits for the requests in flight (SIGTERM drains).
import Foundation

#if canImport(Glibc)
import Glibc
#endif

public final class HTTPServer: @unchecked Sendable {
    public struct Settings: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var limits = HTTPLimits()
        public var maxConnections = 256
        public var idleTimeout = 10.0
        public var requestTimeout = 10.0
        public init() {}
    }

    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    let settings: Settings
    let handler: Handler
    let listener: Int32
    /// The port bound (the one asked for, or the system's choice for port 0).
    public let port: Int
    let lock = NSLock()
    var connections = 0
    var stopping = false
    let drained = NSCondition()

    /// Binds and listens; throws a message naming the address when that fails.
    public init(_ settings: Settings, handler: @escaping Handler) throws {
        self.settings = settings
        self.handler = handler
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(settings.port).bigEndian)
        guard inet_pton(AF_INET, settings.host, &addr.sin_addr) == 1 else {
            throw StageError("serve", "--listen: '\(settings.host)' is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StageError("serve", "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StageError("serve", "cannot listen on \(settings.host):\(settings.port): \(reason)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: actual.sin_port))
    }

    /// Accepts connections until `stop()`; returns when the listener is closed.
    public func run() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                lock.lock()
                let done = stopping
                lock.unlock()
                if done { return }
                if errno == EMFILE || errno == ENFILE { usleep(10_000) }
                continue
            }
            lock.lock()
            let full = connections >= settings.maxConnections || stopping
            if !full { connections += 1 }
            lock.unlock()
            if full {
                send(fd, HTTPResponse.error(503, "too many connections").serialized(keepAlive: false))
                close(fd)
                continue
            }
            let thread = Thread { [self] in
                serve(fd)
                close(fd)
                lock.lock()
                connections -= 1
                lock.unlock()
                drained.lock()
                drained.broadcast()
                drained.unlock()
            }
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }

    /// Stops accepting and waits (up to `timeout` seconds) until the connections in flight have ended.
    public func stop(timeout: Double = 30) {
        lock.lock()
        stopping = true
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        let deadline = Date().addingTimeInterval(timeout)
        drained.lock()
        while activeConnections > 0 && Date() < deadline {
            _ = drained.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        drained.unlock()
    }

    public var activeConnections: Int {
        lock.lock()
        defer { lock.unlock() }
        return connections
    }

    var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    /// Requests on one connection, one after another, until the client closes, asks to close, errs or idles.
    func serve(_ fd: Int32) {
        var slice = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        var sendLimit = timeval(tv_sec: Int(settings.requestTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendLimit, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let waitingSince = Date()
            var requestStarted: Date? = buffer.isEmpty ? nil : Date()
            var parsed: (HTTPRequest, Int)?
            while parsed == nil {
                do {
                    if case .request(let r, let used) = try HTTPRequestParser.parse(buffer, limits: settings.limits) {
                        parsed = (r, used)
                        break
                    }
                } catch let e as HTTPError {
                    send(fd, HTTPResponse.error(e.status, e.reason).serialized(keepAlive: false))
                    return
                } catch { return }
                if let started = requestStarted, Date().timeIntervalSince(started) > settings.requestTimeout {
                    send(
                        fd,
                        HTTPResponse.error(408, "the request took longer than \(settings.requestTimeout) s to arrive")
                            .serialized(keepAlive: false))
                    return
                }
                if requestStarted == nil
                    && (Date().timeIntervalSince(waitingSince) > settings.idleTimeout || isStopping)
                {
                    return
                }
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return }
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                    return
                }
                if requestStarted == nil { requestStarted = Date() }
                buffer += chunk[0..<n]
            }
            guard let (request, used) = parsed else { return }
            buffer.removeFirst(used)
            let keepAlive = request.keepAlive && !isStopping
            guard send(fd, handler(request).serialized(keepAlive: keepAlive)) else { return }
            if !keepAlive { return }
        }
    }

    /// Writes all of `bytes`; false when the client has gone.
    @discardableResult
    func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }
}
