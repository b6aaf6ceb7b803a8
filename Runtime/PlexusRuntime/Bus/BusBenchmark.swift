import Dispatch
import Foundation
import PlexusEventLog

/// Measures the in-process bus on its own loop: one subscriber, fire-and-forget publishes.
/// Used by `bench/bus-bench`; not used by the runtime itself.
public enum BusBenchmark {
    /// Publishes `events` events of `payloadBytes` bytes to one subscriber and returns events per
    /// second, measured from the first publish to the last delivery.
    public static func inProcess(events count: Int, payloadBytes: Int) -> Double {
        let loop = EventLoop()
        let bus = EventBus(loop: loop, logger: .init(label: "bench"))
        bus.defaultQueueLimit = count
        let pattern = try! TopicPattern("bench.+")
        var delivered = 0
        var elapsed = 0.0
        let payload = Data(repeating: 0x61, count: payloadBytes)
        let template = EventEnvelope(topic: "bench.event", source: "bench", payload: payload)
        var started: UInt64 = 0
        _ = bus.subscribe(pattern, owner: "bench") { _ in
            delivered += 1
            if delivered == count {
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                loop.stop()
            }
        }
        loop.execute {
            started = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<count { bus.publish(template) }
        }
        loop.run()
        return Double(count) / elapsed
    }
}
