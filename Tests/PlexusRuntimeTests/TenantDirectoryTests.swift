@testable import PlexusRuntime
import XCTest

/// The run-time tenant directory (ABI 1.6) and how the tenant stage uses it.
final class TenantDirectoryTests: XCTestCase {
    private typealias Fixture = PipelineFixture

    func testPublishReplacesAPluginsPartAndRefusesTakenOrMalformedHosts() throws {
        let directory = TenantDirectory(publishers: ["whitelabel", "other"])
        XCTAssertTrue(directory.mayPublish("whitelabel"))
        XCTAssertFalse(directory.mayPublish("hello"))
        try directory.publish([.init(tenant: "acme", hosts: ["acme.test", "www.acme.test"], suspended: false),
                               .init(tenant: "globex", hosts: [], suspended: true)], from: "whitelabel")
        XCTAssertEqual(directory.hosts, ["acme.test": "acme", "www.acme.test": "acme"])
        XCTAssertEqual(directory.suspended, ["globex"])
        XCTAssertThrowsError(try directory.publish([.init(tenant: "x", hosts: ["acme.test"], suspended: false)], from: "other")) { error in
            XCTAssertEqual(error as? TenantDirectory.Refusal, .taken("host 'acme.test' already belongs to tenant 'acme'"))
        }
        XCTAssertThrowsError(try directory.publish([.init(tenant: "a", hosts: ["x.test"], suspended: false), .init(tenant: "b", hosts: ["x.test"], suspended: false)], from: "whitelabel"))
        XCTAssertThrowsError(try directory.publish([.init(tenant: "a", hosts: ["X.test:80"], suspended: false)], from: "whitelabel"))
        XCTAssertThrowsError(try directory.publish([.init(tenant: "", hosts: [], suspended: false)], from: "whitelabel"))
        XCTAssertEqual(directory.hosts.count, 2, "a refused publish changes nothing")
        try directory.publish([], from: "whitelabel")
        XCTAssertTrue(directory.isEmpty)
    }

    func testTheStageMapsDirectoryHostsAfterTheStaticMapAndRefusesSuspendedTenants() async throws {
        let (trail, _) = try await Fixture.auditTrail()
        let directory = TenantDirectory(publishers: ["whitelabel"])
        let stage = TenantStage(tenantHosts: ["static.test": "acme"], directory: directory, audit: trail)
        try directory.publish([.init(tenant: "beta", hosts: ["beta.test", "static.test"], suspended: false)], from: "whitelabel")
        let anonymous = Fixture.request("GET", "/x", headers: [("Host", "Beta.Test:8080")])
        XCTAssertNil(stage.screen(anonymous, now: 0))
        XCTAssertEqual(anonymous.tenant, "beta")
        let fixed = Fixture.request("GET", "/x", headers: [("Host", "static.test")])
        XCTAssertNil(stage.screen(fixed, now: 0))
        XCTAssertEqual(fixed.tenant, "acme", "[tenants.hosts] wins a host both name")

        let plugins = PipelineFixture.Plugins()
        let route = try XCTUnwrap(plugins.add("GET", "/x", for: plugins.plugin("docs"), roles: "", tenantRequired: false).0)
        try directory.publish([.init(tenant: "beta", hosts: ["beta.test"], suspended: true)], from: "whitelabel")
        let visitor = Fixture.request("GET", "/x", headers: [("Host", "beta.test")])
        visitor.target = .plugin(route)
        XCTAssertEqual(stage.screen(visitor, now: 0)?.detail, "tenant 'beta' is suspended")
        let member = Fixture.request("GET", "/x", headers: [("Host", "localhost")])
        member.target = .plugin(route)
        member.caller = Fixture.caller("m", tenant: "beta")
        XCTAssertEqual(stage.screen(member, now: 0)?.status, 403)
        let builtin = Fixture.request("GET", "/health", headers: [("Host", "beta.test")])
        XCTAssertNil(stage.screen(builtin, now: 0), "the runtime's own endpoints stay reachable")
    }
}
