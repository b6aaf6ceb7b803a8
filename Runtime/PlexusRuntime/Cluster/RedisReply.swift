import CHiredis

/// One reply from Redis, copied out of hiredis's reply tree (which hiredis frees after the callback).
enum RedisReply: Equatable, CustomStringConvertible {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    init(_ reply: UnsafePointer<redisReply>) {
        let value = reply.pointee
        func bytes() -> [UInt8] {
            guard let str = value.str, value.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: Int(value.len)))
        }
        switch value.type {
        case REDIS_REPLY_STATUS: self = .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: self = .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: self = .integer(value.integer)
        case REDIS_REPLY_STRING: self = .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { items.append(RedisReply(element)) } else { items.append(.null) }
            }
            self = .array(items)
        default: self = .null
        }
    }

    /// A bulk or status reply as text.
    var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    var array: [RedisReply]? { if case .array(let items) = self { items } else { nil } }
    var bytes: [UInt8]? { if case .bulk(let bytes) = self { bytes } else { nil } }
    var errorText: String? { if case .error(let text) = self { text } else { nil } }

    var description: String {
        switch self {
        case .status(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let bytes): "$\(String(decoding: bytes.prefix(80), as: UTF8.self))"
        case .null: "(nil)"
        case .array(let items): "[\(items.map(\.description).joined(separator: ", "))]"
        }
    }
}

/// Why a command has no usable reply: Redis is unreachable, timed out, or answered with an error.
struct RedisFailure: Error, CustomStringConvertible {
    let description: String
    /// Whether the connection (not the command) failed: a 503 for the client, retried later.
    let unreachable: Bool

    static func unreachable(_ why: String) -> RedisFailure { RedisFailure(description: why, unreachable: true) }
    static func replied(_ error: String) -> RedisFailure { RedisFailure(description: "Redis answered: \(error)", unreachable: false) }
}
