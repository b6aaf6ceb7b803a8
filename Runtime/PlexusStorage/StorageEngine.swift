import Dispatch
import Foundation
import Synchronization

/// One plugin's database, served by its workers: a SQLite file with one serial worker, or a
/// PostgreSQL schema with a bounded pool of connections (see `StorageEngine+Postgres.swift`).
///
/// Every operation is queued to a worker, which owns its connection; the completion is called
/// on the worker when the operation is done (hop back to your own thread yourself). The `async`
/// API may instead run a SQLite operation on the calling task's thread, inside the free
/// worker's queue (see `StorageEngine+Async.swift`). On SQLite
/// operations run one at a time in the order they were submitted, from any thread; on a pool
/// they start in that order, up to the pool size at once. After `close`, every operation fails
/// with `.closed`.
public final class StorageEngine: Sendable {
    /// The database file (SQLite), or `postgresql:<schema>` naming the plugin's schema.
    public let path: String
    /// The SQL dialect of the backend.
    public let dialect: SQLDialect
    let pool: WorkerPool
    let configuration: StorageConfiguration
    private let timer: PurgeTimerBox
    /// The PostgreSQL change feed (LISTEN/NOTIFY), if this engine has one.
    private let changeFeed: (any ChangeFeed)?
    /// PostgreSQL: the pool's libpq connection parameters (for `LoopStorage`'s own connection).
    let postgresParameters: [(String, String)]?
    /// Backups in progress (`LoopStorage` writes nothing on the loop meanwhile).
    let backupsRunning = RunningCount()
    /// PostgreSQL: this engine's lease on the change log (the triggers run while someone listens).
    private let listening: ChangeListening?
    /// SQLite: when an `async` caller may run an operation on its own thread (nil: never).
    let callerRuns: CallerRunPolicy?
    /// SQLite: a checkpoint asked for by the loop's connection is queued or running.
    let checkpointQueued = Atomic<Bool>(false)
    /// SQLite: checkpoints asked for by the loop's connection that ran (for tests).
    let checkpointsRun = Atomic<Int>(0)

    init(path: String, dialect: SQLDialect, pool: WorkerPool, configuration: StorageConfiguration, changeFeed: (any ChangeFeed)?,
         postgresParameters: [(String, String)]? = nil) {
        listening = dialect == .postgresql ? ChangeListening(pool: pool, configuration: configuration) : nil
        self.path = path
        self.dialect = dialect
        self.pool = pool
        self.configuration = configuration
        self.timer = PurgeTimerBox()
        self.changeFeed = changeFeed
        self.postgresParameters = postgresParameters
        callerRuns = dialect == .sqlite ? configuration.callerRunLimit.map(CallerRunPolicy.init(limit:)) : nil
    }

    // MARK: Opening and closing

    /// `<dataDirectory>/plugins/<pluginName>/storage.sqlite`; refuses names that are not a single path component.
    public static func databasePath(pluginName: String, dataDirectory: String) throws(StorageError) -> String {
        if pluginName.isEmpty || pluginName == "." || pluginName == ".." || pluginName.contains("/")
            || pluginName.contains("\0")
        {
            throw StorageError(.misuse, "invalid plugin name \"\(pluginName)\"", operation: "open")
        }
        return URL(fileURLWithPath: dataDirectory).appendingPathComponent("plugins")
            .appendingPathComponent(pluginName).appendingPathComponent("storage.sqlite").path
    }

    /// Opens (creating directories and file as needed) the database of a plugin, at
    /// `<dataDirectory>/plugins/<pluginName>/storage.sqlite`.
    public static func open(
        pluginName: String, dataDirectory: String, configuration: StorageConfiguration = StorageConfiguration(),
        completion: @escaping @Sendable (Result<StorageEngine, StorageError>) -> Void
    ) {
        let path: String
        do {
            path = try databasePath(pluginName: pluginName, dataDirectory: dataDirectory)
        } catch {
            completion(.failure(error))
            return
        }
        open(at: path, configuration: configuration, createDirectories: true, completion: completion)
    }

    /// Opens (or creates) the database file at `path`: WAL mode, `synchronous=NORMAL`, foreign
    /// keys on, the busy timeout, the sandbox; then `PRAGMA quick_check`. A damaged file fails
    /// with `.corrupt` naming the file. The completion runs on the new engine's worker.
    public static func open(
        at path: String, configuration: StorageConfiguration = StorageConfiguration(),
        completion: @escaping @Sendable (Result<StorageEngine, StorageError>) -> Void
    ) {
        open(at: path, configuration: configuration, createDirectories: false, completion: completion)
    }

