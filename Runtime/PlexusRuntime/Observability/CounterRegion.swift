import CPlexusShims
import Foundation

/// A worker generation's counters in memory the master shares with it (a memfd the master maps
/// and passes to the worker as descriptor ``workerFD``, as it does the access log ring; its size
/// sealed, so the worker can neither shrink nor grow it under the master's mapping): each counter
/// series the worker creates claims a slot, and every increment is added to the slot as well as
/// to the Prometheus counter. The master reads the slots once the worker has ended, however it
/// ended (drained, crashed, killed), so no count is lost with the process. Nothing of it is
/// written to the data directory.
final class CounterRegion {
    static let magic: UInt32 = 0x504C_4354
    /// Series per generation; a worker with more series counts the rest for itself only.
    static let capacity: UInt32 = 4096
    /// The descriptor at which a worker finds its master's region.
    static let workerFD: Int32 = 7
    /// Bytes of a region: its head and ``capacity`` slots.
    static let size = MemoryLayout<plexus_counter_region>.size + Int(capacity) * MemoryLayout<plexus_counter_slot>.stride

    /// The memfd behind a region the master made for a worker, until ``closeDescriptor()`` (-1: none).
    var descriptor: Int32 { memory.descriptor }
    private let memory: SharedMemory
    private let region: UnsafeMutablePointer<plexus_counter_region>

    /// The master's region for a worker about to start: a sealed memfd, mapped here;
    /// ``descriptor`` is what the worker inherits.
    static func shared() throws -> CounterRegion {
        try CounterRegion(SharedMemory.sealed(name: "plexus-counters", size: size, what: "counter region"), create: true)
    }

    /// A worker's view of the region its master passed at `fd` (closed here, mapped or not): it
    /// must be exactly ``size`` bytes and carry the magic and capacity of this version.
    convenience init(attaching fd: Int32) throws {
        try self.init(SharedMemory.attaching(fd, what: "counter region", expected: "not \(CounterRegion.size) bytes long") { $0 == CounterRegion.size }, create: false)
    }

    private init(_ memory: SharedMemory, create: Bool) throws {
        self.memory = memory
        region = memory.base.assumingMemoryBound(to: plexus_counter_region.self)
        if create {
            region.pointee.capacity = Self.capacity
            region.pointee.magic = Self.magic
        } else if region.pointee.magic != Self.magic || region.pointee.capacity != Self.capacity {
            throw RuntimeError.config("the master's counter region was not made by this version of plexus (magic or capacity differ)")
        }
    }

    /// Closes the master's copy of the memfd (once the worker inherited it, or failed to start);
    /// the mapping stays.
    func closeDescriptor() { memory.closeDescriptor() }

    /// A slot for `series` (see ``CounterSeries``), or nil when the region is full or the series too long.
    func claim(_ series: String) -> UnsafeMutablePointer<plexus_counter_slot>? {
        plexus_counter_claim(region, series)
    }

    /// Every claimed series and its count. The master reads what a crashed (or hostile) worker
    /// wrote: the slots looked at are bounded by this version's ``capacity``, never by the count
    /// or capacity in shared memory, and a count that no counter can hold (negative, NaN,
    /// infinite) is left out.
    var series: [(series: String, value: Double)] {
        let claimed = min(region.pointee.count, Self.capacity)
        var result: [(String, Double)] = []
        for index in 0..<claimed where plexus_counter_used(region, index) != 0 {
            let slot = plexus_counter_at(region, index)!
            let value = plexus_counter_value(slot)
            guard value.isFinite, value >= 0 else { continue }
            result.append((FixedCString.text(&slot.pointee.series), value))
        }
        return result
    }

    /// Overwrites the head's count and capacity, for tests that play a hostile worker.
    func storeHead(count: UInt32, capacity: UInt32) {
        region.pointee.count = count
        region.pointee.capacity = capacity
    }
}

/// The identity of one counter series as a slot stores it: name, help and labels joined by
/// unit (0x1F) and record (0x1E) separators, which neither names, help texts nor label values use.
enum CounterSeries {
    static func encode(name: String, help: String, labels: [(String, String)]) -> String {
        ([name, help] + labels.map { "\($0.0)\u{1E}\($0.1)" }).joined(separator: "\u{1F}")
    }

    static func decode(_ series: String) -> (name: String, help: String, labels: [(String, String)])? {
        let parts = series.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty else { return nil }
        var labels: [(String, String)] = []
        for part in parts.dropFirst(2) {
            let pair = part.split(separator: "\u{1E}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2 else { return nil }
            labels.append((pair[0], pair[1]))
        }
        return (parts[0], parts[1], labels)
    }
}

/// The master's sum of the counters of every worker generation that has ended, kept in
/// `<data>/supervisor.counters.json` for the serving worker to add to its own (a new master
/// starts from zero, as a restarted process does in Prometheus).
final class CounterCarry {
    let file: URL
    private(set) var totals: [String: Double] = [:]

    init(dataDirectory: URL) {
        file = Self.file(in: dataDirectory)
        try? FileManager.default.removeItem(at: file)
    }

    /// `<data>/supervisor.counters.json`.
    static func file(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("supervisor.counters.json") }

    /// Adds an ended generation's counts and rewrites the file (atomically, by rename).
    func absorb(_ region: CounterRegion) {
        var changed = false
        for (series, value) in region.series where value != 0 {
            totals[series, default: 0] += value
            changed = true
        }
        guard changed, let data = try? JSONSerialization.data(withJSONObject: totals, options: [.sortedKeys]) else { return }
        try? data.write(to: file, options: .atomic)
    }

    /// The totals in `file` (empty when there is none yet).
    static func read(_ file: URL) -> [String: Double] {
        guard let data = try? Data(contentsOf: file),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}
