import Dispatch
import Foundation

extension StorageEngine {
    /// Opens a plugin's storage on PostgreSQL: creates (as the URL's administrator) the plugin's
    /// role and schema if needed, connects the first of `settings.poolSize` connections as that
    /// role, creates the engine's tables, and starts the change feed. The other connections
    /// connect on first use. A server that cannot be reached fails with `.unavailable`.
    public static func open(
        pluginName: String, postgres settings: PostgresSettings, configuration: StorageConfiguration = StorageConfiguration(),
        completion: @escaping @Sendable (Result<StorageEngine, StorageError>) -> Void
    ) {
        DispatchQueue(label: "plexus.storage.open:postgresql:\(pluginName)").async {
            do throws(StorageError) {
                try settings.validate()
                let credentials = try PostgresProvisioner.provision(pluginName: pluginName, settings: settings)
                let parameters = PostgresProvisioner.connectionParameters(
                    credentials, settings: settings, application: "plexus:\(pluginName)")
                let connections = (0..<settings.poolSize).map { _ in
                    PostgresConnection(parameters: parameters, schema: credentials.schema, configuration: configuration)
                }
                try connections[0].connectIfNeeded()
                try connections[0].createInternalTables()
                let listener = PostgresChangeListener(
                    parameters: parameters, schema: credentials.schema, pingInterval: configuration.changeListenerCheckInterval)
                try listener.start()
                let location = connections[0].location
                let pool = WorkerPool(label: "plexus.storage:\(location)", connections: connections)
                let engine = StorageEngine(
                    path: location, dialect: .postgresql, pool: pool, configuration: configuration, changeFeed: listener,
                    postgresParameters: parameters)
                if let id = engine.listenerID {
                    do throws(StorageError) { try listener.holdListenerLock(id) } catch {
                        engine.close()
                        throw error
                    }
                }
                engine.startPurgeTimer()
                completion(.success(engine))
            } catch {
                completion(.failure(error.located(operation: "open", path: "postgresql:\(pluginName)")))
            }
        }
    }

    /// Opens a plugin's storage on PostgreSQL; see `open(pluginName:postgres:configuration:completion:)`.
    public static func open(
        pluginName: String, postgres settings: PostgresSettings, configuration: StorageConfiguration = StorageConfiguration()
    ) async throws(StorageError) -> StorageEngine {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<StorageEngine, StorageError>, Never>) in
            open(pluginName: pluginName, postgres: settings, configuration: configuration) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }
}
