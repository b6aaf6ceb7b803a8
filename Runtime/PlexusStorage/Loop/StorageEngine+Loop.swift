import CSQLite

extension StorageEngine {
    /// Whether an operation may run on the loop's own SQLite connection now: the worker has
    /// nothing queued or running (so it cannot be overtaken and holds no transaction), and no
    /// backup is copying the file.
    var loopMayRunSQLite: Bool { backupsRunning.current == 0 && pool.isIdle }

    /// Has the worker run a passive checkpoint (the WAL-to-file copy that syncs), after the
    /// loop's connection, whose own automatic checkpoints are off, grew the WAL.
    func checkpointOnWorker() {
        pool.submit { worker in
            guard let database = worker.connection as? Database, let handle = database.handle else { return }
            sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
    }
}
