@testable import PlexusRuntime
import XCTest

/// `ByteWriter.putDecimal`: every length of number, written in place after what came before.
final class ByteWriterTests: XCTestCase {
    func testDecimalsOfEveryLength() {
        var values: [Int] = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1_000, 65_535, Int.max, Int.max - 1]
        var power = 1
        for _ in 1...18 {
            power *= 10
            values += [power - 1, power, power + 1]
        }
        for value in values {
            XCTAssertEqual(written { $0.putDecimal(value) }, "<\(value)>")
        }
        // Up to three digits are written without the loop: every one of them, and past the switch.
        for value in 0..<1_100 {
            XCTAssertEqual(written { $0.putDecimal(value) }, "<\(value)>")
        }
        XCTAssertEqual(written { $0.putDecimal(-1) }, "<0>", "a negative value is written as 0")
        XCTAssertEqual(written { $0.putDecimal(Int.min) }, "<0>")
    }

    /// `<`, what `body` writes, then `>`, in a buffer sized for the longest number.
    private func written(_ body: (inout ByteWriter) -> Void) -> String {
        var bytes = [UInt8](repeating: 0, count: 22)
        let count = bytes.withUnsafeMutableBufferPointer { buffer in
            var out = ByteWriter(buffer)
            out.put(UInt8(ascii: "<"))
            body(&out)
            out.put(UInt8(ascii: ">"))
            return out.count
        }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}
