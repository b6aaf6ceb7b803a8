import Foundation
import TimetableSolver

/// Benchmark: solves ITC2007 Track 3 instances and prints a Markdown table against the best-known costs.
/// Exit status: 0 when every instance was solved with no hard violation; 3 (target missed) when a
/// solution still breaks a hard constraint; 1 when an instance could not be read or solved at all.
let bestKnown: [String: Int] = [
    "comp01": 5, "comp02": 24, "comp03": 66, "comp04": 35, "comp05": 290, "comp06": 27, "comp07": 6,
    "comp08": 37, "comp09": 96, "comp10": 4, "comp11": 0, "comp12": 300, "comp13": 59, "comp14": 51,
    "comp15": 66, "comp16": 18, "comp17": 56, "comp18": 62, "comp19": 57, "comp20": 4, "comp21": 75,
]

/// Writes a line to standard output without buffering.
func say(_ s: String) { FileHandle.standardOutput.write((s + "\n").data(using: .utf8)!) }

var dir = "/work/shared/datasets/itc2007-cbctt"
var seconds = 60.0
var only: [String]? = nil
var threads = 1
var seed: UInt64 = 1
var outDir: String? = nil
var t0 = SolverOptions().initialTemperature
var t1 = SolverOptions().finalTemperature
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    func value() -> String {
        guard !args.isEmpty else { FileHandle.standardError.write("missing value for \(a)\n".data(using: .utf8)!); exit(2) }
        return args.removeFirst()
    }
    switch a {
    case "--dir": dir = value()
    case "--seconds": seconds = Double(value()) ?? 60
    case "--only": only = value().split(separator: ",").map(String.init)
    case "--threads": threads = Int(value()) ?? 1
    case "--seed": seed = UInt64(value()) ?? 1
    case "--out": outDir = value()
    case "--t0": t0 = Double(value()) ?? t0
    case "--t1": t1 = Double(value()) ?? t1
    case "-h", "--help":
        say("usage: timetable-bench --dir DIR --seconds 60 [--only comp01,...] [--threads 1] [--seed 1] [--out DIR] [--t0 2.0] [--t1 0.05]")
        exit(0)
    default:
        FileHandle.standardError.write("unknown argument \(a)\n".data(using: .utf8)!); exit(2)
    }
}

let names = only ?? (1...21).map { String(format: "comp%02d", $0) }
say("Time limit: \(seconds) s per instance, threads: \(threads), seed: \(seed)\n")
say("| instance | hard | soft | best-known | ratio | moves |")
say("|---|---:|---:|---:|---:|---:|")
var logSum = 0.0
var count = 0
var failures: [String] = []
var infeasible: [String] = []
for name in names {
    let path = "\(dir)/\(name).ctt"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        say("| \(name) | – | – | – | file not found | – |")
        failures.append("\(name): no readable file \(path)")
        continue
    }
    do {
        let instance = try CTTParser.parse(text)
        try instance.checkConsistency()
        let result = solve(instance, options: SolverOptions(timeLimit: seconds, seed: seed, threads: threads, initialTemperature: t0, finalTemperature: t1))
        let check = validate(result.timetable, instance)
        let best = bestKnown[name] ?? 0
        let ratio = Double(check.softCost + 1) / Double(best + 1)
        logSum += log(ratio); count += 1
        if check.hardViolations > 0 { infeasible.append("\(name) (\(check.hardViolations) hard violations)") }
        say("| \(name) | \(check.hardViolations) | \(check.softCost) | \(best) | \(String(format: "%.2f", ratio)) | \(result.moves) |")
        if let outDir {
            try? SolutionFormat.write(result.timetable, for: instance).write(toFile: "\(outDir)/\(name).sol", atomically: true, encoding: .utf8)
        }
        if let e = result.explanation { FileHandle.standardError.write("\(name): \(e.summary)\n".data(using: .utf8)!) }
    } catch {
        say("| \(name) | error | \(error) | – | – | – |")
        failures.append("\(name): \(error)")
    }
}
if names.isEmpty { failures.append("no instance named") }
if !failures.isEmpty {
    FileHandle.standardError.write("timetable-bench: not solved: \(failures.joined(separator: "; "))\n".data(using: .utf8)!)
    exit(1)
}
say("\nGeometric mean of ratios: \(String(format: "%.3f", exp(logSum / Double(count)))) over \(count) instances")
if !infeasible.isEmpty {
    say("TARGET MISSED: a feasible timetable (no hard violation) for every instance; infeasible: \(infeasible.joined(separator: ", "))")
    exit(3)
}
