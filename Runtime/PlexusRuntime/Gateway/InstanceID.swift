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

    /// The id stored in `dataDirectory`, made when there is none: written whole to a temporary
    /// file, synced, then linked into place (`link(2)` fails with `EEXIST` rather than replace, so
    /// two processes starting together on one directory agree, and a crash never leaves a
    /// half-written id). A file that does not hold 16 lowercase hex digits is an error naming it,
    /// not replaced: the admin key's name depends on it.
    public static func load(in dataDirectory: URL) throws -> String {
        let url = file(in: dataDirectory)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let existing = try stored(at: url) { return existing }
        let made = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let temporary = url.path + ".\(getpid()).\(made).tmp"
        defer { unlink(temporary) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw RuntimeError.dataDirectory("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((made + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        let failure = errno
        close(descriptor)
        guard written == bytes.count, synced == 0 else {
            throw RuntimeError.dataDirectory("cannot write the instance id to \(temporary): \(String(cString: strerror(failure)))")
        }
        if link(temporary, url.path) == 0 { return made }
        let linkFailure = errno
        // Another process linked its id first: that one counts.
        if linkFailure == EEXIST, let existing = try stored(at: url) { return existing }
        throw RuntimeError.dataDirectory("cannot put the instance id in place at \(url.path): \(String(cString: strerror(linkFailure)))")
    }

    /// The id in `url`; nil when there is no such file; an error naming the file when it holds
    /// anything else.
    private static func stored(at url: URL) throws -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard isValid(text) else {
            throw RuntimeError.dataDirectory("\(url.path) does not hold an instance id (16 lowercase hex digits); remove it to make a new one")
        }
        return text
    }

    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
