"""The parts of applying an arrears list (handlers/importer.py runs them in order, in one
transaction):

- ``people``: tenants and their contact points as the list has them, and which addresses
  several tenants share;
- ``cases``: each day's balance (snapshots), cases opened, changed, closed or resumed, and an
  event for each change;
- ``notices``: the thank-you, the plan nudge and the "did it arrive?" follow-up to tenants;
- ``plan_review``: an active plan held against the list;
- ``staging``: the list streamed into a temporary table the other steps read from;
- ``one_by_one``: the rows that need more than arithmetic (paid, a plan, "I paid").
"""
