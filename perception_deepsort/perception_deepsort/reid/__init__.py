"""Appearance descriptors (re-ID) for DeepSORT: networks, embedders, training and evaluation.

Importing this package is cheap; torch is only imported by the modules that need it.
"""
