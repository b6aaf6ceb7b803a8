import Foundation
import WhiteLabelEngine

// whitelabel-bench [EVALUATIONS]: the flag helper's local evaluation (FlagTable, the code
// FlagCache runs) for a flag with a 3-condition constraint and a 40% rollout, over 4096
// distinct users, timed in this thread's CPU time (the machine is shared: wall time is noisier); then the 25% rollout over 100,000 user ids and its raise to 50%.
// The contexts are built before the clock starts, as a caller builds one per request and
// evaluates it against many flags: building one reads its appVersion as a version, once. Each
// evaluation still copies its context out of the array (as a caller holding one would not).
// Prints key=value lines; exit 1 when the work did not happen or a property fails.
let evaluations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5_000_000 : 5_000_000
var table = FlagTable()
let flag = FlagDefinition(name: "new-checkout", enabled: true, strategies: [
    Strategy(name: "gradualRollout", percentage: 40, constraints: [
        Constraint(contextName: "plan", operator: .in, values: ["pro", "enterprise"]),
        Constraint(contextName: "appVersion", operator: .semverGt, value: "2.0.0"),
        Constraint(contextName: "properties.country", operator: .in, values: ["NO", "SE", "DK", "FI"]),
    ]),
])
table.replace(tenant: "acme", plan: "pro", definitions: [flag])
let countries = ["NO", "SE", "DE", "DK"]
let contexts = (0..<4096).map { FlagContext(userId: "user-\($0)", appVersion: "2.\($0 % 5).0", properties: ["country": countries[$0 % 4]]) }
// By name (two lookups per evaluation), then through a handle (FlagCache.handle; no lookup).
var on = 0
/// This thread's CPU time in seconds.
func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
// The timed loops live in functions: top-level variables of main.swift are globals, which the
// compiler copies out (a whole FlagContext per call) before every call that could touch them.
func timedByName(_ table: FlagTable, _ contexts: [FlagContext], _ count: Int) -> (on: Int, seconds: Double) {
    contexts.withUnsafeBufferPointer { contexts in
        var on = 0
        let start = cpuSeconds()
        for index in 0..<count where table.evaluate("new-checkout", tenant: "acme", context: contexts[index & 4095], now: 0).enabled {
            on += 1
        }
        return (on, cpuSeconds() - start)
    }
}
func timedByHandle(_ handle: FlagHandle, _ contexts: [FlagContext], _ count: Int) -> (on: Int, seconds: Double) {
    contexts.withUnsafeBufferPointer { contexts in
        var on = 0
        let start = cpuSeconds()
        // Read in place (a pointer's addressor lends the element; an array subscript copies it).
        for index in 0..<count where handle.evaluate(contexts[index & 4095], now: 0).enabled {
            on += 1
        }
        return (on, cpuSeconds() - start)
    }
}
var seconds: Double
(on, seconds) = timedByName(table, contexts, evaluations)
guard on > 0, on < evaluations else { print("no evaluation came out on (or all did): the work did not happen"); exit(1) }
print("by_name evaluations=\(evaluations) on=\(on) seconds=\(String(format: "%.3f", seconds)) per_second_by_name=\(Int(Double(evaluations) / seconds))")
let handle = table.handle("new-checkout", tenant: "acme")
var onHandle = 0
(onHandle, seconds) = timedByHandle(handle, contexts, evaluations)
guard onHandle == on else { print("the handle gave \(onHandle) on, by name \(on): the evaluations differ"); exit(1) }
print("handle evaluations=\(evaluations) on=\(onHandle) seconds=\(String(format: "%.3f", seconds)) per_second=\(Int(Double(evaluations) / seconds))")

func rollout(_ percentage: Double) -> CompiledFlag {
    try! CompiledFlag(FlagDefinition(name: "rollout", enabled: true, strategies: [Strategy(name: "gradualRollout", percentage: percentage)]))
}
let quarter = rollout(25), half = rollout(50)
var had = 0, lost = 0
for index in 0..<100_000 {
    let context = FlagContext(userId: "user-\(index)")
    let before = quarter.evaluate(context, now: 0).enabled
    if before { had += 1 }
    if before && !half.evaluate(context, now: 0).enabled { lost += 1 }
}
let share = Double(had) / 1000
print("rollout25_percent=\(String(format: "%.3f", share)) lost_at_50=\(lost)")
if abs(share - 25) > 0.5 || lost > 0 { print("PROPERTY FAILED: 25% rollout gave \(share)%, \(lost) users lost the flag at 50%"); exit(1) }
