"""The service catalogue: providers, services, Welcome Hubs/Points, and Italian search."""