    private static func open(
        at path: String, configuration: StorageConfiguration, createDirectories: Bool,
        completion: @escaping @Sendable (Result<StorageEngine, StorageError>) -> Void
    ) {
        DispatchQueue(label: "plexus.storage.open:\(path)").async {
            do {
                if createDirectories {
                    let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
                    do {
                        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    } catch {
                        throw StorageError(.cantOpen, "cannot create directory: \(error)", operation: "open", path: path)
                    }
                }
                let database = try Database.open(path: path, configuration: configuration)
                let pool = WorkerPool(label: "plexus.storage:\(path)", connections: [database])
                let engine = StorageEngine(path: path, dialect: .sqlite, pool: pool, configuration: configuration, changeFeed: nil)
                engine.startPurgeTimer()
                completion(.success(engine))
            } catch let error as StorageError {
                completion(.failure(error))
            } catch {
                completion(.failure(StorageError(.other, "\(error)", operation: "open", path: path)))
            }
        }
    }

    /// Closes the database: later operations fail with `.closed`; backups in progress are abandoned.
    /// Operations submitted before `close` still run first.
    public func close(completion: @escaping @Sendable (Result<Void, StorageError>) -> Void = { _ in }) {
        timer.cancel()
        changeFeed?.stop()
        let closePool: @Sendable () -> Void = { [pool] in pool.close { completion(.success(())) } }
        if let listening { listening.close(then: closePool) } else { closePool() }
    }

    // MARK: Change feed

    /// Sets (or clears, with nil) the receiver of committed changes to plugin tables.
    ///
    /// The handler is called on the worker once per committed transaction that inserted, updated
    /// or deleted rows of tables not named `_plexus_*` / `sqlite_*`, before that operation's
    /// completion. Rolled-back work is never reported. Not reported by SQLite: WITHOUT ROWID
    /// tables, `DELETE FROM t` with no WHERE (truncate), rows replaced by `OR REPLACE`.
    ///
    /// On PostgreSQL the changes come from the database (a trigger's NOTIFY, on a listening
    /// connection), so changes committed through another instance are reported too; they arrive
    /// shortly after the commit, not before the operation's completion. The database logs
    /// changes only while some engine listens: see ``setChangeListening(_:completion:)``.
    public func setChangeHandler(_ handler: (@Sendable ([StorageChange]) -> Void)?) {
        if let changeFeed {
            changeFeed.setHandler(handler)
        } else {
            pool.broadcast { worker in worker.connection?.changeHandler = handler }
        }
    }

    /// PostgreSQL: whether this engine's owner wants the plugin's changes. The change-log
    /// triggers run only while some engine on the database listens (they cost every write): with
    /// `true` this engine takes a lease (renewed every ``StorageConfiguration/changeListenerCheckInterval``)
    /// and the triggers are enabled; `completion` runs once that is committed, and every
    /// transaction that commits after it, through any instance, is reported to the handler (and
    /// caught up after a lost connection). With `false` it leaves; the last to leave (or whoever
    /// finds the last lease expired) disables the triggers. Closing the engine leaves too.
    /// SQLite reports every change of its own file anyway: `completion` runs at once.
    public func setChangeListening(_ listening: Bool, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void = { _ in }) {
        guard let changeListening = self.listening else { return completion(.success(())) }
        changeListening.set(listening, completion: completion)
    }

    /// For tests: this engine's name in `_plexus_listeners` (nil on SQLite).
    var listenerID: String? { listening?.id }

    // MARK: Key-value

    /// Reads a key; nil if it does not exist or has expired.
    public func get(_ key: String, completion: @escaping @Sendable (Result<KeyValueEntry?, StorageError>) -> Void) {
        run("get(\"\(key)\")", completion) { db throws(StorageError) in try db.kvGet(key) }
    }

    /// Writes a key and returns its new version (1 on creation, then +1 per write).
    ///
    /// - Parameters:
    ///   - ttl: seconds until the entry expires (it is invisible from then on), nil for never.
    ///   - expectedVersion: compare-and-set: fail with `.conflict` (carrying `currentVersion`)
    ///     unless the key is at this version; 0 means the key must not exist.
    public func put(
        _ key: String, value: [UInt8], ttl: Double? = nil, expectedVersion: Int64? = nil,
        completion: @escaping @Sendable (Result<Int64, StorageError>) -> Void
    ) {
        run("put(\"\(key)\")", completion) { db throws(StorageError) in
            try db.kvPut(key, value, ttl: ttl, expectedVersion: expectedVersion)
        }
    }

