"""The DNNProv API against a real server: files, statuses, explicit executions, dependencies."""
import dnnprov
from dnnprov import (
    Attribute,
    AttributeType,
    Dataflow,
    DataSet,
    Element,
    File,
    Set,
    SetType,
    Task,
    TaskStatus,
    Transformation,
)


def test_files_status_and_named_execution(server, use_client):
    use_client(server.url)
    df = Dataflow("manualapi")
    prep = Transformation("Prepare")
    prep.set_sets([Set("oPrepare", SetType.OUTPUT, [Attribute("PATH", AttributeType.FILE),
                                                    Attribute("N", AttributeType.NUMERIC)])])
    train = Transformation("Train")
    train.add_set(Set("oPrepare", SetType.INPUT, dependency=prep))
    train.add_set(Set("oTrain", SetType.OUTPUT, [Attribute("LOSS", AttributeType.NUMERIC)]))
    df.add_transformation(prep)
    df.add_transformation(train)
    ex = df.save(execution="manualapi-run-1")
    assert ex.name == "manualapi-run-1"

    t1 = Task("p", "manualapi", "Prepare")
    t1.add_dataset(DataSet("oPrepare", [Element(["/data/x.npy", 10]), Element(["/data/y.npy", 20])]))
    t1.add_file(File("x.npy", "/data"))
    t1.begin()
    t1.end()
    t2 = Task("t", "manualapi", "Train", dependency=t1)
    t2.begin()
    t2.add_dataset(DataSet("oTrain", [Element([float("nan")])]))
    t2.set_status(TaskStatus.FINISHED_WITH_ERROR)
    t2.end()
    assert dnnprov.flush(30)

    tasks = server.tasks("manualapi")
    assert [(t["identifier"], t["status"], t["execution"]) for t in tasks] == [
        ("p", "FINISHED", "manualapi-run-1"), ("t", "FINISHED_WITH_ERROR", "manualapi-run-1")]
    rows = server.query("select path, n, prepare_task_id, train_task_id from ds_oprepare order by id", "manualapi")
    assert [(r["path"], r["n"]) for r in rows] == [("/data/x.npy", 10), ("/data/y.npy", 20)]
    assert {r["train_task_id"] for r in rows} == {tasks[1]["id"]}
    assert server.query("select loss from ds_otrain", "manualapi") == [{"loss": "NaN"}]
    files = server.query("select * from file")
    assert any(f.get("name") == "x.npy" for f in files), files
