import CSQLite
import Foundation

/// An online backup in progress (`sqlite3_backup_*`): copies a few pages per step so the worker
/// can serve other jobs in between. Writes to a temporary file renamed into place when complete.
/// Worker-confined.
final class BackupJob: @unchecked Sendable {
    let destination: String
    private let temporary: String
    private var target: OpaquePointer?
    private var backup: OpaquePointer?
    private let source: Database
    private let pagesPerStep: Int32

    init(source: Database, destination: String, pagesPerStep: Int32) throws(StorageError) {
        self.source = source
        self.destination = destination
        self.temporary = destination + ".partial-\(UInt32.random(in: 0...UInt32.max))"
        self.pagesPerStep = max(1, pagesPerStep)
        guard let sourceHandle = source.handle else { throw source.closedError() }
        let destinationURL = URL(fileURLWithPath: destination).standardizedFileURL
        if destinationURL.path == URL(fileURLWithPath: source.path).standardizedFileURL.path {
            throw StorageError(.misuse, "cannot back up a database onto itself")
        }
        var raw: OpaquePointer?
        let rc = sqlite3_open_v2(temporary, &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        target = raw
        guard rc == SQLITE_OK, let raw else {
            let error = raw.map { StorageError.sqlite(rc, message: String(cString: sqlite3_errmsg($0)), systemErrno: sqlite3_system_errno($0)) }
                ?? StorageError(.cantOpen, "cannot open backup target")
            cleanUp()
            throw error
        }
        guard let handle = sqlite3_backup_init(raw, "main", sourceHandle, "main") else {
            let error = StorageError.sqlite(sqlite3_errcode(raw), message: String(cString: sqlite3_errmsg(raw)))
            cleanUp()
            throw error
        }
        backup = handle
    }

    /// Copies the next pages. Returns true when the backup is complete (and renamed into place).
    func step() throws(StorageError) -> Bool {
        guard let backup, let target else { throw source.closedError() }
        let rc = sqlite3_backup_step(backup, pagesPerStep)
        switch rc {
        case SQLITE_OK, SQLITE_BUSY, SQLITE_LOCKED:
            return false
        case SQLITE_DONE:
            sqlite3_backup_finish(backup)
            self.backup = nil
            let closed = sqlite3_close_v2(target)
            self.target = nil
            if closed != SQLITE_OK || rename(temporary, destination) != 0 {
                let code = errno
                cleanUp()
                throw StorageError(.io, "could not move the backup into place: \(String(cString: strerror(code)))")
            }
            return true
        default:
            let error = StorageError.sqlite(rc, message: String(cString: sqlite3_errmsg(target)), systemErrno: sqlite3_system_errno(target))
            cleanUp()
            throw error
        }
    }

    /// Abandons the backup and removes the partial file.
    func abort() { cleanUp() }

    private func cleanUp() {
        if let backup { sqlite3_backup_finish(backup) }
        backup = nil
        if let target { sqlite3_close_v2(target) }
        target = nil
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
    }
}
