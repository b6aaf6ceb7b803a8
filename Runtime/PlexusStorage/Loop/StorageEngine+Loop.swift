import CSQLite
import Synchronization

extension StorageEngine {
    /// Whether an operation may run on the loop's own SQLite connection now: the worker has
    /// nothing queued or running but a checkpoint (so it cannot be overtaken and holds no
    /// transaction), and no backup is copying the file.
    var loopMayRunSQLite: Bool { backupsRunning.current == 0 && pool.isIdle }

    /// Has the worker run a passive checkpoint (the WAL-to-file copy that syncs), after the
    /// loop's connection, whose own automatic checkpoints are off, grew the WAL. One at a time:
    /// a request while one is queued or running is dropped (the WAL keeps growing meanwhile, so
    /// the loop's next commit asks again once it is done). The checkpoint runs as a background
    /// job: the loop's connection keeps answering while it copies and syncs (a passive checkpoint
    /// takes no lock a writer needs; any busy answer there sends that call to the worker).
    func checkpointOnWorker() {
        guard checkpointQueued.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        pool.submitBackground { [self] worker in
            defer { checkpointQueued.store(false, ordering: .releasing) }
            guard let database = worker.connection as? Database, let handle = database.handle else { return }
            sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            checkpointsRun.wrappingAdd(1, ordering: .relaxed)
        }
    }
}
