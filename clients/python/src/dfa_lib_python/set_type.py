from dnnprov.model import SetType

__all__ = ["SetType"]
