import ComplianceEngine
import Foundation

/// compliance-bench CORPUS.jsonl PREDICTIONS.jsonl [THRESHOLD]
///
/// Runs the recognisers over every document of a labelled corpus (one JSON object with "text"
/// per line), writes one line of predictions per document ({"entities": [{type, start, end,
/// score}]}, code point offsets), then scans the whole corpus again until at least one CPU
/// second has passed and prints the throughput on this one thread:
/// `documents=N bytes=B passes=P cpu_seconds=S mb_per_s=M`; then checks a 200-clause contract
/// against every pack in PACKS_DIR (if given as the fourth argument), changes one clause and
/// re-checks it: `recheck_full_seconds=F recheck_one_seconds=O recheck_ratio=R`.
let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: compliance-bench CORPUS.jsonl PREDICTIONS.jsonl [THRESHOLD]\n".utf8))
    exit(2)
}
let threshold = arguments.count > 3 ? Double(arguments[3]) ?? 0.5 : 0.5
guard let corpus = try? String(contentsOfFile: arguments[1], encoding: .utf8) else {
    FileHandle.standardError.write(Data("cannot read \(arguments[1])\n".utf8))
    exit(1)
}
var texts: [String] = []
for line in corpus.split(separator: "\n") where !line.isEmpty {
    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let text = object["text"] as? String else {
        FileHandle.standardError.write(Data("a corpus line is not a JSON object with \"text\"\n".utf8))
        exit(1)
    }
    texts.append(text)
}
guard !texts.isEmpty else { FileHandle.standardError.write(Data("empty corpus\n".utf8)); exit(1) }

var output = ""
for text in texts {
    let found = PIIDetector.detect(text, threshold: threshold)
    let entities = found.map { ["type": $0.type.rawValue, "start": $0.start, "end": $0.end, "score": $0.score] as [String: Any] }
    let data = try! JSONSerialization.data(withJSONObject: ["entities": entities])
    output += String(decoding: data, as: UTF8.self) + "\n"
}
try! output.write(toFile: arguments[2], atomically: true, encoding: .utf8)

/// CPU time of this process in seconds.
func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
var buffers = texts.map { Array($0.utf8) }
let totalBytes = buffers.reduce(0) { $0 + $1.count }
var passes = 0
var found = 0
let begin = cpuSeconds()
while cpuSeconds() - begin < 1.0 || passes < 3 {
    for index in buffers.indices {
        found += buffers[index].withUnsafeBufferPointer { PIIDetector.detect($0, threshold: threshold).count }
    }
    passes += 1
}
let elapsed = cpuSeconds() - begin
guard found > 0 else { FileHandle.standardError.write(Data("nothing was found: the scan did not run\n".utf8)); exit(1) }
print("documents=\(texts.count) bytes=\(totalBytes) passes=\(passes) cpu_seconds=\(String(format: "%.3f", elapsed)) mb_per_s=\(String(format: "%.2f", Double(totalBytes * passes) / elapsed / 1e6))")

if arguments.count > 4 {
    let directory = arguments[4]
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()) ?? []
    let packs = files.compactMap { try? PackLoader.load(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)))) }
    guard !packs.isEmpty, packs.count == files.count else { FileHandle.standardError.write(Data("packs in \(directory) did not load\n".utf8)); exit(1) }
    var clauses = (1...200).map { "\($0). The supplier shall deliver item \($0) to the office of Anna Schmidt (anna.schmidt@example.com, +49 30 1234567\($0 % 10)) within thirty (30) days of the order; invoices are payable to DE89 3704 0044 0532 0130 00 within 14 days.\n" }
    let original = clauses.joined()
    clauses[100] = "101. Either party may terminate this agreement on 10 days notice.\n"
    let changed = clauses.joined()
    let rounds = 20
    var start = cpuSeconds()
    var previous: [ClauseFindings] = []
    for _ in 0..<rounds { previous = PackChecker.recheck(original, previous: [], packs: packs).clauses }
    let full = (cpuSeconds() - start) / Double(rounds)
    start = cpuSeconds()
    var checked = 0
    for _ in 0..<rounds { checked = PackChecker.recheck(changed, previous: previous, packs: packs).checked }
    let one = (cpuSeconds() - start) / Double(rounds)
    guard checked == 1 else { FileHandle.standardError.write(Data("the re-check checked \(checked) clauses, not 1\n".utf8)); exit(1) }
    print("recheck_full_seconds=\(String(format: "%.5f", full)) recheck_one_seconds=\(String(format: "%.5f", one)) recheck_ratio=\(String(format: "%.4f", one / full))")
}
