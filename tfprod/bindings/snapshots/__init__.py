"""Committed provider schema snapshots (`terraform providers schema -json` format), one JSON
file per provider; read them with `importlib.resources.files(__name__) / "kubernetes.json"`.
README.md says how they were made and how to regenerate them."""
