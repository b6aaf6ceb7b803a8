import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// The visualization plugin with `[cluster] postgres` (issue 21): the same scenarios as on SQLite
/// (saved charts and data sets per tenant; dashboards and stored reports), then a second instance
/// on the same database, with a data directory of its own, serves what the first one stored.
final class VisualizationOnPostgresTests: XCTestCase {
    func testSavedChartsAndDataSetsOnPostgresAreServedByAnotherInstance() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let helpers = DashboardTests.Helpers()
        try VisualizationRouteTests.savedChartsAndDataSetsBelongToTheTenant(try helpers.start(extra: extra))

        let b = try helpers.start(extra: extra)
        defer { _ = b.stop() }
        let svg = try b.get("/api/v1/visualizations/weekly.svg")
        XCTAssertEqual(svg.status, 200, svg.text)
        XCTAssertEqual(svg.text.components(separatedBy: "class=\"mark-bar\"").count - 1, 2, "the chart and its data set, from PostgreSQL")
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_visualization.charts", url: url), ["1"])
        XCTAssertEqual(try cluster.execute("SELECT row_count FROM plugin_visualization.datasets", url: url), ["2"])
        let file = b.workDirectory.appendingPathComponent("data/plugins/visualization/storage.sqlite")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "no SQLite file: \(file.path)")
    }

    func testReportsOnPostgresAreListedByAnotherInstance() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let helpers = DashboardTests.Helpers()
        try DashboardTests.reportsAreStoredAndAnnounced(try helpers.start(extra: extra))

        let b = try helpers.start(extra: extra)
        defer { _ = b.stop() }
        let list = try JSONSerialization.jsonObject(with: Data(try b.get("/api/v1/visualizations/dashboards/plant/reports").body)) as? [String: Any]
        let reports = list?["reports"] as? [[String: Any]] ?? []
        XCTAssertEqual(reports.count, 1, "\(String(describing: list))")
        let id = try XCTUnwrap(reports.first?["id"] as? String)
        let pdf = try b.get("/api/v1/visualizations/dashboards/plant/reports/\(id)")
        XCTAssertEqual(pdf.header("Content-Type"), "application/pdf", pdf.text)
        XCTAssertTrue(pdf.text.contains("/Count 2"), "the PDF bytes come back whole from bytea")
        XCTAssertEqual(reports.first?["bytes"] as? Int, pdf.body.count, "length(pdf) on PostgreSQL")
    }
}
