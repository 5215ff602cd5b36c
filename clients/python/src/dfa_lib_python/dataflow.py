from dnnprov.model import Dataflow

__all__ = ["Dataflow"]
