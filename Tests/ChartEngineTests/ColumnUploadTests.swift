import ChartEngine
import Foundation
import XCTest

/// The binary columnar upload: "PXC1", a JSON header, float64 columns.
final class ColumnUploadTests: XCTestCase {
    static let spec = #"{"mark": "line", "encoding": {"x": {"field": "t", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"}}}"#

    /// An upload of `columns` (all the same length) under `header` (with `spec`, `columns` and `rows` filled in unless given).
    static func upload(_ columns: [(String, [Double])], spec: String = spec, header: String? = nil, trim: Int = 0) -> [UInt8] {
        let rows = columns.first?.1.count ?? 0
        let names = columns.map { "\"\($0.0)\"" }.joined(separator: ",")
        let text = header ?? #"{"spec": \#(spec), "columns": [\#(names)], "rows": \#(rows)}"#
        var bytes = ColumnUpload.magic
        let length = UInt32(text.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]
        bytes += Array(text.utf8)
        for (_, values) in columns {
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        }
        return Array(bytes.dropLast(trim))
    }

    func render(_ bytes: [UInt8], _ format: ChartRenderer.Format = .svg) throws -> [UInt8] {
        try ChartRenderer(fonts: Charts.fonts).render(try ColumnUpload.parse(bytes, maxRows: 2_000_000), as: format)
    }

    func refusal(_ bytes: [UInt8], maxRows: Int = 2_000_000) -> ChartError? {
        do { _ = try ChartRenderer(fonts: Charts.fonts).render(try ColumnUpload.parse(bytes, maxRows: maxRows), as: .svg); return nil } catch { return error as? ChartError }
    }

    func testColumnsRenderLikeTheSameRowsInJSON() throws {
        let t = (0..<500).map { 1_704_067_200_000 + Double($0) * 3_600_000 }, v = (0..<500).map { sin(Double($0) / 20) * 10 }
        let binary = String(decoding: try render(Self.upload([("t", t), ("v", v)])), as: UTF8.self)
        let rows = zip(t, v).map { #"{"t": \#($0), "v": \#($1)}"# }.joined(separator: ",")
        let json = try Charts.svg(#"{"data": {"values": [\#(rows)]}, "mark": "line", "encoding": {"x": {"field": "t", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"}}}"#)
        XCTAssertEqual(binary, json, "the same drawing from either upload")
        XCTAssertTrue(ColumnUpload.matches(Self.upload([("t", t)])))
        XCTAssertFalse(ColumnUpload.matches(Array("{\"mark\": 1}".utf8)))
        let png = try PNGImage(try render(Self.upload([("t", t), ("v", v)]), .png))
        XCTAssertEqual([png.width, png.height], [400, 300])
    }

    func testNaNIsAMissingValueAndInfinityIsRefused() throws {
        let out = String(decoding: try render(Self.upload([("t", [0, 1, 2, 3]), ("v", [1, .nan, 3, 4])], spec: #"{"mark": "point", "encoding": {"x": {"field": "t", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}}}"#)), as: UTF8.self)
        XCTAssertEqual(Charts.count(out, role: "mark-point"), 3)
        let error = refusal(Self.upload([("t", [0, 1]), ("v", [1, .infinity])]))
        XCTAssertEqual(error?.path, "$.encoding.y.field")
        XCTAssertTrue(error?.message.contains("not a finite number") == true, "\(String(describing: error))")
    }

    func testBadUploadsNameWhatIsWrong() {
        let good: [(String, [Double])] = [("t", [0, 1]), ("v", [1, 2])]
        XCTAssertEqual(refusal(Self.upload(good, trim: 3))?.path, "header.columns", "a short body")
        XCTAssertEqual(refusal(Self.upload(good) + [0])?.path, "header.columns", "a long body")
        XCTAssertEqual(refusal(Self.upload(good), maxRows: 1)?.kind, .tooLarge)
        XCTAssertEqual(refusal(Self.upload(good), maxRows: 1)?.path, "header.rows")
        XCTAssertEqual(refusal(Self.upload(good, header: #"{"spec": \#(Self.spec), "columns": ["t", "v"], "rows": -1}"#))?.path, "header.rows")
        XCTAssertEqual(refusal(Self.upload(good, header: #"{"spec": \#(Self.spec), "columns": ["t", "v"], "rows": 1.5}"#))?.path, "header.rows")
        XCTAssertEqual(refusal(Self.upload(good, header: #"{"spec": \#(Self.spec), "columns": ["t", "t"], "rows": 2}"#))?.path, "header.columns")
        XCTAssertEqual(refusal(Self.upload(good, header: #"{"spec": \#(Self.spec), "columns": [], "rows": 2}"#))?.path, "header.columns")
        XCTAssertEqual(refusal(Self.upload(good, header: #"{"columns": ["t", "v"], "rows": 2}"#))?.path, "header.spec")
        XCTAssertEqual(refusal(Self.upload(good, header: #"{"spec": \#(Self.spec), "columns": ["t", "v"], "rows": 2, "x": 1}"#))?.path, "header.x")
        XCTAssertEqual(refusal(Self.upload(good, spec: #"{"data": {"values": []}, "mark": "line"}"#))?.path, "header.spec.data")
        XCTAssertEqual(refusal(Self.upload(good, spec: #"{"mark": "line", "encoding": {"x": {"field": "q", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}}}"#))?.path,
                       "$.encoding.x.field", "a field missing from the columns")
        XCTAssertEqual(refusal(Self.upload(good, header: "{not json"))?.kind, .syntax)
        XCTAssertEqual(refusal(Array("PXC1".utf8) + [255, 255, 255, 127])?.path, "header", "a header length past the body")
        XCTAssertEqual(refusal(Array("PXC1".utf8))?.path, "header")
    }
}
