import PlexusSDK
import XCTest

/// What a plugin may take as the request's tenant: only a verified caller's counts for tenant data.
final class RequestTenantTests: XCTestCase {
    func testAHostTenantWithoutACallerIsNotVerified() {
        // What the runtime hands over for an anonymous request on a host mapped to `acme`.
        let anonymous = Request(method: "GET", path: "/", tenant: "acme")
        XCTAssertEqual(anonymous.tenant, "acme", "kept for branding")
        XCTAssertNil(anonymous.verifiedTenant)
        XCTAssertThrowsError(try anonymous.requireTenant()) {
            XCTAssertEqual(($0 as? HTTPError)?.status, 403)
        }
    }

    func testACallersOwnTenantIsVerified() throws {
        let caller = Request(method: "GET", path: "/", caller: CallerIdentity(subject: "alice", tenant: "acme"))
        XCTAssertEqual(caller.verifiedTenant, "acme")
        XCTAssertEqual(try caller.requireTenant(), "acme")
        let tenantless = Request(method: "GET", path: "/", caller: CallerIdentity(subject: "ops"))
        XCTAssertNil(tenantless.verifiedTenant)
        XCTAssertThrowsError(try tenantless.requireTenant())
    }
}
