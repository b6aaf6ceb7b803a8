import PlexusRuntime

// In-process bus throughput: one subscriber, 64-byte payloads, best of five runs.
let events = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 2_000_000
var best = 0.0
for run in 1...5 {
    let rate = BusBenchmark.inProcess(events: events, payloadBytes: 64)
    best = max(best, rate)
    print("run \(run): \(Int(rate)) events/s")
}
print("in-process publish to one subscriber, 64-byte payload: best \(Int(best)) events/s (target 2000000)")
