import PlexusTOML

extension DefinitionParser {
    /// Parses a definition written in TOML (`[[steps]]` tables, inline tables for mappings): it is
    /// turned into the JSON it stands for and checked the same way. A TOML syntax error names the line.
    public func parse(toml text: String) throws -> Definition {
        try parse(Self.json(toml: text))
    }

    /// The JSON value of a TOML document.
    public static func json(toml text: String) throws -> JSON {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw DefinitionError("$", "TOML line \(error.line), column \(error.column): \(error.message)")
        }
        return json(table)
    }

    static func json(_ table: TOMLTable) -> JSON {
        var fields: [String: JSON] = [:]
        for key in table.keys { if let value = table[key] { fields[key] = json(value) } }
        return .object(fields)
    }

    static func json(_ value: TOMLValue) -> JSON {
        if let table = value.table { return json(table) }
        if let array = value.array { return .array(array.map { json($0) }) }
        if let bool = value.bool { return .bool(bool) }
        if let int = value.int { return .number(Double(int)) }
        if let double = value.double { return .number(double) }
        if let string = value.string { return .string(string) }
        if let datetime = value.datetime { return .string(datetime) }
        return .string("\(value)")
    }
}
