# A process whose PYTHONPATH starts with this directory runs notification with a bug (ttct_dev.faults.poison).
import ttct_dev.faults.poison  # noqa: F401
