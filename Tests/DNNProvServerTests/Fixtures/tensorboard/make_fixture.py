# Writes the TensorBoard fixture of Tests/DNNProvServerTests/Fixtures/tensorboard with tensorboardX.
import glob, os, shutil, struct, sys

from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboardX.proto.tensor_pb2 import TensorProto
from tensorboardX import SummaryWriter
out = sys.argv[1]
w = SummaryWriter(os.path.join(out, "tmp"))
for step in range(1, 4):
    w.add_scalar("loss", 1.0 / step, step, walltime=1700000000 + step)
    w.add_scalar("accuracy", 0.5 + 0.125 * step, step, walltime=1700000000 + step)
    # Newer writers' form (TensorFlow 2, torch new_style): a scalar tensor with the scalars
    # plugin named in the tag's first value only; double_val here, tensor_content at step 3.
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars")) if step == 1 else None
    if step < 3:
        t = TensorProto(dtype=2, double_val=[2.0 / step])
    else:
        t = TensorProto(dtype=1, tensor_content=struct.pack("<f", 2.0 / step))
    v = Summary.Value(tag="val/loss", tensor=t, metadata=meta) if meta else Summary.Value(tag="val/loss", tensor=t)
    w._get_file_writer().add_summary(Summary(value=[v]), step, walltime=1700000000 + step)
w.add_text("note", "not a scalar", 3, walltime=1700000004)
w.add_histogram("weights", [1.0, 2.0, 3.0], 3, walltime=1700000004)
w.close()
f, = glob.glob(os.path.join(out, "tmp", "events.out.tfevents.*"))
os.makedirs(os.path.join(out, "run1"), exist_ok=True)
shutil.move(f, os.path.join(out, "run1", "events.out.tfevents.1700000001.fixture"))
shutil.rmtree(os.path.join(out, "tmp"))
