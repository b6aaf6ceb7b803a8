import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP relay a test owns, in front of a server: it forwards bytes both ways until
/// ``stall()``, after which the connections it holds stay open but carry nothing more in either
/// direction (no FIN, no RST: what a client sees of a server that vanished while its peer's
/// kernel still acknowledges bytes). Connections accepted after ``stall()`` are forwarded
/// normally, so a client that drops the stalled connection and connects again gets through.
public final class StallingRelay: @unchecked Sendable {
    /// The loopback port clients connect to.
    public let port: Int
    private let upstream: Int
    private let listener: Int32
    private let lock = NSLock()
    private var pairs: [(client: Int32, server: Int32, stalled: Bool)] = []
    private var stopped = false

    /// Listens on a free loopback port, forwarding to `127.0.0.1:upstreamPort`.
    public init(upstreamPort: Int) throws {
        upstream = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw NSError(domain: "relay", code: Int(errno))
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// `url` (a `postgresql://…@127.0.0.1:<upstream>/…` URL of the relayed server) pointed at
    /// this relay instead.
    public func relaying(_ url: String, upstreamPort: Int) -> String {
        url.replacingOccurrences(of: "127.0.0.1:\(upstreamPort)/", with: "127.0.0.1:\(port)/")
    }

    /// From now on the connections open now carry no byte in either direction (and stay open).
    public func stall() {
        lock.lock()
        for index in pairs.indices { pairs[index].stalled = true }
        lock.unlock()
    }

    /// How many connections the relay has accepted.
    public var accepted: Int {
        lock.lock()
        defer { lock.unlock() }
        return pairs.count
    }

    /// Closes the listener and every connection.
    public func stop() {
        lock.lock()
        stopped = true
        let open = pairs
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for pair in open {
            shutdown(pair.client, Int32(SHUT_RDWR))
            shutdown(pair.server, Int32(SHUT_RDWR))
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstream)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            lock.lock()
            let index = pairs.count
            pairs.append((client, server, false))
            let done = stopped
            lock.unlock()
            if done { return }
            Thread.detachNewThread { [self] in pump(index) }
        }
    }

    /// Copies bytes both ways for pair `index` until either side closes or the relay stops;
    /// while the pair is stalled it reads and writes nothing.
    private func pump(_ index: Int) {
        lock.lock()
        let (client, server, _) = pairs[index]
        lock.unlock()
        defer {
            close(client)
            close(server)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            lock.lock()
            let (stalled, done) = (pairs[index].stalled, stopped)
            lock.unlock()
            if done { return }
            if stalled {
                usleep(50_000)
                continue
            }
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 50) >= 0 || errno == EINTR else { return }
            for (from, to) in [(0, 1), (1, 0)] where fds[from].revents != 0 {
                let count = read(fds[from].fd, &buffer, buffer.count)
                guard count > 0 else { return }
                var written = 0
                while written < count {
                    let sent = buffer[written..<count].withUnsafeBytes { send(fds[to].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    guard sent > 0 else { return }
                    written += sent
                }
            }
        }
    }
}
