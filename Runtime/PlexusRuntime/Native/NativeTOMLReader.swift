import Foundation
import PlexusTOML

/// Typed reads of one table of a native manifest, each refusal naming the key and the fix.
struct NativeTOMLReader {
    let table: TOMLTable
    /// Where the table is (`functions[2].params[0]`), for messages; empty at the root.
    let path: String

    init(_ table: TOMLTable, at path: String) {
        self.table = table
        self.path = path
    }

    private func where_(_ key: String) -> String { path.isEmpty ? "'\(key)'" : "'\(key)' in \(path)" }

    /// Refuses keys outside `known` (a misspelt key would otherwise be ignored silently).
    func onlyKeys(_ known: Set<String>) throws {
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw NativeManifestProblem("unknown key \(where_(unknown))", fix: "use one of \(known.sorted().joined(separator: ", "))")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw NativeManifestProblem("\(where_(key)) must be a string", fix: "quote it") }
        return text
    }

    func requiredString(_ key: String) throws -> String {
        guard let text = try string(key), !text.isEmpty else {
            throw NativeManifestProblem("missing \(where_(key))", fix: "add \(key) = \"...\"")
        }
        return text
    }

    func integer(_ key: String) throws -> Int64? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else { throw NativeManifestProblem("\(where_(key)) must be an integer", fix: "write a whole number") }
        return Int64(number)
    }

    func integers(_ key: String) throws -> [Int64] {
        guard let value = table[key] else { return [] }
        guard let array = value.array, array.allSatisfy({ $0.int != nil }) else {
            throw NativeManifestProblem("\(where_(key)) must be an array of integers", fix: "write e.g. [-1, -2]")
        }
        return array.map { Int64($0.int!) }
    }

    func double(_ key: String) throws -> Double? {
        guard let value = table[key] else { return nil }
        if let number = value.double { return number }
        if let number = value.int { return Double(number) }
        throw NativeManifestProblem("\(where_(key)) must be a number", fix: "write e.g. 1.01")
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw NativeManifestProblem("\(where_(key)) must be true or false", fix: "write true or false") }
        return flag
    }

    func table(_ key: String) throws -> NativeTOMLReader? {
        guard let value = table[key] else { return nil }
        guard let nested = value.table else { throw NativeManifestProblem("\(where_(key)) must be a table", fix: "write \(key) = { ... }") }
        return NativeTOMLReader(nested, at: path.isEmpty ? key : "\(path).\(key)")
    }

    /// An array of tables (`[[functions]]` or `params = [{...}, {...}]`); empty when absent.
    func tables(_ key: String) throws -> [NativeTOMLReader] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else { throw NativeManifestProblem("\(where_(key)) must be an array of tables", fix: "write \(key) = [{ ... }]") }
        return try array.enumerated().map { index, element in
            guard let nested = element.table else {
                throw NativeManifestProblem("\(where_(key)) item \(index) must be a table", fix: "write { name = \"...\", type = \"...\" }")
            }
            return NativeTOMLReader(nested, at: "\(path.isEmpty ? "" : path + ".")\(key)[\(index)]")
        }
    }

    /// A scalar value as a ``NativeValue`` (for defaults).
    func value(_ key: String) -> NativeValue? {
        guard let value = table[key] else { return nil }
        if let flag = value.bool { return .bool(flag) }
        if let number = value.int { return .integer(Int64(number)) }
        if let number = value.double { return .double(number) }
        if let text = value.string { return .string(text) }
        return nil
    }
}
