import Foundation

/// `<data>/reload.outcome`: how the master's latest reload ended, so `plexus reload` can wait
/// for the outcome of the reload it asked for and exit non-zero on a rollback.
///
/// A reload asked for while another is in progress is started after that one ends, so the
/// outcome of a request sent at time T is the first one whose generation started at or after T.
public struct ReloadOutcome: Codable, Equatable, Sendable {
    /// The new generation serves (true) or was rolled back (false).
    public var serving: Bool
    /// The new generation's number.
    public var generation: Int
    /// When the master started the new generation (seconds since 1970).
    public var startedAt: Double
    /// Why it was rolled back; empty when it serves.
    public var reason: String

    public init(serving: Bool, generation: Int, startedAt: Date, reason: String) {
        self.serving = serving
        self.generation = generation
        self.startedAt = startedAt.timeIntervalSince1970
        self.reason = reason
    }

    public static func file(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("reload.outcome") }

    /// The latest outcome, nil when there is none (or it cannot be read).
    public static func latest(dataDirectory: URL) -> ReloadOutcome? {
        guard let data = try? Data(contentsOf: file(in: dataDirectory)) else { return nil }
        return try? JSONDecoder().decode(ReloadOutcome.self, from: data)
    }

    /// Replaces the file atomically; a failure to write it must not stop the master, so it is only returned.
    @discardableResult
    func publish(dataDirectory: URL) -> Error? {
        do {
            try JSONEncoder().encode(self).write(to: Self.file(in: dataDirectory), options: .atomic)
            return nil
        } catch {
            return error
        }
    }
}
