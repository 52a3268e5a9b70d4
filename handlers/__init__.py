"""What reacts to events: tenant messages, delivery receipts, consultant actions."""
