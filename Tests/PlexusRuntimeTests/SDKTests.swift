import Foundation
import PlexusSDK
import XCTest

final class SDKTests: XCTestCase {
    func testQueryDecoding() {
        let request = Request(method: "GET", path: "/", rawQuery: "a=1&b=two+words&c=%C3%A9&flag")
        XCTAssertEqual(request.query, ["a": "1", "b": "two words", "c": "é", "flag": ""])
    }

    func testHeadersAreCaseInsensitive() {
        var headers = Headers([("Content-Type", "text/plain")])
        XCTAssertEqual(headers["content-type"], "text/plain")
        headers.set("CONTENT-TYPE", "application/json")
        XCTAssertEqual(headers.fields.count, 1)
        XCTAssertEqual(headers["Content-Type"], "application/json")
    }

    func testProblemDetailsForHTTPErrorAndOtherErrors() throws {
        let known = ProblemDetails.response(for: HTTPError.unprocessable("field 'x' is empty"), instance: "r1")
        XCTAssertEqual(known.status, 422)
        XCTAssertEqual(known.headers["Content-Type"], "application/problem+json")
        let body = try JSONSerialization.jsonObject(with: Data(known.body)) as! [String: Any]
        XCTAssertEqual(body["detail"] as? String, "field 'x' is empty")
        XCTAssertEqual(body["title"] as? String, "Unprocessable Content")
        XCTAssertEqual(body["instance"] as? String, "r1")

        struct Secret: Error {}
        let unknown = ProblemDetails.response(for: Secret(), instance: "r2")
        XCTAssertEqual(unknown.status, 500)
        XCTAssertFalse(String(decoding: unknown.body, as: UTF8.self).contains("Secret"), "internals must not leak")
    }

    func testDecodeNamesTheMissingField() {
        struct Body: Decodable { let name: String }
        let request = Request(method: "POST", path: "/", body: Array(#"{"nam":"x"}"#.utf8))
        XCTAssertThrowsError(try request.decode(Body.self)) { error in
            XCTAssertEqual((error as? HTTPError)?.status, 400)
            XCTAssertEqual((error as? HTTPError)?.detail, "missing field 'name'")
        }
    }
}
