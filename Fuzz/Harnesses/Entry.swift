#if canImport(Glibc)
import Glibc
#endif

/// One fuzz harness: a name (`scripts/fuzz.sh NAME`) and what it does with one input.
///
/// A harness must not crash, trap, leak or hang on any input: every refusal is a thrown error
/// that it catches. libFuzzer and the address sanitizer report everything else.
struct Harness {
    let name: String
    /// What the input is, for `plexus-fuzz --list`.
    let summary: String
    let run: (UnsafeRawBufferPointer) -> Void
}

/// Every harness, in the order `scripts/fuzz.sh all` runs them.
let harnesses: [Harness] = LiveHarnesses.all + ProtocolHarnesses.all + AuthHarnesses.all + ConfigHarnesses.all + EngineHarnesses.all

/// The harness this process runs: the first argument (consumed here, before libFuzzer reads
/// its own flags) or `PLEXUS_FUZZ_TARGET`.
nonisolated(unsafe) var selected: Harness?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    var name = getenv("PLEXUS_FUZZ_TARGET").map { String(cString: $0) }
    let args = argv.pointee
    if argc.pointee > 1, let first = args[1], first.pointee != CChar(UInt8(ascii: "-")) {
        let candidate = String(cString: first)
        if candidate == "list" || harnesses.contains(where: { $0.name == candidate }) {
            name = candidate
            // Drop it so libFuzzer sees only its own flags and corpus directories.
            for index in 1..<Int(argc.pointee) { args[index] = args[index + 1] }
            argc.pointee -= 1
        }
    }
    if name == "list" {
        for harness in harnesses { print("\(harness.name)\t\(harness.summary)") }
        exit(0)
    }
    guard let name, let harness = harnesses.first(where: { $0.name == name }) else {
        let names = harnesses.map(\.name).joined(separator: " ")
        fputs("plexus-fuzz: name a harness as the first argument or in PLEXUS_FUZZ_TARGET: \(names)\n", stderr)
        exit(2)
    }
    selected = harness
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected?.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

extension UnsafeRawBufferPointer {
    /// The input as text, invalid UTF-8 repaired (parsers of text take a `String`).
    var text: String { String(decoding: self, as: UTF8.self) }
    var bytes: [UInt8] { Array(self) }
}
