"""An embedded StackStorm-compatible server for `st2tui --demo` and the test suite.

It answers the real st2 API (auth, api and stream under one port, nginx-style prefixes) with the
documents, headers, status codes and stream events that real StackStorm sends. It shares no code
with the client side of st2tui, so that each checks the other.
"""
