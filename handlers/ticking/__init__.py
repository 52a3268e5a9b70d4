"""The parts of the tick (handlers/tick.py runs them, one claimed batch per transaction):

- ``due``: the batch claimed as plain rows, and what the cadence and the texts need about
  it (contact points, this week's reminders, agreed plans), one query each;
- ``outcome``: per case, what the cadence's decision means in rows: the case's new
  columns, its events, the message, a Telegram invite;
- ``writes``: the batch's outcomes written with one statement per table.
"""
