import Foundation

/// JSON text written and checked byte by byte, for the bus's hot encodings (an event's SSE
/// frame, its WebSocket message), where `JSONSerialization` would build, bridge and sort a
/// dictionary per event.
enum JSONText {
    /// Appends `text` as a JSON string literal, quotes included (the escapes of ``ProblemJSON``).
    static func appendString(_ text: String, to output: inout [UInt8]) {
        ProblemJSON.appendString(&output, text)
    }

    /// Appends `value` in decimal.
    static func appendInteger(_ value: Int, to output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: [UInt8] = []
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        output.append(contentsOf: digits.reversed())
    }

    /// Appends `date` as RFC 3339 UTC with milliseconds (`2026-12-06T18:58:53.123Z`), the form
    /// `ISO8601DateFormatter` writes with internet date-time and fractional seconds (rounded to
    /// the nearest millisecond, as it rounds).
    static func appendTimestamp(_ date: Date, to output: inout [UInt8]) {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite, abs(milliseconds) < 1e15 else {
            appendString(ISO8601DateFormatter.withFractions.string(from: date), to: &output)
            return
        }
        let total = Int64(milliseconds)
        var seconds = time_t(total >= 0 ? total / 1000 : (total - 999) / 1000)
        let fraction = Int(total - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        guard parts.tm_year + 1900 >= 0, parts.tm_year + 1900 <= 9999 else {
            appendString(ISO8601DateFormatter.withFractions.string(from: date), to: &output)
            return
        }
        output.append(UInt8(ascii: "\""))
        appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), width: 2, to: &output)
        output.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2, to: &output)
        output.append(UInt8(ascii: "."))
        appendDigits(fraction, width: 3, to: &output)
        output.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
    }

    private static func appendDigits(_ value: Int, width: Int, to output: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
