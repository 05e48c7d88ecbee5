"""The organisation (tenant): its table, its lookups, its creation; below auth and people."""
