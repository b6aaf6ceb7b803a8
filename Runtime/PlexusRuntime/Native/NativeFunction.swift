import CFFI
import Foundation

/// One C function of a native plugin, checked against its manifest entry and prepared for libffi
/// (`ffi_prep_cif` ran once, at load). Immutable; calls run on any thread.
final class NativeFunction: @unchecked Sendable {
    /// One parameter with its resolved type and the runtime's part in filling it.
    struct Parameter: Sendable {
        let name: String
        let type: NativeType
        /// The index of the `bytes` or `out_bytes` parameter whose length this one carries.
        let lengthOf: Int?
        /// For `out_bytes`: capacity = `capacity` + `capacityRatio` × length of parameter `capacityOf`.
        let capacity: Int
        let capacityOf: Int?
        let capacityRatio: Double
        let defaultValue: NativeValue?

        /// Whether the client supplies it (everything but lengths and outputs).
        var isInput: Bool {
            switch type {
            case .out, .outBytes: false
            case .scalar: lengthOf == nil
            default: true
            }
        }
    }

    let symbol: String
    let address: UnsafeMutableRawPointer
    let returns: NativeType
    let parameters: [Parameter]
    /// The function that frees a returned string (nil: static lifetime).
    let freeString: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    let declaration: NativeManifest.Function
    /// The prepared call interface; never freed (the plugin lives as long as the process).
    let cif: UnsafeMutablePointer<ffi_cif>
    /// The one `bytes` parameter a raw (non-JSON) body can fill, when the function has exactly one.
    let rawBodyParameter: Int?

    /// The largest output buffer a call may ask for (a capacity derived from a client's input is bounded).
    static let maximumOutputBytes = 64 << 20

    init(symbol: String, address: UnsafeMutableRawPointer, returns: NativeType, parameters: [Parameter],
         freeString: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?, declaration: NativeManifest.Function) throws(NativeManifestProblem) {
        self.symbol = symbol
        self.address = address
        self.returns = returns
        self.parameters = parameters
        self.freeString = freeString
        self.declaration = declaration
        let byteInputs = parameters.indices.filter { if case .bytes = parameters[$0].type { true } else { false } }
        rawBodyParameter = byteInputs.count == 1 ? byteInputs[0] : nil
        let types = UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>.allocate(capacity: max(parameters.count, 1))
        for (index, parameter) in parameters.enumerated() { types[index] = parameter.type.ffiType }
        cif = .allocate(capacity: 1)
        cif.initialize(to: ffi_cif())
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(parameters.count), returns.ffiType, types)
        guard status == FFI_OK else {
            throw NativeManifestProblem("libffi cannot prepare a call with these types (ffi_prep_cif status \(status.rawValue))",
                                        fix: "check the parameter and return types against the C declaration")
        }
    }

    /// `crc32(uint64 crc, bytes data, uint32 length) -> uint64`, for `plexus plugin inspect` and logs.
    var signature: String {
        "\(symbol)(\(parameters.map { "\($0.type.name) \($0.name)" }.joined(separator: ", "))) -> \(returns.name)"
    }
}
