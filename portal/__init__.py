"""The customer portal and ops console: server-rendered pages on the API's own routes."""
