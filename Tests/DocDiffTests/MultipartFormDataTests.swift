import XCTest
@testable import DocDiff

/// The multipart/form-data parser, now in the engine so it can be fuzzed (the `multipart` harness)
/// and tested without a plugin host. Malformed bodies are ``MultipartError``s the plugin maps to 400.
final class MultipartFormDataTests: XCTestCase {
    let contentType = "multipart/form-data; boundary=BOUND"

    func testPartsAreRangesOfTheBody() throws {
        let body = Array(("--BOUND\r\nContent-Disposition: form-data; name=\"old\"\r\n\r\nold text\r\n"
            + "--BOUND\r\nContent-Disposition: form-data; name=\"new\"; filename=\"n.txt\"\r\nContent-Type: text/plain\r\n\r\nnew\r\n--BOUND--\r\n").utf8)
        let form = try MultipartFormData.parse(body, contentType: contentType)
        XCTAssertEqual(form.parts.map(\.name), ["old", "new"])
        XCTAssertEqual(form.parts[1].filename, "n.txt")
        XCTAssertEqual(form.parts[1].contentType, "text/plain")
        XCTAssertEqual(String(decoding: form.bytes(of: form.parts[0]), as: UTF8.self), "old text")
    }

    func testMalformedBodiesSayWhatIsWrong() {
        func message(_ body: String, _ type: String? = nil) -> String? {
            do { _ = try MultipartFormData.parse(Array(body.utf8), contentType: type ?? contentType); return nil } catch {
                return (error as? MultipartError)?.message
            }
        }
        XCTAssertEqual(message("no boundary here"), "multipart body: the opening boundary is missing")
        XCTAssertTrue(message("--BOUND\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ncut")?.contains("not terminated by the boundary") ?? false)
        XCTAssertTrue(message("", "multipart/form-data")?.contains("needs a 'boundary' parameter") ?? false)
        XCTAssertTrue(message("", "multipart/form-data; boundary=\(String(repeating: "x", count: 71))")?.contains("1 to 70 characters") ?? false)
    }
}
