import Foundation
import Logging

extension Supervisor {
    /// Removes from `directory` the files earlier versions shared with their workers and this one
    /// keeps in memory: `supervisor.<n>.accesslog` (the access log ring) and
    /// `supervisor.<n>.counters` (the counter region), `<n>` being decimal digits; nothing else.
    /// Says once in the log what it removed. Run with the data directory's lock held, so no
    /// other master is using them. Returns the names removed.
    @discardableResult
    static func removeLeftovers(in directory: URL, logger: Logger) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names.sorted() where isLeftover(name) {
            if unlink(directory.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        if !removed.isEmpty {
            logger.notice("removed \(removed.count) file(s) an earlier version left in the data directory (the access log ring and counters are memory now): \(removed.joined(separator: ", "))",
                          metadata: ["directory": "\(directory.path)"])
        }
        return removed
    }

    /// Whether `name` is exactly `supervisor.<digits>.accesslog` or `supervisor.<digits>.counters`.
    static func isLeftover(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "supervisor", parts[2] == "accesslog" || parts[2] == "counters" else { return false }
        return !parts[1].isEmpty && parts[1].utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
