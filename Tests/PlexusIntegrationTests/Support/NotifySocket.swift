import Foundation
import Glibc
import PlexusTesting

/// A `NOTIFY_SOCKET` as systemd listens on it: an `AF_UNIX` datagram socket (a path, or an
/// abstract name when `abstract`), with `SO_PASSCRED` so each message carries its sender's pid.
final class NotifySocket {
    /// One datagram: its `KEY=VALUE` lines and the sending process.
    struct Message {
        let assignments: [String: String]
        let lines: [String]
        let pid: pid_t
    }

    /// The value for `NOTIFY_SOCKET` (`/path` or `@name`).
    let name: String
    private let fd: Int32
    private let path: String?
    /// Every message received so far, in order.
    private(set) var received: [Message] = []

    init(abstract: Bool) throws {
        let unique = "plexus-notify-\(getpid())-\(UUID().uuidString.prefix(8))"
        path = abstract ? nil : FileManager.default.temporaryDirectory.appendingPathComponent(unique).path
        name = path ?? "@\(unique)"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            for (index, byte) in bytes.enumerated() { target[index] = byte }
            if abstract { target[0] = 0 }
        }
        let length = socklen_t(2 + bytes.count + (abstract ? 0 : 1))
        let status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard status == 0 else { throw TestFailure("bind \(name): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// Receives messages until one satisfies `predicate` (returned) or `seconds` pass (nil).
    func waitFor(seconds: Double = 20, _ predicate: (Message) -> Bool) -> Message? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let message = receive(timeoutMilliseconds: 100) else { continue }
            received.append(message)
            if predicate(message) { return message }
        }
        return nil
    }

    private func receive(timeoutMilliseconds: Int32) -> Message? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { return nil }
        var data = [UInt8](repeating: 0, count: 4096)
        var control = [UInt8](repeating: 0, count: 64)
        let count = data.withUnsafeMutableBytes { dataBytes in
            control.withUnsafeMutableBytes { controlBytes -> Int in
                var vector = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var header = msghdr()
                    header.msg_iov = vectorPointer
                    header.msg_iovlen = 1
                    header.msg_control = controlBytes.baseAddress
                    header.msg_controllen = controlBytes.count
                    return recvmsg(fd, &header, 0)
                }
            }
        }
        guard count > 0 else { return nil }
        // One cmsghdr (size_t len, int level, int type) followed by struct ucred (pid, uid, gid).
        let level = control.withUnsafeBytes { $0.load(fromByteOffset: 8, as: Int32.self) }
        let type = control.withUnsafeBytes { $0.load(fromByteOffset: 12, as: Int32.self) }
        let pid = level == SOL_SOCKET && type == 2 /* SCM_CREDENTIALS */ ? control.withUnsafeBytes { $0.load(fromByteOffset: 16, as: Int32.self) } : -1
        let lines = String(decoding: data[..<count], as: UTF8.self).split(separator: "\n").map(String.init)
        var assignments: [String: String] = [:]
        for line in lines {
            guard let equals = line.firstIndex(of: "=") else { continue }
            assignments[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return Message(assignments: assignments, lines: lines, pid: pid)
    }
}
