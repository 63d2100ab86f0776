# A process whose PYTHONPATH starts with this directory runs the next release's contracts (ttct_dev.faults.upgrade).
import ttct_dev.faults.upgrade  # noqa: F401
