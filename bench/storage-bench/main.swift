import CLibPQ
import CSQLite
import Dispatch
import Foundation
import PlexusStorage

// Plugin storage on both backends against the same work done directly (bench/storage.sh).
// Usage: storage-bench OPERATIONS POSTGRES_URL
// - key-value put and get, one at a time and 64 in flight, through LoopStorage on a libuv loop
//   thread (what every plugin's kv call reaches: called on the loop, completed on the loop;
//   versions, compare-and-set, TTL column; SQLite gets and puts on the loop's own connection while
//   the worker is idle, PostgreSQL on the loop's non-blocking connection), against
//   raw SQLite (C API, same statements, one connection) and raw libpq (prepared statements,
//   the same statements; 64 in flight = as many connections as the engine's pool, each running
//   its share one after another, as pgbench does);
// - a 3-table SQL workload (customer upsert, order, two order lines, then a join) in one
//   transaction per order, through StorageEngine.transaction against the same statements raw.
// Engine and raw run side by side at a fine grain: each workload is cut into up to 20 chunks (1,000
// operations or 100 orders each at 20,000 operations) and the engine's chunk and the raw chunk alternate (raw first in every
// other pair), so a burst of load on this shared machine falls on both sides alike; a round's ratio
// is the engine's summed time over the raw summed time. An engine key-value chunk is timed on the
// loop thread (first call to last completion, see `onLoop`), a raw chunk on the thread running it. With BENCH_ROUNDS above 1 the whole
// sequence runs that many times, each round on fresh tables; each rate is the median of its rounds
// and each ratio the median of the rounds' ratios, printed with their spread (lowest-highest).
// Prints each ratio (engine time / raw time); exit 1 if the work did not happen, 3 if a median
// ratio is above 1.3.
let arguments = CommandLine.arguments.dropFirst()
let operations = Int(arguments.first ?? "") ?? 5_000
let rounds = max(1, Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 1)
guard let postgresURL = arguments.dropFirst().first else {
    FileHandle.standardError.write(Data("usage: storage-bench OPERATIONS POSTGRES_URL\n".utf8))
    exit(2)
}
let orders = max(10, operations / 10)
/// Chunks per workload (engine and raw alternate chunk by chunk).
let chunks = max(1, min(20, operations / 1_000))
/// The `chunks` parts of 0..<count, in order.
func parts(_ count: Int) -> [Range<Int>] {
    (0..<chunks).map { c in (count * c / chunks)..<(count * (c + 1) / chunks) }.filter { !$0.isEmpty }
}
let poolSize = 4
let value = [UInt8](repeating: 0x61, count: 64)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("storage-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
/// Removes the databases and exits (`exit` skips a top-level `defer`, which left them in /tmp).
func finish(_ status: Int32) -> Never {
    try? FileManager.default.removeItem(at: directory)
    exit(status)
}

nonisolated(unsafe) var workMissing = false

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Prints one row: median engine and raw rates over the rounds, the median of the rounds' ratios
/// and their spread; returns that median ratio.
@discardableResult
func report(_ label: String, count: Int, engine: [Double], raw: [Double], width: Int = 40) -> Double {
    let perRound = zip(engine, raw).map { $0 / $1 }
    let ratio = median(perRound)
    let spread = perRound.count > 1 ? String(format: "  (%.2f-%.2f)", perRound.min()!, perRound.max()!) : ""
    print(label.padding(toLength: width, withPad: " ", startingAt: 0)
        + String(format: " engine %8.0f ops/s | raw %8.0f ops/s | %.2fx", Double(count) / median(engine), Double(count) / median(raw), ratio)
        + spread)
    return ratio
}

/// The 3-table workload's schema, per dialect.
func schema(_ dialect: SQLDialect) -> String {
    let key = dialect == .sqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY"
    return """
        CREATE TABLE customers (id \(key), name TEXT NOT NULL, orders INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE orders (id \(key), customer BIGINT NOT NULL REFERENCES customers(id), total DOUBLE PRECISION NOT NULL);
        CREATE TABLE order_lines (order_id BIGINT NOT NULL REFERENCES orders(id), line INTEGER NOT NULL, sku TEXT NOT NULL,
                                  amount DOUBLE PRECISION NOT NULL, PRIMARY KEY (order_id, line));
        """
}
let upsertCustomer = "INSERT INTO customers (id, name, orders) VALUES (?, ?, 1) ON CONFLICT (id) DO UPDATE SET orders = customers.orders + 1"
let insertOrder = "INSERT INTO orders (id, customer, total) VALUES (?, ?, ?)"
let insertLine = "INSERT INTO order_lines (order_id, line, sku, amount) VALUES (?, ?, ?, ?)"
let joinQuery = "SELECT c.name, o.total, count(l.line) FROM orders o JOIN customers c ON c.id = o.customer JOIN order_lines l ON l.order_id = o.id WHERE o.id = ? GROUP BY c.name, o.total"

// MARK: Engine side (either backend)

struct EngineTimes {
    var putOne = 0.0, getOne = 0.0, putMany = 0.0, getMany = 0.0, sql = 0.0
    /// For comparison only: the engine's own calls from the loop (loop → worker → loop), the path before LoopStorage.
    var putViaWorkers = 0.0, getViaWorkers = 0.0
    /// PostgreSQL, for comparison only: the same SQL workload while a subscriber listens to the
    /// plugin's changes (the change-log triggers run; on the raw side: the raw SQL chunks run
    /// alternately with those).
    var sqlWithSubscriber = 0.0
}

/// Runs the operations of `range` on the loop thread, at most `width` at once; each calls its
/// `done` on the loop (at once or later). Returns the seconds from the first start to the last `done`,
/// both read on the loop thread: the hand-over of the chunk from this thread to the loop and the
/// wake-up back are the bench's, not part of a plugin's call (made and completed on the loop), and
/// on a loaded machine each costs a scheduling delay of the other thread (up to milliseconds).
/// Every operation gets the same `done` closure, made once per chunk, so the pump itself allocates
/// nothing per operation (the raw side has no pump).
func onLoop(_ thread: StorageLoopThread, _ range: Range<Int>, width: Int, _ operation: @escaping (Int, @escaping () -> Void) -> Void) -> Double {
    final class Pump {
        let range: Range<Int>, width: Int, operation: (Int, @escaping () -> Void) -> Void
        var next = 0, finished = 0, running = 0, pumping = false
        var start: UInt64 = 0, end: UInt64 = 0
        var allDone: () -> Void = {}
        /// Each operation's `done` (one closure for all of them).
        lazy var finishOne: () -> Void = { [unowned(unsafe) self] in  // `onLoop` holds self until the chunk ends
            running -= 1
            finished += 1
            if finished == range.count {
                end = DispatchTime.now().uptimeNanoseconds
                allDone()
            } else {
                pump()
            }
        }

        init(_ range: Range<Int>, width: Int, _ operation: @escaping (Int, @escaping () -> Void) -> Void) {
            (self.range, self.width, self.operation, next) = (range, width, operation, range.lowerBound)
        }

        func pump() {
            if pumping { return }  // a completion inside the call: the loop below starts the next
            pumping = true
            let done = finishOne
            while running < width && next < range.upperBound {
                let i = next
                next += 1
                running += 1
                operation(i, done)
            }
            pumping = false
        }
    }
    let state = Pump(range, width: width, operation)
    thread.wait { allDone in
        state.allDone = allDone
        state.start = DispatchTime.now().uptimeNanoseconds
        state.pump()
    }
    return Double(state.end - state.start) / 1e9
}

let check: @Sendable (Bool) -> Void = { ok in if !ok { workMissing = true } }

/// One engine's key-value calls through LoopStorage on a libuv loop thread.
final class EngineSide: @unchecked Sendable {
    let engine: StorageEngine
    let thread = StorageLoopThread()
    let storage: LoopConfinedStorage

    init(_ engine: StorageEngine) {
        self.engine = engine
        let thread = self.thread
        storage = LoopConfinedStorage(thread.sync { LoopStorage(engine: engine, loop: thread.loop) })
        if engine.dialect == .postgresql {
            // The loop's connection is made off the loop on first use; wait for it (up to 10 s).
            for _ in 0..<1_000 where thread.sync({ self.storage.value.loopConnections }) == 0 {
                thread.wait { done in self.storage.value.get("warm-up") { _ in done() } }
                usleep(10_000)
            }
        }
    }

    var answered: (onLoop: Int, byWorkers: Int) { thread.sync { (self.storage.value.answeredOnLoop, self.storage.value.answeredByWorkers) } }

    func put(_ prefix: String, _ range: Range<Int>, width: Int) -> Double {
        let storage = self.storage
        return onLoop(thread, range, width: width) { i, done in
            storage.value.put(prefix + String(i), value: value) { check((try? $0.get()) != nil); done() }
        }
    }

    func get(_ prefix: String, _ range: Range<Int>, width: Int) -> Double {
        let storage = self.storage
        return onLoop(thread, range, width: width) { i, done in
            storage.value.get(prefix + String(i)) { check((try? $0.get())??.value == value); done() }
        }
    }

    /// The path before LoopStorage, for comparison: the engine's call made on the loop, its
    /// completion (on a worker) posted back to the loop.
    func viaWorkers(put: Bool, _ range: Range<Int>) -> Double {
        let (engine, thread) = (self.engine, self.thread)
        return onLoop(thread, range, width: 1) { i, done in
            let back = LoopConfinedDone(done)
            if put {
                engine.put("worker-\(i)", value: value) { result in check((try? result.get()) != nil); thread.loop.post { back.value() } }
            } else {
                engine.get("key-\(i)") { result in check((try? result.get())??.value == value); thread.loop.post { back.value() } }
            }
        }
    }

    func stop() {
        thread.sync { self.storage.value.close() }
        thread.stop()
    }
}

/// The 3-table workload through the engine: the orders of `range`, one transaction each.
func sqlOrders(_ engine: StorageEngine, _ range: Range<Int>) async throws -> Double {
    try await seconds {
        for order in range {
            let customer = Int64(order % 50)
            let rows = try await engine.transaction { tx -> Int in
                try tx.execute(upsertCustomer, [.integer(customer), .text("customer \(customer)")])
                try tx.execute(insertOrder, [.integer(Int64(order)), .integer(customer), .real(30)])
                try tx.execute(insertLine, [.integer(Int64(order)), 1, "sku-a", 10.0])
                try tx.execute(insertLine, [.integer(Int64(order)), 2, "sku-b", 20.0])
                return try tx.query(joinQuery, [.integer(Int64(order))]).rows.count
            }
            if rows != 1 { workMissing = true }
        }
    }
}

/// A loop-side callback carried through a worker back to the loop.
struct LoopConfinedDone: @unchecked Sendable {
    let value: () -> Void
    init(_ value: @escaping () -> Void) { self.value = value }
}

/// The loop's storage, used only on the loop thread.
struct LoopConfinedStorage: @unchecked Sendable {
    let value: LoopStorage
    init(_ value: LoopStorage) { self.value = value }
}

// MARK: Raw sides

/// The same work done directly; each call times one chunk.
protocol RawSide {
    func put(_ prefix: String, _ range: Range<Int>, many: Bool) -> Double
    func get(_ prefix: String, _ range: Range<Int>, many: Bool) -> Double
    func sql(_ range: Range<Int>) -> Double
    func close()
}

func time(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Raw SQLite: one connection does everything in order ("one at a time" and "64 in flight" are the same work).
final class RawSQLite: RawSide {
    var db: OpaquePointer?
    var putStatement: OpaquePointer?, getStatement: OpaquePointer?
    var statements: [OpaquePointer?] = []
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String) {
        sqlite3_open(path, &db)
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL, expires_at REAL) WITHOUT ROWID", nil, nil, nil)
        sqlite3_exec(db, schema(.sqlite), nil, nil, nil)
        putStatement = prepare("INSERT INTO kv(key, value, version, expires_at) VALUES (?, ?, 1, NULL) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = version + 1")
        getStatement = prepare("SELECT key, value, version, expires_at FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)")
        statements = [upsertCustomer, insertOrder, insertLine, joinQuery].map(prepare)
    }

    func prepare(_ sql: String) -> OpaquePointer? {
        var stmt: OpaquePointer?
        sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        return stmt
    }

    func put(_ prefix: String, _ range: Range<Int>, many: Bool) -> Double {
        time {
            for i in range {
                sqlite3_bind_text(putStatement, 1, prefix + String(i), -1, transient)
                value.withUnsafeBytes { _ = sqlite3_bind_blob(putStatement, 2, $0.baseAddress, Int32($0.count), transient) }
                sqlite3_step(putStatement)
                sqlite3_reset(putStatement)
            }
        }
    }

    func get(_ prefix: String, _ range: Range<Int>, many: Bool) -> Double {
        time {
            for i in range {
                sqlite3_bind_text(getStatement, 1, prefix + String(i), -1, transient)
                sqlite3_bind_double(getStatement, 2, Date().timeIntervalSince1970)
                if sqlite3_step(getStatement) == SQLITE_ROW { _ = sqlite3_column_blob(getStatement, 1) }
                sqlite3_reset(getStatement)
            }
        }
    }

    func sql(_ range: Range<Int>) -> Double {
        let s = statements
        return time {
            for order in range {
                let customer = Int64(order % 50)
                sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil)
                sqlite3_bind_int64(s[0], 1, customer); sqlite3_bind_text(s[0], 2, "customer \(customer)", -1, transient)
                sqlite3_step(s[0]); sqlite3_reset(s[0])
                sqlite3_bind_int64(s[1], 1, Int64(order)); sqlite3_bind_int64(s[1], 2, customer); sqlite3_bind_double(s[1], 3, 30)
                sqlite3_step(s[1]); sqlite3_reset(s[1])
                for (line, sku, amount) in [(1, "sku-a", 10.0), (2, "sku-b", 20.0)] {
                    sqlite3_bind_int64(s[2], 1, Int64(order)); sqlite3_bind_int64(s[2], 2, Int64(line))
                    sqlite3_bind_text(s[2], 3, sku, -1, transient); sqlite3_bind_double(s[2], 4, amount)
                    sqlite3_step(s[2]); sqlite3_reset(s[2])
                }
                sqlite3_bind_int64(s[3], 1, Int64(order))
                while sqlite3_step(s[3]) == SQLITE_ROW { _ = sqlite3_column_text(s[3], 0) }
                sqlite3_reset(s[3])
                sqlite3_exec(db, "COMMIT", nil, nil, nil)
            }
        }
    }

    func close() {
        for statement in statements + [putStatement, getStatement] { sqlite3_finalize(statement) }
        sqlite3_close(db)
    }
}

