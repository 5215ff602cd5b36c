from dnnprov.model import TaskStatus

__all__ = ["TaskStatus"]
