import CPlexusABI
import Foundation
@testable import PlexusSDK
import XCTest

/// The SDK's typed spellings: parameters, methods, statuses, durations, caller roles, and
/// storage failures read from the runtime's status codes (ABI 1.4).
final class SDKTypedAPITests: XCTestCase {
    func testRequireConvertsOrThrowsA400NamingTheParameterAndType() throws {
        let request = Request(method: "GET", path: "/items/42", parameters: ["id": "42", "name": "x"], rawQuery: "limit=ten")
        XCTAssertEqual(try request.parameters.require("id", as: Int.self), 42)
        XCTAssertEqual(try request.parameters.require("name", as: String.self), "x")
        XCTAssertThrowsError(try request.parameters.require("name", as: Int.self)) { error in
            let http = error as? HTTPError
            XCTAssertEqual(http?.status, 400)
            XCTAssertEqual(http?.detail, "parameter 'name' must be Int, got 'x'")
        }
        XCTAssertThrowsError(try request.parameters.require("missing", as: UInt8.self)) { error in
            XCTAssertEqual((error as? HTTPError)?.detail, "parameter 'missing' is missing (expected UInt8)")
        }
        XCTAssertThrowsError(try request.query.require("limit", as: Int.self)) { error in
            XCTAssertEqual((error as? HTTPError)?.detail, "parameter 'limit' must be Int, got 'ten'")
        }
        // Out of range and overlong inputs are refused, and the echo is cut.
        XCTAssertThrowsError(try ["n": "300"].require("n", as: UInt8.self))
        XCTAssertThrowsError(try ["n": String(repeating: "9", count: 500)].require("n", as: Int.self)) { error in
            XCTAssertLessThan((error as? HTTPError)?.detail.count ?? 1000, 120)
        }
    }

    func testMethodsAndStatusesAreTypedAndTakeLiterals() {
        XCTAssertEqual(HTTPMethod("patch"), .patch)
        XCTAssertEqual(HTTPMethod(rawValue: "get").rawValue, "GET")
        XCTAssertEqual(Request(method: "DELETE", path: "/").httpMethod, .delete)
        let created = Response.text("made", status: HTTPStatus.created)
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(created.httpStatus, .created)
        XCTAssertEqual(Response(status: 404).httpStatus.reasonPhrase, "Not Found")
        let literal: HTTPStatus = 418
        XCTAssertEqual(literal.code, 418)
        XCTAssertEqual(HTTPStatus.reasonPhrase(503), "Service Unavailable")
    }

    func testDurationsBecomeWholeMillisecondsRoundedUp() {
        XCTAssertEqual(Duration.milliseconds(250).hostMilliseconds, 250)
        XCTAssertEqual(Duration.microseconds(1).hostMilliseconds, 1, "a positive duration never becomes 0 (no timeout)")
        XCTAssertEqual(Duration.microseconds(1500).hostMilliseconds, 2)
        XCTAssertEqual(Duration.seconds(3).hostMilliseconds, 3000)
        XCTAssertEqual(Duration.zero.hostMilliseconds, 0)
        XCTAssertEqual(Duration.seconds(-5).hostMilliseconds, 0)
        XCTAssertEqual(Duration.seconds(Int64.max).hostMilliseconds, UInt64.max)
        var options = RouteOptions(timeout: .seconds(2))
        XCTAssertEqual(options.timeout, .seconds(2))
        options.timeout = nil
        XCTAssertNil(options.timeout)
    }

    func testCallerRolesAndScopesAreOrderedArraysWithoutDuplicates() {
        let caller = CallerIdentity(subject: "alice", roles: ["editor", "admin", "editor"], scopes: ["read", "write"])
        XCTAssertEqual(caller.roles, ["editor", "admin"])
        XCTAssertTrue(caller.has(role: "admin"))
        XCTAssertTrue(caller.has(scope: "write"))
        XCTAssertFalse(caller.has(scope: "delete"))
    }

    func testRoleAndScopeNamesThatTheABITextWouldSplitAreRefused() {
        XCTAssertNil(RouteOptions(roles: ["editor", "org:admin"], scopes: ["read", "notes/write"]).nameProblem)
        // Before the check, "a,b" reached the runtime as two roles, "read write" as two scopes.
        for options in [RouteOptions(roles: ["a,b"]), RouteOptions(roles: [""]), RouteOptions(scopes: ["read write"]),
                        RouteOptions(scopes: ["read\twrite"]), RouteOptions(roles: ["x\u{7F}"]), RouteOptions(roles: ["a\u{2003}b"])] {
            XCTAssertNotNil(options.nameProblem, "\(options.roles) \(options.scopes)")
        }
        XCTAssertEqual(RouteOptions(roles: ["a,b"]).nameProblem,
                       "role 'a,b' is empty or holds a comma, whitespace or a control character; fix: name roles with letters, digits and - _ . : /")
    }

    func testStorageFailuresComeFromTheStatusCodeNotTheText() {
        // ABI 1.4: the code decides, whatever the text says.
        let coded = StorageFailure(reported: HostStatus(rawValue: Int32(PLEXUS_E_STORAGE_DISK_FULL.rawValue)),
                                   text: "busy: misleading text", rows: nil)
        XCTAssertEqual(coded.kind, .diskFull)
        XCTAssertEqual(coded.status, 507)
        XCTAssertEqual(coded.hostStatus, HostStatus(rawValue: 33))
        var rows = plexus_rows()
        rows.last_insert_rowid = 7
        let conflict = StorageFailure(reported: HostStatus(rawValue: Int32(PLEXUS_E_STORAGE_CONFLICT.rawValue)), text: "conflict: version 7", rows: rows)
        XCTAssertEqual(conflict.kind, .conflict)
        XCTAssertTrue(conflict.kind == "conflict", "string literals still compare")
        XCTAssertEqual(conflict.currentVersion, 7)
        // An older runtime: the kind is read from its "<kind>: <message>" text.
        let old = StorageFailure(reported: nil, text: "constraint: UNIQUE constraint failed", rows: nil)
        XCTAssertEqual(old.kind, .constraint)
        XCTAssertEqual(old.message, "UNIQUE constraint failed")
        XCTAssertNil(old.hostStatus)
        // A code that is not a storage code (or no text at all) falls back without trapping.
        let odd = StorageFailure(reported: .timeout, text: nil, rows: nil)
        XCTAssertEqual(odd.kind, .other)
        XCTAssertNil(odd.hostStatus)
        for code in 32...44 {
            XCTAssertNotNil(StorageFailure.Kind(status: HostStatus(rawValue: Int32(code))), "\(code)")
        }
        XCTAssertNil(StorageFailure.Kind(status: .ok))
        XCTAssertEqual(HostStatus.notFound.description, "not found (19)")
    }
}
