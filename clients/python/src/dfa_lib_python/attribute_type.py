from dnnprov.model import AttributeType

__all__ = ["AttributeType"]
