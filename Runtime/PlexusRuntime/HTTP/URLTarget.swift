import CLibUV

/// Splits a request target into a percent-decoded path (and the raw one routes match), and a raw query.
enum URLTarget {
    /// Fills `exchange.path` and `exchange.query`, or returns what is wrong with the target.
    static func split(_ target: UnsafeRawBufferPointer, into exchange: HTTPExchange) -> String? {
        guard let first = target.first else { return "empty request target" }
        var pathBytes = target[...]
        if first != UInt8(ascii: "/") {
            if target.count == 1 && first == UInt8(ascii: "*") {
                exchange.path = "*"
                exchange.rawPath = "*"
                return nil
            }
            // absolute-form: scheme://authority/path?query
            var parsed = http_parser_url()
            http_parser_url_init(&parsed)
            let status = http_parser_parse_url(target.baseAddress!.assumingMemoryBound(to: CChar.self), target.count, 0, &parsed)
            guard status == 0 else { return "request target is not a valid URL" }
            // field_data[] (an array of {off, len} pairs) follows field_set and port.
            let pathOffset = withUnsafeBytes(of: parsed) { $0.load(fromByteOffset: 4 + Int(UF_PATH.rawValue) * 4, as: UInt16.self) }
            guard parsed.field_set & (1 << UInt16(UF_PATH.rawValue)) != 0 else {
                exchange.path = "/"
                exchange.rawPath = "/"
                return nil
            }
            pathBytes = target[Int(pathOffset)...]
        }
        var queryStart = pathBytes.endIndex
        if let mark = pathBytes.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            queryStart = mark
            if pathBytes[mark] == UInt8(ascii: "?") {
                let rest = pathBytes[(mark + 1)...]
                let end = rest.firstIndex(of: UInt8(ascii: "#")) ?? rest.endIndex
                exchange.query = String(decoding: rest[..<end], as: UTF8.self)
            }
        }
        guard let path = percentDecode(pathBytes[..<queryStart]) else { return "path contains a malformed percent-escape or a NUL byte" }
        exchange.path = path.isEmpty ? "/" : path
        let raw = pathBytes[..<queryStart]
        exchange.rawPath = raw.isEmpty ? "/" : String(decoding: raw, as: UTF8.self)
        return nil
    }

    /// Decodes `%XX` escapes; `nil` for a malformed escape, a decoded NUL or invalid UTF-8.
    static func percentDecode(_ bytes: Slice<UnsafeRawBufferPointer>) -> String? {
        guard bytes.contains(UInt8(ascii: "%")) else { return String(validating: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex,
                      let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) else { return nil }
                let decoded = high << 4 | low
                guard decoded != 0 else { return nil }
                out.append(decoded)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
}
