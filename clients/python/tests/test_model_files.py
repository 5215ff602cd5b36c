"""Model files recorded by ProvenanceCallback: checkpoints (and the user's own files) become
oModelFile rows whose SHA-256 and size are the files', linked to the fit's hyperparameters."""
import hashlib
import logging
import os

import keras

import dnnprov
from dnnprov import model_files
from dnnprov.keras import ProvenanceCallback

from digits import data, model

# The query of clients/python/README.md and docs/queries.md.
HYPERPARAMETERS_OF_FILE = ("select i.* from ds_omodelfile f join ds_itrainingmodel i "
                           "on i.trainingmodel_task_id = f.trainingmodel_task_id where f.sha256 = ?")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def file_rows(server, flow):
    return server.query("select * from ds_omodelfile order by id", flow)


def training_task(server, flow):
    return next(t for t in server.tasks(flow) if t["transformation"] == "trainingmodel")


def hyperparameters_of(server, flow, digest):
    return server.query(HYPERPARAMETERS_OF_FILE.replace("?", f"'{digest}'"), flow)


class Score(keras.callbacks.Callback):
    """Puts a chosen `score` in the epoch's logs, for a ModelCheckpoint after it to monitor."""

    def __init__(self, scores):
        super().__init__()
        self.scores = scores

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]


