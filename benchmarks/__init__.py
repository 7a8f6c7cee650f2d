"""Speed and memory figures for st2tui and its demo server: scripts that print numbers, run by hand or `make bench`."""
