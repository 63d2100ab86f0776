"""The shared event-sourcing core of the training-centre services."""
