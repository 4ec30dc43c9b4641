"""MOTChallenge tooling: file I/O, synthetic sequences, offline tracking and evaluation."""
