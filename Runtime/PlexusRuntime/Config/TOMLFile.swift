import Foundation
import PlexusTOML

/// Reads a TOML file into a flat table of dotted keys, with errors that name the file and line.
enum TOMLFile {
    /// The flattened contents of `url`: `[server] listen = "x"` becomes `"server.listen": "x"`.
    static func flatten(contentsOf url: URL) throws -> [String: String] {
        guard let text = UTF8File.read(url) else {
            throw RuntimeError.config("\(url.path): cannot be read as UTF-8 text")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw RuntimeError.config("\(url.path):\(error.line):\(error.column): \(error.message)")
        }
        var flat: [String: String] = [:]
        flatten(table, prefix: "", into: &flat)
        return flat
    }

    private static func flatten(_ table: TOMLTable, prefix: String, into flat: inout [String: String]) {
        for key in table.keys {
            guard let value = table[key] else { continue }
            let path = prefix.isEmpty ? key : prefix + "." + key
            if let nested = value.table {
                flatten(nested, prefix: path, into: &flat)
            } else {
                flat[path] = text(of: value)
            }
        }
    }

    private static func text(of value: TOMLValue) -> String {
        if let string = value.string { return string }
        if let int = value.int { return String(int) }
        if let bool = value.bool { return String(bool) }
        if let double = value.double { return String(double) }
        if let array = value.array { return array.map { text(of: $0) }.joined(separator: ",") }
        if let datetime = value.datetime { return datetime }
        return "\(value)"
    }
}
