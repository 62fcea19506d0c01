"""Load tests (Locust scenario), the worker-scaling study and the benchmark of items-api."""