// MARK: Raw libpq

/// One libpq connection with the benchmark's prepared statements.
final class RawPG: @unchecked Sendable {
    let connection: OpaquePointer?
    init(_ url: String) {
        connection = PQconnectdb(url)
        guard PQstatus(connection) == CONNECTION_OK else {
            FileHandle.standardError.write(Data("storage-bench: cannot connect: \(String(cString: PQerrorMessage(connection)))\n".utf8))
            finish(1)
        }
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }
    deinit { PQfinish(connection) }

    func exec(_ sql: String) { PQclear(PQexec(connection, sql)) }

    func prepare(_ name: String, _ sql: String, _ types: [UInt32]) {
        let result = types.withUnsafeBufferPointer { PQprepare(connection, name, sql, Int32(types.count), $0.baseAddress) }
        if PQresultStatus(result) != PGRES_COMMAND_OK { print("prepare \(name): \(String(cString: PQerrorMessage(connection)))") }
        PQclear(result)
    }

    /// Runs a prepared statement with text parameters (bytea as binary); returns the row count.
    @discardableResult
    func run(_ name: String, _ params: [String?], binary: [Int: [UInt8]] = [:]) -> Int32 {
        var copies: [UnsafeMutablePointer<CChar>?] = params.map { $0.map { strdup($0) } ?? nil }
        var lengths = [Int32](repeating: 0, count: params.count)
        var formats = [Int32](repeating: 0, count: params.count)
        for (index, bytes) in binary {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            for (offset, byte) in bytes.enumerated() { buffer[offset] = CChar(bitPattern: byte) }
            copies[index] = buffer
            lengths[index] = Int32(bytes.count)
            formats[index] = 1
        }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer<CChar>($0) } }
        let result = pointers.withUnsafeBufferPointer { p in
            lengths.withUnsafeBufferPointer { l in
                formats.withUnsafeBufferPointer { f in
                    PQexecPrepared(connection, name, Int32(params.count), p.baseAddress, l.baseAddress, f.baseAddress, 0)
                }
            }
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK { print("run \(name): \(String(cString: PQerrorMessage(connection)))") }
        return PQntuples(result)
    }

    func prepareAll() {
        prepare("put", """
            INSERT INTO kv AS kv (key, value, version, expires_at) VALUES ($1::text, $2, 1, $3::float8)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at,
              version = CASE WHEN kv.expires_at IS NULL OR kv.expires_at > $4 THEN kv.version + 1 ELSE 1 END
            RETURNING version
            """, [0, 17, 0, 701])
        prepare("get", "SELECT key, value, version, expires_at FROM kv WHERE key = $1::text AND (expires_at IS NULL OR expires_at > $2)", [0, 701])
        prepare("customer", "INSERT INTO customers (id, name, orders) VALUES ($1, $2, 1) ON CONFLICT (id) DO UPDATE SET orders = customers.orders + 1", [20, 0])
        prepare("order", "INSERT INTO orders (id, customer, total) VALUES ($1, $2, $3)", [20, 20, 701])
        prepare("line", "INSERT INTO order_lines (order_id, line, sku, amount) VALUES ($1, $2, $3, $4)", [20, 20, 0, 701])
        prepare("join", "SELECT c.name, o.total, count(l.line) FROM orders o JOIN customers c ON c.id = o.customer JOIN order_lines l ON l.order_id = o.id WHERE o.id = $1 GROUP BY c.name, o.total", [20])
    }

    func put(_ key: String) { run("put", [key, nil, nil, "\(Date().timeIntervalSince1970)"], binary: [1: value]) }
    func get(_ key: String) { run("get", [key, "\(Date().timeIntervalSince1970)"]) }
}

