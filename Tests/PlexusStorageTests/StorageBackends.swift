import Foundation
import PlexusStorage
import PostgresTestSupport
import XCTest

/// The backend a shared test body runs on.
enum TestBackend: String, CaseIterable {
    case sqlite, postgresql
}

/// Opens a fresh engine of `backend`: a new SQLite file, or a new database on the test cluster.
func openEngine(_ test: XCTestCase, backend: TestBackend, clock: ManualClock? = nil, pluginName: String = "test-plugin") async throws -> StorageEngine {
    switch backend {
    case .sqlite:
        return try await openEngine(test, clock: clock)
    case .postgresql:
        let url = try PostgresTestCluster.get().newDatabaseURL()
        return try await StorageEngine.open(pluginName: pluginName, postgres: PostgresSettings(url: url), configuration: testConfiguration(clock: clock))
    }
}
