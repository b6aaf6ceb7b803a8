import Foundation
import Glibc

/// Which Swift runtime a plugin would bring into the process.
///
/// A host built with the Swift standard library linked statically (`-static-stdlib`, see
/// `scripts/build-release.sh`) carries its own copy of the Swift runtime. A Swift plugin links
/// the shared one (`libswiftCore.so`); loading it would put two Swift runtimes in one process,
/// each with its own type metadata and conformance caches, which fail in ways nobody can
/// diagnose. So a static host refuses a plugin that needs `libswiftCore.so` before `dlopen`,
/// and loads every plugin that does not (plugins in C or any language without the Swift runtime).
enum SwiftRuntimeLinkage {
    /// Whether this process's Swift runtime is linked in statically (no `libswiftCore.so` is loaded).
    static let hostIsStatic: Bool = dlopen("libswiftCore.so", RTLD_LAZY | RTLD_NOLOAD) == nil

    /// Refuses `file` when this host is static and the plugin needs the shared Swift runtime.
    static func check(_ file: URL, hostIsStatic: Bool = SwiftRuntimeLinkage.hostIsStatic) throws {
        guard hostIsStatic, let data = try? Data(contentsOf: file, options: .mappedIfSafe),
              let needed = neededLibraries(Array(data)), let swift = needed.first(where: { $0.hasPrefix("libswiftCore.so") }) else { return }
        throw PluginLoadError(.swiftRuntimeConflict, "\(file.lastPathComponent): needs the shared Swift runtime (\(swift)), and this plexus has the Swift standard library linked in statically: two Swift runtimes cannot share a process; fix: serve Swift plugins with a plexus built without -static-stdlib (`swift build -c release`) where the Swift runtime is installed, or write the plugin in C")
    }

    /// The `DT_NEEDED` names of a 64-bit little-endian ELF shared object, or nil when `bytes` is
    /// not one or its dynamic section cannot be read (every offset is bounds-checked: the file may
    /// be truncated or hostile).
    static func neededLibraries(_ bytes: [UInt8]) -> [String]? {
        func u16(_ at: Int) -> Int? { at >= 0 && at + 2 <= bytes.count ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : nil }
        func u32(_ at: Int) -> UInt64? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return (0..<4).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
        }
        func u64(_ at: Int) -> UInt64? {
            guard at >= 0, at + 8 <= bytes.count else { return nil }
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
        }
        func offset(_ value: UInt64?) -> Int? { value.flatMap { $0 <= UInt64(Int32.max) ? Int($0) : nil } }
        guard bytes.count >= 64, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46,
              bytes[4] == 2 /* ELFCLASS64 */, bytes[5] == 1 /* little-endian */,
              let tableOffset = offset(u64(0x20)), let entrySize = u16(0x36), let count = u16(0x38), entrySize >= 56 else { return nil }
        var loads: [(vaddr: UInt64, offset: UInt64, size: UInt64)] = []
        var dynamic: (offset: Int, size: Int)?
        for index in 0..<count {
            let header = tableOffset + index * entrySize
            guard let type = u32(header), let fileOffset = u64(header + 8), let vaddr = u64(header + 16), let size = u64(header + 32) else { return nil }
            if type == 1 { loads.append((vaddr, fileOffset, size)) }
            if type == 2, let start = offset(fileOffset), let length = offset(size) { dynamic = (start, length) }
        }
        guard let dynamic else { return nil }
        var needed: [UInt64] = []
        var stringTable: UInt64?, stringTableSize: UInt64?
        for entry in stride(from: dynamic.offset, to: dynamic.offset + dynamic.size, by: 16) {
            guard let tag = u64(entry), let value = u64(entry + 8) else { return nil }
            if tag == 0 { break }
            if tag == 1 { needed.append(value) }
            if tag == 5 { stringTable = value }
            if tag == 10 { stringTableSize = value }
        }
        guard let stringTable, let stringTableSize,
              let segment = loads.first(where: { stringTable >= $0.vaddr && stringTable - $0.vaddr < $0.size }),
              case let (start, overflow) = segment.offset.addingReportingOverflow(stringTable - segment.vaddr), !overflow,
              let tableStart = offset(start), let tableSize = offset(stringTableSize) else { return nil }
        let tableEnd = min(bytes.count, tableStart + tableSize)
        return needed.compactMap { name -> String? in
            guard let start = offset(name).map({ tableStart + $0 }), start < tableEnd else { return nil }
            let end = bytes[start..<tableEnd].firstIndex(of: 0) ?? tableEnd
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
    }
}