/// Raw libpq: prepared statements on one connection; "64 in flight" as pgbench does it, as many
/// connections as the engine's pool, each running its share one after another.
final class RawPostgres: RawSide {
    let setup: RawPG
    let main: RawPG
    let clients: [RawPG]

    init(_ url: String) {
        setup = RawPG(url)
        setup.exec("DROP SCHEMA IF EXISTS raw_bench CASCADE; CREATE SCHEMA raw_bench")
        let schemaURL = url + (url.contains("?") ? "&" : "?") + "options=-c%20search_path%3Draw_bench"
        main = RawPG(schemaURL)
        main.exec("""
            CREATE TABLE kv (key TEXT COLLATE "C" PRIMARY KEY NOT NULL, value BYTEA NOT NULL, version BIGINT NOT NULL, expires_at DOUBLE PRECISION);
            \(schema(.postgresql))
            """)
        main.prepareAll()
        clients = (0..<poolSize).map { _ -> RawPG in
            let client = RawPG(schemaURL)
            client.prepareAll()
            return client
        }
    }

    private func parallel(_ range: Range<Int>, _ body: @escaping @Sendable (RawPG, Int) -> Void) -> Double {
        let clients = self.clients
        return time {
            DispatchQueue.concurrentPerform(iterations: poolSize) { worker in
                var i = range.lowerBound + worker
                while i < range.upperBound {
                    body(clients[worker], i)
                    i += poolSize
                }
            }
        }
    }

