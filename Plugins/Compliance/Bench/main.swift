import ComplianceEngine
import Foundation

/// compliance-bench CORPUS.jsonl PREDICTIONS.jsonl [THRESHOLD]
///
/// Runs the recognisers over every document of a labelled corpus (one JSON object with "text"
/// per line), writes one line of predictions per document ({"entities": [{type, start, end,
/// score}]}, code point offsets), then scans the whole corpus again until at least one CPU
/// second has passed and prints the throughput on this one thread:
/// `documents=N bytes=B passes=P cpu_seconds=S mb_per_s=M`.
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
