import CPlexusABI
import Foundation
import PlexusStorage

/// The ABI 1.1 storage entries of the host vtable: each plugin reaches only its own database.
extension PluginHostTable {
    /// The ABI 1.9 `storage_dialect` text: static, NUL-terminated.
    static func storageDialect(postgres: Bool) -> UnsafePointer<CChar> {
        let name: StaticString = postgres ? "postgresql" : "sqlite"
        return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    static func installStorage(into host: inout plexus_host) {
        host.kv_get = { host, key, done, user in
            let key = PluginHostTable.text(key)
            PluginHostTable.storageOnLoop(host, "kv_get", done, user, { storage, finish in storage.get(key, completion: finish) }) { entry, reply in
                reply(PluginHostTable.kvRows(entry.map { [$0] } ?? []), 0, 0)
            }
        }
        host.kv_put = { host, key, value, ttl, expected, done, user in
            let key = PluginHostTable.text(key), value = PluginHostTable.bytes(value)
            PluginHostTable.storageOnLoop(host, "kv_put", done, user, { storage, finish in
                storage.put(key, value: value, ttl: ttl > 0 ? ttl : nil, expectedVersion: expected >= 0 ? expected : nil, completion: finish)
            }) { version, reply in
                reply(PluginHostTable.kvRows([]), 1, version)
            }
        }
        host.kv_delete = { host, key, expected, done, user in
            let key = PluginHostTable.text(key)
            PluginHostTable.storageOnLoop(host, "kv_delete", done, user, { storage, finish in
                storage.delete(key, expectedVersion: expected >= 0 ? expected : nil, completion: finish)
            }) { existed, reply in
                reply(PluginHostTable.kvRows([]), existed ? 1 : 0, 0)
            }
        }
        host.kv_list = { host, prefix, limit, after, done, user in
            let prefix = PluginHostTable.text(prefix), after = PluginHostTable.text(after)
            PluginHostTable.storage(host, "kv_list", done, user, { engine, finish in
                engine.list(prefix: prefix, limit: Int(max(1, min(limit, 10_000))), after: after.isEmpty ? nil : after, completion: finish)
            }) { page, reply in
                reply(PluginHostTable.kvRows(page.entries), 0, 0)
            }
        }
        host.sql_execute = { host, sql, parameters, count, done, user in
            let sql = sql.map { String(cString: $0) } ?? "", parameters = RowsView.parameters(parameters, count)
            PluginHostTable.storage(host, "sql_execute", done, user, { engine, finish in engine.execute(sql, parameters, completion: finish) }) { result, reply in
                reply(([], []), Int64(result.changes), result.lastInsertRowID)
            }
        }
        host.sql_query = { host, sql, parameters, count, done, user in
            let sql = sql.map { String(cString: $0) } ?? "", parameters = RowsView.parameters(parameters, count)
            PluginHostTable.storage(host, "sql_query", done, user, { engine, finish in engine.query(sql, parameters, completion: finish) }) { result, reply in
                reply((result.columns, result.rows.map(\.values)), 0, 0)
            }
        }
        host.sql_batch = { host, statements, parameters, counts, statementCount, done, user in
            var batch: [(String, [StorageValue])] = []
            for index in 0..<statementCount {
                let sql = statements?[index].map { String(cString: $0) } ?? ""
                batch.append((sql, RowsView.parameters(parameters?[index], counts?[index] ?? 0)))
            }
            let statements = batch
            PluginHostTable.storage(host, "sql_batch", done, user, { engine, finish in
                engine.transaction({ transaction -> ExecuteResult? in
                    var last: ExecuteResult?
                    for (sql, parameters) in statements { last = try transaction.execute(sql, parameters) }
                    return last
                }, completion: finish)
            }) { (result: ExecuteResult?, reply) in
                reply(([], []), Int64(result?.changes ?? 0), result?.lastInsertRowID ?? 0)
            }
        }
        host.sql_migrate = { host, versions, statements, count, done, user in
            let migrations = (0..<count).map { index in
                Migration(version: Int(versions?[index] ?? 0), sql: statements?[index].map { String(cString: $0) } ?? "")
            }
            PluginHostTable.storage(host, "sql_migrate", done, user, { engine, finish in engine.migrate(migrations, completion: finish) }) { applied, reply in
                reply((["applied"], applied.map { [StorageValue.integer(Int64($0))] }), Int64(applied.count), 0)
            }
        }
    }

    /// Runs a storage operation for the calling plugin on the engine's workers and reports it through `done` on the loop.
    private static func storage<T>(_ host: UnsafePointer<plexus_host>?, _ operation: String, _ done: plexus_storage_cb?,
                                   _ user: UnsafeMutableRawPointer?,
                                   _ start: @escaping (StorageEngine, @escaping @Sendable (Result<T, StorageError>) -> Void) -> Void,
                                   _ success: @escaping (T, (_ rows: (columns: [String], rows: [[StorageValue]]), _ changes: Int64, _ lastID: Int64) -> Void) -> Void) {
        storage(host, operation, done, user, runner: { storage, deliver in storage.run(operation, start, completion: deliver) }, success)
    }

    /// Runs a key-value operation through the loop's side of the engine (`LoopStorage`: answered on
    /// the loop where that is safe, else by the workers) and reports it through `done` on the loop.
    private static func storageOnLoop<T>(_ host: UnsafePointer<plexus_host>?, _ operation: String, _ done: plexus_storage_cb?,
                                         _ user: UnsafeMutableRawPointer?,
                                         _ start: @escaping (LoopStorage, @escaping (Result<T, StorageError>) -> Void) -> Void,
                                         _ success: @escaping (T, (_ rows: (columns: [String], rows: [[StorageValue]]), _ changes: Int64, _ lastID: Int64) -> Void) -> Void) {
        storage(host, operation, done, user, runner: { storage, deliver in storage.runOnLoop(operation, start, completion: deliver) }, success)
    }

    private static func storage<T>(_ host: UnsafePointer<plexus_host>?, _ operation: String, _ done: plexus_storage_cb?,
                                   _ user: UnsafeMutableRawPointer?,
                                   runner: (PluginStorage, @escaping (Result<T, StorageError>) -> Void) -> Void,
                                   _ success: @escaping (T, (_ rows: (columns: [String], rows: [[StorageValue]]), _ changes: Int64, _ lastID: Int64) -> Void) -> Void) {
        let plugin = PluginInstance.from(host)
        nonisolated(unsafe) let user = user
        // Storage that has failed or closed answers at once: the gate moves `done` after this call's return.
        let gate = CallbackGate(loop: plugin.services.loop)
        defer {
            gate.open()
            HostCallStatus.set(PLEXUS_OK)
        }
        runner(plugin.storage) { result in
            guard let done else { return }
            gate.deliver {
                Blame.mark(plugin: plugin, what: "\(operation) callback")
                defer { Blame.clear() }
                switch result {
                case .success(let value):
                    success(value) { table, changes, lastID in
                        RowsView.with(columns: table.columns, rows: table.rows, changes: changes, lastInsertRowID: lastID) {
                            HostCallStatus.set(PLEXUS_OK)
                            done(user, Int32(PLEXUS_OK.rawValue), $0, nil)
                        }
                    }
                case .failure(let error):
                    HostCallStatus.set(HostCallStatus.code(for: error.kind))
                    if error.kind == .conflict {
                        // The current version travels in last_insert_rowid (see plexus_storage_cb).
                        RowsView.with(columns: [], rows: [], lastInsertRowID: error.currentVersion ?? 0) { rows in
                            PluginStorage.describe(error).withCString { done(user, Int32(PLEXUS_ERROR.rawValue), rows, $0) }
                        }
                    } else {
                        PluginStorage.describe(error).withCString { done(user, Int32(PLEXUS_ERROR.rawValue), nil, $0) }
                    }
                }
            }
        }
    }

    private static func kvRows(_ entries: [KeyValueEntry]) -> (columns: [String], rows: [[StorageValue]]) {
        (["key", "value", "version", "expires_at"], entries.map { entry in
            [.text(entry.key), .blob(entry.value), .integer(entry.version),
             entry.expiresAt.map { .real($0.timeIntervalSince1970) } ?? .null]
        })
    }

    private static func text(_ value: plexus_bytes) -> String {
        value.data.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: value.length), as: UTF8.self) } ?? ""
    }

    private static func bytes(_ value: plexus_bytes) -> [UInt8] {
        value.data.map { Array(UnsafeRawBufferPointer(start: $0, count: value.length)) } ?? []
    }
}
