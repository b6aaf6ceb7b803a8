import Foundation

/// Collects improvements from the runs and forwards them to the caller's handler, rate-limited (internal).
final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let handler: ProgressHandler?
    private let interval: Double
    private let start: Double
    private var bestHard = Int.max, bestSoft = Int.max
    private var lastCall = -Double.infinity
    private var unreported = false

    init(handler: ProgressHandler?, interval: Double, start: Double) {
        self.handler = handler
        self.interval = interval
        self.start = start
    }

    /// Offers a new best of one run.
    func offer(hard: Int, soft: Int) {
        guard let handler else { return }
        lock.lock()
        guard hard < bestHard || (hard == bestHard && soft < bestSoft) else { lock.unlock(); return }
        bestHard = hard; bestSoft = soft
        let now = monotonicSeconds()
        if now - lastCall >= interval {
            lastCall = now; unreported = false
            lock.unlock()
            handler(hard, soft, now - start)
        } else {
            unreported = true
            lock.unlock()
        }
    }

    /// Reports the last best if it was held back by the rate limit.
    func flush() {
        guard let handler else { return }
        lock.lock()
        let send = unreported
        unreported = false
        let h = bestHard, s = bestSoft
        lock.unlock()
        if send { handler(h, s, monotonicSeconds() - start) }
    }
}
