"""What the HTML screens (app/views) and the REST API (app/api) share, below both of them.

- ``base``: the scoped base classes (``ScopedModelView``, ``ScopedModelRestApi``, the record
  rules, the JSON refusals) and the request checks FAB's routes get;
- ``datamodel``: the list interface every list and related-field lookup queries through;
- ``downloads``: the responses that send a file (attachments, certificates, reports);
- ``forms``: field lists of forms that a screen and its REST twin both accept;
- ``statistics``: the links from a count to the mine list that shows what it counts.

The layers point one way: app/views and app/api import from here and from app/services, never
from each other (tests/test_layers.py).
"""
