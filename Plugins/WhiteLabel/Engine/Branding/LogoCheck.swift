import CLibXML2
import Foundation

/// An uploaded logo or favicon, judged by its content (never by its name or declared type):
/// PNG and JPEG by their signature and header dimensions, SVG by parsing it as XML and refusing
/// anything that could run or fetch (script, event attributes, external references, entities).
public struct LogoCheck {
    public enum Kind: String, Sendable { case png, jpeg, svg }

    public struct Accepted: Sendable, Equatable {
        public let kind: Kind
        public let width: Int
        public let height: Int
        public init(kind: Kind, width: Int, height: Int) { (self.kind, self.width, self.height) = (kind, width, height) }
        public var contentType: String {
            switch kind { case .png: "image/png"; case .jpeg: "image/jpeg"; case .svg: "image/svg+xml" }
        }
    }

    /// The largest upload, in bytes.
    public static let maxBytes = 512 * 1024
    /// The largest width or height, in pixels.
    public static let maxDimension = 4096

    /// The image's kind and size, or a ``ValidationError`` saying why it is refused.
    public static func check(_ bytes: [UInt8]) throws -> Accepted {
        guard !bytes.isEmpty else { throw ValidationError("the logo is empty") }
        guard bytes.count <= maxBytes else { throw ValidationError("the logo is \(bytes.count) bytes; at most \(maxBytes) are accepted") }
        let accepted: Accepted
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            accepted = try png(bytes)
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            accepted = try jpeg(bytes)
        } else if let text = String(validating: bytes, as: UTF8.self), text.contains("<svg") {
            accepted = try SVGSanitizer.check(text)
        } else {
            throw ValidationError("the logo is neither PNG, JPEG nor SVG (judged by its content)")
        }
        guard (1...maxDimension).contains(accepted.width), (1...maxDimension).contains(accepted.height) else {
            throw ValidationError("the logo is \(accepted.width)x\(accepted.height) pixels; each side must be 1 to \(maxDimension)")
        }
        return accepted
    }

    private static func be32(_ bytes: [UInt8], _ at: Int) -> Int {
        Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
    }

    static func png(_ bytes: [UInt8]) throws -> Accepted {
        guard bytes.count >= 33, Array(bytes[12..<16]) == Array("IHDR".utf8), be32(bytes, 8) == 13 else {
            throw ValidationError("the PNG has no IHDR header where one must be")
        }
        guard bytes.suffix(12).starts(with: [0, 0, 0, 0]) && Array(bytes.suffix(8).prefix(4)) == Array("IEND".utf8) else {
            throw ValidationError("the PNG is truncated (no IEND chunk at its end)")
        }
        return Accepted(kind: .png, width: be32(bytes, 16), height: be32(bytes, 20))
    }

    static func jpeg(_ bytes: [UInt8]) throws -> Accepted {
        var index = 2
        while index + 9 < bytes.count {
            guard bytes[index] == 0xFF else { throw ValidationError("the JPEG's segments are corrupt at byte \(index)") }
            let marker = bytes[index + 1]
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 || marker == 0xFF { index += marker == 0xFF ? 1 : 2; continue }
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            if (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
                let height = Int(bytes[index + 5]) << 8 | Int(bytes[index + 6])
                let width = Int(bytes[index + 7]) << 8 | Int(bytes[index + 8])
                return Accepted(kind: .jpeg, width: width, height: height)
            }
            guard length >= 2 else { throw ValidationError("the JPEG's segments are corrupt at byte \(index)") }
            index += 2 + length
        }
        throw ValidationError("the JPEG has no frame header (SOF), so its size is unknown")
    }
}

/// SVG judged by an allow-list: only drawing elements and presentation attributes pass; a
/// script, an event attribute (`on…`), a reference outside the document (`href` not starting
/// with `#`, `url(` other than `url(#…)`), a `<!DOCTYPE>`/entity, or `foreignObject` is refused,
/// naming what was found.
public enum SVGSanitizer {
    static let elements: Set<String> = [
        "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "title", "desc",
        "defs", "lineargradient", "radialgradient", "stop", "clippath", "mask", "use", "symbol",
    ]
    static let attributes: Set<String> = [
        "xmlns", "xmlns:xlink", "version", "width", "height", "viewbox", "preserveaspectratio", "id", "class", "d", "x", "y", "x1", "y1", "x2", "y2",
        "cx", "cy", "r", "rx", "ry", "points", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap",
        "stroke-linejoin", "stroke-opacity", "stroke-dasharray", "opacity", "transform", "offset", "stop-color", "stop-opacity",
        "gradientunits", "gradienttransform", "font-family", "font-size", "font-weight", "text-anchor", "clip-path", "mask",
        "href", "xlink:href", "role", "aria-label", "style", "dominant-baseline", "clip-rule", "fx", "fy", "spreadmethod",
    ]

