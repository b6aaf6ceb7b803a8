import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

// The .docx reader as it was before issue 23 (ZIPFoundation 0.9.20 from a temporary file, then
// FoundationXML's XMLParser), kept here unchanged in substance as the peer docx-bench times the
// libzip + libxml2 reader against. Not used by any product: FoundationXML crashed on a hostile
// upload and ZIPFoundation hung on another (Fuzz/regressions/docx).

enum PreviousReaderError: Error { case notAZip, missingDocumentXML, tooLarge, malformed(String) }

enum PreviousDocxReader {
    /// Returns the document's paragraphs, in order.
    ///
    /// `word/document.xml` is inflated chunk by chunk and inflation stops with
    /// ``DocDiffError/docxTooLarge(limit:)`` as soon as it passes `maximumXMLBytes` (a zip bomb
    /// costs at most that much memory). The XML is then parsed as a stream, in chunks, so a
    /// well-formed part of any size within the limit is read.
    static func paragraphs(from data: Data, maximumXMLBytes: Int = 64 << 20) throws -> [String] {
        // Read from a file, never from memory (ZIPFoundation 0.9.20's in-memory archive; both found
        // by the `docx` fuzz harness): it traps ("Range requires lowerBound <= upperBound", the
        // process dies) on a read after a seek past its end, which a central directory or entry
        // offset beyond the data causes (a 130-byte upload did), and when its end-record scan
        // fails it leaks the copy of the whole upload it made. From a real file a read past the
        // end returns nothing, so ZIPFoundation throws, and a failed open closes the file.
        // Every entry inside the bytes, or ZIPFoundation reads past the end forever (``ZIPBounds``).
        guard PreviousZIPBounds.check(data) else { throw PreviousReaderError.notAZip }
        let file = try PreviousArchiveFile(data)
        defer { file.remove() }
        let archive: Archive
        do {
            archive = try Archive(url: file.url, accessMode: .read)
        } catch {
            throw PreviousReaderError.notAZip
        }
        guard let entry = archive["word/document.xml"] else {
            throw PreviousReaderError.missingDocumentXML
        }
        if entry.uncompressedSize > Int64(maximumXMLBytes) { throw PreviousReaderError.tooLarge }
        struct PastTheLimit: Error {}
        var xml = Data()
        do {
            _ = try archive.extract(entry, bufferSize: 1 << 16, skipCRC32: false) { chunk in
                if xml.count + chunk.count > maximumXMLBytes { throw PastTheLimit() }
                xml.append(chunk)
            }
        } catch is PastTheLimit {
            throw PreviousReaderError.tooLarge
        } catch {
            throw PreviousReaderError.notAZip
        }
        return try parseDocumentXML(xml)
    }

    /// Returns the document's text: paragraphs joined by newlines, with a final newline.
    static func text(from data: Data, maximumXMLBytes: Int = 64 << 20) throws -> String {
        let paras = try paragraphs(from: data, maximumXMLBytes: maximumXMLBytes)
        return paras.isEmpty ? "" : paras.joined(separator: "\n") + "\n"
    }

    /// Parses the XML of `word/document.xml` into paragraphs, feeding the parser in chunks
    /// (a single-chunk parse stops at libxml2's 10 MB look-up limit).
    static func parseDocumentXML(_ xml: Data) throws -> [String] {
        let parser = XMLParser(stream: InputStream(data: xml))
        let collector = ParagraphCollector()
        parser.shouldProcessNamespaces = true
        parser.delegate = collector
        let ok = parser.parse()
        if !ok || collector.failure != nil {
            let detail = collector.failure ?? parser.parserError.map { "\($0)" } ?? "unknown parse error"
            throw PreviousReaderError.malformed(detail)
        }
        if !collector.sawDocument {
            throw PreviousReaderError.malformed("no w:document root element")
        }
        return collector.paragraphs
    }
}

/// XMLParser delegate that accumulates paragraph text.
private final class ParagraphCollector: NSObject, XMLParserDelegate {
    var paragraphs: [String] = []
    var current: String = ""
    var paragraphDepth = 0
    var runDepth = 0
    var inText = false
    var sawDocument = false
    var failure: String?

    private func isWordML(_ uri: String?) -> Bool {
        guard let uri else { return false }
        return uri.hasSuffix("wordprocessingml/2006/main") || uri.hasSuffix("wordprocessingml/main")
    }

    private func localName(_ elementName: String, _ qName: String?) -> String {
        if let colon = elementName.lastIndex(of: ":") { return String(elementName[elementName.index(after: colon)...]) }
        return elementName
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        guard isWordML(namespaceURI) else { return }
        switch localName(elementName, qName) {
        case "document": sawDocument = true
        case "p":
            if paragraphDepth == 0 { current = "" }
            paragraphDepth += 1
        case "r": runDepth += 1
        case "t": if runDepth > 0 { inText = true }
        case "tab": if runDepth > 0 { current.append("\t") }
        case "br", "cr": if runDepth > 0 { current.append("\n") }
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard isWordML(namespaceURI) else { return }
        switch localName(elementName, qName) {
        case "p":
            paragraphDepth -= 1
            if paragraphDepth == 0 { paragraphs.append(current); current = "" }
        case "r": runDepth = max(0, runDepth - 1)
        case "t": inText = false
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current.append(string) }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if failure == nil {
            let ns = parseError as NSError
            failure = "\(ns.localizedDescription) (line \(parser.lineNumber), column \(parser.columnNumber))"
        }
    }
}

enum PreviousZIPBounds {
    static func check(_ data: Data) -> Bool {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func signature(_ at: Int, _ value: Int) -> Bool { at >= 0 && at + 4 <= bytes.count && u32(at) == value }
        // The end record nearest the end, as ZIPFoundation finds it.
        guard bytes.count >= 22 else { return false }
        var end = bytes.count - 22
        while !signature(end, 0x0605_4B50) {
            if end == 0 { return false }
            end -= 1
        }
        let entries = u16(end + 10), directorySize = u32(end + 12), directoryStart = u32(end + 16)
        guard entries != 0xFFFF, directorySize != 0xFFFF_FFFF, directoryStart != 0xFFFF_FFFF,
              directoryStart + directorySize <= end else { return false }
        var record = directoryStart
        for _ in 0..<entries {
            guard record + 46 <= end, signature(record, 0x0201_4B50) else { return false }
            let compressed = u32(record + 20), uncompressed = u32(record + 24)
            let nameLength = u16(record + 28), extraLength = u16(record + 30), commentLength = u16(record + 32)
            let local = u32(record + 42)
            guard compressed != 0xFFFF_FFFF, uncompressed != 0xFFFF_FFFF, local != 0xFFFF_FFFF,
                  local + 30 <= bytes.count, signature(local, 0x0403_4B50) else { return false }
            let dataStart = local + 30 + u16(local + 26) + u16(local + 28)
            guard dataStart + compressed <= bytes.count else { return false }
            record += 46 + nameLength + extraLength + commentLength
        }
        return record <= end
    }
}

struct PreviousArchiveFile {
    let url: URL

    /// Writes `data` to a new file only this process can read.
    init(_ data: Data) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-docx-\(UUID().uuidString).zip")
        do {
            try data.write(to: url, options: [.withoutOverwriting])
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw PreviousReaderError.notAZip
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
