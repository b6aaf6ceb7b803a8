import CPlexusABI
import Foundation
import Logging
import PlexusEventLog
import PlexusStorage

/// One plugin's storage: its own SQLite database under `<data>/plugins/<name>/`, or with
/// `[cluster] postgres` its own schema and role on PostgreSQL, opened on first use, every
/// completion delivered on the loop. Key-value get, put and delete go through the engine's loop
/// side (`runOnLoop`, `LoopStorage`: answered on the loop without a worker hop where that is safe);
/// every other operation runs on the engine's workers (`run`).
/// Committed changes to the plugin's tables are published as
/// `storage.<plugin>.<table>.<insert|update|delete>` (on PostgreSQL, those of every instance).
/// A PostgreSQL server that cannot be reached fails the operations waiting for it with
/// `.unavailable` (503 to clients) and the next operation tries to open again.
final class PluginStorage {
    private enum State {
        case closed
        case opening([(StorageEngine?, StorageError?) -> Void])
        case open(StorageEngine)
        case failed(StorageError)
    }

    let pluginName: String
    private let dataDirectory: String
    private let postgres: PostgresSettings?
    private let loop: EventLoop
    private let logger: Logger
    private var state = State.closed
    /// The open engine's loop side (key-value calls answered on the loop where safe).
    private var loopStorage: LoopStorage?
    private lazy var storageLoop = StorageLoop(
        uv: loop.uv, isCurrent: { [loop] in loop.inLoopThread }, post: { [loop] body in loop.execute(body) })
    /// Receives committed changes, on the loop.
    var onChanges: (([StorageChange]) -> Void)?
    var metrics: RuntimeMetrics?
    /// PostgreSQL: whether someone here subscribes to this plugin's change topics (``ChangeFeedDemand``).
    private var feedWanted = false
    /// An enabling of the change log is in progress: calls made meanwhile wait for it (``held``),
    /// so a call made after a subscription runs after the log started.
    private var feedSettling = false
    private var feedWaiters: [(StorageError?) -> Void] = []
    private var held: [() -> Void] = []

    init(pluginName: String, dataDirectory: String, postgres: PostgresSettings? = nil, loop: EventLoop, logger: Logger) {
        self.pluginName = pluginName
        self.dataDirectory = dataDirectory
        self.postgres = postgres
        self.loop = loop
        self.logger = logger
    }

    /// PostgreSQL: asks the database to log this plugin's changes (or not): while `wanted`, this
    /// instance's engine holds a lease and the change-log triggers run (see
    /// `StorageEngine.setChangeListening`). `ready` runs on the loop once the log runs (nil), or
    /// with the failure once the attempt failed (the engine tries again at its next check); calls made to this storage
    /// meanwhile wait for it. SQLite reports its changes anyway: `ready` runs at once.
    func wantChanges(_ wanted: Bool, ready: @escaping (StorageError?) -> Void) {
        guard postgres != nil else { return ready(nil) }
        feedWanted = wanted
        guard wanted else {
            if case .open(let engine) = state { engine.setChangeListening(false) }
            return ready(nil)
        }
        feedWaiters.append(ready)
        guard !feedSettling else { return }
        feedSettling = true
        openEngine { [weak self, loop] result in
            guard let self else { return }
            switch result {
            case .success(let engine):
                let settled = loop.bounce { [weak self] (result: Result<Void, StorageError>) in
                    var failure: StorageError?
                    if case .failure(let error) = result, let self {
                        self.logger.warning("the change log could not be started; retried at the next check",
                                            metadata: ["plugin": "\(self.pluginName)", "error": "\(error)"])
                        failure = error
                    }
                    self?.feedSettled(failure)
                }
                engine.setChangeListening(feedWanted) { settled($0) }
            case .failure(let error):
                feedSettled(error)
            }
        }
    }

    private func feedSettled(_ failure: StorageError?) {
        feedSettling = false
        let waiters = feedWaiters, calls = held
        feedWaiters = []
        held = []
        for waiter in waiters { waiter(failure) }
        for call in calls { call() }
    }

    /// Runs `body` with the open engine (opening it first), or fails with why it cannot open;
    /// while the change log is being started, after that.
    func withEngine(_ body: @escaping (Result<StorageEngine, StorageError>) -> Void) {
        if feedSettling {
            held.append { [weak self] in self?.withEngine(body) }
            return
        }
        openEngine(body)
    }

