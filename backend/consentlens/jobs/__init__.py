"""Queue plumbing only: the pool that runs background work; it knows no domain."""
