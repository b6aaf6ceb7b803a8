import PlexusAuth
@testable import PlexusRuntime
import XCTest

/// Which API keys an admin caller may create, see and revoke.
final class KeyAuthorityTests: XCTestCase {
    private let installation = KeyAuthority(tenant: nil, roles: ["admin"], scopes: [])
    private let acmeAdmin = KeyAuthority(tenant: "acme", roles: ["admin", "editor"], scopes: ["docs:read"])

    private func record(_ tenant: String?) -> APIKeyRecord {
        APIKeyRecord(id: "k-\(tenant ?? "global")", name: "n", tenant: tenant, roles: [], scopes: [], hint: "", createdAt: 0, revokedAt: nil)
    }

    func testTheInstallationAdminCreatesAnyKey() throws {
        XCTAssertTrue(installation.isInstallationAdmin)
        XCTAssertNil(try installation.tenantForNewKey(requested: nil, roles: ["admin", "root"], scopes: ["x"]))
        XCTAssertEqual(try installation.tenantForNewKey(requested: "beta", roles: ["admin"], scopes: []), "beta")
    }

    func testATenantAdminCannotMintAGlobalOrForeignKey() throws {
        XCTAssertFalse(acmeAdmin.isInstallationAdmin)
        // No tenant named: the key is the admin's own tenant's, never a global one.
        XCTAssertEqual(try acmeAdmin.tenantForNewKey(requested: nil, roles: ["admin"], scopes: []), "acme")
        XCTAssertEqual(try acmeAdmin.tenantForNewKey(requested: "", roles: [], scopes: []), "acme")
        XCTAssertEqual(try acmeAdmin.tenantForNewKey(requested: "acme", roles: ["editor"], scopes: ["docs:read"]), "acme")
        XCTAssertThrowsError(try acmeAdmin.tenantForNewKey(requested: "beta", roles: [], scopes: [])) {
            XCTAssertTrue("\($0)".contains("'beta'"), "\($0)")
        }
    }

    func testATenantAdminGivesOnlyRolesAndScopesItHas() {
        XCTAssertThrowsError(try acmeAdmin.tenantForNewKey(requested: nil, roles: ["admin", "billing"], scopes: [])) {
            XCTAssertTrue("\($0)".contains("billing"), "\($0)")
        }
        XCTAssertThrowsError(try acmeAdmin.tenantForNewKey(requested: nil, roles: [], scopes: ["docs:write"])) {
            XCTAssertTrue("\($0)".contains("docs:write"), "\($0)")
        }
    }

    func testATenantAdminReachesOnlyItsTenantsKeys() {
        XCTAssertTrue(acmeAdmin.reaches(record("acme")))
        XCTAssertFalse(acmeAdmin.reaches(record("beta")))
        XCTAssertFalse(acmeAdmin.reaches(record(nil)), "the installation's keys, the admin key among them")
        XCTAssertTrue(installation.reaches(record("beta")))
        XCTAssertTrue(installation.reaches(record(nil)))
    }
}
