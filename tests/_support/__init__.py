"""Support code shared by the tests of several folders (``tests`` is on ``sys.path``)."""
