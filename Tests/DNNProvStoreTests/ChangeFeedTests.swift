import DNNProvModel
@testable import DNNProvStore
import XCTest

/// The live feed's bookkeeping, without a server: what a follower gets when events were lost.
final class ChangeFeedTests: XCTestCase {
    private func event(_ seq: Int64, dataflow: Int64 = 1) -> LiveEvent {
        LiveEvent(seq: seq, dataflowID: dataflow, kind: .rows, data: "{\"n\":\(seq)}")
    }

    /// The next `count` events of a stream.
    private func next(_ items: inout AsyncStream<ChangeFeed.Item>.Iterator, _ count: Int) async -> [LiveEvent] {
        var got: [LiveEvent] = []
        while got.count < count, let item = await items.next() {
            if case .event(let e) = item { got.append(e) }
        }
        return got
    }

    func testLostEventsResetFollowersAndLaterOnesFlow() async throws {
        let feed = ChangeFeed(lastSeq: 0)
        feed.publish([event(1), event(2)])
        let following = try feed.subscribe(dataflowID: 1, since: 2)
        var followed = following.items.makeAsyncIterator()
        // Events 3 to 99 never reached this process: its follower reloads, then follows on.
        feed.lost(upTo: 99)
        feed.publish([event(100), event(101, dataflow: 2), event(102)])
        let got = await next(&followed, 3)
        XCTAssertEqual(got.map(\.kind), [.reset, .rows, .rows])
        XCTAssertEqual(got.map(\.seq), [99, 100, 102])
        XCTAssertEqual(feed.lastSeq, 102)

        // A client back from before the loss is told to reload too; one from after it catches up.
        let behind = try feed.subscribe(dataflowID: 1, since: 2)
        var behindItems = behind.items.makeAsyncIterator()
        let reloaded = await next(&behindItems, 1)
        XCTAssertEqual(reloaded.map(\.kind), [.reset])
        let after = try feed.subscribe(dataflowID: 1, since: 99)
        var afterItems = after.items.makeAsyncIterator()
        let caughtUp = await next(&afterItems, 2)
        XCTAssertEqual(caughtUp.map(\.seq), [100, 102])

        // A loss the feed already has behind it changes nothing.
        feed.lost(upTo: 50)
        XCTAssertEqual(feed.lastSeq, 102)
        feed.publish([event(103)])
        let latest = await next(&followed, 1)
        XCTAssertEqual(latest.map(\.seq), [103])
        for s in [following, behind, after] { s.end() }
    }
}