    func put(_ prefix: String, _ range: Range<Int>, many: Bool) -> Double {
        if many { return parallel(range) { client, i in client.put(prefix + String(i)) } }
        return time { for i in range { main.put(prefix + String(i)) } }
    }

    func get(_ prefix: String, _ range: Range<Int>, many: Bool) -> Double {
        if many { return parallel(range) { client, i in client.get(prefix + String(i)) } }
        return time { for i in range { main.get(prefix + String(i)) } }
    }

    func sql(_ range: Range<Int>) -> Double {
        time {
            for order in range {
                let customer = order % 50
                main.exec("BEGIN")
                main.run("customer", ["\(customer)", "customer \(customer)"])
                main.run("order", ["\(order)", "\(customer)", "30"])
                main.run("line", ["\(order)", "1", "sku-a", "10"])
                main.run("line", ["\(order)", "2", "sku-b", "20"])
                if main.run("join", ["\(order)"]) != 1 { workMissing = true }
                main.exec("COMMIT")
            }
        }
    }

    func close() { setup.exec("DROP SCHEMA raw_bench CASCADE") }
}

// MARK: Run

/// The changes a subscriber received (from the change feed's thread).
final class ChangeCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.lock(); count += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// The engine's chunks and the raw chunks of one workload, alternating (raw first in every other
/// pair, starting differently in every other round); returns the summed times.
func alternate(_ count: Int, round: Int, engine: (Range<Int>) async throws -> Double, raw: (Range<Int>) -> Double) async rethrows -> (Double, Double) {
    var (engineTime, rawTime) = (0.0, 0.0)
    for (index, part) in parts(count).enumerated() {
        let rawFirst = (index + round) % 2 == 1
        if rawFirst { rawTime += raw(part) }
        engineTime += try await engine(part)
        if !rawFirst { rawTime += raw(part) }
    }
    return (engineTime, rawTime)
}

