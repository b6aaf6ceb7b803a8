import Foundation
import WhiteLabelEngine
import XCTest

final class LogoCheckTests: XCTestCase {
    /// A PNG's signature, IHDR (width, height) and IEND, as the check reads them.
    static func png(width: Int, height: Int) -> [UInt8] {
        func be32(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 255), UInt8(value >> 16 & 255), UInt8(value >> 8 & 255), UInt8(value & 255)] }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be32(13) + Array("IHDR".utf8) + be32(width) + be32(height)
            + [8, 6, 0, 0, 0] + [0, 0, 0, 0] + be32(0) + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82]
    }

    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        + [0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x40, 0x00, 0x80, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1] + [0xFF, 0xD9]

    func testImagesAreJudgedByContent() throws {
        XCTAssertEqual(try LogoCheck.check(Self.png(width: 200, height: 80)), LogoCheck.Accepted(kind: .png, width: 200, height: 80))
        XCTAssertEqual(try LogoCheck.check(Self.jpeg), LogoCheck.Accepted(kind: .jpeg, width: 128, height: 64))
        let svg = ##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#c00"/><use href="#a"/></svg>"##
        XCTAssertEqual(try LogoCheck.check(Array(svg.utf8)).kind, .svg)
        func refusal(_ bytes: [UInt8]) -> String { do { _ = try LogoCheck.check(bytes); return "accepted" } catch { return "\(error)" } }
        XCTAssertTrue(refusal(Self.png(width: 5000, height: 10)).contains("5000x10"))
        XCTAssertTrue(refusal(Array(Self.png(width: 10, height: 10).dropLast(12))).contains("truncated"))
        XCTAssertTrue(refusal([UInt8](repeating: 0x41, count: 20 * 1024 * 1024)).contains("at most"))
        XCTAssertTrue(refusal(Array("GIF89a".utf8)).contains("neither PNG, JPEG nor SVG"))
        XCTAssertTrue(refusal([]).contains("empty"))
    }

    func testSVGThatCouldRunOrFetchIsRefused() {
        func refusal(_ svg: String) -> String { do { _ = try LogoCheck.check(Array(svg.utf8)); return "accepted" } catch { return "\(error)" } }
        let open = #"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">"#
        XCTAssertEqual(refusal(open + "<script>alert(1)</script></svg>"), "the SVG holds a <script> element")
        XCTAssertEqual(refusal(open + #"<rect onclick="x()" width="1" height="1"/></svg>"#), "the SVG's <rect> has the event attribute 'onclick'")
        XCTAssertTrue(refusal(open + ##"<use href="https://evil.test/a.svg#x"/></svg>"##).contains("refers outside the document"))
        XCTAssertTrue(refusal(open + #"<rect style="fill:url(https://evil.test/p)" width="1" height="1"/></svg>"#).contains("url()"))
        XCTAssertTrue(refusal(open + #"<foreignObject><p/></foreignObject></svg>"#).contains("<foreignObject> element"))
        XCTAssertTrue(refusal(#"<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>"#).contains("DOCTYPE"))
        XCTAssertTrue(refusal(open + "<rect>").contains("not well-formed"), refusal(open + "<rect>"))
        XCTAssertTrue(refusal(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><a href="javascript:alert(1)"/></svg>"#).contains("<a> element"))
    }

    func testBrandingValidationAndCSS() throws {
        var branding = Branding(productName: "Acme Cloud", primaryColor: "#cc0000", legalLinks: ["terms": "https://acme.test/terms"])
        XCTAssertNoThrow(try branding.validate())
        XCTAssertTrue(branding.css.contains("--brand-primary: #cc0000;"))
        XCTAssertTrue(branding.landingPage(hasLogo: false).contains("<h1 id=\"product\">Acme Cloud</h1>"))
        branding.primaryColor = "red; } body { display:none"
        XCTAssertThrowsError(try branding.validate()) { XCTAssertTrue("\($0)".contains("primary_color")) }
        branding.primaryColor = "#fff"
        branding.fontFamily = "x; background:url(https://evil)"
        XCTAssertThrowsError(try branding.validate())
        branding.fontFamily = "Inter, sans-serif"
        branding.legalLinks = ["terms": "javascript:alert(1)"]
        XCTAssertThrowsError(try branding.validate())
        XCTAssertEqual(HTML.escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;")
    }
}
