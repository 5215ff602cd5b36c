import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A server's answer to one request.
public struct TransportResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// How the sender delivers a request body. Blocking: it is only called from the sender thread,
/// one request at a time, which keeps the order of batches. Errors mean "not delivered, try
/// again later" (unreachable, reset, timeout). Tests substitute transports that fail on purpose.
public protocol BatchTransport: Sendable {
    func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse
    func shutdown()
}

/// HTTP/1.1 over one kept-alive connection (AsyncHTTPClient, its own connection pool so that many
/// clients in one process do not queue behind each other).
public final class HTTPTransport: BatchTransport {
    private let client: HTTPClient
    private let baseURL: String
    private let headers: HTTPHeaders
    private let timeout: TimeAmount

    public init(url: String, token: String?, timeout: Duration) {
        var config = HTTPClient.Configuration()
        // Short connect timeout: AsyncHTTPClient retries refused connections until it expires,
        // and an unreachable server should send data to the spool quickly.
        config.timeout = .init(connect: .seconds(1), read: .nanoseconds(Int64(timeout.seconds * 1e9)))
        config.httpVersion = .http1Only
        config.decompression = .disabled
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 2)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        baseURL = url
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: "application/json")
        h.add(name: "Accept", value: "application/json")
        if let token { h.add(name: "Authorization", value: "Bearer \(token)") }
        headers = h
        self.timeout = .nanoseconds(Int64(timeout.seconds * 1e9))
    }

    public func post(path: String, body: ArraySlice<UInt8>) throws -> TransportResponse {
        let request = try HTTPClient.Request(
            url: baseURL + path, method: .POST, headers: headers, body: .byteBuffer(ByteBuffer(bytes: body)))
        let response = try client.execute(request: request, deadline: .now() + timeout).wait()
        let bytes = response.body.map { Array($0.readableBytesView) } ?? []
        return TransportResponse(status: Int(response.status.code), body: bytes)
    }

    public func shutdown() {
        try? client.syncShutdown()
    }
}
