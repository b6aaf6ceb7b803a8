import Foundation

/// The line framing of a request head, checked as its bytes arrive, for what llhttp (even in
/// strict mode) lets through: a bare LF as a line end (llhttp accepts one after the request line
/// and as the empty line that ends the head) and obs-fold, a header line continued on the next
/// line by leading whitespace (RFC 9112 §5.2). Both are refused with 400: a front proxy that
/// reads the head otherwise would see other requests than this server, the ground of request
/// smuggling. llhttp itself refuses a bare CR.
///
/// A head may arrive in several reads: ``scan(_:)`` takes each piece in order and carries the last
/// byte over; ``reset()`` starts the next head.
struct HeadFraming {
    /// The last byte scanned (0 before the first byte of a head).
    private var last: UInt8 = 0

    /// What is wrong with a head's framing.
    enum Violation: Equatable {
        case bareLF, obsFold

        /// The problem detail for the 400 answer.
        var detail: String {
            switch self {
            case .bareLF: "a line of the request head ends with a bare LF; end every line with CRLF"
            case .obsFold: "a header field line is folded onto the next line (obs-fold, RFC 9112 §5.2); send each field on one line"
            }
        }
    }

    /// Starts a new head.
    mutating func reset() { last = 0 }

    /// Checks the next bytes of the head (the request line and header lines, up to and including
    /// the empty line's LF when it is in `bytes`).
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Violation? {
        guard let start = bytes.baseAddress, !bytes.isEmpty else { return nil }
        let end = start + bytes.count
        if last == lineFeed && (start.load(as: UInt8.self) == space || start.load(as: UInt8.self) == tab) { return .obsFold }
        var cursor = start
        while cursor < end, let found = memchr(cursor, Int32(lineFeed), end - cursor) {
            let lineEnd = UnsafeRawPointer(found)
            let before = lineEnd > start ? (lineEnd - 1).load(as: UInt8.self) : last
            if before != carriageReturn { return .bareLF }
            cursor = lineEnd + 1
            if cursor < end {
                let next = cursor.load(as: UInt8.self)
                if next == space || next == tab { return .obsFold }
            }
        }
        last = (end - 1).load(as: UInt8.self)
        return nil
    }

    private let lineFeed: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20, tab: UInt8 = 0x09
}
