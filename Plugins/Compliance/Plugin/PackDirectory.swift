import ComplianceEngine
import Foundation

/// Loads every `*.json` pack of a directory (blocking: call it off the loop).
enum PackDirectory {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ path: String) throws -> [String: RulePack] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [:] }
        var packs: [String: RulePack] = [:]
        for name in names.sorted() where name.hasSuffix(".json") {
            let file = (path as NSString).appendingPathComponent(name)
            do {
                let pack = try PackLoader.load(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
                packs[pack.id] = pack
            } catch {
                throw Failure(description: "rule pack \(file) was refused: \(error)")
            }
        }
        return packs
    }
}
