// docdiff-bench FILE_A FILE_B [--histogram]
//   Runs the DocDiff line diff as a library call and prints the elapsed seconds and the
//   number of changed lines (deleted + inserted).
// docdiff-bench clauses OLD NEW [OLD NEW ...]
//   Clause comparison of each pair, one JSON object per pair (see ClauseRun).
import DocDiff
import Foundation

func fail(_ message: String, _ code: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

let args = CommandLine.arguments
if args.count >= 2 && args[1] == "clauses" {
    do { try ClauseRun.run(Array(args.dropFirst(2))) } catch { fail("docdiff-bench: \(error)", 1) }
    exit(0)
}
guard args.count >= 3 else {
    fail("usage: docdiff-bench FILE_A FILE_B [--histogram] | docdiff-bench clauses OLD NEW [OLD NEW ...]", 2)
}
let algorithm: DiffAlgorithm = args.dropFirst(3).contains("--histogram") ? .histogram : .myers

let start = now()
do {
    let a = try TextDocument(validating: FileBytes.read(path: args[1]))
    let b = try TextDocument(validating: FileBytes.read(path: args[2]))
    let changed = DocDiff.changedLineCount(old: a.bytes, new: b.bytes, algorithm: algorithm)
    let elapsed = now() - start
    print(String(format: "elapsed %.3f s", elapsed))
    print("changed lines \(changed)")
} catch {
    fail("docdiff-bench: \(error)", 1)
}
