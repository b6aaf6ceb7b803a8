import Foundation
import PlexusRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for the runtime's loopback admin endpoint.
enum AdminClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The admin key the runtime wrote to `<data>/admin.key`.
    static func adminKey(dataDirectory: String) throws -> String {
        let file = URL(fileURLWithPath: dataDirectory).appendingPathComponent("admin.key")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw Failure(description: "cannot read the admin key \(file.path) (the runtime writes it at its first start; --data names the data directory)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// GETs `path` from `address` (`HOST:PORT`, IPv4) with the admin key and returns the body of a 200 response.
    static func get(_ path: String, from address: String, adminKey: String) throws -> [UInt8] {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw Failure(description: "'\(address)' is not HOST:PORT")
        }
        let host = (try? ListenHost.numeric(String(address[..<colon]))) ?? String(address[..<colon])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &target.sin_addr) == 1 else { throw Failure(description: "'\(host)' is not an IPv4 address") }
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(String(cString: strerror(errno))) (is plexus serving there?)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nAuthorization: Bearer \(adminKey)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw Failure(description: "send failed")
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response.append(contentsOf: chunk[0..<count])
        }
        guard let split = response.firstRange(of: Array("\r\n\r\n".utf8)) else { throw Failure(description: "malformed response") }
        let head = String(decoding: response[..<split.lowerBound], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 200") else {
            throw Failure(description: "answered '\(head.split(separator: "\r\n").first ?? "")'")
        }
        return Array(response[split.upperBound...])
    }
}
