"""The pure rules: cadence, sending window, policy, plans, reading replies. No I/O."""
