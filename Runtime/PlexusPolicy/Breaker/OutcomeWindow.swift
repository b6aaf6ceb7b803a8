/// Successes and failures over the last `bucketCount × bucketWidth` seconds, in a fixed ring of
/// buckets: recording and summing never allocate.
struct OutcomeWindow {
    private struct Bucket {
        var epoch: Int64 = .min
        var successes: Int = 0
        var failures: Int = 0
    }

    private var buckets: [Bucket]
    private let bucketWidth: Double
    /// The latest epoch seen, so a clock that steps back never revives expired buckets.
    private var latestEpoch: Int64 = .min

    init(windowSeconds: Double, bucketCount: Int) {
        buckets = Array(repeating: Bucket(), count: bucketCount)
        bucketWidth = windowSeconds / Double(bucketCount)
    }

    private mutating func epoch(_ now: Double) -> Int64 {
        let raw = Int64((now / bucketWidth).rounded(.down))
        latestEpoch = max(latestEpoch, raw)
        return latestEpoch
    }

    /// Counts one outcome at `now`.
    mutating func record(success: Bool, now: Double) {
        let current = epoch(now)
        let slot = Int(current.magnitude % UInt64(buckets.count))
        if buckets[slot].epoch != current {
            buckets[slot] = Bucket(epoch: current, successes: 0, failures: 0)
        }
        if success { buckets[slot].successes += 1 } else { buckets[slot].failures += 1 }
    }

    /// Outcomes in the window ending at `now`.
    mutating func totals(now: Double) -> (successes: Int, failures: Int) {
        let current = epoch(now)
        let first = current - Int64(buckets.count) + 1
        var successes = 0
        var failures = 0
        for bucket in buckets where bucket.epoch >= first && bucket.epoch <= current {
            successes += bucket.successes
            failures += bucket.failures
        }
        return (successes, failures)
    }

    /// Forgets every outcome.
    mutating func reset() {
        for slot in buckets.indices { buckets[slot] = Bucket() }
    }
}
