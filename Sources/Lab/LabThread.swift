#if canImport(Glibc)
import Glibc
#endif

/// A plain pthread for the lab's poll loops. They must not run on Swift's cooperative
/// pool: a 10 ms loop there would compete with, and be delayed by, unrelated tasks.
final class LabThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping () -> Void) throws(LabError) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { context in
            let me = Unmanaged<LabThread>.fromOpaque(context!).takeRetainedValue()
            me.body()
            return nil
        }, unmanaged.toOpaque())
        if rc != 0 {
            unmanaged.release()
            throw .socket("pthread_create", errno: rc)
        }
    }

    func join() { pthread_join(thread, nil) }
}
