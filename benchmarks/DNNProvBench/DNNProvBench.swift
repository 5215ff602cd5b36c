import ArgumentParser

@main
struct DNNProvBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnnprov-bench",
        abstract: "dnnprov benchmarks: ingestion through the Swift client, the seeds' queries, the client's enqueue cost.",
        discussion: "Build in release first: swift build -c release; then .build/release/dnnprov-bench <subcommand>. See benchmarks/README.md.",
        subcommands: [IngestBenchmark.self, QueryBenchmark.self, EnqueueBenchmark.self, RunsBenchmark.self, ProvBenchmark.self])
}
