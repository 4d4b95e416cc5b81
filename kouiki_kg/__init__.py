"""Kouiki KG: the linked-open-data knowledge graph of Japanese inter-municipal collaboration."""

__version__ = "0.1.0"
