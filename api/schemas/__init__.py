"""Request and response models of the customer API: one model in, one model out per route."""
