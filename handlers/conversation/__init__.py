"""A tenant's message answered, step by step (handlers/inbound.py runs them in order):

1. ``sender``: who wrote. The contact point of the address, and for an address several
   tenants share, proof by postcode and house number before anything personal is said.
2. ``react``: what they meant. The parsed intent picks the step that answers it.
3. One module per kind of answer: ``opt_out`` (STOP and START), ``plan`` (a plan proposed,
   confirmed or asked again), ``payment`` (how much and where to pay), ``escalation`` (paid,
   help and crisis, dispute, objection, question: the case paused or put before a colleague).

``turn`` holds what every step shares: the transaction, the policy, the time, and the answer
going back to the tenant.
"""
