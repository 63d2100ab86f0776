# A process whose PYTHONPATH starts with this directory runs the next release (ttct_dev.faults.upgrade).
from ttct_dev.faults.upgrade import install

install()
