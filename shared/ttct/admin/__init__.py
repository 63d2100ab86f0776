"""Operator commands, `python -m ttct.admin <service> <command>`: dead letters, replay, rebuild, access report."""