    public static func check(_ text: String) throws -> LogoCheck.Accepted {
        let lowered = text.lowercased()
        if lowered.contains("<!doctype") || lowered.contains("<!entity") { throw ValidationError("the SVG declares a DOCTYPE or entities; they are refused") }
        var judge = Judge()
        // libxml2's streaming reader (FoundationXML's XMLParser leaked a string per XML error, found
        // by the `logo` fuzz harness, and crashed on a hostile .docx): no network, no entities.
        let wellFormed = try SVGReader.read(Array(text.utf8)) { event in
            switch event {
            case .start(let name, let attributes): return judge.start(name, attributes)
            case .end: judge.depth -= 1; return nil
            case .instruction(let target): return target.lowercased() == "xml" ? nil : "the SVG holds a processing instruction (<?\(target.prefix(40))>)"
            }
        }
        guard wellFormed, judge.depth == 0 else { throw ValidationError("the SVG is not well-formed XML") }
        guard judge.sawRoot else { throw ValidationError("the SVG's root element is not <svg>") }
        return LogoCheck.Accepted(kind: .svg, width: judge.width ?? 0, height: judge.height ?? 0)
    }

    struct Judge {
        var sawRoot = false
        var width: Int?, height: Int?
        var depth = 0

        /// The problem with this element, or nil.
        mutating func start(_ name: String, _ attributes: [(String, String)]) -> String? {
            let element = name.lowercased()
            func attribute(_ key: String) -> String? { attributes.first { $0.0 == key }?.1 }
            if depth == 0 {
                guard element == "svg" else { return "the SVG's root element is <\(name.prefix(40))>, not <svg>" }
                sawRoot = true
                width = attribute("width").flatMap(Self.pixels)
                height = attribute("height").flatMap(Self.pixels)
                if width == nil || height == nil, let box = attribute("viewBox") {
                    let parts = box.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Double($0) }
                    if parts.count == 4 { (width, height) = (width ?? Self.clamped(parts[2]), height ?? Self.clamped(parts[3])) }
                }
            }
            depth += 1
            if element == "script" { return "the SVG holds a <script> element" }
            guard SVGSanitizer.elements.contains(element) else { return "the SVG holds a <\(name.prefix(40))> element, which is not allowed" }
            for (key, value) in attributes {
                let attribute = key.lowercased()
                if attribute.hasPrefix("on") { return "the SVG's <\(name)> has the event attribute '\(key.prefix(40))'" }
                guard SVGSanitizer.attributes.contains(attribute) else { return "the SVG's <\(name)> has the attribute '\(key.prefix(40))', which is not allowed" }
                if attribute.hasSuffix("href"), !value.hasPrefix("#") { return "the SVG's <\(name)> refers outside the document (\(key)=\"\(value.prefix(60))\")" }
                let lowered = value.lowercased()
                if lowered.contains("url(") && !lowered.contains("url(#") { return "the SVG's <\(name)> refers outside the document (\(key) uses url())" }
                if lowered.contains("javascript:") || lowered.contains("expression(") || lowered.contains("@import") {
                    return "the SVG's <\(name)> has script in '\(key)'"
                }
            }
            return nil
        }

        static func pixels(_ text: String) -> Int? {
            let digits = text.hasSuffix("px") ? String(text.dropLast(2)) : text
            return Double(digits).flatMap(clamped)
        }

        /// Whole pixels, rounded up; a size beyond any limit stays beyond it (1e30 or inf would trap
        /// converted to Int as it was); nil for NaN.
        static func clamped(_ value: Double) -> Int? {
            guard !value.isNaN else { return nil }
            return Int(Swift.min(Swift.max(value.rounded(.up), -1), 1_000_000_000))
        }
    }
}
