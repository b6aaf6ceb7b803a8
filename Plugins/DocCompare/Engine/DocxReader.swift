import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// Extracts paragraph text from `.docx` (Office Open XML) documents.
///
/// Reads `word/document.xml` from the zip: each `w:p` is a paragraph, text comes from
/// `w:t` runs, `w:tab` becomes a tab and `w:br`/`w:cr` a newline. Deleted-revision text
/// (`w:delText`) and field instructions are skipped.
public enum DocxReader {
    /// Returns the document's paragraphs, in order.
    ///
    /// `word/document.xml` is inflated chunk by chunk and inflation stops with
    /// ``DocDiffError/docxTooLarge(limit:)`` as soon as it passes `maximumXMLBytes` (a zip bomb
    /// costs at most that much memory). The XML is then parsed as a stream, in chunks, so a
    /// well-formed part of any size within the limit is read.
    public static func paragraphs(from data: Data, maximumXMLBytes: Int = InputLimits.default.maximumBytes) throws -> [String] {
        // Read from a file, never from memory (ZIPFoundation 0.9.20's in-memory archive; both found
        // by the `docx` fuzz harness): it traps ("Range requires lowerBound <= upperBound", the
        // process dies) on a read after a seek past its end, which a central directory or entry
        // offset beyond the data causes (a 130-byte upload did), and when its end-record scan
        // fails it leaks the copy of the whole upload it made. From a real file a read past the
        // end returns nothing, so ZIPFoundation throws, and a failed open closes the file.
        // Every entry inside the bytes, or ZIPFoundation reads past the end forever (``ZIPBounds``).
        guard ZIPBounds.check(data) else { throw DocDiffError.docxNotAZipArchive }
        let file = try ArchiveFile(data)
        defer { file.remove() }
        let archive: Archive
        do {
            archive = try Archive(url: file.url, accessMode: .read)
        } catch {
            throw DocDiffError.docxNotAZipArchive
        }
        guard let entry = archive["word/document.xml"] else {
            throw DocDiffError.docxMissingDocumentXML
        }
        if entry.uncompressedSize > Int64(maximumXMLBytes) { throw DocDiffError.docxTooLarge(limit: maximumXMLBytes) }
        struct PastTheLimit: Error {}
        var xml = Data()
        do {
            _ = try archive.extract(entry, bufferSize: 1 << 16, skipCRC32: false) { chunk in
                if xml.count + chunk.count > maximumXMLBytes { throw PastTheLimit() }
                xml.append(chunk)
            }
        } catch is PastTheLimit {
            throw DocDiffError.docxTooLarge(limit: maximumXMLBytes)
        } catch {
            throw DocDiffError.docxNotAZipArchive
        }
        return try parseDocumentXML(xml)
    }

    /// Returns the document's text: paragraphs joined by newlines, with a final newline.
    public static func text(from data: Data, maximumXMLBytes: Int = InputLimits.default.maximumBytes) throws -> String {
        let paras = try paragraphs(from: data, maximumXMLBytes: maximumXMLBytes)
        return paras.isEmpty ? "" : paras.joined(separator: "\n") + "\n"
    }

    /// Parses the XML of `word/document.xml` into paragraphs, feeding the parser in chunks
    /// (a single-chunk parse stops at libxml2's 10 MB look-up limit).
    public static func parseDocumentXML(_ xml: Data) throws -> [String] {
        let parser = XMLParser(stream: InputStream(data: xml))
        let collector = ParagraphCollector()
        parser.shouldProcessNamespaces = true
        parser.delegate = collector
        let ok = parser.parse()
        if !ok || collector.failure != nil {
            let detail = collector.failure ?? parser.parserError.map { "\($0)" } ?? "unknown parse error"
            throw DocDiffError.docxMalformedXML(detail: detail)
        }
        if !collector.sawDocument {
            throw DocDiffError.docxMalformedXML(detail: "no w:document root element")
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
