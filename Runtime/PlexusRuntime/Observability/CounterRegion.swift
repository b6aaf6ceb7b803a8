import CPlexusShims
import Foundation

/// A worker generation's counters in memory the master shares (an mmap'd file, `MAP_SHARED`):
/// each counter series the worker creates claims a slot, and every increment is added to the
/// slot as well as to the Prometheus counter. The master reads the slots once the worker has
/// ended, however it ended (drained, crashed, killed), so no count is lost with the process.
final class CounterRegion {
    static let magic: UInt32 = 0x504C_4354
    /// Series per generation; a worker with more series counts the rest for itself only.
    static let capacity: UInt32 = 4096

    let path: String
    private let region: UnsafeMutablePointer<plexus_counter_region>
    private let size: Int

    /// The region of the worker whose shared record is at `recordPath` (`supervisor.<n>.record`).
    static func path(forRecord recordPath: String) -> String {
        (recordPath.hasSuffix(".record") ? String(recordPath.dropLast(".record".count)) : recordPath) + ".counters"
    }

    /// Creates (master) or attaches to (worker) the region file at `path`.
    init(path: String, create: Bool) throws {
        self.path = path
        size = MemoryLayout<plexus_counter_region>.size + Int(Self.capacity) * MemoryLayout<plexus_counter_slot>.stride
        let fd = open(path, create ? (O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC) : (O_RDWR | O_CLOEXEC), 0o600)
        guard fd >= 0 else { throw RuntimeError.config("counter region \(path) cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if create {
            guard ftruncate(fd, off_t(size)) == 0 else { throw RuntimeError.config("counter region \(path): ftruncate failed: \(String(cString: strerror(errno)))") }
        } else {
            var status = stat()
            guard fstat(fd, &status) == 0, Int(status.st_size) >= size else { throw RuntimeError.config("counter region \(path) is not \(size) bytes long") }
        }
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), memory != MAP_FAILED else {
            throw RuntimeError.config("counter region \(path) cannot be mapped: \(String(cString: strerror(errno)))")
        }
        region = memory.assumingMemoryBound(to: plexus_counter_region.self)
        if create {
            region.pointee.capacity = Self.capacity
            region.pointee.magic = Self.magic
        } else if region.pointee.magic != Self.magic || region.pointee.capacity != Self.capacity {
            munmap(memory, size)
            throw RuntimeError.config("counter region \(path) was not written by this version of plexus (magic or capacity differ)")
        }
    }

    deinit { munmap(region, size) }

    /// A slot for `series` (see ``CounterSeries``), or nil when the region is full or the series too long.
    func claim(_ series: String) -> UnsafeMutablePointer<plexus_counter_slot>? {
        plexus_counter_claim(region, series)
    }

    /// Every claimed series and its count.
    var series: [(series: String, value: Double)] {
        let claimed = min(region.pointee.count, region.pointee.capacity)
        var result: [(String, Double)] = []
        for index in 0..<claimed where plexus_counter_used(region, index) != 0 {
            let slot = plexus_counter_at(region, index)!
            let name = FixedCString.text(&slot.pointee.series)
            result.append((name, plexus_counter_value(slot)))
        }
        return result
    }

    /// Removes the region's file (the mapping stays valid until the object goes away).
    func unlink() { Glibc.unlink(path) }
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
