"""Developer tooling for the training-centre system (local servers, make run, the demo)."""
