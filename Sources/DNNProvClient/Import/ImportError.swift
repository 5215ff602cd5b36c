/// A source file or server that cannot be read: which one, and what is wrong.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
