"""Publications outside the club, their takedowns, and the retention of photos."""
