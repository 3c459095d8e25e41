"""tfprod.stacks: platform stacks per cloud; the model workloads in them are the same constructs."""

from tfprod.stacks.aws import AwsModelPlatform
from tfprod.stacks.azure import AzureModelPlatform
from tfprod.stacks.cluster import ClusterModelPlatform
from tfprod.stacks.gcp import GcpModelPlatform

__all__ = ["AwsModelPlatform", "AzureModelPlatform", "ClusterModelPlatform", "GcpModelPlatform"]
