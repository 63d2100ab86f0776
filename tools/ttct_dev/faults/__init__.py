"""`make faults`: the system under a steady mixed load while things break, on loopback only.

    python -m ttct_dev.faults [--quick] [--only 1,3] [--rate 3] [--out docs/reliability.md]

Each scenario starts its own private stack (NATS and PostgreSQL from pip packages, in a temporary directory), the
four services as processes, a webhook receiver for the sending organisations (verifying every signature) and the
load (ttct_dev.faults.load), breaks something mid-load, repairs it, stops the load and audits: every command
answered 2xx is in its service's event store once, `python -m ttct.admin verify` finds nothing missing or doubled,
each organisation's receiver holds exactly one notice per score (one webhook-id across retries), and each reading
service's projections equal a rebuild of them (ttct_dev.faults.rebuilt). The figures of each scenario go into a
table in docs/reliability.md. Exit status 0 only when every scenario held.
"""
