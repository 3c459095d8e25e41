"""tfprod's example apps: three teams' model platforms, each synthesized for AWS, GCP and Azure."""
