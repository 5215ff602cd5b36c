import Foundation
import XCTest
import DNNProvTestSupport

/// The AlexNet flow of the seeds end to end over loopback HTTP: the Keras-Prov dataflow, three
/// trainings, adaptations, tests; then the seeds' queries return what was sent.
final class AlexNetFlowTests: XCTestCase {
    func testSeedQueriesReturnWhatWasSent() async throws {
        let db = try TestDatabase()
        try await withLiveServer(database: db.location) { api in
            let reg = try await api.post("/api/v1/dataflows", json: AlexNet.spec)
            XCTAssertEqual(reg.status, .created, reg.text)
            for r in AlexNet.runs.indices {
                for batch in AlexNet.batches(run: r) {
                    let ack = try await api.post("/api/v1/batch", json: ["events": batch])
                    XCTAssertEqual(ack.status, .ok, ack.text)
                    XCTAssertEqual(ack.object["stored"] as? Int, batch.count)
                }
            }

            // Which stored task is each run's training.
            let trainings = try await api.query("""
                select t.id, e.tag from task t join data_transformation dt on dt.id = t.dt_id
                join dataflow_execution e on e.id = t.df_exec where dt.tag = 'trainingmodel' order by e.tag
                """)
            let training = trainings.ints("id").map { $0! }
            XCTAssertEqual(trainings.strings("tag"), ["alexnet-run0", "alexnet-run1", "alexnet-run2"])
            func run(of task: Int64?) -> Int { training.firstIndex(of: task!)! }

            // Seed 000, verbatim.
            let best = try await api.query("""
                select trainingmodel_task_id as MODEL_ID, max(accuracy) as ACCURACY, min(loss) as LOSS
                  from ds_otrainingmodel where trainingmodel_task_id=1 or trainingmodel_task_id=3
                  group by trainingmodel_task_id;
                """)
            let expectedIDs = training.filter { $0 == 1 || $0 == 3 }
            XCTAssertFalse(expectedIDs.isEmpty)
            XCTAssertEqual(best.ints("MODEL_ID").map { $0! }, expectedIDs)
            for (i, id) in best.ints("MODEL_ID").enumerated() {
                let r = run(of: id)
                XCTAssertEqual(best.doubles("ACCURACY")[i]!, AlexNet.accuracy(r, AlexNet.epochs), accuracy: 1e-12)
                XCTAssertEqual(best.doubles("LOSS")[i]!, AlexNet.loss(r, AlexNet.epochs), accuracy: 1e-12)
            }

            let diffs = try await api.query("""
                select trainingmodel_task_id, round(accuracy, 3) as accuracy, epoch,
                  round(accuracy - lag(accuracy, 1) OVER (ORDER BY id), 3) as diff_with_previous_acc
                  from ds_otrainingmodel;
                """)
            XCTAssertEqual(diffs.count, 3 * AlexNet.epochs)
            let accs = diffs.doubles("accuracy"), epochs = diffs.ints("epoch"), d = diffs.doubles("diff_with_previous_acc")
            XCTAssertNil(d[0])
            for i in 1..<diffs.count {
                let r = run(of: diffs.ints("trainingmodel_task_id")[i])
                XCTAssertEqual(accs[i]!, (AlexNet.accuracy(r, Int(epochs[i]!)) * 1000).rounded() / 1000, accuracy: 1e-9)
                let prevRun = run(of: diffs.ints("trainingmodel_task_id")[i - 1])
                let expected = AlexNet.accuracy(r, Int(epochs[i]!)) - AlexNet.accuracy(prevRun, Int(epochs[i - 1]!))
                XCTAssertEqual(d[i]!, (expected * 1000).rounded() / 1000, accuracy: 1e-9)
            }

            let times = try await api.query("""
                select trainingmodel_task_id as modelid, avg(elapsed_time) as average_time,
                  round(max(elapsed_time),3) as max_time, round(min(elapsed_time),3) as min_time
                  from ds_otrainingmodel group by trainingmodel_task_id;
                """)
            XCTAssertEqual(times.count, 3)
            for (i, id) in times.ints("modelid").enumerated() {
                let r = run(of: id)
                let all = (1...AlexNet.epochs).map { AlexNet.elapsed(r, $0) }
                XCTAssertEqual(times.doubles("average_time")[i]!, all.reduce(0, +) / Double(all.count), accuracy: 1e-9)
                XCTAssertEqual(times.doubles("max_time")[i]!, all.max()!, accuracy: 1e-9)
                XCTAssertEqual(times.doubles("min_time")[i]!, all.min()!, accuracy: 1e-9)
            }

            // Seed 003, Q1-Q8 (docs/queries.md).
            let q1 = try await api.query("select loss from ds_otrainingmodel where trainingmodel_task_id = \(training[1]) and epoch = 10;")
            assertClose(q1.doubles("loss"), [AlexNet.loss(1, 10)])

            let q2 = try await api.query("""
                select name, type, activation, units, filters, kernel_size, strides, padding, dropout_rate
                from ds_ilayers where trainingmodel_task_id = \(training[1]) order by id;
                """)
            XCTAssertEqual(q2.strings("name").map { $0! }, AlexNet.layers.map { $0[0] as! String })
            XCTAssertEqual(q2.strings("type")[0], "Conv2D")
            XCTAssertEqual(q2.doubles("filters")[0], 96)
            XCTAssertEqual(q2.doubles("dropout_rate").compactMap { $0 }, [0.7])
            XCTAssertEqual(q2.doubles("units").compactMap { $0 }, [256, 10])

            let q3 = try await api.query("""
                select epoch, elapsed_time, loss from ds_otrainingmodel
                where trainingmodel_task_id = \(training[2]) order by epoch;
                """)
            XCTAssertEqual(q3.ints("epoch").map { Int($0!) }, Array(1...AlexNet.epochs))
            assertClose(q3.doubles("elapsed_time"), (1...AlexNet.epochs).map { AlexNet.elapsed(2, $0) })
            assertClose(q3.doubles("loss"), (1...AlexNet.epochs).map { AlexNet.loss(2, $0) })

            let q4 = try await api.query("""
                select i.trainingmodel_task_id, i.learning_rate
                from ds_itrainingmodel i
                where i.trainingmodel_task_id =
                  (select trainingmodel_task_id from ds_otrainingmodel order by accuracy desc limit 1);
                """)
            XCTAssertEqual(q4.doubles("learning_rate"), [AlexNet.runs[0].learningRate])

            let q5 = try await api.query("""
                select i.trainingmodel_task_id, i.optimizer_name, i.learning_rate, i.num_epochs, i.batch_size, o.best_accuracy
                from ds_itrainingmodel i
                join (select trainingmodel_task_id, max(accuracy) as best_accuracy
                      from ds_otrainingmodel group by trainingmodel_task_id) o
                  on o.trainingmodel_task_id = i.trainingmodel_task_id
                order by o.best_accuracy desc limit 3;
                """)
            XCTAssertEqual(q5.strings("optimizer_name"), ["adam", "sgd", "rmsprop"])
            XCTAssertEqual(q5.doubles("num_epochs"), [20, 20, 20])

            let q6 = try await api.query("""
                select a.epoch_id as epoch, a.new_lrate as learning_rate, a.adaptation_id
                from ds_oadaptation a
                join task_dependency d on d.task_id = a.adaptation_task_id
                where d.previous_task_id =
                  (select trainingmodel_task_id from ds_otrainingmodel order by accuracy desc limit 1)
                order by a.epoch_id;
                """)
            XCTAssertEqual(q6.doubles("epoch"), [10, 20])
            assertClose(q6.doubles("learning_rate"), [AlexNet.newRate(0, adaptation: 1), AlexNet.newRate(0, adaptation: 2)])

            let q7 = try await api.query("""
                select distinct f.filter_name
                from ds_ofilters f
                join ds_ilayers l on l.trainingmodel_task_id = f.trainingmodel_task_id
                where l.dropout_rate = 0.4;
                """)
            XCTAssertEqual(q7.strings("filter_name"), ["grayscale"])

            let q8 = try await api.query("""
                with acc as (
                  select trainingmodel_task_id as t, max(accuracy) as accuracy, max(epoch) as epochs
                  from ds_otrainingmodel group by trainingmodel_task_id)
                select coalesce(f.filter_name, 'none') as filter_name, acc.accuracy, acc.epochs
                from acc left join ds_ofilters f on f.trainingmodel_task_id = acc.t
                where acc.accuracy = (select max(accuracy) from acc)
                   or acc.accuracy = (select min(accuracy) from acc)
                order by acc.accuracy desc;
                """)
            XCTAssertEqual(q8.strings("filter_name"), ["none", "grayscale"])
            assertClose(q8.doubles("accuracy"), [AlexNet.accuracy(0, 20), AlexNet.accuracy(2, 20)])
            XCTAssertEqual(q8.doubles("epochs"), [20, 20])

            // Consumed rows carry the consumers' task ids; nothing was copied.
            let links = try await api.query("""
                select count(*) as n, count(adaptation_task_id) as adapted, count(testingmodel_task_id) as tested
                from ds_otrainingmodel
                """)
            XCTAssertEqual(links.ints("n"), [60])
            XCTAssertEqual(links.ints("adapted"), [60])
            XCTAssertEqual(links.ints("tested"), [60])
            let tests = try await api.query("select accuracy from ds_otestingmodel order by id")
            assertClose(tests.doubles("accuracy"), AlexNet.runs.indices.map(AlexNet.testAccuracy))

            // The listings agree.
            let execs = try await api.get("/api/v1/dataflows/alexnet/executions")
            XCTAssertEqual(execs.array.count, 3)
            XCTAssertEqual(Set(execs.array.compactMap { ($0 as? [String: Any])?["status"] as? String }), ["FINISHED"])
            let rows = try await api.get("/api/v1/dataflows/alexnet/sets/otrainingmodel/rows?execution=alexnet-run1&limit=5")
            XCTAssertEqual((rows.object["rows"] as? [Any])?.count, 5)
            let live = try await api.get("/api/v1/dataflows/alexnet/sets/otrainingmodel/rows?after=58")
            XCTAssertEqual((live.object["rows"] as? [[Any]])?.map { ($0[0] as? NSNumber)?.intValue }, [59, 60])
        }
    }
}