    /// Deletes a key; returns whether it existed. With `expectedVersion`, fails with `.conflict`
    /// unless the key is at that version (0: must not exist).
    public func delete(
        _ key: String, expectedVersion: Int64? = nil, completion: @escaping @Sendable (Result<Bool, StorageError>) -> Void
    ) {
        run("delete(\"\(key)\")", completion) { db throws(StorageError) in
            try db.kvDelete(key, expectedVersion: expectedVersion)
        }
    }

    /// Lists live entries whose key starts with `prefix`, ordered by key, at most `limit`,
    /// starting after the key `after` (pass the previous page's `nextCursor`).
    public func list(
        prefix: String = "", limit: Int = 100, after: String? = nil,
        completion: @escaping @Sendable (Result<KeyValuePage, StorageError>) -> Void
    ) {
        run("list(prefix: \"\(prefix)\")", completion) { db throws(StorageError) in
            try db.kvList(prefix: prefix, limit: limit, after: after)
        }
    }

    /// Deletes expired entries now and returns how many (this also happens periodically).
    public func purgeExpired(completion: @escaping @Sendable (Result<Int, StorageError>) -> Void) {
        run("purgeExpired", completion) { db throws(StorageError) in try db.kvPurgeExpired() }
    }

    // MARK: SQL

    /// Runs one statement with bound parameters (`?`, `?N`, `:name` by position) in the plugin
    /// sandbox; returns the change count and last insert rowid.
    public func execute(
        _ sql: String, _ parameters: [StorageValue] = [],
        completion: @escaping @Sendable (Result<ExecuteResult, StorageError>) -> Void
    ) {
        run("execute", completion) { db throws(StorageError) in try db.pluginExecute(sql, parameters) }
    }

    /// Runs one statement with bound parameters in the plugin sandbox and returns its rows.
    public func query(
        _ sql: String, _ parameters: [StorageValue] = [],
        completion: @escaping @Sendable (Result<QueryResult, StorageError>) -> Void
    ) {
        run("query", completion) { db throws(StorageError) in try db.pluginQuery(sql, parameters) }
    }

    /// How often a transaction that failed with `.serializationFailure` is run in all.
    static let serializationAttempts = 3

    /// Runs `body` in one transaction on the worker: committed if it returns, rolled back if it
    /// throws or any statement fails (a non-storage error becomes `.aborted`). A serialization
    /// failure (PostgreSQL) runs the body again, up to 3 times in all, so it must have no effect
    /// outside the transaction.
    public func transaction<T>(
        _ body: @escaping @Sendable (StorageTransaction) throws -> T,
        completion: @escaping @Sendable (Result<T, StorageError>) -> Void
    ) {
        run("transaction", completion, Self.transactionWork(body))
    }

    /// What `transaction` runs on the worker: the body in one transaction, run again after a serialization failure.
    static func transactionWork<T>(
        _ body: @escaping @Sendable (StorageTransaction) throws -> T
    ) -> @Sendable (any StorageConnection) throws(StorageError) -> T {
        { db throws(StorageError) in
            var attempt = 1
            while true {
                let transaction = StorageTransaction(database: db)
                defer { transaction.invalidate() }
                do throws(StorageError) {
                    return try db.atomically { () throws(StorageError) -> T in
                        do {
                            return try body(transaction)
                        } catch let error as StorageError {
                            throw error
                        } catch {
                            throw StorageError(.aborted, "transaction body threw: \(error)")
                        }
                    }
                } catch where error.kind == .serializationFailure && attempt < Self.serializationAttempts {
                    // The database rolled the whole transaction back; run the body again.
                    db.rollbackIfNeeded()
                    attempt += 1
                }
            }
        }
    }

    /// Applies the migrations not yet recorded in `_plexus_migrations`, in order, each in its own
    /// transaction; returns the versions applied now. Refuses (`.invalidMigration`) a gap, a
    /// duplicate, or an applied migration whose SQL changed, before running anything.
    public func migrate(_ migrations: [Migration], completion: @escaping @Sendable (Result<[Int], StorageError>) -> Void) {
        run("migrate", completion) { db throws(StorageError) in try db.migrate(migrations) }
    }

    // MARK: Backup

