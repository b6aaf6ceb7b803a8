import CSQLite

/// Collects row changes from SQLite's update hook and releases them only once their transaction
/// has committed; a rollback (or a failed statement inside a transaction) discards them.
/// Worker-confined: the hooks run on the worker, inside `sqlite3_step`.
final class ChangeCollector {
    /// Changes of the transaction in progress.
    private var pending: [StorageChange] = []
    /// Changes handed over by the commit hook, until the COMMIT is known to have succeeded.
    private var committing: [StorageChange]?
    /// Committed batches not yet delivered, one per transaction.
    private(set) var ready: [[StorageChange]] = []

    /// Whether a table is internal (the engine's own or SQLite's) and so never reported.
    static func isInternal(_ table: String) -> Bool {
        let lower = table.lowercased()
        return lower.hasPrefix("_plexus_") || lower.hasPrefix("sqlite_")
    }

    /// A mark to roll `pending` back to if a statement fails inside a transaction.
    var mark: Int { pending.count }

    func recordUpdate(database: String, table: String, operation: Int32, rowID: Int64) {
        guard database == "main", !Self.isInternal(table) else { return }
        let op: StorageChange.Operation
        switch operation {
        case SQLITE_INSERT: op = .insert
        case SQLITE_UPDATE: op = .update
        case SQLITE_DELETE: op = .delete
        default: return
        }
        pending.append(StorageChange(table: table, operation: op, rowID: rowID))
    }

    func willCommit() {
        committing = pending
        pending = []
    }

    func didRollback() {
        pending = []
        committing = nil
    }

    /// Called after every `sqlite3_step`: settles a commit the hook announced, or undoes the
    /// changes of a failed statement that SQLite rolled back to its statement savepoint.
    func stepFinished(succeeded: Bool, inTransaction: Bool, mark: Int) {
        if let batch = committing {
            committing = nil
            if succeeded || !inTransaction {
                if succeeded, !batch.isEmpty { ready.append(batch) }
            } else {
                // The COMMIT failed but the transaction is still open: keep its changes.
                pending = batch + pending
            }
            return
        }
        if !succeeded, inTransaction, pending.count > mark {
            pending.removeLast(pending.count - mark)
        }
    }

    /// Takes the committed batches for delivery.
    func takeReady() -> [[StorageChange]] {
        defer { ready = [] }
        return ready
    }

    /// Installs the update, commit and rollback hooks on a connection; `owner` must outlive it.
    static func install(on db: OpaquePointer, owner: Database) {
        let context = Unmanaged.passUnretained(owner).toOpaque()
        sqlite3_update_hook(db, { context, operation, database, table, rowID in
            guard let context, let database, let table else { return }
            Unmanaged<Database>.fromOpaque(context).takeUnretainedValue().changes.recordUpdate(
                database: String(cString: database), table: String(cString: table),
                operation: operation, rowID: rowID)
        }, context)
        sqlite3_commit_hook(db, { context in
            guard let context else { return 0 }
            Unmanaged<Database>.fromOpaque(context).takeUnretainedValue().changes.willCommit()
            return 0
        }, context)
        sqlite3_rollback_hook(db, { context in
            guard let context else { return }
            Unmanaged<Database>.fromOpaque(context).takeUnretainedValue().changes.didRollback()
        }, context)
    }
}
