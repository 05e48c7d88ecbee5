"""What each viewer may see and download: scopes, pages, removal requests."""
