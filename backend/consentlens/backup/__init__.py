"""Backups: encrypted, consistent snapshots of an installation, and their restore."""
