import Foundation

/// Measures event-loop lag continuously: a repeating timer notes how late each tick fires.
/// A stalled loop is the first thing an operator needs to see.
final class LoopLagMonitor {
    private let loop: EventLoop
    private let interval: UInt64
    private var timer: LoopTimer?
    private var expected: UInt64 = 0
    /// The lag of the latest tick, in milliseconds.
    private(set) var lastLagMilliseconds: UInt64 = 0
    /// The largest lag seen since start, in milliseconds.
    private(set) var maxLagMilliseconds: UInt64 = 0
    /// Called after every tick with the lag in milliseconds.
    var onSample: ((UInt64) -> Void)?

    init(loop: EventLoop, intervalMilliseconds: UInt64 = 100) {
        self.loop = loop
        self.interval = intervalMilliseconds
    }

    func start() {
        let timer = LoopTimer(loop: loop)
        self.timer = timer
        expected = monotonicMilliseconds() + interval
        timer.start(afterMilliseconds: interval, repeatingMilliseconds: interval) { [unowned self] in
            let now = monotonicMilliseconds()
            let lag = now > expected ? now - expected : 0
            lastLagMilliseconds = lag
            maxLagMilliseconds = max(maxLagMilliseconds, lag)
            expected = now + interval
            onSample?(lag)
        }
        timer.unref()
    }

    func stop() {
        timer?.close()
        timer = nil
    }

    private func monotonicMilliseconds() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds / 1_000_000
    }
}
