"""FAB views, one per resource, registered by register_views()."""
