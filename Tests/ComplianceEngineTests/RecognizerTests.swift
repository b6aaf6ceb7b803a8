import ComplianceEngine
import XCTest

/// The recognisers on single sentences: what they must find (with exact spans) and the hard
/// negatives they must leave alone.
final class RecognizerTests: XCTestCase {
    /// The (type, text) pairs found in `text` at the default threshold.
    func found(_ text: String) -> [String] {
        PIIDetector.detect(text).map { "\($0.type.rawValue):\(text.scalarSlice($0.start, $0.end))" }
    }

    func testFindsEachTypeWithExactSpans() {
        XCTAssertEqual(found("Write to anna.schmidt@example.co.uk today."), ["EMAIL:anna.schmidt@example.co.uk"])
        XCTAssertEqual(found("Mail marcus.garcía@gmail.com now"), ["EMAIL:marcus.garcía@gmail.com"])
        XCTAssertEqual(found("Call (212) 555-0147 or +44 20 7946 0958."), ["PHONE:(212) 555-0147", "PHONE:+44 20 7946 0958"])
        XCTAssertEqual(found("Tél. 02 58 10 17 17, portable 06.12.34.56.78"), ["PHONE:02 58 10 17 17", "PHONE:06.12.34.56.78"])
        XCTAssertEqual(found("Handy: +49 30 12345678"), ["PHONE:+49 30 12345678"])
        XCTAssertEqual(found("ring (+44) 20 7946 0958 or 001-123-456-7890x12 or (555)555-0199"),
                       ["PHONE:(+44) 20 7946 0958", "PHONE:001-123-456-7890x12", "PHONE:(555)555-0199"])
        XCTAssertEqual(found("Patient born on 12 March 1985 in Leeds"), ["DATE_OF_BIRTH:12 March 1985"])
        XCTAssertEqual(found("DOB: 1985-03-12"), ["DATE_OF_BIRTH:1985-03-12"])
        XCTAssertEqual(found("Anna, 12 March 1985 (date of birth). Invoice due 21/02/2019. D.O.B. 3/4/1990"), ["DATE_OF_BIRTH:12 March 1985", "DATE_OF_BIRTH:3/4/1990"])
        XCTAssertEqual(found("see https://example.com/a/b?x=1)."), ["URL:https://example.com/a/b?x=1"])
        XCTAssertEqual(found("SSN 078-05-1121 on file"), ["US_SSN:078-05-1121"])
        XCTAssertEqual(found("login from 192.168.10.24 and fe80::1ff:fe23:4567:890a"), ["IP_ADDRESS:192.168.10.24", "IP_ADDRESS:fe80::1ff:fe23:4567:890a"])
        XCTAssertEqual(found("IBAN DE89 3704 0044 0532 0130 00."), ["IBAN:DE89 3704 0044 0532 0130 00"])
        XCTAssertEqual(found("card 5555 5555 5555 4444 and 2223 0031 2200 3222"), ["CREDIT_CARD:5555 5555 5555 4444", "CREDIT_CARD:2223 0031 2200 3222"])
        XCTAssertEqual(found("amex 378282246310005"), ["CREDIT_CARD:378282246310005"])
        XCTAssertEqual(found("Card: 4111 1111 1111 1111 12/25"), ["CREDIT_CARD:4111 1111 1111 1111"])
        XCTAssertEqual(found("office 312-555-0100 x204, home +33 (0)4 67 85 40 58, call 79740542"),
                       ["PHONE:312-555-0100 x204", "PHONE:+33 (0)4 67 85 40 58", "PHONE:79740542"])
        XCTAssertEqual(found("Maestro card 6759 6498 2643 8453"), ["CREDIT_CARD:6759 6498 2643 8453"])
    }

    func testLeavesHardNegativesAlone() {
        XCTAssertEqual(found("Upgraded to version 10.2.3.4 yesterday"), [])
        XCTAssertEqual(found("Logged at 2025-03-12 10:30:45 UTC"), [])
        XCTAssertEqual(found("ISBN 978-3-16-148410-0"), [])
        XCTAssertEqual(found("card **** **** **** 4242 and 4111 XXXX XXXX 1111"), [])
        XCTAssertEqual(found("bad card 4111 1111 1111 1112"), [])
        XCTAssertEqual(found("IBAN DE89 3704 0044 0532 0130 01 rejected"), [])
        XCTAssertEqual(found("Order #471522690 shipped on 27/01/2021. Date of birth unknown"), [])
        XCTAssertEqual(found("Invoice total: $84,572.74"), [])
        XCTAssertEqual(found("SSN 666-12-3456 and 000-12-3456 and 123-00-4567"), [])
        XCTAssertEqual(found("see section 4.2.1.3 and report_2020.pdf, user@localhost"), [])
        XCTAssertEqual(found("std::vector and 12:30:45 and 00:1A:2B:3C:4D:5E"), [])
        XCTAssertEqual(found("Tracking number 1Z8234567890 and reference 483920174623"), [])
        XCTAssertEqual(found("meet at 20240101 in room 12345678"), [])
    }

    func testOffsetsCountCodePoints() {
        let text = "Zoë 👩‍💻 née: born 1990-05-17, mail zoë@example.com"
        let found = PIIDetector.detect(text)
        XCTAssertEqual(found.map(\.type), [.dateOfBirth, .email])
        XCTAssertEqual(found.map { text.scalarSlice($0.start, $0.end) }, ["1990-05-17", "zoë@example.com"])
    }
}

/// Inputs built to make a scanner re-read text: each must still be read in one pass (a
/// quadratic scanner would take minutes here instead of milliseconds).
final class PathologicalInputTests: XCTestCase {
    func testRepetitiveInputsStayLinear() {
        let size = 200_000
        XCTAssertEqual(PIIDetector.detect("see https://example.com/" + String(repeating: ")", count: size)).count, 1)
        XCTAssertLessThanOrEqual(PIIDetector.detect("x@" + String(repeating: "a.", count: size / 2) + "com").count, 1)
        XCTAssertLessThanOrEqual(PIIDetector.detect(String(repeating: "com.", count: size / 4)).count, 1)
        XCTAssertEqual(PIIDetector.detect(String(repeating: "1", count: size)).count, 0)
        XCTAssertEqual(PIIDetector.detect(String(repeating: "1 ", count: size / 2)).count, 0)
        XCTAssertEqual(PIIDetector.detect(String(repeating: "a:", count: size / 2)).count, 0)
        XCTAssertEqual(PIIDetector.detect(String(repeating: "DE89 ", count: size / 5)).count, 0)
        XCTAssertEqual(PIIDetector.detect(String(repeating: "@", count: size)).count, 0)
    }
}
