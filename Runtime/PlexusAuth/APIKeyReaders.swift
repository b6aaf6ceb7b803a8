import Foundation
import PlexusStorage
#if canImport(Glibc)
import Glibc
#endif

/// Which key generation each running process serves, so that a change made by another process (the
/// `plexus apikey` command) can wait until every running runtime has loaded it: a key it prints then
/// works at once, and a key it revokes is refused at once.
///
/// Every ``APIKeyDirectory`` records `(pid, generation)` in `auth_api_key_readers` after it loads a
/// snapshot. ``APIKeyStore/waitUntilServed(timeout:)`` reads the current generation and polls until every
/// reader whose process is alive has reached it; rows of processes that are gone are deleted.
public enum APIKeyReaders {
    static let createTable = """
        CREATE TABLE IF NOT EXISTS auth_api_key_readers (
            pid INTEGER PRIMARY KEY NOT NULL,
            generation INTEGER NOT NULL,
            seen_at REAL NOT NULL
        )
        """
    static let createPostgresTable = """
        CREATE TABLE IF NOT EXISTS auth_api_key_readers (
            pid BIGINT PRIMARY KEY NOT NULL,
            generation BIGINT NOT NULL,
            seen_at DOUBLE PRECISION NOT NULL
        )
        """
    /// Valid on SQLite and PostgreSQL.
    static let record = """
        INSERT INTO auth_api_key_readers (pid, generation, seen_at) VALUES (?1, ?2, ?3)
        ON CONFLICT (pid) DO UPDATE SET generation = excluded.generation, seen_at = excluded.seen_at
        """

    static func parameters(generation: Int64) -> [StorageValue] {
        [.integer(Int64(getpid())), .integer(generation), .real(Date().timeIntervalSince1970)]
    }

    /// Whether the process `pid` exists (signal 0; `EPERM` means it exists under another user).
    static func isAlive(_ pid: Int64) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        return kill(pid_t(pid), 0) == 0 || errno == EPERM
    }
}

extension APIKeyStore {
    /// Waits until every running process that serves keys from this database has loaded the latest change,
    /// polling every 50 ms, at most `timeout` seconds. Returns the pids still behind (empty when all are
    /// current, or when no runtime is running).
    public func waitUntilServed(timeout: Double = 5) async throws(AuthError) -> [Int64] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let behind = try await readersBehind()
            if behind.isEmpty || Date() >= deadline { return behind }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    /// The live readers whose loaded generation is older than the database's; deletes rows of dead processes.
    private func readersBehind() async throws(AuthError) -> [Int64] {
        do {
            let current = try await engine.query(APIKeySchema.selectGeneration).rows.first?[0].integerValue ?? 0
            var behind: [Int64] = []
            for row in try await engine.query("SELECT pid, generation FROM auth_api_key_readers").rows {
                guard let pid = row[0].integerValue else { continue }
                guard APIKeyReaders.isAlive(pid) else {
                    _ = try await engine.execute("DELETE FROM auth_api_key_readers WHERE pid = ?1", [.integer(pid)])
                    continue
                }
                if (row[1].integerValue ?? 0) < current { behind.append(pid) }
            }
            return behind
        } catch {
            throw AuthError(.storage, "reading which generation the running runtimes serve failed: \(error)")
        }
    }
}
