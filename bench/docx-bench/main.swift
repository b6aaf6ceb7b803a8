// docx-bench [PARAGRAPHS=20000] [ROUNDS=5]
//   Times DocDiff's .docx reader (libzip + libxml2) against the reader it replaced (ZIPFoundation
//   + FoundationXML, PreviousReader.swift) on the same generated .docx, in one run: the best and
//   the median of ROUNDS reads each, the ratio new/previous, and whether both read the same
//   paragraphs. Exit 1 when either read nothing or they disagree; 3 when the new reader's best is
//   slower than the previous one's (the target: not slower).
import DocDiff
import Foundation
import ZIPFoundation

func fail(_ message: String, _ code: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

let arguments = CommandLine.arguments.dropFirst().map { Int($0) }
guard arguments.allSatisfy({ ($0 ?? 0) > 0 }) else { fail("usage: docx-bench [PARAGRAPHS] [ROUNDS] (whole numbers above 0)", 2) }
let paragraphs = arguments.first.flatMap { $0 } ?? 20_000
let rounds = arguments.dropFirst().first.flatMap { $0 } ?? 5

/// A .docx with `count` varied contract-like paragraphs: runs, tabs, breaks, a deleted run, entities.
func makeDocx(_ count: Int) throws -> (docx: Data, xmlBytes: Int) {
    var xml = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>"#
    for i in 0..<count {
        xml += "<w:p><w:pPr><w:pStyle w:val=\"Body\"/></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t>\(i + 1).</w:t></w:r><w:r><w:tab/>"
        xml += "<w:t xml:space=\"preserve\">The Supplier shall deliver the Goods &amp; Services within \(i % 90 + 1) days </w:t></w:r>"
        xml += "<w:del w:id=\"\(i)\"><w:r><w:delText>of the order</w:delText></w:r></w:del>"
        xml += "<w:r><w:t>of receipt of a purchase order (clause \(i % 17).\(i % 5)), ÜNÏCØDÉ ✓.</w:t>"
        if i % 10 == 0 { xml += "<w:br/><w:t>Second line.</w:t>" }
        xml += "</w:r></w:p>"
    }
    xml += "<w:sectPr/></w:body></w:document>"
    let bytes = Data(xml.utf8)
    let archive = try Archive(data: Data(), accessMode: .create)
    try archive.addEntry(with: "word/document.xml", type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
        bytes.subdata(in: Int(position)..<(Int(position) + size))
    }
    guard let data = archive.data else { fail("docx-bench: could not build the .docx", 1) }
    return (data, bytes.count)
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Best and median CPU seconds of `rounds` calls, and the last result.
func time(_ body: () throws -> [String]) rethrows -> (best: Double, median: Double, result: [String]) {
    var samples: [Double] = []
    var result: [String] = []
    for _ in 0..<rounds {
        let start = cpuSeconds()
        result = try body()
        samples.append(cpuSeconds() - start)
    }
    samples.sort()
    return (samples[0], samples[samples.count / 2], result)
}

do {
    let (docx, xmlBytes) = try makeDocx(paragraphs)
    print("docx-bench: \(paragraphs) paragraphs, word/document.xml \(xmlBytes) bytes, .docx \(docx.count) bytes, \(rounds) rounds (CPU seconds)")
    let new = try time { try DocxReader.paragraphs(from: docx, maximumXMLBytes: 256 << 20) }
    let previous = try time { try PreviousDocxReader.paragraphs(from: docx, maximumXMLBytes: 256 << 20) }
    print(String(format: "libzip + libxml2 (new):             best %.4f s  median %.4f s  %.1f MB/s", new.best, new.median, Double(xmlBytes) / new.best / 1e6))
    print(String(format: "ZIPFoundation + FoundationXML (was): best %.4f s  median %.4f s  %.1f MB/s", previous.best, previous.median, Double(xmlBytes) / previous.best / 1e6))
    print(String(format: "ratio new/previous (best): %.2fx", new.best / previous.best))
    guard new.result.count == paragraphs + 0, !new.result.isEmpty else { fail("docx-bench: the new reader read \(new.result.count) paragraphs, not \(paragraphs)", 1) }
    guard new.result == previous.result else { fail("docx-bench: the readers disagree (first difference at paragraph \(Array(zip(new.result, previous.result)).firstIndex { $0.0 != $0.1 } ?? min(new.result.count, previous.result.count)))", 1) }
    print("same paragraphs: yes (\(new.result.count))")
    if new.best > previous.best { print("TARGET MISSED: the new reader is slower than the previous one"); exit(3) }
} catch {
    fail("docx-bench: \(error)", 1)
}
