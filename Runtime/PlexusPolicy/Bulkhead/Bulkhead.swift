/// A cap on concurrent calls: `tryEnter` admits while fewer than `maxConcurrent` are inside.
///
/// Confined to one thread (the event loop). Every successful `tryEnter` must be paired with one
/// `leave`; an unpaired `leave` is ignored (the count never goes below zero) and counted.
public final class Bulkhead {
    /// The most calls inside at once.
    public let maxConcurrent: Int
    /// Calls inside now.
    public private(set) var current = 0
    /// Calls admitted so far.
    public private(set) var admitted = 0
    /// Calls refused so far because the bulkhead was full.
    public private(set) var refusals = 0
    /// `leave` calls without a matching `tryEnter` (a caller bug), ignored.
    public private(set) var unmatchedLeaves = 0

    /// Creates an empty bulkhead.
    ///
    /// - Throws: `.invalidConfiguration` if `maxConcurrent` is below 1.
    public init(maxConcurrent: Int) throws(PolicyError) {
        guard maxConcurrent >= 1 else {
            throw PolicyError(.invalidConfiguration, "bulkhead: maxConcurrent (\(maxConcurrent)) must be at least 1")
        }
        self.maxConcurrent = maxConcurrent
    }

    /// Admits one call if there is room; returns whether it did (a refusal is counted).
    public func tryEnter() -> Bool {
        guard current < maxConcurrent else {
            refusals += 1
            return false
        }
        current += 1
        admitted += 1
        return true
    }

    /// Marks one admitted call as finished.
    public func leave() {
        guard current > 0 else {
            unmatchedLeaves += 1
            return
        }
        current -= 1
    }

    /// Free slots now.
    public var available: Int { maxConcurrent - current }
}
