#if canImport(Glibc)
import Glibc
#endif

/// A bounded FIFO between exactly two threads, built on a pthread mutex and condition
/// variables. Used to overlap kernel work (inside sendmsg / recvmsg) on one thread with
/// encoding or decoding on the other: on the 2-core machines Tandem runs on, that is
/// the difference between the kernel's ceiling and half of it.
final class HandoffQueue<Element>: @unchecked Sendable {
    /// A taken element's place is emptied at once, so the taker holds the only reference
    /// (a batch handed back for reuse is then mutated in place, not copied).
    private var items: [Element?] = []
    private var head = 0
    private let capacity: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let notEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let notFull = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(notEmpty)
        pthread_cond_destroy(notFull)
        mutex.deallocate()
        notEmpty.deallocate()
        notFull.deallocate()
    }

    func push(_ e: Element) {
        pthread_mutex_lock(mutex)
        while items.count - head >= capacity { pthread_cond_wait(notFull, mutex) }
        items.append(e)
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    func pop() -> Element {
        pthread_mutex_lock(mutex)
        while items.count == head { pthread_cond_wait(notEmpty, mutex) }
        let e = takeHead()
        pthread_mutex_unlock(mutex)
        return e
    }

    /// Under the mutex, with an element queued.
    private func takeHead() -> Element {
        let e = items[head]!
        items[head] = nil
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        pthread_cond_signal(notFull)
        return e
    }

    /// `pop` without waiting: nil when nothing is queued.
    func tryPop() -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard items.count > head else { return nil }
        let e = takeHead()
        return e
    }
}

/// Runs `body` on a new pthread; `join` waits for it.
final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping () -> Void) throws(NetlinkSocketError) {
        self.body = body
        let context = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, context.toOpaque())
        if rc != 0 {
            context.release()
            throw .systemCall("pthread_create", errno: rc)
        }
    }

    func join() { pthread_join(thread, nil) }
}
