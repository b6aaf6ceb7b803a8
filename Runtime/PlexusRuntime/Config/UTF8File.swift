#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads an operator's text file (a TOML config, a native manifest) with `read(2)`.
///
/// Foundation's file readers (`String(contentsOf:)`, `Data(contentsOf:)`,
/// `FileManager.contents(atPath:)`, Swift 6.3.1 on Linux) leak a 4 KB buffer each time they read
/// an empty file; an empty plugin config is common and is read again at every reload. Found by
/// the `runtime-config` fuzz harness (its first input is empty).
enum UTF8File {
    /// The largest file read; config files and manifests are far smaller.
    static let maxBytes = 16 << 20

    /// The file's text; nil when it cannot be opened or read, is larger than ``maxBytes``, or is not UTF-8.
    static func read(_ url: URL) -> String? {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { return nil }
            if got == 0 { break }
            bytes += buffer[0..<got]
            if bytes.count > maxBytes { return nil }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
