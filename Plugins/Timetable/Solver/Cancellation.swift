import Foundation

/// A thread-safe cancellation flag shared between the caller and a running solve.
public final class CancellationToken: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false

    /// Creates a token that is not cancelled.
    public init() {}

    /// Requests cancellation; the solver returns its best timetable so far shortly after.
    public func cancel() {
        lock.lock(); flag = true; lock.unlock()
    }

    /// Whether cancellation was requested.
    public var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return flag
    }
}