    private func openEngine(_ body: @escaping (Result<StorageEngine, StorageError>) -> Void) {
        switch state {
        case .open(let engine): body(.success(engine))
        case .failed(let error): body(.failure(error))
        case .opening(var waiters):
            waiters.append { engine, error in body(engine.map { .success($0) } ?? .failure(error!)) }
            state = .opening(waiters)
        case .closed:
            state = .opening([{ engine, error in body(engine.map { .success($0) } ?? .failure(error!)) }])
            let opened = loop.bounce { [unowned self] (result: Result<StorageEngine, StorageError>) in
                guard case .opening(let waiters) = state else {
                    // Closed while opening: nobody waits any more; do not leak the engine.
                    if case .success(let engine) = result { engine.close() }
                    return
                }
                switch result {
                case .success(let engine):
                    state = .open(engine)
                    let changes = loop.bounce { [weak self] (batch: [StorageChange]) in self?.onChanges?(batch) }
                    engine.setChangeHandler { batch in changes(batch) }
                    // Opened again after a failure while someone here wants the changes.
                    if feedWanted, !feedSettling { engine.setChangeListening(true) }
                    for waiter in waiters { waiter(engine, nil) }
                case .failure(let error):
                    logger.error("plugin storage cannot be opened", metadata: ["plugin": "\(pluginName)", "error": "\(error)"])
                    // A database server that is down may come back: the next operation opens again.
                    state = error.kind == .unavailable ? .closed : .failed(error)
                    for waiter in waiters { waiter(nil, error) }
                }
            }
            if let postgres {
                StorageEngine.open(pluginName: pluginName, postgres: postgres, completion: opened)
            } else {
                StorageEngine.open(pluginName: pluginName, dataDirectory: dataDirectory, completion: opened)
            }
        }
    }

    /// Runs one engine operation and hands its result back on the loop, timing it for `/metrics`.
    func run<T>(_ operation: String, _ start: @escaping (StorageEngine, @escaping @Sendable (Result<T, StorageError>) -> Void) -> Void,
                completion: @escaping (Result<T, StorageError>) -> Void) {
        let finish = timed(operation, completion)
        withEngine { [weak self, loop] result in
            switch result {
            case .success(let engine):
                // On PostgreSQL through the loop side, so this call and the plugin's key-value
                // calls on the loop's connection keep the order they were made in.
                guard let self, postgres != nil else { return start(engine, loop.bounce(finish)) }
                loopSide(of: engine).onWorkers(start, completion: finish)
            case .failure(let error): finish(.failure(error))
            }
        }
    }

    /// Runs one key-value operation through the engine's loop side (`LoopStorage`): answered on the
    /// loop without a worker hop where that is safe, else by the workers; `completion` runs on the
    /// loop, possibly before this returns. Timed for `/metrics` like `run`.
    func runOnLoop<T>(_ operation: String, _ start: @escaping (LoopStorage, @escaping (Result<T, StorageError>) -> Void) -> Void,
                      completion: @escaping (Result<T, StorageError>) -> Void) {
        let finish = timed(operation, completion)
        withEngine { [weak self] result in
            switch result {
            case .success(let engine):
                guard let self else { return finish(.failure(StorageError(.closed, "plugin storage is gone"))) }
                start(self.loopSide(of: engine), finish)
            case .failure(let error): finish(.failure(error))
            }
        }
    }

    /// `completion`, recording the time from now until it is called as `operation`'s storage
    /// latency in `/metrics`.
    private func timed<T>(_ operation: String, _ completion: @escaping (Result<T, StorageError>) -> Void) -> (Result<T, StorageError>) -> Void {
        let started = DispatchTime.now().uptimeNanoseconds
        return { [weak self] result in
            if let metrics = self?.metrics {
                metrics.storageLatency(operation: operation).record(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
            completion(result)
        }
    }

    private func loopSide(of engine: StorageEngine) -> LoopStorage {
        if let loopStorage, loopStorage.engine === engine { return loopStorage }
        loopStorage?.close()
        let side = LoopStorage(engine: engine, loop: storageLoop)
        loopStorage = side
        return side
    }

    /// Closes the engine; operations waiting for it to open are failed, not dropped. `completion`
    /// runs on the loop once the database file is closed (at once when none was open).
    func close(completion: @escaping () -> Void = {}) {
        let previous = state
        state = .closed
        loopStorage?.close()
        loopStorage = nil
        switch previous {
        case .open(let engine):
            let closed = loop.bounce { (_: Result<Void, StorageError>) in completion() }
            engine.close { result in closed(result) }
        case .opening(let waiters):
            let error = StorageError(.closed, "storage of plugin '\(pluginName)' was closed while opening")
            for waiter in waiters { waiter(nil, error) }
            completion()
        default:
            completion()
        }
    }

    /// `"<kind>: <message>"`, the error text the ABI promises.
    static func describe(_ error: StorageError) -> String {
        let kind = "\(error.kind)".reduce(into: "") { text, character in
            if character.isUppercase { text += "_" + character.lowercased() } else { text.append(character) }
        }
        return "\(kind == "cant_open" ? "io" : kind): \(error.message)"
    }
}
