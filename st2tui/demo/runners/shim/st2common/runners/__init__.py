"""Stand-in for `st2common.runners` (only `base_action` is provided)."""
