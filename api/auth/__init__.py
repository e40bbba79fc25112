"""Authentication (JWT in a Bearer header or an HttpOnly cookie), CSRF, roles and tenancy."""
