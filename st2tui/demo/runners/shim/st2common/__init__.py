"""A stand-in for StackStorm's `st2common`, just enough for Python actions run by the demo server."""
