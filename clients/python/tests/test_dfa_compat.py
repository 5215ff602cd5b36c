"""A script written for DfAnalyzer's dfa_lib_python (seed 002, Fig. 3.10 and Fig. 4.4) runs
unchanged against dnnprov, finding the server through DFA_URL."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import math
    from datetime import datetime
    from dfa_lib_python.dataflow import Dataflow
    from dfa_lib_python.transformation import Transformation
    from dfa_lib_python.attribute import Attribute
    from dfa_lib_python.attribute_type import AttributeType
    from dfa_lib_python.set import Set
    from dfa_lib_python.set_type import SetType
    from dfa_lib_python.task import Task
    from dfa_lib_python.dataset import DataSet
    from dfa_lib_python.element import Element

    # Fig. 3.10: the prospective provenance
    df = Dataflow("alexnet-df")
    tf1 = Transformation("TrainingModel")
    tf1_input = Set("iTrainingModel", SetType.INPUT,
        [Attribute("OPTIMIZER_NAME", AttributeType.TEXT),
        Attribute("LEARNING_RATE", AttributeType.NUMERIC),
        Attribute("NUM_EPOCHS", AttributeType.NUMERIC),
        Attribute("NUM_LAYERS", AttributeType.NUMERIC)])
    tf1_output = Set("oTrainingModel", SetType.OUTPUT,
        [Attribute("TIMESTAMP", AttributeType.TEXT),
        Attribute("ELAPSED_TIME", AttributeType.TEXT),
        Attribute("LOSS", AttributeType.NUMERIC),
        Attribute("ACCURACY", AttributeType.NUMERIC),
        Attribute("EPOCH", AttributeType.NUMERIC)])
    tf1.set_sets([tf1_input, tf1_output])
    df.add_transformation(tf1)
    tf2 = Transformation("Adaptation")
    tf2_output = Set("oAdaptation", SetType.OUTPUT,
        [Attribute("NEW_LRATE", AttributeType.NUMERIC),
        Attribute("TIMESTAMP", AttributeType.TEXT),
        Attribute("EPOCH_ID", AttributeType.NUMERIC),
        Attribute("ADAPTATION_ID", AttributeType.NUMERIC)])
    tf1_output.set_type(SetType.INPUT)
    tf1_output.dependency=tf1._tag
    tf2.set_sets([tf1_output, tf2_output])
    df.add_transformation(tf2)
    tf3 = Transformation("TestingModel")
    tf3_output = Set("oTestingModel", SetType.OUTPUT,
        [Attribute("ACCURACY", AttributeType.NUMERIC),
        Attribute("EPOCH", AttributeType.NUMERIC)])
    tf1_output.set_type(SetType.INPUT)
    tf1_output.dependency=tf1._tag
    tf3.set_sets([tf1_output, tf3_output])
    df.add_transformation(tf3)
    df.save()

    # Fig. 3.15 / 4.4: the retrospective provenance of a (simulated) training
    initial_lrate, drop, epochs_drop = 0.002, 0.5, 2.0
    def step_decay(epoch):
        return initial_lrate * math.pow(drop, math.floor((1 + epoch) / epochs_drop))

    t1 = Task(1, "alexnet-df", "TrainingModel")
    t1.add_dataset(DataSet("iTrainingModel", [Element(["adam", initial_lrate, 4, 8])]))
    t1.begin()
    t2 = Task(2, "alexnet-df", "Adaptation", dependency=t1)
    t2.begin()
    adaptation_id = 0
    lr = initial_lrate
    for epoch in range(4):
        old_lr = lr
        new_lr = step_decay(epoch)
        if old_lr != new_lr:
            adaptation_id += 1
            lr = new_lr
            t2_output = DataSet("oAdaptation", [Element([new_lr,
                datetime.now().strftime('%Y-%m-%d %H:%M:%S'), epoch, str(adaptation_id)])])
            t2.add_dataset(t2_output)
            t2.save()
        row = [datetime.now(), "12.5", 2.0 / (epoch + 1), 0.2 * (epoch + 1), epoch]
        t1_output = DataSet("oTrainingModel", [Element(row)])
        t1.add_dataset(t1_output)
        if epoch == 3:
            t1.end()
        else:
            t1.save()
    t2.end()
    t3 = Task(3, "alexnet-df", "TestingModel", dependency=t1)
    t3.add_dataset(DataSet("oTestingModel", [Element([0.75, 4])]))
    t3.begin()
    t3.end()
''')


def test_dfanalyzer_script_runs_unchanged(server, tmp_path, subprocess_env):
    script = tmp_path / "alexnet_dfa.py"
    script.write_text(SCRIPT)
    env = dict(subprocess_env, DFA_URL=server.url + "/")  # old clients' URLs end with '/'
    subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=120)
    flow = "alexnet-df"
    sql = "select optimizer_name, learning_rate, num_epochs, num_layers from ds_itrainingmodel"
    assert server.query(sql, flow) == [
        {"optimizer_name": "adam", "learning_rate": 0.002, "num_epochs": 4, "num_layers": 8}]
    rows = server.query("select elapsed_time, loss, accuracy, epoch from ds_otrainingmodel order by id", flow)
    assert [(r["epoch"], r["elapsed_time"]) for r in rows] == [(0, "12.5"), (1, "12.5"), (2, "12.5"), (3, "12.5")]
    adapt = server.query("select new_lrate, epoch_id, adaptation_id from ds_oadaptation order by id", flow)
    assert [(a["new_lrate"], a["epoch_id"], a["adaptation_id"]) for a in adapt] == [(0.001, 1, 1), (0.0005, 3, 2)]
    assert server.query("select accuracy, epoch from ds_otestingmodel", flow) == [{"accuracy": 0.75, "epoch": 4}]
    tasks = server.tasks(flow)
    assert sorted((t["transformation"], t["identifier"], t["status"]) for t in tasks) == [
        ("adaptation", "2", "FINISHED"), ("testingmodel", "3", "FINISHED"), ("trainingmodel", "1", "FINISHED")]
    executions = server.query(
        "select e.tag, e.script from dataflow_execution e join dataflow d on d.id = e.df_id where d.tag = 'alexnet-df'")
    assert len(executions) == 1 and executions[0]["script"] == str(script)
