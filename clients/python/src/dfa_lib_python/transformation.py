from dnnprov.model import Transformation

__all__ = ["Transformation"]
