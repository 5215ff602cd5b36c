import DNNProvModel

/// Anything that can be an attribute value: numbers, strings, `Value`, optionals of them.
/// `task.save(set: "otrainingmodel", values: [stamp, elapsed, loss, accuracy, epoch])`
public protocol ValueConvertible {
    var provValue: Value { get }
}

extension Value: ValueConvertible {
    public var provValue: Value { self }
}

extension Double: ValueConvertible {
    public var provValue: Value { .number(self) }
}

extension Float: ValueConvertible {
    public var provValue: Value { .number(Double(self)) }
}

extension Int: ValueConvertible {
    public var provValue: Value { .number(Double(self)) }
}

extension String: ValueConvertible {
    public var provValue: Value { .text(self) }
}

extension Bool: ValueConvertible {
    public var provValue: Value { .number(self ? 1 : 0) }
}

extension Optional: ValueConvertible where Wrapped: ValueConvertible {
    public var provValue: Value { self?.provValue ?? .null }
}
