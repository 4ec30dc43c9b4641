"""Shared set-up of the perception_deepsort tests."""
import importlib
import sys

# pytest's importlib mode names this module perception_deepsort.test.conftest and, finding no
# perception_deepsort in sys.modules, registers the source folder as an empty namespace package
# that shadows the real one. Put the installed package back before any test imports from it.
if getattr(sys.modules.get('perception_deepsort'), '__file__', None) is None:
    sys.modules.pop('perception_deepsort', None)
    importlib.import_module('perception_deepsort')
