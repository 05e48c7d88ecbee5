"""E-mail that leaves after the transaction that wrote it commits, retried until delivered."""