class Writes(keras.callbacks.Callback):
    """Hashes `path` after each epoch (after the checkpoint): the writes that happened."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.seen = []  # (1-based epoch, sha256, size)

    def on_epoch_end(self, epoch, logs=None):
        if os.path.exists(self.path):
            digest = sha256(self.path)
            if not self.seen or self.seen[-1][1] != digest:
                self.seen.append((epoch + 1, digest, os.path.getsize(self.path)))


class Delete(keras.callbacks.Callback):
    """Removes each checkpoint right after it was written."""

    def __init__(self, directory):
        super().__init__()
        self.directory = directory
        self.deleted = 0

    def on_epoch_end(self, epoch, logs=None):
        for name in os.listdir(self.directory):
            os.remove(os.path.join(self.directory, name))
            self.deleted += 1


def test_every_checkpoint_is_recorded_with_its_hash_size_and_epoch(server, use_client, tmp_path):
    flow = "filesall"
    use_client(server.url)
    x, y, _, _ = data()
    ckpt_dir = tmp_path / "ckpt"
    ckpt = keras.callbacks.ModelCheckpoint(str(ckpt_dir / "ckpt-{epoch:02d}.keras"), save_best_only=False)
    # The provenance callback before the checkpoint: the files are found at the next epoch's start.
    cb = ProvenanceCallback(flow)
    m = model()
    m.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[cb, ckpt])
    assert dnnprov.flush(30)

    files = sorted(ckpt_dir.iterdir())
    assert [f.name for f in files] == ["ckpt-01.keras", "ckpt-02.keras", "ckpt-03.keras"]
    rows = file_rows(server, flow)
    assert len(rows) == 3
    task = training_task(server, flow)
    assert task["status"] == "FINISHED"  # rows that arrive after the end do not reopen the task
    status, runs = server.request("GET", f"/api/v1/dataflows/{flow}/runs")
    assert status == 200 and [r["status"] for r in runs["runs"]] == ["FINISHED"]
    for epoch, (f, r) in enumerate(zip(files, rows), start=1):
        assert r["path"] == str(f.resolve())
        assert r["sha256"] == sha256(f) and r["size"] == f.stat().st_size
        assert r["epoch"] == epoch and len(r["timestamp"]) == 19
        assert r["trainingmodel_task_id"] == task["id"]
    # The task's files too (name and directory).
    stored = server.query(f"select name, path from file where task_id = {task['id']} order by id")
    assert stored == [{"name": f.name, "path": str(ckpt_dir.resolve())} for f in files]


def test_save_best_only_records_the_writes_only(server, use_client, tmp_path):
    flow = "filesbest"
    use_client(server.url)
    x, y, _, _ = data()
    best = tmp_path / "best.keras"
    # score per epoch 3, 1, 2, 0.5, 4: the checkpoint (mode min) writes at epochs 1, 2 and 4.
    score = Score([3.0, 1.0, 2.0, 0.5, 4.0])
    ckpt = keras.callbacks.ModelCheckpoint(str(best), monitor="score", mode="min", save_best_only=True)
    writes = Writes(str(best))
    cb = ProvenanceCallback(flow)
    m = model()
    m.fit(x, y, epochs=5, batch_size=64, verbose=0, callbacks=[score, ckpt, cb, writes])
    assert dnnprov.flush(30)

    assert [e for e, _, _ in writes.seen] == [1, 2, 4]
    rows = file_rows(server, flow)
    assert [(r["epoch"], r["sha256"], r["size"]) for r in rows] == writes.seen
    assert {r["path"] for r in rows} == {str(best.resolve())}
    assert rows[-1]["sha256"] == sha256(best)
    # One file entry for the task, however often it was rewritten.
    task = training_task(server, flow)
    assert server.query(f"select name from file where task_id = {task['id']}") == [{"name": "best.keras"}]


def test_hyperparameters_of_a_file_are_one_query_away(server, use_client, tmp_path):
    flow = "fileshyper"
    use_client(server.url)
    x, y, _, _ = data()
    runs = {}
    for lr, batch in ((0.05, 64), (0.02, 128)):  # two trainings, two files with the same name pattern
        path = tmp_path / f"lr{lr}" / "model-{epoch}.keras"
        ckpt = keras.callbacks.ModelCheckpoint(str(path), save_best_only=False)
        m = model(keras.optimizers.SGD(lr, momentum=0.9))
        m.fit(x, y, epochs=2, batch_size=batch, verbose=0, callbacks=[ckpt, ProvenanceCallback(flow)])
        runs[(lr, batch)] = sha256(str(path).format(epoch=2))
    assert dnnprov.flush(30)

    for (lr, batch), digest in runs.items():
        hyper = hyperparameters_of(server, flow, digest)
        assert len(hyper) == 1
        h = hyper[0]
        assert h["optimizer_name"] == "sgd" and abs(h["learning_rate"] - lr) < 1e-6
        assert (h["num_epochs"], h["batch_size"], h["num_layers"]) == (2, batch, 5)
        # And one lineage call: back from the file's row to the hyperparameters that produced it.
        row = server.query(f"select id from ds_omodelfile where sha256 = '{digest}'", flow)[0]["id"]
        status, path = server.request("GET", f"/api/v1/dataflows/{flow}/lineage?set=omodelfile&id={row}&direction=back")
        assert status == 200, path
        found = [n for n in path["nodes"] if n.get("set") == "itrainingmodel"]
        assert len(found) == 1 and abs(found[0]["values"]["learning_rate"] - lr) < 1e-6, path


def test_files_written_by_user_code_and_record_file(server, use_client, tmp_path):
    flow = "filesuser"
    use_client(server.url)
    x, y, _, _ = data()

    class SaveWeights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch % 2 == 1:  # epochs 2 and 4
                self.model.save_weights(str(tmp_path / f"w-{epoch + 1}.weights.h5"))

    cb = ProvenanceCallback(flow, files=[str(tmp_path / "w-{epoch}.weights.h5")])
    assert not cb.record_file(tmp_path / "nothing-yet.keras")  # no fit yet: nothing to link it to
    m = model()
    m.fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[cb, SaveWeights()])
    final = tmp_path / "final.keras"
    m.save(final)
    assert cb.record_file(final)
    assert not cb.record_file(final)  # the same write twice: recorded once
    assert dnnprov.flush(30)

    rows = file_rows(server, flow)
    expected = [(2, tmp_path / "w-2.weights.h5"), (4, tmp_path / "w-4.weights.h5"), (4, final)]
    assert [(r["epoch"], r["path"], r["sha256"], r["size"]) for r in rows] == [
        (e, str(p.resolve()), sha256(p), p.stat().st_size) for e, p in expected]


def test_checkpoint_deleted_before_hashing_does_not_break_the_fit(server, use_client, tmp_path, caplog):
    flow = "filesgone"
    use_client(server.url)
    x, y, _, _ = data()
    ckpt_dir = tmp_path / "ckpt"
    ckpt = keras.callbacks.ModelCheckpoint(str(ckpt_dir / "c-{epoch}.keras"), save_best_only=False)
    delete = Delete(str(ckpt_dir))
    cb = ProvenanceCallback(flow)
    m = model()
    with caplog.at_level(logging.DEBUG, logger="dnnprov"):
        h = m.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[ckpt, cb, delete])
        assert not cb.record_file(tmp_path / "missing.keras")
        assert dnnprov.flush(30)

    assert len(h.history["loss"]) == 3 and delete.deleted == 3
    assert training_task(server, flow)["status"] == "FINISHED"
    assert len(server.query("select * from ds_otrainingmodel", flow)) == 3
    # Whatever could not be hashed is missing, nothing else: rows only for files that were read.
    assert len(file_rows(server, flow)) <= 3
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "model file" in r.getMessage()]
    assert 1 <= len(warnings) <= 2  # once per kind of problem: removed before hashing; does not exist
    assert all("Traceback" not in r.getMessage() for r in warnings)


def test_recorder_skips_old_files_and_unchanged_ones_and_formats_templates(tmp_path):
    old = tmp_path / "m-1.keras"
    old.write_bytes(b"left by an earlier run")
    os.utime(old, (1, 1))
    got = []
    rec = model_files.FileRecorder([str(tmp_path / "m-{epoch}.keras"), str(tmp_path / "s-{batch}.keras")])
    rec.start_fit()
    assert rec.check(0, {}, got.append) == 0  # m-1.keras is older than the fit
    old.write_bytes(b"epoch 1")
    (tmp_path / "s-7.keras").write_bytes(b"batch 7")  # {batch}: not in the logs, found by pattern
    assert rec.check(0, {"loss": 0.5}, got.append) == 2
    assert rec.check(0, {"loss": 0.5}, got.append) == 0  # the same writes: queued once
    assert model_files.wait(10)
    assert sorted((f.epoch, os.path.basename(f.path), f.size, f.sha256) for f in got) == [
        (1, "m-1.keras", 7, hashlib.sha256(b"epoch 1").hexdigest()),
        (1, "s-7.keras", 7, hashlib.sha256(b"batch 7").hexdigest())]
    assert all(f.origin is model_files.FileOrigin.DECLARED for f in got)
