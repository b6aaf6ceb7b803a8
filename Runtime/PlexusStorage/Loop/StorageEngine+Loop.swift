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
    /// takes no lock a writer needs; any busy answer there sends that call to the worker). The
    /// frames written meanwhile are copied by a second, ordinary job, during which the loop's
    /// calls go to the worker (and `LoopStorage` holds the calls after the first until it answers).
    func checkpointOnWorker() {
        guard checkpointQueued.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        pool.submitBackground { [self] worker in
            guard let database = worker.connection as? Database, let handle = database.handle else {
                return checkpointQueued.store(false, ordering: .releasing)
            }
            sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            checkpointsRun.wrappingAdd(1, ordering: .relaxed)
            // The frames the loop wrote meanwhile (the checkpoint copied the WAL as it was when it
            // began): copied by an ordinary job, while the loop's writes wait (a few frames; no
            // work at all when there are none), so the WAL ends copied whole and the next write
            // starts it over. A WAL chased by writes during every checkpoint would only grow.
            let submitted = pool.submit { [self] worker in
                defer { checkpointQueued.store(false, ordering: .releasing) }
                guard let database = worker.connection as? Database, let handle = database.handle else { return }
                sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            if !submitted { checkpointQueued.store(false, ordering: .releasing) }
        }
    }
}
