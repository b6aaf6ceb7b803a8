import Synchronization

/// Whether an `async` caller of a SQLite engine may run an operation on its own thread (see
/// `StorageEngine`'s `async` API): while the engine's recent operations were short. It keeps a
/// moving average of how long operations ran (each new one weighs a quarter) and allows a run on
/// the caller's thread while that average is at most `limit`. So one long operation (a migration,
/// a large query) holds its caller's thread once, and the operations after it hop to the worker
/// until short ones bring the average back under the limit (from ten times the limit, about nine
/// of them).
final class CallerRunPolicy: Sendable {
    /// The limit, in nanoseconds.
    let limit: UInt64
    /// The moving average, in nanoseconds.
    private let average = Atomic<UInt64>(0)

    /// A policy allowing caller runs while operations average at most `limit` seconds.
    init(limit: Double) {
        self.limit = UInt64(max(0, limit) * 1e9)
    }

    /// Whether the next operation may run on its caller's thread.
    var allows: Bool { limit > 0 && average.load(ordering: .relaxed) <= limit }

    /// Records how long an operation ran (wherever it ran). Operations of one SQLite engine run
    /// one at a time, so there is one writer at a time.
    func record(nanoseconds: UInt64) {
        let old = average.load(ordering: .relaxed)
        average.store(old - old / 4 + nanoseconds / 4, ordering: .relaxed)
    }
}
