"""Cross-cutting pieces every layer shares: settings and the error hierarchy."""
