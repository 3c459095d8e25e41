"""The one import seam between tfprod's bindings and the construct runtime.

Generated bindings and their runtime import the construct library only from here: CDK Terrain
(`cdktn`) when it is installed, else legacy CDKTF core (`cdktf`), whose core API (the part the
bindings use) is the same. `CORE_NAME` says which one was found.
"""

from __future__ import annotations

import os

from tfprod.bindings._channel import direct_channel

# jsii warns on every start that Node 20 is end of life; it works, so keep the output clean.
# Set before the first import of jsii (through cdktn or cdktf).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

with direct_channel():  # the jsii kernel starts on the first import below
    try:
        import cdktn as _library

        CORE_NAME = "cdktn"
    except ImportError:  # pragma: no cover - exercised by the legacy-cdktf test in its own venv
        import cdktf as _library  # type: ignore[import-not-found,no-redef]

        CORE_NAME = "cdktf"
    from constructs import Construct

App = _library.App
FileProvisioner = _library.FileProvisioner
Fn = _library.Fn
IImportableConfig = _library.IImportableConfig
ImportableResource = _library.ImportableResource
IResolvable = _library.IResolvable
ITerraformDependable = _library.ITerraformDependable
ITerraformIterator = _library.ITerraformIterator
LocalExecProvisioner = _library.LocalExecProvisioner
RemoteExecProvisioner = _library.RemoteExecProvisioner
SSHProvisionerConnection = _library.SSHProvisionerConnection
TerraformCount = _library.TerraformCount
TerraformDataSource = _library.TerraformDataSource
TerraformProvider = _library.TerraformProvider
TerraformProviderConfig = _library.TerraformProviderConfig
TerraformProviderGeneratorMetadata = _library.TerraformProviderGeneratorMetadata
TerraformResource = _library.TerraformResource
TerraformResourceConfig = _library.TerraformResourceConfig
TerraformResourceLifecycle = _library.TerraformResourceLifecycle
TerraformStack = _library.TerraformStack
TerraformVariable = _library.TerraformVariable
Token = _library.Token
Tokenization = _library.Tokenization
WinrmProvisionerConnection = _library.WinrmProvisionerConnection

__all__ = [
    "CORE_NAME",
    "App",
    "Construct",
    "FileProvisioner",
    "Fn",
    "IImportableConfig",
    "IResolvable",
    "ITerraformDependable",
    "ITerraformIterator",
    "ImportableResource",
    "LocalExecProvisioner",
    "RemoteExecProvisioner",
    "SSHProvisionerConnection",
    "TerraformCount",
    "TerraformDataSource",
    "TerraformProvider",
    "TerraformProviderConfig",
    "TerraformProviderGeneratorMetadata",
    "TerraformResource",
    "TerraformResourceConfig",
    "TerraformResourceLifecycle",
    "TerraformStack",
    "TerraformVariable",
    "Token",
    "Tokenization",
    "WinrmProvisionerConnection",
]
