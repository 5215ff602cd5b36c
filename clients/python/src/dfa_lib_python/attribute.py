from dnnprov.model import Attribute

__all__ = ["Attribute"]
