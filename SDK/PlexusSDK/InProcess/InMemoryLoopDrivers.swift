import Foundation
import Logging

/// Timers on the ``InProcessLoop``.
@PluginActor
public final class InProcessTimers: TimerDriver {
    private let loop: InProcessLoop
    /// Our id → the loop's id of the timer's next firing.
    private var pending: [UInt64: UInt64] = [:]
    private var nextID: UInt64 = 1

    /// Timers on `loop`.
    public init(loop: InProcessLoop) { self.loop = loop }

    public func start(afterMilliseconds delay: UInt64, repeatingMilliseconds repeating: UInt64, _ fire: @escaping @PluginActor () -> Void) -> UInt64 {
        let id = nextID
        nextID += 1
        arm(id, after: delay, repeating: repeating, fire)
        return id
    }

    public func stop(_ id: UInt64) {
        guard let loopID = pending.removeValue(forKey: id) else { return }
        loop.cancel(loopID)
    }

    private func arm(_ id: UInt64, after delay: UInt64, repeating: UInt64, _ fire: @escaping @PluginActor () -> Void) {
        pending[id] = loop.schedule(afterMilliseconds: delay) { [weak self] in
            PluginActor.runOnLoop {
                guard let self, self.pending[id] != nil else { return }
                if repeating > 0 { self.arm(id, after: repeating, repeating: repeating, fire) } else { self.pending.removeValue(forKey: id) }
                fire()
            }
        }
    }
}

/// Off-loop work on Dispatch's global queue, at most `width` jobs at once (like the runtime's
/// per-plugin bound); the result resumes the waiting plugin task on the loop.
@PluginActor
public final class InProcessOffLoop: OffLoopDriver {
    private let slots: DispatchSemaphore
    private let queue = DispatchQueue(label: "plexus-test-offloop", attributes: .concurrent)

    /// At most `width` jobs run at once.
    public init(width: Int = 4) { slots = DispatchSemaphore(value: max(width, 1)) }

    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(cancellable: { _ in try work() })
    }

    /// As the runtime's driver: a cancelled task gets `CancellationError` at once, the job's late
    /// result is dropped, and a job still waiting for a slot when its task is cancelled never runs.
    public func run<T: Sendable>(cancellable work: @escaping @Sendable (OffLoopCancellation) throws -> T) async throws -> T {
        let slots = self.slots
        let job = OffLoopJob(work: work)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard job.attach(continuation) else { return }
                queue.async {
                    slots.wait()
                    defer { slots.signal() }
                    job.run()
                    job.finish()
                }
            }
        } onCancel: {
            job.cancel()
        }
    }
}

/// Configuration from a dictionary of dotted keys.
public struct InMemoryConfig: ConfigSource {
    /// The values.
    public var values: [String: String]

    /// A configuration holding `values`.
    public init(_ values: [String: String] = [:]) { self.values = values }

    public func value(_ key: String) -> String? { values[key] }
}

/// Metrics recorded in memory, checked with the runtime's registration rules.
public final class InMemoryMetrics: MetricsDriver, @unchecked Sendable {
    /// One registered family and what it recorded, keyed by label values joined with `,`.
    public struct Family: Sendable {
        /// Its kind.
        public let kind: MetricKind
        /// Its name.
        public let name: String
        /// Its label names.
        public let labels: [String]
        /// The current value of each series (for histograms: the sum of observations).
        public var values: [String: Double] = [:]
    }

    private let lock = NSLock()
    private var families: [Family] = []
    private var unusable: [String] = []

    /// An empty registry.
    public init() {}

    public var isAvailable: Bool { true }

    /// The family named `name`, if registered.
    public func family(_ name: String) -> Family? { lock.withLock { families.first { $0.name == name } } }

    /// The swift-metrics metrics that were refused, with the reasons.
    public var refusals: [String] { lock.withLock { unusable } }

    /// One alert the plugin raised.
    public struct RaisedAlert: Sendable, Equatable {
        /// Its tier.
        public let severity: AlertSeverity
        /// What it is about.
        public let name: String
        /// Free text, if any.
        public let detail: String?
    }

    private var raised: [RaisedAlert] = []

    /// The alerts the plugin raised, oldest first.
    public var alerts: [RaisedAlert] { lock.withLock { raised } }

    public func raiseAlert(_ severity: AlertSeverity, name: String, detail: String?) -> Result<Void, MetricError> {
        guard (1...128).contains(name.utf8.count) else {
            return .failure(MetricError(description: "alert name must be 1 to 128 bytes, got \(name.utf8.count)"))
        }
        if let detail, detail.utf8.count > 1024 {
            return .failure(MetricError(description: "alert detail must be at most 1024 bytes, got \(detail.utf8.count)"))
        }
        lock.withLock { raised.append(RaisedAlert(severity: severity, name: name, detail: detail)) }
        return .success(())
    }

    public func register(_ kind: MetricKind, name: String, help: String, labels: [String], buckets: [Double]) -> Result<UInt64, MetricError> {
        let valid = { (text: String) in
            guard let first = text.utf8.first, first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
            return text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        guard valid(name) else { return .failure(MetricError(description: "metric '\(name)': names match [a-z_][a-z0-9_]*")) }
        guard (kind == .counter) == name.hasSuffix("_total") else {
            return .failure(MetricError(description: "metric '\(name)': counters, and only counters, end in _total"))
        }
        guard !help.isEmpty else { return .failure(MetricError(description: "metric '\(name)': help text is required")) }
        guard labels.count <= 8, labels.allSatisfy(valid) else {
            return .failure(MetricError(description: "metric '\(name)': at most 8 labels, each matching [a-z_][a-z0-9_]*"))
        }
        return lock.withLock {
            if let index = families.firstIndex(where: { $0.name == name }) {
                guard families[index].kind == kind, families[index].labels == labels else {
                    return .failure(MetricError(description: "metric '\(name)' is already registered with another kind or labels"))
                }
                return .success(UInt64(index + 1))
            }
            families.append(Family(kind: kind, name: name, labels: labels))
            return .success(UInt64(families.count))
        }
    }

    public func record(_ id: UInt64, _ operation: MetricOperation, _ value: Double, labels: [String]) {
        lock.withLock {
            guard id >= 1, id <= UInt64(families.count), families[Int(id) - 1].labels.count == labels.count else { return }
            let key = labels.joined(separator: ",")
            switch operation {
            case .add, .observe:
                if operation == .add, families[Int(id) - 1].kind == .counter, value < 0 { return }
                families[Int(id) - 1].values[key, default: 0] += value
            case .set:
                families[Int(id) - 1].values[key] = value
            }
        }
    }

    public func reportUnusable(_ text: String) { lock.withLock { unusable.append(text) } }
}

/// A log handler that keeps every record in memory (and can echo it to stderr).
public struct InMemoryLogHandler: LogHandler {
    /// Where the records go.
    public final class Sink: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        /// Whether records are echoed to stderr too.
        public var echo: Bool

        /// An empty sink.
        public init(echo: Bool = false) { self.echo = echo }

        /// Every record so far, as `LEVEL message key=value...`.
        public var records: [String] { lock.withLock { lines } }

        func append(_ line: String) {
            lock.withLock { lines.append(line) }
            if echo { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
    }

    let sink: Sink
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    /// A handler writing into `sink`.
    public init(sink: Sink) { self.sink = sink }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let suffix = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        sink.append("\(event.level.rawValue.uppercased()) \(event.message)\(suffix)")
    }
}
