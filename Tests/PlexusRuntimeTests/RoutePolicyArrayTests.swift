import CPlexusABI
@testable import PlexusRuntime
import XCTest

/// ABI 1.6: a route spec may carry its roles and scopes as arrays; they replace the separated
/// texts of 1.2, which a 1.5 plugin still sends (and which keep working).
final class RoutePolicyArrayTests: XCTestCase {
    /// The policy of a spec with `roles`/`scopes` texts and, when given, arrays.
    private func policy(rolesText: String? = nil, scopesText: String? = nil, roles: [String?]? = nil, scopes: [String?]? = nil,
                        roleCount: UInt32? = nil) throws -> RoutePolicy {
        let strdups = ((roles ?? []) + (scopes ?? [])).map { $0.map { UnsafePointer(strdup($0)!) } }
        defer { for pointer in strdups { free(UnsafeMutablePointer(mutating: pointer)) } }
        let roleNames = Array(strdups.prefix(roles?.count ?? 0)), scopeNames = Array(strdups.dropFirst(roles?.count ?? 0))
        let rolesTextC = rolesText.map { strdup($0)! }, scopesTextC = scopesText.map { strdup($0)! }
        defer { free(rolesTextC); free(scopesTextC) }
        return try roleNames.withUnsafeBufferPointer { roleList in
            try scopeNames.withUnsafeBufferPointer { scopeList in
                var spec = plexus_route_spec()
                spec.struct_size = UInt32(MemoryLayout<plexus_route_spec>.size)
                spec.roles = UnsafePointer(rolesTextC)
                spec.scopes = UnsafePointer(scopesTextC)
                if roles != nil {
                    spec.role_list = roleList.baseAddress ?? UnsafePointer(bitPattern: 8)
                    spec.role_count = roleCount ?? UInt32(roleNames.count)
                }
                if scopes != nil {
                    spec.scope_list = scopeList.baseAddress ?? UnsafePointer(bitPattern: 8)
                    spec.scope_count = UInt32(scopeNames.count)
                }
                return try RoutePolicy(spec)
            }
        }
    }

    func testArraysAreRead() throws {
        let read = try policy(roles: ["editor", "publisher"], scopes: ["reports:read", "reports:export"])
        XCTAssertEqual(read.roles, ["editor", "publisher"])
        XCTAssertEqual(read.scopes, ["reports:read", "reports:export"])
    }

    func testArraysReplaceTheTexts() throws {
        let read = try policy(rolesText: "old", scopesText: "old:scope", roles: ["new"], scopes: [])
        XCTAssertEqual(read.roles, ["new"])
        XCTAssertEqual(read.scopes, [], "an empty array (non-NULL) means no scope, whatever the text says")
    }

    func testTextsStillWorkWithoutArrays() throws {
        // A 1.5 plugin: no arrays (NULL), separated texts.
        let read = try policy(rolesText: "editor, publisher", scopesText: "reports:read reports:export")
        XCTAssertEqual(read.roles, ["editor", "publisher"])
        XCTAssertEqual(read.scopes, ["reports:read", "reports:export"])
    }

    func testDuplicatesAreDroppedInOrder() throws {
        XCTAssertEqual(try policy(roles: ["b", "a", "b"]).roles, ["b", "a"])
    }

    func testBadArraysAreRefusedNamingTheElement() {
        let cases: [([String?], String)] = [
            ([nil], "role_list[0] is NULL"),
            (["ok", ""], "role_list[1] is 0 bytes long"),
            ([String(repeating: "r", count: 129)], "role_list[0] is 129 bytes long"),
            (["has space"], "may only hold letters, digits"),
            (["a,b"], "may only hold letters, digits"),
            (Array(repeating: "r", count: 65), "role_list has 65 names, at most 64"),
        ]
        for (roles, expected) in cases {
            XCTAssertThrowsError(try policy(roles: roles), "\(roles)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(roles): \(error)")
            }
        }
    }
}