    /// Copies the database to `destination` with SQLite's online backup, a few pages per worker
    /// job so the database keeps serving; the file appears (atomically renamed) only when complete.
    public func backup(to destination: String, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        let operation = "backup(to: \(destination))"
        backupsRunning.add(1)
        let finish: @Sendable (Result<Void, StorageError>) -> Void = { [backupsRunning] result in
            backupsRunning.add(-1)
            completion(result)
        }
        let submitted = pool.submit { [self] worker in
            guard let connection = worker.connection else {
                finish(.failure(StorageError(.closed, "the storage engine is closed", operation: operation, path: path)))
                return
            }
            guard let db = connection as? Database else {
                finish(.failure(StorageError(
                    .misuse, "backup(to:) copies a SQLite file; on PostgreSQL use pg_dump or `plexus storage migrate`",
                    operation: operation, path: path)))
                return
            }
            do throws(StorageError) {
                let job = try BackupJob(source: db, destination: destination, pagesPerStep: configuration.backupPagesPerStep)
                db.activeBackups[ObjectIdentifier(job)] = job
                continueBackupStep(job, operation: operation, completion: finish)
            } catch {
                finish(.failure(error.located(operation: operation, path: path)))
            }
        }
        if !submitted {
            finish(.failure(StorageError(.closed, "the storage engine is closed", operation: operation, path: path)))
        }
    }

    /// Queues the backup's next step behind the operations already waiting.
    private func continueBackupStep(
        _ job: BackupJob, operation: String, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void
    ) {
        let submitted = pool.submit { [self] worker in
            continueBackupOnWorker(job, database: worker.connection as? Database, operation: operation, completion: completion)
        }
        if !submitted {
            completion(.failure(StorageError(.closed, "the storage engine was closed during the backup", operation: operation, path: path)))
        }
    }

    private func continueBackupOnWorker(
        _ job: BackupJob, database: Database?, operation: String,
        completion: @escaping @Sendable (Result<Void, StorageError>) -> Void
    ) {
        guard let db = database, db.activeBackups[ObjectIdentifier(job)] != nil else {
            completion(.failure(StorageError(.closed, "the storage engine was closed during the backup", operation: operation, path: path)))
            return
        }
        do throws(StorageError) {
            if try job.step() {
                db.activeBackups[ObjectIdentifier(job)] = nil
                completion(.success(()))
            } else {
                continueBackupStep(job, operation: operation, completion: completion)
            }
        } catch {
            db.activeBackups[ObjectIdentifier(job)] = nil
            completion(.failure(error.located(operation: operation, path: path)))
        }
    }

    // MARK: Worker plumbing

    func run<T>(
        _ operation: String, _ completion: @escaping @Sendable (Result<T, StorageError>) -> Void,
        _ body: @escaping @Sendable (any StorageConnection) throws(StorageError) -> T
    ) {
        let submitted = pool.submit(job(operation, completion, body))
        if !submitted {
            completion(.failure(StorageError(.closed, "the storage engine is closed", operation: operation, path: path)))
        }
    }

    /// The worker job of one operation: `body` on the worker's connection, a failure rolled
    /// back, committed changes handed to the change handler, then `completion` (on that worker).
    func job<T>(
        _ operation: String, _ completion: @escaping @Sendable (Result<T, StorageError>) -> Void,
        _ body: @escaping @Sendable (any StorageConnection) throws(StorageError) -> T
    ) -> WorkerPool.Job {
        let (path, callerRuns) = (path, callerRuns)
        return { worker in
            guard let db = worker.connection else {
                completion(.failure(StorageError(.closed, "the storage engine is closed", operation: operation, path: path)))
                return
            }
            let started = callerRuns == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            let result: Result<T, StorageError>
            do throws(StorageError) {
                result = .success(try body(db))
            } catch {
                db.rollbackIfNeeded()
                result = .failure(error.located(operation: operation, path: path))
            }
            db.deliverChanges()
            callerRuns?.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            completion(result)
        }
    }

    func startPurgeTimer() {
        guard let interval = configuration.purgeInterval, interval > 0 else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "plexus.storage.purge:\(path)"))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(Int(interval * 100)))
        timer.setEventHandler { [pool] in
            pool.submit { worker in _ = try? worker.connection?.kvPurgeExpired() }
        }
        self.timer.set(timer)
        timer.resume()
    }
}

/// The engine's purge timer, cancelled at close.
final class PurgeTimerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var timer: DispatchSourceTimer?

    func set(_ timer: DispatchSourceTimer) {
        lock.lock()
        defer { lock.unlock() }
        self.timer = timer
    }

    func cancel() {
        lock.lock()
        defer { lock.unlock() }
        timer?.cancel()
        timer = nil
    }
}
