import Dispatch

/// Where the metrics server's own tasks run: a serial queue of its own, not Swift's
/// cooperative pool. That pool is as wide as the machine has cores; a process whose
/// threads block in it (a test run, a library's synchronous wait) would starve the server
/// of every thread, and it would not even start listening.
final class ServerThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "tandem.metrics-server")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
