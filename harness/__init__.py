"""The shared harness of tools and tests: real processes (PostgreSQL, the service, containers,
a throwaway Prometheus), free ports, kubectl, and the one way to wait for something."""
