#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import Daemon
import Dispatch
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Prometheus
import Synchronization

/// `--metrics-listen`: `/metrics` in Prometheus's text format, served by Hummingbird on a
/// thread of its own. A scrape asks the daemon's loop for a fresh copy through
/// `MetricsRequests` (an atomic flag), waits a bounded time for it, and renders whatever
/// the registry holds then; it never calls into the daemon. Bad requests, slow or vanished
/// clients are Hummingbird's to handle and never reach the loop.
public final class MetricsServer: Sendable {
    public let address: ListenAddress
    public let registry: PrometheusCollectorRegistry
    public let requests: MetricsRequests
    private let group: MultiThreadedEventLoopGroup
    private let task: Task<Void, Never>
    private let finished: DispatchSemaphore

    /// How long a scrape waits for the loop's fresh copy before serving the last one.
    public static let freshCopyWait = Duration.milliseconds(250)

    public enum StartError: Error, CustomStringConvertible {
        case cannotListen(ListenAddress, String)
        case timedOut(ListenAddress)

        public var description: String {
            switch self {
            case .cannotListen(let a, let why): "cannot listen on \(a): \(why)"
            case .timedOut(let a): "cannot listen on \(a): the HTTP server did not start within 10 s"
            }
        }
    }

    private init(address: ListenAddress, registry: PrometheusCollectorRegistry, requests: MetricsRequests,
                 group: MultiThreadedEventLoopGroup, task: Task<Void, Never>, finished: DispatchSemaphore) {
        self.address = address
        self.registry = registry
        self.requests = requests
        self.group = group
        self.task = task
        self.finished = finished
    }

    /// The backend the daemon's `MetricsFeed` writes into.
    public var factory: any MetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = MetricsFeed.durationBuckets
        f.durationHistogramBuckets = MetricsFeed.bucketsByName
        return f
    }

    /// A feed for the daemon's loop, writing into this server's registry.
    public func feed() -> MetricsFeed { MetricsFeed(factory: factory, requests: requests) }

    /// Binds and starts serving, or says why it cannot (address in use, not local, ...):
    /// the caller's start-up error. Returns once the socket listens.
    public static func start(_ address: ListenAddress) throws(StartError) -> MetricsServer {
        let registry = PrometheusCollectorRegistry()
        let requests = MetricsRequests()
        // The server's threads are made with the daemon's signals blocked, so SIGTERM,
        // SIGHUP and the dump signals keep going to the loop's thread, whose poll they cut
        // short, instead of waiting for its next wake-up. (Threads made later are made by
        // these and inherit the mask.)
        var saved = blockDaemonSignals()
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let outcome = StartOutcome()
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            try await Self.scrape(registry: registry, requests: requests)
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { _ in
                outcome.settle(.success(()))
                started.signal()
            },
            eventLoopGroupProvider: .shared(group),
            logger: Logger(label: "tandem.metrics", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task.detached(executorPreference: ServerThreadExecutor()) {
            do {
                try await app.run()
            } catch {
                outcome.settle(.failure(.init(reason: "\(error)")))
                started.signal()
            }
            finished.signal()
        }
        if started.wait(timeout: .now() + .seconds(10)) == .timedOut {
            task.cancel()
            shutDown(group, after: finished)
            throw .timedOut(address)
        }
        if case .failure(let why) = outcome.result {
            shutDown(group, after: finished)
            throw .cannotListen(address, why.reason)
        }
        return MetricsServer(address: address, registry: registry, requests: requests, group: group, task: task, finished: finished)
    }

    /// Stops serving: the daemon is on its way out.
    public func stop() {
        task.cancel()
        Self.shutDown(group, after: finished)
    }

    /// The event loops go only once the server's task has ended: a task still running on a
    /// loop that is gone is a crash (SwiftNIO's leaked promise). If it has not ended within
    /// the wait, the loop's thread is left to the process's exit instead.
    static func shutDown(_ group: MultiThreadedEventLoopGroup, after finished: DispatchSemaphore) {
        guard finished.wait(timeout: .now() + .seconds(10)) == .success else { return }
        // Its shutdown can only fail if it is already shut down; the process is past serving.
        try? group.syncShutdownGracefully()
    }

    static func scrape(registry: PrometheusCollectorRegistry, requests: MetricsRequests) async throws -> Response {
        let asked = requests.ask()
        let deadline = ContinuousClock.now + freshCopyWait
        while requests.generation == asked && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        let bytes = registry.emitToBuffer()
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Whichever of "listening" and "failed" the server's task reports first.
    final class StartOutcome: Sendable {
        struct Failure: Error { var reason: String }
        private let value = Mutex<Result<Void, Failure>?>(nil)
        func settle(_ r: Result<Void, Failure>) { value.withLock { if $0 == nil { $0 = r } } }
        var result: Result<Void, Failure>? { value.withLock { $0 } }
    }

    static func blockDaemonSignals() -> sigset_t {
        var block = sigset_t()
        sigemptyset(&block)
        // SIGRTMIN+2 and SIGRTMAX-1 are keepalived's JSON and stats-clear dumps (36 and 63 with glibc).
        for s in [SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, 36, 63] { sigaddset(&block, s) }
        var saved = sigset_t()
        pthread_sigmask(SIG_BLOCK, &block, &saved)
        return saved
    }
}
