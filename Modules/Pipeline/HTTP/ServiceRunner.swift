// The HTTP service's life: validate the configs, listen, say where, load the models (/readyz turns ready),
// serve until SIGTERM or SIGINT, then stop accepting, let the requests in flight finish, and exit. SIGHUP
// reloads the configs in between.
import Foundation

public enum ServiceRunner {
    /// "127.0.0.1:8080", "0.0.0.0:80", ":8080" (loopback) → host and port; nil when malformed.
    public static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon].isEmpty ? "127.0.0.1" : String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (host, port)
    }

    /// Runs until stopped by a signal; `onListening` gets the bound port (the system's choice for port 0).
    /// Runs until stopped by a signal; `spools` maps pipeline names to spool folders fed to the same
    /// batchers; `onListening` gets the bound port (the system's choice for port 0).
    public static func run(
        configs: [String], server serverSettings: HTTPServer.Settings, service settings: ServiceSettings,
        spools: [(name: String, folder: String)] = [], spoolOptions: ServeOptions = ServeOptions(),
        registry: StageRegistry, progress: ProgressReporter, onListening: (Int) -> Void = { _ in }
    ) throws {
        let service = try PipelineService(configs: configs, registry: registry, settings: settings, progress: progress)
        let server = try HTTPServer(serverSettings) { service.handle($0) }
        let signals = ServeSignals()
        signals.install()
        progress.info("dlpipe serve: listening on http://\(serverSettings.host):\(server.port)/")
        onListening(server.port)
        let acceptor = Thread { server.run() }
        acceptor.start()
        let spoolsDone = DispatchGroup()
        do {
            try service.load()
            for (name, folder) in spools {
                let spoolServer = try SpoolServer(
                    spool: folder, name: name, runner: service.spoolRunner(name), options: spoolOptions,
                    signals: signals,
                    progress: progress)
                service.addSpool(name, spoolServer.spool)
                spoolsDone.enter()
                Thread {
                    do { _ = try spoolServer.run() } catch { progress.error("dlpipe serve: spool \(folder): \(error)") }
                    spoolsDone.leave()
                }.start()
            }
        } catch {
            server.stop(timeout: 1)
            service.stop()
            throw error
        }
        while !signals.stop {
            usleep(50_000)
            if signals.takeReload() { service.reload() }
        }
        progress.info("dlpipe serve: stopping: finishing \(server.activeConnections) connection(s) in flight")
        server.stop()
        spoolsDone.wait()
        service.stop()
        progress.info("dlpipe serve: stopped")
    }
}
