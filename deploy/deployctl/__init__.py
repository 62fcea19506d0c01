"""The deploy tool behind `make deploy`: preflight, helm upgrade, verification."""
