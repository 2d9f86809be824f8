"""Business rules. Views, the REST API, the CLI and the tests all call these modules."""
