from dnnprov.model import DataSet

__all__ = ["DataSet"]
