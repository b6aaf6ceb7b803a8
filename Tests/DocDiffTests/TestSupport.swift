import Foundation

/// Deterministic SplitMix64 generator for reproducible random tests.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixtures {
    static let vocabulary = ["alpha", "beta", "gamma", "delta", "the", "party", "shall", "notice", "{", "}", "", "return x;"]

    /// A random document of lines drawn from a small vocabulary (so lines repeat).
    static func randomLines(_ rng: inout SeededRNG, count: Int) -> [String] {
        (0..<count).map { _ in
            let n = Int.random(in: 0...3, using: &rng)
            return (0..<n).map { _ in vocabulary.randomElement(using: &rng)! }.joined(separator: " ")
        }
    }

    /// Applies random deletions, insertions, replacements and moves.
    static func edit(_ lines: [String], _ rng: inout SeededRNG) -> [String] {
        var out = lines
        let edits = Int.random(in: 0...max(1, lines.count / 3), using: &rng)
        for _ in 0..<edits {
            let r = Int.random(in: 0..<4, using: &rng)
            let pos = out.isEmpty ? 0 : Int.random(in: 0..<out.count, using: &rng)
            switch r {
            case 0: if !out.isEmpty { out.remove(at: pos) }
            case 1: out.insert(randomLines(&rng, count: 1)[0], at: pos)
            case 2: if !out.isEmpty { out[pos] = randomLines(&rng, count: 1)[0] }
            default:
                if out.count > 2 { let l = out.remove(at: pos); out.insert(l, at: Int.random(in: 0..<out.count, using: &rng)) }
            }
        }
        return out
    }

    /// Joins lines, with or without a final newline.
    static func join(_ lines: [String], trailingNewline: Bool) -> String {
        if lines.isEmpty { return "" }
        return lines.joined(separator: "\n") + (trailingNewline ? "\n" : "")
    }
}

enum Shell {
    /// Runs a program, returning (exit status, stdout).
    @discardableResult
    static func run(_ path: String, _ args: [String], stdin: String? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        if let stdin {
            let inPipe = Pipe()
            p.standardInput = inPipe
            try p.run()
            inPipe.fileHandleForWriting.write(Data(stdin.utf8))
            try inPipe.fileHandleForWriting.close()
        } else {
            try p.run()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("docdiff-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws -> String {
        let u = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: u)
        return u.path
    }
    func read(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: url.appendingPathComponent(name)), as: UTF8.self)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
