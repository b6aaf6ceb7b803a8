import CSQLite
import Synchronization

extension StorageEngine {
    /// Whether an operation may run on the loop's own SQLite connection now: the worker has
    /// nothing queued or running (so it cannot be overtaken and holds no transaction), and no
    /// backup is copying the file.
    var loopMayRunSQLite: Bool { backupsRunning.current == 0 && pool.isIdle }

    /// Has the worker run a passive checkpoint (the WAL-to-file copy that syncs), after the
    /// loop's connection, whose own automatic checkpoints are off, grew the WAL. One at a time:
    /// a request while one is queued or running is dropped (the loop's next commit past the
    /// threshold asks again once it is done). While it runs the loop's calls go to the worker,
    /// behind it (`LoopStorage` holds the calls after the first until that one is answered), so
    /// no write lands in the WAL while it is copied: it ends copied whole and the next write
    /// starts it over. (Run beside the loop's writes instead, it was chased by them and the WAL
    /// grew to tens of megabytes in `LoopStorageTests`.)
    func checkpointOnWorker() {
        guard checkpointQueued.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let submitted = pool.submit { [self] worker in
            defer { checkpointQueued.store(false, ordering: .releasing) }
            guard let database = worker.connection as? Database, let handle = database.handle else { return }
            sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            checkpointsRun.wrappingAdd(1, ordering: .relaxed)
        }
        if !submitted { checkpointQueued.store(false, ordering: .releasing) }
    }
}
