import CPlexusABI
import Foundation
@testable import PlexusSDK
import XCTest

/// A request as the runtime hands it over the C ABI, read back through the SDK's `Request`:
/// the headers, the path and the request id share one packed buffer, decoded when read.
final class SDKRequestFromRuntimeTests: XCTestCase {
    /// Calls `body` with a C request whose texts point into buffers kept alive for the call.
    private func withRequest(path: String, requestID: String, headers: [(String, String)],
                             _ body: (plexus_request) -> Void) {
        var texts: [UnsafeMutableBufferPointer<CChar>] = []
        func bytes(_ text: String) -> plexus_bytes {
            let utf8 = Array(text.utf8CString.dropLast())
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(utf8.count, 1))
            _ = buffer.initialize(from: utf8)
            texts.append(buffer)
            return plexus_bytes(data: buffer.baseAddress, length: utf8.count)
        }
        let pairs = UnsafeMutablePointer<plexus_pair>.allocate(capacity: max(headers.count, 1))
        for (index, header) in headers.enumerated() { pairs[index] = plexus_pair(name: bytes(header.0), value: bytes(header.1)) }
        var request = plexus_request()
        request.struct_size = UInt32(MemoryLayout<plexus_request>.size)
        request.method = bytes("GET")
        request.path = bytes(path)
        request.request_id = bytes(requestID)
        request.headers = UnsafePointer(pairs)
        request.header_count = headers.count
        body(request)
        for buffer in texts { buffer.deallocate() }
        pairs.deallocate()
    }

    func testThePathAndRequestIDAreReadFromThePackedBufferBesideTheHeaders() {
        var copied: Request?
        withRequest(path: "/api/v1/caf\u{E9}/items", requestID: "a1b2c3d4-1f", headers: [("Host", "example.test"), ("X-Thing", "one")]) { raw in
            copied = Request(raw)
        }
        // The C buffers are gone: the request holds copies.
        let request = try! XCTUnwrap(copied)
        XCTAssertEqual(request.path, "/api/v1/caf\u{E9}/items")
        XCTAssertEqual(request.requestID, "a1b2c3d4-1f")
        XCTAssertEqual(request.headers["host"], "example.test")
        XCTAssertEqual(request.headers["X-THING"], "one")
        XCTAssertEqual(request.headers.fields.map(\.name), ["Host", "X-Thing"], "the extra texts are not headers")
        XCTAssertNil(request.headers["a1b2c3d4-1f"])
    }

    func testARequestWithoutHeadersStillHasItsTexts() {
        withRequest(path: "/", requestID: String(repeating: "r", count: 128), headers: []) { raw in
            let request = Request(raw)
            XCTAssertEqual(request.path, "/")
            XCTAssertEqual(request.requestID, String(repeating: "r", count: 128))
            XCTAssertEqual(request.headers.fields.count, 0)
        }
    }

    func testSettingThePathOrRequestIDReplacesOnlyThatText() {
        withRequest(path: "/a", requestID: "id-1", headers: [("Host", "h")]) { raw in
            var request = Request(raw)
            let original = request
            request.path = "/b"
            XCTAssertEqual(request.path, "/b")
            XCTAssertEqual(request.requestID, "id-1")
            request.requestID = "id-2"
            XCTAssertEqual(request.requestID, "id-2")
            XCTAssertEqual(original.path, "/a", "a copy keeps its own texts")
            XCTAssertEqual(original.requestID, "id-1")
            XCTAssertEqual(request.headers["host"], "h")
        }
    }

    func testEmptyTextsReadAsEmptyStrings() {
        withRequest(path: "", requestID: "", headers: [("Host", "")]) { raw in
            let request = Request(raw)
            XCTAssertEqual(request.path, "")
            XCTAssertEqual(request.requestID, "")
            XCTAssertEqual(request.headers["host"], "")
        }
    }
}
