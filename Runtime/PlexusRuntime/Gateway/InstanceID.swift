import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// This installation's random instance id: 16 hex digits made once and kept in the data
/// directory (`runtime/instance-id`). Unlike the host name and the data directory's path, it
/// differs between containers that share both (a fixed `hostname:` and one image), and it stays
/// the same across restarts and host renames.
public enum InstanceID {
    static func file(in dataDirectory: URL) -> URL {
        dataDirectory.appendingPathComponent("runtime").appendingPathComponent("instance-id")
    }

    /// The id stored in `dataDirectory`, made (with `O_EXCL`: two processes starting together on
    /// one directory agree) when there is none. A file that does not hold 16 lowercase hex digits
    /// is an error naming it, not replaced: the admin key's name depends on it.
    public static func load(in dataDirectory: URL) throws -> String {
        let url = file(in: dataDirectory)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let made = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if descriptor >= 0 {
            let bytes = Array((made + "\n").utf8)
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            let synced = fsync(descriptor)
            close(descriptor)
            guard written == bytes.count, synced == 0 else {
                unlink(url.path)
                throw RuntimeError.dataDirectory("cannot write the instance id to \(url.path): \(String(cString: strerror(errno)))")
            }
            return made
        }
        guard errno == EEXIST else {
            throw RuntimeError.dataDirectory("cannot create the instance id file \(url.path): \(String(cString: strerror(errno)))")
        }
        // Another process may have created it a moment ago and not written it yet.
        for _ in 0..<100 {
            let text = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if isValid(text) { return text }
            if !text.isEmpty { break }
            usleep(10_000)
        }
        throw RuntimeError.dataDirectory("\(url.path) does not hold an instance id (16 lowercase hex digits); remove it to make a new one")
    }

    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
