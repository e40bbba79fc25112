"""What a customer's pages show, as pydantic models with the functions that build them from
the store: the JSON API answers with them and the portal renders them, from the same code."""