/// One round on one backend: every workload, engine and raw alternating chunk by chunk.
func runRound(_ round: Int, engine: StorageEngine, raw: RawSide, adminURL: String?) async throws -> (engine: EngineTimes, raw: EngineTimes) {
    var (e, r) = (EngineTimes(), EngineTimes())
    if workloads.contains("kv") {
        let side = EngineSide(engine)
        let before = side.answered
        (e.putOne, r.putOne) = await alternate(operations, round: round, engine: { side.put("key-", $0, width: 1) }, raw: { raw.put("key-", $0, many: false) })
        (e.getOne, r.getOne) = await alternate(operations, round: round, engine: { side.get("key-", $0, width: 1) }, raw: { raw.get("key-", $0, many: false) })
        (e.putMany, r.putMany) = await alternate(operations, round: round, engine: { side.put("many-", $0, width: 64) }, raw: { raw.put("many-", $0, many: true) })
        (e.getMany, r.getMany) = await alternate(operations, round: round, engine: { side.get("many-", $0, width: 64) }, raw: { raw.get("many-", $0, many: true) })
        let after = side.answered
        e.putViaWorkers = side.viaWorkers(put: true, 0..<operations)
        e.getViaWorkers = side.viaWorkers(put: false, 0..<operations)
        print("storage-bench: \(engine.dialect.rawValue) key-value calls answered on the loop \(after.onLoop - before.onLoop), by workers \(after.byWorkers - before.byWorkers)")
        side.stop()
        let found = try await engine.get("many-\(operations - 1)")
        if found?.value != value { workMissing = true }
    }
    try await engine.migrate([Migration(version: 1, sql: schema(.sqlite), postgresql: schema(.postgresql))])
    (e.sql, r.sql) = try await alternate(orders, round: round, engine: { try await sqlOrders(engine, $0) }, raw: { raw.sql($0) })
    if adminURL != nil {
        // Nobody listened: the change log stayed empty (its triggers were off).
        let logged = try await engine.query("SELECT count(*) FROM _plexus_changes")
        if logged.rows.first?[0].integerValue != 0 {
            print("storage-bench: the change log has rows though nobody listened")
            workMissing = true
        }
        // What a subscriber costs: more orders while the engine listens (the triggers log and
        // notify every change; the handler counts them: 4 changes per order), then it leaves.
        let changes = ChangeCount()
        engine.setChangeHandler { batch in changes.add(batch.count) }
        try await engine.setChangeListening(true)
        let later = orders..<(2 * orders)
        (e.sqlWithSubscriber, r.sqlWithSubscriber) = try await alternate(
            orders, round: round, engine: { try await sqlOrders(engine, $0.lowerBound + later.lowerBound..<$0.upperBound + later.lowerBound) },
            raw: { raw.sql($0.lowerBound + later.lowerBound..<$0.upperBound + later.lowerBound) })
        for _ in 0..<200 where changes.value < 4 * orders { try await Task.sleep(nanoseconds: 50_000_000) }
        if changes.value != 4 * orders {
            print("storage-bench: the subscriber got \(changes.value) changes of \(4 * orders)")
            workMissing = true
        }
        try await engine.setChangeListening(false)
        engine.setChangeHandler(nil)
    }
    let lines = try await engine.query("SELECT count(*) FROM order_lines")
    if lines.rows.first?[0].integerValue != Int64(orders * (adminURL == nil ? 2 : 4)) { workMissing = true }
    await engine.close()
    raw.close()
    return (e, r)
}

