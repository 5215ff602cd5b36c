"""dnnprov: provenance capture for deep-learning training.

The DNNProv / DfAnalyzer API (Dataflow, Transformation, Set, Attribute, Task, DataSet,
Element, ...) and, in `dnnprov.keras`, a Keras 3 callback. Every capture call only enqueues;
a background thread sends batches to the server named by DNNPROV_URL (default
http://localhost:22000), spooling to disk whatever the server cannot take yet.
"""
from .client import Client, configure, flush, get_client, set_client
from .execution import Execution, current_execution, start_execution
from .model import (
    Attribute,
    AttributeType,
    Dataflow,
    DataSet,
    Dependency,
    Element,
    File,
    Program,
    Set,
    SetType,
    Task,
    TaskStatus,
    Transformation,
)

__version__ = "0.1.0"

__all__ = [
    "Attribute", "AttributeType", "Client", "DataSet", "Dataflow", "Dependency", "Element",
    "Execution", "File", "Program", "Set", "SetType", "Task", "TaskStatus", "Transformation",
    "configure", "current_execution", "flush", "get_client", "set_client", "start_execution",
]
