"""Mailing services, one module per intent (import from the module itself):

- compose: create, edit, duplicate a mailing; sanitise its body.
- audience: who a mailing reaches (segments in and out, minus suppressed addresses); the count.
- delivery: send now / schedule / pause / resume / cancel; the snapshot; claiming and sending.
- render: one message for one person (merge fields, brand wrapper, plain text, headers).
- ab: the A/B subject test (sample, winner).
- tracking: signed click and open links, human and machine opens.
- suppression: unsubscribes, preferences, bounces and complaints.
"""
