#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A parsed `multipart/form-data` body (RFC 7578): its parts, in order, as ranges into the body.
///
/// In the engine (no SDK) so it can be fuzzed and tested alone; the plugin maps ``MultipartError``
/// to a 400 problem.
///
/// The parser is strict where it matters (boundary syntax, header block, termination) and
/// copies nothing: parts are byte ranges of the original body. Delimiters are found with
/// `memmem`, so a 40 MB upload is split in a few milliseconds.
public struct MultipartFormData: Sendable {
    /// One part of the form.
    public struct Part: Sendable, Equatable {
        /// The `name` parameter of its `Content-Disposition`.
        public var name: String
        /// The `filename` parameter, for file parts.
        public var filename: String?
        /// Its `Content-Type` header, if any.
        public var contentType: String?
        /// Where its content lies in the body.
        public var range: Range<Int>
    }

    /// The whole body the parts point into.
    public let body: [UInt8]
    /// The parts, in order.
    public let parts: [Part]

    /// The content bytes of `part`, in place in the body (no copy).
    public func bytes(of part: Part) -> ArraySlice<UInt8> { body[part.range] }

    /// Extracts the `boundary` parameter of a `multipart/form-data` content type.
    public static func boundary(fromContentType contentType: String) throws -> String {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard (1...70).contains(value.utf8.count) else {
                throw MultipartError("header 'Content-Type': the multipart boundary must be 1 to 70 characters")
            }
            return value
        }
        throw MultipartError("header 'Content-Type': multipart/form-data needs a 'boundary' parameter")
    }

    /// Parses `body` using the boundary named in `contentType`.
    /// - Throws: ``MultipartError`` saying what is malformed and where.
    public static func parse(_ body: [UInt8], contentType: String) throws -> MultipartFormData {
        let delimiter = Array("--\(try boundary(fromContentType: contentType))".utf8)
        let crlfDelimiter = [0x0D, 0x0A] + delimiter
        var position: Int
        if body.starts(with: delimiter) {
            position = 0
        } else if let found = find(crlfDelimiter, in: body, from: 0) {
            position = found + 2
        } else {
            throw MultipartError("multipart body: the opening boundary is missing")
        }
        var parts: [Part] = []
        while true {
            var cursor = position + delimiter.count
            if body.count >= cursor + 2, body[cursor] == 0x2D, body[cursor + 1] == 0x2D { break }  // closing "--"
            while cursor < body.count, body[cursor] == 0x20 || body[cursor] == 0x09 { cursor += 1 }  // transport padding
            guard body.count >= cursor + 2, body[cursor] == 0x0D, body[cursor + 1] == 0x0A else {
                throw MultipartError("multipart body: boundary line of part \(parts.count + 1) is not followed by CRLF")
            }
            cursor += 2
            let headerEnd: Int, contentStart: Int
            if body.count >= cursor + 2, body[cursor] == 0x0D, body[cursor + 1] == 0x0A {
                (headerEnd, contentStart) = (cursor, cursor + 2)
            } else if let blank = find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: cursor) {
                (headerEnd, contentStart) = (blank, blank + 4)
            } else {
                throw MultipartError("multipart body: the headers of part \(parts.count + 1) are not terminated by a blank line")
            }
            guard let contentEnd = find(crlfDelimiter, in: body, from: contentStart) else {
                throw MultipartError("multipart body: part \(parts.count + 1) is not terminated by the boundary (truncated body?)")
            }
            parts.append(try part(headers: body[cursor..<headerEnd], range: contentStart..<contentEnd, number: parts.count + 1))
            position = contentEnd + 2
        }
        return MultipartFormData(body: body, parts: parts)
    }

    /// Builds a part from its header block.
    static func part(headers block: ArraySlice<UInt8>, range: Range<Int>, number: Int) throws -> Part {
        guard let text = String(validating: block, as: UTF8.self) else {
            throw MultipartError("multipart body: the headers of part \(number) are not valid UTF-8")
        }
        var disposition: String?, contentType: String?
        for line in text.components(separatedBy: "\r\n") where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw MultipartError("multipart body: malformed header line in part \(number): '\(line.prefix(80))'")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-disposition" { disposition = value }
            if name == "content-type" { contentType = value }
        }
        guard let disposition else {
            throw MultipartError("multipart body: part \(number) has no Content-Disposition header")
        }
        let parameters = dispositionParameters(disposition)
        guard parameters.type == "form-data", let name = parameters.values["name"], !name.isEmpty else {
            throw MultipartError("multipart body: part \(number) needs 'Content-Disposition: form-data; name=\"...\"'")
        }
        return Part(name: name, filename: parameters.values["filename"], contentType: contentType, range: range)
    }

    /// Splits `form-data; name="x"; filename="a;b.txt"` into its type and parameters, honouring quotes.
    static func dispositionParameters(_ value: String) -> (type: String, values: [String: String]) {
        var pieces: [String] = [], current = "", quoted = false, escaped = false
        for character in value {
            if escaped { current.append(character); escaped = false; continue }
            if quoted && character == "\\" { escaped = true; continue }
            if character == "\"" { quoted.toggle(); continue }
            if character == ";" && !quoted { pieces.append(current); current = ""; continue }
            current.append(character)
        }
        pieces.append(current)
        var values: [String: String] = [:]
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            values[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] = pair[1].trimmingCharacters(in: .whitespaces)
        }
        return (pieces[0].trimmingCharacters(in: .whitespaces).lowercased(), values)
    }

    /// The first index at or after `start` where `needle` occurs in `haystack` (`memchr` for the
    /// first byte, `memcmp` for the rest: linear in practice for boundary strings).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard start <= haystack.count, !needle.isEmpty else { return nil }
        return haystack.withUnsafeBytes { hay -> Int? in
            needle.withUnsafeBytes { pin -> Int? in
                guard let base = hay.baseAddress, let first = pin.first else { return nil }
                var offset = start
                let last = hay.count - pin.count
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return nil }
                    let index = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + index, pin.baseAddress!, pin.count) == 0 { return index }
                    offset = index + 1
                }
                return nil
            }
        }
    }
}

/// A malformed `multipart/form-data` body or boundary: what is wrong and where (a 400 for the client).
public struct MultipartError: Error, CustomStringConvertible, Sendable {
    /// The message, naming the part or header at fault.
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
