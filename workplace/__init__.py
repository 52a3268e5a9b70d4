"""The consultants' web workplace: accounts, sessions, the queue, the case page."""