var configuration = StorageConfiguration()
configuration.purgeInterval = nil
print("storage-bench: \(operations) key-value operations, \(orders) SQL orders (3 tables), PostgreSQL pool \(poolSize), \(rounds) round(s), \(chunks) chunk(s) per workload")
var measured: [String: (engine: [EngineTimes], raw: [EngineTimes])] = ["sqlite": ([], []), "postgresql": ([], [])]
/// STORAGE_BENCH_BACKENDS ("sqlite,postgresql"): the backends to run, e.g. "sqlite" alone while profiling.
let backends = Set((ProcessInfo.processInfo.environment["STORAGE_BENCH_BACKENDS"] ?? "sqlite,postgresql").split(separator: ",").map(String.init))
/// STORAGE_BENCH_WORKLOADS ("kv,sql"): without "kv", the SQL workload runs alone (e.g. while counting its wake-ups).
let workloads = Set((ProcessInfo.processInfo.environment["STORAGE_BENCH_WORKLOADS"] ?? "kv,sql").split(separator: ",").map(String.init))
for round in 0..<rounds {
    if backends.contains("sqlite") {
        let sqlite = try await runRound(
            round, engine: StorageEngine.open(at: directory.appendingPathComponent("engine-\(round).sqlite").path, configuration: configuration),
            raw: RawSQLite(path: directory.appendingPathComponent("raw-\(round).sqlite").path), adminURL: nil)
        measured["sqlite"]!.engine.append(sqlite.engine)
        measured["sqlite"]!.raw.append(sqlite.raw)
    }
    guard backends.contains("postgresql") else { continue }
    let postgres = try await runRound(
        round, engine: StorageEngine.open(
            pluginName: "storage_bench_\(getpid())_\(round)", postgres: PostgresSettings(url: postgresURL, poolSize: poolSize),
            configuration: configuration),
        raw: RawPostgres(postgresURL), adminURL: postgresURL)
    measured["postgresql"]!.engine.append(postgres.engine)
    measured["postgresql"]!.raw.append(postgres.raw)
}
if rounds > 1 { print("\(rounds) rounds, interleaved: each rate is the median of its rounds, each ratio the median of the rounds' ratios (lowest-highest)") }
var missed: [(String, Double)] = []
for backend in ["sqlite", "postgresql"] where backends.contains(backend) {
    let (engine, raw) = measured[backend]!
    for (workload, count, figure) in [("kv put, one at a time", operations, \EngineTimes.putOne), ("kv get, one at a time", operations, \.getOne),
                                      ("kv put, 64 in flight", operations, \.putMany), ("kv get, 64 in flight", operations, \.getMany),
                                      ("SQL 3-table order (tx)", orders, \.sql)]
    where workload.hasPrefix("SQL") || workloads.contains("kv") {
        let ratio = report(backend + " " + workload, count: count, engine: engine.map { $0[keyPath: figure] }, raw: raw.map { $0[keyPath: figure] })
        if ratio > 1.3 { missed.append((backend + " " + workload, ratio)) }
    }
}
print("for comparison (not a target): the engine's own calls from the loop, loop → worker → loop, as before LoopStorage;")
print("and the PostgreSQL SQL workload while a subscriber listens (the change log runs: what the change feed costs)")
for backend in ["sqlite", "postgresql"] where backends.contains(backend) && workloads.contains("kv") {
    let (engine, raw) = measured[backend]!
    report(backend + " kv put, one at a time, via workers", count: operations, engine: engine.map(\.putViaWorkers), raw: raw.map(\.putOne), width: 46)
    report(backend + " kv get, one at a time, via workers", count: operations, engine: engine.map(\.getViaWorkers), raw: raw.map(\.getOne), width: 46)
}
if backends.contains("postgresql") {
    report("postgresql SQL 3-table order, subscribed", count: orders, engine: measured["postgresql"]!.engine.map(\.sqlWithSubscriber),
           raw: measured["postgresql"]!.raw.map(\.sqlWithSubscriber), width: 46)
}
if workMissing {
    print("storage-bench: the work did not happen (a read or a count came back wrong)")
    finish(1)
}
print("storage-bench: target within 1.3x of raw: \(missed.isEmpty ? "met" : "missed by " + missed.map { String(format: "%@ %.2fx", $0.0, $0.1) }.joined(separator: ", "))")
finish(missed.isEmpty ? 0 : 3)
