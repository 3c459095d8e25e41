"""Labels the constructs put on a deployment's Kubernetes objects, which readers look for."""

DEPLOYMENT_LABEL = "tfprod.dev/deployment"
"""Names the tfprod deployment (its policy's `name`) an object belongs to."""
