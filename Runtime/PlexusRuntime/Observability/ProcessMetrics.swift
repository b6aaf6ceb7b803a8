import Foundation
import Glibc

/// The standard `process_*` measures of this process, read from `/proc` (as the Prometheus
/// client libraries define them).
struct ProcessMetrics: Equatable {
    /// User and system CPU time, in seconds.
    var cpuSeconds: Double
    var residentBytes: Double
    var virtualBytes: Double
    var openFileDescriptors: Double
    /// The soft `RLIMIT_NOFILE`.
    var maxFileDescriptors: Double
    /// Unix time the process started, in seconds.
    var startTimeSeconds: Double

    /// Reads `/proc/self/stat`, `/proc/self/fd`, `/proc/stat` (boot time) and `RLIMIT_NOFILE`;
    /// nil when `/proc` is not readable.
    static func read() -> ProcessMetrics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let fields = parseStat(stat) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessMetrics(cpuSeconds: Double(fields.utime + fields.stime) / ticks,
                              residentBytes: Double(fields.rssPages) * pageSize,
                              virtualBytes: Double(fields.vsize),
                              openFileDescriptors: Double(openFDs),
                              maxFileDescriptors: limit.rlim_cur == rlim_t.max ? -1 : Double(limit.rlim_cur),
                              startTimeSeconds: bootTime() + Double(fields.startTicks) / ticks)
    }

    /// The fields of `/proc/<pid>/stat` used here (see proc(5)). The command name, field 2, is in
    /// parentheses and may hold spaces and parentheses itself: fields are counted after the last `)`.
    static func parseStat(_ text: String) -> (utime: UInt64, stime: UInt64, startTicks: UInt64, vsize: UInt64, rssPages: UInt64)? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is index 0, so field N is index N - 3.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ number: Int) -> UInt64? { fields.count > number - 3 ? UInt64(fields[number - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24) else { return nil }
        return (utime, stime, start, vsize, rss)
    }

    /// Boot time (`btime` in `/proc/stat`), in Unix seconds.
    static func bootTime() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let value = Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces)) else { return 0 }
        return value
    }
}
